"""The production Dagster instance (deploy/dagster.yaml) on PostgreSQL, and the Helm values that mirror it.

The instance is loaded exactly as a deployment loads it (the file copied into a fresh
DAGSTER_HOME, credentials from DAGSTER_PG_* environment variables) against a database
created for the test on the PostgreSQL test server and dropped afterwards. One daily
partition runs through it with the warehouse on PostgreSQL too. Outside CI a missing
server skips these tests; in CI (CI=true) it fails them (the `postgres_url` fixture).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from dagster import AssetKey, DagsterEventType, DagsterInstance, DagsterRunStatus, QueuedRunCoordinator
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from connectors.warehouse import Warehouse
from demo.hits import write_sample_hits
from demo.mmdb import build_demo_database
from pipelines.definitions import build_definitions
from pipelines.resources import DATABASE_URL_ENV_VAR, resources_from_file
from pipelines.runner import CODE_LOCATION_NAME

PROJECT_ROOT = Path(__file__).resolve().parents[1]
INSTANCE_FILE = PROJECT_ROOT / "deploy" / "dagster.yaml"
HELM_VALUES_FILE = PROJECT_ROOT / "deploy" / "helm" / "values.yaml"
CONFIG_DIR = PROJECT_ROOT / "config"

DAILY_ASSETS = {
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
    "removed_query_parameters",
}
FIRST_DAY = dt.date(2025, 6, 2)  # a fixed past Monday: its partitions exist whatever today is
_QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@pytest.fixture
def instance(production_dagster_home: Path) -> Iterator[DagsterInstance]:
    loaded = DagsterInstance.from_config(str(production_dagster_home))
    try:
        yield loaded
    finally:
        loaded.dispose()


@pytest.mark.postgres
def test_runs_event_logs_and_schedules_are_kept_in_postgres(
    instance: DagsterInstance, dagster_database: sa.URL
) -> None:
    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
    for storage in (instance.run_storage, instance.event_log_storage, instance.schedule_storage):
        url = sa.engine.make_url(storage.postgres_url)
        assert url.drivername == "postgresql+psycopg2"  # not SQLAlchemy 2.1's default, psycopg 3
        assert url.database == dagster_database.database


@pytest.mark.postgres
def test_the_run_queue_limits_backfills_and_crm_deliveries(instance: DagsterInstance) -> None:
    assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
    queue = instance.get_concurrency_config().run_queue_config
    assert queue is not None
    assert queue.max_concurrent_runs == 8
    limits = {(limit["key"], str(limit.get("value"))): limit["limit"] for limit in queue.tag_concurrency_limits}
    assert limits == {
        ("dagster/backfill", "None"): 2,
        ("visitor-intent/crm", "None"): 1,
        ("dagster/partition", "{'applyLimitPerUniqueValue': True}"): 1,
    }
    assert queue.max_user_code_failure_retries == 3


@pytest.mark.postgres
def test_failed_runs_are_retried_and_stuck_runs_are_caught(instance: DagsterInstance) -> None:
    assert instance.run_retries_enabled
    assert instance.run_retries_max_retries == 2
    assert instance.run_retries_retry_on_asset_or_op_failure
    assert instance.run_monitoring_enabled
    assert instance.run_monitoring_start_timeout_seconds == 300
    assert instance.run_monitoring_max_runtime_seconds == 6 * 3600
    assert instance.run_monitoring_max_resume_run_attempts == 0  # the default launcher cannot resume
    assert not instance.telemetry_enabled


@pytest.mark.postgres
def test_the_web_server_can_read_the_storage(production_dagster_home: Path) -> None:
    """dagster-webserver tunes the storage's connections first; with psycopg 3 that closed them."""
    web_instance = DagsterInstance.from_config(str(production_dagster_home))
    try:
        web_instance.optimize_for_webserver(statement_timeout=15_000, pool_recycle=3600, max_overflow=20)
        for _ in range(2):  # the second query reuses a pooled connection
            assert web_instance.get_runs() == []
            assert web_instance.all_instigator_state() == []
    finally:
        web_instance.dispose()


@pytest.mark.postgres
def test_a_daily_partition_is_recorded_in_postgres(
    instance: DagsterInstance,
    production_dagster_home: Path,
    dagster_database: sa.URL,
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_sample_hits(tmp_path / "hits" / "access.log", start=FIRST_DAY, days=2)
    build_demo_database(tmp_path / "maxmind")
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(
        f"""
partitions_start: {FIRST_DAY.isoformat()}
sources: [{{paths: ["hits/*.log"]}}]
maxmind: {{directory: maxmind}}
taxonomy: {CONFIG_DIR / "taxonomy.yaml"}
target_accounts: {CONFIG_DIR / "target_accounts.csv"}
cleaning: {{office_networks: [212.0.10.0/28]}}
report: {{directory: reports}}
""",
        encoding="utf-8",
    )
    monkeypatch.setenv(DATABASE_URL_ENV_VAR, postgres_url)  # the warehouse on PostgreSQL, as in production
    monkeypatch.setenv("VISITOR_INTENT_VISITOR_SALT", "production-instance-test-salt-0123456789")
    defs = build_definitions(resources_from_file(settings_file))
    day = (FIRST_DAY + dt.timedelta(days=1)).isoformat()

    result = defs.resolve_job_def("daily_hits_job").execute_in_process(
        partition_key=day, instance=instance, run_config=_QUIET
    )

    assert result.success
    run = instance.get_run_by_id(result.run_id)
    assert run is not None and run.status == DagsterRunStatus.SUCCESS
    assert run.tags["dagster/partition"] == day
    for asset in DAILY_ASSETS:
        event = instance.get_latest_materialization_event(AssetKey(asset))
        assert event is not None, asset
        assert (event.run_id, event.dagster_event.partition) == (result.run_id, day), asset
    checks = {
        event.dagster_event.event_specific_data.check_name
        for event in instance.all_logs(result.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    }
    assert {"parse_error_rate", "identification_rate", "maxmind_database_age"} <= checks

    # Another process (the web server, the daemon) sees the same run through its own instance.
    other = DagsterInstance.from_config(str(production_dagster_home))
    try:
        assert other.get_run_by_id(result.run_id).status == DagsterRunStatus.SUCCESS
        assert other.get_materialized_partitions(AssetKey("ip_companies")) == {day}
    finally:
        other.dispose()

    # And it is in PostgreSQL's tables, not in a file under DAGSTER_HOME.
    engine = sa.create_engine(dagster_database.set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as connection:
            status = connection.execute(
                sa.text("SELECT status FROM runs WHERE run_id = :id"), {"id": result.run_id}
            ).scalar_one()
            materializations = connection.execute(
                sa.text(
                    "SELECT count(*) FROM event_logs WHERE run_id = :id AND dagster_event_type = 'ASSET_MATERIALIZATION'"
                ),
                {"id": result.run_id},
            ).scalar_one()
    finally:
        engine.dispose()
    assert status == "SUCCESS"
    assert materializations == len(DAILY_ASSETS)
    assert not list(production_dagster_home.glob("*.db")) and not (production_dagster_home / "history").exists()
    assert len(Warehouse(postgres_url).read("ip_companies", [day])) > 0


def test_the_instance_file_takes_every_credential_from_the_environment() -> None:
    database = yaml.safe_load(INSTANCE_FILE.read_text(encoding="utf-8"))["storage"]["postgres"]["postgres_db"]
    for field in ("hostname", "port", "db_name", "username", "password"):
        assert set(database[field]) == {"env"}, field


def test_the_helm_values_mirror_the_instance_file() -> None:
    instance = yaml.safe_load(INSTANCE_FILE.read_text(encoding="utf-8"))
    values = yaml.safe_load(HELM_VALUES_FILE.read_text(encoding="utf-8"))
    daemon = values["dagsterDaemon"]
    queue = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]

    assert daemon["enabled"] and daemon["runCoordinator"]["enabled"]
    assert daemon["runCoordinator"]["type"] == "QueuedRunCoordinator"
    assert queue["maxConcurrentRuns"] == instance["concurrency"]["runs"]["max_concurrent_runs"]
    assert queue["tagConcurrencyLimits"] == instance["concurrency"]["runs"]["tag_concurrency_limits"]
    assert daemon["runRetries"] == {"enabled": True, "maxRetries": instance["run_retries"]["max_retries"]}
    monitoring = instance["run_monitoring"]
    assert daemon["runMonitoring"]["enabled"] is monitoring["enabled"] is True
    for helm_key, instance_key in [
        ("startTimeoutSeconds", "start_timeout_seconds"),
        ("cancelTimeoutSeconds", "cancel_timeout_seconds"),
        ("maxRuntimeSeconds", "max_runtime_seconds"),
        ("pollIntervalSeconds", "poll_interval_seconds"),
        # Resuming needs the k8s_job_executor; our jobs run in one process (in_process_executor).
        ("maxResumeRunAttempts", "max_resume_run_attempts"),
    ]:
        assert daemon["runMonitoring"][helm_key] == monitoring[instance_key], helm_key
    assert values["telemetry"] == instance["telemetry"] == {"enabled": False}

    postgresql = values["postgresql"]
    assert postgresql["postgresqlScheme"] == instance["storage"]["postgres"]["postgres_db"]["scheme"]
    assert postgresql["enabled"] is False and "postgresqlPassword" not in postgresql
    assert values["generatePostgresqlPasswordSecret"] is False and values["global"]["postgresqlSecretName"]

    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    user_code = values["dagster-user-deployments"]
    assert user_code["enabled"]
    (deployment,) = user_code["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "pipelines.definitions"]
    assert importlib.util.find_spec("pipelines.definitions") is not None
    assert {"name": "visitor-intent-secrets"} in deployment["envSecrets"]
    assert deployment["env"]["VISITOR_INTENT_SETTINGS"].startswith("/opt/visitor-intent/config/")
    mounts = {mount["name"]: mount for mount in deployment["volumeMounts"]}
    assert set(mounts) == {volume["name"] for volume in deployment["volumes"]}
    # The spool the README's cluster settings name: writable, since uid 10001 can't create it.
    assert mounts["spool"]["mountPath"] == "/data/spool" and not mounts["spool"].get("readOnly")
    assert not mounts["reports"].get("readOnly")


def test_the_code_location_has_one_name_everywhere() -> None:
    values = yaml.safe_load(HELM_VALUES_FILE.read_text(encoding="utf-8"))
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (deployment,) = values["dagster-user-deployments"]["deployments"]

    assert deployment["name"] == pyproject["tool"]["dagster"]["code_location_name"] == CODE_LOCATION_NAME
    assert f"location_name: {CODE_LOCATION_NAME}" in (PROJECT_ROOT / "deploy" / "README.md").read_text(encoding="utf-8")


def test_an_unset_image_tag_stops_the_release(tmp_path: Path) -> None:
    script = PROJECT_ROOT / "deploy" / "release_values.py"
    values = yaml.safe_load(HELM_VALUES_FILE.read_text(encoding="utf-8"))
    assert values["dagster-user-deployments"]["deployments"][0]["image"]["tag"] == "replace-me"

    for tag in ("replace-me", "latest", ""):
        refused = subprocess.run([sys.executable, script, tag], capture_output=True, text=True, check=False)
        assert refused.returncode == 2, tag
        assert refused.stdout == "" and refused.stderr.startswith("error: image tag"), tag

    written = subprocess.run([sys.executable, script, "0a1b2c3"], capture_output=True, text=True, check=True)
    release = yaml.safe_load(written.stdout)
    assert release["dagster-user-deployments"]["deployments"][0]["image"]["tag"] == "0a1b2c3"
    assert {**release, "dagster-user-deployments": None} == {**values, "dagster-user-deployments": None}
