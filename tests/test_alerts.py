"""Who hears what: an owner is alerted when an account becomes hot or MQA, surges or reaches decision."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from pydantic import ValidationError

from enrichment.alerts import alert_reasons, owner_digests
from enrichment.intent import IntentSettings
from enrichment.settings import AlertSettings

SETTINGS = IntentSettings()  # hot from 70, MQA from 60 and consideration
START, END = dt.date(2026, 11, 2), dt.date(2026, 11, 15)


def _accounts(*rows: dict) -> pd.DataFrame:
    """Assessed accounts of a window; each row gives what differs from a quiet, cold account."""
    quiet = {
        "name": "Acme",
        "owner": "EMEA team",
        "intent_score": 20.0,
        "level": "cold",
        "furthest_stage": "awareness",
        "movement": "steady",
        "mqa": False,
        "surge": 50.0,
        "surging": False,
        "previous_score": 20.0,
        "previous_stage": "awareness",
        "explanation": "Cold: score 20.0 < 40.",
        "top_contributions": "/blog (2.0)",
    }
    return pd.DataFrame([{**quiet, **row} for row in rows])


def test_an_account_is_alerted_when_it_becomes_hot_not_while_it_stays_hot() -> None:
    accounts = _accounts(
        {"account_id": "A-1", "intent_score": 75.0, "level": "hot", "previous_score": 30.0},
        {"account_id": "A-2", "intent_score": 80.0, "level": "hot", "previous_score": 72.0},
        {"account_id": "A-3", "intent_score": 45.0, "level": "hot", "surging": True, "previous_score": float("nan")},
    )

    assert list(alert_reasons(accounts, SETTINGS)) == [("hot",), (), ("hot", "surging")]


def test_an_account_is_alerted_when_it_becomes_mqa_or_first_reaches_decision() -> None:
    mqa = {"intent_score": 65.0, "level": "warm", "mqa": True, "furthest_stage": "decision"}
    accounts = _accounts(
        {"account_id": "A-1", **mqa, "previous_score": 10.0, "previous_stage": "awareness"},
        {"account_id": "A-2", **mqa, "previous_score": 62.0, "previous_stage": "decision"},
        {"account_id": "A-3", **mqa, "previous_score": 62.0, "previous_stage": "awareness"},
    )

    assert list(alert_reasons(accounts, SETTINGS)) == [("mqa", "decision"), (), ("mqa", "decision")]


def test_each_owner_gets_a_digest_of_their_accounts_best_first_and_unowned_accounts_alert_nobody() -> None:
    accounts = _accounts(
        {"account_id": "A-1", "name": "Low", "owner": "DACH team"},
        {"account_id": "A-2", "name": "High", "owner": " DACH team ", "intent_score": 75.0, "level": "hot"},
        {"account_id": "A-3", "name": "Other", "owner": "EMEA team"},
        {"account_id": "A-4", "name": "Nobody's", "owner": None, "surging": True},
        {"account_id": "A-5", "name": "Blank", "owner": "", "surging": True},
    )

    digests = owner_digests(accounts, SETTINGS, window_start=START, window_end=END)

    assert [(d.owner, [a.name for a in d.accounts]) for d in digests] == [
        ("DACH team", ["High", "Low"]),
        ("EMEA team", ["Other"]),
    ]
    dach = digests[0]
    assert [(a.name, a.reasons) for a in dach.alerts] == [("High", ("hot",))]
    assert dach.alerts[0].top_pages == ("/blog (2.0)",)
    assert (dach.window_start, dach.window_end) == (START, END)


def test_a_window_without_owned_accounts_has_no_digests() -> None:
    unowned = _accounts({"account_id": "A-1", "owner": None, "surging": True})

    assert owner_digests(unowned, SETTINGS, window_start=START, window_end=END) == []
    assert owner_digests(unowned.head(0), SETTINGS, window_start=START, window_end=END) == []


def test_no_accounts_no_reasons() -> None:
    assert alert_reasons(_accounts({"account_id": "A-1"}).head(0), SETTINGS).empty


def test_an_owner_has_one_address_or_several() -> None:
    alerts = AlertSettings(owners={"EMEA team": "emea@example.com", "DACH team": ["a@example.com", "b@example.com"]})

    assert alerts.owners == {"EMEA team": ["emea@example.com"], "DACH team": ["a@example.com", "b@example.com"]}


def test_email_alerts_need_a_server_and_a_sender() -> None:
    with pytest.raises(ValidationError, match="set `host` and `sender`"):
        AlertSettings(email={"enabled": True, "host": "smtp.example.com"})
