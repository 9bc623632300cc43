"""The whole pipeline on the embedded demo, through the command a user runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from connectors.warehouse import Warehouse
from pipelines.cli import main

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Run `visitor-intent demo` once into a temporary folder (it takes a while)."""
    root = tmp_path_factory.mktemp("demo")
    settings = root / "settings.yaml"
    settings.write_text(
        f"""
partitions_start: 2026-09-01
sources: [{{paths: ["demo/hits/*.log*"]}}]
maxmind: {{directory: demo/maxmind}}
taxonomy: {CONFIG_DIR / "taxonomy.yaml"}
target_accounts: {CONFIG_DIR / "target_accounts.csv"}
warehouse_file: warehouse.db
spool_directory: spool
cleaning: {{office_networks: [212.0.10.0/28]}}
report: {{directory: reports}}
privacy: {{allow_demo_salt: true}}
""",
        encoding="utf-8",
    )
    runs = []
    for _ in range(2):  # the second run must replace, not append
        outputs = []
        exit_code = main(["--settings", str(settings), "demo"], out=outputs.append)
        runs.append((exit_code, "\n".join(outputs)))
    return {"root": root, "runs": runs, "warehouse": Warehouse(f"sqlite:///{root / 'warehouse.db'}")}


def _latest_report_dir(demo_run: dict[str, object]) -> Path:
    return sorted((Path(demo_run["root"]) / "reports").iterdir())[-1]


def test_demo_exits_cleanly_and_says_where_the_reports_are(demo_run) -> None:
    for exit_code, output in demo_run["runs"]:
        assert exit_code == 0
        assert "index.html" in output
    assert (_latest_report_dir(demo_run) / "index.html").is_file()


def test_the_latest_window_shows_target_accounts_at_different_stages(demo_run) -> None:
    accounts = pd.read_csv(_latest_report_dir(demo_run) / "accounts.csv")
    assert len(accounts) >= 3
    assert accounts["furthest_stage"].nunique() >= 2
    stage = dict(zip(accounts["name"], accounts["furthest_stage"]))
    assert stage["Northwind Logistics Inc."] == "decision"
    assert "Umbrella Health" not in stage  # no visits, no report
    summary = (_latest_report_dir(demo_run) / "index.html").read_text(encoding="utf-8")
    for name in ("Northwind Logistics Inc.", "Contoso Manufacturing GmbH", "Северсталь-Инфоком"):
        assert name in summary


def test_people_at_home_and_on_mobile_are_never_companies(demo_run) -> None:
    prospects = pd.read_csv(_latest_report_dir(demo_run) / "prospects.csv")
    reported = set(prospects["organization"])
    for access_provider in (
        "Comcast Cable Communications, LLC",
        "T-Mobile USA, Inc.",
        "MTS PJSC",
        "Deutsche Telekom AG",
    ):
        assert access_provider not in reported
    assert "Wayne Enterprises" in reported
    assert "Acme Route Analytics" not in reported  # our own office


def test_malformed_lines_are_kept_aside_with_their_line_numbers(demo_run) -> None:
    quarantine = demo_run["warehouse"].read("quarantined_lines")
    assert len(quarantine) > 0
    assert quarantine["line_no"].min() >= 1
    assert set(quarantine["source_file"].str.rsplit("/", n=1).str[-1]) == {"access.log"}
    assert not quarantine.duplicated(["source_file", "line_no"]).any()


def test_running_again_replaces_partitions_instead_of_appending(demo_run) -> None:
    hits = demo_run["warehouse"].read("clean_hits")
    assert len(hits) > 0
    assert not hits.duplicated(["source_file", "line_no"]).any()


def test_the_demo_shows_an_account_moving_up_a_stage_and_one_surging_with_reasons(demo_run) -> None:
    accounts = demo_run["warehouse"].read("account_activity", ["2026-11-15"]).set_index("name")

    advanced = accounts[accounts["movement"] == "stage_advanced"]
    surging = accounts[accounts["surging"].astype(bool)]
    assert "Northwind Logistics Inc." in advanced.index
    assert not surging.empty
    for name in [*advanced.index, *surging.index]:
        assert accounts.loc[name, "explanation"], name
    summary = (_latest_report_dir(demo_run) / "index.html").read_text(encoding="utf-8")
    assert "stage advanced" in summary.lower() and "surging" in summary.lower()
