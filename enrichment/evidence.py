"""The signals a classification rule looks at, read from one merged MaxMind record.

Each signal is worked out when a rule first asks for it, and only then: with MaxMind's
``user_type`` a record is decided before any name is read, which keeps resolution as
fast as the lookup. What was worked out is the decision's evidence.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping

import pandas as pd

from enrichment.classification_rules import POOL_VOCABULARY, ClassificationRules, Condition
from enrichment.legal_forms import without_legal_forms
from enrichment.names import name_words


class Facts:
    """The signals of one record under one set of rules, worked out on demand."""

    def __init__(self, record: Mapping[str, object], rules: ClassificationRules) -> None:
        self.record = record
        self.rules = rules
        self._values: dict[str, object] = {}
        self.organization = text(record.get("organization"))
        self.isp = text(record.get("isp"))

    def holds(self, signal: str, condition: Condition) -> bool:
        value = self._values[signal] if signal in self._values else self.value(signal)
        if condition.is_ is not None:
            return value is condition.is_
        if isinstance(value, dict):  # the vocabularies a name hits
            return any(name in value for name in condition.in_ or ())
        return value in (condition.in_ or ())

    def value(self, signal: str) -> object:
        if signal not in self._values:
            self._values[signal] = _SIGNALS[signal](self) if signal in _SIGNALS else flag(self.record.get(signal))
        return self._values[signal]

    def seen(self) -> list[str]:
        """What the rules looked at and found, in the order they asked: "user_type: residential"."""
        return [f"{signal}: {self._describe(signal, value)}" for signal, value in self._values.items() if value]

    def _describe(self, signal: str, value: object) -> str:
        if isinstance(value, dict):
            return ", ".join(f"{vocabulary} ({word!r})" for vocabulary, word in value.items())
        if signal == "asn_category":
            asn = int(self.record["asn"])  # present: it has a category
            return f"{value} (AS{asn} {self.rules.asns[asn].name})"
        if signal == "organization_vs_isp" and self.isp:
            return f"{value} ({self.organization!r} / {self.isp!r})"
        if signal == "mobile_codes":
            codes = (self.record.get("mobile_country_code"), self.record.get("mobile_network_code"))
            return "MCC {} MNC {}".format(*(code if present(code) else "-" for code in codes))
        return "yes" if value is True else str(value)


def _lower(field: str) -> Callable[[Facts], str | None]:
    def read(facts: Facts) -> str | None:
        value = text(facts.record.get(field))
        return value.lower() if value else None

    return read


def _asn_category(facts: Facts) -> str | None:
    asn = facts.record.get("asn")
    found = facts.rules.asns.get(int(asn)) if present(asn) else None
    return found.category if found else None


def _organization_vs_isp(facts: Facts) -> str | None:
    if not facts.organization:
        return None
    return organization_vs_isp(facts.rules, facts.organization, facts.isp)


@functools.lru_cache(maxsize=65_536)
def organization_vs_isp(rules: ClassificationRules, organization: str, isp: str | None) -> str:
    """How an organization's name stands to its ISP's: same, part, pool, different or no_isp.

    Names are compared without case, accents, punctuation, spaces and legal forms
    ("Bredband2 AB" is "BREDBAND2"). An organization that begins with the ISP's whole
    name and goes on with pool words is the ISP's customer pool ("Aircel GPRS Customer
    East" on "Aircel Ltd."); one name beginning with the other is a part of one owner
    ("Etisalat" / "Etisalat Misr").
    """
    if not isp:
        return "no_isp"
    org_words = without_legal_forms(name_words(organization)) or name_words(organization)
    isp_words = without_legal_forms(name_words(isp)) or name_words(isp)
    if "".join(org_words) == "".join(isp_words):
        return "same"
    if isp_words and org_words[: len(isp_words)] == isp_words:
        rest = org_words[len(isp_words) :]
        return "pool" if rules.vocabularies[POOL_VOCABULARY].match(rest) else "part"
    if org_words and isp_words[: len(org_words)] == org_words:
        return "part"
    # One acronym first in both names is one owner's brand ("MTC Netman" / "MTC - Mobile
    # Telecommunications"); a shared first word is not ("China Central Television" / "China Telecom").
    acronym = _ACRONYM.match(organization)
    if acronym and acronym[0] == (_ACRONYM.match(isp) or [None])[0]:
        return "part"
    return "different"


_ACRONYM = re.compile(r"[A-Z][A-Z&]{1,5}(?![\w&])")


def _isp_words(facts: Facts) -> dict[str, str]:
    return facts.rules.words_in(facts.isp) if facts.isp else {}


def _organization_words(facts: Facts) -> dict[str, str]:
    """The vocabularies the organization's own words hit. A customer's name that carries its
    carrier's brand ("Empaques de Carton Uninet" on "Uninet S.A. de C.V.") is read without it."""
    if not facts.organization:
        return {}
    words = name_words(facts.organization)
    if facts.isp and facts.value("organization_vs_isp") == "different":
        carrier = set(without_legal_forms(name_words(facts.isp)))
        words = [word for word in words if word not in carrier] or words
    return facts.rules.vocabularies_hit(tuple(words))


_SIGNALS: dict[str, Callable[[Facts], object]] = {
    "mobile_codes": lambda facts: (
        present(facts.record.get("mobile_country_code")) or present(facts.record.get("mobile_network_code"))
    ),
    "user_type": _lower("user_type"),
    "connection_type": _lower("connection_type"),
    "asn_category": _asn_category,
    "organization_vs_isp": _organization_vs_isp,
    "organization_words": _organization_words,
    "isp_words": _isp_words,
}


def present(value: object) -> bool:
    """Whether a lookup value is there: frames hold None, pd.NA or NaN for "no value"."""
    if isinstance(value, str):
        return value != ""
    return value is not None and value is not pd.NA and value == value  # NaN != NaN


def text(value: object) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def flag(value: object) -> bool:
    return present(value) and bool(value)
