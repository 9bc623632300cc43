"""A day is built from every log that holds it: a partial or overlapping log never removes hits.

Issue 11, case 2: after a full run, `run --hits` on a log holding only the last week replaced
those days with that file's hits alone (a day went from 37 rows to 0, a window was rebuilt
from 8 of its 14 days) and moved the partitions' first day to the file's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import yaml

from connectors.hits.spool import HitSpool
from connectors.warehouse import Warehouse
from demo.hits import write_sample_hits
from demo.mmdb import build_demo_database
from pipelines.cli import main
from pipelines.definitions import build_definitions
from pipelines.resources import resources_from_file

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
FIRST_DAY, DAYS = dt.date(2026, 11, 2), 14
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
    "account_movements",
]
REPORT_FILES = ["accounts.csv", "digital_path.csv", "prospects.csv", "identification_by_country.csv"]
LAST_WEEK = {(FIRST_DAY + dt.timedelta(days=n)).strftime("%d/%b/%Y") for n in range(7, DAYS)}
NEW_VISIT = (
    '64.124.10.7 - - [{day}:09:00:00 +0000] "GET /pricing HTTP/1.1" 200 512 "-" '
    '"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"'
)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings whose partitions start after the data (they must reach back, never forward)."""
    (tmp_path / "settings.yaml").write_text(
        yaml.safe_dump(
            {
                "partitions_start": "2026-11-05",
                "sources": [{"paths": ["unused/*.log"]}],
                "maxmind": {"directory": "maxmind"},
                "taxonomy": str(CONFIG_DIR / "taxonomy.yaml"),
                "target_accounts": str(CONFIG_DIR / "target_accounts.csv"),
                "warehouse_file": "warehouse.db",
                "spool_directory": "spool",
                "cleaning": {"office_networks": ["212.0.10.0/28"]},
                "report": {"directory": "reports"},
                "privacy": {"allow_demo_salt": True},
            }
        )
    )
    build_demo_database(tmp_path / "maxmind")
    monkeypatch.delenv("VISITOR_INTENT_DATABASE_URL", raising=False)
    return tmp_path


def _run(workspace: Path, log: Path) -> None:
    assert main(["--settings", str(workspace / "settings.yaml"), "run", "--hits", str(log)], out=lambda _: None) == 0


def _tables(workspace: Path) -> dict[str, pd.DataFrame]:
    warehouse = Warehouse(f"sqlite:///{workspace / 'warehouse.db'}")
    with warehouse.engine.connect() as connection:
        frames = {table: pd.read_sql_table(table, connection) for table in TABLES}
    warehouse.engine.dispose()
    return {table: frame.sort_values(list(frame.columns), ignore_index=True) for table, frame in frames.items()}


def _reports(workspace: Path) -> dict[str, str]:
    return {
        f"{folder.name}/{name}": (folder / name).read_text(encoding="utf-8-sig")
        for folder in sorted((workspace / "reports").iterdir())
        if folder.is_dir()
        for name in REPORT_FILES
    }


def _first_partition(workspace: Path) -> str:
    resources = resources_from_file(workspace / "settings.yaml")
    return build_definitions(resources).resolve_job_def("daily_hits_job").partitions_def.get_first_partition_key()


def _last_week_of(log: Path, target: Path, extra: list[str] = ()) -> Path:
    lines = [
        line for line in log.read_text(encoding="utf-8").splitlines() if line[line.find("[") + 1 :][:11] in LAST_WEEK
    ]
    target.write_text("\n".join([*lines, *extra]) + "\n", encoding="utf-8")
    return target


def test_a_run_on_the_last_week_alone_changes_nothing(workspace: Path) -> None:
    full = write_sample_hits(workspace / "logs" / "access.log", start=FIRST_DAY, days=DAYS)
    _run(workspace, full)
    tables, reports, first_partition = _tables(workspace), _reports(workspace), _first_partition(workspace)

    _run(workspace, _last_week_of(full, workspace / "logs" / "last-week.log"))

    assert first_partition == FIRST_DAY.isoformat()  # reached back to the data, before the settings' day
    assert _first_partition(workspace) == first_partition
    for table, frame in _tables(workspace).items():
        pd.testing.assert_frame_equal(frame, tables[table], obj=table)
    assert _reports(workspace) == reports


def test_a_run_on_an_overlapping_log_with_new_lines_only_adds_them(workspace: Path) -> None:
    full = write_sample_hits(workspace / "logs" / "access.log", start=FIRST_DAY, days=DAYS)
    _run(workspace, full)
    before = _tables(workspace)["clean_hits"]
    new_visit = NEW_VISIT.format(day="14/Nov/2026")

    _run(workspace, _last_week_of(full, workspace / "logs" / "other-server.log", extra=[new_visit]))

    after = _tables(workspace)["clean_hits"]
    assert len(after) == len(before) + 1
    added = after.merge(before, how="left", indicator=True).query("_merge == 'left_only'")
    assert added["url"].tolist() == ["/pricing"] and added["ip"].tolist() == ["64.124.10.7"]


def test_a_log_gone_from_disk_still_holds_its_days_until_retention(workspace: Path) -> None:
    first_week = write_sample_hits(workspace / "logs" / "week-1.log", start=FIRST_DAY, days=7)
    _run(workspace, first_week)
    day_one = FIRST_DAY.isoformat()
    rows = len(Warehouse(f"sqlite:///{workspace / 'warehouse.db'}").read("clean_hits", [day_one]))
    first_week.unlink()  # rotated away

    second_week = write_sample_hits(workspace / "logs" / "week-2.log", start=FIRST_DAY + dt.timedelta(days=7), days=7)
    _run(workspace, second_week)
    # A late line for day one rebuilds it: from the spooled copy of the deleted log, plus the line.
    late = workspace / "logs" / "late-line.log"
    late.write_text(NEW_VISIT.format(day=FIRST_DAY.strftime("%d/%b/%Y")) + "\n", encoding="utf-8")
    _run(workspace, late)

    assert len(Warehouse(f"sqlite:///{workspace / 'warehouse.db'}").read("clean_hits", [day_one])) == rows + 1
    assert len(HitSpool(workspace / "spool").catalogue()) == 3
