"""Account matching: the demo world's companies land on the right accounts, prospects on none."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.config_files import load_target_accounts
from enrichment.errors import ConfigError
from enrichment.matching import (
    MATCH_COLUMNS,
    TargetAccount,
    match_companies,
    normalize_company_name,
    registrable_domain,
)

SHIPPED_ACCOUNTS = Path(__file__).resolve().parents[1] / "config" / "target_accounts.csv"
HEADER = "account_id,name,domains,aliases,ip_ranges,crm_id,owner\n"


@pytest.fixture(scope="module")
def accounts() -> list[TargetAccount]:
    return load_target_accounts(SHIPPED_ACCOUNTS)


def _companies(*rows: tuple[str, str | None, str | None]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["ip", "organization", "domain"], dtype="str")


def _match(
    accounts: list[TargetAccount], organization: str | None, domain: str | None = None, ip: str = "67.199.70.10"
) -> dict[str, object]:
    return match_companies(_companies((ip, organization, domain)), accounts).iloc[0].to_dict()


def test_the_shipped_account_list_loads(accounts: list[TargetAccount]) -> None:
    globex = next(account for account in accounts if account.account_id == "ACME-005")
    assert globex.ip_ranges == (ipaddress.ip_network("185.71.64.0/24"),)
    assert next(a for a in accounts if a.account_id == "ACME-002").domains == ("contoso-mfg.de", "contoso.com")


@pytest.mark.parametrize(
    ("ip", "organization", "domain", "account_id", "matched_by"),
    [
        ("95.167.30.5", "ООО «Северсталь-Инфоком»", None, "ACME-003", "name"),
        ("95.167.30.6", "Severstal-Infocom LLC", None, "ACME-003", "alias"),
        ("80.150.20.5", "Contoso Manufacturing GmbH", "contoso.com", "ACME-002", "domain"),
        ("193.5.40.5", "Fabrikam Banking Services", "mail.fabrikam-bank.ch", "ACME-004", "domain"),
        ("185.71.64.77", "Equinix Managed Office Services", None, "ACME-005", "ip_range"),
        ("63.245.60.5", "Initech Solutions Ltd.", None, "ACME-006", "fuzzy"),
        ("63.245.60.6", "Tyrel Corp.", None, "ACME-007", "fuzzy"),  # a typo, 91 against "tyrell": at the default 90
        ("193.5.40.6", "Bank Fabrikam", None, "ACME-004", "fuzzy"),  # the same words in another order
        ("81.130.50.5", "Tyrell Corp.", None, "ACME-007", "alias"),
        ("64.124.10.5", "Northwind Logistics, Inc.", None, "ACME-001", "name"),
    ],
)
def test_demo_companies_match_their_accounts(
    accounts: list[TargetAccount], ip: str, organization: str, domain: str | None, account_id: str, matched_by: str
) -> None:
    match = _match(accounts, organization, domain, ip)
    assert (match["account_id"], match["matched_by"]) == (account_id, matched_by)


@pytest.mark.parametrize(
    ("organization", "domain"),
    [
        ("Wayne Enterprises", "wayne-enterprises.example"),
        ("Globochem AG", "globochem.ch"),
        ("АО «Балтийский Терминал»", "baltterminal.ru"),
        ("Umbrella Healthcare", None),  # near miss: token_set_ratio 88 < 90
        ("Health Inc.", None),  # only a part of "Umbrella Health"
        ("Contoso Northwind", None),  # resembles two accounts equally
    ],
)
def test_prospects_and_doubtful_names_match_no_account(
    accounts: list[TargetAccount], organization: str, domain: str | None
) -> None:
    match = _match(accounts, organization, domain)
    assert pd.isna(match["account_id"]) and pd.isna(match["matched_by"]) and pd.isna(match["confidence"])


def test_confidence_follows_the_method(accounts: list[TargetAccount]) -> None:
    matches = match_companies(
        _companies(
            ("185.71.64.1", None, None),
            ("80.150.20.5", None, "contoso.com"),
            ("81.130.50.5", "Tyrell Corp.", None),
            ("63.245.60.5", "Initech Solutions Ltd.", None),
        ),
        accounts,
    )
    assert matches["confidence"].tolist() == pytest.approx([1.0, 1.0, 0.95, 0.9])


def test_a_higher_threshold_turns_a_fuzzy_match_into_a_prospect(accounts: list[TargetAccount]) -> None:
    companies = _companies(("64.124.10.5", "Nortwind Logistics", None))  # a typo: 97 against "northwind logistics"
    assert match_companies(companies, accounts, fuzzy_threshold=90)["account_id"].tolist() == ["ACME-001"]
    assert match_companies(companies, accounts, fuzzy_threshold=99)["account_id"].isna().all()


def test_one_row_per_input_row_in_input_order(accounts: list[TargetAccount]) -> None:
    companies = _companies(
        ("81.130.50.7", "Tyrell Corp.", None),
        ("67.199.70.1", "Wayne Enterprises", "wayne-enterprises.example"),
        ("81.130.50.8", "Tyrell Corp.", None),
    )
    matches = match_companies(companies, accounts)
    assert list(matches.columns) == MATCH_COLUMNS
    assert matches["ip"].tolist() == ["81.130.50.7", "67.199.70.1", "81.130.50.8"]
    assert matches["account_id"].tolist()[::2] == ["ACME-007", "ACME-007"]


def test_the_ip_range_wins_over_the_name(accounts: list[TargetAccount]) -> None:
    match = _match(accounts, "Tyrell Corp.", ip="185.71.64.200")
    assert (match["account_id"], match["matched_by"]) == ("ACME-005", "ip_range")


def test_with_a_single_account_an_unrelated_company_stays_a_prospect() -> None:
    # With one account, an unrelated name's zero score is still that account's best score.
    only_initech = [TargetAccount(account_id="INITECH", name="Initech")]
    matches = match_companies(
        _companies(("64.124.10.5", "Wayne Enterprises", None), ("63.245.60.5", "Initech Solutions", None)),
        only_initech,
    )
    assert pd.isna(matches["account_id"].iloc[0])
    assert matches["account_id"].iloc[1] == "INITECH"


def test_ipv6_addresses_match_ipv6_ranges_the_longest_prefix_first() -> None:
    wide = TargetAccount(account_id="W", name="Wide Area", ip_ranges=(ipaddress.ip_network("2001:db8::/32"),))
    site = TargetAccount(account_id="S", name="One Site", ip_ranges=(ipaddress.ip_network("2001:db8:1::/48"),))
    host = TargetAccount(account_id="H", name="One Host", ip_ranges=(ipaddress.ip_network("2001:db8::1/128"),))
    companies = _companies(("2001:db8:1::5", None, None), ("2001:db8:2::5", None, None), ("2001:db8::1", None, None))
    assert match_companies(companies, [wide, site, host])["account_id"].tolist() == ["S", "W", "H"]


def test_a_client_that_is_not_an_address_matches_no_range(accounts: list[TargetAccount]) -> None:
    assert pd.isna(_match(accounts, None, ip="unknown")["account_id"])


def test_with_no_accounts_nothing_matches() -> None:
    matches = match_companies(_companies(("10.1.2.3", "Initech", "initech.example")), [])
    assert matches["account_id"].isna().all()


def test_the_longest_prefix_wins_when_ranges_nest() -> None:
    parent = TargetAccount(account_id="P", name="Parent Group", ip_ranges=(ipaddress.ip_network("10.0.0.0/8"),))
    child = TargetAccount(account_id="C", name="Child Unit", ip_ranges=(ipaddress.ip_network("10.1.2.0/24"),))
    matches = match_companies(_companies(("10.1.2.3", None, None), ("10.9.9.9", None, None)), [parent, child])
    assert matches["account_id"].tolist() == ["C", "P"]


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Acme, Inc.", "ACME Incorporated"),
        ("ООО «Северсталь-Инфоком»", "Северсталь Инфоком"),
        ("Globex S.A.", "GLOBEX SA"),
        ("Fabrikam B.V.", "Fabrikam BV"),
        ("Contoso GmbH & Co. KG", "Contoso"),
        ("«Tyrell» Ltd", '"Tyrell" Limited'),
    ],
)
def test_names_written_differently_normalise_equal(left: str, right: str) -> None:
    assert normalize_company_name(left) == normalize_company_name(right)


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ('ПАО "Ростелеком"', "rostelekom"),
        ("Procter & Gamble", "procter and gamble"),
        ("Северсталь-Инфоком", "severstal infokom"),
        ("Inc Publishing Co.", "publishing"),
        ("IP Telecom Ltd", "ip telecom"),  # "ИП" is a Russian legal form; Latin "IP" is a word
    ],
)
def test_normalised_names(name: str, normalised: str) -> None:
    assert normalize_company_name(name) == normalised


_NAME_PIECES = st.sampled_from(
    [
        "Acme",
        "Северсталь",
        "Инфоком",
        "&",
        "Co.",
        "S.A.",
        "s.a",
        "B.V.",
        "LLC",
        "L.L.C.",
        "ООО",
        "«",
        "»",
        '"',
        "'",
        "-",
        ",",
        ".",
        " ",
        "GmbH",
        "& Co. KG",
        "ь",
        "Ltd",
        "inc",
        "İ",
        "ß",
    ]
)


@given(st.one_of(st.text(), st.lists(_NAME_PIECES).map("".join), st.lists(_NAME_PIECES).map(" ".join)))
def test_normalising_twice_changes_nothing(name: str) -> None:
    once = normalize_company_name(name)
    assert normalize_company_name(once) == once


@pytest.mark.parametrize(
    ("host", "registrable"),
    [
        ("mail.fabrikam-bank.ch", "fabrikam-bank.ch"),
        ("foo.co.uk", "foo.co.uk"),
        ("www.foo.co.uk", "foo.co.uk"),
        ("https://WWW.Contoso.com/about", "contoso.com"),
        ("intranet.globex.example", "globex.example"),
        ("co.uk", None),
        ("localhost", None),
    ],
)
def test_registrable_domain(host: str, registrable: str | None) -> None:
    assert registrable_domain(host) == registrable


def _write(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "accounts.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("rows", "line", "field", "words"),
    [
        ("A-1,Acme,,,,,\nA-1,Globex,,,,,\n", 3, "account_id", "already used by A-1 on line 2"),
        ("A-1,Acme,,,10.0.0.0/33,,\n", 2, "ip_ranges", "not a CIDR network"),
        ("A-1,Acme,,,,,\nA-2,,,,,,\n", 3, "name", "at least 1 character"),
        ("A-1,Acme,acme.com,,,,\nA-2,Acme Europe,www.acme.com,,,,\n", 3, "domains", "already used by A-1"),
        ("A-1,Acme Inc.,,,,,\nA-2,Globex,,ACME,,,\n", 3, "aliases", "already used by A-1"),
        ("A-1,LLC,,,,,\n", 2, "name", "only a legal form"),
        ("A-1,Acme,not a domain,,,,\n", 2, "domains", "not a domain"),
    ],
)
def test_a_mistake_names_file_line_and_field(tmp_path: Path, rows: str, line: int, field: str, words: str) -> None:
    path = _write(tmp_path, rows)
    with pytest.raises(ConfigError) as raised:
        load_target_accounts(path)
    message = str(raised.value)
    assert message.startswith(f"{path}:{line}: field `{field}`: ")
    assert words in message


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text("account_id,name,domains,ip_ranges,crm_id,owner\nA-1,Acme,,,,\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"accounts\.csv:1: missing column\(s\) aliases"):
        load_target_accounts(path)


def test_an_unquoted_comma_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "A-1,Northwind Logistics, Inc.,northwind-logistics.com,,,,\n")
    with pytest.raises(ConfigError, match=r"accounts\.csv:2: more values than columns"):
        load_target_accounts(path)


def test_a_missing_account_list_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"accounts\.csv: target account list not found"):
        load_target_accounts(tmp_path / "accounts.csv")


def test_spaces_around_values_are_ignored(tmp_path: Path) -> None:
    (acme,) = load_target_accounts(_write(tmp_path, " A-1 , Acme , acme.com ,,, 0015g00000Xyz , Maria Lopez \n"))
    assert (acme.account_id, acme.name, acme.domains) == ("A-1", "Acme", ("acme.com",))
    assert (acme.crm_id, acme.owner) == ("0015g00000Xyz", "Maria Lopez")


def test_the_crm_record_and_owner_are_kept_and_blanks_are_missing(tmp_path: Path) -> None:
    path = _write(tmp_path, "A-1,Acme,acme.com,,,0015g00000Xyz,Maria Lopez\nA-2,Globex,, ,, , \n")
    acme, globex = load_target_accounts(path)
    assert (acme.crm_id, acme.owner) == ("0015g00000Xyz", "Maria Lopez")
    assert (globex.crm_id, globex.owner) == (None, None)
