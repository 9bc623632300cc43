"""Attribution: each clean hit gets its company, account, page tags, visitor and visit.

The lookups arrive one row per distinct value (IP, URL), so joining them onto the hits
is cheap; hashing is done once per distinct IP + browser, not per hit.
"""

from __future__ import annotations

import pandas as pd

from enrichment import privacy

VISIT_GAP = pd.Timedelta(minutes=30)

_COMPANY_COLUMNS = ["ip", "network", "organization", "domain", "country", "classification"]
_MATCH_COLUMNS = ["ip", "account_id", "matched_by"]
_TAG_COLUMNS = ["url", "path", "topics", "stage", "content_type", "excluded_from_intent"]


def attribute_hits(
    clean_hits: pd.DataFrame,
    ip_companies: pd.DataFrame,
    account_matches: pd.DataFrame,
    page_tags: pd.DataFrame,
    *,
    visitor_salt: str,
) -> pd.DataFrame:
    """Clean hits with their company, account and page tags, plus ``visitor_key`` and ``visit_id``.

    ``visitor_salt`` is the secret that keys visitor hashes (``privacy.visitor_salt``).
    ``network`` (null when MaxMind had no record) and ``path`` (the URL without its query)
    come along because the summary counts resolved hits and reports rank pages by path.
    """
    per_ip = ip_companies[_COMPANY_COLUMNS].merge(account_matches[_MATCH_COLUMNS], on="ip", how="left")
    hits = pd.concat(
        [
            clean_hits.reset_index(drop=True),
            _look_up(clean_hits["ip"], per_ip, on="ip"),
            _look_up(clean_hits["url"], page_tags[_TAG_COLUMNS], on="url"),
        ],
        axis=1,
    )
    # Every IP and URL of the day should have a row; these defaults keep a gap harmless.
    hits["classification"] = hits["classification"].fillna("unknown")
    hits["topics"] = hits["topics"].fillna("")
    hits["excluded_from_intent"] = hits["excluded_from_intent"].fillna(False).astype(bool)
    hits["visitor_key"] = visitor_keys(hits, visitor_salt)
    hits["visit_id"] = visit_ids(hits["visitor_key"], hits["timestamp"])
    return hits


def visitor_keys(hits: pd.DataFrame, salt: str) -> pd.Series:
    """The analytics ``visitor_id`` where the hit has one, else a keyed hash of IP and user agent.

    The hash only counts distinct visitors within a report window; keyed with the secret
    ``salt``, it cannot be reversed by hashing every address with the common browsers.
    """
    keys = hits["visitor_id"].astype("str")
    missing = keys.isna()
    keys[missing] = privacy.visitor_keys(hits.loc[missing], salt)
    return keys


def visit_ids(visitor_keys: pd.Series, timestamps: pd.Series) -> pd.Series:
    """Per visitor, a new visit after more than 30 minutes without a hit.

    A visit's id is its visitor key and start time, so ids stay unique when the daily
    frames of a report window are put together. Visits are cut per frame: one that runs
    past midnight UTC counts once in each daily partition.
    """
    # Sorting by a number per visitor is much faster than sorting by the key's text.
    ordered = pd.DataFrame({"visitor": pd.factorize(visitor_keys)[0], "timestamp": timestamps}).sort_values(
        ["visitor", "timestamp"]
    )
    new_visitor = ordered["visitor"].diff().ne(0)
    long_pause = ordered["timestamp"].diff().gt(VISIT_GAP)
    starts_visit = new_visitor | long_pause
    first_hits = ordered.index[starts_visit]
    start_times = timestamps[first_hits].dt.tz_convert(None).astype("datetime64[s]").astype("str")  # UTC
    labels = visitor_keys[first_hits] + "@" + start_times
    visit_numbers = starts_visit.cumsum().to_numpy() - 1
    return pd.Series(labels.to_numpy()[visit_numbers], index=ordered.index, dtype="str").reindex(visitor_keys.index)


def _look_up(keys: pd.Series, table: pd.DataFrame, on: str) -> pd.DataFrame:
    """The row of ``table`` (one per ``on`` value) for each key, null where it has none.

    Hashing millions of key texts is what a join costs, so each key is hashed once
    (factorize) and the join itself runs on the distinct keys.
    """
    codes, distinct = pd.factorize(keys, use_na_sentinel=False)
    rows = pd.DataFrame({on: distinct}).merge(table, on=on, how="left", validate="one_to_one")
    return rows.drop(columns=on).take(codes).reset_index(drop=True)
