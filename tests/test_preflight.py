"""A user's mistake ends `visitor-intent run` with one line naming the file or variable, exit 2, nothing written.

Issue 11, case 4: errors raised inside Dagster printed 65-240 lines of traceback with exit
code 1, and the accounts file was validated only after three tables had been written.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance, DagsterRunStatus

from demo.hits import write_sample_hits
from demo.mmdb import build_demo_database
from pipelines import preflight as preflight_module
from pipelines.cli import main

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_sample_hits(tmp_path / "access.log", start=dt.date(2026, 11, 2), days=2)
    build_demo_database(tmp_path / "maxmind")
    _settings(tmp_path)
    monkeypatch.delenv("VISITOR_INTENT_DATABASE_URL", raising=False)
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    monkeypatch.setenv("VISITOR_INTENT_VISITOR_SALT", "preflight-test-salt-0123456789abcdef")  # no demo-salt warning
    return tmp_path


def _settings(folder: Path, **extra: object) -> Path:
    path = folder / "settings.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "partitions_start": "2026-11-01",
                "sources": [{"paths": ["unused/*.log"]}],
                "maxmind": {"directory": "maxmind"},
                "taxonomy": str(CONFIG_DIR / "taxonomy.yaml"),
                "target_accounts": str(CONFIG_DIR / "target_accounts.csv"),
                "warehouse_file": "warehouse.db",
                "spool_directory": "spool",
                "report": {"directory": "reports"},
                "privacy": {"allow_demo_salt": True},
                **extra,
            }
        )
    )
    return path


def _run(workspace: Path, *options: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    argv = ["--settings", str(workspace / "settings.yaml"), "run", "--hits", str(workspace / "access.log"), *options]
    code = main(argv, out=lambda _: None)
    return code, capsys.readouterr().err.strip().splitlines()


def _one_line_error(code: int, lines: list[str], workspace: Path, *named: str) -> None:
    assert code == 2
    [line] = lines
    assert line.startswith("error: ") and "Traceback" not in line
    for name in named:
        assert name in line, line
    assert not (workspace / "warehouse.db").exists()  # checked before the first write


def test_a_wrong_maxmind_folder(workspace: Path, capsys) -> None:
    code, lines = _run(workspace, "--maxmind-dir", str(workspace / "GeoIP"), capsys=capsys)

    _one_line_error(code, lines, workspace, str(workspace / "GeoIP"), "does not exist")


def test_a_corrupt_maxmind_file(workspace: Path, capsys) -> None:
    corrupt = workspace / "corrupt" / "GeoIP2-Enterprise-Demo.mmdb"
    corrupt.parent.mkdir()
    database = (workspace / "maxmind" / "GeoIP2-Enterprise-Demo.mmdb").read_bytes()
    corrupt.write_bytes(database[: len(database) // 2])

    code, lines = _run(workspace, "--maxmind-dir", str(corrupt.parent), capsys=capsys)

    _one_line_error(code, lines, workspace, str(corrupt))


def test_a_maxmind_test_file_that_is_broken(workspace: Path, maxmind_test_dir: Path, capsys) -> None:
    broken = workspace / "broken" / "GeoIP2-City-Test.mmdb"
    broken.parent.mkdir()
    broken.write_bytes((maxmind_test_dir / "GeoIP2-City-Test-Invalid-Node-Count.mmdb").read_bytes())

    code, lines = _run(workspace, "--maxmind-dir", str(broken.parent), capsys=capsys)

    _one_line_error(code, lines, workspace, str(broken))


def test_a_bad_account_list(workspace: Path, capsys) -> None:
    accounts = workspace / "accounts.csv"
    accounts.write_text("account_id,name,domains,aliases,ip_ranges,crm_id,owner\nA-1,Acme,acme.example,,10.0.0/33,,\n")

    code, lines = _run(workspace, "--accounts", str(accounts), capsys=capsys)

    _one_line_error(code, lines, workspace, str(accounts), "ip_ranges")


def test_an_unset_crm_token(workspace: Path, capsys) -> None:
    _settings(workspace, crm={"hubspot": {"enabled": True}})

    code, lines = _run(workspace, capsys=capsys)

    _one_line_error(code, lines, workspace, "HUBSPOT_ACCESS_TOKEN", "export")


@pytest.mark.parametrize(
    ("alerts", "variable"),
    [
        ({"slack": {"enabled": True}}, "VISITOR_INTENT_SLACK_WEBHOOK_URL"),
        (
            {"email": {"enabled": True, "host": "smtp.example.com", "username": "u", "sender": "a@example.com"}},
            "VISITOR_INTENT_SMTP_PASSWORD",
        ),
    ],
)
def test_an_unset_alert_secret(workspace: Path, capsys, monkeypatch, alerts: dict, variable: str) -> None:
    monkeypatch.delenv(variable, raising=False)
    _settings(workspace, alerts=alerts)

    code, lines = _run(workspace, capsys=capsys)

    _one_line_error(code, lines, workspace, variable, "export")


def test_a_missing_log_file(workspace: Path, capsys) -> None:
    missing = workspace / "acess.log"
    code = main(["--settings", str(workspace / "settings.yaml"), "run", "--hits", str(missing)], out=lambda _: None)

    _one_line_error(code, capsys.readouterr().err.strip().splitlines(), workspace, str(missing), "--hits")


def test_a_mistake_found_inside_a_dagster_run_is_one_line_too(
    workspace: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Preflight can't foresee everything (a file edited mid-run): Dagster's wrapping is unwrapped."""
    monkeypatch.setattr(preflight_module, "preflight", lambda *args, **kwargs: None)
    accounts = workspace / "accounts.csv"
    accounts.write_text("account_id,name,domains,aliases,ip_ranges,crm_id,owner\nA-1,Acme,,,,,\nA-1,Acme,,,,,\n")

    code, lines = _run(workspace, "--accounts", str(accounts), capsys=capsys)

    assert code == 2
    [line] = lines
    assert line.startswith("error: ") and str(accounts) in line
    with DagsterInstance.get() as instance:
        [failed] = instance.get_runs(limit=1)
        assert failed.status == DagsterRunStatus.FAILURE


def test_debug_shows_the_trace(workspace: Path, capsys) -> None:
    code, lines = _run(workspace, "--maxmind-dir", str(workspace / "GeoIP"), capsys=capsys)
    assert code == 2 and len(lines) == 1

    argv = ["--debug", "--settings", str(workspace / "settings.yaml"), "run", "--hits", str(workspace / "access.log")]
    code = main([*argv, "--maxmind-dir", str(workspace / "GeoIP")], out=lambda _: None)

    error = capsys.readouterr().err
    assert code == 2 and "Traceback" in error and error.strip().splitlines()[-1].startswith("error: ")
