"""The classification rules file and its ASN table: the shipped ones load; a mistake names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.config_files import DEFAULT_RULES_FILE, default_rules, load_classification_rules
from enrichment.classification_rules import parse_asn_categories
from enrichment.errors import ConfigError

ASN_HEADER = "# sources: a test\nasn,category,name\n"
RULES = """\
version: "test-1"
asn_categories: asn.csv
vocabularies:
  pool: [customer]
  hosting: [hosting, "*host", "!ghost"]
rules:
  - {signal: user_type, condition: {in: [residential]}, class: isp, reason: "user_type:residential", confidence: 0.9}
  - signal: organization_words
    condition: {in: [hosting]}
    class: hosting
    reason: "org_name:hosting_provider"
    confidence: 0.8
"""


def write_rules(tmp_path: Path, rules: str = RULES, asns: str = ASN_HEADER + "16509,cloud,Amazon\n") -> Path:
    (tmp_path / "asn.csv").write_text(asns, encoding="utf-8")
    path = tmp_path / "rules.yaml"
    path.write_text(rules, encoding="utf-8")
    return path


def test_the_shipped_rules_load_with_their_version_and_asn_table() -> None:
    rules = default_rules()
    assert rules.version
    assert rules.asns[16509].category == "cloud"
    assert default_rules() is rules  # read once while the files stay as they are
    assert load_classification_rules(DEFAULT_RULES_FILE).version == rules.version


def test_a_rules_file_loads_in_order_with_its_vocabularies(tmp_path: Path) -> None:
    rules = load_classification_rules(write_rules(tmp_path))
    assert rules.version == "test-1"
    assert [rule.reason for rule in rules.rules] == ["user_type:residential", "org_name:hosting_provider"]
    assert rules.words_in("MitiHost Ltd") == {"hosting": "mitihost"}
    assert rules.words_in("Ghost Security") == {}


@pytest.mark.parametrize(
    ("mistake", "replacement", "message"),
    [
        (
            "signal: organization_words",
            "signal: organisation_words",
            r"rules.yaml:8: field `rules.1.signal`: .*unknown signal",
        ),
        (
            "in: [hosting]}",
            "in: [hostin]}",
            r"rules.yaml:9: field `rules.1.condition`: organization_words cannot be hostin",
        ),
        (
            "in: [residential]}",
            "in: [residental]}",
            r"rules.yaml:7: field `rules.0.condition`: user_type cannot be residental",
        ),
        ("class: hosting", "class: server", r"rules.yaml:10: field `rules.1.class`"),
        ("confidence: 0.8", "confidence: 1.8", r"rules.yaml:12: field `rules.1.confidence`"),
        ('version: "test-1"\n', "", r"rules.yaml:1: field `version`: Field required"),
        ("  pool: [customer]\n", "", r"rules.yaml:4: field `vocabularies`: a `pool` vocabulary is needed"),
    ],
)
def test_a_mistake_names_the_file_line_and_field(tmp_path: Path, mistake: str, replacement: str, message: str) -> None:
    assert mistake in RULES
    with pytest.raises(ConfigError, match=message):
        load_classification_rules(write_rules(tmp_path, RULES.replace(mistake, replacement)))


def test_a_yes_no_signal_needs_is(tmp_path: Path) -> None:
    rules = (
        RULES
        + "  - {signal: is_anonymous_vpn, condition: {in: [maybe]}, class: anonymous, reason: vpn, confidence: 1}\n"
    )
    with pytest.raises(ConfigError, match=r"rules.yaml:13: field `rules.2.condition`: is_anonymous_vpn is yes/no"):
        load_classification_rules(write_rules(tmp_path, rules))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("16509,clowd,Amazon\n", r"asn.csv:3: field `category`: .*'clowd' is not one of"),
        ("AS16509,cloud,Amazon\n", r"asn.csv:3: field `asn`"),
        ("16509,cloud\n", r"asn.csv:3: expected 3 values"),
        ("16509,cloud,Amazon\n16509,hosting,Amazon again\n", r"asn.csv:4: field `asn`: AS16509 is listed twice"),
    ],
)
def test_a_mistake_in_the_asn_table_names_its_line(rows: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_asn_categories(ASN_HEADER + rows, Path("asn.csv"))


def test_the_asn_table_has_its_sources_and_date_in_the_header() -> None:
    header = (
        (DEFAULT_RULES_FILE.parent / "asn_categories.csv").read_text(encoding="utf-8").split("asn,category,name")[0]
    )
    assert "Sources:" in header
    assert "2026-" in header


def test_the_rules_file_beside_the_settings_file_is_the_one_in_use(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("VISITOR_INTENT_SETTINGS", str(tmp_path / "settings.yaml"))
    assert default_rules().version == load_classification_rules(DEFAULT_RULES_FILE).version  # none beside: shipped
    write_rules(tmp_path)
    (tmp_path / "rules.yaml").rename(tmp_path / "classification_rules.yaml")
    assert default_rules().version == "test-1"
