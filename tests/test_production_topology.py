"""The production topology on one machine: code server, web server and daemon on PostgreSQL.

Each is started as its own process, as deploy/README.md ("Without Kubernetes") runs them:
`dagster api grpc` serving pipelines.definitions, `dagster-webserver` and `dagster-daemon run`
reading a workspace file that names the code server, all on deploy/dagster.yaml with
Dagster's storage in a fresh PostgreSQL database (dropped afterwards, so reruns start
clean). A 3-day backfill is launched through the web server's GraphQL API, as the UI's
"Launch backfill" does; the daemon must queue its runs, start them within the queue's
limits, and the warehouse (PostgreSQL too) must then hold the three days.
"""

from __future__ import annotations

import datetime as dt
import json
import os
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
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

from connectors.warehouse import Warehouse
from demo.hits import write_sample_hits
from demo.mmdb import build_demo_database
from pipelines.resources import DATABASE_URL_ENV_VAR
from pipelines.runner import CODE_LOCATION_NAME, PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = PROJECT_ROOT / "config"
BIN = Path(sys.executable).parent
FIRST_DAY = dt.date(2025, 6, 2)  # a fixed past Monday: its partitions exist whatever today is
DAYS = [(FIRST_DAY + dt.timedelta(days=n)).isoformat() for n in range(3)]

LAUNCH_BACKFILL = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on UnauthorizedError { message }
  }
}
"""
LOCATION_STATUS = """
{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError { __typename } } } } }
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(condition: Callable[[], bool], seconds: float, what: str, logs: Path) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds:.0f} s for {what}\n{_tails(logs)}")
        time.sleep(0.5)


def _tails(logs: Path) -> str:
    """The end of each process's output, for a failure message."""
    return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in sorted(logs.glob("*.log")))


@pytest.fixture
def environment(production_dagster_home: Path, postgres_url: str, tmp_path: Path) -> dict[str, str]:
    """What every process of the deployment gets: the instance, the settings, the warehouse, the salt."""
    write_sample_hits(tmp_path / "hits" / "access.log", start=FIRST_DAY, days=len(DAYS))
    build_demo_database(tmp_path / "maxmind")
    settings = {
        "partitions_start": FIRST_DAY.isoformat(),
        "sources": [{"paths": ["hits/*.log"]}],
        "maxmind": {"directory": "maxmind"},
        "taxonomy": str(CONFIG_DIR / "taxonomy.yaml"),
        "target_accounts": str(CONFIG_DIR / "target_accounts.csv"),
        "spool_directory": "spool",
        "report": {"directory": "reports"},
    }
    (tmp_path / "settings.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    return {
        **os.environ,  # DAGSTER_HOME and DAGSTER_PG_*, set by the fixtures
        "VISITOR_INTENT_SETTINGS": str(tmp_path / "settings.yaml"),
        DATABASE_URL_ENV_VAR: postgres_url,
        "VISITOR_INTENT_VISITOR_SALT": "production-topology-test-salt-0123456789",
    }


@pytest.fixture
def deployment(environment: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Code server, web server and daemon running; yields the web server's URL and the log folder."""
    grpc_port, web_port = _free_port(), _free_port()
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        yaml.safe_dump(
            {
                "load_from": [
                    {"grpc_server": {"host": "127.0.0.1", "port": grpc_port, "location_name": CODE_LOCATION_NAME}}
                ]
            }
        ),
        encoding="utf-8",
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    commands = {
        "code-server": [
            "dagster",
            "api",
            "grpc",
            "-h",
            "127.0.0.1",
            "-p",
            str(grpc_port),
            "-m",
            "pipelines.definitions",
        ],
        "webserver": ["dagster-webserver", "-h", "127.0.0.1", "-p", str(web_port), "-w", str(workspace)],
        "daemon": ["dagster-daemon", "run", "-w", str(workspace)],
    }
    processes = []

    def start(name: str) -> None:
        program, *arguments = commands[name]
        with (logs / f"{name}.log").open("w") as log:
            processes.append(
                subprocess.Popen(
                    [str(BIN / program), *arguments],
                    cwd=tmp_path,  # not the project: the code server imports the installed package
                    env=environment,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # ended with the processes they start (run workers)
                )
            )

    try:
        start("code-server")  # it listens once our definitions are loaded
        _wait_for(lambda: _listening(grpc_port), 120, "the code server", logs)
        start("webserver")
        start("daemon")
        url = f"http://127.0.0.1:{web_port}"
        _wait_for(lambda: _location_loaded(url), 120, "the web server to load the code location", logs)
        yield url, logs
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:  # a loaded machine: a code server may drain slowly
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _graphql(url: str, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.load(response)
    assert "errors" not in body, body["errors"]
    return body["data"]


def _days(tags: dict[str, str]) -> list[str]:
    """The partition days a run covers: its one partition, or its range."""
    if PARTITION_TAG in tags:
        return [tags[PARTITION_TAG]]
    first, last = dt.date.fromisoformat(tags[RANGE_START_TAG]), dt.date.fromisoformat(tags[RANGE_END_TAG])
    return [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _location_loaded(url: str) -> bool:
    try:
        entries = _graphql(url, LOCATION_STATUS)["workspaceOrError"]["locationEntries"]
    except (urllib.error.URLError, ConnectionError):
        return False
    loaded = [(entry["name"], (entry["locationOrLoadError"] or {}).get("__typename")) for entry in entries]
    return loaded == [(CODE_LOCATION_NAME, "RepositoryLocation")]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.postgres
def test_the_daemon_drains_a_backfill_launched_from_the_web_server(
    deployment: tuple[str, Path], postgres_url: str
) -> None:
    url, logs = deployment
    launched = _graphql(
        url,
        LAUNCH_BACKFILL,
        {
            "params": {
                "selector": {
                    "partitionSetName": "daily_hits_job_partition_set",
                    "repositorySelector": {
                        "repositoryLocationName": CODE_LOCATION_NAME,
                        "repositoryName": "__repository__",
                    },
                },
                "partitionNames": DAYS,
            }
        },
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]

    with DagsterInstance.get() as instance:
        _wait_for(
            lambda: instance.get_backfill(backfill_id).status.value != "REQUESTED",
            240,
            "the daemon to run the backfill",
            logs,
        )
        assert instance.get_backfill(backfill_id).status.value == "COMPLETED_SUCCESS", _tails(logs)
        runs = instance.get_runs(filters=RunsFilter(tags={"dagster/backfill": backfill_id}))
        enqueued = [instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_ENQUEUED) for run in runs]

    assert runs and all(run.status == DagsterRunStatus.SUCCESS for run in runs), _tails(logs)
    # The daily assets backfill up to a week per run: the three days are one ranged run.
    assert sorted(day for run in runs for day in _days(run.tags)) == DAYS
    # Queued, then started by the daemon through the code server: runs of the location's job.
    assert all(enqueued)
    assert {run.job_name for run in runs} == {"daily_hits_job"}
    assert {run.remote_job_origin.location_name for run in runs} == {CODE_LOCATION_NAME}
    warehouse = Warehouse(postgres_url)
    for day in DAYS:
        assert len(warehouse.read("clean_hits", [day])) > 0, day
        assert len(warehouse.read("ip_companies", [day])) > 0, day
