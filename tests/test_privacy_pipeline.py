"""Privacy in the running pipeline: retention leaves no old raw IP, `forget` leaves no trace."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from pathlib import Path

import pytest
import yaml
from dagster import AssetSelection, materialize

from connectors.warehouse import Warehouse
from demo.hits import write_sample_hits
from demo.mmdb import build_demo_database
from enrichment.settings import PrivacySettings
from pipelines.assets.privacy import build_privacy_assets
from pipelines.cli import main
from pipelines.resources import FileReportSinkResource, HitSourcesResource
from pipelines.settings_resource import SettingsResource
from pipelines.storage import WarehouseResource

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
# A full address: not a CIDR network ("…0/24") and not a version number ("Chrome/120.0.0.0").
IPV4 = re.compile(r"(?<![\w/.])(?:\d{1,3}\.){3}\d{1,3}(?![\w/.])")


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Warehouse, Path]:
    """A warehouse filled by a real run over ten days of demo traffic."""
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        yaml.safe_dump(
            {
                "partitions_start": "2026-01-01",
                "sources": [{"paths": ["unused/*.log"]}],
                "maxmind": {"directory": "unused"},
                "taxonomy": str(CONFIG_DIR / "taxonomy.yaml"),
                "target_accounts": str(CONFIG_DIR / "target_accounts.csv"),
                "report": {"directory": str(tmp_path / "reports")},
                "privacy": {"allow_demo_salt": True},
                "spool_directory": str(tmp_path / "spool"),
            }
        )
    )
    hits = write_sample_hits(tmp_path / "access.log", start=dt.date(2026, 11, 6), days=10)
    database = build_demo_database(tmp_path / "maxmind")
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    monkeypatch.setenv("VISITOR_INTENT_DATABASE_URL", url)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    run = ["--settings", str(settings), "run", "--hits", str(hits), "--maxmind-dir", str(database.parent)]
    assert main(run, out=lambda _: None) == 0
    return Warehouse(url), settings


def _full_addresses(warehouse: Warehouse, table: str) -> dict[str, set[str]]:
    """Every full IPv4 address stored in a table's rows, by the day (partition) holding it."""
    with warehouse.engine.connect() as connection:
        rows = connection.exec_driver_sql(f'SELECT * FROM "{table}"').mappings().all()
    found: dict[str, set[str]] = {}
    for row in rows:
        text = " ".join(str(value) for name, value in row.items() if name != "partition_key")
        found.setdefault(row["partition_key"], set()).update(
            address for address in IPV4.findall(text) if ipaddress.ip_address(address).is_global
        )
    return found


def privacy_resources(store: Warehouse, settings: Path) -> dict:
    settings_resource = SettingsResource(settings_file=str(settings))
    return {
        "warehouse": WarehouseResource(url=str(store.engine.url)),
        "hit_sources": HitSourcesResource(settings=settings_resource),
        "report_sink": FileReportSinkResource(settings=settings_resource),
    }


def test_report_windows_older_than_the_limit_are_removed_and_an_overdue_one_fails_the_check(warehouse) -> None:
    store, settings = warehouse
    reports = settings.parent / "reports"
    [window] = [folder.name for folder in reports.iterdir() if folder.is_dir()]
    window_end = dt.date.fromisoformat(window.split("_")[1])
    age = (dt.datetime.now(dt.UTC).date() - window_end).days
    keeping, pruning = PrivacySettings(report_retention_days=age), PrivacySettings(report_retention_days=age - 1)

    kept = materialize(build_privacy_assets(keeping), resources=privacy_resources(store, settings))
    overdue = materialize(
        build_privacy_assets(pruning),
        resources=privacy_resources(store, settings),
        selection=AssetSelection.all_asset_checks(),
    )
    pruned = materialize(build_privacy_assets(pruning), resources=privacy_resources(store, settings))

    assert (
        kept.asset_materializations_for_node("personal_data_retention")[0].metadata["report windows removed"].value == 0
    )
    [check] = overdue.get_asset_check_evaluations()
    assert not check.passed and check.metadata["overdue report windows"].value == window
    assert (
        pruned.asset_materializations_for_node("personal_data_retention")[0].metadata["report windows removed"].value
        == 1
    )
    assert [check.passed for check in pruned.get_asset_check_evaluations()] == [True]
    assert not (reports / window).exists()


def test_no_raw_ip_older_than_the_limit_remains(warehouse) -> None:
    store, settings = warehouse
    spool = settings.parent / "spool"
    assert any(spool.iterdir())  # the run spooled its log
    retention_days = (dt.datetime.now(dt.UTC).date() - dt.date(2026, 11, 11)).days
    cutoff = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=retention_days)).isoformat()

    limits = PrivacySettings(
        raw_ip_retention_days=retention_days,
        visitor_key_retention_days=retention_days,
        quarantine_retention_days=retention_days,
    )
    result = materialize(build_privacy_assets(limits), resources=privacy_resources(store, settings))

    assert result.success
    assert [check.passed for check in result.get_asset_check_evaluations()] == [True]
    for table in ("quarantined_lines", "clean_hits", "ip_companies", "account_matches", "account_hits"):
        by_day = _full_addresses(store, table)
        assert not any(addresses for day, addresses in by_day.items() if day < cutoff), table
    newer = _full_addresses(store, "clean_hits")
    assert any(addresses for day, addresses in newer.items() if day >= cutoff)  # recent days keep their IPs
    assert store.read("traffic_counts")["hits"].sum() > 0  # aggregates stay


def test_forget_leaves_no_trace_of_an_organization(warehouse) -> None:
    store, settings = warehouse
    lines: list[str] = []

    assert "Wayne Enterprises" in set(store.read("prospect_days")["organization"])
    report_files = [path for path in (settings.parent / "reports").rglob("*") if path.is_file()]
    assert [path.name for path in report_files if "Wayne Enterprises" in path.read_text()] == [
        "index.html",
        "prospects.csv",
        "suggested_accounts.csv",
    ]

    assert main(["--settings", str(settings), "forget", "--organization", "Wayne Enterprises"], out=lines.append) == 0

    assert lines[0].startswith("forgot 'Wayne Enterprises'")
    for table in ("clean_hits", "ip_companies", "account_matches", "account_hits"):
        frame = store.read(table)
        assert not frame.astype(str).apply(lambda column: column.str.contains("67.199.70.", regex=False)).any().any(), (
            table
        )
    for table in ("prospect_days", "prospect_topics", "prospect_pages"):
        assert "Wayne Enterprises" not in set(store.read(table)["organization"].dropna()), table
    assert not [path for path in report_files if "Wayne Enterprises" in path.read_text()]
