"""Signals beside the site's own reading: trigger events and third-party intent per account.

Two feeds land as files (``connectors.signals`` reads them):

- **Trigger events**: something happened at the company (hiring, funding, a new permit or
  certificate, a leadership change). Keys ``account_id`` or ``domain``, ``date``, ``type``,
  ``title``, ``source_url``.
- **Company Surge** (Bombora): one row per company domain and topic, with the topic's
  composite score (0..100; 50 is the company's usual reading, 60 and above is surging).
  Bombora's export headers (``Domain``, ``Topic Name``, ``Composite Score``, ``Date``) and
  our own (``domain, topic, composite_score, date``) are both accepted.

Every row is validated; a bad row is quarantined with its file, line and the reason, never
dropped. Rows are matched to accounts by domain with ``enrichment.matching.accounts_by_domain``,
the code that matches hits, so ``WWW.Contoso.com`` and ``news.contoso.com`` are Contoso's.

The signal score (0..100) sums points and saturates like the intent score: each trigger
event in the window earns ``EVENT_POINTS``, each surging topic its composite score above 50.
It is shown apart from the site's intent score; only ``score_weight`` > 0 mixes it in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from enrichment.matching import TargetAccount, accounts_by_domain, registrable_domain

EVENT_FIELDS = ("account_id", "domain", "date", "type", "title", "source_url")
SURGE_FIELDS = ("domain", "topic", "composite_score", "date")
# Bombora's Company Surge export names its columns for people; normalised (lower case, "_" as
# a space) they map onto our fields.
SURGE_HEADERS = {
    "domain": "domain",
    "company domain": "domain",
    "topic": "topic",
    "topic name": "topic",
    "composite score": "composite_score",
    "date": "date",
    "week": "date",
    "week start date": "date",
}
SOURCE_COLUMNS = ["file", "line"]
QUARANTINE_COLUMNS = [*SOURCE_COLUMNS, "reason"]
# One table for both feeds: events fill type/title/source_url, surge rows topic/composite_score.
SIGNAL_COLUMNS = ["account_id", "kind", "date", "type", "title", "source_url", "topic", "composite_score"]
# What the account rows (report, CSV, CRM note) carry.
ACCOUNT_SIGNAL_COLUMNS = ["trigger_events", "surge_topics", "signal_score"]

SURGING_SCORE = 60  # Bombora's threshold: a topic scoring 60 or more is surging
EVENT_POINTS = 25.0
SIGNAL_SATURATION = 50.0  # one event scores 39, two 63; a topic at 90 alone scores 55
SURGE_TOPICS_SHOWN = 3


class SourceRow(NamedTuple):
    """One record of a landed file: where it came from and its fields as written."""

    file: str
    line: int
    fields: Mapping[str, Any]


class Validated(NamedTuple):
    rows: pd.DataFrame  # the valid rows, with their ``file`` and ``line``
    quarantined: pd.DataFrame  # ``QUARANTINE_COLUMNS``


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_missing(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("domain", mode="after", check_fields=False)
    @classmethod
    def _registrable(cls, domain: str | None) -> str | None:
        if domain is None:
            return None
        reduced = registrable_domain(domain)
        if reduced is None:
            raise ValueError(f"{domain!r} is not a domain such as example.com")
        return reduced


class TriggerEvent(_Row):
    """Something that happened at a company, for one account (by id) or company (by domain)."""

    account_id: str | None = None
    domain: str | None = None
    date: dt.date
    type: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1, max_length=300)
    source_url: str | None = None

    @field_validator("type")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()

    @field_validator("source_url")
    @classmethod
    def _web_link(cls, url: str | None) -> str | None:
        # Shown as a link: only web addresses, never javascript: or file: ones.
        if url is not None and not url.lower().startswith(("https://", "http://")):
            raise ValueError(f"{url!r} is not an http(s) URL")
        return url

    @model_validator(mode="after")
    def _names_a_company(self) -> TriggerEvent:
        if not (self.account_id or self.domain):
            raise ValueError("give account_id or domain")
        return self


class SurgeTopic(_Row):
    """One company's composite score on one topic, in Bombora Company Surge's shape."""

    domain: str
    topic: str = Field(min_length=1)
    composite_score: float = Field(ge=0, le=100)
    date: dt.date


def surge_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A row written with Bombora's headers (or ours) keyed by our field names; other columns stay out."""
    return {SURGE_HEADERS[key]: value for key, value in _normalised(fields).items() if key in SURGE_HEADERS}


def event_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A trigger-event record keyed by our field names (header case and spacing do not matter)."""
    return {key.replace(" ", "_"): value for key, value in _normalised(fields).items()}


def is_surge_header(columns: Iterable[str]) -> bool:
    """Whether a CSV header is Company Surge's (it has a composite score) rather than trigger events'."""
    return "composite score" in _normalised(dict.fromkeys(columns))


def _normalised(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {" ".join(str(key).lower().replace("_", " ").split()): value for key, value in fields.items()}


def validate_events(rows: Iterable[SourceRow]) -> Validated:
    """Trigger events checked one by one (``TriggerEvent``); the rest quarantined with the reason."""
    return _validate(rows, TriggerEvent, event_fields)


def validate_surge(rows: Iterable[SourceRow]) -> Validated:
    """Company Surge rows checked one by one (``SurgeTopic``); the rest quarantined with the reason."""
    return _validate(rows, SurgeTopic, surge_fields)


def _validate(rows: Iterable[SourceRow], model: type[_Row], fields_of) -> Validated:
    valid, quarantined = [], []
    for row in rows:
        try:
            record = model(**fields_of(row.fields))
        except ValidationError as error:
            quarantined.append({"file": row.file, "line": row.line, "reason": _reason(error)})
            continue
        valid.append({"file": row.file, "line": row.line, **record.model_dump()})
    columns = [*SOURCE_COLUMNS, *model.model_fields]
    return Validated(pd.DataFrame(valid, columns=columns), pd.DataFrame(quarantined, columns=QUARANTINE_COLUMNS))


def _reason(error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    return f"`{field}`: {message}" if field else message


def match_signals(
    events: pd.DataFrame, surge: pd.DataFrame, accounts: list[TargetAccount]
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Validated events and surge rows as rows of ``SIGNAL_COLUMNS`` for target accounts.

    An event naming an ``account_id`` not on the list is quarantined (a typo would hide it);
    rows whose domain is no account's are other companies: counted, not kept. Returns the
    signals, the quarantined rows and the number of rows for other companies.
    """
    known = {account.account_id for account in accounts}
    by_domain = accounts_by_domain(events["domain"], accounts)
    event_accounts = events["account_id"].where(events["account_id"].notna(), by_domain)
    unknown_id = events["account_id"].notna() & ~events["account_id"].isin(known)
    quarantined = events.loc[unknown_id, SOURCE_COLUMNS].assign(
        reason="`account_id`: " + events.loc[unknown_id, "account_id"].astype("str") + " is not a target account"
    )
    matched_events = events.assign(account_id=event_accounts, kind="event")[~unknown_id & event_accounts.notna()]
    surge_accounts = accounts_by_domain(surge["domain"], accounts)
    matched_surge = surge.assign(account_id=surge_accounts, kind="surge")[surge_accounts.notna()]
    others = int((~unknown_id & event_accounts.isna()).sum() + surge_accounts.isna().sum())
    signals = pd.concat(
        [matched_events.reindex(columns=SIGNAL_COLUMNS), matched_surge.reindex(columns=SIGNAL_COLUMNS)],
        ignore_index=True,
    )
    return signals, quarantined[QUARANTINE_COLUMNS].reset_index(drop=True), others


def signals_in_window(signals: pd.DataFrame, window_start: dt.date, window_end: dt.date) -> pd.DataFrame:
    """The window's signals: events dated in it, and each account's latest score per topic in it.

    Newest first: events by date, then surge topics by score.
    """
    dates = pd.to_datetime(signals["date"]).dt.date
    in_window = signals[(dates >= window_start) & (dates <= window_end)]
    events = in_window[in_window["kind"] == "event"].sort_values(["account_id", "date"], ascending=[True, False])
    surge = in_window[in_window["kind"] == "surge"].sort_values("date", kind="stable")
    latest = surge.drop_duplicates(["account_id", "topic"], keep="last").sort_values(
        ["account_id", "composite_score", "topic"], ascending=[True, False, True]
    )
    return pd.concat([events, latest], ignore_index=True)[SIGNAL_COLUMNS]


def newest_dates(events: pd.DataFrame, surge: pd.DataFrame, window_end: dt.date) -> dict[str, dt.date]:
    """The newest date up to ``window_end`` of each feed (``event``, ``surge``), to judge its freshness by.

    A feed with no row up to then had not started: it is left out.
    """
    newest = {}
    for kind, rows in {"event": events, "surge": surge}.items():
        dates = pd.to_datetime(rows["date"]).dt.date
        if (dates <= window_end).any():
            newest[kind] = dates[dates <= window_end].max()
    return newest


def account_signal_summary(signals: pd.DataFrame) -> pd.DataFrame:
    """Per account with signals: ``account_id, trigger_events, surge_topics, signal_score``.

    ``trigger_events`` counts the window's events; ``surge_topics`` names its surging topics,
    highest first (``"Cloud Security 82; Data Warehousing 71"``).
    """
    events = signals[signals["kind"] == "event"]
    surging = signals[(signals["kind"] == "surge") & (signals["composite_score"] >= SURGING_SCORE)]
    surging = surging.sort_values(["account_id", "composite_score"], ascending=[True, False], kind="stable")
    counts = events.groupby("account_id").size()
    # astype after map: an empty column maps to floats, which text cannot be added to.
    labels = surging["topic"].astype("str") + " " + surging["composite_score"].map("{:.0f}".format).astype("str")
    shown = surging.groupby("account_id").cumcount() < SURGE_TOPICS_SHOWN
    topics = labels[shown].groupby(surging.loc[shown, "account_id"]).agg("; ".join)
    points = counts.mul(EVENT_POINTS).add(
        (surging["composite_score"] - 50).groupby(surging["account_id"]).sum(), fill_value=0
    )
    summary = pd.DataFrame({"trigger_events": counts, "surge_topics": topics, "points": points})
    summary.index.name = "account_id"
    summary = summary.reset_index().fillna({"trigger_events": 0, "surge_topics": ""})
    summary["signal_score"] = (100 * (1 - np.exp(-summary["points"].astype("float64") / SIGNAL_SATURATION))).round(1)
    return summary.astype({"trigger_events": "int64"})[["account_id", *ACCOUNT_SIGNAL_COLUMNS]]


def with_signals(accounts: pd.DataFrame, summary: pd.DataFrame, weight: float) -> pd.DataFrame:
    """``accounts`` with ``ACCOUNT_SIGNAL_COLUMNS`` (none: 0 events, no topics, score 0).

    With ``weight`` > 0 the intent score becomes ``(1 - weight) × site score + weight × signal
    score``; with 0 (the default) it stays the site's own.
    """
    by_account = summary.set_index("account_id")
    ids = accounts["account_id"]
    added = accounts.assign(
        trigger_events=ids.map(by_account["trigger_events"]).fillna(0).astype("int64"),
        surge_topics=ids.map(by_account["surge_topics"]).astype("object").fillna(""),
        signal_score=ids.map(by_account["signal_score"]).astype("float64").fillna(0.0),
    )
    if weight > 0:
        added["intent_score"] = ((1 - weight) * added["intent_score"] + weight * added["signal_score"]).round(1)
    return added


def explain_weight(
    explanations: pd.Series, site_scores: pd.Series, signal_scores: pd.Series, weight: float
) -> pd.Series:
    """The explanations with a sentence saying the score mixes in signals (only when ``weight`` > 0)."""
    if weight <= 0:
        return explanations
    sentence = (
        f"Score mixes site reading {1 - weight:.0%} ("
        + site_scores.round(1).astype("str")
        + f") and signals {weight:.0%} ("
        + signal_scores.round(1).astype("str")
        + ")."
    )
    return explanations.fillna("").str.cat(sentence, sep=" ").str.strip()
