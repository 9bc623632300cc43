"""The I/O manager stores frames as their tables declare them; in memory or read back, a step gets the same frame."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml
from dagster import DailyPartitionsDefinition, build_input_context, build_output_context, materialize

import connectors.warehouse
from connectors.migrations import ensure_current
from connectors.warehouse import SchemaError, Warehouse
from demo.hits import write_sample_hits
from demo.mmdb import build_demo_database
from enrichment.hit_chunks import HitChunks
from pipelines.definitions import build_definitions
from pipelines.resources import resources_from_file
from pipelines.storage import WarehouseIOManager, WarehouseResource

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
DAY = "2026-11-03"
INGESTED = ["clean_hits", "hit_drop_counts", "quarantined_lines", "removed_query_parameters"]
DOWNSTREAM = [
    "ip_companies",
    "page_tags",
    "account_matches",
    "account_hits",
    "prospect_days",
    "prospect_topics",
    "prospect_pages",
    "traffic_counts",
]


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in a fixed order, values and types untouched."""
    keys = [repr(row) for row in frame.itertuples(index=False)]
    return frame.iloc[sorted(range(len(keys)), key=keys.__getitem__)].reset_index(drop=True)


def test_steps_reading_the_warehouse_compute_what_steps_handed_frames_in_memory_compute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_sample_hits(tmp_path / "hits" / "access.log", start=dt.date(2026, 11, 2), days=3)
    build_demo_database(tmp_path / "maxmind")
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(
        yaml.safe_dump(
            {
                "partitions_start": "2026-11-01",
                "sources": [{"paths": ["hits/*.log"]}],
                "maxmind": {"directory": "maxmind"},
                "taxonomy": str(CONFIG_DIR / "taxonomy.yaml"),
                "target_accounts": str(CONFIG_DIR / "target_accounts.csv"),
                "warehouse_file": "warehouse.db",
                "spool_directory": "spool",
                "privacy": {"allow_demo_salt": True},
            }
        )
    )
    monkeypatch.delenv("VISITOR_INTENT_DATABASE_URL", raising=False)
    resources = resources_from_file(settings_file)
    defs = build_definitions(resources)
    assets = list(defs.assets)
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'warehouse.db'}")
    engines: list[str] = []
    monkeypatch.setattr(connectors.warehouse, "create_engine", lambda url: engines.append(url) or sa.create_engine(url))

    # One run: every step after ingestion gets its inputs from memory.
    assert materialize(assets, partition_key=DAY, resources=resources, selection=[*INGESTED, *DOWNSTREAM]).success
    in_memory = {table: warehouse.read(table, [DAY]) for table in DOWNSTREAM}
    # A run without ingestion: the same steps read clean_hits back from the warehouse.
    assert materialize(assets, partition_key=DAY, resources=resources, selection=DOWNSTREAM).success

    assert len(in_memory["account_hits"]) > 0 and len(in_memory["prospect_days"]) > 0
    for table in DOWNSTREAM:
        pd.testing.assert_frame_equal(
            _comparable(warehouse.read(table, [DAY])), _comparable(in_memory[table]), check_exact=True, obj=table
        )
    assert len(engines) == 1  # one engine for both runs, all their steps and the I/O manager


# --- one frame, through the manager ----------------------------------------------------

PARTITIONS = DailyPartitionsDefinition(start_date="2026-11-01", timezone="UTC")


def _manager(tmp_path: Path) -> WarehouseIOManager:
    warehouse = WarehouseResource(url=f"sqlite:///{tmp_path / 'warehouse.db'}")
    ensure_current(warehouse.get().engine)
    return WarehouseIOManager(warehouse=warehouse)


def _write(manager: WarehouseIOManager, table: str, frame: pd.DataFrame) -> None:
    """An asset's value is one frame per partition: here the one day's."""
    manager.handle_output(
        build_output_context(asset_key=table, partition_key=DAY, asset_partitions_def=PARTITIONS), {DAY: frame}
    )


def _load(manager: WarehouseIOManager, table: str) -> pd.DataFrame:
    context = build_input_context(asset_key=table, partition_key=DAY, asset_partitions_def=PARTITIONS)
    frames = manager.load_input(context)
    assert list(frames) == [DAY]
    return frames[DAY]


def _traffic() -> pd.DataFrame:
    """What count_traffic returns; no ``visits`` column yet, as an older version of it would."""
    return pd.DataFrame(
        {
            "day": [dt.date(2026, 11, 3)],
            "country": ["DE"],
            "classification": ["company"],
            "resolved": [True],
            "target_account": [False],
            "hits": [7],
            "ips": [2],
        }
    )


def test_a_frame_handed_on_in_memory_is_the_frame_the_warehouse_gives_back(tmp_path: Path) -> None:
    manager = _manager(tmp_path)
    _write(manager, "ip_companies", pd.DataFrame({"ip": ["198.51.100.10"], "classification": ["company"]}))

    in_memory = _load(manager, "ip_companies")
    from_warehouse = _load(_manager(tmp_path), "ip_companies")

    pd.testing.assert_frame_equal(in_memory, from_warehouse, check_exact=True)
    assert in_memory["confidence"].isna().all() and in_memory["is_anonymous"].dtype == "boolean"


def test_a_column_the_table_does_not_declare_stops_the_step_naming_table_and_column(tmp_path: Path) -> None:
    manager = _manager(tmp_path)

    with pytest.raises(SchemaError, match="table 'traffic_counts' has no column 'sessions'"):
        _write(manager, "traffic_counts", _traffic().assign(visits=3, sessions=4))


def test_a_missing_required_column_is_an_error_and_a_missing_nullable_one_is_null(tmp_path: Path) -> None:
    manager = _manager(tmp_path)

    with pytest.raises(SchemaError, match="traffic_counts.visits is required"):
        _write(manager, "traffic_counts", _traffic())
    _write(manager, "page_tags", pd.DataFrame({"url": ["/pricing"], "excluded_from_intent": [False], "hits": [3]}))

    assert _load(_manager(tmp_path), "page_tags")[["topics", "stage", "rule"]].isna().all().all()


def test_a_busy_day_of_clean_hits_is_stored_whole_and_handed_on_in_chunks_of_addresses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("enrichment.addresses.HITS_PER_CHUNK", 4)
    ips = [f"198.51.100.{n}" for n in range(1, 6)]
    hits = pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-11-03 09:00", periods=10, freq="min", tz="UTC"),
            "ip": ips * 2,
            "url": ["/pricing", "/docs"] * 5,
            "status": pd.array([200] * 9 + [None], dtype="Int64"),
            "source_file": "access.log",
            "line_no": range(1, 11),
        }
    )
    manager = _manager(tmp_path)
    _write(manager, "clean_hits", HitChunks.split(hits))  # 10 hits: 3 chunks
    _write(manager, "clean_hits", HitChunks.split(hits))  # a re-run replaces the day

    stored = Warehouse(f"sqlite:///{tmp_path / 'warehouse.db'}").read("clean_hits", [DAY])
    assert sorted(stored["line_no"]) == list(range(1, 11))
    for chunks in (_load(manager, "clean_hits"), _load(_manager(tmp_path), "clean_hits")):  # memory, warehouse
        frames = list(chunks.frames())
        assert len(frames) == 3
        addresses = [set(frame["ip"]) for frame in frames]
        assert sum(len(chunk) for chunk in addresses) == len(set().union(*addresses)) == 5
        pd.testing.assert_frame_equal(
            _comparable(pd.concat(frames, ignore_index=True)), _comparable(stored), check_exact=True
        )
