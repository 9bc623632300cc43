"""One-off runs materialise only the days and windows that have hits, and keep nothing of a finished run."""

from __future__ import annotations

import datetime as dt
import gc
from pathlib import Path

import pandas as pd
import yaml

from demo.hits import write_sample_hits
from demo.mmdb import build_demo_database
from enrichment.settings import load_settings
from pipelines.definitions import build_definitions
from pipelines.resources import resources_from_settings
from pipelines.runner import Span, run_span

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"

D = dt.date


def test_windows_step_back_from_the_last_day_and_skip_empty_ones() -> None:
    span = Span(frozenset({D(2013, 2, 5), D(2013, 10, 27), D(2013, 10, 28)}))

    ends = span.window_ends(14)

    assert ends[-1] == D(2013, 10, 28)
    assert len(ends) == 2  # the October window and the one holding 5 February
    start = ends[0] - dt.timedelta(days=13)
    assert start <= D(2013, 2, 5) <= ends[0]


def test_back_to_back_windows_cover_a_busy_span() -> None:
    days = frozenset(D(2026, 10, 5) + dt.timedelta(days=n) for n in range(42))
    assert Span(days).window_ends(14) == [D(2026, 10, 18), D(2026, 11, 1), D(2026, 11, 15)]


def test_a_run_leaves_none_of_its_frames_in_memory(tmp_path, monkeypatch) -> None:
    """Each day must fit in memory on its own: nothing of a finished run may stay alive."""
    log = write_sample_hits(tmp_path / "hits" / "access.log", start=D(2026, 11, 2), days=2)
    build_demo_database(tmp_path / "maxmind")
    (tmp_path / "settings.yaml").write_text(
        yaml.safe_dump(
            {
                "partitions_start": "2026-11-01",
                "sources": [{"paths": ["hits/*.log"]}],
                "maxmind": {"directory": "maxmind"},
                "taxonomy": str(CONFIG_DIR / "taxonomy.yaml"),
                "target_accounts": str(CONFIG_DIR / "target_accounts.csv"),
                "warehouse_file": "warehouse.db",
                "spool_directory": "spool",
                "report": {"directory": "reports"},
                "privacy": {"allow_demo_salt": True},
            }
        )
    )
    monkeypatch.delenv("VISITOR_INTENT_DATABASE_URL", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings = load_settings(tmp_path / "settings.yaml")
    resources = resources_from_settings(settings)
    span = Span(resources["hit_sources"].days())

    assert run_span(build_definitions(settings, resources), span, window_days=14)

    gc.collect()
    left = [
        frame
        for frame in gc.get_objects()
        if isinstance(frame, pd.DataFrame)
        and "source_file" in frame.columns
        and (frame["source_file"] == str(log)).any()
    ]
    assert left == []
