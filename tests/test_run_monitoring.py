"""A run killed with SIGKILL is marked failed, and the CRM delivery queued behind it moves on.

Issue 11, case 5: killed runs stayed STARTED in run storage, where the one-CRM-delivery
limit blocked every later delivery. This starts a real `dagster-daemon` on an instance made
from the shipped dagster.yaml (only its timings shortened, so the test takes seconds), kills
a CRM delivery mid-run, queues another and waits for the daemon to fail the first and run
the second. `visitor-intent run` fails the runs a killed command left behind itself (tested
with the CLI below), without waiting for a daemon.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from demo.hits import write_sample_hits
from demo.mmdb import build_demo_database
from pipelines.cli import main
from pipelines.runner import CLI_PROCESS_TAG

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = PROJECT_ROOT / "config"
LOCATION = ["-m", "tests.monitoring_location", "-d", str(PROJECT_ROOT)]
ENVIRONMENT = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}  # `tests` is a folder, not an installed package


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped instance file, with run monitoring checking every second and a 3-second runtime limit."""
    config = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    assert config["run_monitoring"]["enabled"] is True
    assert {"key": "visitor-intent/crm", "limit": 1} in config["concurrency"]["runs"]["tag_concurrency_limits"]
    config["run_monitoring"].update(max_runtime_seconds=3, poll_interval_seconds=1)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.fixture
def daemon(dagster_home: Path) -> Iterator[Callable[[], None]]:
    started: list[subprocess.Popen] = []

    def start() -> None:
        started.append(
            subprocess.Popen(
                [str(Path(sys.executable).with_name("dagster-daemon")), "run", *LOCATION],
                cwd=PROJECT_ROOT,
                env={**ENVIRONMENT, "DAGSTER_HOME": str(dagster_home)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # its code server too is ended below
            )
        )

    yield start
    for process in started:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds:.0f} s for {what}")
        time.sleep(0.2)


def _status(instance: DagsterInstance, job_name: str) -> DagsterRunStatus | None:
    runs = instance.get_runs(filters=RunsFilter(job_name=job_name), limit=1)
    return runs[0].status if runs else None


def test_a_killed_delivery_is_failed_and_the_next_one_runs(dagster_home: Path, daemon) -> None:
    killed = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from dagster import DagsterInstance, execute_job, reconstructable\n"
            "from tests.monitoring_location import slow_delivery\n"
            "execute_job(reconstructable(slow_delivery), DagsterInstance.get())\n",
        ],
        cwd=PROJECT_ROOT,
        env={**ENVIRONMENT, "DAGSTER_HOME": str(dagster_home)},
    )
    with DagsterInstance.get() as instance:
        _wait_for(lambda: _status(instance, "slow_delivery") == DagsterRunStatus.STARTED, 120, "the slow delivery")
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        launch = [str(Path(sys.executable).with_name("dagster")), "job", "launch", *LOCATION, "-j", "next_delivery"]
        subprocess.run(
            launch,
            cwd=PROJECT_ROOT,
            env={**ENVIRONMENT, "DAGSTER_HOME": str(dagster_home)},
            check=True,
            capture_output=True,
            timeout=300,
        )
        assert _status(instance, "next_delivery") == DagsterRunStatus.QUEUED

        daemon()

        _wait_for(lambda: _status(instance, "next_delivery") == DagsterRunStatus.SUCCESS, 240, "the next delivery")
        [dead] = instance.get_runs(filters=RunsFilter(job_name="slow_delivery"))
        assert dead.status == DagsterRunStatus.FAILURE
        [following] = instance.get_runs(filters=RunsFilter(job_name="next_delivery"))
        # It waited its turn: it started only once the killed delivery was marked failed.
        assert (
            instance.get_run_record_by_id(following.run_id).start_time
            >= instance.get_run_record_by_id(dead.run_id).end_time
        )


def test_the_next_command_fails_the_runs_a_killed_command_left_behind(
    tmp_path: Path, dagster_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = write_sample_hits(tmp_path / "access.log", start=dt.date(2026, 10, 5), days=42)
    build_demo_database(tmp_path / "maxmind")
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        yaml.safe_dump(
            {
                "partitions_start": "2026-10-01",
                "sources": [{"paths": ["unused/*.log"]}],
                "maxmind": {"directory": "maxmind"},
                "taxonomy": str(CONFIG_DIR / "taxonomy.yaml"),
                "target_accounts": str(CONFIG_DIR / "target_accounts.csv"),
                "warehouse_file": "warehouse.db",
                "spool_directory": "spool",
                "report": {"directory": "reports"},
                "privacy": {"allow_demo_salt": True},
            }
        )
    )
    monkeypatch.delenv("VISITOR_INTENT_DATABASE_URL", raising=False)
    command = [str(Path(sys.executable).with_name("visitor-intent")), "--settings", str(settings), "run"]
    killed = subprocess.Popen([*command, "--hits", str(log)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with DagsterInstance.get() as instance:
        started = RunsFilter(statuses=[DagsterRunStatus.STARTED])
        _wait_for(lambda: bool(instance.get_runs(filters=started)), 300, "a run of the command")
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        [left_behind] = instance.get_runs(filters=started)
        assert left_behind.tags[CLI_PROCESS_TAG].endswith(f":{killed.pid}")

        lines: list[str] = []
        assert main(["--settings", str(settings), "run", "--hits", str(log)], out=lines.append) == 0

        assert instance.get_run_by_id(left_behind.run_id).status == DagsterRunStatus.FAILURE
        assert any(left_behind.run_id in line and line.startswith("marked failed") for line in lines)
