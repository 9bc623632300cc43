"""Is this IP a company? Classify merged MaxMind lookups by the rules file, with a reason for every call.

The rules (config/classification_rules.yaml, `enrichment.classification_rules`) are tried
in order, strongest evidence first; the first that holds gives the class, its reason
code and its confidence. Two things are not rules, because no file may turn them off:

- a record no database knows is ``unknown`` (``no_record``); one no rule takes is
  ``unknown`` (``no_organization``): a company needs an organization to name;
- a company whose organization names a person (`enrichment.people`) is a home line:
  ``isp`` (``organization_is_a_person``). We identify companies, never people.

And what the user declares beats what MaxMind says: `claim_account_ranges` gives an
address inside a target account's ``ip_ranges`` to that account (``account_ip_range``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from enrichment.classification_rules import (
    ANONYMITY_FLAGS,
    RECORD_FIELDS,
    Classification,
    ClassificationRules,
    Rule,
)
from enrichment.evidence import Facts, flag, present, text
from enrichment.matching import TargetAccount, match_companies
from enrichment.people import looks_like_a_person

__all__ = ["Classification", "Decision", "classify", "classify_lookups", "claim_account_ranges", "distinct_rows"]

# How sure we are that a company named like a person is one; declared ranges are certain.
PERSON_CONFIDENCE = 0.9
ACCOUNT_RANGE_CONFIDENCE = 1.0

# Lookup fields whose value means MaxMind had a record (not ip, network, epoch or the flags).
VALUE_FIELDS = (*RECORD_FIELDS, "sources")


@dataclass(frozen=True)
class Decision:
    """What an IP is, the reason code and the rule that decided it, how sure that rule is, and what it saw."""

    classification: Classification
    reason: str
    confidence: float
    rule: str | None = None  # "rule 11: user_type in [residential] -> isp (...)"; None: no rule decided
    evidence: list[str] = field(default_factory=list)
    rules_version: str = ""


def classify(record: Mapping[str, object], rules: ClassificationRules) -> Decision:
    """Classify one merged lookup (a row of `MaxMindDatabases.lookup`, or any mapping
    with some of its fields) by ``rules``."""
    decision, company = _decide(record, rules)
    if company is not None and looks_like_a_person(company, text(record.get("network"))):
        return _a_person(decision, company)
    return decision


def classify_lookups(lookups: pd.DataFrame, rules: ClassificationRules) -> pd.DataFrame:
    """``lookups`` with ``classification``, ``reason``, ``confidence`` and ``rules_version`` columns added.

    Decided once per distinct record; a row's network is looked at only where it can
    tell whether a company's name is a person's.
    """
    present_fields = [name for name in (*VALUE_FIELDS, *ANONYMITY_FLAGS) if name in lookups.columns]
    groups, first_rows = distinct_rows([lookups[name] for name in present_fields], len(lookups))
    outcomes: dict[tuple[str, str, float], int] = {}  # (classification, reason, confidence) -> its number

    def number(decision: Decision) -> int:
        key = (decision.classification.value, decision.reason, decision.confidence)
        return outcomes.setdefault(key, len(outcomes))

    group_outcomes = np.empty(len(first_rows), dtype=np.int64)
    per_network: dict[int, tuple[Decision, str]] = {}  # groups whose rows' networks decide
    a_person = functools.cache(_person_regardless_of_network)
    for group, record in enumerate(_records(lookups, present_fields, first_rows)):
        decision, company = _outcome(record, rules)
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
            key = (group, text(network))
            if key not in decided:
                decision, company = per_network[group]
                is_a_person = looks_like_a_person(company, key[1])
                decided[key] = number(_a_person(decision, company) if is_a_person else decision)
            row_outcomes[row] = decided[key]
    classifications, reasons, confidences = zip(*outcomes) if outcomes else ((), (), ())
    return lookups.assign(
        classification=pd.Series(pd.array(classifications, dtype="str").take(row_outcomes), index=lookups.index),
        reason=pd.Series(pd.array(reasons, dtype="str").take(row_outcomes), index=lookups.index),
        confidence=pd.Series(np.array(confidences, dtype="float64")[row_outcomes], index=lookups.index),
        rules_version=pd.Series(rules.version, index=lookups.index, dtype="str"),
    )


def claim_account_ranges(classified: pd.DataFrame, accounts: list[TargetAccount]) -> pd.DataFrame:
    """``classified`` (from `classify_lookups`) with every IP inside a target account's
    ``ip_ranges`` made that account's company, whatever MaxMind said or lacked.

    Reason ``account_ip_range``, confidence 1; the account's name is the organization
    where MaxMind has none. Our own office ranges never get here: cleaning drops them.
    """
    if classified.empty or not any(account.ip_ranges for account in accounts):
        return classified
    # Matching without names or domains leaves the IP-range method alone.
    no_names = pd.Series(None, index=classified.index, dtype="str")
    owners = match_companies(
        pd.DataFrame({"ip": classified["ip"], "organization": no_names, "domain": no_names}), accounts
    )["account_id"]
    claimed = owners.notna()
    if not claimed.any():
        return classified
    names = {account.account_id: account.name for account in accounts}
    result = classified.copy()
    result.loc[claimed, "classification"] = Classification.COMPANY.value
    result.loc[claimed, "reason"] = "account_ip_range"
    result.loc[claimed, "confidence"] = ACCOUNT_RANGE_CONFIDENCE
    unnamed = claimed & result["organization"].isna()
    result.loc[unnamed, "organization"] = owners[unnamed].map(names)
    return result


# The extremes of network size: a name that is (or is not) a person's on both, and
# without a network, is so on every network (`looks_like_a_person` is monotonic in size).
_EXTREME_NETWORKS = (None, "0.0.0.0/0", "0.0.0.0/32")


def _person_regardless_of_network(name: str) -> bool | None:
    """Is ``name`` a person's on every network (True), on none (False), or only on some
    (None: each network decides)?"""
    verdicts = {looks_like_a_person(name, network) for network in _EXTREME_NETWORKS}
    return verdicts.pop() if len(verdicts) == 1 else None


def _decide(record: Mapping[str, object], rules: ClassificationRules) -> tuple[Decision, str | None]:
    """The first rule's decision, before asking whether a company's name is a person's,
    and that name when it is to be asked (the rule made a company)."""
    if not _has_record(record):
        return Decision(
            Classification.UNKNOWN, "no_record", 1.0, None, ["no MaxMind database has a record"], rules.version
        ), None
    facts = Facts(record, rules)
    found = _first_rule(facts, rules)
    if found is None:
        evidence = [
            *facts.seen(),
            "decision: unknown (no_organization): MaxMind has a record but no organization to name",
        ]
        return Decision(Classification.UNKNOWN, "no_organization", 1.0, None, evidence, rules.version), None
    number, rule = found
    described = f"rule {number}: {rule.describe()}"
    company = facts.organization if rule.class_ is Classification.COMPANY else None
    named = [f"organization: {_named(company, record)}"] if company else []
    evidence = [*facts.seen(), *named, described, f"decision: {rule.class_} ({rule.reason})"]
    return Decision(rule.class_, rule.reason, rule.confidence, described, evidence, rules.version), company


def _outcome(record: Mapping[str, object], rules: ClassificationRules) -> tuple[Decision, str | None]:
    """`_decide` without its evidence, for whole frames: the class, reason and confidence are what is kept."""
    if not _has_record(record):
        return Decision(Classification.UNKNOWN, "no_record", 1.0), None
    facts = Facts(record, rules)
    found = _first_rule(facts, rules)
    if found is None:
        return Decision(Classification.UNKNOWN, "no_organization", 1.0), None
    rule = found[1]
    company = facts.organization if rule.class_ is Classification.COMPANY else None
    return Decision(rule.class_, rule.reason, rule.confidence), company


def _first_rule(facts: Facts, rules: ClassificationRules) -> tuple[int, Rule] | None:
    """The number and the rule of the first rule that holds for ``facts``, or None."""
    for signal, table, entries in rules.steps:
        if table is not None:
            entries = table.get(facts.value(signal), [])
        for number, rule, tests, makes_a_company in entries:
            if makes_a_company and not facts.organization:
                continue  # a company we cannot name is no lead
            if table is not None or all(facts.holds(signal, condition) for signal, condition in tests):
                return number, rule
    return None


def _named(organization: str, record: Mapping[str, object]) -> str:
    domain = text(record.get("domain"))
    return f"{organization!r} ({domain})" if domain else repr(organization)


def _a_person(decision: Decision, organization: str) -> Decision:
    # We identify companies, never people: a person's name is a home line.
    evidence = [
        *decision.evidence[:-1],
        f"organization {organization!r} names a person, not a company",
        "decision: isp (organization_is_a_person)",
    ]
    return Decision(
        Classification.ISP,
        "organization_is_a_person",
        PERSON_CONFIDENCE,
        decision.rule,
        evidence,
        decision.rules_version,
    )


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


def _has_record(record: Mapping[str, object]) -> bool:
    return any(present(record.get(name)) for name in VALUE_FIELDS) or any(
        flag(record.get(name)) for name in ANONYMITY_FLAGS
    )
