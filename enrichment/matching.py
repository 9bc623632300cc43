"""Target accounts (config/target_accounts.csv) and matching identified companies to them.

A company IP is matched by the first method below that finds an account:

============  ==================  =====================================================
matched_by    confidence          when
============  ==================  =====================================================
``ip_range``  1.0                 the IP is in one of the account's ``ip_ranges``
                                  (when ranges nest, the longest prefix wins)
``domain``    1.0                 the company's registrable domain is one of the
                                  account's ``domains``
``name``      0.95                the normalised organisation equals the account's
                                  normalised name (see ``normalize_company_name``)
``alias``     0.95                ... equals one of the account's normalised aliases
``fuzzy``     0.9 × score / 100   rapidfuzz ``token_set_ratio`` of the normalised names
                                  reaches the threshold for exactly one account
============  ==================  =====================================================

Fuzzy matching errs on the side of no match, since a wrong account in the CRM is worse
than none: when two accounts share the best score, or when the organisation's words are
only part of an account's name (a bare "Health" is not "Umbrella Health"), nothing is
matched. An organisation that merely *contains* an account's name ("Initech Solutions"
for "Initech") does match, with confidence 0.9. Unmatched companies are prospects:
``account_id``, ``matched_by`` and ``confidence`` are missing.

``parse_target_accounts`` makes sure every id, domain, IP range and normalised name or
alias points to one account only, so the exact methods are never ambiguous.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path

import numpy as np
import pandas as pd
import tldextract
from anyascii import anyascii
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from rapidfuzz import fuzz, process

from enrichment.addresses import NOT_IPV4, ipv4_integers
from enrichment.errors import ConfigError
from enrichment.legal_forms import without_cyrillic_legal_forms, without_legal_forms
from enrichment.names import name_words

ACCOUNT_COLUMNS = ("account_id", "name", "domains", "aliases", "ip_ranges", "crm_id", "owner")
MATCH_COLUMNS = ["ip", "organization", "domain", "account_id", "matched_by", "confidence"]
VALUE_SEPARATOR = ";"

EXACT_NAME_CONFIDENCE = 0.95
FUZZY_CONFIDENCE_SCALE = 0.9  # a fuzzy match never looks as sure as an exact one

Network = IPv4Network | IPv6Network

# --- company names -----------------------------------------------------------------

_APOSTROPHES = re.compile(r"['`]")  # transliteration turns "ь"/"ъ" into "'": "Северсталь" → "severstal"


def normalize_company_name(name: str) -> str:
    """A company name reduced to what identifies it, for comparing names written differently.

    Lowercase ASCII words: Cyrillic (and other scripts) transliterated, quotes and
    punctuation gone, "&" spelled "and", legal forms (LLC, GmbH, S.A., ООО, ПАО, ...;
    `enrichment.legal_forms`) removed: ``ООО «Северсталь-Инфоком»`` → ``severstal infokom``.
    Cyrillic forms go before transliteration, so their Latin spellings ("ao", "ip")
    never eat a word of a Western name.
    """
    text = " ".join(without_cyrillic_legal_forms(name_words(name)))
    text = _APOSTROPHES.sub("", anyascii(text))
    return " ".join(without_legal_forms(name_words(text)))


# --- domains -------------------------------------------------------------------------

# The Public Suffix List snapshot bundled with tldextract: no download, no cache on disk.
# RFC 2606 reserves ".example" for documentation (the demo world uses it); the PSL omits it.
_PUBLIC_SUFFIXES = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, extra_suffixes=("example",))


def registrable_domain(host_or_url: str) -> str | None:
    """The domain an organisation registers (``mail.fabrikam-bank.ch`` → ``fabrikam-bank.ch``), or None."""
    return _PUBLIC_SUFFIXES(host_or_url.strip().lower()).top_domain_under_public_suffix or None


# --- the account list ----------------------------------------------------------------


class TargetAccount(BaseModel):
    """One row of the target account list; multi-valued fields are ";"-separated in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    account_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    domains: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    ip_ranges: tuple[Network, ...] = ()
    crm_id: str | None = None
    owner: str | None = None

    @field_validator("domains", "aliases", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return _split_values(value)

    @field_validator("ip_ranges", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        networks = []
        for network in _split_values(value):
            try:
                networks.append(ipaddress.ip_network(network, strict=False))
            except ValueError:
                raise ValueError(f"{network!r} is not a CIDR network such as 203.0.113.0/24") from None
        return tuple(networks)

    @field_validator("crm_id", "owner", mode="before")
    @classmethod
    def _blank_is_missing(cls, value: object) -> object:
        return value if not isinstance(value, str) or value.strip() else None

    @field_validator("domains")
    @classmethod
    def _registrable(cls, domains: tuple[str, ...]) -> tuple[str, ...]:
        registrable = tuple(registrable_domain(domain) for domain in domains)
        for domain, reduced in zip(domains, registrable):
            if reduced is None:
                raise ValueError(f"{domain!r} is not a domain such as example.com")
        return registrable  # type: ignore[return-value]  # None was ruled out above

    @field_validator("name")
    @classmethod
    def _name_identifies(cls, name: str) -> str:
        _require_identifying(name)
        return name

    @field_validator("aliases")
    @classmethod
    def _aliases_identify(cls, aliases: tuple[str, ...]) -> tuple[str, ...]:
        for alias in aliases:
            _require_identifying(alias)
        return aliases


def _split_values(value: object) -> object:
    if not isinstance(value, str):
        return value
    return tuple(part.strip() for part in value.split(VALUE_SEPARATOR) if part.strip())


def _require_identifying(name: str) -> None:
    if not normalize_company_name(name):
        raise ValueError(f"{name!r} is only a legal form or punctuation, so it cannot identify a company")


def parse_target_accounts(text: str, path: Path) -> list[TargetAccount]:
    """Validate the account list's text; any mistake raises one ConfigError naming line and field.

    Account ids, domains, IP ranges and normalised names/aliases must each identify one account.
    """
    accounts = [(line, _account(row, path, line)) for line, row in _rows(io.StringIO(text, newline=""), path)]
    _check_one_account_per_key(accounts, path)
    return [account for _, account in accounts]


def _rows(file: Iterable[str], path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Each CSV record with the line it ends on."""
    reader = csv.DictReader(file)
    missing = [column for column in ACCOUNT_COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise ConfigError(
            f"{path}:1: missing column(s) {', '.join(missing)}; the header must be {','.join(ACCOUNT_COLUMNS)}"
        )
    for row in reader:
        if None in row:  # DictReader puts surplus values under the key None
            raise ConfigError(
                f"{path}:{reader.line_num}: more values than columns; quote a value that contains a comma"
            )
        yield reader.line_num, row


def _account(row: dict[str, str], path: Path, line: int) -> TargetAccount:
    try:
        return TargetAccount(**{column: row[column] for column in ACCOUNT_COLUMNS})
    except ValidationError as error:
        first = error.errors()[0]
        raise ConfigError(f"{path}:{line}: field `{first['loc'][0]}`: {first['msg']}") from None


def _check_one_account_per_key(accounts: list[tuple[int, TargetAccount]], path: Path) -> None:
    """Raise when an id, domain, IP range or normalised name appears on two lines."""
    first_seen: dict[tuple[str, object], tuple[int, str]] = {}
    for line, account in accounts:
        for field, key_space, key in _identifying_keys(account):
            seen_line, seen_id = first_seen.setdefault((key_space, key), (line, account.account_id))
            if seen_line != line:
                raise ConfigError(
                    f"{path}:{line}: field `{field}`: '{key}' is already used by {seen_id} on line {seen_line}"
                )


def _identifying_keys(account: TargetAccount) -> Iterator[tuple[str, str, object]]:
    """(field, key space, key) for everything that points to this account; names and aliases share a space."""
    yield "account_id", "account_id", account.account_id
    yield "name", "name", normalize_company_name(account.name)
    for alias in account.aliases:
        yield "aliases", "name", normalize_company_name(alias)
    for domain in account.domains:
        yield "domains", "domain", domain
    for network in account.ip_ranges:
        yield "ip_ranges", "ip_range", network


# --- matching -------------------------------------------------------------------------


def match_companies(
    companies: pd.DataFrame, accounts: list[TargetAccount], *, fuzzy_threshold: float = 90.0
) -> pd.DataFrame:
    """Match company IPs (``ip, organization, domain``) to target accounts.

    Returns one row per input row, in input order, with columns ``ip, organization, domain,
    account_id, matched_by, confidence``; see the module docstring for methods and confidences.
    IP ranges are checked once per unique IP, everything else once per unique (organization, domain).
    """
    by_ip_range = _found(_accounts_by_ip_range(companies["ip"], accounts), "ip_range", 1.0)
    pairs = companies[["organization", "domain"]].drop_duplicates()
    pair_matches = pd.concat([pairs, _match_pairs(pairs, accounts, fuzzy_threshold)], axis="columns")
    by_company = companies[["organization", "domain"]].merge(pair_matches, on=["organization", "domain"], how="left")
    by_company.index = companies.index  # a left merge keeps the row order
    matches = _first_found([by_ip_range, by_company[["account_id", "matched_by", "confidence"]]])
    return pd.concat([companies[["ip", "organization", "domain"]], matches], axis="columns")[MATCH_COLUMNS]


def _match_pairs(pairs: pd.DataFrame, accounts: list[TargetAccount], fuzzy_threshold: float) -> pd.DataFrame:
    """Account, method and confidence for each unique (organization, domain) pair."""
    name_owners = {normalize_company_name(account.name): account.account_id for account in accounts}
    alias_owners = {normalize_company_name(a): account.account_id for account in accounts for a in account.aliases}

    names = _per_unique(pairs["organization"], normalize_company_name)
    exact = _first_found(
        [
            _found(accounts_by_domain(pairs["domain"], accounts), "domain", 1.0),
            _found(names.map(name_owners), "name", EXACT_NAME_CONFIDENCE),
            _found(names.map(alias_owners), "alias", EXACT_NAME_CONFIDENCE),
        ]
    )
    fuzzy = _fuzzy_matches(names[exact["account_id"].isna()].dropna().unique(), accounts, fuzzy_threshold)
    return _first_found([exact, _found(names.map(fuzzy["account_id"]), "fuzzy", names.map(fuzzy["confidence"]))])


def accounts_by_domain(domains: pd.Series, accounts: list[TargetAccount]) -> pd.Series:
    """The account whose domains hold each host's registrable domain (``WWW.News.Contoso.com`` is
    ``contoso.com``'s); missing when no account's does."""
    owners = {domain: account.account_id for account in accounts for domain in account.domains}
    return _per_unique(domains, registrable_domain).map(owners)


def _per_unique(values: pd.Series, function: Callable[[str], object]) -> pd.Series:
    """``function`` applied once per distinct non-missing value, mapped back onto ``values``."""
    distinct = values.dropna().unique()
    return values.map(dict(zip(distinct, map(function, distinct))))


def _found(account_ids: pd.Series, method: str, confidence: float | pd.Series) -> pd.DataFrame:
    """The matches one method made: its name and confidence where it found an account."""
    found = account_ids.notna()
    return pd.DataFrame(
        {
            "account_id": account_ids.astype("str"),
            "matched_by": pd.Series(method, index=account_ids.index, dtype="str").where(found),
            "confidence": pd.Series(confidence, index=account_ids.index, dtype="float64").where(found),
        }
    )


def _first_found(candidates: list[pd.DataFrame]) -> pd.DataFrame:
    """Per row, the first candidate that has an account (candidates share one index)."""
    result = candidates[0].copy()
    for candidate in candidates[1:]:
        open_rows = result["account_id"].isna()
        result.loc[open_rows] = candidate.loc[open_rows]
    return result


def _accounts_by_ip_range(ips: pd.Series, accounts: list[TargetAccount]) -> pd.Series:
    """The account whose IP range holds each IP (longest prefix wins); missing when none does."""
    owners = {network: account.account_id for account in accounts for network in account.ip_ranges}
    if not owners:
        return pd.Series(None, index=ips.index, dtype="str")
    prefix_lengths = sorted({network.prefixlen for network in owners}, reverse=True)
    distinct = ips.dropna().unique()
    integers = ipv4_integers(distinct)
    found = np.full(len(distinct), None, dtype=object)
    for length in prefix_lengths:  # longest prefix first: the first range found wins
        # IPv4 addresses as integers: an address is in a /length range when their top bits agree.
        ranges = {
            int(network.network_address) >> (32 - length): account_id
            for network, account_id in owners.items()
            if network.version == 4 and network.prefixlen == length
        }
        still_open = (integers != NOT_IPV4) & (found == None)  # noqa: E711 - element-wise
        if ranges and still_open.any():
            found[still_open] = [ranges.get(top) for top in (integers[still_open] >> (32 - length)).tolist()]

    def owner(ip: str) -> str | None:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        for length in prefix_lengths:
            if length <= address.max_prefixlen:
                network = ipaddress.ip_network((address, length), strict=False)
                if network in owners:
                    return owners[network]
        return None

    other = integers == NOT_IPV4
    found[other] = [owner(ip) for ip in distinct[other]]
    return ips.map(dict(zip(distinct, found)))


def _fuzzy_matches(names: Iterable[str], accounts: list[TargetAccount], threshold: float) -> pd.DataFrame:
    """For each normalised organisation name: the one account it resembles best, with its confidence.

    Indexed by name; only names with an unambiguous match at or above ``threshold`` appear.
    """
    names = [name for name in names if name]
    candidates = [
        (normalize_company_name(text), account.account_id)
        for account in accounts
        for text in (account.name, *account.aliases)
    ]
    if not names or not candidates:
        return pd.DataFrame({"account_id": pd.Series(dtype="str"), "confidence": pd.Series(dtype="float64")})
    candidate_names = [candidate for candidate, _ in candidates]
    scores = process.cdist(names, candidate_names, scorer=fuzz.token_set_ratio, score_cutoff=threshold)
    scores = _without_narrower_names(scores, names, candidate_names)
    account_ids = [account_id for _, account_id in candidates]
    by_account = pd.DataFrame(scores, index=names, columns=account_ids).T.groupby(level=0).max().T
    best = by_account.max(axis="columns")
    unambiguous = (best > 0) & (by_account.eq(best, axis="index").sum(axis="columns") == 1)
    return pd.DataFrame(
        {
            "account_id": by_account.idxmax(axis="columns").astype("str"),
            "confidence": best / 100 * FUZZY_CONFIDENCE_SCALE,
        }
    )[unambiguous]


def _without_narrower_names(scores: np.ndarray, names: list[str], candidate_names: list[str]) -> np.ndarray:
    """Zero the scores where a name's words are a strict subset of the candidate's ("health" vs "umbrella health").

    token_set_ratio scores such pairs 100, but a part of an account's name is not the account.
    """
    scores = scores.copy()
    for row, column in zip(*np.nonzero(scores)):
        if set(names[row].split()) < set(candidate_names[column].split()):
            scores[row, column] = 0
    return scores
