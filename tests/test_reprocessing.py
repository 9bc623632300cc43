"""Reprocessing after a change of MaxMind database, blocklist or taxonomy equals a fresh run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import yaml

from connectors.warehouse import Warehouse
from demo.hits import write_sample_hits
from demo.mmdb import NETWORKS_FILE, build_demo_database
from pipelines.cli import main

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
TABLES = [
    "quarantined_lines",
    "clean_hits",
    "hit_drop_counts",
    "ip_companies",
    "page_tags",
    "account_matches",
    "account_hits",
    "prospect_days",
    "prospect_topics",
    "prospect_pages",
    "traffic_counts",
    "account_activity",
    "digital_paths",
]


def _settings(folder: Path, office_networks: list[str], taxonomy: Path) -> Path:
    path = folder / "settings.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "partitions_start": "2026-01-01",
                "sources": [{"paths": ["unused/*.log"]}],
                "maxmind": {"directory": "unused"},
                "taxonomy": str(taxonomy),
                "target_accounts": str(CONFIG_DIR / "target_accounts.csv"),
                "cleaning": {"office_networks": office_networks},
                "report": {"directory": str(folder / "reports")},
                "privacy": {"allow_demo_salt": True},
            }
        )
    )
    return path


def _run(settings: Path, hits: Path, maxmind: Path, database: Path, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    monkeypatch.setenv("VISITOR_INTENT_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert (
        main(
            ["--settings", str(settings), "run", "--hits", str(hits), "--maxmind-dir", str(maxmind)], out=lambda _: None
        )
        == 0
    )
    return Warehouse(f"sqlite:///{database}")


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(str).sort_values(list(frame.columns)).reset_index(drop=True)


def test_rerunning_after_changes_equals_a_fresh_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hits = write_sample_hits(tmp_path / "access.log", start=dt.date(2026, 11, 2), days=14)
    before, after = tmp_path / "before", tmp_path / "after"
    before.mkdir(), after.mkdir()

    old_database = build_demo_database(tmp_path / "maxmind-old")
    # The new MaxMind build says Tyrell's network is a residential ISP now.
    networks = yaml.safe_load(NETWORKS_FILE.read_text(encoding="utf-8"))
    for network in networks["networks"]:
        if network["organization"] == "Tyrell Corp.":
            network.update(user_type="residential", connection_type="Cable/DSL")
    changed_networks = tmp_path / "networks.yaml"
    changed_networks.write_text(yaml.safe_dump(networks, allow_unicode=True), encoding="utf-8")
    new_database = build_demo_database(tmp_path / "maxmind-new", networks_file=changed_networks)
    # The new taxonomy makes case studies a decision-stage signal.
    taxonomy = yaml.safe_load((CONFIG_DIR / "taxonomy.yaml").read_text(encoding="utf-8"))
    for rule in taxonomy["rules"]:
        if rule["name"] == "case studies":
            rule["stage"] = "decision"
    changed_taxonomy = tmp_path / "taxonomy.yaml"
    changed_taxonomy.write_text(yaml.safe_dump(taxonomy), encoding="utf-8")

    old_settings = _settings(before, ["212.0.10.0/28"], CONFIG_DIR / "taxonomy.yaml")
    new_settings = _settings(after, ["212.0.10.0/28", "64.124.10.0/24"], changed_taxonomy)  # a new blocklisted range
    reprocessed = _run(old_settings, hits, old_database.parent, tmp_path / "reprocessed.db", monkeypatch)
    _run(new_settings, hits, new_database.parent, tmp_path / "reprocessed.db", monkeypatch)
    fresh = _run(new_settings, hits, new_database.parent, tmp_path / "fresh.db", monkeypatch)

    for table in TABLES:
        pd.testing.assert_frame_equal(_comparable(reprocessed.read(table)), _comparable(fresh.read(table)), obj=table)
    accounts = fresh.read("account_activity")
    assert "ACME-001" not in set(accounts["account_id"])  # Northwind's range is blocklisted now
    assert "ACME-007" not in set(accounts["account_id"])  # Tyrell resolves to an ISP now
