"""`make test` never writes into the project's Dagster home, warehouse, spool or reports.

`make test` exports DAGSTER_HOME=.dagster_home (for `make ui`); runs started by tests used
to land there and show in the user's UI, pointing at deleted temporary folders.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from dagster import DagsterInstance

from demo.hits import write_sample_hits
from demo.mmdb import build_demo_database

PROJECT_ROOT = Path(__file__).resolve().parents[1]
WATCHED = [PROJECT_ROOT / ".dagster_home", PROJECT_ROOT / ".visitor-intent"]


def _snapshot(folders: list[Path]) -> dict[str, tuple[int, int]]:
    return {
        str(path): (stat.st_size, stat.st_mtime_ns)
        for folder in folders
        if folder.exists()
        for path in folder.rglob("*")
        if (stat := path.lstat())
    }


def test_a_run_from_the_test_suite_lands_in_the_temporary_project(isolated_project: Path, tmp_path: Path) -> None:
    before = _snapshot(WATCHED)
    log = write_sample_hits(tmp_path / "access.log", start=dt.date(2026, 11, 2), days=1)
    build_demo_database(isolated_project / ".visitor-intent" / "demo" / "maxmind")  # where the default settings look
    command = Path(sys.executable).with_name("visitor-intent")

    ran = subprocess.run(  # the environment the suite gives every process, no --settings
        [str(command), "run", "--hits", str(log)], capture_output=True, text=True, timeout=600, env=os.environ
    )

    assert ran.returncode == 0, ran.stderr[-2000:]
    assert _snapshot(WATCHED) == before
    assert Path(os.environ["DAGSTER_HOME"]).is_relative_to(isolated_project)
    with DagsterInstance.get() as instance:
        assert instance.get_runs(limit=1)  # recorded in the temporary Dagster home
    assert list((isolated_project / ".visitor-intent" / "reports").glob("*/index.html"))
