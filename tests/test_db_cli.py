"""`visitor-intent db current` and `db upgrade`: where the warehouse's schema is, and bringing it up to date."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.migrations import head_revision
from pipelines.cli import main
from pipelines.resources import DATABASE_URL_ENV_VAR

HEAD = head_revision()


def test_db_upgrade_brings_a_new_warehouse_to_this_release_and_says_so(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV_VAR, database_url)  # the shipped settings, the test's database
    settings = Path(__file__).resolve().parents[1] / "config" / "settings.yaml"
    lines: list[str] = []

    def db(action: str) -> None:
        assert main(["--settings", str(settings), "db", action], out=lines.append) == 0

    db("current")
    db("upgrade")
    db("current")
    db("upgrade")

    assert lines == [
        f"no schema; this release's is {HEAD}: run `visitor-intent db upgrade`",
        f"warehouse upgraded from no schema to {HEAD}",
        f"{HEAD} (this release's schema)",
        f"warehouse already at {HEAD}",
    ]
    engine = sa.create_engine(database_url)
    assert "clean_hits" in sa.inspect(engine).get_table_names()
    engine.dispose()
