"""How the data-quality checks judge a rate: enough evidence first, then the band.

A rate over a handful of lines is chance: a day of 50 clean hits with no company visit
says nothing about the MaxMind database, two bad lines in ninety nothing about the log
format. A rate is outside its band only when the lines beyond the limit could not be
chance (``rate_outside``): at least ``MIN_EVIDENCE`` of them.

The identification rate by country follows one rule in the report and in the asset
check that warns about it (``judge_countries``):

- the ``ALL`` row (the whole window) and visits of unknown country (``??``, MaxMind had no
  country) are never judged: no country's band applies to them;
- a country with fewer than ``min_visits`` visits is not judged either: a handful of
  visits says nothing about a rate;
- every other country is judged against its own band, else the ``*`` band.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from enrichment.summary import UNKNOWN_COUNTRY

ALL_COUNTRIES = "ALL"  # the summary's row for the whole window
DEFAULT_BAND = "*"

BELOW, ABOVE, WITHIN, TOO_FEW_VISITS = "below", "above", "within", "too_few_visits"
OUTSIDE = (BELOW, ABOVE)
MIN_EVIDENCE = 5  # lines: fewer beyond a limit are chance, not a signal


def rate_outside(count: int, total: int, low: float = 0.0, high: float = 1.0) -> bool:
    """Whether ``count`` of ``total`` is a rate outside ``low..high`` beyond chance.

    Above ``high``: at least ``MIN_EVIDENCE`` lines counted. Below ``low``: at least
    ``MIN_EVIDENCE`` lines expected at ``low`` (so 0 of 50 is not below 2%, 0 of 1,000 is).
    """
    if not total:
        return False
    rate = count / total
    return (rate > high and count >= MIN_EVIDENCE) or (rate < low and total * low >= MIN_EVIDENCE)


def judge_countries(
    by_country: pd.DataFrame, bands: Mapping[str, tuple[float, float]], min_visits: int = 1
) -> pd.DataFrame:
    """``by_country`` (``country, visits, rate``) with ``expected_low, expected_high`` and ``status``.

    ``status`` is ``below``, ``above``, ``within`` or ``too_few_visits`` where a band applies,
    missing where none does (the ``ALL`` row, unknown country, no band configured).
    """
    expected = [_band(country, bands) for country in by_country["country"]]
    low = pd.Series([band[0] for band in expected], index=by_country.index, dtype="float64")
    high = pd.Series([band[1] for band in expected], index=by_country.index, dtype="float64")
    rate, visits = by_country["rate"], by_country["visits"]
    status = np.select([visits < min_visits, rate < low, rate > high], [TOO_FEW_VISITS, BELOW, ABOVE], WITHIN).astype(
        object
    )
    return by_country.assign(
        expected_low=low,
        expected_high=high,
        status=pd.Series(status, index=by_country.index, dtype=object).where(low.notna(), None),
    )


def outside_band(judged: pd.DataFrame) -> pd.DataFrame:
    """The judged countries whose rate is outside their band: ``country, visits, rate, expected``."""
    outside = judged[judged["status"].isin(OUTSIDE)]
    expected = [f"{low:.0%}–{high:.0%}" for low, high in zip(outside["expected_low"], outside["expected_high"])]
    return outside.assign(expected=expected)[["country", "visits", "rate", "expected"]]


def _band(country: str, bands: Mapping[str, tuple[float, float]]) -> tuple[float | None, float | None]:
    if country in (ALL_COUNTRIES, UNKNOWN_COUNTRY):
        return None, None
    return bands.get(country, bands.get(DEFAULT_BAND, (None, None)))
