"""The settings file: the shipped one loads, and every mistake names the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import build_resources

from connectors.config_files import DEFAULT_SETTINGS_FILE, load_settings
from connectors.crm.ledger import DeliveryLedger
from enrichment.errors import ConfigError
from pipelines.resources import resources_from_file

MINIMAL = """
partitions_start: 2026-09-01
sources: [{paths: ["logs/*.log"]}]
maxmind: {directory: maxmind}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_settings_load() -> None:
    settings = load_settings(DEFAULT_SETTINGS_FILE)
    assert settings.report.window_days == 14
    assert settings.path(settings.taxonomy) == DEFAULT_SETTINGS_FILE.parent / "taxonomy.yaml"


def test_relative_paths_are_relative_to_the_settings_file(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, MINIMAL))
    assert settings.path("maxmind") == tmp_path / "maxmind"
    assert settings.path("/srv/GeoIP") == Path("/srv/GeoIP")


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ("cleaning: {office_networks: [10.0.0.0/33]}", "cleaning.office_networks", "CIDR"),
        ("report: {window_days: 30}", "report.window_days", "less than or equal to 28"),
        ("report: {every_weeks: 1}", "report.every_weeks", "greater than or equal to 2"),
        ("fuzzy_threshold: 80", "fuzzy_threshold", "Extra inputs are not permitted"),
        ("scoring: {stage_points: {decision: -8}}", "scoring.stage_points.decision", "greater than or equal to 0"),
        ("intent: {warm_score: 120}", "intent.warm_score", "less than or equal to 100"),
        ("intent: {hot_scor: 70}", "intent.hot_scor", "Extra inputs are not permitted"),
        (
            "crm:\n  bitrix24:\n    company_fields: {intent_scor: UF_CRM_SCORE}",
            "crm.bitrix24.company_fields",
            "unknown figure intent_scor",
        ),
    ],
)
def test_a_mistake_names_file_line_and_field(tmp_path: Path, extra: str, field: str, words: str) -> None:
    path = _write(tmp_path, MINIMAL + extra + "\n")
    mistake_line = len((MINIMAL + extra).splitlines())
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    message = str(raised.value)
    assert message.startswith(f"{path}:{mistake_line}: ")
    assert f"`{field}" in message and words in message


def test_maxmind_needs_a_location(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL.replace("maxmind: {directory: maxmind}", "maxmind: {max_age_days: 7}"))
    with pytest.raises(ConfigError, match="maxmind.*exactly one of `geoip_conf`, `directory` or `databases`"):
        load_settings(path)


CRM_SINKS = """
crm:
  hubspot: {enabled: true, report_base_url: "https://reports.example/hubspot/"}
  salesforce:
    enabled: true
    instance_url: https://acme.my.salesforce.com
    report_base_url: "https://reports.example/salesforce/"
    task_status: Not Started
  bitrix24: {enabled: true, report_base_url: "https://reports.example/bitrix24/", dry_run_dir: bitrix24-requests}
  webhook: {enabled: true, url: "https://hooks.example/vi", report_base_url: "https://reports.example/webhook/", timeout_seconds: 5}
"""


def test_every_crm_sink_takes_its_options_from_the_settings_file(tmp_path: Path, monkeypatch) -> None:
    for variable in (
        "HUBSPOT_ACCESS_TOKEN",
        "SALESFORCE_CLIENT_ID",
        "SALESFORCE_CLIENT_SECRET",
        "VISITOR_INTENT_WEBHOOK_SECRET",
    ):
        monkeypatch.setenv(variable, "a-secret-from-the-environment")
    monkeypatch.setenv("BITRIX24_WEBHOOK_URL", "https://acme.bitrix24.example/rest/1/a-secret/")
    resources = resources_from_file(_write(tmp_path, MINIMAL + CRM_SINKS))
    ledger = DeliveryLedger(f"sqlite:///{tmp_path / 'ledger.db'}")

    crms = ("hubspot", "salesforce", "bitrix24", "webhook")

    with build_resources({crm: resources[crm] for crm in crms}) as initialized:  # EnvVar resolved as in a run
        sinks = {crm: getattr(initialized, crm).sink(ledger, {}) for crm in crms}

    assert {crm: sink.report_base_url for crm, sink in sinks.items()} == {
        crm: f"https://reports.example/{crm}/" for crm in sinks
    }
    assert sinks["salesforce"].task_status == "Not Started"
    assert sinks["bitrix24"].location == str(tmp_path / "bitrix24-requests")
    assert sinks["webhook"].client.timeout == 5
