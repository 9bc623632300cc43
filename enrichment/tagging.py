"""Page tagging: the content taxonomy (config/taxonomy.yaml) and the topics, stage and type of each URL.

Rules match the URL path (query and fragment removed, percent-decoding undone, trailing
slash dropped, lowercased) with a case-insensitive regex, and the page title too when a
rule has one. The first matching rule wins. A URL no rule matches is "untagged": it
carries no topics and no stage, and is still counted as a page view.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import unquote, urlsplit

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails

from enrichment.errors import ConfigError, yaml_line, yaml_mapping

Stage = Literal["awareness", "consideration", "decision"]
STAGES: tuple[Stage, ...] = get_args(Stage)
"""Funnel stages, from the earliest to the furthest."""

PAGE_TAG_COLUMNS = ["url", "path", "topics", "stage", "content_type", "excluded_from_intent", "rule"]
TOPIC_SEPARATOR = ";"
UNTAGGED = -1  # the rule number of a page no rule matches


class TaxonomyRule(BaseModel):
    """One rule: which pages it matches and what it says about them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    path: re.Pattern[str]
    title: re.Pattern[str] | None = None
    topics: list[str] = []
    stage: Stage | None = None
    content_type: str | None = None

    @field_validator("path", "title", mode="before")
    @classmethod
    def _compile(cls, pattern: object) -> object:
        if not isinstance(pattern, str):
            return pattern  # let pydantic report the wrong type
        try:
            return re.compile(pattern, re.IGNORECASE)
        except re.error as error:
            raise ValueError(f"not a valid regular expression ({error})") from None


class Taxonomy(BaseModel):
    """The whole taxonomy file: rules in priority order and the content types that never signal intent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # `rules` comes first so that the check of `exclude_from_intent` can see them.
    rules: list[TaxonomyRule] = Field(min_length=1)
    exclude_from_intent: frozenset[str] = frozenset()

    @field_validator("exclude_from_intent")
    @classmethod
    def _known_content_types(cls, excluded: frozenset[str], info: ValidationInfo) -> frozenset[str]:
        rules = info.data.get("rules")
        if rules is None:  # the rules are wrong themselves; that error is reported instead
            return excluded
        unknown = sorted(excluded - {rule.content_type for rule in rules})
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: no rule has this content_type")
        return excluded


def parse_taxonomy(text: str, source: Path) -> Taxonomy:
    """Validate a taxonomy file's text; any mistake raises one ConfigError naming line, rule and field."""
    raw = yaml_mapping(text, source, "a mapping with `rules` (and `exclude_from_intent`)")
    try:
        return Taxonomy(**raw)
    except ValidationError as error:
        raise ConfigError(_describe(error.errors()[0], raw, yaml.compose(text), source)) from None


def _describe(error: ErrorDetails, raw: dict[str, Any], document: yaml.Node, path: Path) -> str:
    """One line for the first validation error: file and line, then the rule and the field."""
    loc = error["loc"]
    where = f"{path}:{yaml_line(document, loc)}"
    if loc[0] == "rules" and len(loc) >= 2:
        index = int(loc[1])
        rule = raw["rules"][index]
        name = rule.get("name") if isinstance(rule, dict) else None
        subject = f"rule {index + 1}" + (f" ({name})" if name else "")
        field_path = loc[2:]
    else:
        subject, field_path = "", loc
    field = f"field `{'.'.join(str(part) for part in field_path)}`" if field_path else ""
    context = ": ".join(part for part in (subject, field) if part)
    return f"{where}: {context}: {error['msg']}"


def furthest_stage(stages: Iterable[str | None]) -> str | None:
    """The furthest funnel stage among ``stages`` (missing values ignored), or None when there is none."""
    reached = {stage for stage in stages if isinstance(stage, str)}
    return next((stage for stage in reversed(STAGES) if stage in reached), None)


def tag_pages(
    urls: pd.Series | Iterable[str],
    taxonomy: Taxonomy,
    titles: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Topics, stage and content type of each unique URL.

    Returns one row per unique URL with columns ``url, path, topics`` (";"-joined, "" when
    none), ``stage``, ``content_type``, ``excluded_from_intent`` (bool) and ``rule`` (the
    matching rule's name; missing when untagged). ``titles`` maps a URL to its page title,
    for rules with a ``title`` pattern.
    """
    unique_urls = pd.Series(urls, dtype="str").dropna().drop_duplicates().reset_index(drop=True)
    paths = unique_urls.map(_page_path).astype("str")
    page_titles = unique_urls.map(titles or {}).astype("str")
    rule_numbers = _first_matching_rule(paths, page_titles, taxonomy.rules)
    tags = _rule_attributes(taxonomy).loc[rule_numbers].reset_index(drop=True)
    return pd.concat([unique_urls.rename("url"), paths.rename("path"), tags], axis="columns")[PAGE_TAG_COLUMNS]


def _page_path(url: str) -> str:
    """The part of a URL the rules see: ``/Blog/Caf%C3%A9/?x=1`` → ``/blog/café``."""
    path = unquote(urlsplit(url).path).rstrip("/").lower()
    return path or "/"


def _first_matching_rule(paths: pd.Series, titles: pd.Series, rules: Iterable[TaxonomyRule]) -> pd.Series:
    """The position of the first rule each page matches (UNTAGGED when none does); one regex pass per rule."""
    rule_numbers = pd.Series(UNTAGGED, index=paths.index)
    for number, rule in enumerate(rules):
        still_open = rule_numbers == UNTAGGED  # a page already matched is not searched again
        matches = paths[still_open].map(rule.path.search).notna()
        if rule.title is not None:
            matches &= titles[still_open].map(rule.title.search, na_action="ignore").notna()
        rule_numbers[matches[matches].index] = number
    return rule_numbers


def _rule_attributes(taxonomy: Taxonomy) -> pd.DataFrame:
    """What each rule says about a page, indexed by the rule's position, plus what "untagged" says."""
    rules = [
        {
            "topics": TOPIC_SEPARATOR.join(rule.topics),
            "stage": rule.stage,
            "content_type": rule.content_type,
            "excluded_from_intent": rule.content_type in taxonomy.exclude_from_intent,
            "rule": rule.name,
        }
        for rule in taxonomy.rules
    ]
    untagged = {"topics": "", "stage": None, "content_type": None, "excluded_from_intent": False, "rule": None}
    return pd.DataFrame([*rules, untagged], index=[*range(len(rules)), UNTAGGED])


def untagged_pages(page_tags: pd.DataFrame, url_hits: pd.Series) -> pd.DataFrame:
    """Pages no rule matched with their hit counts (``url, hits``), most hits first: candidates for new rules.

    ``url_hits`` is a hit count indexed by URL, such as ``hits["url"].value_counts()``.
    Pages are listed by the normalised path the rules see, so ``/partners?utm_source=x``
    and ``/partners/`` add up under ``/partners``: one rule covers them all.
    """
    untagged = page_tags.loc[page_tags["rule"].isna(), ["url", "path"]].drop_duplicates("url")
    untagged["hits"] = url_hits.reindex(untagged["url"], fill_value=0).to_numpy()
    by_path = untagged.groupby("path", as_index=False)["hits"].sum().rename(columns={"path": "url"})
    return by_path.sort_values(["hits", "url"], ascending=[False, True], ignore_index=True)
