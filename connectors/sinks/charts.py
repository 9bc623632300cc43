"""The report's pictures: matplotlib charts as inline SVG.

Reports open from disk under a policy that allows no scripts and nothing from elsewhere,
so every chart is drawn here, ahead of time, and embedded in the page. Its text stays
text (``svg.fonttype: none``): screen readers and the browser's search find it, and the
page stays small. The same data always gives the same bytes: element ids come from a
fixed salt and no date is written.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from enrichment.activity import topic_rows
from enrichment.tagging import STAGES

# matplotlib (about 26 MiB) is imported when the first chart is drawn, not with this module:
# every run imports the report sink, and only report windows draw.
if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Okabe and Ito's colour-blind-safe palette, light to dark along the funnel.
STAGE_COLOURS = {"awareness": "#56b4e9", "consideration": "#e69f00", "decision": "#d55e00"}
NO_STAGE = "no stage"
NO_STAGE_COLOUR = "#c4cbd3"
BAR_COLOUR = "#2956a8"
OUTSIDE_BAND_COLOUR = "#c81e1e"
BAND_COLOUR = "#cdebc5"
INK, MUTED, GRID = "#1f2933", "#616e7c", "#e4e7eb"

# Inches, drawn at 96 pixels each: the report's full width, and one of its two columns.
PAGE_WIDTH, COLUMN_WIDTH = 12.0, 5.8
TOPICS_SHOWN = 10
COUNTRIES_SHOWN = 12
MAX_DAY_LABELS = 10

_STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "visitor-intent",
    # Topics and names come from logs: a "$" in them must not start a formula.
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.size": 10,
    "text.color": INK,
    "axes.labelcolor": MUTED,
    "axes.edgecolor": MUTED,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "legend.frameon": False,
}
# Nothing that changes between two renderings of the same data, and no RDF block in the page.
_NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
_TAG = re.compile(r"<[^>]+>")
_ID_OR_REFERENCE = re.compile(r'(\bid="|url\(#|href="#)')
_ROOT = re.compile(r"<svg\b([^>]*)>")


@dataclass(frozen=True)
class Chart:
    """A chart ready for a page: SVG titled for screen readers, and a caption saying how to read it."""

    svg: Markup
    caption: str


def daily_stages_chart(path: pd.DataFrame, window_start: dt.date, window_end: dt.date) -> Chart | None:
    """Pages viewed on each day of the window, stacked by funnel stage; None without pages."""
    pageviews = pageviews_by_day_and_stage(path, window_start, window_end)
    if pageviews.empty:
        return None
    with _style():
        figure, axes = _figure(PAGE_WIDTH, 2.6, left=0.45, right=0.1, top=0.4, bottom=0.35)
        positions = np.arange(len(pageviews))
        below = np.zeros(len(pageviews))
        for stage in pageviews.columns:
            counts = pageviews[stage].to_numpy()
            # Only days with pages: every bar is an element of the page.
            drawn = counts > 0
            axes.bar(positions[drawn], counts[drawn], bottom=below[drawn], width=0.7, color=_stage_colour(stage))
            below += counts
        _label_days(axes, list(pageviews.index))
        from matplotlib.ticker import MaxNLocator

        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel("pages")
        axes.grid(axis="y", color=GRID)
        axes.set_axisbelow(True)
        _legend_above(axes, [(_stage_colour(stage), stage) for stage in pageviews.columns])
        return Chart(
            _inline_svg(figure, "daily-stages", "Pages viewed per day by funnel stage"),
            "Pages viewed each day, coloured by the funnel stage of their content; “no stage”: untagged "
            "pages and pages not counted for intent, such as careers.",
        )


def topics_chart(path: pd.DataFrame) -> Chart | None:
    """Pages viewed per topic, most read first; None when no page has a topic."""
    pageviews = pageviews_by_topic(path).head(TOPICS_SHOWN)
    if pageviews.empty:
        return None
    with _style():
        figure, axes = _bar_list_figure(len(pageviews), width=COLUMN_WIDTH)
        _labelled_bars(axes, list(pageviews.index), pageviews.to_list(), [f"{n:,}" for n in pageviews])
        return Chart(
            _inline_svg(figure, "topics", "Pages viewed per topic"),
            f"The {len(pageviews)} most read topics; a page can have several.",
        )


def score_history_chart(history: pd.DataFrame) -> Chart | None:
    """One account's intent score over its last windows (``window_end, intent_score``); None for one window."""
    if len(history) < 2:
        return None
    history = history.sort_values("window_end")
    with _style():
        figure, axes = _figure(COLUMN_WIDTH, 2.0, left=0.45, right=0.15, top=0.15, bottom=0.35)
        positions = np.arange(len(history))
        axes.plot(positions, history["intent_score"], color=BAR_COLOUR, marker="o", markersize=4)
        axes.set_xticks(positions, [f"{end.day} {end:%b}" for end in history["window_end"]])
        axes.set_ylim(0, 100)
        axes.set_ylabel("score")
        axes.grid(axis="y", color=GRID)
        axes.set_axisbelow(True)
        return Chart(
            _inline_svg(figure, "score-history", "Intent score over the last report windows"),
            f"The intent score of each of the last {len(history)} windows, by the day each window ends.",
        )


def funnel_chart(steps: Sequence[tuple[str, int, float | None]]) -> Chart | None:
    """The identification funnel, from all hits to target accounts: ``(label, hits, share of all hits)`` per step."""
    if not steps:
        return None
    with _style():
        figure, axes = _bar_list_figure(len(steps), width=COLUMN_WIDTH)
        values = [f"{hits:,} hits" + (f" · {share:.1%}" if share is not None else "") for _, hits, share in steps]
        _labelled_bars(axes, [label for label, _, _ in steps], [hits for _, hits, _ in steps], values)
        return Chart(
            _inline_svg(figure, "funnel", "From hits to target accounts"),
            "Hits kept at each step, and their share of all parsed hits.",
        )


def identification_chart(countries: pd.DataFrame) -> Chart | None:
    """Identification rate per country, against its expected band where it has one; None without countries.

    ``countries``: ``label, visits, rate, expected_low, expected_high, outside`` in the order
    to show; the first ``COUNTRIES_SHOWN`` are drawn.
    """
    shown = countries.head(COUNTRIES_SHOWN).reset_index(drop=True)
    if shown.empty:
        return None
    banded = shown[shown["expected_low"].notna()]
    with _style():
        # Room below for the percent axis, and on the right for its "100%".
        figure, axes = _bar_list_figure(len(shown), width=COLUMN_WIDTH, right=0.3, top=0.45, bottom=0.35)
        axes.barh(
            banded.index,
            banded["expected_high"] - banded["expected_low"],
            left=banded["expected_low"],
            height=0.6,
            color=BAND_COLOUR,
        )
        labels = [f"{row.label} · {row.visits:,} visits" for row in shown.itertuples()]
        colours = [OUTSIDE_BAND_COLOUR if outside else BAR_COLOUR for outside in shown["outside"]]
        _labelled_bars(axes, labels, shown["rate"].to_list(), [f"{rate:.0%}" for rate in shown["rate"]], colours)
        _percent_axis(axes)
        if not banded.empty:
            _legend_above(
                axes,
                [
                    (BAND_COLOUR, "expected band"),
                    (BAR_COLOUR, "inside its band"),
                    (OUTSIDE_BAND_COLOUR, "outside its band"),
                ],
            )
        caption = f"Share of visits identified as a company, for the {len(shown)} countries with the most visits"
        return Chart(
            _inline_svg(figure, "identification", "Identification rate by country"),
            caption + ("; the shaded band is the rate expected there." if not banded.empty else "."),
        )


def pageviews_by_day_and_stage(path: pd.DataFrame, window_start: dt.date, window_end: dt.date) -> pd.DataFrame:
    """Pages viewed per day (index: every day of the window) and stage (columns: the stages seen, in funnel order).

    Pages excluded from intent count as ``NO_STAGE``, like untagged ones: they say nothing of the stage.
    """
    if path.empty:
        return pd.DataFrame()
    stage = path["stage"].where(~path["excluded_from_intent"].astype(bool)).fillna(NO_STAGE)
    counts = path.groupby([path["timestamp"].dt.date, stage]).size().unstack(fill_value=0)
    days = pd.date_range(window_start, window_end, freq="D").date
    table = counts.reindex(index=days, columns=[*STAGES, NO_STAGE], fill_value=0)
    return table.loc[:, table.any()]


def pageviews_by_topic(path: pd.DataFrame) -> pd.Series:
    """Pages viewed per topic, most first (ties by name), counting only pages that count for intent."""
    pages = path[~path["excluded_from_intent"].astype(bool)]
    counts = topic_rows(pages, "visit_id")["topic"].value_counts()
    return counts.sort_index().sort_values(ascending=False, kind="stable").rename("pageviews")


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    # Applies while figures are built and saved: text reads it when created, the SVG writer when saving.
    with matplotlib.rc_context(_STYLE):
        yield


def _figure(
    width: float, height: float, *, left: float, right: float, top: float, bottom: float
) -> tuple[Figure, Axes]:
    """A figure of ``width`` x ``height`` inches with one axes inside the given margins (inches).

    Fixed margins instead of a layout engine: measuring every label costs more than drawing the chart.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    # Agg, explicitly: never a GUI backend on a server. And no pyplot, whose global list of
    # open figures would need closing: these figures are freed like any object.
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height)
    return figure, figure.add_subplot()


def _bar_list_figure(
    rows: int,
    *,
    width: float,
    right: float = 0.1,
    top: float = 0.1,
    bottom: float = 0.1,
) -> tuple[Figure, Axes]:
    """A figure for ``rows`` labelled horizontal bars, first on top."""
    figure, axes = _figure(width, rows * 0.5 + top + bottom, left=0.1, right=right, top=top, bottom=bottom)
    axes.set_ylim(rows - 0.5, -0.75)
    return figure, axes


def _labelled_bars(
    axes: Axes,
    labels: list[str],
    values: list[float],
    value_labels: list[str],
    colours: str | list[str] = BAR_COLOUR,
) -> None:
    """One thin bar per row, its label above it on the left and its value on the right.

    Text above the bars rather than beside them: long topic and step names keep the full
    width, the bars too, and nothing needs measuring.
    """
    rows = np.arange(len(values))
    axes.barh(rows, values, height=0.35, color=colours)
    for row, label, value_label in zip(rows, labels, value_labels):
        axes.text(0, row - 0.25, label, va="bottom", ha="left", color=INK)
        axes.text(
            1, row - 0.25, value_label, va="bottom", ha="right", color=MUTED, transform=axes.get_yaxis_transform()
        )
    axes.set_xlim(0, max(values) or 1)
    axes.xaxis.set_visible(False)
    axes.yaxis.set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_visible(False)


def _percent_axis(axes: Axes) -> None:
    """An x axis from 0 to 100%, with light vertical lines to read the rates against."""
    axes.set_xlim(0, 1)
    axes.xaxis.set_visible(True)
    axes.spines["bottom"].set_visible(True)
    from matplotlib.ticker import PercentFormatter

    axes.xaxis.set_major_formatter(PercentFormatter(xmax=1))
    axes.grid(axis="x", color=GRID)
    axes.set_axisbelow(True)


def _label_days(axes: Axes, days: list[dt.date]) -> None:
    """A date under every day, or under every few days when the window is long."""
    every = math.ceil(len(days) / MAX_DAY_LABELS)
    axes.set_xticks(range(0, len(days), every), [f"{day.day} {day:%b}" for day in days[::every]])
    axes.set_xlim(-0.6, len(days) - 0.4)


def _legend_above(axes: Axes, entries: list[tuple[str, str]]) -> None:
    """A legend of (colour, label) swatches in one row above the axes."""
    from matplotlib.patches import Patch

    handles = [Patch(color=colour, label=label) for colour, label in entries]
    axes.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.02), ncols=len(handles), borderaxespad=0)


def _stage_colour(stage: str) -> str:
    return STAGE_COLOURS.get(stage, NO_STAGE_COLOUR)


def _inline_svg(figure: Figure, chart_id: str, title: str) -> Markup:
    """The figure as an ``<svg>`` element for an HTML page, titled for screen readers."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata=_NO_METADATA)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # no XML declaration or DOCTYPE inside HTML
    # Matplotlib numbers ids per figure (figure_1, patch_1, ...): prefixed, charts can share a page.
    # Only inside tags: chart text holds no "<", and must stay as it is.
    svg = _TAG.sub(lambda tag: _ID_OR_REFERENCE.sub(rf"\g<1>{chart_id}-", tag.group()), svg)
    label = escape(title)
    svg = _ROOT.sub(
        lambda root: f'<svg role="img" aria-label="{label}"{root.group(1)}><title>{label}</title>', svg, count=1
    )
    return Markup(svg)
