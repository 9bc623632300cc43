"""CRM delivery as Dagster runs it: one note per account and window, no secret in the event log, an honest check."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from dagster import AssetCheckSeverity, DagsterInstance
from pytest_httpserver import HTTPServer

from demo.hits import write_sample_hits
from demo.mmdb import build_demo_database
from pipelines.assets.delivery import no_failed_accounts
from pipelines.definitions import build_definitions
from pipelines.resources import resources_from_file
from tests.crm_fakes.hubspot_server import FakeHubSpot

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
WINDOW_END = "2026-11-15"


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    server = HTTPServer()
    server.start()
    yield FakeHubSpot(server, token=TOKEN)
    server.stop()


def test_a_window_delivered_twice_leaves_one_note_per_company(
    tmp_path: Path, hubspot: FakeHubSpot, monkeypatch
) -> None:
    northwind = hubspot.add_company("Northwind Logistics", "northwind-logistics.com")
    contoso = hubspot.add_company("Contoso", "contoso.com")
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("HUBSPOT_API_BASE", hubspot.url)
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
                "crm": {"hubspot": {"enabled": True}},
            }
        )
    )
    defs = build_definitions(resources_from_file(tmp_path / "settings.yaml"))
    instance = DagsterInstance.ephemeral()

    for day in range(2, 16):
        defs.resolve_job_def("daily_hits_job").execute_in_process(partition_key=f"2026-11-{day:02d}", instance=instance)
    defs.resolve_job_def("report_window_job").execute_in_process(partition_key=WINDOW_END, instance=instance)
    crm_job = defs.resolve_job_def("crm_delivery_job")
    first = crm_job.execute_in_process(partition_key=WINDOW_END, instance=instance)
    second = crm_job.execute_in_process(partition_key=WINDOW_END, instance=instance)

    assert len(hubspot.notes_of(northwind)) == 1 and len(hubspot.notes_of(contoso)) == 1
    assert float(hubspot.companies[northwind]["vi_intent_score"]) > 50
    delivered = first.asset_materializations_for_node("crm_delivery")[0].metadata
    again = second.asset_materializations_for_node("crm_delivery")[0].metadata
    assert delivered["delivered"].value == 2 and delivered["not_found"].value >= 1  # accounts with no HubSpot company
    assert again["delivered"].value == 0 and again["unchanged"].value == 2
    checks = first.get_asset_check_evaluations()
    assert [(c.check_name, c.passed) for c in checks] == [("no_failed_accounts", True)]
    event_log = "\n".join(str(record) for record in instance.all_logs(first.run_id) + instance.all_logs(second.run_id))
    assert TOKEN not in event_log


@pytest.mark.parametrize(
    ("totals", "passed", "severity"),
    [
        (Counter(delivered=3, unchanged=2), True, None),
        (Counter(delivered=2, in_flight=1), False, AssetCheckSeverity.WARN),
        (Counter(delivered=2, failed=1, in_flight=1), False, AssetCheckSeverity.ERROR),
    ],
)
def test_accounts_left_in_flight_make_the_check_warn_and_failed_ones_fail_it(totals, passed, severity) -> None:
    check = no_failed_accounts(totals)

    assert check.passed is passed
    assert severity is None or check.severity is severity
    assert check.metadata["in_flight"].value == totals["in_flight"]
