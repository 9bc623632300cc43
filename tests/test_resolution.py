"""Classification of merged MaxMind records: one test per rule, then precedence."""

from __future__ import annotations

import ipaddress

import numpy as np
import pandas as pd
import pytest

from connectors.config_files import default_rules
from enrichment.matching import TargetAccount
from enrichment.resolution import claim_account_ranges, classify, classify_lookups, distinct_rows

NORTHWIND = {
    "organization": "Northwind Logistics, Inc.",
    "isp": "Zayo Bandwidth",
    "domain": "northwind-logistics.com",
    "user_type": "business",
    "connection_type": "Corporate",
}


def decided(record: dict[str, object]) -> tuple[str, str]:
    decision = classify(record, default_rules())
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
    decision = classify(NORTHWIND, default_rules())
    assert (decision.classification, decision.reason) == ("company", "user_type:business")
    assert "organization: 'Northwind Logistics, Inc.' (northwind-logistics.com)" in decision.evidence


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


def test_evidence_lists_what_the_rules_looked_at_the_rule_and_the_decision() -> None:
    record = {"organization": "T-Mobile USA, Inc.", "isp": "T-Mobile USA"}
    decision = classify(record, default_rules())
    assert "organization_vs_isp: same ('T-Mobile USA, Inc.' / 'T-Mobile USA')" in decision.evidence
    assert any(step.startswith("organization_words: mobile ('t-mobile')") for step in decision.evidence)
    assert decision.evidence[-2] == decision.rule
    assert decision.rule.startswith("rule ") and "organization_words in [mobile]" in decision.rule
    assert decision.evidence[-1] == "decision: mobile (org_name:mobile_carrier)"


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
    classified = classify_lookups(lookups, default_rules())
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
        },
        default_rules(),
    )
    assert (decision.classification, decision.reason) == ("isp", "organization_is_a_person")
    assert decision.rule in decision.evidence  # the rule that took it for a company is still shown


def test_a_personal_name_on_a_tiny_allocation_is_a_home_line_but_a_company_stays_a_company() -> None:
    person = {"organization": "John Smith", "isp": "Comcast", "user_type": "business", "network": "73.15.2.4/30"}
    company = {"organization": "Smith & Wesson", "isp": "Comcast", "user_type": "business", "network": "73.15.2.4/30"}
    lookups = pd.DataFrame([person, company])
    assert classify_lookups(lookups, default_rules())["classification"].tolist() == ["isp", "company"]


def test_one_name_is_judged_by_each_rows_network() -> None:
    # Rows that differ only in their network are decided together, but for a name that
    # reads like a person's the network decides: a home line on a /30, a company on a /16.
    record = {"organization": "John Smith", "isp": "Comcast", "user_type": "business"}
    lookups = pd.DataFrame(
        [{**record, "network": network} for network in ("73.15.2.4/30", "73.15.0.0/16", "73.15.2.8/30")]
    )
    classified = classify_lookups(lookups, default_rules())
    assert classified["reason"].tolist() == [
        "organization_is_a_person",
        "user_type:business",
        "organization_is_a_person",
    ]


# --- every MaxMind signal ------------------------------------------------------------------


def test_mobile_network_codes_make_mobile() -> None:
    # GeoIP2-Enterprise-Test: 149.101.100.0/28 is Verizon Wireless with MCC 310, MNC 004.
    record = {"organization": "Verizon Wireless", "isp": "Verizon Wireless", "mobile_country_code": "310"}
    assert decided(record) == ("mobile", "mobile_network_code")


def test_a_business_on_a_mobile_connection_is_mobile() -> None:
    assert decided({**NORTHWIND, "mobile_network_code": "004"}) == ("mobile", "mobile_network_code")


@pytest.mark.parametrize(
    ("connection_type", "expected"),
    [
        ("Cellular", ("mobile", "connection_type:cellular")),
        ("Dialup", ("isp", "connection_type:dialup")),
        ("Satellite", ("isp", "connection_type:satellite")),
        ("Cable/DSL", ("isp", "org_equals_isp:cable_dsl")),  # the owner's own consumer line
        ("Corporate", ("company", "org_is_network_owner:corporate")),  # the owner's own corporate line
    ],
)
def test_every_connection_type_counts(connection_type: str, expected: tuple[str, str]) -> None:
    record = {"organization": "Pulsar Werkzeugbau", "isp": "Pulsar Werkzeugbau", "connection_type": connection_type}
    assert decided(record) == expected


@pytest.mark.parametrize(
    ("asn", "expected"),
    [
        (16509, ("hosting", "asn:cloud")),  # Amazon
        (24940, ("hosting", "asn:hosting")),  # Hetzner
        (13335, ("hosting", "asn:cdn")),  # Cloudflare
        (136787, ("anonymous", "asn:vpn")),  # NordVPN's network
        (21928, ("mobile", "asn:mobile")),  # T-Mobile USA
    ],
)
def test_the_asn_category_decides_for_providers(asn: int, expected: tuple[str, str]) -> None:
    assert decided({"organization": "Generic Customer", "isp": "Generic Customer", "asn": asn}) == expected


def test_an_access_carriers_own_ranges_are_isp_but_its_named_customers_are_companies() -> None:
    assert decided({"organization": "Uninet S.A. de C.V.", "isp": "Uninet S.A. de C.V.", "asn": 8151}) == (
        "isp",
        "org_equals_isp",
    )
    assert decided({"organization": "Hipotecaria Nacional", "isp": "Uninet S.A. de C.V.", "asn": 8151}) == (
        "company",
        "organization",
    )


# --- the organization against its ISP -------------------------------------------------------


@pytest.mark.parametrize(
    ("organization", "isp", "expected"),
    [
        ("Aircel GPRS Customer East", "Aircel Ltd.", ("mobile", "org_is_carrier_pool")),
        ("Cybersmart-ADSL-DBN", "Cybersmart", ("isp", "org_is_isp_pool")),
        ("Telia Kunden Dynamisch Berlin", "Telia Company AB", ("isp", "org_is_isp_pool")),
    ],
)
def test_the_isps_brand_with_pool_words_is_its_customer_pool(organization: str, isp: str, expected) -> None:
    assert decided({"organization": organization, "isp": isp}) == expected


def test_an_enterprise_on_its_own_network_is_a_company_with_weak_confidence() -> None:
    decision = classify({"organization": "Siemens AG", "isp": "Siemens Aktiengesellschaft"}, default_rules())
    # Not the same spelling: a different name, a company on its own (or someone's) network.
    assert decision.classification == "company"
    decision = classify({"organization": "Daimler", "isp": "Daimler"}, default_rules())
    assert (decision.classification, decision.reason) == ("company", "org_is_network_owner")
    assert decision.confidence < 0.6  # said as weak, never silently a company


def test_an_owner_with_a_provider_name_is_isp() -> None:
    assert decided({"organization": "Telkom Internet", "isp": "Telkom Internet"}) == ("isp", "org_equals_isp")
    # a part of its ISP's name, and the ISP's name says it is a provider
    assert decided({"organization": "Swift Global", "isp": "Swift Global Kenya Telecom"}) == ("isp", "org_equals_isp")


# --- provider words, in any language ---------------------------------------------------------


@pytest.mark.parametrize(
    ("organization", "classification"),
    [
        ("Ajaxtel Telecomunicações Ltda.", "isp"),  # PT
        ("Mar Provedor de Internet Ltda", "isp"),  # PT
        ("Türk Telekomünikasyon A.Ş.", "isp"),  # TR
        ("Fournisseur d'accès Internet Bretagne SAS", "isp"),  # FR
        ("Proveedor de Internet del Sur S.A.", "isp"),  # ES
        ("Telekomunikacja Kablowa Sp. z o.o.", "isp"),  # PL
        ("Breedband Noord B.V.", "isp"),  # NL
        ("Fornitore di accesso Banda Larga Srl", "isp"),  # IT
        ("Kabel Breitband Nord GmbH", "isp"),  # DE
        ("ООО «Интернет-провайдер Связь»", "isp"),  # RU
        ("ТОВ «Телекомунікаційна компанія Мережа»", "isp"),  # UK
        ("Operadora de Telefonía Móvil Celular SA", "mobile"),  # ES
        ("Hostinger International Ltd", "hosting"),
        ("Webhosting Nord GmbH", "hosting"),
        ("VDSina Hosting", "hosting"),
        ("HostVDS-NET", "hosting"),
        ("Serveur Dédié Paris SARL", "hosting"),
        ("Rechenzentrum Süd GmbH", "hosting"),
    ],
)
def test_provider_words_in_any_language_and_inside_longer_words(organization: str, classification: str) -> None:
    assert (
        classify({"organization": organization, "isp": "An Upstream Carrier"}, default_rules()).classification
        == classification
    )


@pytest.mark.parametrize(
    "organization",
    [
        "Hostess Brands",
        "Cloudera, Inc.",
        "Ghost Security Ltd",
        "Hotel Intercontinental",
        "Mobile County Public Schools",  # Mobile, Alabama
        "City of Mobile",
        "Cable Beach Resort",
        "Telecom Business School",
        "Telecommunications Regulatory Authority",
        "Kabelwerk Eupen AG",  # makes cables
        "Planet Fitness",
        "Intel Corporation",
    ],
)
def test_provider_words_in_another_sense_leave_a_company(organization: str) -> None:
    assert (
        classify({"organization": organization, "isp": "An Upstream Carrier"}, default_rules()).classification
        == "company"
    )


# --- output ----------------------------------------------------------------------------------


def test_every_decision_carries_its_confidence_and_the_rules_version() -> None:
    records = [
        NORTHWIND,
        {"organization": "Generic Customer", "isp": None},
        {},
        {"country": "GB", "sources": "GeoIP2-Country"},
        {"organization": "John Smith", "isp": "Comcast", "user_type": "business", "network": "73.15.2.4/30"},
    ]
    classified = classify_lookups(pd.DataFrame(records), default_rules())
    assert classified["confidence"].tolist() == [0.95, 0.6, 1.0, 1.0, 0.9]
    assert classified["reason"].tolist() == [
        "user_type:business",
        "organization_only",
        "no_record",
        "no_organization",
        "organization_is_a_person",
    ]
    assert classified["rules_version"].nunique() == 1 and classified["rules_version"].iloc[0]
    # One record at a time is decided as in a whole frame.
    one_by_one = [
        (d.classification, d.reason, d.confidence) for d in (classify(record, default_rules()) for record in records)
    ]
    assert one_by_one == list(zip(classified["classification"], classified["reason"], classified["confidence"]))


# --- declared account ranges ----------------------------------------------------------------

GLOBEX = TargetAccount(account_id="G-1", name="Globex Corporation", ip_ranges=(ipaddress.ip_network("203.0.113.0/24"),))


def test_an_address_in_an_accounts_range_is_that_accounts_company_whatever_maxmind_says() -> None:
    lookups = pd.DataFrame(
        {
            "ip": ["203.0.113.10", "203.0.113.11", "198.51.100.7"],
            "organization": [None, "Comcast Cable", None],
            "isp": [None, "Comcast Cable", None],
            "user_type": [None, "residential", None],
        }
    )
    claimed = claim_account_ranges(classify_lookups(lookups, default_rules()), [GLOBEX])
    assert claimed["classification"].tolist() == ["company", "company", "unknown"]
    assert claimed["reason"].tolist() == ["account_ip_range", "account_ip_range", "no_record"]
    assert claimed["confidence"].tolist() == [1.0, 1.0, 1.0]
    # The account's name where MaxMind has none; MaxMind's name where it has one.
    assert claimed["organization"].tolist()[:2] == ["Globex Corporation", "Comcast Cable"]


def test_without_declared_ranges_nothing_changes() -> None:
    classified = classify_lookups(pd.DataFrame({"ip": ["203.0.113.10"], "organization": [None]}), default_rules())
    assert claim_account_ranges(classified, [TargetAccount(account_id="A", name="Acme")]) is classified


def test_distinct_rows_are_numbered_in_order_of_appearance_with_missing_values_alike() -> None:
    names = pd.Series(["Acme", None, "Acme", pd.NA, "Globex"], dtype="str")
    networks = np.array(["10.0.0.0/8", None, "10.0.0.0/8", None, "10.0.0.0/8"], dtype=object)
    groups, first_rows = distinct_rows([names, networks], 5)
    assert groups.tolist() == [0, 1, 0, 1, 2]
    assert first_rows.tolist() == [0, 1, 4]
