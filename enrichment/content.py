"""Content performance for marketers: which pages, topics, referring sites and campaigns reach target accounts.

Only hits of target accounts count, and only pages that signal intent: a careers page
read by someone at a target account is a job seeker, not the audience content is made for.
``accounts_advanced`` counts the accounts that read the content in the window and moved to
a later funnel stage than in the previous window.

A visit is credited to the referring site and campaign of its first page, as analytics
tools do: inside a visit, the referrer is merely our own previous page.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pandas as pd

from enrichment.activity import topic_rows

UTM_PARAMETERS = ["utm_source", "utm_medium", "utm_campaign"]
NOT_SET = "(not set)"  # what analytics tools show for a missing campaign parameter
REACH_COLUMNS = ["accounts_reached", "pageviews", "accounts_advanced"]


@dataclass(frozen=True)
class ContentPerformance:
    """Each table is sorted by ``accounts_reached``, most first.

    pages: ``path, topics, stage, accounts_reached, pageviews, accounts_advanced``
    topics: ``topic, accounts_reached, pageviews, accounts_advanced``
    referrers: ``referrer_host, accounts_reached, pageviews`` (other sites only, ``www.`` dropped)
    campaigns: ``utm_source, utm_medium, utm_campaign, accounts_reached, pageviews, accounts_advanced``
    """

    pages: pd.DataFrame
    topics: pd.DataFrame
    referrers: pd.DataFrame
    campaigns: pd.DataFrame


def content_performance(window_hits: pd.DataFrame, movements: pd.DataFrame) -> ContentPerformance:
    """Reach of the window's content among target accounts.

    ``window_hits`` are the window's attributed hits (``visit_id``, ``url``, ``referrer`` and
    ``host`` among their columns); ``movements`` the frame of ``enrichment.intent.movements``
    for the same window.
    """
    target_hits = window_hits[window_hits["account_id"].notna()].reset_index(drop=True)
    hits = target_hits.join(_visit_sources(target_hits), on="visit_id")
    hits = hits[~hits["excluded_from_intent"]]
    advanced = movements.loc[movements["movement"] == "stage_advanced", "account_id"]
    hits = hits.assign(advanced_account=hits["account_id"].where(hits["account_id"].isin(advanced)))
    from_campaign = hits[UTM_PARAMETERS].notna().any(axis="columns")
    campaign_hits = hits[from_campaign].fillna(dict.fromkeys(UTM_PARAMETERS, NOT_SET))
    return ContentPerformance(
        pages=_reach(hits, ["path"], topics=("topics", "first"), stage=("stage", "first")),
        topics=_reach(topic_rows(hits, "account_id").join(hits["advanced_account"]), ["topic"]),
        referrers=_reach(hits[hits["referrer_host"].notna()], ["referrer_host"]).drop(columns="accounts_advanced"),
        campaigns=_reach(campaign_hits, UTM_PARAMETERS),
    )


def _reach(hits: pd.DataFrame, keys: list[str], **descriptions: tuple[str, str]) -> pd.DataFrame:
    """``keys, *descriptions, REACH_COLUMNS`` per distinct ``keys``, most accounts reached first."""
    reach = hits.groupby(keys, as_index=False).agg(
        **descriptions,
        accounts_reached=("account_id", "nunique"),
        pageviews=("account_id", "size"),
        accounts_advanced=("advanced_account", "nunique"),
    )
    return reach.sort_values(
        ["accounts_reached", "pageviews", *keys], ascending=[False, False, *[True] * len(keys)], ignore_index=True
    )


def _visit_sources(hits: pd.DataFrame) -> pd.DataFrame:
    """``referrer_host`` and the UTM parameters of each visit's first page, indexed by ``visit_id``."""
    landings = hits.sort_values("timestamp", kind="stable").drop_duplicates("visit_id").set_index("visit_id")
    sources = _utm_parameters(landings["url"])
    referrer_host = _referrer_hosts(landings["referrer"])
    # A visit that resumes after a pause starts on our own page: that is not a referring site.
    own_host = landings["host"].astype("str").str.lower().str.removeprefix("www.")
    sources["referrer_host"] = referrer_host.where(referrer_host != own_host)
    return sources


def _utm_parameters(urls: pd.Series) -> pd.DataFrame:
    """``UTM_PARAMETERS`` of each URL's query string (missing where absent), parsing each distinct URL once."""
    distinct = urls.dropna().unique()
    parsed = pd.DataFrame([_utm_values(url) for url in distinct], index=distinct, columns=UTM_PARAMETERS, dtype="str")
    return parsed.reindex(urls.to_numpy()).set_axis(urls.index)


def _utm_values(url: str) -> list[str | None]:
    query = parse_qs(urlsplit(url).query)
    return [query.get(name, [None])[0] for name in UTM_PARAMETERS]


def _referrer_hosts(referrers: pd.Series) -> pd.Series:
    """The site of each referrer URL, lowercased and without ``www.``, parsing each distinct URL once."""
    distinct = referrers.dropna().unique()
    hosts = pd.Series([_site(referrer) for referrer in distinct], index=distinct, dtype="str")
    return referrers.map(hosts)


def _site(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:  # e.g. an unclosed "[" of an IPv6 host
        return None
    # www.google.com and google.com are one site to a marketer.
    return host.removeprefix("www.") if host else None
