"""Reading organisation names: one way to fold case and accents and to cut a name into words.

Every rule that compares names or looks for words in them (legal forms, provider words,
given names) reads them through `name_words`, so "Telecomunicações", "TELECOMUNICACOES"
and "telecomunicacoes" are one word, in any script: Cyrillic stays Cyrillic, with "й"
and "ё" read as "и" and "е".
"""

from __future__ import annotations

import re

from cleanco.clean import normalized

# Letters NFKD does not take apart, beyond those cleanco maps ("ł", "ø", "đ", ...).
_LETTERS = str.maketrans({"ı": "i", "æ": "ae", "œ": "oe", "ʼ": "'", "’": "'"})
# A dot between single letters joins an abbreviation: "S.A." and "s.a" are "sa", "sp. z o.o." is "sp z oo".
_ABBREVIATION_DOT = re.compile(r"(?<![^\W_]{2})(?<=[^\W\d_])\.(?=[^\W\d_](?![^\W_]))")
_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """``text`` in lower case without accents: "Telekomünikasyon" → "telekomunikasyon"."""
    if text.isascii():  # most names: nothing to fold but case
        return text.lower()
    return normalized(text).translate(_LETTERS)


def name_words(text: str) -> list[str]:
    """The folded words of a name; "&" is "and", dotted abbreviations are one word.

    ``"Ajaxtel Telecomunicações S.A."`` → ``["ajaxtel", "telecomunicacoes", "sa"]``.
    """
    folded = fold(text).replace("&", " and ")
    return _WORD.findall(_ABBREVIATION_DOT.sub("", folded))
