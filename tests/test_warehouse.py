"""The warehouse keeps each partition once and gives back the types it was given."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from connectors.warehouse import Warehouse


def _hits(*rows: tuple[str, str, int | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": pd.to_datetime([r[0] for r in rows], utc=True, format="ISO8601"),
            "url": [r[1] for r in rows],
            "status": pd.array([r[2] for r in rows], dtype="Int64"),
            "excluded": [r[1].startswith("/careers") for r in rows],
        }
    )


def test_rematerialising_a_partition_replaces_its_rows(database_url: str) -> None:
    warehouse = Warehouse(database_url)
    monday = _hits(("2026-10-05T09:00:00Z", "/pricing", 200), ("2026-10-05T09:01:00Z", "/careers/x", 200))
    tuesday = _hits(("2026-10-06T10:00:00Z", "/blog/a", 304))

    warehouse.replace_partition("hits", monday, "2026-10-05")
    warehouse.replace_partition("hits", tuesday, "2026-10-06")
    warehouse.replace_partition("hits", monday.head(1), "2026-10-05")

    assert len(warehouse.read("hits")) == 2
    assert warehouse.read("hits", ["2026-10-05"])["url"].tolist() == ["/pricing"]


def test_types_survive_the_round_trip(database_url: str) -> None:
    warehouse = Warehouse(database_url)
    written = _hits(
        ("2026-10-05T09:00:00.250Z", 'a "quoted", comma\nand a newline', None),
        ("2026-10-05T23:59:59Z", "/careers/x", 200),
    )

    warehouse.replace_partition("hits", written, "2026-10-05")
    read = warehouse.read("hits", ["2026-10-05"])

    assert read["timestamp"].tolist() == written["timestamp"].tolist()
    assert str(read["timestamp"].dt.tz) == "UTC"
    assert read["status"].tolist()[1] == 200 and pd.isna(read["status"].tolist()[0])
    assert read["url"].tolist() == written["url"].tolist()
    assert read["excluded"].tolist() == [False, True]


def test_unpartitioned_tables_are_replaced_whole(database_url: str) -> None:
    warehouse = Warehouse(database_url)
    warehouse.replace_partition("accounts", pd.DataFrame({"account_id": ["A", "B"]}), None)
    warehouse.replace_partition("accounts", pd.DataFrame({"account_id": ["C"]}), None)

    assert warehouse.read("accounts")["account_id"].tolist() == ["C"]


def test_reading_a_table_never_written_says_which_asset_to_materialize(tmp_path) -> None:
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    with pytest.raises(LookupError, match="raw_hits.*materialize"):
        warehouse.read("raw_hits")


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
            "count": pd.array([1, None, -(2**62), 0, 2**53, None], dtype="Int64"),
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


def _assert_awkward_values_come_back(warehouse: Warehouse) -> None:
    written = _awkward()
    warehouse.replace_partition("awkward", written, "2026-10-05")
    read = warehouse.read("awkward", ["2026-10-05"])

    # What a table gives back: booleans become nullable and dates ISO text (they are stored as TEXT).
    expected = written.astype({"bot": "boolean"}).assign(
        day=pd.Series(["2026-10-05", "1970-01-01", None, "2000-02-29", "0001-01-01", "9999-12-31"], dtype="str")
    )
    pd.testing.assert_frame_equal(read, expected, check_exact=True)
    assert read["text"].isna().tolist() == [False, False, False, False, False, True]  # neither '' nor '\N' is NULL


@pytest.mark.postgres
def test_awkward_values_come_back_exactly_from_postgres(postgres_url: str) -> None:
    _assert_awkward_values_come_back(Warehouse(postgres_url))


def test_awkward_values_come_back_exactly_from_sqlite(tmp_path) -> None:
    _assert_awkward_values_come_back(Warehouse(f"sqlite:///{tmp_path / 'w.db'}"))
