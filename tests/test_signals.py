"""Signals beside own-site intent: trigger events and Company Surge files, validated, matched and windowed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from dagster import AssetCheckSeverity, materialize

from connectors.config_files import load_target_accounts
from connectors.signals import read_landing_folder
from enrichment.matching import TargetAccount
from enrichment.signals import (
    SIGNAL_COLUMNS,
    account_signal_summary,
    explain_weight,
    match_signals,
    signals_in_window,
    with_signals,
)
from pipelines.assets.signals import build_signal_assets
from pipelines.partitions import daily_partitions
from pipelines.resources import IntentRulesResource
from pipelines.settings_resource import SettingsResource

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
EVENTS_HEADER = "account_id,domain,date,type,title,source_url\n"
SURGE_HEADER = "Company Name,Domain,Topic Name,Composite Score,Date\n"


@pytest.fixture(scope="module")
def accounts() -> list[TargetAccount]:
    return load_target_accounts(CONFIG_DIR / "target_accounts.csv")


def _landing(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "signals"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name.replace("__", ".")).write_text(text, encoding="utf-8")
    return folder


def _matched(folder: Path, accounts: list[TargetAccount]) -> pd.DataFrame:
    landed = read_landing_folder(folder)
    signals, _, _ = match_signals(landed.events, landed.surge, accounts)
    return signals


# --- validation and quarantine ---------------------------------------------------------


def test_bad_rows_are_quarantined_with_file_line_and_reason_and_good_rows_kept(tmp_path: Path) -> None:
    folder = _landing(
        tmp_path,
        events__csv=EVENTS_HEADER
        + ",contoso.com,2026-11-04,Leadership,New COO,https://news.example/coo\n"  # line 2: fine
        + ",contoso.com,4 Nov 2026,funding,Raised money,\n"  # line 3: not a date
        + ",,2026-11-04,hiring,Nobody named,\n"  # line 4: neither id nor domain
        + ',contoso.com,2026-11-04,funding,"Title, with comma",javascript:alert(1)\n'  # line 5: not a web link
        + ",contoso.com,2026-11-04,funding,Too,many,values\n",  # line 6
        surge__csv=SURGE_HEADER
        + "Contoso,contoso.com,Supply Chain,77,2026-11-09\nContoso,contoso.com,Supply Chain,140,2026-11-09\n",
    )

    landed = read_landing_folder(folder)

    assert landed.events[["line", "type", "domain"]].values.tolist() == [[2, "leadership", "contoso.com"]]
    assert landed.surge[["line", "topic", "composite_score"]].values.tolist() == [[2, "Supply Chain", 77.0]]
    quarantined = landed.quarantined.sort_values(["file", "line"]).values.tolist()
    assert [row[:2] for row in quarantined] == [
        ["events.csv", 3],
        ["events.csv", 4],
        ["events.csv", 5],
        ["events.csv", 6],
        ["surge.csv", 3],
    ]
    reasons = [row[2] for row in quarantined]
    assert "`date`" in reasons[0]
    assert reasons[1] == "give account_id or domain"
    assert reasons[2] == "`source_url`: 'javascript:alert(1)' is not an http(s) URL"
    assert reasons[3] == "more values than columns; quote a value that contains a comma"
    assert reasons[4].startswith("`composite_score`: Input should be less than or equal to 100")
    assert landed.files.values.tolist() == [["events.csv", "events", 1, 4], ["surge.csv", "surge", 1, 1]]


def test_json_events_are_quarantined_with_the_line_their_object_starts_on(tmp_path: Path) -> None:
    folder = _landing(
        tmp_path,
        events__json='[\n  {"domain": "contoso.com", "date": "2026-11-04", "type": "funding", "title": "Series B"},\n'
        '  {"domain": "contoso.com", "date": "2026-11-05",\n   "type": "hiring"}\n]\n',
        broken__json='[{"domain": "contoso.com",\n "date": }]',
    )

    landed = read_landing_folder(folder)

    assert landed.events["line"].tolist() == [2]
    assert landed.quarantined.sort_values("file").values.tolist() == [
        ["broken.json", 2, "not valid JSON: Expecting value"],
        ["events.json", 3, "`title`: Field required"],
    ]


def test_an_event_naming_an_account_id_not_on_the_list_is_quarantined(tmp_path, accounts) -> None:
    folder = _landing(tmp_path, events__csv=EVENTS_HEADER + "ACME-999,,2026-11-04,funding,Typo in the id,\n")
    landed = read_landing_folder(folder)

    signals, quarantined, others = match_signals(landed.events, landed.surge, accounts)

    assert signals.empty and others == 0
    assert quarantined.values.tolist() == [["events.csv", 2, "`account_id`: ACME-999 is not a target account"]]


def test_a_missing_landing_folder_is_no_signals_not_an_error(tmp_path, accounts) -> None:
    landed = read_landing_folder(tmp_path / "not-there-yet")
    signals, quarantined, others = match_signals(landed.events, landed.surge, accounts)
    window = signals_in_window(signals, dt.date(2026, 11, 2), dt.date(2026, 11, 15))

    assert landed.files.empty and quarantined.empty and others == 0
    assert window.empty and account_signal_summary(window).empty
    accounts_shown = with_signals(
        pd.DataFrame({"account_id": ["A"], "intent_score": [40.0]}), account_signal_summary(window), 0
    )
    assert accounts_shown[["trigger_events", "surge_topics", "signal_score"]].values.tolist() == [[0, "", 0.0]]


# --- matching by domain ------------------------------------------------------------------


def test_domains_match_accounts_whatever_the_subdomain_or_case(tmp_path, accounts) -> None:
    folder = _landing(
        tmp_path,
        events__csv=EVENTS_HEADER
        + ",WWW.Contoso-MFG.de,2026-11-04,hiring,www and case,\n"
        + ",careers.globex.example,2026-11-04,permit,a subdomain,\n"
        + ",https://news.fabrikam-bank.ch/press,2026-11-04,certificate,a URL,\n"
        + ",wayne.example,2026-11-04,funding,no target account,\n",
        surge__csv=SURGE_HEADER + "Northwind,www.northwind-logistics.com,Routing,81,2026-11-09\n",
    )
    landed = read_landing_folder(folder)

    signals, _, others = match_signals(landed.events, landed.surge, accounts)

    assert signals[["account_id", "kind"]].values.tolist() == [
        ["ACME-002", "event"],
        ["ACME-005", "event"],
        ["ACME-004", "event"],
        ["ACME-001", "surge"],
    ]
    assert others == 1  # Wayne: counted, not kept


# --- per report window -------------------------------------------------------------------


def test_a_window_keeps_its_events_and_each_topics_latest_score(tmp_path, accounts) -> None:
    folder = _landing(
        tmp_path,
        events__csv=EVENTS_HEADER
        + "ACME-001,,2026-11-01,hiring,the day before the window,\n"
        + "ACME-001,,2026-11-02,funding,first day,\n"
        + "ACME-001,,2026-11-15,leadership,last day,\n"
        + "ACME-001,,2026-11-16,permit,after the window,\n",
        surge__csv=SURGE_HEADER
        + "N,northwind-logistics.com,Routing,90,2026-10-26\n"  # before the window
        + "N,northwind-logistics.com,Routing,62,2026-11-02\n"
        + "N,northwind-logistics.com,Routing,75,2026-11-09\n"  # the latest in the window wins
        + "N,northwind-logistics.com,Fleets,55,2026-11-09\n",
    )

    window = signals_in_window(_matched(folder, accounts), dt.date(2026, 11, 2), dt.date(2026, 11, 15))

    assert window["title"].dropna().tolist() == ["last day", "first day"]
    assert window.loc[window["kind"] == "surge", ["topic", "composite_score"]].values.tolist() == [
        ["Routing", 75.0],
        ["Fleets", 55.0],
    ]
    summary = account_signal_summary(window).iloc[0]
    assert summary["trigger_events"] == 2
    assert summary["surge_topics"] == "Routing 75"  # 55 is not surging (Bombora: 60 and above)
    assert 0 < summary["signal_score"] < 100


# --- the score weight ----------------------------------------------------------------------


def test_signals_stay_apart_from_the_site_score_unless_weighted() -> None:
    accounts = pd.DataFrame({"account_id": ["A", "B"], "intent_score": [40.0, 60.0]})
    summary = pd.DataFrame(
        {"account_id": ["A"], "trigger_events": [2], "surge_topics": ["Routing 80"], "signal_score": [80.0]}
    )

    apart = with_signals(accounts, summary, 0.0)
    mixed = with_signals(accounts, summary, 0.25)

    assert apart["intent_score"].tolist() == [40.0, 60.0]
    assert apart["signal_score"].tolist() == [80.0, 0.0] and apart["trigger_events"].tolist() == [2, 0]
    assert mixed["intent_score"].tolist() == [50.0, 45.0]
    explained = explain_weight(pd.Series(["Warm: score 50.0."]), pd.Series([40.0]), pd.Series([80.0]), 0.25)
    assert explained.tolist() == ["Warm: score 50.0. Score mixes site reading 75% (40.0) and signals 25% (80.0)."]
    assert explain_weight(pd.Series(["Warm."]), pd.Series([40.0]), pd.Series([80.0]), 0.0).tolist() == ["Warm."]


# --- the asset and its freshness check ------------------------------------------------------


def _materialize(folder: Path, window_end: str):
    partitions = daily_partitions(dt.date(2026, 10, 1))
    (asset,) = build_signal_assets(partitions, 14, folder, max_age_days=14)
    rules = IntentRulesResource(settings=SettingsResource(settings_file=str(CONFIG_DIR / "settings.yaml")))
    return materialize([asset], partition_key=window_end, resources={"rules": rules})


def test_the_check_warns_when_a_feed_is_older_than_the_set_age(tmp_path: Path) -> None:
    folder = _landing(
        tmp_path,
        events__csv=EVENTS_HEADER + "ACME-001,,2026-11-10,funding,fresh,\n",
        surge__csv=SURGE_HEADER + "N,northwind-logistics.com,Routing,75,2026-10-26\nbad row\n",
    )

    result = _materialize(folder, "2026-11-15")

    (check,) = result.get_asset_check_evaluations()
    assert not check.passed and check.severity == AssetCheckSeverity.WARN
    assert check.metadata["stale feeds"].value == "Company Surge"
    assert check.metadata["Company Surge age (days)"].value == 20
    assert check.metadata["trigger events age (days)"].value == 5
    metadata = result.asset_materializations_for_node("account_signals")[0].metadata
    assert metadata["rows quarantined"].value == 1
    assert "| surge.csv | surge | 1 | 1 |" in metadata["files"].value
    stored = result.output_for_node("account_signals")["2026-11-15"]
    assert list(stored.columns) == SIGNAL_COLUMNS and stored["title"].dropna().tolist() == ["fresh"]


def test_the_check_passes_with_fresh_feeds(tmp_path: Path) -> None:
    folder = _landing(tmp_path, surge__csv=SURGE_HEADER + "N,northwind-logistics.com,Routing,75,2026-11-09\n")

    (check,) = _materialize(folder, "2026-11-15").get_asset_check_evaluations()

    assert check.passed
