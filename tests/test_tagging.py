"""Page tagging: the shipped taxonomy tags the pages marketing cares about; mistakes name file, line, rule and field."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from connectors.config_files import load_taxonomy
from enrichment.errors import ConfigError
from enrichment.tagging import (
    PAGE_TAG_COLUMNS,
    Taxonomy,
    furthest_stage,
    tag_pages,
    untagged_pages,
)

SHIPPED_TAXONOMY = Path(__file__).resolve().parents[1] / "config" / "taxonomy.yaml"

SMALL_TAXONOMY = """\
exclude_from_intent: [careers]
rules:
  - name: pricing
    path: '^/pricing'
    topics: [pricing]
    stage: decision
    content_type: pricing
  - name: webinar landing pages
    path: '^/p/'
    title: 'webinar'
    topics: [webinars]
    stage: consideration
    content_type: webinar
  - name: careers
    path: '^/careers(/|$)'
    content_type: careers
"""


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy(SHIPPED_TAXONOMY)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _tag(url: str, taxonomy: Taxonomy) -> dict[str, object]:
    return tag_pages([url], taxonomy).iloc[0].to_dict()


def test_the_shipped_taxonomy_loads(taxonomy: Taxonomy) -> None:
    assert taxonomy.exclude_from_intent == {"careers", "login", "support"}
    assert taxonomy.rules[0].name == "pricing"


@pytest.mark.parametrize(
    ("url", "rule", "stage", "topics"),
    [
        ("/pricing", "pricing", "decision", "pricing"),
        ("/ru/pricing", "pricing", "decision", "pricing"),
        ("/pricing?utm_source=x", "pricing", "decision", "pricing"),
        ("/Pricing/", "pricing", "decision", "pricing"),
        ("/blog/last-mile-delivery-costs", "route blog posts", "awareness", "route-optimization"),
        ("/docs/api/auth", "API docs", "consideration", "integrations;developers"),
        ("/docs/getting-started", "docs", "consideration", "developers"),
        ("/ru/", "home page", "awareness", ""),
    ],
)
def test_the_shipped_taxonomy_tags_pages(taxonomy: Taxonomy, url: str, rule: str, stage: str, topics: str) -> None:
    tags = _tag(url, taxonomy)
    assert (tags["rule"], tags["stage"], tags["topics"]) == (rule, stage, topics)
    assert tags["excluded_from_intent"] is False


def test_careers_pages_are_excluded_from_intent(taxonomy: Taxonomy) -> None:
    tags = _tag("/careers/x", taxonomy)
    assert (tags["rule"], tags["content_type"], tags["excluded_from_intent"]) == ("careers", "careers", True)
    assert pd.isna(tags["stage"])


def test_an_untagged_page_carries_nothing_and_is_not_excluded(taxonomy: Taxonomy) -> None:
    tags = _tag("/about-us", taxonomy)
    assert pd.isna(tags["rule"]) and pd.isna(tags["stage"]) and pd.isna(tags["content_type"])
    assert (tags["topics"], tags["excluded_from_intent"]) == ("", False)


def test_one_row_per_unique_url(taxonomy: Taxonomy) -> None:
    tags = tag_pages(pd.Series(["/pricing", "/about-us", "/pricing", "/pricing?utm_source=x"]), taxonomy)
    assert list(tags.columns) == PAGE_TAG_COLUMNS
    assert tags["url"].tolist() == ["/pricing", "/about-us", "/pricing?utm_source=x"]
    assert tags["path"].tolist() == ["/pricing", "/about-us", "/pricing"]


def test_the_first_matching_rule_wins(taxonomy: Taxonomy) -> None:
    # "API docs" stands above the general "docs" rule, and the route blog rule above "other blog posts".
    assert _tag("/docs/api", taxonomy)["rule"] == "API docs"
    assert _tag("/blog/fleet-routes", taxonomy)["rule"] == "route blog posts"


def test_a_title_rule_needs_a_matching_title(tmp_path: Path) -> None:
    taxonomy = load_taxonomy(_write(tmp_path, SMALL_TAXONOMY))
    titles = {"/p/spring-live": "Live WEBINAR: last-mile routing", "/p/ebook": "The routing e-book"}
    tags = tag_pages(["/p/spring-live", "/p/ebook", "/p/no-title"], taxonomy, titles=titles).set_index("url")
    assert tags.loc["/p/spring-live", "rule"] == "webinar landing pages"
    assert tags.loc[["/p/ebook", "/p/no-title"], "rule"].isna().all()


def test_untagged_pages_are_listed_most_hit_first(taxonomy: Taxonomy) -> None:
    hits = pd.Series(["/about-us", "/pricing", "/team", "/team", "/pricing", "/team", "/about-us", "/pricing"])
    tags = tag_pages(hits.unique(), taxonomy)
    untagged = untagged_pages(tags, hits.value_counts())
    assert untagged.to_dict("records") == [{"url": "/team", "hits": 3}, {"url": "/about-us", "hits": 2}]


@pytest.mark.parametrize(
    ("stages", "furthest"),
    [
        (["awareness", "decision", "consideration"], "decision"),
        (["awareness", None, float("nan")], "awareness"),
        ([None], None),
        ([], None),
    ],
)
def test_furthest_stage(stages: list[str | None], furthest: str | None) -> None:
    assert furthest_stage(stages) == furthest


@pytest.mark.parametrize(
    ("original", "mistake", "line", "where", "words"),
    [
        ("'^/pricing'", "'^/(pricing'", 4, "rule 1 (pricing): field `path`", "not a valid regular expression"),
        ("consideration", "evaluation", 12, "rule 2 (webinar landing pages): field `stage`", "'decision'"),
        ("    path: '^/careers(/|$)'\n", "", 14, "rule 3 (careers): field `path`", "Field required"),
        (
            "[webinars]",
            "[webinars]\n    colour: blue",
            12,
            "rule 2 (webinar landing pages): field `colour`",
            "Extra inputs",
        ),
        ("[careers]", "[carrers]", 1, "field `exclude_from_intent`", "carrers: no rule has this content_type"),
    ],
)
def test_a_mistake_names_file_line_rule_and_field(
    tmp_path: Path, original: str, mistake: str, line: int, where: str, words: str
) -> None:
    path = _write(tmp_path, SMALL_TAXONOMY.replace(original, mistake))
    with pytest.raises(ConfigError) as raised:
        load_taxonomy(path)
    message = str(raised.value)
    assert message.startswith(f"{path}:{line}: {where}: ")
    assert words in message


def test_untagged_variants_of_one_page_add_up_under_its_path(taxonomy: Taxonomy) -> None:
    hits = pd.Series(["/partners?utm_source=x", "/partners/", "/Partners", "/partners?utm_source=y"])
    tags = tag_pages(hits.unique(), taxonomy)
    assert untagged_pages(tags, hits.value_counts()).to_dict("records") == [{"url": "/partners", "hits": 4}]
