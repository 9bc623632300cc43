"""Is this IP a company? Classify merged MaxMind lookups, with a reason for every call.

Classes, by precedence (the first that any evidence points to wins):
anonymous > bot > hosting > mobile > isp > company > unknown.

Evidence, strongest first:

- Anonymity flags (GeoIP2-Anonymous-IP, or Enterprise traits): VPN, Tor exit, public or
  residential proxy -> anonymous; hosting provider -> hosting. ``is_anonymous`` alone is
  ignored: MaxMind sets it with any specific flag, hosting included.
- ``user_type`` (GeoIP2-Enterprise): MaxMind's own judgement of who uses the network;
  see `USER_TYPES`.
- ``connection_type`` Cellular (GeoIP2-Connection-Type or Enterprise) -> mobile.
- Without a usable ``user_type`` (e.g. only GeoIP2-ISP), the organization's name: one
  equal to its ISP's is the access network itself; one that says it is an access,
  mobile or hosting provider is not a company (keyword lists below).
- Otherwise an organization name makes a company; without one, the IP is unknown.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

import numpy as np
import pandas as pd

from enrichment.people import looks_like_a_person


class Classification(StrEnum):
    ANONYMOUS = "anonymous"
    BOT = "bot"
    HOSTING = "hosting"
    MOBILE = "mobile"
    ISP = "isp"
    COMPANY = "company"
    UNKNOWN = "unknown"


PRECEDENCE = tuple(Classification)  # declaration order above is the precedence


@dataclass(frozen=True)
class Decision:
    """What an IP is, the reason code that decided it, and every step that was seen."""

    classification: Classification
    reason: str
    evidence: list[str] = field(default_factory=list)


# MaxMind's documented user_type values and what each means for "is this a company?".
# Public-access places (cafe, library, traveler: hotels, airports) are not the company
# that reads our content, so they count as access networks.
USER_TYPES: Mapping[str, tuple[Classification, str]] = {
    "consumer_privacy_network": (Classification.ANONYMOUS, "a consumer privacy network (VPN)"),
    "search_engine_spider": (Classification.BOT, "a search engine crawler"),
    "hosting": (Classification.HOSTING, "a hosting provider"),
    "content_delivery_network": (Classification.HOSTING, "a content delivery network"),
    "cellular": (Classification.MOBILE, "a mobile network"),
    "residential": (Classification.ISP, "a consumer access network"),
    "dialup": (Classification.ISP, "a dial-up access network"),
    "router": (Classification.ISP, "an access provider's router"),
    "cafe": (Classification.ISP, "public access at a cafe"),
    "library": (Classification.ISP, "public access at a library"),
    "traveler": (Classification.ISP, "public access at a hotel or airport"),
    "business": (Classification.COMPANY, "a business network"),
    "government": (Classification.COMPANY, "a government organization's network"),
    "military": (Classification.COMPANY, "a military organization's network"),
    "college": (Classification.COMPANY, "a college's network"),
    "school": (Classification.COMPANY, "a school's network"),
}

# Specific flags, most telling first; the first one set gives the reason code.
ANONYMITY_FLAGS = (
    ("is_tor_exit_node", "anonymous_ip:tor", "a Tor exit node"),
    ("is_anonymous_vpn", "anonymous_ip:vpn", "an anonymous VPN"),
    ("is_public_proxy", "anonymous_ip:public_proxy", "a public proxy"),
    ("is_residential_proxy", "anonymous_ip:residential_proxy", "a residential proxy"),
)

# Name keywords, used only when MaxMind gives no user_type (ISP database alone). They
# catch access, mobile and hosting networks whose organization is not literally their
# ISP. Matching is by whole words, case-insensitive, in any script: "Telecom Italia"
# and "T-Mobile" match, "Mobileye", "Cloudera" and "Hostess Brands" do not - nor does
# "Cablevision Systems", whose access ranges the org-equals-ISP rule catches instead.
# Brands are listed only where the name is unambiguous: Latin "MTS" is also a US
# engineering company, Vodafone sells fixed lines too.
HOSTING_PROVIDER_WORDS = (
    "hosting",
    "hoster",
    "cloud",
    "datacenter",
    "data center",
    "data centre",
    "rechenzentrum",
    "colocation",
    "vps",
    "server hosting",
    "amazon",
    "amazonaws",
    "aws",
    "google cloud",
    "microsoft azure",
    "azure",
    "ovh",
    "ovhcloud",
    "hetzner",
    "digitalocean",
    "linode",
    "vultr",
    "leaseweb",
    "akamai",
    "cloudflare",
    "fastly",
    "хостинг",
    "дата-центр",
    "датацентр",
    "селектел",
    "selectel",
)
MOBILE_CARRIER_WORDS = (
    "mobile",
    "cellular",
    "wireless",
    "mobilfunk",
    "mobile telesystems",
    "мтс",
    "мегафон",
    "megafon",
    "билайн",
    "beeline",
    "вымпелком",
    "vimpelcom",
    "теле2",
    "tele2",
    "мобильные телесистемы",
)
ACCESS_PROVIDER_WORDS = (
    "telecom",
    "telecoms",
    "telecommunication",
    "telecommunications",
    "telekom",
    "telekommunikation",
    "telco",
    "broadband",
    "breitband",
    "cable",
    "kabel",
    "communications",
    "internet service",
    "internet service provider",
    "isp",
    "dsl",
    "fiber",
    "fibre",
    "rostelecom",
    "ростелеком",
    "телеком",
    "телекоммуникации",
    "связь",
    "связи",
    "провайдер",
)

# Legal forms differ between MaxMind's isp and organization strings for one entity
# ("Amazon.com, Inc." vs "Amazon.com"), so they are dropped before comparing.
LEGAL_FORMS = frozenset(
    [
        "inc",
        "incorporated",
        "llc",
        "ltd",
        "limited",
        "corp",
        "corporation",
        "co",
        "plc",
        "gmbh",
        "ag",
        "sa",
        "sas",
        "spa",
        "srl",
        "bv",
        "nv",
        "ab",
        "as",
        "oy",
        "kg",
        "pjsc",
        "ojsc",
        "jsc",
        "ooo",
        "пао",
        "оао",
        "зао",
        "ао",
        "ооо",
    ]
)

# Lookup fields whose value means MaxMind had a record (all but ip, network, epoch and
# the flags: a False flag only says the Anonymous-IP database has no record).
VALUE_FIELDS = (
    "organization",
    "isp",
    "domain",
    "asn",
    "as_organization",
    "country",
    "connection_type",
    "user_type",
    "sources",
)
FLAG_FIELDS = (
    "is_anonymous",
    "is_anonymous_vpn",
    "is_hosting_provider",
    "is_public_proxy",
    "is_tor_exit_node",
    "is_residential_proxy",
)


def _word_pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    # \b and \w are Unicode-aware, so this works for Cyrillic names too; inside a
    # phrase any run of non-word characters separates words ("data-center").
    alternatives = (r"\W+".join(map(re.escape, re.findall(r"\w+", k))) for k in keywords)
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.IGNORECASE)


_NAME_RULES = (
    (_word_pattern(HOSTING_PROVIDER_WORDS), Classification.HOSTING, "hosting_provider"),
    (_word_pattern(MOBILE_CARRIER_WORDS), Classification.MOBILE, "mobile_carrier"),
    (_word_pattern(ACCESS_PROVIDER_WORDS), Classification.ISP, "access_provider"),
)


class _Signal(NamedTuple):
    classification: Classification
    reason: str
    explanation: str


def classify(record: Mapping[str, object]) -> Decision:
    """Classify one merged lookup (a row of `MaxMindDatabases.lookup`, or any mapping
    with some of its fields)."""
    decision, company = _decide(record)
    if company is not None and looks_like_a_person(company, _text(record.get("network"))):
        return _a_person(decision, company)
    return decision


def classify_lookups(lookups: pd.DataFrame) -> pd.DataFrame:
    """``lookups`` with ``classification`` and ``reason`` columns added.

    Decided once per distinct record; a row's network is looked at only where it can
    tell whether a company's name is a person's.
    """
    present = [name for name in (*VALUE_FIELDS, *FLAG_FIELDS) if name in lookups.columns]
    groups, first_rows = distinct_rows([lookups[name] for name in present], len(lookups))
    outcomes: dict[tuple[str, str], int] = {}  # (classification, reason) -> its number

    def number(decision: Decision) -> int:
        return outcomes.setdefault((decision.classification.value, decision.reason), len(outcomes))

    group_outcomes = np.empty(len(first_rows), dtype=np.int64)
    per_network: dict[int, tuple[Decision, str]] = {}  # groups whose rows' networks decide
    a_person = functools.cache(_person_regardless_of_network)
    for group, record in enumerate(_records(lookups, present, first_rows)):
        decision, company = _decide(record)
        verdict = a_person(company) if company is not None else False
        group_outcomes[group] = number(_a_person(decision, company) if verdict else decision)
        if verdict is None:
            per_network[group] = (decision, company)
    row_outcomes = group_outcomes[groups]
    if per_network:
        rows = np.flatnonzero(np.isin(groups, list(per_network)))
        networks = lookups["network"].iloc[rows].tolist() if "network" in lookups.columns else [None] * len(rows)
        decided: dict[tuple[int, str | None], int] = {}  # (group, network) -> outcome number
        for row, group, network in zip(rows.tolist(), groups[rows].tolist(), networks):
            key = (group, _text(network))
            if key not in decided:
                decision, company = per_network[group]
                is_a_person = looks_like_a_person(company, key[1])
                decided[key] = number(_a_person(decision, company) if is_a_person else decision)
            row_outcomes[row] = decided[key]
    classifications, reasons = zip(*outcomes) if outcomes else ((), ())
    return lookups.assign(
        classification=pd.Series(pd.array(classifications, dtype="str").take(row_outcomes), index=lookups.index),
        reason=pd.Series(pd.array(reasons, dtype="str").take(row_outcomes), index=lookups.index),
    )


# The extremes of network size: a name that is (or is not) a person's on both, and
# without a network, is so on every network (`looks_like_a_person` is monotonic in size).
_EXTREME_NETWORKS = (None, "0.0.0.0/0", "0.0.0.0/32")


def _person_regardless_of_network(name: str) -> bool | None:
    """Is ``name`` a person's on every network (True), on none (False), or only on some
    (None: each network decides)?"""
    verdicts = {looks_like_a_person(name, network) for network in _EXTREME_NETWORKS}
    return verdicts.pop() if len(verdicts) == 1 else None


def _decide(record: Mapping[str, object]) -> tuple[Decision, str | None]:
    """The decision before asking whether a company's name is a person's, and that
    name when it is to be asked (the winner is a company)."""
    if not _has_record(record):
        return Decision(Classification.UNKNOWN, "no_record", ["no MaxMind database has a record"]), None
    signals = _signals(record)
    if not signals:
        return Decision(
            Classification.UNKNOWN,
            "no_organization",
            ["MaxMind has a record but no organization to name"],
        ), None
    winner = min(signals, key=lambda signal: PRECEDENCE.index(signal.classification))
    evidence = [signal.explanation for signal in signals]
    evidence.append(f"decision: {winner.classification} ({winner.reason})")
    company = str(record.get("organization")) if winner.classification == Classification.COMPANY else None
    return Decision(winner.classification, winner.reason, evidence), company


def _a_person(decision: Decision, organization: str) -> Decision:
    # We identify companies, never people: a person's name on a small allocation is a home line.
    evidence = [
        *decision.evidence[:-1],
        f"organization {organization!r} names a person, not a company",
        "decision: isp (organization_is_a_person)",
    ]
    return Decision(Classification.ISP, "organization_is_a_person", evidence)


def distinct_rows(columns: list[pd.Series | np.ndarray], length: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's group among the distinct rows of ``columns`` (all missing values alike),
    numbered in order of appearance, and each group's first row."""
    if not columns:
        groups = np.zeros(length, dtype=np.int64)
    else:
        frame = pd.DataFrame(
            {n: np.asarray(c) if isinstance(c, np.ndarray) else c.array for n, c in enumerate(columns)}
        )
        groups = frame.groupby(list(frame.columns), sort=False, dropna=False).ngroup().to_numpy()
    return groups, np.flatnonzero(~pd.Series(groups).duplicated().to_numpy())


def _records(lookups: pd.DataFrame, names: list[str], rows: np.ndarray) -> list[dict[str, object]]:
    """``rows`` of ``lookups`` as records of ``names``, with None for every kind of missing value."""
    sample = lookups[names].iloc[rows]
    values = [
        [None if missing else value for value, missing in zip(column.tolist(), column.isna().tolist())]
        for column in (sample[name] for name in names)
    ]
    return [dict(zip(names, row)) for row in zip(*values)] if names else [{} for _ in rows]


def _signals(record: Mapping[str, object]) -> list[_Signal]:
    """Every piece of evidence in the record, in the order it is checked."""
    signals = [
        _Signal(Classification.ANONYMOUS, reason, f"{flag}: {what}")
        for flag, reason, what in ANONYMITY_FLAGS
        if _flag(record.get(flag))
    ]
    if _flag(record.get("is_hosting_provider")):
        signals.append(
            _Signal(
                Classification.HOSTING,
                "anonymous_ip:hosting_provider",
                "is_hosting_provider: a hosting provider",
            )
        )
    user_type = _text(record.get("user_type"))
    known_user_type = USER_TYPES.get(user_type.lower()) if user_type else None
    organization = _text(record.get("organization"))
    if known_user_type:
        signals.extend(_user_type_signal(user_type.lower(), *known_user_type, organization))
    connection_type = _text(record.get("connection_type"))
    if connection_type and connection_type.lower() == "cellular":
        signals.append(
            _Signal(
                Classification.MOBILE,
                "connection_type:cellular",
                "connection_type=Cellular: a mobile connection",
            )
        )
    if organization and not known_user_type:
        signals.extend(_name_signals(organization, _text(record.get("isp"))))
        signals.append(_organization_signal(organization, record))
    return signals


def _user_type_signal(
    user_type: str, classification: Classification, meaning: str, organization: str | None
) -> list[_Signal]:
    explanation = f"user_type={user_type}: {meaning}"
    if classification is Classification.COMPANY:
        if not organization:
            return []  # a business network with no name cannot be reported as a company
        explanation += f", organization {organization!r}"
    return [_Signal(classification, f"user_type:{user_type}", explanation)]


def _name_signals(organization: str, isp: str | None) -> list[_Signal]:
    signals = []
    if isp and _comparable(organization) and _comparable(organization) == _comparable(isp):
        signals.append(
            _Signal(
                Classification.ISP,
                "org_equals_isp",
                f"organization {organization!r} is its ISP {isp!r}: the access network itself",
            )
        )
    signals.extend(
        _Signal(
            classification,
            f"org_name:{kind}",
            f"organization {organization!r} matches the {kind.replace('_', ' ')} keywords",
        )
        for pattern, classification, kind in _NAME_RULES
        if pattern.search(organization)
    )
    return signals


def _organization_signal(organization: str, record: Mapping[str, object]) -> _Signal:
    domain = _text(record.get("domain"))
    with_domain = f" ({domain})" if domain else ""
    return _Signal(
        Classification.COMPANY,
        "organization",
        f"organization {organization!r}{with_domain}: a named organization",
    )


def _has_record(record: Mapping[str, object]) -> bool:
    return any(_present(record.get(name)) for name in VALUE_FIELDS) or any(
        _flag(record.get(name)) for name in FLAG_FIELDS
    )


def _comparable(name: str) -> tuple[str, ...]:
    """Name words without case, punctuation or legal form."""
    return tuple(word for word in re.findall(r"\w+", name.casefold()) if word not in LEGAL_FORMS)


def _present(value: object) -> bool:
    # Lookup frames hold None, pd.NA or NaN for "no value".
    if isinstance(value, str):
        return value != ""
    return value is not None and value is not pd.NA and value == value  # NaN != NaN


def _text(value: object) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _flag(value: object) -> bool:
    return _present(value) and bool(value)
