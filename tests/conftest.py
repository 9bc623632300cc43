"""Shared fixtures: the real MaxMind test databases and log samples in ../shared.

They are used in place. On a machine without ../shared the tests that need them skip
with a reason; in CI (CI=true) a missing ../shared is a failure, never a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = PROJECT_ROOT.parent / "shared"


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
    import sqlalchemy as sa

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
