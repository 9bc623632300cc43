"""Owner alerts as Dagster runs them: the demo window with Slack and email configured, then a rerun."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance
from pytest_httpserver import HTTPServer

from demo.hits import write_sample_hits
from demo.mmdb import build_demo_database
from pipelines.definitions import build_definitions
from pipelines.resources import resources_from_file
from tests.alert_fakes.slack_server import WEBHOOK_PATH, FakeSlackWebhook
from tests.alert_fakes.smtp_server import Inbox, start_smtp_server

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
WINDOW_END = "2026-11-15"
PASSWORD = "smtp-secret-5d1f0c"


@pytest.fixture
def slack() -> Iterator[FakeSlackWebhook]:
    server = HTTPServer()
    server.start()
    yield FakeSlackWebhook(server)
    server.stop()


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    inbox = Inbox(login=("alerts@example.com", PASSWORD))
    controller = start_smtp_server(inbox)
    yield inbox
    controller.stop()


def test_owners_get_the_alerts_their_accounts_earned_once(
    tmp_path: Path, slack: FakeSlackWebhook, inbox: Inbox, monkeypatch
) -> None:
    monkeypatch.setenv("VISITOR_INTENT_SLACK_WEBHOOK_URL", slack.url)
    monkeypatch.setenv("VISITOR_INTENT_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("VISITOR_INTENT_DATABASE_URL", f"sqlite:///{tmp_path / 'warehouse.db'}")
    hits = write_sample_hits(tmp_path / "hits" / "access.log", start=dt.date(2026, 11, 2), days=14)
    build_demo_database(tmp_path / "maxmind")
    (tmp_path / "settings.yaml").write_text(
        yaml.safe_dump(
            {
                "partitions_start": "2026-11-01",
                "sources": [{"paths": [str(hits)]}],
                "maxmind": {"directory": str(tmp_path / "maxmind")},
                "taxonomy": str(CONFIG_DIR / "taxonomy.yaml"),
                "target_accounts": str(CONFIG_DIR / "target_accounts.csv"),
                "report": {"directory": str(tmp_path / "reports")},
                "privacy": {"allow_demo_salt": True},
                "alerts": {
                    "owners": {"EMEA team": "emea@example.com", "DACH team": ["dach@example.com", "lead@example.com"]},
                    "report_base_url": "https://reports.example.com",
                    "slack": {"enabled": True},
                    "email": {
                        "enabled": True,
                        "host": "127.0.0.1",
                        "port": inbox.port,
                        "security": "none",
                        "username": "alerts@example.com",
                        "sender": "Visitor Intent <alerts@example.com>",
                    },
                },
            }
        )
    )
    defs = build_definitions(resources_from_file(tmp_path / "settings.yaml"))
    instance = DagsterInstance.ephemeral()

    for day in range(2, 16):
        defs.resolve_job_def("daily_hits_job").execute_in_process(partition_key=f"2026-11-{day:02d}", instance=instance)
    report_job = defs.resolve_job_def("report_window_job")
    first = report_job.execute_in_process(partition_key=WINDOW_END, instance=instance)
    second = report_job.execute_in_process(partition_key=WINDOW_END, instance=instance)

    assert sorted(slack.texts()) == [
        "Contoso Manufacturing GmbH became hot, is surging (owner: DACH team)",
        "DACH team: 2 accounts active, 2 with alerts",
        "EMEA team: 1 account active, 1 with alerts",
        "Fabrikam Bank AG is surging (owner: DACH team)",
        "Globex Corporation is surging (owner: US team)",
        "Northwind Logistics Inc. became hot, became marketing-qualified, is surging, reached the decision stage (owner: EMEA team)",
        "RU team: 1 account active, 1 with alerts",
        "UK team: 1 account active, 0 with alerts",
        "US team: 2 accounts active, 1 with alerts",
        "Северсталь-Инфоком became hot, is surging, reached the decision stage (owner: RU team)",
    ]
    # Email goes to the owners with an address: one message each, their alerts and their accounts.
    assert [(mail.recipients, mail.message["Subject"]) for mail in inbox.mail] == [
        (
            ["dach@example.com", "lead@example.com"],
            "Visitor Intent 2026-11-02 – 2026-11-15: 2 alerts, 2 accounts of DACH team",
        ),
        (["emea@example.com"], "Visitor Intent 2026-11-02 – 2026-11-15: 1 alert, 1 account of EMEA team"),
    ]
    emea = inbox.to("emea@example.com")[0]
    assert (
        "Northwind Logistics Inc. became hot, became marketing-qualified, is surging, reached the decision stage"
        in emea.part("plain")
    )
    assert '<a href="https://reports.example.com/2026-11-02_2026-11-15/accounts/ACME-001.html">' in emea.part("html")
    sent = first.asset_materializations_for_node("owner_alerts")[0].metadata
    again = second.asset_materializations_for_node("owner_alerts")[0].metadata
    assert (sent["alerts sent"].value, sent["digests sent"].value, sent["failed"].value) == (18, 7, 0)
    assert sent["owners without an email address"].value == "RU team, UK team, US team"
    assert "| EMEA team | mqa | 1 | 1 |" in sent["sent per owner and reason"].value
    checks = {c.check_name: c.passed for c in first.get_asset_check_evaluations()}
    assert checks["no_failed_alerts"] is True
    assert (again["alerts sent"].value, again["digests sent"].value) == (0, 0)
    assert len(slack.messages) == 10 and len(inbox.mail) == 2  # the rerun sent nothing
    event_log = "\n".join(str(record) for record in instance.all_logs(first.run_id) + instance.all_logs(second.run_id))
    assert WEBHOOK_PATH not in event_log and PASSWORD not in event_log
