"""The `visitor-intent` command as users call it: resolve, inspect-log, run, and validation."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from demo.hits import write_sample_hits
from demo.mmdb import build_demo_database
from pipelines import cli
from pipelines.cli import Progress, main

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _run(*argv: str) -> tuple[int, list[str]]:
    lines: list[str] = []
    return main(list(argv), out=lines.append), lines


def test_resolve_tells_a_company_from_a_home_connection(maxmind_test_dir: Path) -> None:
    code, lines = _run("resolve", "--maxmind-dir", str(maxmind_test_dir), "--json", "89.160.20.112", "74.209.24.1")

    assert code == 0
    company, home = (json.loads(line) for line in lines)
    assert company["ip"] == "89.160.20.112"
    assert company["classification"] == "company" and company["organization"] == "Bevtec"
    assert home["ip"] == "74.209.24.1"
    assert home["classification"] != "company" and home["reason"] == "user_type:residential"
    for result in (company, home):
        assert {"ip", "classification", "organization", "domain", "reason"} <= result.keys()


def test_resolve_shows_the_rule_the_confidence_and_the_rules_version(maxmind_test_dir: Path) -> None:
    code, lines = _run("resolve", "--maxmind-dir", str(maxmind_test_dir), "--json", "1.128.0.1")
    code_text, text = _run("resolve", "--maxmind-dir", str(maxmind_test_dir), "1.128.0.1")

    assert code == code_text == 0
    telstra = json.loads(lines[0])
    assert (telstra["classification"], telstra["reason"]) == ("isp", "org_equals_isp")
    assert telstra["confidence"] == 0.9
    assert telstra["rule"].startswith("rule ") and "asn_category in [access, transit]" in telstra["rule"]
    assert telstra["rules_version"]
    assert "  confidence: 0.90" in text
    assert f"  decided by: {telstra['rule']}" in text
    assert any(line.startswith("  rules: ") and telstra["rules_version"] in line for line in text)


def test_resolve_shows_which_database_said_what(maxmind_test_dir: Path) -> None:
    code, lines = _run("resolve", "--maxmind-dir", str(maxmind_test_dir), "74.209.24.1")

    assert code == 0
    assert lines[0] == "74.209.24.1: isp (user_type:residential)"
    assert "  GeoIP2-Enterprise: user_type=residential" in lines


def test_a_wrong_database_type_is_a_one_line_error(tmp_path: Path, maxmind_test_dir: Path, capsys) -> None:
    (tmp_path / "GeoIP2-ISP-Test.mmdb").write_bytes((maxmind_test_dir / "GeoIP2-City-Test.mmdb").read_bytes())

    code, _ = _run("resolve", "--maxmind-dir", str(tmp_path), "1.2.3.4")

    error = capsys.readouterr().err
    assert code == 2
    assert "GeoIP2-ISP-Test.mmdb" in error and "GeoIP2-ISP" in error and "Traceback" not in error


def test_resolve_refuses_what_is_not_an_ip_in_one_line(maxmind_test_dir: Path, capsys) -> None:
    code, lines = _run("resolve", "--maxmind-dir", str(maxmind_test_dir), "89.160.20.112", "not-an-ip")

    assert code == 2
    assert lines == []  # nothing resolved before the mistake was reported
    assert capsys.readouterr().err.splitlines() == ["error: 'not-an-ip' is not an IPv4 or IPv6 address"]


def test_inspect_log_counts_lines_by_outcome(sample_hits_dir: Path) -> None:
    code, lines = _run("inspect-log", "--json", str(sample_hits_dir / "aws-elb-classic_matomo-elb.log"))

    assert code == 0
    report = json.loads(lines[0])
    assert report["format"] == "aws_elb"
    assert (report["lines"], report["parsed"], report["quarantined"]) == (2, 1, 1)
    assert report["reasons"] == {"no_http_request": 1}


def test_run_on_a_real_log_writes_reports(
    tmp_path: Path, sample_hits_dir: Path, maxmind_test_dir: Path, monkeypatch
) -> None:
    monkeypatch.setenv("VISITOR_INTENT_DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)

    code, lines = _run(
        "run",
        "--hits",
        str(sample_hits_dir / "apache-combined_matomo-tracking-hits.log"),
        "--maxmind-dir",
        str(maxmind_test_dir),
        "--out",
        str(tmp_path / "reports"),
    )

    assert code == 0
    reports = [Path(line.strip()) for line in lines if line.strip().endswith("index.html")]
    assert reports and all(report.is_file() for report in reports)
    assert all(report.is_relative_to(tmp_path / "reports") for report in reports)
    assert list(pd.read_csv(reports[-1].parent / "accounts.csv").columns)[:3] == ["account_id", "name", "visits"]


def test_dagster_loads_the_definitions(tmp_path: Path) -> None:
    environment = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Validation successful" in result.stderr + result.stdout


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_and_nowhere_else() -> None:
    terminal, pipe = _Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = Progress(stream)
        progress("files parsed 1/2")
        progress("days 1/3 done (up to 2026-11-03)")
        progress.clear()

    assert "files parsed 1/2" in terminal.getvalue() and " s" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r\x1b[K")  # the line is cleared for what follows
    assert pipe.getvalue() == ""


def test_a_run_with_the_demo_settings_keeps_its_own_workspace(
    tmp_path: Path, isolated_project: Path, monkeypatch
) -> None:
    """`visitor-intent run` on one's own log never writes into the demo's warehouse, spool or reports."""
    settings = isolated_project / "config" / "settings.yaml"
    monkeypatch.setattr(cli, "DEFAULT_SETTINGS_FILE", settings)  # the bundled, demo settings
    monkeypatch.delenv("VISITOR_INTENT_DATABASE_URL", raising=False)
    log = write_sample_hits(tmp_path / "mine.log", start=dt.date(2026, 11, 2), days=1)
    build_demo_database(isolated_project / ".visitor-intent" / "demo" / "maxmind")
    demo_warehouse = isolated_project / ".visitor-intent" / "warehouse.db"
    demo_warehouse.unlink(missing_ok=True)

    code, lines = _run("run", "--hits", str(log))

    assert code == 0
    workspace = isolated_project / ".visitor-intent" / "run"
    assert f"warehouse {workspace / 'warehouse.db'}" in lines[0]
    assert (workspace / "warehouse.db").is_file() and not demo_warehouse.exists()
    assert any(line.strip().startswith(str(workspace / "reports")) for line in lines)
