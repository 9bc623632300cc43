"""Nothing personal past the door: URLs, referrers, titles and raw lines are scrubbed before they are stored.

A page's address is what intent needs: its host and path, and the campaign parameters
marketing tags links with. Everything else in a query string can be anyone's data
(``?email=jane@example.com``, ``?token=…``, a session id), so a parameter is kept only
when its name is on an allow-list (``utm_*`` and the ad platforms' click and campaign
ids by default); the others are dropped, their *names* reported so marketing can see
what was removed. Fragments go too (``#access_token=…``). What remains, and free text
such as page titles, has anything that looks like an e-mail address, a phone number or
a long secret token masked: ``[email]``, ``[phone]``, ``[token]``.

Detection is by patterns, tuned to leave ordinary paths alone: slugs of words, dates,
version numbers, IP addresses (their retention has its own rule) and short numeric ids
are not phone numbers or tokens.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from urllib.parse import quote, unquote, unquote_plus

import numpy as np
import pandas as pd

# Campaign tagging and ad click ids: they name a campaign or an ad click, not a person.
# Left out on purpose: mc_eid (Mailchimp's per-recipient id), _hsenc/_hsmi (HubSpot's
# per-e-mail ids), li_fat_id (derived from a LinkedIn member).
DEFAULT_ALLOWED_PARAMETERS = (
    "utm_*",
    "gclid",
    "gbraid",
    "wbraid",
    "dclid",
    "gad_source",
    "msclkid",
    "fbclid",
    "yclid",
    "ttclid",
    "twclid",
    "mc_cid",
    "hsa_*",
)
EMAIL_MASK, PHONE_MASK, TOKEN_MASK = "[email]", "[phone]", "[token]"
REMOVED_SEPARATOR = ";"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Tokens for certain: a JSON web token, a UUID, a long hex string.
_TOKEN = re.compile(
    r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"
    r"|(?<![A-Za-z0-9])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![A-Za-z0-9])"
    r"|(?<![A-Za-z0-9])[0-9a-fA-F]{24,}(?![A-Za-z0-9])"
)
# A long run of letters and digits: a token when they alternate like random text (see _token_mask).
_TOKEN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{16,}={0,2}(?![A-Za-z0-9_=-])")
_LETTER_DIGIT_SWITCH = re.compile(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
# A number written as a phone number: international (+ or 00, 8-15 digits) or in groups
# separated by spaces, dots, hyphens or parentheses with 9-15 digits in all.
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d\s().-]{6,22}\d(?![\w])")
_DAY, _MONTH = r"(?:0?[1-9]|[12]\d|3[01])", r"(?:0?[1-9]|1[0-2])"
_DATE_OR_ADDRESS = re.compile(
    rf"(?<!\d)(?:\d{{4}}[-./]{_MONTH}[-./]{_DAY}|{_DAY}[-./]{_MONTH}[-./]\d{{4}})(?!\d)"
    r"|(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])"
)


@dataclass(frozen=True)
class ScrubRules:
    """Which query parameters survive (shell-style patterns, compared case-insensitively)."""

    allowed_parameters: tuple[str, ...] = DEFAULT_ALLOWED_PARAMETERS

    def allows(self, name: str) -> bool:
        folded = name.casefold()
        return any(fnmatchcase(folded, pattern.casefold()) for pattern in self.allowed_parameters)


DEFAULT_SCRUB_RULES = ScrubRules()


@dataclass(frozen=True)
class ScrubbedUrl:
    """A URL as it may be stored, and the names of the parameters taken out of it."""

    url: str
    removed: tuple[str, ...] = ()


def mask_personal_data(text: str) -> str:
    """``text`` with e-mail addresses, phone numbers and long tokens masked."""
    text = _EMAIL.sub(EMAIL_MASK, text)
    text = _TOKEN.sub(TOKEN_MASK, text)
    text = _TOKEN_CANDIDATE.sub(_token_mask, text)
    return _PHONE.sub(_phone_mask, text)


def scrub_url(url: str, rules: ScrubRules = ScrubRules()) -> ScrubbedUrl:
    """A path (``/pricing?utm_source=x``) or absolute URL with only allowed parameters, no
    fragment, and personal data in its path masked; the removed parameter names, in order."""
    without_fragment = url.split("#", 1)[0]
    base, has_query, query = without_fragment.partition("?")
    kept, removed = [], []
    for parameter in query.split("&") if has_query else ():
        if not parameter:
            continue
        name = unquote_plus(parameter.split("=", 1)[0])
        if rules.allows(name):
            kept.append(_scrub_encoded(parameter))
        else:
            removed.append(mask_personal_data(name) or "(empty)")
    scrubbed = _scrub_encoded(base) + ("?" + "&".join(kept) if kept else "")
    return ScrubbedUrl(scrubbed, tuple(dict.fromkeys(removed)))


def scrub_raw_line(line: str, rules: ScrubRules = ScrubRules()) -> str:
    """A raw log line as it may be kept in quarantine: every query string in it reduced to
    its allowed parameters, then personal data masked."""
    return mask_personal_data(_QUERY_IN_LINE.sub(lambda match: scrub_url(match[0], rules).url, line))


def scrub_hits(hits: pd.DataFrame, rules: ScrubRules = ScrubRules()) -> pd.DataFrame:
    """``hits`` with ``url`` and ``referrer`` scrubbed, ``page_title`` masked, and a
    ``removed_parameters`` column naming what was taken out of each hit's url and referrer
    (";"-separated, missing where nothing was). Each distinct value is scrubbed once."""
    urls = _per_distinct(hits["url"], lambda url: scrub_url(url, rules))
    referrers = _per_distinct(hits["referrer"], lambda url: scrub_url(url, rules))
    removed = [
        REMOVED_SEPARATOR.join(dict.fromkeys((*(u.removed if u else ()), *(r.removed if r else ())))) or None
        for u, r in zip(urls, referrers)
    ]
    return hits.assign(
        url=pd.array([u.url if u else None for u in urls], dtype="str"),
        referrer=pd.array([r.url if r else None for r in referrers], dtype="str"),
        page_title=pd.array(_per_distinct(hits["page_title"], mask_personal_data), dtype="str"),
        removed_parameters=pd.array(removed, dtype="str"),
    )


def removed_parameter_counts(removed_parameters: pd.Series) -> pd.DataFrame:
    """Hits per removed parameter name (``parameter, hits``), most first."""
    names = removed_parameters.dropna().str.split(REMOVED_SEPARATOR).explode()
    counts = names.value_counts().rename_axis("parameter").reset_index(name="hits")
    return counts.sort_values(["hits", "parameter"], ascending=[False, True], ignore_index=True)


# A request target or URL inside a log line: up to the next space or quote.
_QUERY_IN_LINE = re.compile(r"""[^\s"'?]*\?[^\s"']*""")


def _scrub_encoded(text: str) -> str:
    """Percent-encoded ``text`` with personal data masked; untouched when there is none."""
    decoded = unquote(text)
    masked = mask_personal_data(decoded)
    if masked == decoded:
        return text
    # Re-encoded from the decoded text: an address written as %40 is found and masked too.
    return quote(masked, safe="/:=&;,+[]@!$'()*~.-_")


def _token_mask(match: re.Match[str]) -> str:
    """Random text switches between letters and digits often; words, slugs and "Edition2024" don't."""
    switches = len(_LETTER_DIGIT_SWITCH.findall(match[0]))
    return TOKEN_MASK if switches >= 4 else match[0]


def _phone_mask(match: re.Match[str]) -> str:
    number = match[0]
    digits = sum(character.isdigit() for character in number)
    # "00" dials abroad only before a country code, and none starts with 0: "/blog/00000000" is an id.
    international = number.startswith("+") or re.match(r"00\(?[1-9]", number) is not None
    if _DATE_OR_ADDRESS.search(number) or not (8 if international else 9) <= digits <= 15:
        return number
    if not international and not re.search(r"\d[\s().-]+\d", number):
        return number  # a bare run of digits is an id, not a phone number
    return PHONE_MASK


def _per_distinct(values: pd.Series, function: Callable[[str], object]) -> list:
    """``function`` once per distinct non-missing value, as a list per row (None where missing)."""
    codes, distinct = pd.factorize(values)
    results = np.array([*map(function, distinct), None], dtype=object)
    return results[codes].tolist()
