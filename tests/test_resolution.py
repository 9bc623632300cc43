"""Classification of merged MaxMind records: one test per rule, then precedence."""

from __future__ import annotations

import pandas as pd
import pytest

from enrichment.resolution import classify, classify_lookups

NORTHWIND = {
    "organization": "Northwind Logistics, Inc.",
    "isp": "Zayo Bandwidth",
    "domain": "northwind-logistics.com",
    "user_type": "business",
    "connection_type": "Corporate",
}


def decided(record: dict[str, object]) -> tuple[str, str]:
    decision = classify(record)
    return decision.classification, decision.reason


# --- anonymity flags -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "reason"),
    [
        ("is_anonymous_vpn", "anonymous_ip:vpn"),
        ("is_tor_exit_node", "anonymous_ip:tor"),
        ("is_public_proxy", "anonymous_ip:public_proxy"),
        ("is_residential_proxy", "anonymous_ip:residential_proxy"),
    ],
)
def test_anonymity_flag_makes_anonymous(flag: str, reason: str) -> None:
    assert decided({"is_anonymous": True, flag: True}) == ("anonymous", reason)


def test_hosting_provider_flag_makes_hosting() -> None:
    record = {"is_anonymous": True, "is_hosting_provider": True}
    assert decided(record) == ("hosting", "anonymous_ip:hosting_provider")


def test_false_flags_alone_are_no_record() -> None:
    # The Anonymous-IP database answering "not listed" says nothing about who it is.
    record = {"is_anonymous": False, "is_anonymous_vpn": False, "sources": None}
    assert decided(record) == ("unknown", "no_record")


# --- user_type ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_type", "classification"),
    [
        ("consumer_privacy_network", "anonymous"),
        ("search_engine_spider", "bot"),
        ("hosting", "hosting"),
        ("content_delivery_network", "hosting"),
        ("cellular", "mobile"),
        ("residential", "isp"),
        ("dialup", "isp"),
        ("router", "isp"),
        ("cafe", "isp"),
        ("library", "isp"),
        ("traveler", "isp"),
        ("business", "company"),
        ("government", "company"),
        ("military", "company"),
        ("college", "company"),
        ("school", "company"),
    ],
)
def test_user_type_decides(user_type: str, classification: str) -> None:
    record = {"organization": "Some Organization", "isp": "Some ISP", "user_type": user_type}
    assert decided(record) == (classification, f"user_type:{user_type}")


def test_business_user_type_without_organization_is_unknown() -> None:
    # MaxMind's test data has such records: a company we cannot name is no lead.
    assert decided({"user_type": "business"}) == ("unknown", "no_organization")


def test_user_type_outranks_name_keywords() -> None:
    # MaxMind knows this network is a business, whatever its name sounds like.
    record = {"organization": "Cogent Communications", "isp": "Cogent", "user_type": "business"}
    assert decided(record) == ("company", "user_type:business")


def test_undocumented_user_type_falls_back_to_the_name() -> None:
    record = {"organization": "Hetzner Online GmbH", "isp": "Hetzner", "user_type": "spaceship"}
    assert decided(record) == ("hosting", "org_name:hosting_provider")


# --- connection_type ---------------------------------------------------------------------


def test_cellular_connection_type_makes_mobile() -> None:
    assert decided({"connection_type": "Cellular"}) == ("mobile", "connection_type:cellular")


def test_other_connection_types_leave_a_named_organization_a_company() -> None:
    record = {
        "organization": "Lariat Software",
        "isp": "Century Link",
        "connection_type": "Cable/DSL",
    }
    assert decided(record) == ("company", "organization")


# --- organization name (no user_type: the ISP database alone) ---------------------------


@pytest.mark.parametrize(
    ("organization", "isp"),
    [
        ("Telstra Internet", "TELSTRA INTERNET"),
        ("Fairpoint Communications, Inc.", "FairPoint Communications"),
        ("Bredband2 AB", "BREDBAND2"),
    ],
)
def test_organization_equal_to_its_isp_is_isp(organization: str, isp: str) -> None:
    assert decided({"organization": organization, "isp": isp}) == ("isp", "org_equals_isp")


@pytest.mark.parametrize(
    ("organization", "classification", "reason"),
    [
        ("Telecom Italia", "isp", "org_name:access_provider"),
        ("British Telecommunications PLC", "isp", "org_name:access_provider"),
        ("Deutsche Telekom AG", "isp", "org_name:access_provider"),
        ("ПАО «Ростелеком»", "isp", "org_name:access_provider"),
        ("ООО «Связь-Сервис»", "isp", "org_name:access_provider"),
        ("T-Mobile USA, Inc.", "mobile", "org_name:mobile_carrier"),
        ("Verizon Wireless", "mobile", "org_name:mobile_carrier"),
        ("ПАО «МегаФон»", "mobile", "org_name:mobile_carrier"),
        ("Hetzner Online GmbH", "hosting", "org_name:hosting_provider"),
        ("Microsoft Azure", "hosting", "org_name:hosting_provider"),
        ("Acme Data-Center GmbH", "hosting", "org_name:hosting_provider"),
    ],
)
def test_provider_names_are_not_companies(organization: str, classification: str, reason: str) -> None:
    record = {"organization": organization, "isp": "An Upstream Carrier"}
    assert decided(record) == (classification, reason)


@pytest.mark.parametrize("organization", ["Mobileye", "Cloudera, Inc.", "Hostess Brands", "Cablevision Systems"])
def test_keywords_match_whole_words_only(organization: str) -> None:
    record = {"organization": organization, "isp": "An Upstream Carrier"}
    assert decided(record) == ("company", "organization")


def test_named_organization_on_someone_elses_network_is_a_company() -> None:
    # GeoIP2-ISP-Test: 8.33.16.1 is "Co-Mo Connect" on Level 3's network.
    record = {"organization": "Co-Mo Connect", "isp": "Level 3 Communications"}
    assert decided(record) == ("company", "organization")


def test_business_organization_with_domain_is_company() -> None:
    decision = classify(NORTHWIND)
    assert (decision.classification, decision.reason) == ("company", "user_type:business")
    assert "Northwind Logistics, Inc." in decision.evidence[0]


# --- nothing to go on ------------------------------------------------------------------


@pytest.mark.parametrize(
    "record",
    [
        {},
        {"organization": None, "isp": float("nan"), "asn": pd.NA, "sources": None},
    ],
)
def test_record_without_values_is_no_record(record: dict[str, object]) -> None:
    assert decided(record) == ("unknown", "no_record")


def test_record_with_only_a_country_is_unknown() -> None:
    assert decided({"country": "GB", "sources": "GeoIP2-Country"}) == ("unknown", "no_organization")


# --- precedence: anonymous > bot > hosting > mobile > isp > company ----------------------


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({**NORTHWIND, "is_anonymous_vpn": True}, ("anonymous", "anonymous_ip:vpn")),
        # GeoIP2-Enterprise-Test: 67.43.156.1 is a crawler on a cellular connection.
        (
            {"user_type": "search_engine_spider", "connection_type": "Cellular"},
            ("bot", "user_type:search_engine_spider"),
        ),
        (
            {"user_type": "cellular", "is_hosting_provider": True},
            ("hosting", "anonymous_ip:hosting_provider"),
        ),
        ({**NORTHWIND, "connection_type": "Cellular"}, ("mobile", "connection_type:cellular")),
        (
            {"organization": "T-Mobile USA, Inc.", "isp": "T-Mobile USA"},
            ("mobile", "org_name:mobile_carrier"),
        ),
        (
            {"organization": "Harbor Foods", "isp": "Comcast", "user_type": "residential"},
            ("isp", "user_type:residential"),
        ),
    ],
)
def test_precedence(record: dict[str, object], expected: tuple[str, str]) -> None:
    assert decided(record) == expected


def test_evidence_lists_every_signal_and_the_decision() -> None:
    record = {"organization": "T-Mobile USA, Inc.", "isp": "T-Mobile USA"}
    evidence = classify(record).evidence
    assert any("is its ISP" in step for step in evidence)
    assert any("mobile carrier" in step for step in evidence)
    assert evidence[-1] == "decision: mobile (org_name:mobile_carrier)"


# --- whole lookup frames -----------------------------------------------------------------


def test_classify_lookups_adds_classification_and_reason() -> None:
    northwind = "Northwind Logistics, Inc."
    lookups = pd.DataFrame(
        {
            "ip": ["64.124.10.5", "73.15.1.1", "64.124.10.6", "192.0.2.1"],
            "organization": [northwind, "Comcast Cable", northwind, None],
            "isp": ["Zayo Bandwidth", "Comcast Cable", "Zayo Bandwidth", None],
            "user_type": ["business", "residential", "business", None],
            "is_anonymous_vpn": pd.array([False, False, False, None], dtype="boolean"),
            "sources": ["GeoIP2-Enterprise"] * 3 + [None],
        },
        index=[10, 11, 12, 13],
    )
    classified = classify_lookups(lookups)
    assert classified["classification"].tolist() == ["company", "isp", "company", "unknown"]
    assert classified["reason"].tolist() == [
        "user_type:business",
        "user_type:residential",
        "user_type:business",
        "no_record",
    ]
    assert classified.index.tolist() == [10, 11, 12, 13]
    assert classified[lookups.columns].equals(lookups)


def test_a_sole_proprietor_is_never_reported_as_a_company() -> None:
    decision = classify(
        {
            "organization": "ИП Иванов Иван Иванович",
            "isp": "Rostelecom",
            "user_type": "business",
            "network": "95.24.1.8/29",
        }
    )
    assert (decision.classification, decision.reason) == ("isp", "organization_is_a_person")


def test_a_personal_name_on_a_tiny_allocation_is_a_home_line_but_a_company_stays_a_company() -> None:
    person = {"organization": "John Smith", "isp": "Comcast", "user_type": "business", "network": "73.15.2.4/30"}
    company = {"organization": "Smith & Wesson", "isp": "Comcast", "user_type": "business", "network": "73.15.2.4/30"}
    lookups = pd.DataFrame([person, company])
    assert classify_lookups(lookups)["classification"].tolist() == ["isp", "company"]


def test_one_name_is_judged_by_each_rows_network() -> None:
    # Rows that differ only in their network are decided together, but for a name that
    # reads like a person's the network decides: a home line on a /30, a company on a /16.
    record = {"organization": "John Smith", "isp": "Comcast", "user_type": "business"}
    lookups = pd.DataFrame(
        [{**record, "network": network} for network in ("73.15.2.4/30", "73.15.0.0/16", "73.15.2.8/30")]
    )
    classified = classify_lookups(lookups)
    assert classified["reason"].tolist() == [
        "organization_is_a_person",
        "user_type:business",
        "organization_is_a_person",
    ]
