"""The whole pipeline on the embedded demo, through the command a user runs."""

from __future__ import annotations

import inspect
from pathlib import Path

import pandas as pd
import pytest
from dagster import AssetCheckKey, AssetKey, DagsterInstance

from connectors.config_files import DEFAULT_SETTINGS_FILE, load_settings
from connectors.warehouse import Warehouse
from demo.hits import write_sample_hits
from enrichment.addresses import HITS_PER_CHUNK
from pipelines.cli import main

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
DEMO_SIGNALS = Path(__file__).resolve().parents[1] / "demo" / "signals"
# The daily tables a day's hits become, and chunks far smaller than a demo day.
DAILY_TABLES = [
    "clean_hits",
    "hit_drop_counts",
    "quarantined_lines",
    "removed_query_parameters",
    "ip_companies",
    "account_hits",
    "prospect_days",
    "prospect_topics",
    "prospect_pages",
    "traffic_counts",
]
SMALL_CHUNK = 30
CHECKS = [
    ("quarantined_lines", "parse_error_rate"),
    ("hit_drop_counts", "bot_share"),
    ("ip_companies", "identification_rate"),
    ("ip_companies", "maxmind_database_age"),
    ("account_activity", "accounts_have_evidence"),
    ("account_reports", "identification_by_country"),
    ("account_signals", "signal_feeds_fresh"),
]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Run `visitor-intent demo` once into a temporary folder (it takes a while), with a Dagster home of its own."""
    root = tmp_path_factory.mktemp("demo")
    settings = root / "settings.yaml"
    settings.write_text(
        f"""
partitions_start: 2026-10-05
sources: [{{paths: ["demo/hits/*.log*"]}}]
maxmind: {{directory: demo/maxmind}}
taxonomy: {CONFIG_DIR / "taxonomy.yaml"}
target_accounts: {CONFIG_DIR / "target_accounts.csv"}
warehouse_file: warehouse.db
spool_directory: spool
cleaning: {{office_networks: [212.0.10.0/28]}}
report: {{directory: reports}}
privacy: {{allow_demo_salt: true}}
signals: {{directory: {DEMO_SIGNALS}}}
""",
        encoding="utf-8",
    )
    runs, tables = [], []
    warehouse = Warehouse(f"sqlite:///{root / 'warehouse.db'}")
    with pytest.MonkeyPatch.context() as environment:
        environment.delenv("DAGSTER_HOME")  # the demo's own, in its workspace
        # The second run must replace, not append; it works each day in chunks of a few addresses.
        for hits_per_chunk in (HITS_PER_CHUNK, SMALL_CHUNK):
            environment.setattr("enrichment.addresses.HITS_PER_CHUNK", hits_per_chunk)
            outputs = []
            exit_code = main(["--settings", str(settings), "demo"], out=outputs.append)
            runs.append((exit_code, "\n".join(outputs)))
            tables.append({table: warehouse.read(table) for table in DAILY_TABLES})
    return {"root": root, "runs": runs, "warehouse": warehouse, "tables": tables}


def _latest_report_dir(demo_run: dict[str, object]) -> Path:
    return sorted(path for path in (Path(demo_run["root"]) / "reports").iterdir() if path.is_dir())[-1]


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


def test_a_day_worked_in_chunks_of_addresses_gives_what_the_whole_day_gives(demo_run) -> None:
    whole, chunked = demo_run["tables"]
    per_day = whole["clean_hits"]["timestamp"].dt.date.value_counts()
    assert per_day.min() > SMALL_CHUNK, per_day.describe()  # every day worked in two chunks or more
    for table in DAILY_TABLES:
        # The demo builds its MaxMind database again on each run.
        columns = [column for column in whole[table].columns if column != "database_epoch"]
        pd.testing.assert_frame_equal(
            chunked[table][columns].sort_values(columns, ignore_index=True),
            whole[table][columns].sort_values(columns, ignore_index=True),
            obj=table,
        )


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


def test_the_latest_report_shows_each_accounts_score_over_the_last_windows(demo_run) -> None:
    report = _latest_report_dir(demo_run)
    accounts = pd.read_csv(report / "accounts.csv", encoding="utf-8-sig").set_index("account_id")
    series = accounts["score_history"].str.split(";")
    assert (series.str.len() == 6).all()  # report.history_windows
    assert (series.str[-1].astype(int) == accounts["intent_score"].round().astype(int)).all()
    assert "index.html" in [path.name for path in report.parent.iterdir()]  # every window, listed


def test_the_demo_shows_trigger_events_and_surging_topics_beside_the_site_score(demo_run) -> None:
    report = _latest_report_dir(demo_run)
    accounts = pd.read_csv(report / "accounts.csv", encoding="utf-8-sig").set_index("name")
    northwind = accounts.loc["Northwind Logistics Inc."]
    assert northwind["trigger_events"] == 1  # the Series C; the hiring news is from the window before
    assert northwind["surge_topics"] == "Route Optimization 82; Fleet Management 71"
    assert northwind["signal_score"] > 0
    stored = demo_run["warehouse"].read("account_activity", ["2026-11-15"]).set_index("name")
    assert not stored["explanation"].str.contains("signals").any()  # weight 0: the score is the site's
    page = (report / "accounts" / "ACME-001.html").read_text(encoding="utf-8")
    assert "Northwind Logistics raises a Series C" in page and "https://news.example/northwind-series-c" in page
    assert "Route Optimization" in page
    summary = (report / "index.html").read_text(encoding="utf-8")
    assert "1 event · Route Optimization 82" in summary
    # Wayne is no target account; Fabrikam's and Umbrella Health's signals are from earlier windows.
    window = demo_run["warehouse"].read("account_signals", ["2026-11-15"])
    assert set(window["account_id"]) == {"ACME-001", "ACME-002", "ACME-005"}


def test_the_demo_passes_every_check_that_fails_a_run_and_says_why_it_warns(demo_run) -> None:
    for _, output in demo_run["runs"]:
        checks = [line for line in output.splitlines() if line.startswith("check ")]
        assert not [line for line in checks if line.startswith("check FAILED")]
        assert {line.split()[2] for line in checks} <= {"bot_share", "identification_by_country"}
        assert "expected in the demo:" in output


def test_each_check_result_belongs_to_its_partition(demo_run) -> None:
    """Not a skipped row for the partition and the result on a row of its own without one."""
    with DagsterInstance.from_config(str(Path(demo_run["root"]) / "dagster_home")) as instance:
        for asset, check in CHECKS:
            records = instance.event_log_storage.get_asset_check_execution_history(
                AssetCheckKey(AssetKey(asset), check), limit=1_000
            )
            assert records, (asset, check)
            assert all(record.partition for record in records), (asset, check)
            assert {record.status.value for record in records} <= {"SUCCEEDED", "FAILED"}, (asset, check)


def test_the_demo_partitions_start_at_its_first_day() -> None:
    """A fresh demo in the UI shows its partitions filled from the first one."""
    first_day = inspect.signature(write_sample_hits).parameters["start"].default
    assert load_settings(DEFAULT_SETTINGS_FILE).partitions_start == first_day
