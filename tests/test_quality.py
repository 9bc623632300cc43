"""How the checks judge a rate: enough evidence first; by country, one rule for the report and the check."""

from __future__ import annotations

import pandas as pd
import pytest

from enrichment.quality import judge_countries, outside_band, rate_outside

BANDS = {"RU": (0.10, 0.20), "*": (0.30, 0.80)}


def _countries() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "country": ["ALL", "RU", "DE", "NL", "??", "FR"],
            "visits": [1_300, 500, 300, 150, 330, 20],
            "rate": [0.25, 0.15, 0.20, 0.93, 0.0, 0.05],
        }
    )


def test_every_country_is_judged_against_its_band_the_whole_and_the_unknown_never() -> None:
    judged = judge_countries(_countries(), BANDS, min_visits=1).set_index("country")

    assert judged["status"].to_dict() == {
        "ALL": None,
        "RU": "within",
        "DE": "below",
        "NL": "above",
        "??": None,  # 330 visits of unknown country: no country's band applies
        "FR": "below",
    }
    assert (judged.loc["RU", "expected_low"], judged.loc["DE", "expected_high"]) == (0.10, 0.80)


def test_a_country_with_too_few_visits_is_shown_but_not_judged() -> None:
    judged = judge_countries(_countries(), BANDS, min_visits=50)

    assert judged.set_index("country").loc["FR", "status"] == "too_few_visits"
    assert outside_band(judged)["country"].tolist() == ["DE", "NL"]


@pytest.mark.parametrize(
    ("count", "total", "low", "high", "outside"),
    [
        (0, 50, 0.02, 0.8, False),  # a quiet day: 1 company hit expected at 2%, none seen, that's chance
        (0, 1_000, 0.02, 0.8, True),  # 20 expected, none seen: the database is wrong
        (2, 90, 0.0, 0.02, False),  # two bad lines of ninety
        (50, 50, 0.0, 0.02, True),  # a log in a format we misread
        (45, 50, 0.02, 0.8, True),  # 90% company traffic is beyond chance too
        (0, 0, 0.02, 0.8, False),  # an empty day is a normal day
    ],
)
def test_a_rate_is_outside_its_band_only_beyond_chance(count, total, low, high, outside) -> None:
    assert rate_outside(count, total, low, high) is outside
