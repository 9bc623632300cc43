"""The warehouse keeps each partition once, in its declared table, and gives back the declared types."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest
import sqlalchemy as sa

from connectors.migrations import ensure_current
from connectors.warehouse import SchemaError, Warehouse, shared_warehouse


@pytest.fixture
def warehouse(database_url: str) -> Iterator[Warehouse]:
    warehouse = Warehouse(database_url)
    ensure_current(warehouse.engine)
    yield warehouse
    warehouse.engine.dispose()


def _hits(*rows: tuple[str, str, int | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": pd.to_datetime([r[0] for r in rows], utc=True, format="ISO8601"),
            "ip": "198.51.100.10",
            "url": [r[1] for r in rows],
            "status": pd.array([r[2] for r in rows], dtype="Int64"),
            "source_file": "access.log",
            "line_no": range(1, len(rows) + 1),
        }
    )


def test_rematerialising_a_partition_replaces_its_rows(warehouse: Warehouse) -> None:
    monday = _hits(("2026-10-05T09:00:00Z", "/pricing", 200), ("2026-10-05T09:01:00Z", "/careers/x", 200))
    tuesday = _hits(("2026-10-06T10:00:00Z", "/blog/a", 304))

    warehouse.replace_partition("clean_hits", monday, "2026-10-05")
    warehouse.replace_partition("clean_hits", tuesday, "2026-10-06")
    warehouse.replace_partition("clean_hits", monday.head(1), "2026-10-05")

    assert len(warehouse.read("clean_hits")) == 2
    assert warehouse.read("clean_hits", ["2026-10-05"])["url"].tolist() == ["/pricing"]


def test_types_survive_the_round_trip(warehouse: Warehouse) -> None:
    written = _hits(
        ("2026-10-05T09:00:00.250Z", 'a "quoted", comma\nand a newline', None),
        ("2026-10-05T23:59:59Z", "/careers/x", 200),
    )

    warehouse.replace_partition("clean_hits", written, "2026-10-05")
    read = warehouse.read("clean_hits", ["2026-10-05"])

    assert read["timestamp"].tolist() == written["timestamp"].tolist()
    assert str(read["timestamp"].dt.tz) == "UTC"
    assert read["status"].tolist()[1] == 200 and pd.isna(read["status"].tolist()[0])
    assert read["url"].tolist() == written["url"].tolist()


def test_a_frame_is_read_back_with_every_declared_column_and_type(warehouse: Warehouse) -> None:
    warehouse.replace_partition("clean_hits", _hits(("2026-10-05T09:00:00Z", "/pricing", 200)), "2026-10-05")

    read = warehouse.read("clean_hits")

    assert read.dtypes.astype(str).to_dict() == {
        "timestamp": "datetime64[us, UTC]",
        "ip": "str",
        "method": "str",
        "host": "str",
        "url": "str",
        "status": "Int64",
        "referrer": "str",
        "user_agent": "str",
        "visitor_id": "str",
        "session_id": "str",
        "page_title": "str",
        "source_file": "str",
        "line_no": "int64",
    }
    assert read[["method", "referrer", "visitor_id"]].isna().all().all()  # missing nullable columns are null


def test_a_column_the_table_does_not_declare_is_an_error_naming_both(warehouse: Warehouse) -> None:
    frame = _hits(("2026-10-05T09:00:00Z", "/pricing", 200)).assign(campaign="spring")

    with pytest.raises(SchemaError, match="table 'clean_hits' has no column 'campaign': declare it"):
        warehouse.replace_partition("clean_hits", frame, "2026-10-05")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda frame: frame.drop(columns="line_no"), "clean_hits.line_no is required, and the frame has no such"),
        (lambda frame: frame.assign(ip=None), "clean_hits.ip is required, and the frame has missing values"),
        (lambda frame: frame.assign(line_no="seven"), "clean_hits.line_no holds values of another type"),
    ],
)
def test_a_frame_that_breaks_the_declaration_is_refused_and_writes_nothing(
    warehouse: Warehouse, change, message: str
) -> None:
    warehouse.replace_partition("clean_hits", _hits(("2026-10-05T09:00:00Z", "/pricing", 200)), "2026-10-05")

    with pytest.raises(SchemaError, match=message):
        warehouse.replace_partition("clean_hits", change(_hits(("2026-10-05T10:00:00Z", "/blog", 200))), "2026-10-05")

    assert warehouse.read("clean_hits")["url"].tolist() == ["/pricing"]


def test_dates_come_back_as_dates_and_counts_as_integers(warehouse: Warehouse) -> None:
    counts = pd.DataFrame(
        {
            "day": ["2026-10-05", "2026-10-05"],  # text, as an older frame may hold it, is stored as a date
            "country": ["DE", "??"],
            "classification": ["company", "isp"],
            "resolved": [True, False],
            "target_account": [True, False],
            "hits": [12, 3],
            "visits": [4, 1],
            "ips": [2, 1],
        }
    )

    warehouse.replace_partition("traffic_counts", counts, "2026-10-05")
    read = warehouse.read("traffic_counts", ["2026-10-05"])

    assert read["day"].tolist() == [dt.date(2026, 10, 5)] * 2
    assert read[["resolved", "hits"]].dtypes.astype(str).tolist() == ["bool", "int64"]
    with warehouse.engine.connect() as connection:
        day_type = sa.inspect(connection).get_columns("traffic_counts")[0]["type"]
    assert isinstance(day_type, sa.Date)


def test_reading_a_table_never_declared_names_it(warehouse: Warehouse) -> None:
    with pytest.raises(LookupError, match="'raw_hits' is not declared"):
        warehouse.read("raw_hits")


def test_reading_a_warehouse_never_migrated_says_how_to_upgrade_it(tmp_path) -> None:
    with pytest.raises(LookupError, match="clean_hits.*visitor-intent db upgrade"):
        Warehouse(f"sqlite:///{tmp_path / 'w.db'}").read("clean_hits")


def test_one_process_shares_one_engine_per_database(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"

    assert shared_warehouse(url).engine is shared_warehouse(url).engine
    assert shared_warehouse(url).engine is not shared_warehouse(f"sqlite:///{tmp_path / 'other.db'}").engine


# --- values a bulk load can get wrong ---------------------------------------------------

AWKWARD = sa.MetaData()
sa.Table(
    "awkward",
    AWKWARD,
    sa.Column("at", sa.DateTime(timezone=True)),
    sa.Column("text", sa.Text),
    sa.Column("more_text", sa.Text),
    sa.Column("count", sa.BigInteger),
    sa.Column("line_no", sa.BigInteger),
    sa.Column("bot", sa.Boolean, nullable=False),
    sa.Column("repeat_visit", sa.Boolean),
    sa.Column("score", sa.Double),
    sa.Column("day", sa.Date),
    sa.Column("partition_key", sa.Date, nullable=False),
)


def _awkward() -> pd.DataFrame:
    """Values a bulk-load format can get wrong: separators, escapes, NULL look-alikes, gaps."""
    return pd.DataFrame(
        {
            "at": pd.to_datetime(
                [
                    "2026-10-05T09:00:00.000001Z",
                    "2026-10-05T23:59:59.999999+02:00",
                    "1999-12-31T23:59:59Z",
                    None,
                    "2026-03-29T01:30:00.5-05:00",
                    "1970-01-01T00:00:00Z",
                ],
                utc=True,
                format="ISO8601",
            ),
            "text": pd.Series(
                ['a "quoted", comma', "two\nlines\r\nand a tab\t", "back\\slash\\", "\\N", "", None],
                dtype="str",
            ),
            "more_text": pd.Series(["\\.", "ünïcødé ✓ 🚀", "0", None, "NULL", "a\n\\.\nb"], dtype="str"),
            "count": pd.array([1, None, -(2**62), 0, 2**53 + 1, None], dtype="Int64"),  # no float on the way
            "line_no": pd.array([1, 2, 3, 4, 5, 2**53 + 1], dtype="Int64"),
            "bot": [True, False, True, False, False, True],
            "repeat_visit": pd.array([True, None, False, None, True, False], dtype="boolean"),
            "score": [0.1, float("nan"), 1e-300, 1 / 3, -0.0, 123456789.12345679],
            "day": [
                dt.date(2026, 10, 5),
                dt.date(1970, 1, 1),
                None,
                dt.date(2000, 2, 29),
                dt.date(1, 1, 1),
                dt.date(9999, 12, 31),
            ],
        }
    )


def test_awkward_values_come_back_exactly(database_url: str) -> None:
    warehouse = Warehouse(database_url, schema=AWKWARD)
    AWKWARD.create_all(warehouse.engine)
    written = _awkward()

    warehouse.replace_partition("awkward", written, "2026-10-05")
    read = warehouse.read("awkward", ["2026-10-05"])

    pd.testing.assert_frame_equal(read, written.astype({"text": "str"}), check_exact=True)
    assert read["text"].isna().tolist() == [False, False, False, False, False, True]  # neither '' nor '\N' is NULL
    warehouse.engine.dispose()
