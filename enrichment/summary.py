"""Window-level figures for the summary report: how much traffic became companies and accounts."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class WindowSummary:
    """What the summary page shows besides the account ranking.

    funnel: columns ``step, hits, visits`` with steps in order
        ``hits`` (all parsed), ``clean``, ``resolved`` (any MaxMind record),
        ``company`` (classified company), ``target_account`` (matched to the list).
    identification_by_country: ``country, visits, identified_visits, rate`` (rate in 0..1),
        plus one row with country ``ALL`` first.
    drop_reasons: ``reason, hits`` (from cleaning), most first.
    classifications: ``classification, ips, hits`` (company, isp, mobile, ...).
    prospects: identified companies that are not target accounts:
        ``organization, domain, country, visits, pageviews, top_topics, last_seen``.
    """

    funnel: pd.DataFrame
    identification_by_country: pd.DataFrame
    drop_reasons: pd.DataFrame
    classifications: pd.DataFrame
    prospects: pd.DataFrame
