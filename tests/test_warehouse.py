"""The warehouse keeps each partition once and gives back the types it was given."""

from __future__ import annotations

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
    written = _hits(("2026-10-05T09:00:00.250Z", 'a "quoted", comma\nand a newline', None), ("2026-10-05T23:59:59Z", "/careers/x", 200))

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
