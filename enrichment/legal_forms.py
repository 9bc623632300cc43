"""Legal forms (LLC, GmbH, S.A. de C.V., sp. z o.o., ООО, ТОВ, ...): the one list, and how to find them.

Resolution compares an organization with its ISP without them, the person test knows a
company by them, and matching compares account names without them. The list is
cleanco's (MIT: some 300 forms of 70 countries) plus the Cyrillic forms cleanco lacks
and a few of our own, all read through `enrichment.names.name_words`.

Where a form counts:

- Cyrillic forms, and Latin forms of four letters or more ("gmbh", "ltda", "sp z oo"),
  wherever they stand: they are not words of any language we read.
- Shorter Latin forms ("sa", "ag", "co", "me") only at the start or the end of a name,
  where a legal form stands: inside a name they are words ("Banco da Amazonia",
  "Sa Pa Tours") or initials.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from cleanco.termdata import terms_by_country, terms_by_type

from enrichment.names import name_words

# Russian, Ukrainian, Belarusian and Kazakh forms, sole proprietors among them.
_CYRILLIC_TEXT = (
    "ооо оао зао пао ао нао ано одо чуп уп ип пбоюл фгуп фгбу гуп муп тоо тов пат прат ат пп чп спд фоп флп нко"
)
CYRILLIC_LEGAL_FORMS = frozenset(_CYRILLIC_TEXT.split())
# Forms that name a natural person (a sole proprietor), not a company: "ИП Иванов", "FOP Petrenko", "PFA Ionescu".
SOLE_PROPRIETOR_FORMS = frozenset({"ип", "пбоюл", "чп", "спд", "фоп", "флп", "fop", "flp", "spd", "pfa", "eirl", "mei"})
# Forms cleanco lacks: Brazil's EIRELI and size suffixes (ME, EPP), Mexico's A.C. and S.A.B. de C.V.,
# and sole proprietors.
_OWN_LATIN_FORMS = ("eireli", "me", "epp", "mei", "a.c.", "s.a.b. de c.v.", "s.a.p.i. de c.v.", "flp", "spd", "pfa")
# cleanco terms that are ordinary words where we read names: "Private person" is a person.
_NOT_FORMS = frozenset({"private"})
_SHORT = 3  # Latin forms of up to this many letters count only at the edges of a name


def _latin_forms() -> tuple[frozenset[tuple[str, ...]], frozenset[tuple[str, ...]]]:
    """(forms that count anywhere, forms that count only at an edge), as word tuples."""
    terms = {term for group in (*terms_by_type.values(), *terms_by_country.values()) for term in group}
    forms = {tuple(name_words(term)) for term in (*terms, *_OWN_LATIN_FORMS) if term.strip() not in _NOT_FORMS}
    forms = {form for form in forms if form and not any(_is_cyrillic(word) for word in form)}
    edge_only = frozenset(form for form in forms if len("".join(form)) <= _SHORT)
    return frozenset(forms) - edge_only, edge_only


def _is_cyrillic(word: str) -> bool:
    return any("\u0400" <= letter <= "\u04ff" for letter in word)


_ANYWHERE, _AT_AN_EDGE = _latin_forms()
_LONGEST = max(len(form) for form in _ANYWHERE | _AT_AN_EDGE)


def without_cyrillic_legal_forms(words: Sequence[str]) -> list[str]:
    """``words`` without the Cyrillic legal forms among them."""
    return [word for word in words if word not in CYRILLIC_LEGAL_FORMS]


def without_legal_forms(words: Sequence[str]) -> list[str]:
    """Folded name words (`name_words`) without their legal forms, Cyrillic and Latin.

    ``name_words("Inc Publishing Co.")`` → ``["publishing"]``; what removing one form
    uncovers at an edge is removed too ("Acme Co Ltd" → "acme"), so applying it twice
    changes nothing.
    """
    return list(_without_legal_forms(tuple(without_cyrillic_legal_forms(words))))


def has_legal_form(name: str) -> bool:
    """Does ``name`` carry a legal form other than a sole proprietor's ("Silva e Filhos Lda": yes)?"""
    words = name_words(name)
    company_words = [word for word in words if word not in SOLE_PROPRIETOR_FORMS]
    return len(without_legal_forms(company_words)) < len(company_words)


@functools.lru_cache(maxsize=65_536)
def _without_legal_forms(words: tuple[str, ...]) -> tuple[str, ...]:
    kept = list(words)
    changed = True
    while changed:
        changed = False
        for size in range(min(_LONGEST, len(kept)), 0, -1):
            start = 0
            while start + size <= len(kept):
                if tuple(kept[start : start + size]) in _ANYWHERE:
                    del kept[start : start + size]
                    changed = True
                else:
                    start += 1
            if len(kept) >= size and tuple(kept[:size]) in _AT_AN_EDGE:
                del kept[:size]
                changed = True
            if len(kept) >= size and tuple(kept[-size:]) in _AT_AN_EDGE:
                del kept[-size:]
                changed = True
    return tuple(kept)
