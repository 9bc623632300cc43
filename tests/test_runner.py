"""One-off runs materialise only the days and windows that have hits."""

from __future__ import annotations

import datetime as dt

from pipelines.runner import Span

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
