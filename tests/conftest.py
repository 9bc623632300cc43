"""Shared fixtures: the real MaxMind test databases and log samples in ../shared, and isolation.

They are used in place. On a machine without ../shared the tests that need them skip
with a reason; in CI (CI=true) a missing ../shared is a failure, never a skip.

No test writes into the project: every Dagster run goes to a temporary DAGSTER_HOME and
the default settings file is a temporary copy of config/settings.yaml whose warehouse,
spool, reports and demo data live in a temporary folder (``isolated_project``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = PROJECT_ROOT.parent / "shared"


_ISOLATED_VARIABLES = ("DAGSTER_HOME", "VISITOR_INTENT_SETTINGS")
_saved_environment: dict[str, str | None] = {}


def pytest_configure(config: pytest.Config) -> None:
    """Point DAGSTER_HOME and the default settings file at a temporary project, before any import.

    `make test` exports the project's DAGSTER_HOME for `make ui`: runs of tests would land
    there and show in the user's UI pointing at deleted folders. The copy of
    config/settings.yaml keeps its relative paths, so its warehouse, spool, reports and demo
    data land in the temporary project too (and in the subprocesses tests start).
    """
    root = Path(tempfile.mkdtemp(prefix="visitor-intent-tests-"))
    (root / ".dagster_home").mkdir()
    (root / ".dagster_home" / "dagster.yaml").write_text((PROJECT_ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    settings = yaml.safe_load((PROJECT_ROOT / "config" / "settings.yaml").read_text(encoding="utf-8"))
    for field in ("taxonomy", "target_accounts"):  # the real ones; what is written goes under root
        settings[field] = str(PROJECT_ROOT / "config" / settings[field])
    (root / "config").mkdir()
    (root / "config" / "settings.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    _saved_environment.update({name: os.environ.get(name) for name in _ISOLATED_VARIABLES})
    os.environ["DAGSTER_HOME"] = str(root / ".dagster_home")
    os.environ["VISITOR_INTENT_SETTINGS"] = str(root / "config" / "settings.yaml")


def pytest_unconfigure(config: pytest.Config) -> None:
    root = Path(os.environ["VISITOR_INTENT_SETTINGS"]).parents[1]
    for name, value in _saved_environment.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def isolated_project() -> Path:
    """The temporary folder that stands in for the project (its settings file, Dagster home, data)."""
    return Path(os.environ["VISITOR_INTENT_SETTINGS"]).parents[1]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require(path: Path, what: str) -> Path:
    """Return ``path`` if it exists; else fail in CI and skip elsewhere."""
    if path.exists():
        return path
    message = f"{what} not found at {path}"
    if in_ci():
        pytest.fail(f"{message}; CI must provide ../shared beside the clone")
    pytest.skip(message)


@pytest.fixture(scope="session")
def maxmind_test_dir() -> Path:
    """MaxMind's own test databases (GeoIP2-*-Test.mmdb and their JSON sources)."""
    return require(SHARED_DIR / "maxmind-test-data", "MaxMind test databases")


@pytest.fixture(scope="session")
def sample_hits_dir() -> Path:
    """Real access-log samples in many formats."""
    return require(SHARED_DIR / "sample-hits", "sample hit logs")


@pytest.fixture(scope="session")
def matomo_logs_dir() -> Path:
    """Matomo log importer's own test logs: the public yardstick for log formats."""
    return require(SHARED_DIR / "peer-suites" / "matomo-log-analytics", "Matomo's test logs")


POSTGRES_URL_ENV_VAR = "VISITOR_INTENT_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose connections use a fresh schema, dropped afterwards.

    Outside CI a missing server skips; in CI it fails, since the production path must be tested.
    """
    with postgres_schema() as url:
        yield url


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """``postgres_url`` for any fixture scope: a fresh schema while the block runs."""
    base_url = os.environ.get(POSTGRES_URL_ENV_VAR, DEFAULT_POSTGRES_URL)
    schema = f"vi_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except sa.exc.OperationalError as error:
        message = f"PostgreSQL not reachable at {base_url}: {error.orig}"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    url = sa.engine.make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def dagster_database(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[sa.URL]:
    """A fresh database for Dagster's storage, named to deploy/dagster.yaml through DAGSTER_PG_*.

    Depends on `postgres_url`, which skips (outside CI) or fails (in CI) without a server;
    that URL's own schema is left to the warehouse.
    """
    server = sa.engine.make_url(postgres_url).set(query={})
    name = f"vi_dagster_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    for variable, value in {
        "DAGSTER_PG_HOST": server.host or "127.0.0.1",
        "DAGSTER_PG_PORT": str(server.port or 5432),
        "DAGSTER_PG_DB": name,
        "DAGSTER_PG_USERNAME": server.username or "postgres",
        "DAGSTER_PG_PASSWORD": server.password or "",
    }.items():
        monkeypatch.setenv(variable, value)
    try:
        yield server.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def production_dagster_home(dagster_database: sa.URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A DAGSTER_HOME holding deploy/dagster.yaml, as a deployment sets it up."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each warehouse test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    return request.getfixturevalue("postgres_url")


_SUMMARIES = pytest.StashKey[list[tuple[str, str]]]()


@pytest.fixture
def terminal_summary(request: pytest.FixtureRequest):
    """``add(title, text)``: text a test wants shown at the end of the run, without ``-s``."""

    def add(title: str, text: str) -> None:
        request.config.stash.setdefault(_SUMMARIES, []).append((title, text))

    return add


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    for title, text in config.stash.get(_SUMMARIES, []):
        terminalreporter.write_sep("-", title)
        terminalreporter.write_line(text)
