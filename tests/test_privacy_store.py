"""Raw IPs are kept only as long as configured, and a network or organization can be forgotten."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest
import sqlalchemy as sa

from connectors.privacy_store import enforce_raw_ip_retention, forget
from connectors.warehouse import PARTITION_COLUMN, Warehouse
from enrichment.privacy import IPV4_PREFIX, IPV6_PREFIX, ip_networks_in

OLD_DAY, NEW_DAY, WINDOW_END = "2026-10-05", "2026-10-20", "2026-10-25"
RETAIN_FROM = dt.date(2026, 10, 15)  # raw addresses of days before this are truncated

NORTHWIND = "198.51.100.10"  # a target account's office
IVANOV = "203.0.113.77"  # a sole proprietor: a person, on a /30
HOME = "2001:db8:4:7::42"  # someone at home
RAW_ADDRESSES = (NORTHWIND, IVANOV, HOME)
SOLE_PROPRIETOR = "ИП Иванов Иван Иванович"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


def daily_tables(day: str) -> dict[str, pd.DataFrame]:
    """One day of every daily asset, each address in every place the pipeline stores it."""
    at = pd.Timestamp(f"{day} 09:00", tz="UTC")
    hits = pd.DataFrame(
        {
            "timestamp": [at, at, at],
            "ip": [NORTHWIND, IVANOV, HOME],
            "url": ["/pricing", "/docs/api", "/blog/route-planning"],
            "user_agent": [CHROME, "Firefox", "Safari"],
            "visitor_id": ["v-1", None, None],
        }
    )
    return {
        "raw_hits": hits,
        "quarantined_lines": pd.DataFrame(
            {
                "source_file": ["access.log", "access.log"],
                "line_no": [7, 9],
                "reason": ["bad_timestamp", "unparseable"],
                "raw": [
                    f'{NORTHWIND} - - [yesterday] "GET /pricing HTTP/1.1" 200 512 "-" "{CHROME}"',
                    f'{HOME} - - "GET /pricing',
                ],
            }
        ),
        "clean_hits": hits,
        "hit_drop_counts": pd.DataFrame({"reason": ["bot_user_agent", "static_asset"], "hits": [12, 40]}),
        "ip_companies": pd.DataFrame(
            {
                "ip": [NORTHWIND, IVANOV, HOME],
                "network": ["198.51.100.0/24", "203.0.113.76/30", "2001:db8::/32"],
                "organization": ["Northwind Logistics", SOLE_PROPRIETOR, "Comcast Cable"],
                "classification": ["company", "company", "isp"],
            }
        ),
        "account_matches": pd.DataFrame(
            {
                "ip": [NORTHWIND, IVANOV],
                "organization": ["Northwind Logistics", SOLE_PROPRIETOR],
                "account_id": ["ACME-001", None],
            }
        ),
        "company_hits": pd.DataFrame(
            {
                "timestamp": [at, at],
                "ip": [NORTHWIND, IVANOV],
                "url": ["/pricing", "/docs/api"],
                "organization": ["Northwind Logistics", SOLE_PROPRIETOR],
                "account_id": ["ACME-001", None],
                "visitor_key": ["v-1", "6f1d0c4b9a2e7d35"],
                "visit_id": [f"v-1@{day} 09:00:00", f"6f1d0c4b9a2e7d35@{day} 09:00:00"],
            }
        ),
        "traffic_counts": pd.DataFrame(
            {"day": [day, day], "classification": ["company", "isp"], "hits": [2, 1], "ips": [2, 1]}
        ),
    }


def window_tables() -> dict[str, pd.DataFrame]:
    """A report window's tables: no addresses, but derived from the hits."""
    return {
        "account_activity": pd.DataFrame(
            {
                "account_id": ["ACME-001"],
                "name": ["Northwind Logistics Inc."],
                "organizations": ["Northwind Logistics"],
                "visits": [2],
            }
        ),
        "digital_paths": pd.DataFrame(
            {
                "account_id": ["ACME-001", "ACME-001"],
                "visit_id": [f"v-1@{OLD_DAY} 09:00:00", f"v-1@{NEW_DAY} 09:00:00"],
                "url": ["/pricing", "/pricing"],
            }
        ),
    }


@pytest.fixture
def warehouse(database_url: str) -> Iterator[Warehouse]:
    warehouse = Warehouse(database_url)
    for day in (OLD_DAY, NEW_DAY):
        for table, frame in daily_tables(day).items():
            warehouse.replace_partition(table, frame, day)
    for table, frame in window_tables().items():
        warehouse.replace_partition(table, frame, WINDOW_END)
    yield warehouse
    warehouse.engine.dispose()


ADDRESS_COLUMNS = ("ip", "network", "raw")


def stored_rows(warehouse: Warehouse, *, before: str | None = None) -> dict[str, pd.DataFrame]:
    """Every table's rows with their partition key (only partitions before ``before`` when given).

    Rows come in the order of their other columns: PostgreSQL moves updated rows.
    """
    rows = {}
    for name in sa.inspect(warehouse.engine).get_table_names():
        table = warehouse.table(name)
        query = sa.select(table).order_by(*(column for column in table.c if column.name not in ADDRESS_COLUMNS))
        if before is not None:
            query = query.where(table.c[PARTITION_COLUMN] < before)
        with warehouse.engine.connect() as connection:
            rows[name] = pd.read_sql_query(query, connection)
    return rows


def stored_text(warehouse: Warehouse, *, before: str | None = None) -> list[str]:
    """Every text value in every column of every table."""
    return [
        value
        for frame in stored_rows(warehouse, before=before).values()
        for column in frame.columns
        for value in frame[column]
        if isinstance(value, str)
    ]


def without_addresses(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=list(ADDRESS_COLUMNS), errors="ignore")


# --- retention --------------------------------------------------------------------------


def test_no_raw_ip_older_than_the_limit_remains(warehouse: Warehouse) -> None:
    enforce_raw_ip_retention(warehouse, older_than=RETAIN_FROM)

    old_text = stored_text(warehouse, before=RETAIN_FROM.isoformat())
    assert not [(address, text) for address in RAW_ADDRESSES for text in old_text if address in text]
    networks = [network for text in old_text for network in ip_networks_in(text)]
    assert networks, "the old partitions still hold the truncated networks"
    assert all(network.prefixlen <= (IPV4_PREFIX if network.version == 4 else IPV6_PREFIX) for network in networks)


def test_addresses_become_their_networks(warehouse: Warehouse) -> None:
    result = enforce_raw_ip_retention(warehouse, older_than=RETAIN_FROM)

    # Sorted: an UPDATE moves rows on PostgreSQL, in an order its query plan picks.
    companies = warehouse.read("ip_companies", [OLD_DAY]).sort_values("ip")
    assert companies[["ip", "network"]].values.tolist() == [
        ["198.51.100.0/24", "198.51.100.0/24"],
        ["2001:db8:4::/48", "2001:db8::/32"],
        ["203.0.113.0/24", "203.0.113.0/24"],
    ]
    quarantined = warehouse.read("quarantined_lines", [OLD_DAY]).sort_values("line_no")
    assert quarantined["raw"].tolist()[1] == '2001:db8:4::/48 - - "GET /pricing'
    assert result.changed == {  # rows, not values: ip_companies changes two values in one of its rows
        "raw_hits": 3,
        "quarantined_lines": 2,
        "clean_hits": 3,
        "ip_companies": 3,
        "account_matches": 2,
        "company_hits": 2,
    }


def test_newer_rows_and_everything_but_old_addresses_stay(warehouse: Warehouse) -> None:
    before = stored_rows(warehouse)

    enforce_raw_ip_retention(warehouse, older_than=RETAIN_FROM)

    after = stored_rows(warehouse)
    for name, rows in before.items():
        is_new = rows[PARTITION_COLUMN] >= RETAIN_FROM.isoformat()
        pd.testing.assert_frame_equal(after[name][is_new], rows[is_new], obj=f"new rows of {name}")
        pd.testing.assert_frame_equal(without_addresses(after[name]), without_addresses(rows), obj=name)


def test_retention_can_run_again_without_changing_anything(warehouse: Warehouse) -> None:
    enforce_raw_ip_retention(warehouse, older_than=RETAIN_FROM)
    once = stored_rows(warehouse)

    again = enforce_raw_ip_retention(warehouse, older_than=RETAIN_FROM)

    assert set(again.changed.values()) == {0}
    for name, rows in stored_rows(warehouse).items():
        pd.testing.assert_frame_equal(rows, once[name], obj=name)


# --- forgetting -------------------------------------------------------------------------


def test_forgetting_a_network_leaves_no_trace_of_it(warehouse: Warehouse) -> None:
    result = forget(warehouse, network="198.51.100.0/24")

    assert not [text for text in stored_text(warehouse) if NORTHWIND in text]
    assert result.deleted == {
        "raw_hits": 2,
        "quarantined_lines": 2,
        "clean_hits": 2,
        "ip_companies": 2,
        "account_matches": 2,
        "company_hits": 2,
        "digital_paths": 2,
        "account_activity": 0,
    }
    assert sorted(warehouse.read("clean_hits")["ip"]) == sorted([IVANOV, HOME, IVANOV, HOME])


def test_forgetting_a_network_also_takes_truncated_rows_that_overlap_it(warehouse: Warehouse) -> None:
    enforce_raw_ip_retention(warehouse, older_than=RETAIN_FROM)

    forget(warehouse, network="2001:db8:4:7::/64")

    assert sorted(warehouse.read("raw_hits")["ip"]) == sorted(["198.51.100.0/24", "203.0.113.0/24", NORTHWIND, IVANOV])
    assert not [text for text in stored_text(warehouse) if "2001:db8:4:" in text]


def test_forgetting_an_organization_removes_its_names_addresses_hits_and_visits(warehouse: Warehouse) -> None:
    result = forget(warehouse, organization="  ип иванов  иван иванович")

    assert not [text for text in stored_text(warehouse) if IVANOV in text or "Иванов" in text]
    assert result.deleted["company_hits"] == 2 and result.deleted["raw_hits"] == 2
    assert len(warehouse.read("raw_hits")) == 4  # Northwind and the home visitor, both days


def test_forgetting_a_target_account_organization_removes_its_report_rows(warehouse: Warehouse) -> None:
    forget(warehouse, organization="Northwind Logistics")

    assert not [text for text in stored_text(warehouse) if NORTHWIND in text or "Northwind" in text]
    assert warehouse.read("account_activity").empty and warehouse.read("digital_paths").empty


def test_forgetting_what_was_never_stored_deletes_nothing(warehouse: Warehouse) -> None:
    before = stored_rows(warehouse)

    result = forget(warehouse, network="192.0.2.0/24")

    assert set(result.deleted.values()) == {0}
    assert {name: len(rows) for name, rows in stored_rows(warehouse).items()} == {
        name: len(rows) for name, rows in before.items()
    }


@pytest.mark.parametrize("parties", [{}, {"network": "192.0.2.0/24", "organization": "Globex"}])
def test_forget_takes_exactly_one_network_or_organization(tmp_path, parties: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="one network or one organization"):
        forget(Warehouse(f"sqlite:///{tmp_path / 'w.db'}"), **parties)
