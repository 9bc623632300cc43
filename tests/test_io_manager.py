"""Frames handed on in memory within a run give what reading them back from the warehouse gives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import yaml
from dagster import materialize

from connectors.warehouse import Warehouse
from demo.hits import write_sample_hits
from demo.mmdb import build_demo_database
from enrichment.settings import load_settings
from pipelines.definitions import build_definitions
from pipelines.resources import resources_from_settings

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
DAY = "2026-11-03"
INGESTED = ["clean_hits", "hit_drop_counts", "quarantined_lines"]
DOWNSTREAM = [
    "ip_companies",
    "page_tags",
    "account_matches",
    "account_hits",
    "prospect_days",
    "prospect_topics",
    "traffic_counts",
]


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(str).sort_values(list(frame.columns)).reset_index(drop=True)


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
    settings = load_settings(settings_file)
    defs = build_definitions(settings)
    assets = list(defs.assets)
    resources = resources_from_settings(settings)
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'warehouse.db'}")

    # One run: every step after ingestion gets its inputs from memory.
    assert materialize(assets, partition_key=DAY, resources=resources, selection=[*INGESTED, *DOWNSTREAM]).success
    in_memory = {table: warehouse.read(table, [DAY]) for table in DOWNSTREAM}
    # A run without ingestion: the same steps read clean_hits back from the warehouse.
    assert materialize(assets, partition_key=DAY, resources=resources, selection=DOWNSTREAM).success

    assert len(in_memory["account_hits"]) > 0 and len(in_memory["prospect_days"]) > 0
    for table in DOWNSTREAM:
        pd.testing.assert_frame_equal(
            _comparable(warehouse.read(table, [DAY])), _comparable(in_memory[table]), obj=table
        )
