"""`visitor-intent db current` and `db upgrade`: where the warehouse's schema is, and bringing it up to date."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from pipelines.cli import main
from pipelines.resources import DATABASE_URL_ENV_VAR


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
        "no schema; this release's is 0001: run `visitor-intent db upgrade`",
        "warehouse upgraded from no schema to 0001",
        "0001 (this release's schema)",
        "warehouse already at 0001",
    ]
    engine = sa.create_engine(database_url)
    assert "clean_hits" in sa.inspect(engine).get_table_names()
    engine.dispose()
