"""People named as organizations: we identify companies, never people.

MaxMind names some networks after the person holding them (private persons, sole
proprietors, a home office's fixed line). `looks_like_a_person` finds those names, so a
person is never reported as a company; resolution turns such a company into a home line
(reason ``organization_is_a_person``).

The trade-off is deliberate: reporting a person as a company is worse than losing a
company, so a firm named bare after its founder ("Hugo Boss" on a small network) is
dropped too. What keeps a firm a firm is what firms carry: a legal form ("Silva e Filhos
Lda", "Maison De Vinci SARL"), a trade or business word ("Farmácia Santos", "Müller &
Partner"), symbols or digits, or one word only ("Sebastian").
"""

from __future__ import annotations

import functools
import re

import pandas as pd

from enrichment.given_names import GIVEN_NAMES
from enrichment.legal_forms import SOLE_PROPRIETOR_FORMS, has_legal_form
from enrichment.names import fold
from enrichment.privacy import parse_network

# A network this small (8 IPv4 addresses, one IPv6 end site) is what a home office or a
# single person gets: there a name shaped like a person's is taken for one.
SMALL_IPV4_PREFIX = 29
SMALL_IPV6_PREFIX = 48
# A network this large (4,096 IPv4 addresses or more, an IPv6 /32) is never one person's,
# whatever its name: "Morgan Stanley" there is the bank.
LARGE_IPV4_PREFIX = 20
LARGE_IPV6_PREFIX = 32

# Words that say the holder is a private person or a sole proprietor, wherever they stand.
_PHRASES = (
    "private person",
    "private individual",
    "private customer",
    "private entrepreneur",
    "privatperson",
    "privatkunde",
    "einzelunternehmer",
    "einzelunternehmerin",
    "particulier",
    "personne physique",
    "entrepreneur individuel",
    "auto-entrepreneur",
    "autoentrepreneur",
    "micro-entrepreneur",
    "persona fisica",
    "persona física",
    "persona natural",
    "empresario individual",
    "pessoa física",
    "empresário individual",
    "ditta individuale",
    "imprenditore individuale",
    "natuurlijk persoon",
    "eenmanszaak",
    "osoba fizyczna",
    "osoba prywatna",
    "gerçek kişi",
    "şahıs",
    "individual entrepreneur",
    "sole proprietor",
    "sole trader",
    "частное лицо",
    "физическое лицо",
    "индивидуальный предприниматель",
    "частный предприниматель",
    "фізична особа",
    "приватна особа",
    "приватний підприємець",
)
_PERSON_PHRASES = re.compile(
    r"(?<!\w)(?:" + "|".join(r"\W+".join(map(re.escape, fold(p).split())) for p in _PHRASES) + r")(?!\w)"
)
_CYRILLIC_SOLE_PROPRIETOR = frozenset(form for form in SOLE_PROPRIETOR_FORMS if not form.isascii())
# Latin spellings are words elsewhere ("IP Transit", "PE Systems"): they count only first
# or last, beside nothing but a name.
_LATIN_SOLE_PROPRIETOR = frozenset(form for form in SOLE_PROPRIETOR_FORMS if form.isascii()) | {"ip", "pe"}
# Russian and Ukrainian patronymics, in Cyrillic (folded: "й" is "и") and transliterated.
_PATRONYMIC = re.compile(
    r"(?:ович|евич|ьич|овна|евна|ична|івна|ївна|ovich|evich|ovych|evych|ovitch|ovna|evna|ichna|ivna)$"
)
# Surname endings of Slavic names, for "I.I. Ivanov" (Western firms are "J.C. Penney").
_SLAVIC_SURNAME = re.compile(
    r"(?:ov|ova|ev|eva|in|ina|sky|skiy|skii|skaya|ski|ska|enko|uk|yuk|chuk|ич|ов|ова|ев|ева|ин|ина|ский|ская|енко|ук|юк|чук)$"
)
_INITIALS = re.compile(r"^(?:[^\W\d_]\.){1,2}$")
# Lower-case words joined by underscores, as people write user names: "adam_crouch", "julia_wulf".
_HANDLE = re.compile(r"^(?:[^\W\d_]|\?)+(?:_(?:[^\W\d_]|\?)+){1,2}$")
_PARTICLES = frozenset(["de", "da", "do", "dos", "das", "di", "del", "della", "dei", "van", "von", "der", "den"])
_PARTICLES |= {"ter", "ten", "le", "la", "du", "des", "y", "e", "bin", "ibn", "al", "el", "zu", "af", "av"}
_EDGE_PUNCTUATION = ",;:\"'«»“”()[]"
# Words that make a name a business's, in the languages we read (compared folded).
_BUSINESS_TEXT = """
    company group holding holdings partners partner associates brothers bros sons son and
    bank capital insurance consulting solutions systems services software technologies
    technology tech labs media networks network telecom trading logistics industries
    enterprises international global agency studio design law office center centre
    foundation university college school institute hospital clinic hotel restaurant church
    council city county ministry department government shop store construction engineering
    energy health pharma motors research academy club association society fund pharmacy
    farm farms garage bakery salon dental medical
    filhos hijos figli söhne fils zonen synowie gebrüder frères hermanos irmãos fratelli
    bracia kardeşler partnerschaft kanzlei rechtsanwälte avocats abogados advogados
    notaire notario cabinet atelier maison casa boulangerie bäckerei restaurante ristorante
    trattoria pizzeria café cafe bar farmácia farmacia pharmacie apotheke apteka eczane
    drogaria drogeria comercio comércio serviços servicios servizi informática informatica
    tecnologia sistemas consultoria asesores representações gmina stadt gemeinde
    prefeitura municipal municipio municipalidad ayuntamiento câmara governo gobierno secretaria
    comune belediye urząd universidad universidade université universität uniwersytet escola
    escuela colegio instituto istituto hospital banco banque san santa santo são saint sankt st
    cia cía companhia compañía
    компания группа банк завод центр фирма аптека магазин клиника сервис
"""
_BUSINESS_WORDS = frozenset(fold(word) for word in _BUSINESS_TEXT.split())


def looks_like_a_person(organization: str, network: str | None = None) -> bool:
    """Is this MaxMind organization a person rather than a company?

    A person is:

    - a private person or sole proprietor by name, wherever the words stand: "Private
      person", "Kowalski Jan osoba fizyczna", "ИП Иванов Иван Иванович", "FOP Petrenko";
    - a Russian or Ukrainian name with a patronymic, in either order ("Иванов Иван
      Иванович", "Ivan Ivanovich Ivanov"), or a surname with initials ("Ivanov I.I.");
    - a given name and a surname, in either order ("Jan Kowalski", "Marie Dubois",
      "Kowalski Jan", "adam_crouch"), or a trade name ending in one ("DATA-COM Piotr
      Nowak"), on any ``network`` but a large one (IPv4 /20, IPv6 /32 or larger);
    - on a small ``network`` (IPv4 /29 or smaller, IPv6 /48 or smaller), two to four
      words shaped like a name ("Leung Yin Lam").

    Never a person: a name with a legal form or a business word, digits or symbols.
    """
    judgement = _judgement(organization)
    if judgement == "unless_large":
        return not _is_large(network)
    if judgement == "if_small":
        return _is_small(network)
    return judgement == "always"


@functools.lru_cache(maxsize=65_536)
def _judgement(organization: str) -> str:
    """What the name alone says: a person "always", "never", "unless_large" (on any network
    but a large one), or "if_small" (only on a small network)."""
    handle = organization.strip()
    text = " ".join(organization.replace("_", " ").split())
    if _PERSON_PHRASES.search(fold(text)):
        return "always"
    words = [word for word in (w.strip(_EDGE_PUNCTUATION) for w in text.split()) if word]
    folded = [fold(word) for word in words]
    if _CYRILLIC_SOLE_PROPRIETOR.intersection(folded):
        return "always"
    if not words or has_legal_form(text) or any(_is_business_word(word) for word in folded):
        return "never"
    if _HANDLE.match(handle) and handle == handle.lower():
        return "unless_large"  # "adam_crouch": a person's user name, never a firm's
    words = _as_a_person_writes_it(words)
    named = [_is_name_word(word) for word in words]
    if len(words) >= 2 and (folded[0] in _LATIN_SOLE_PROPRIETOR or folded[-1] in _LATIN_SOLE_PROPRIETOR):
        rest = named[1:] if folded[0] in _LATIN_SOLE_PROPRIETOR else named[:-1]
        return "always" if all(rest) else "never"
    if not all(named):
        return "unless_large" if _ends_with_a_full_name(words, folded, named) else "never"
    core = [word for word, f in zip(words, folded) if f not in _PARTICLES and not _INITIALS.match(word)]
    if (2 <= len(core) <= 3 and any(_PATRONYMIC.search(fold(word)) for word in core[1:])) or _surname_with_initials(
        words
    ):
        return "always"
    if 2 <= len(core) <= 5 and _has_given_name(core):
        return "unless_large"
    return "if_small" if 2 <= len(core) <= 4 else "never"


def person_like(companies: pd.DataFrame) -> pd.Series:
    """``looks_like_a_person`` for each row's ``organization`` (and ``network`` when the
    frame has one), decided once per distinct pair. A missing organization is no person."""
    no_networks = pd.Series(None, index=companies.index, dtype=object)
    columns = [companies["organization"], companies.get("network", no_networks)]
    pairs = list(zip(*(column.astype(object).where(column.notna(), None) for column in columns)))
    decided = {pair: pair[0] is not None and looks_like_a_person(*pair) for pair in set(pairs)}
    return pd.Series([decided[pair] for pair in pairs], index=companies.index, dtype=bool)


def _is_business_word(folded_word: str) -> bool:
    return folded_word in _BUSINESS_WORDS or any(part in _BUSINESS_WORDS for part in folded_word.split("-"))


def _as_a_person_writes_it(words: list[str]) -> list[str]:
    """Names written all in capitals or all in small letters ("IVANOV IVAN", "adam crouch") read as capitalised."""
    text = " ".join(words)
    if text.isupper() or text.islower():
        return [word.title() for word in words]
    return words


def _is_name_word(word: str) -> bool:
    """A capitalised word of letters ("Smith", "O'Brien", "Jean-Luc", "DeVries"), an initial, or a particle."""
    if _INITIALS.match(word) or word in _PARTICLES:
        return True
    # MaxMind writes "?" for a letter it could not encode ("Sou?ek").
    letters = word.replace("-", "").replace("'", "").replace("’", "").replace("?", "")
    return letters.isalpha() and word[0].isupper() and not (len(letters) > 1 and letters.isupper())


def _has_given_name(core: list[str]) -> bool:
    """A known given name first ("Jan Kowalski") or last ("Kowalski Jan")."""
    return any(fold(word) in GIVEN_NAMES or fold(word).split("-")[0] in GIVEN_NAMES for word in (core[0], core[-1]))


def _surname_with_initials(words: list[str]) -> bool:
    """ "Ivanov I.I.", "Иванов И. И.", "Kowalski J."; initials first only for a Slavic or Cyrillic surname."""
    initials = [bool(_INITIALS.match(word)) for word in words]
    if not 2 <= len(words) <= 3 or sum(initials) != len(words) - 1:
        return False
    if not initials[0]:
        return True
    surname = fold(words[-1])
    return not initials[-1] and (not surname.isascii() or bool(_SLAVIC_SURNAME.search(surname)))


def _ends_with_a_full_name(words: list[str], folded: list[str], named: list[bool]) -> bool:
    """A sole trader's name: a trade name, then the owner's given name and surname ("DATA-COM Piotr Nowak")."""
    return (
        len(words) >= 3
        and named[-1]
        and named[-2]
        and folded[-2] in GIVEN_NAMES
        and folded[-1] not in GIVEN_NAMES
        and folded[-1] not in _PARTICLES
    )


def _prefix_length(network: str | None) -> tuple[int, int] | None:
    if network is None:
        return None
    try:
        parsed = parse_network(network)
    except ValueError:
        return None
    return parsed.version, parsed.prefixlen


def _is_small(network: str | None) -> bool:
    found = _prefix_length(network)
    return found is not None and found[1] >= (SMALL_IPV4_PREFIX if found[0] == 4 else SMALL_IPV6_PREFIX)


def _is_large(network: str | None) -> bool:
    found = _prefix_length(network)
    return found is not None and found[1] <= (LARGE_IPV4_PREFIX if found[0] == 4 else LARGE_IPV6_PREFIX)
