"""SOQL text: literals escaped by SOQL's rules, and queries kept short enough for a URL."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar
from urllib.parse import quote_plus

# Salesforce recommends keeping a request URI under 2,000 characters (knowledge article 000386264).
MAX_QUERY_CHARS = 1_800

T = TypeVar("T")


def soql_list(values: Sequence[str]) -> str:
    return ", ".join(soql_string(value) for value in values)


def soql_string(value: str) -> str:
    """A SOQL string literal: backslashes and quotes escaped (SOQL's reserved characters)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def soql_like(value: str) -> str:
    """The inside of a LIKE pattern matching ``value`` literally: ``%`` and ``_`` escaped too."""
    return soql_string(value)[1:-1].replace("%", "\\%").replace("_", "\\_")


def chunked_queries(values: Sequence[T], build: Callable[[list[T]], str]) -> Iterator[str]:
    """As few queries as keep each URL-encoded query within ``MAX_QUERY_CHARS``."""
    chunk: list[T] = []
    for value in values:
        if chunk and len(quote_plus(build([*chunk, value]))) > MAX_QUERY_CHARS:
            yield build(chunk)
            chunk = []
        chunk.append(value)
    if chunk:
        yield build(chunk)
