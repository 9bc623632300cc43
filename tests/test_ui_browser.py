"""The Dagster UI on the project's definitions, in a real browser.

`dagster-webserver` starts in the project folder, as `make ui` starts `dagster dev`: it finds
the code location through pyproject's [tool.dagster] and uses a temporary DAGSTER_HOME
holding the shipped dagster.yaml. Headless Chromium (tests/browser.py) opens its pages and
the tests read the DOM the UI rendered: the asset graph, a partitioned asset's partitions,
an asset's checks, and no "Join the Dagster community" dialog over them. The same page on
an instance without `nux: {enabled: false}` shows that dialog, so its absence means something.
A run of `visitor-intent run` is listed on its job's page (it carries the location's origin).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance, RunsFilter

from demo.hits import write_sample_hits
from demo.mmdb import build_demo_database
from pipelines.cli import main
from pipelines.runner import CODE_LOCATION_NAME
from tests.browser import open_page, parse_dom, require_chromium

PROJECT_ROOT = Path(__file__).resolve().parents[1]
COMMUNITY_DIALOG = "Join the Dagster community"
SHIPPED_INSTANCE = (PROJECT_ROOT / "dagster.yaml").read_text(encoding="utf-8")
SETTLE_MS = 20_000  # virtual time: the UI's requests and rendering, not seconds of the test


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serving(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/server_info", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError):
        return False


def _dagster_home(folder: Path, instance_yaml: str) -> Path:
    folder.mkdir()
    (folder / "dagster.yaml").write_text(instance_yaml, encoding="utf-8")
    return folder


@pytest.fixture
def start_ui(tmp_path: Path) -> Iterator[Callable[[Path], str]]:
    """``start(dagster_home)``: the web server on that DAGSTER_HOME; its URL."""
    started: list[subprocess.Popen] = []

    def start(home: Path) -> str:
        port = _free_port()
        log = tmp_path / f"webserver_{len(started)}.log"
        with log.open("w") as output:
            started.append(
                subprocess.Popen(
                    [str(Path(sys.executable).with_name("dagster-webserver")), "-h", "127.0.0.1", "-p", str(port)],
                    cwd=PROJECT_ROOT,  # pyproject's [tool.dagster] names the module and the location
                    env={**os.environ, "DAGSTER_HOME": str(home)},
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its code server is ended with it
                )
            )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while not _serving(url):
            if time.monotonic() > deadline:
                pytest.fail(f"the web server did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        return url

    yield start
    for process in started:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def _text(chromium: Path, url: str, showing: str | None = None) -> str:
    """The text the UI rendered at ``url``, whitespace collapsed.

    On a loaded machine a load may return before the app rendered (its requests wait on a
    busy web server): loads again, for up to two minutes, until the page shows ``showing``.
    """
    deadline = time.monotonic() + 120
    while True:
        text = parse_dom(open_page(chromium, url, size=(1400, 1000), settle_ms=SETTLE_MS).dom).text
        if showing is None or showing in text or time.monotonic() > deadline:
            return text


def test_the_asset_graph_a_partitioned_asset_and_checks_render(start_ui, tmp_path: Path) -> None:
    chromium = require_chromium()
    url = start_ui(_dagster_home(tmp_path / "home", SHIPPED_INSTANCE))

    lineage = _text(chromium, f"{url}/assets/clean_hits?view=lineage", showing="spooled_logs")
    partitions = _text(chromium, f"{url}/assets/clean_hits?view=partitions", showing="Missing")
    checks = _text(chromium, f"{url}/assets/quarantined_lines?view=checks", showing="parse_error_rate")
    groups = _text(chromium, f"{url}/asset-groups", showing="reporting")

    # The graph around clean_hits: what it reads and what is built from it, across groups.
    for asset in ("spooled_logs", "clean_hits", "ip_companies", "page_tags", "account_hits"):
        assert asset in lineage.split(), asset
    for group in ("ingestion", "resolution", "tagging", "matching", "reporting", "privacy"):
        assert group in groups.split(), group
    # A daily partition per day since the settings' first day, none materialised yet.
    assert "Partitions" in partitions and "Missing" in partitions
    assert re.search(r"\b2026-\d\d-\d\d\b", partitions)  # daily partition keys
    assert "parse_error_rate" in checks and "Not evaluated" in checks
    assert COMMUNITY_DIALOG not in lineage + partitions + checks + groups
    assert CODE_LOCATION_NAME in _text(chromium, f"{url}/locations")


def test_without_the_nux_setting_the_community_dialog_shows(start_ui, tmp_path: Path) -> None:
    chromium = require_chromium()
    url = start_ui(_dagster_home(tmp_path / "home", "telemetry: {enabled: false}\n"))

    assert COMMUNITY_DIALOG in _text(chromium, f"{url}/assets/clean_hits?view=lineage")


def test_runs_of_the_command_show_under_their_job(start_ui, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chromium = require_chromium()
    home = _dagster_home(tmp_path / "home", SHIPPED_INSTANCE)
    log = write_sample_hits(tmp_path / "access.log", start=dt.date(2026, 11, 2), days=1)
    build_demo_database(tmp_path / "maxmind")
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        yaml.safe_dump(
            {
                "partitions_start": "2026-11-01",
                "sources": [{"paths": ["unused/*.log"]}],
                "maxmind": {"directory": "maxmind"},
                "taxonomy": str(PROJECT_ROOT / "config" / "taxonomy.yaml"),
                "target_accounts": str(PROJECT_ROOT / "config" / "target_accounts.csv"),
                "warehouse_file": "warehouse.db",
                "spool_directory": "spool",
                "report": {"directory": "reports"},
                "privacy": {"allow_demo_salt": True},
            }
        )
    )
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv("VISITOR_INTENT_DATABASE_URL", raising=False)
    assert main(["--settings", str(settings), "run", "--hits", str(log)], out=lambda _: None) == 0
    with DagsterInstance.get() as instance:
        [daily_run] = instance.get_runs(filters=RunsFilter(job_name="daily_hits_job"))

    url = start_ui(home)
    job_runs = _text(chromium, f"{url}/locations/{CODE_LOCATION_NAME}/jobs/daily_hits_job/runs")

    assert daily_run.run_id[:8] in job_runs
