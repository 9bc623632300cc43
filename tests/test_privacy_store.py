"""Personal data is kept only as long as configured, and a network or organization can be forgotten."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest
import sqlalchemy as sa

from connectors.migrations import ensure_current
from connectors.privacy_store import (
    enforce_retention,
    forget,
    overdue_personal_data,
    remove_values,
    truncate_addresses,
)
from connectors.schema import PARTITION_COLUMN, Personal, personal_columns
from connectors.schema.columns import personal
from connectors.warehouse import Warehouse
from enrichment.privacy import IPV4_PREFIX, IPV6_PREFIX, ip_networks_in
from enrichment.settings import PrivacySettings

OLD_DAY, NEW_DAY, WINDOW_END = "2026-10-05", "2026-10-20", "2026-10-25"
RETAIN_FROM = dt.date(2026, 10, 15)  # raw addresses of days before this are truncated
ADDRESS_KINDS = frozenset({Personal.IP_ADDRESS, Personal.NETWORK, Personal.RAW_LINE})

NORTHWIND = "198.51.100.10"  # a target account's office
IVANOV = "203.0.113.77"  # a sole proprietor: a person, on a /30
HOME = "2001:db8:4:7::42"  # someone at home
RAW_ADDRESSES = (NORTHWIND, IVANOV, HOME)
SOLE_PROPRIETOR = "ИП Иванов Иван Иванович"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


def daily_tables(day: str) -> dict[str, pd.DataFrame]:
    """One day of the daily assets, each address in every place the pipeline stores it."""
    at = pd.Timestamp(f"{day} 09:00", tz="UTC")
    hits = pd.DataFrame(
        {
            "timestamp": [at, at, at],
            "ip": [NORTHWIND, IVANOV, HOME],
            "url": ["/pricing", "/docs/api", "/blog/route-planning"],
            "user_agent": [CHROME, "Firefox", "Safari"],
            "visitor_id": ["v-1", None, None],
            "source_file": "access.log",
            "line_no": [1, 2, 3],
        }
    )
    return {
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
                "organization": ["Northwind Logistics", SOLE_PROPRIETOR, None],
                "isp": [None, None, "Comcast Cable"],
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
        "account_hits": hits.head(1).assign(
            network="198.51.100.0/24",
            organization="Northwind Logistics",
            account_id="ACME-001",
            excluded_from_intent=False,
            visitor_key="v-1",
            visit_id=f"v-1@{day} 09:00:00",
        ),
        "prospect_days": pd.DataFrame(
            {"day": [dt.date.fromisoformat(day)], "organization": [SOLE_PROPRIETOR], "visits": [1], "pageviews": [1]}
        ).assign(last_seen=at),
        "traffic_counts": pd.DataFrame(
            {
                "day": [dt.date.fromisoformat(day)] * 2,
                "country": ["US", "US"],
                "classification": ["company", "isp"],
                "resolved": [True, True],
                "target_account": [True, False],
                "hits": [2, 1],
                "visits": [2, 1],
                "ips": [2, 1],
            }
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
                "pageviews": [2],
                "visitors": [1],
                "window_start": [dt.date(2026, 10, 12)],
                "window_end": [dt.date(2026, 10, 25)],
                "surging": [False],
                "mqa": [False],
            }
        ),
        "digital_paths": pd.DataFrame(
            {
                "account_id": ["ACME-001", "ACME-001"],
                "timestamp": pd.to_datetime([f"{OLD_DAY} 09:00", f"{NEW_DAY} 09:00"], utc=True),
                "visit_id": [f"v-1@{OLD_DAY} 09:00:00", f"v-1@{NEW_DAY} 09:00:00"],
                "url": ["/pricing", "/pricing"],
                "excluded_from_intent": [False, False],
            }
        ),
    }


@pytest.fixture
def warehouse(database_url: str) -> Iterator[Warehouse]:
    warehouse = Warehouse(database_url)
    ensure_current(warehouse.engine)
    for day in (OLD_DAY, NEW_DAY):
        for table, frame in daily_tables(day).items():
            warehouse.replace_partition(table, frame, day)
    for table, frame in window_tables().items():
        warehouse.replace_partition(table, frame, WINDOW_END)
    yield warehouse
    warehouse.engine.dispose()


ADDRESS_COLUMNS = {column.name for column in personal_columns(kinds=ADDRESS_KINDS)}


def stored_rows(warehouse: Warehouse, *, before: str | None = None) -> dict[str, pd.DataFrame]:
    """Every table's rows with their partition key (only partitions before ``before`` when given).

    Rows come in the order of their other columns: PostgreSQL moves updated rows.
    """
    rows = {}
    for table in warehouse.schema.sorted_tables:
        query = sa.select(table).order_by(*(column for column in table.c if column.name not in ADDRESS_COLUMNS))
        if before is not None:
            if PARTITION_COLUMN not in table.c:
                continue
            query = query.where(table.c[PARTITION_COLUMN] < dt.date.fromisoformat(before))
        with warehouse.engine.connect() as connection:
            rows[table.name] = pd.read_sql_query(query, connection)
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


def truncate_raw_ips(warehouse: Warehouse) -> dict[str, int]:
    return truncate_addresses(warehouse, ADDRESS_KINDS, older_than=RETAIN_FROM)


# --- raw-IP retention -------------------------------------------------------------------


def test_no_raw_ip_older_than_the_limit_remains(warehouse: Warehouse) -> None:
    truncate_raw_ips(warehouse)

    old_text = stored_text(warehouse, before=RETAIN_FROM.isoformat())
    assert not [(address, text) for address in RAW_ADDRESSES for text in old_text if address in text]
    networks = [network for text in old_text for network in ip_networks_in(text)]
    assert networks, "the old partitions still hold the truncated networks"
    assert all(network.prefixlen <= (IPV4_PREFIX if network.version == 4 else IPV6_PREFIX) for network in networks)


def test_addresses_become_their_networks(warehouse: Warehouse) -> None:
    changed = truncate_raw_ips(warehouse)

    # Sorted: an UPDATE moves rows on PostgreSQL, in an order its query plan picks.
    companies = warehouse.read("ip_companies", [OLD_DAY]).sort_values("ip")
    assert companies[["ip", "network"]].values.tolist() == [
        ["198.51.100.0/24", "198.51.100.0/24"],
        ["2001:db8:4::/48", "2001:db8::/32"],
        ["203.0.113.0/24", "203.0.113.0/24"],
    ]
    quarantined = warehouse.read("quarantined_lines", [OLD_DAY]).sort_values("line_no")
    assert quarantined["raw"].tolist()[1] == '2001:db8:4::/48 - - "GET /pricing'
    assert changed == {  # rows, not values: ip_companies changes two values in one of its rows
        "clean_hits": 3,
        "quarantined_lines": 2,
        "ip_companies": 3,
        "account_matches": 2,
        "account_hits": 1,
    }


def test_newer_rows_and_everything_but_old_addresses_stay(warehouse: Warehouse) -> None:
    before = stored_rows(warehouse)

    truncate_raw_ips(warehouse)

    after = stored_rows(warehouse)
    for name, rows in before.items():
        is_new = rows[PARTITION_COLUMN] >= RETAIN_FROM if PARTITION_COLUMN in rows else rows.index >= 0
        pd.testing.assert_frame_equal(after[name][is_new], rows[is_new], obj=f"new rows of {name}")
        pd.testing.assert_frame_equal(without_addresses(after[name]), without_addresses(rows), obj=name)


def test_retention_can_run_again_without_changing_anything(warehouse: Warehouse) -> None:
    truncate_raw_ips(warehouse)
    once = stored_rows(warehouse)

    again = truncate_raw_ips(warehouse)

    assert set(again.values()) == {0}
    for name, rows in stored_rows(warehouse).items():
        pd.testing.assert_frame_equal(rows, once[name], obj=name)


# --- every retention rule ---------------------------------------------------------------

TODAY = dt.date(2026, 10, 30)
LIMITS = PrivacySettings(  # cut-offs: raw IPs 2026-10-15, visitor keys 2026-10-10, quarantined lines 2026-10-25
    raw_ip_retention_days=15, visitor_key_retention_days=20, quarantine_retention_days=5
)


def test_each_kind_of_personal_data_is_kept_only_as_long_as_its_setting_says(warehouse: Warehouse) -> None:
    result = enforce_retention(warehouse, LIMITS, today=TODAY)

    hits = warehouse.read("account_hits").set_index("timestamp").sort_index()
    assert hits["visitor_key"].isna().tolist() == [True, False]  # 2026-10-05 past 20 days, 2026-10-20 not
    assert hits["visit_id"].isna().tolist() == [True, False]
    assert hits["ip"].tolist() == ["198.51.100.0/24", NORTHWIND]  # cut to its network past 15 days
    assert warehouse.read("quarantined_lines")["raw"].isna().all()  # both days are past 5 days
    assert warehouse.read("quarantined_lines")["reason"].notna().all()  # the rest of the row stays
    assert warehouse.read("digital_paths")["visit_id"].notna().all()  # the window ending 2026-10-25 is recent
    assert result.changed == {
        "raw_ip_retention_days": {
            "clean_hits": 3,
            "quarantined_lines": 2,
            "ip_companies": 3,
            "account_matches": 2,
            "account_hits": 1,
        },
        "visitor_key_retention_days": {"clean_hits": 1, "account_hits": 1},
        "quarantine_retention_days": {"quarantined_lines": 4},
    }
    assert enforce_retention(warehouse, LIMITS, today=TODAY).changed == {}


def test_the_check_finds_personal_data_past_its_limit_until_retention_has_run(warehouse: Warehouse) -> None:
    assert overdue_personal_data(warehouse, LIMITS, today=TODAY) == {
        "clean_hits.ip past raw_ip_retention_days": 3,
        "clean_hits.visitor_id past visitor_key_retention_days": 1,
        "quarantined_lines.raw past raw_ip_retention_days": 2,
        "quarantined_lines.raw past quarantine_retention_days": 4,
        "ip_companies.ip past raw_ip_retention_days": 3,
        "ip_companies.network past raw_ip_retention_days": 1,
        "account_matches.ip past raw_ip_retention_days": 2,
        "account_hits.ip past raw_ip_retention_days": 1,
        "account_hits.visitor_id past visitor_key_retention_days": 1,
        "account_hits.visitor_key past visitor_key_retention_days": 1,
        "account_hits.visit_id past visitor_key_retention_days": 1,
    }

    enforce_retention(warehouse, LIMITS, today=TODAY)

    assert overdue_personal_data(warehouse, LIMITS, today=TODAY) == {}


def test_retention_follows_the_tags_whatever_the_column_is_called(database_url: str) -> None:
    schema = sa.MetaData()
    sa.Table(
        "visits_by_person",
        schema,
        sa.Column("client_address", sa.Text, **personal(Personal.IP_ADDRESS)),
        sa.Column("cookie", sa.Text, **personal(Personal.VISITOR_KEY)),
        sa.Column("ip", sa.Text),  # named like an address, but not tagged as one: not personal here
        sa.Column(PARTITION_COLUMN, sa.Date, nullable=False),
    )
    warehouse = Warehouse(database_url, schema=schema)
    schema.create_all(warehouse.engine)
    frame = pd.DataFrame({"client_address": [NORTHWIND], "cookie": ["v-1"], "ip": ["10.1.2.3"]})
    warehouse.replace_partition("visits_by_person", frame, OLD_DAY)

    truncate_addresses(warehouse, ADDRESS_KINDS, older_than=RETAIN_FROM)
    remove_values(warehouse, frozenset({Personal.VISITOR_KEY}), older_than=RETAIN_FROM)

    stored = warehouse.read("visits_by_person").iloc[0]
    assert stored["client_address"] == "198.51.100.0/24" and pd.isna(stored["cookie"]) and stored["ip"] == "10.1.2.3"
    warehouse.engine.dispose()


# --- forgetting -------------------------------------------------------------------------


def test_forgetting_a_network_leaves_no_trace_of_it(warehouse: Warehouse) -> None:
    result = forget(warehouse, network="198.51.100.0/24")

    assert not [text for text in stored_text(warehouse) if NORTHWIND in text]
    assert result.deleted == {
        "clean_hits": 2,
        "quarantined_lines": 2,
        "ip_companies": 2,
        "account_matches": 2,
        "account_hits": 2,
        "prospect_days": 0,
        "prospect_topics": 0,
        "prospect_pages": 0,
        "account_activity": 0,
        "digital_paths": 2,
    }
    assert sorted(warehouse.read("clean_hits")["ip"]) == sorted([IVANOV, HOME, IVANOV, HOME])


def test_forgetting_a_network_also_takes_truncated_rows_that_overlap_it(warehouse: Warehouse) -> None:
    truncate_raw_ips(warehouse)

    forget(warehouse, network="2001:db8:4:7::/64")

    assert sorted(warehouse.read("clean_hits")["ip"]) == sorted(
        ["198.51.100.0/24", "203.0.113.0/24", NORTHWIND, IVANOV]
    )
    assert not [text for text in stored_text(warehouse) if "2001:db8:4:" in text]


def test_forgetting_an_organization_removes_its_names_addresses_hits_and_visits(warehouse: Warehouse) -> None:
    result = forget(warehouse, organization="  ип иванов  иван иванович")

    assert not [text for text in stored_text(warehouse) if IVANOV in text or "Иванов" in text]
    assert result.deleted["prospect_days"] == 2 and result.deleted["clean_hits"] == 2
    assert len(warehouse.read("clean_hits")) == 4  # Northwind and the home visitor, both days


def test_forgetting_an_isp_named_like_a_person_finds_it_by_its_tag_too(warehouse: Warehouse) -> None:
    forget(warehouse, organization="Comcast Cable")

    assert not [text for text in stored_text(warehouse) if HOME in text or "Comcast" in text]


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
