"""The fault table: `visitor-intent run` killed (SIGKILL) at each stage, then run again, equals a clean run.

Issue 11, "no data lost, none doubled". The command runs in a subprocess that dies at one
stage (``tests/fault_injection.py`` says where exactly; the CRM push is killed by the
HubSpot fake once it has stored the notes and before it answers). The same command then
runs again, and everything a user sees must be what one uninterrupted run gives: every
warehouse table's rows, every report file, the HubSpot companies and notes (one note per
company, none missing) and the delivery ledger. The killed run, left STARTED in the run
storage, is marked failed by the rerun. Each stage runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from pytest_httpserver import HTTPServer

from connectors.schema import WAREHOUSE
from connectors.warehouse import Warehouse
from demo.hits import write_sample_hits
from demo.mmdb import build_demo_database
from pipelines.cli import main
from tests.conftest import postgres_schema
from tests.crm_fakes.hubspot_server import VERSION, FakeHubSpot

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = PROJECT_ROOT / "config"
TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
COMPANIES = {"Northwind Logistics": "northwind-logistics.com", "Contoso": "contoso.com"}
NOTES_CREATED = f"/crm/objects/{VERSION}/notes/batch/create"
# Rows that say when they were written, not what: a rerun rewrites them with its own time and attempt count.
LEDGER_BOOKKEEPING = ["attempts", "updated_at", "last_error"]


@dataclass
class Outcome:
    """What a user sees after a command: the warehouse, the report files, HubSpot."""

    tables: dict[str, pd.DataFrame]
    reports: dict[str, str]
    companies: dict[str, dict[str, str]]
    notes: dict[str, list[dict[str, str]]]  # company name -> its notes' properties


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def new_warehouse(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable]:
    """``new_warehouse()``: the URL of an empty warehouse on the module's database (a SQLite file, a PostgreSQL schema)."""
    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp("sqlite")
        yield lambda: f"sqlite:///{folder / f'warehouse-{len(list(folder.iterdir()))}.db'}"
        return
    schemas = []
    try:

        def new_schema() -> str:
            schemas.append(postgres_schema())
            return schemas[-1].__enter__()

        yield new_schema
    finally:
        for schema in schemas:
            schema.__exit__(None, None, None)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six days of the demo's hits, light on background traffic (one report window), and the demo MaxMind database."""
    folder = tmp_path_factory.mktemp("inputs")
    write_sample_hits(folder / "access.log", start=dt.date(2026, 11, 10), days=6, scale=0.3)
    build_demo_database(folder / "maxmind")
    (folder / "settings.yaml").write_text(
        yaml.safe_dump(
            {
                "partitions_start": "2026-11-01",
                "sources": [{"paths": ["unused/*.log"]}],
                "maxmind": {"directory": str(folder / "maxmind")},
                "taxonomy": str(CONFIG_DIR / "taxonomy.yaml"),
                "target_accounts": str(CONFIG_DIR / "target_accounts.csv"),
                "privacy": {"allow_demo_salt": True},
                "crm": {"hubspot": {"enabled": True}},
            }
        )
    )
    return folder


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    with _hubspot() as fake:
        yield fake


@pytest.fixture(scope="module")
def clean_run(inputs: Path, new_warehouse: Callable[[], str], tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    """What one uninterrupted run gives."""
    with _hubspot() as fake:
        workspace = tmp_path_factory.mktemp("clean")
        url = new_warehouse()
        with pytest.MonkeyPatch.context() as patch:
            _rerun(inputs, workspace, _environment(url, fake), patch)
        return _outcome(workspace, url, fake)


@pytest.mark.parametrize("stage", ["spooling", "warehouse_write", "report_writing", "crm_push"])
def test_a_run_killed_at_any_stage_then_run_again_equals_a_clean_run(
    stage: str,
    inputs: Path,
    new_warehouse: Callable[[], str],
    clean_run: Outcome,
    hubspot: FakeHubSpot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = new_warehouse()
    environment = _environment(url, hubspot)

    killed = _killed_run(stage, inputs, tmp_path, environment, hubspot)
    lines = _rerun(inputs, tmp_path, environment, monkeypatch)

    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    outcome = _outcome(tmp_path, url, hubspot)
    assert list(outcome.tables) == list(clean_run.tables)
    for table, rows in clean_run.tables.items():
        pd.testing.assert_frame_equal(outcome.tables[table], rows, obj=table)
    assert outcome.reports == clean_run.reports
    assert outcome.companies == clean_run.companies
    assert outcome.notes == clean_run.notes  # one note per company: none doubled, none missing
    assert all(len(notes) == 1 for notes in outcome.notes.values()) and len(outcome.notes) == len(COMPANIES)
    assert _leftovers(tmp_path) == []
    with DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        in_progress = instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED]))
        failed = instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.FAILURE]))
    assert in_progress == []
    if stage != "spooling":  # spooling comes before any run
        assert [run.run_id for run in failed] == [
            line.split()[3].rstrip(",") for line in lines if "marked failed" in line
        ]
        assert len(failed) == 1


def _killed_run(
    stage: str, inputs: Path, workspace: Path, environment: dict[str, str], hubspot: FakeHubSpot
) -> subprocess.CompletedProcess:
    arguments = _command(inputs, workspace)
    if stage == "crm_push":
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("visitor-intent")), *arguments],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        hubspot.after_next(NOTES_CREATED, lambda: process.send_signal(signal.SIGKILL))
        stdout, stderr = process.communicate(timeout=300)
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return subprocess.run(
        [sys.executable, "-m", "tests.fault_injection", stage, *arguments],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        timeout=300,
    )


def _rerun(inputs: Path, workspace: Path, environment: dict[str, str], patch: pytest.MonkeyPatch) -> list[str]:
    """The command again, in this process (Python and Dagster are loaded already); its output lines."""
    for name in ("DAGSTER_HOME", "VISITOR_INTENT_DATABASE_URL", "HUBSPOT_ACCESS_TOKEN", "HUBSPOT_API_BASE"):
        if name in environment:
            patch.setenv(name, environment[name])
        else:
            patch.delenv(name, raising=False)
    lines: list[str] = []
    assert main(_command(inputs, workspace), out=lines.append) == 0
    return lines


def _command(inputs: Path, workspace: Path) -> list[str]:
    settings, log = inputs / "settings.yaml", inputs / "access.log"
    return ["--settings", str(settings), "run", "--hits", str(log), "--workspace", str(workspace)]


def _environment(url: str, hubspot: FakeHubSpot) -> dict[str, str]:
    """The command's environment: its own Dagster home in the workspace, the warehouse, HubSpot's fake."""
    environment = {name: value for name, value in os.environ.items() if name != "DAGSTER_HOME"}
    return {
        **environment,
        "PYTHONPATH": str(PROJECT_ROOT),  # `tests` is a folder, not an installed package
        "VISITOR_INTENT_DATABASE_URL": url,
        "HUBSPOT_ACCESS_TOKEN": TOKEN,
        "HUBSPOT_API_BASE": hubspot.url,
    }


@contextlib.contextmanager
def _hubspot() -> Iterator[FakeHubSpot]:
    """A HubSpot fake holding the demo's two target-account companies."""
    server = HTTPServer()
    server.start()
    fake = FakeHubSpot(server, token=TOKEN)
    for name, domain in COMPANIES.items():
        fake.add_company(name, domain)
    try:
        yield fake
    finally:
        server.stop()


def _leftovers(workspace: Path) -> list[str]:
    """Half-written copies a killed run left in the spool or the reports (they never become data, but fill the disk)."""
    folders = [workspace / "spool", workspace / "reports"]
    return sorted(str(path) for folder in folders for path in folder.glob(".*") if ".partial-" in path.name)


def _outcome(workspace: Path, url: str, hubspot: FakeHubSpot) -> Outcome:
    warehouse = Warehouse(url)
    tables = {}
    for name in sorted(WAREHOUSE.tables):
        frame = warehouse.read(name)
        if name == "crm_deliveries":
            frame = frame.drop(columns=LEDGER_BOOKKEEPING)
        tables[name] = frame.astype(str).sort_values(list(frame.columns), ignore_index=True)
    warehouse.engine.dispose()
    reports = {
        str(path.relative_to(workspace / "reports")): path.read_text(encoding="utf-8-sig")
        for path in sorted((workspace / "reports").rglob("*"))
        if path.is_file()
    }
    names = {company_id: values["name"] for company_id, values in hubspot.companies.items()}
    notes: dict[str, list[dict[str, str]]] = {}
    for note in hubspot.notes.values():
        for company_id in note.company_ids:
            notes.setdefault(names[company_id], []).append(note.properties)
    companies = {values["name"]: values for values in hubspot.companies.values()}
    return Outcome(tables, reports, companies, notes)
