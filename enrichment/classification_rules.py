"""The classification rules file (config/classification_rules.yaml) and its ASN table: checked and compiled.

The file is an ordered list of rules (signal, condition, class, reason code, confidence)
with the vocabularies its word signals use; `connectors.config_files` reads it and
`enrichment.resolution` applies it. A mistake stops the run with one ConfigError naming
the file, the line and the field, like the settings and the account list.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from enrichment.errors import ConfigError, field_error, first_error, yaml_mapping
from enrichment.names import name_words


class Classification(StrEnum):
    ANONYMOUS = "anonymous"
    BOT = "bot"
    HOSTING = "hosting"
    MOBILE = "mobile"
    ISP = "isp"
    COMPANY = "company"
    UNKNOWN = "unknown"


# MaxMind's anonymity flags (GeoIP2-Anonymous-IP, and GeoIP2-Enterprise traits): the one list.
# The fields of a merged MaxMind record (one per unique IP) whose value means MaxMind had a
# record; the Anonymous-IP flags below are apart (a False flag only says it has none).
RECORD_FIELDS = (
    "organization",
    "isp",
    "domain",
    "asn",
    "as_organization",
    "mobile_country_code",
    "mobile_network_code",
    "country",
    "connection_type",
    "user_type",
)
ANONYMITY_FLAGS = (
    "is_anonymous",
    "is_anonymous_vpn",
    "is_hosting_provider",
    "is_public_proxy",
    "is_tor_exit_node",
    "is_residential_proxy",
)
ASN_CATEGORIES = ("hosting", "cloud", "cdn", "vpn", "mobile", "access", "transit")
ORGANIZATION_VS_ISP = ("same", "part", "pool", "different", "no_isp")
# What a rule can look at, and what kind of value it is: a yes/no, one value, or a set of vocabulary names.
YES_NO_SIGNALS = (*ANONYMITY_FLAGS, "mobile_codes")
# MaxMind's documented values (user_type: GeoIP2-Enterprise; connection_type: lower case here).
USER_TYPES = (
    "business",
    "cafe",
    "cellular",
    "college",
    "consumer_privacy_network",
    "content_delivery_network",
    "dialup",
    "government",
    "hosting",
    "library",
    "military",
    "residential",
    "router",
    "school",
    "search_engine_spider",
    "traveler",
)
CONNECTION_TYPES = ("cable/dsl", "cellular", "corporate", "dialup", "satellite")
VALUE_SIGNALS = {
    "user_type": USER_TYPES,
    "connection_type": CONNECTION_TYPES,
    "asn_category": ASN_CATEGORIES,
    "organization_vs_isp": ORGANIZATION_VS_ISP,
}
WORD_SIGNALS = ("organization_words", "isp_words")
POOL_VOCABULARY = "pool"  # the words that make an ISP's brand a customer pool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Condition(_Strict):
    """``{is: true}`` for a yes/no signal, ``{in: [values]}`` for the others."""

    is_: bool | None = Field(default=None, alias="is")
    in_: tuple[str, ...] | None = Field(default=None, alias="in", min_length=1)

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        if (self.is_ is None) == (self.in_ is None):
            raise ValueError("give exactly one of `is: true|false` or `in: [values]`")
        return self

    def describe(self) -> str:
        return f"is {str(self.is_).lower()}" if self.is_ is not None else f"in [{', '.join(self.in_ or ())}]"


class Rule(_Strict):
    """One line of evidence: when ``signal`` meets ``condition`` (and every ``also``), the record is ``class_``."""

    signal: str
    condition: Condition
    also: dict[str, Condition] = Field(default_factory=dict)
    class_: Classification = Field(alias="class")
    reason: str = Field(min_length=1)
    confidence: float = Field(gt=0, le=1)

    @field_validator("signal")
    @classmethod
    def _known_signal(cls, signal: str) -> str:
        _check_signal(signal)
        return signal

    @field_validator("also")
    @classmethod
    def _known_signals(cls, also: dict[str, Condition]) -> dict[str, Condition]:
        for signal in also:
            _check_signal(signal)
        return also

    def tests(self) -> list[tuple[str, Condition]]:
        """(signal, condition) pairs that must all hold, the main one first."""
        return [(self.signal, self.condition), *self.also.items()]

    def describe(self) -> str:
        tests = " and ".join(f"{signal} {condition.describe()}" for signal, condition in self.tests())
        return f"{tests} -> {self.class_} ({self.reason}, confidence {self.confidence:g})"


class RulesFile(_Strict):
    version: str = Field(min_length=1)
    asn_categories: str = "asn_categories.csv"
    vocabularies: dict[str, list[str]] = Field(default_factory=dict)
    rules: list[Rule] = Field(min_length=1)

    @field_validator("vocabularies")
    @classmethod
    def _entries(cls, vocabularies: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, entries in vocabularies.items():
            for entry in entries:
                _check_entry(name, str(entry))
        return vocabularies


def _check_signal(signal: str) -> None:
    known = (*YES_NO_SIGNALS, *VALUE_SIGNALS, *WORD_SIGNALS)
    if signal not in known:
        raise ValueError(f"unknown signal {signal!r}; the signals are {', '.join(known)}")


def _check_entry(vocabulary: str, entry: str) -> None:
    words = name_words(entry.strip("!*"))
    if not words:
        raise ValueError(f"{vocabulary}: {entry!r} has no word to match")
    if ("*" in entry or entry.startswith("!")) and len(words) > 1:
        raise ValueError(f"{vocabulary}: {entry!r}: '*' and '!' work on single words only")


# --- vocabularies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """A vocabulary's entries, compiled for matching folded name words."""

    words: frozenset[str]
    phrases: tuple[tuple[str, str], ...]  # (" folded phrase ", entry)
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...]
    infixes: tuple[str, ...]
    never: frozenset[str]

    @classmethod
    def compile(cls, entries: Sequence[str]) -> Vocabulary:
        words, phrases, prefixes, suffixes, infixes, never = set(), [], [], [], [], set()
        for entry in entries:
            parts = name_words(entry.strip("!*"))
            if entry.startswith("!"):
                never.add(parts[0])
            elif entry.startswith("*") and entry.endswith("*"):
                infixes.append(parts[0])
            elif entry.endswith("*"):
                prefixes.append(parts[0])
            elif entry.startswith("*"):
                suffixes.append(parts[0])
            elif len(parts) == 1:
                words.add(parts[0])
            else:
                phrases.append((f" {' '.join(parts)} ", entry))
        return cls(frozenset(words), tuple(phrases), tuple(prefixes), tuple(suffixes), tuple(infixes), frozenset(never))

    def match(self, words: Sequence[str]) -> str | None:
        """The first of ``words`` (folded) or phrase this vocabulary holds, or None."""
        words = [word for word in words if word not in self.never]
        for word in words:
            if (
                word in self.words
                or word.startswith(self.prefixes)
                or any(word.endswith(s) and len(word) >= len(s) + 2 for s in self.suffixes)
                or any(infix in word for infix in self.infixes)
            ):
                return word
        text = f" {' '.join(words)} "
        return next((entry for phrase, entry in self.phrases if phrase in text), None)


# --- the compiled rules --------------------------------------------------------------------------


@dataclass(frozen=True)
class AsnCategory:
    category: str
    name: str


class ClassificationRules:
    """A checked rules file, ready to apply: its version, rules, vocabularies and ASN table."""

    def __init__(
        self, version: str, rules: Sequence[Rule], vocabularies: dict[str, Vocabulary], asns: dict[int, AsnCategory]
    ) -> None:
        self.version = version
        self.rules = tuple(rules)
        self.steps = _steps(self.rules)
        self.vocabularies = vocabularies
        self.asns = asns
        # Names repeat across records (one ISP, many connection types): match each once.
        self.vocabularies_hit = functools.lru_cache(maxsize=65_536)(self._vocabularies_hit)

    def words_in(self, name: str) -> dict[str, str]:
        """Vocabulary name -> the word of ``name`` that hit it, for every vocabulary it hits."""
        return self.vocabularies_hit(tuple(name_words(name)))

    def _vocabularies_hit(self, words: tuple[str, ...]) -> dict[str, str]:
        found = {vocabulary: vocab.match(words) for vocabulary, vocab in self.vocabularies.items()}
        return {vocabulary: word for vocabulary, word in found.items() if word is not None}


# One rule as `enrichment.resolution` walks it: its number, the rule, its tests, whether it makes a company.
RuleEntry = tuple[int, Rule, tuple[tuple[str, Condition], ...], bool]
# Consecutive rules that test only one signal's value become one step: that value's
# rules are looked up, not tried one by one (a record with a user_type is decided after
# a handful of look-ups). Any other rule is a step of its own: (None, None, [its entry]).
Step = tuple[str | None, dict[object, list[RuleEntry]] | None, list[RuleEntry]]


def _steps(rules: Sequence[Rule]) -> tuple[Step, ...]:
    steps: list[Step] = []
    for number, rule in enumerate(rules, start=1):
        entry: RuleEntry = (number, rule, tuple(rule.tests()), rule.class_ is Classification.COMPANY)
        if rule.also or rule.signal in WORD_SIGNALS:
            steps.append((None, None, [entry]))
            continue
        if not steps or steps[-1][0] != rule.signal:
            steps.append((rule.signal, {}, []))
        table = steps[-1][1]
        assert table is not None  # a signal's step always has its table
        for value in (rule.condition.is_,) if rule.condition.is_ is not None else rule.condition.in_ or ():
            table.setdefault(value, []).append(entry)
        steps[-1][2].append(entry)
    return tuple(steps)


def parse_rules_file(text: str, source: Path) -> RulesFile:
    """Validate a rules file's text; the ASN table it names is read by the caller (`compile_rules`)."""
    raw = yaml_mapping(text, source, "a mapping with version, vocabularies and rules")
    try:
        parsed = RulesFile(**raw)
    except ValidationError as error:
        raise first_error(error, text, source) from None
    _check_references(parsed, source, text)
    return parsed


def asn_table_path(parsed: RulesFile, source: Path) -> Path:
    """Where the ASN table of a rules file is: its ``asn_categories``, relative to the file."""
    return source.parent / parsed.asn_categories


def compile_rules(parsed: RulesFile, asns: dict[int, AsnCategory]) -> ClassificationRules:
    """The rules of a checked rules file, with their vocabularies compiled and its ASN table."""
    vocabularies = {
        name: Vocabulary.compile([str(e) for e in entries]) for name, entries in parsed.vocabularies.items()
    }
    return ClassificationRules(parsed.version, parsed.rules, vocabularies, asns)


def _check_references(parsed: RulesFile, path: Path, text: str) -> None:
    """Values a rule tests must be values its signal can have; word signals name vocabularies."""
    if POOL_VOCABULARY not in parsed.vocabularies:
        raise field_error(text, path, ("vocabularies",), f"a `{POOL_VOCABULARY}` vocabulary is needed (pool words)")
    for number, rule in enumerate(parsed.rules):
        for signal, condition in rule.tests():
            where = ("rules", number, "condition") if signal == rule.signal else ("rules", number, "also", signal)
            problem = _condition_problem(signal, condition, parsed.vocabularies)
            if problem:
                raise field_error(text, path, where, problem)


def _condition_problem(signal: str, condition: Condition, vocabularies: dict[str, list[str]]) -> str | None:
    if signal in YES_NO_SIGNALS:
        return None if condition.is_ is not None else f"{signal} is yes/no: write `is: true` or `is: false`"
    if condition.in_ is None:
        return f"{signal} has values: write `in: [...]`"
    allowed = tuple(vocabularies) if signal in WORD_SIGNALS else VALUE_SIGNALS[signal]
    unknown = [value for value in condition.in_ if value not in allowed]
    if unknown:
        return f"{signal} cannot be {', '.join(unknown)}; it can be {', '.join(allowed)}"
    return None


# --- the ASN table ----------------------------------------------------------------------------------


class _AsnRow(_Strict):
    asn: int = Field(ge=1, le=4_294_967_295)
    category: str
    name: str = Field(min_length=1)

    @field_validator("category")
    @classmethod
    def _known_category(cls, category: str) -> str:
        if category not in ASN_CATEGORIES:
            raise ValueError(f"{category!r} is not one of {', '.join(ASN_CATEGORIES)}")
        return category


def parse_asn_categories(text: str, path: Path) -> dict[int, AsnCategory]:
    """The ASN table: ``#`` lines are its header (sources, date), then ``asn,category,name`` rows."""
    lines = text.splitlines()
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip() and not line.startswith("#")]
    if not numbered or numbered[0][1].replace(" ", "") != "asn,category,name":
        raise ConfigError(f"{path}:{numbered[0][0] if numbered else 1}: the header must be asn,category,name")
    table: dict[int, AsnCategory] = {}
    for number, line in numbered[1:]:
        values = next(csv.reader(io.StringIO(line)))
        if len(values) != 3:
            raise ConfigError(f"{path}:{number}: expected 3 values (asn,category,name), found {len(values)}")
        try:
            row = _AsnRow(**dict(zip(("asn", "category", "name"), (v.strip() for v in values))))
        except ValidationError as error:
            first = error.errors()[0]
            raise ConfigError(f"{path}:{number}: field `{first['loc'][0]}`: {first['msg']}") from None
        if row.asn in table:
            raise ConfigError(f"{path}:{number}: field `asn`: AS{row.asn} is listed twice")
        table[row.asn] = AsnCategory(row.category, row.name)
    return table
