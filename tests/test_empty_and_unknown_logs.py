"""A freshly rotated (empty) log is a normal file everywhere; a log whose format cannot be told
is reported while the other files are processed: spool, inspect-log, sensors, the daily
ingestion and `visitor-intent run`."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pandas as pd
import pytest
import yaml
from dagster import build_sensor_context, materialize

from connectors.config_files import DEFAULT_SETTINGS_FILE
from connectors.hits.spool import HitSpool
from pipelines.cli import main
from pipelines.definitions import build_definitions
from pipelines.resources import HitSourcesResource, resources_from_file
from pipelines.schedules import build_jobs, build_spool_job
from pipelines.sensors import build_new_logs_sensor
from pipelines.settings_resource import SettingsResource

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
LINE = '89.160.20.{n} - - [05/Oct/2026:10:00:{n:02d} +0000] "GET /pricing HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"'
DAY = dt.date(2026, 10, 5)


def _good_log(path: Path, hits: int = 3) -> Path:
    path.write_text("".join(LINE.format(n=n) + "\n" for n in range(1, hits + 1)), encoding="utf-8")
    return path


def _unknown_log(path: Path, modified: dt.datetime) -> Path:
    path.write_text("dear diary, today 89.160.20.1 visited\n", encoding="utf-8")
    os.utime(path, (modified.timestamp(), modified.timestamp()))
    return path


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """A folder with a good log, an empty one and one whose format cannot be told (last written on DAY)."""
    folder = tmp_path / "logs"
    folder.mkdir()
    _good_log(folder / "access.log")
    (folder / "access.log.1").write_bytes(b"")
    _unknown_log(folder / "notes.log", dt.datetime(2026, 10, 5, 23, 0, tzinfo=dt.UTC))
    return folder


def test_the_spool_keeps_an_empty_file_and_one_quarantined_row_for_an_unknown_one(logs: Path, tmp_path: Path) -> None:
    spool = HitSpool(tmp_path / "spool")

    assert spool.days(logs / "access.log.1") == frozenset()
    assert spool.summary(logs / "access.log.1").records == 0
    assert spool.summary(logs / "access.log.1").unreadable is None
    assert spool.days(logs / "notes.log") == frozenset()
    summary = spool.summary(logs / "notes.log")
    assert summary.unreadable.startswith("cannot tell its log format")
    assert "89.160.20.1" not in summary.unreadable  # the reason never quotes the file
    hits, quarantine = spool.read_day(logs / "notes.log", DAY)
    assert hits.empty
    assert quarantine[["line_no", "reason"]].values.tolist() == [[0, "unknown_format"]]
    assert quarantine.loc[0, "source_file"] == str(logs / "notes.log")
    assert quarantine.loc[0, "raw"].startswith("dear diary")


def test_inspect_log_says_a_file_is_empty_and_goes_on_after_an_unknown_one(logs: Path, capsys) -> None:
    lines: list[str] = []

    code = main(
        ["inspect-log", str(logs / "access.log.1"), str(logs / "notes.log"), str(logs / "access.log")],
        out=lines.append,
    )

    assert code == 2  # one file could not be read
    assert (
        lines[0] == f"{logs / 'access.log.1'}: empty: no log records (0 bytes, blank, or headers only); nothing to read"
    )
    assert lines[1].startswith(f"{logs / 'access.log'}: apache_combined; 3 lines, 3 parsed")
    assert "notes.log: cannot tell its log format" in capsys.readouterr().err


def test_inspect_log_on_an_empty_file_exits_cleanly_and_reports_zero_as_json(logs: Path) -> None:
    lines: list[str] = []

    code = main(["inspect-log", "--json", str(logs / "access.log.1")], out=lines.append)

    assert code == 0
    report = json.loads(lines[0])
    assert (report["format"], report["lines"], report["parsed"], report["quarantined"]) == ("empty", 0, 0, 0)


def test_inspect_log_says_which_zone_local_times_were_read_in(tmp_path: Path) -> None:
    path = tmp_path / "u_ex.log"
    path.write_text("#Fields: date-local time-local c-ip cs-uri-stem\n2026-10-05 10:00:00 89.160.20.1 /\n")
    lines: list[str] = []

    assert main(["inspect-log", "--timezone", "Europe/Berlin", str(path)], out=lines.append) == 0
    assert "1 times written without a zone, read as local time in Europe/Berlin" in lines[1]
    with pytest.raises(SystemExit):  # argparse refuses an unknown zone with a usage message
        main(["inspect-log", "--timezone", "Europe/Atlantis", str(path)], out=lines.append)


def test_the_new_logs_sensor_requests_nothing_for_an_empty_file(tmp_path: Path) -> None:
    (tmp_path / "access.log").write_bytes(b"")
    sensor = build_new_logs_sensor(build_spool_job(), build_jobs()[0])
    resources = {
        "hit_sources": HitSourcesResource(
            settings=SettingsResource(
                settings_file=str(DEFAULT_SETTINGS_FILE), workspace=str(tmp_path), hits=[str(tmp_path / "*.log")]
            )
        )
    }

    with build_sensor_context(resources=resources) as context:
        requests = list(sensor(context))

    assert requests == []  # nothing to spool, no day to build


def _settings_file(tmp_path: Path, logs: Path, maxmind_dir: Path) -> Path:
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(
        yaml.safe_dump(
            {
                "partitions_start": "2026-10-01",
                "sources": [{"paths": [str(logs / "*")]}],
                "maxmind": {"directory": str(maxmind_dir)},
                "taxonomy": str(CONFIG_DIR / "taxonomy.yaml"),
                "target_accounts": str(CONFIG_DIR / "target_accounts.csv"),
                "warehouse_file": "warehouse.db",
                "spool_directory": "spool",
                "report": {"directory": "reports"},
                "privacy": {"allow_demo_salt": True},
            }
        )
    )
    return settings_file


def test_daily_ingestion_reads_the_good_file_and_names_the_unreadable_one(
    logs: Path, tmp_path: Path, maxmind_test_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISITOR_INTENT_DATABASE_URL", raising=False)
    resources = resources_from_file(_settings_file(tmp_path, logs, maxmind_test_dir))

    result = materialize(
        list(build_definitions(resources).assets),
        partition_key=DAY.isoformat(),
        resources=resources,
        selection=["clean_hits", "hit_drop_counts", "quarantined_lines", "removed_query_parameters"],
    )

    assert result.success
    [clean] = [m for m in result.asset_materializations_for_node("ingested_hits") if m.asset_key.path == ["clean_hits"]]
    assert clean.metadata["parsed hits"].value == 3
    assert clean.metadata["files read"].value == 2  # the logs holding the day: the empty one holds none
    unreadable = clean.metadata["unreadable files"].value
    assert "notes.log" in unreadable and "cannot tell its log format" in unreadable
    quarantine = result.output_for_node("ingested_hits", "quarantined_lines")[DAY.isoformat()]
    assert quarantine[["line_no", "reason"]].values.tolist() == [[0, "unknown_format"]]
    assert pd.Series(quarantine["source_file"]).str.endswith("notes.log").all()


def test_run_with_an_empty_file_next_to_a_good_one_is_green(
    logs: Path, tmp_path: Path, maxmind_test_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISITOR_INTENT_DATABASE_URL", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings_file = _settings_file(tmp_path, logs, maxmind_test_dir)
    lines: list[str] = []

    code = main(
        ["--settings", str(settings_file), "run", "--hits", str(logs / "access.log"), str(logs / "access.log.1")],
        out=lines.append,
    )

    assert code == 0
    assert any(line.startswith("processed 2026-10-05 to 2026-10-05 in ") for line in lines)
    assert any(line.strip().endswith("index.html") for line in lines)


def test_run_on_empty_files_only_has_nothing_to_do_and_on_an_unknown_file_says_which(
    logs: Path, tmp_path: Path, maxmind_test_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.delenv("VISITOR_INTENT_DATABASE_URL", raising=False)
    settings_file = str(_settings_file(tmp_path, logs, maxmind_test_dir))
    lines: list[str] = []

    empty_code = main(["--settings", settings_file, "run", "--hits", str(logs / "access.log.1")], out=lines.append)
    assert empty_code == 0
    assert lines[-1] == "nothing to run: the given files hold no log records"

    unknown_code = main(["--settings", settings_file, "run", "--hits", str(logs / "notes.log")], out=lines.append)
    assert unknown_code == 1
    error = capsys.readouterr().err
    assert "no parsable hits" in error and f"{logs / 'notes.log'}: cannot tell its log format" in error
