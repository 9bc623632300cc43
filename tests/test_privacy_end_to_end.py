"""Nothing personal kept: e-mail addresses, phone numbers and tokens in a log reach no store, report or CRM.

One pipeline run with every sink on (report folder, HubSpot, Salesforce, Bitrix24, a
webhook, all local fakes) over demo traffic plus a Northwind visitor whose urls, referrers
and page titles are full of personal data. Then every table and column of the warehouse,
every spooled file, the quarantine, the report folder and every request body the CRMs
received is searched for it. Afterwards `forget` takes Northwind out of all of them.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
import yaml
from dagster import DagsterInstance
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from connectors.config_files import load_target_accounts
from demo.hits import write_sample_hits
from demo.mmdb import build_demo_database
from pipelines.cli import main
from pipelines.definitions import build_definitions
from pipelines.resources import resources_from_file
from tests.crm_fakes.bitrix24_server import FakeBitrix24
from tests.crm_fakes.hubspot_server import FakeHubSpot
from tests.crm_fakes.salesforce_server import FakeSalesforce

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
WINDOW_END = "2026-11-15"
NORTHWIND_IP = "64.124.10.77"  # demo/networks.yaml: Northwind Logistics, Inc.
SITE = "https://www.acme-routes.example"

EMAIL = "jane.doe@example.com"
PHONE = "+49 30 9876 5432"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.c2lnbmF0dXJlX29mX2phbmU"
HEX_TOKEN = "3f2a9c1e8b7d4f6a9c1e8b7d4f6a9c1e"
# Each as written, and as it looks percent-encoded or with its separators dropped.
NEEDLES = (
    "jane.doe",
    "jane%2Edoe",
    "9876 5432",
    "9876%205432",
    "9876+5432",
    "98765432",
    JWT[:20],
    JWT.split(".")[1],
    HEX_TOKEN,
)


def personal_lines() -> list[str]:
    """A Northwind visit with personal data everywhere a log line can carry it, and a broken line."""
    agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"

    def line(minute: int, target: str, referrer: str = "-") -> str:
        return f'{NORTHWIND_IP} - - [10/Nov/2026:03:{minute:02d}:00 +0000] "GET {target} HTTP/1.1" 200 512 "{referrer}" "{agent}"'

    landing = (
        f"/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=privacy-check"
        f"&email={quote(EMAIL)}&phone={quote(PHONE)}&token={JWT}"
    )
    inbox = f"https://mail.example.net/inbox?user={EMAIL}&sid={HEX_TOKEN}#access_token={JWT}"
    title = f"Welcome back {EMAIL}, call {PHONE}"
    pixel = "/matomo.php?" + "&".join(
        [
            "idsite=1",
            "rec=1",
            f"action_name={quote(title)}",
            f"url={quote(SITE + '/request-demo?contact=' + EMAIL + '&utm_campaign=privacy-check')}",
            f"urlref={quote(SITE + '/customers/' + EMAIL + '/profile')}",
        ]
    )
    return [
        line(17, landing, inbox),
        line(18, f"/customers/{EMAIL}/profile", SITE + landing),
        line(19, f"/call/{PHONE.replace(' ', '-')}", SITE + f"/customers/{EMAIL}/profile"),
        line(20, f"/reset/{HEX_TOKEN}?next=/pricing", inbox),
        line(21, pixel),
        f"{NORTHWIND_IP} garbled [10/Nov/2026:03:22:00 +0000] GET /x?email={EMAIL}&token={JWT} {EMAIL} {PHONE}",
    ]


class WebhookReceiver:
    """Accepts every document and keeps each request body."""

    def __init__(self, server: HTTPServer) -> None:
        self.url = server.url_for("/intent")
        self.bodies: list[bytes] = []
        server.expect_request("/intent").respond_with_handler(self._handle)

    def _handle(self, request: Request) -> Response:
        self.bodies.append(request.get_data())
        return Response("{}", status=200, content_type="application/json")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The daily, report and CRM jobs over a 14-day window with every sink on."""
    workspace = tmp_path_factory.mktemp("privacy-end-to-end")
    started = [HTTPServer() for _ in range(4)]
    for server in started:
        server.start()
    hubspot_server, salesforce_server, bitrix_server, webhook_server = started
    hubspot = FakeHubSpot(hubspot_server, token="pat-na1-privacy")
    salesforce = FakeSalesforce(salesforce_server, client_id="3MVG9privacy", client_secret="sf-secret")
    bitrix = FakeBitrix24(bitrix_server, user_id="1", secret="privacy", clock=time.monotonic, burst=10_000)
    webhook = WebhookReceiver(webhook_server)
    companies = {}
    for account in load_target_accounts(CONFIG_DIR / "target_accounts.csv"):
        domain = account.domains[0]
        companies[account.account_id] = (
            hubspot.add_company(account.name, domain),
            salesforce.add_account(account.name, domain=domain),
            bitrix.add_company(account.name, domain),
        )

    hits = write_sample_hits(workspace / "hits" / "access.log", start=dt.date(2026, 11, 2), days=14)
    with hits.open("a", encoding="utf-8") as log:
        log.write("\n".join(personal_lines()) + "\n")
    build_demo_database(workspace / "maxmind")
    settings_file = workspace / "settings.yaml"
    settings_file.write_text(
        yaml.safe_dump(
            {
                "partitions_start": "2026-11-01",
                "sources": [{"paths": [str(hits)]}],
                "maxmind": {"directory": str(workspace / "maxmind")},
                "taxonomy": str(CONFIG_DIR / "taxonomy.yaml"),
                "target_accounts": str(CONFIG_DIR / "target_accounts.csv"),
                "spool_directory": str(workspace / "spool"),
                "report": {"directory": str(workspace / "reports")},
                "privacy": {"allow_demo_salt": True},
                "crm": {
                    "hubspot": {"enabled": True},
                    "salesforce": {"enabled": True, "instance_url": salesforce.url},
                    "bitrix24": {"enabled": True},
                    "webhook": {"enabled": True, "url": webhook.url},
                },
            }
        )
    )
    environment = {
        "VISITOR_INTENT_DATABASE_URL": f"sqlite:///{workspace / 'warehouse.db'}",
        "HUBSPOT_ACCESS_TOKEN": "pat-na1-privacy",
        "HUBSPOT_API_BASE": hubspot.url,
        "SALESFORCE_CLIENT_ID": "3MVG9privacy",
        "SALESFORCE_CLIENT_SECRET": "sf-secret",
        "BITRIX24_WEBHOOK_URL": bitrix.webhook_url,
        "VISITOR_INTENT_WEBHOOK_SECRET": "webhook-secret",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        patch.delenv("DAGSTER_HOME", raising=False)
        defs = build_definitions(resources_from_file(settings_file))
        instance = DagsterInstance.ephemeral()
        for day in range(2, 16):
            defs.resolve_job_def("daily_hits_job").execute_in_process(
                partition_key=f"2026-11-{day:02d}", instance=instance
            )
        defs.resolve_job_def("report_window_job").execute_in_process(partition_key=WINDOW_END, instance=instance)
        defs.resolve_job_def("crm_delivery_job").execute_in_process(partition_key=WINDOW_END, instance=instance)
        yield {
            "workspace": workspace,
            "settings": settings_file,
            "engine": sa.create_engine(environment["VISITOR_INTENT_DATABASE_URL"]),
            "hubspot": hubspot,
            "salesforce": salesforce,
            "bitrix": bitrix,
            "webhook": webhook,
            "northwind": companies["ACME-001"],
        }
    for server in started:
        server.stop()


def found(text: str) -> list[str]:
    return [needle for needle in NEEDLES if needle.casefold() in text.casefold()]


def warehouse_text(engine: sa.Engine) -> dict[str, str]:
    """Every table's every row and column, as text."""
    with engine.connect() as connection:
        return {
            table: "\n".join(repr(tuple(row)) for row in connection.exec_driver_sql(f'SELECT * FROM "{table}"'))
            for table in sa.inspect(connection).get_table_names()
        }


def crm_bodies(run: dict) -> dict[str, str]:
    def as_text(requests, *fields: str) -> str:
        return "\n".join(json.dumps([getattr(r, field) for field in fields], default=str) for r in requests)

    return {
        "hubspot": as_text(run["hubspot"].requests, "path", "json"),
        "salesforce": as_text(run["salesforce"].requests, "path", "soql", "json", "form", "args"),
        "bitrix24": as_text(run["bitrix"].requests, "path", "json"),
        "webhook": "\n".join(body.decode() for body in run["webhook"].bodies),
    }


def test_no_email_phone_or_token_is_stored_reported_or_sent_anywhere(run: dict) -> None:
    workspace = run["workspace"]
    tables = warehouse_text(run["engine"])
    spooled = {
        str(path): (pq.read_table(path).to_pandas().to_csv() if path.suffix == ".parquet" else path.read_text())
        for path in (workspace / "spool").rglob("*")
        if path.is_file()
    }
    reports = {
        str(path): path.read_text(encoding="utf-8-sig") for path in (workspace / "reports").rglob("*") if path.is_file()
    }
    bodies = crm_bodies(run)

    # The visit and the broken line did get in, scrubbed.
    assert "/customers/[email]/profile" in tables["clean_hits"] and "/reset/[token]" in tables["clean_hits"]
    assert "Welcome back [email], call [phone]" in tables["clean_hits"]
    assert "[email]" in tables["quarantined_lines"]
    assert all(bodies.values()) and reports and spooled
    for where, text in {**tables, **spooled, **reports, **bodies}.items():
        assert found(text) == [], where


def test_allowed_campaign_parameters_still_reach_the_content_report_and_removed_names_are_counted(run: dict) -> None:
    [index] = (run["workspace"] / "reports").glob("*/index.html")
    removed = warehouse_text(run["engine"])["removed_query_parameters"]

    assert "privacy-check" in index.read_text(encoding="utf-8")
    assert "newsletter" in index.read_text(encoding="utf-8")
    for name in ("'email'", "'phone'", "'token'", "'user'", "'sid'", "'contact'", "'next'"):
        assert name in removed, name


def test_forget_takes_the_organization_out_of_the_warehouse_reports_and_every_crm(run: dict) -> None:
    hubspot_company, salesforce_account, bitrix_company = run["northwind"]
    reports = run["workspace"] / "reports"
    [window] = [folder for folder in reports.iterdir() if folder.is_dir()]
    assert (window / "accounts" / "ACME-001.html").exists()
    assert run["hubspot"].notes_of(hubspot_company) and run["salesforce"].tasks_of(salesforce_account)
    assert run["bitrix"].comments_of(bitrix_company)
    lines: list[str] = []

    code = main(
        ["--settings", str(run["settings"]), "forget", "--organization", "Northwind Logistics, Inc."], out=lines.append
    )

    assert code == 0, lines
    assert not (window / "accounts" / "ACME-001.html").exists()
    for csv in ("accounts.csv", "digital_path.csv"):
        assert "ACME-001" not in (window / csv).read_text(encoding="utf-8-sig"), csv
    assert "ACME-001.html" not in (window / "index.html").read_text(encoding="utf-8")
    assert run["hubspot"].notes_of(hubspot_company) == []
    assert run["salesforce"].tasks_of(salesforce_account) == []
    assert run["bitrix"].comments_of(bitrix_company) == []
    assert any(b'"ACME-001"' in body and b"forget" in body for body in run["webhook"].bodies)
    assert NORTHWIND_IP not in "\n".join(warehouse_text(run["engine"]).values())
    assert [line.split(":")[0].strip() for line in lines if line.startswith("  ") and "accounts," in line] == [
        "hubspot",
        "salesforce",
        "bitrix24",
        "webhook",
    ]
