"""Drawing a report's chart as a PNG, for Slack (a file in the DM) and Teams (a card image).

matplotlib is imported inside :func:`render_png`, so commands that never draw a chart (the
CLI, the shell) do not pay for it at start-up. Only matplotlib's object-oriented API and its
Agg canvas are used: no pyplot, so no global figure state and no GUI backend, and each call
owns its figure.

Every chart has the same size (:data:`WIDTH_PX` × :data:`HEIGHT_PX`), so it reads the same
in a Slack preview and across a Teams card.
"""

from __future__ import annotations

import asyncio
import io
import math
import textwrap
from datetime import datetime
from typing import TYPE_CHECKING

from handlers import Chart, Point, shown_series

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

WIDTH_PX = 800
HEIGHT_PX = 450
DPI = 100
#: Category labels longer than this are cut with "…" (the full label is in the tables).
LABEL_LIMIT = 24
#: At most this many x-axis labels are written; past it, every n-th one.
MAX_TICK_LABELS = 16
#: At most this many months are written under a line over time (each is "Sep 2026").
MAX_MONTH_TICKS = 8
#: How every chart writes a month: the same as the reports' tables (Sep 2026).
MONTH_FORMAT = "%b %Y"
#: Days either side of a line over time, so its first and last points clear the frame.
HALF_MONTH = 15.0
#: Characters of a title on one line before it wraps.
TITLE_WIDTH = 80
#: Characters of the y-axis label on one line (it runs up the chart's height).
Y_LABEL_WIDTH = 55
#: Matplotlib's colour-blind-safe "tab10" order, fixed here so charts look alike everywhere.
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


def render_png(chart: Chart) -> bytes | None:
    """The chart as PNG bytes, ``WIDTH_PX`` × ``HEIGHT_PX``; None when there is nothing to draw.

    Args:
        chart: A bar chart (categories, one bar per series side by side), a line chart (one
            line per series, with a legend when there are several; over real time when the
            chart gives its months) or a histogram (counts per bucket, the bars touching).

    Returns:
        The PNG, or None when the chart has no labels, or no series with a value other than
        zero (see :func:`handlers.core.figures.shown_series`).

    Raises:
        ValueError: a series does not have one value per label.
    """
    if not drawable(chart):
        return None
    import matplotlib

    # Labels are names from the directory and words people typed: plain text, never
    # mathtext (a department called "R&D $x" would otherwise fail to draw).
    with matplotlib.rc_context({"text.parse_math": False}):
        figure = draw_figure(chart)
        out = io.BytesIO()
        # No bbox_inches="tight": it would change the size; the constrained layout makes room.
        figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def draw_figure(chart: Chart) -> Figure:
    """The chart as a matplotlib figure with one Axes, not yet saved.

    The y-axis starts at the scale's lowest value (:attr:`Chart.scale`), never at the
    data's; a series that is all zero or all None is left out; a None is a gap in a line.

    Raises:
        ValueError: a series does not have one value per label, or nothing is left to draw.
    """
    for name, values in chart.series:
        if values and len(values) != len(chart.labels):
            raise ValueError(
                f"chart {chart.title!r}: series {name!r} has {len(values)} values "
                f"for {len(chart.labels)} labels"
            )
    if chart.months and len(chart.months) != len(chart.labels):
        raise ValueError(
            f"chart {chart.title!r} has {len(chart.months)} months for {len(chart.labels)} labels"
        )
    series = [(name, _floats(values)) for name, values in shown_series(chart)]
    if not series or not chart.labels:
        raise ValueError(f"chart {chart.title!r} has nothing to draw")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if chart.kind == "line":
        _lines(axes, chart, series)
    else:
        _bars(axes, chart, series)
    axes.set_title(_wrapped(chart.title), fontsize=13, loc="left")
    if chart.y_label:
        axes.set_ylabel(_wrapped(chart.y_label, Y_LABEL_WIDTH), fontsize=11)
    _y_axis(axes, chart, series)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    axes.spines[["top", "right"]].set_visible(False)
    if len(series) > 1:
        axes.legend(frameon=False, fontsize=10)
    return figure


def drawable(chart: Chart) -> bool:
    """Whether the chart has anything to draw: labels, and a series with a value but zero."""
    return bool(chart.labels) and bool(shown_series(chart))


def alt_text(chart: Chart, limit: int = 1000) -> str:
    """The chart in words, for screen readers (Slack's ``alt_txt``, a card image's altText).

    Slack takes at most 1000 characters; a long chart is cut with "…".
    """
    kind = {"bar": "Bar chart", "line": "Line chart", "histogram": "Histogram"}[chart.kind]
    parts = [f"{kind}: {chart.title}."]
    if chart.y_label:
        parts.append(f"Values: {chart.y_label}.")
    for name, values in chart.series:
        points = ", ".join(
            f"{label} {'no figure' if value is None else format(value, 'g')}"
            for label, value in zip(chart.labels, values, strict=False)
        )
        parts.append(f"{name}: {points}.")
    text = " ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def draw(chart: Chart) -> bytes | None:
    """:func:`render_png` on a worker thread, so drawing does not hold up the event loop."""
    return await asyncio.to_thread(render_png, chart)


def _floats(values: tuple[Point, ...]) -> list[float]:
    """A series as matplotlib draws it: a missing value is NaN, which it leaves out."""
    return [math.nan if value is None else float(value) for value in values]


def _lines(axes: Axes, chart: Chart, series: list[tuple[str, list[float]]]) -> None:
    """One line per series, over real time when the chart gives its months.

    A NaN breaks the line, so a month without a value is a visible gap; every point has a
    marker, so a month between two gaps still shows.
    """
    xs = (
        [_month_start(month) for month in chart.months]
        if chart.months
        else [float(i) for i in range(len(chart.labels))]
    )
    for i, (name, values) in enumerate(series):
        axes.plot(
            xs,
            values,
            marker="o",
            linewidth=2,
            color=COLOURS[i % len(COLOURS)],
            label=name,
            # Drawn over the axes' frame, so a line along the scale's floor stays visible.
            clip_on=False,
            zorder=3,
        )
    if chart.months:
        _month_axis(axes, xs)
    else:
        _x_labels(axes, chart.labels, list(range(len(chart.labels))))


def _month_start(month: str) -> float:
    """A ``YYYY-MM`` month as the moment it starts, in matplotlib's date numbers (days)."""
    from matplotlib.dates import date2num

    start = datetime(int(month[:4]), int(month[5:7]), 1)
    return float(date2num(start))  # type: ignore[no-untyped-call]


def _month_axis(axes: Axes, moments: list[float]) -> None:
    """A time axis in months, each tick written as every report writes a month (Sep 2026)."""
    from matplotlib.dates import DateFormatter

    step = max(1, math.ceil(len(moments) / MAX_MONTH_TICKS))
    # Ticks from the first month on, every ``step``-th one: months are positions in time.
    axes.set_xticks(moments[::step])
    axes.xaxis.set_major_formatter(DateFormatter(MONTH_FORMAT))  # type: ignore[no-untyped-call]
    # Half a month either side, so the first and last points are not on the frame.
    axes.set_xlim(moments[0] - HALF_MONTH, moments[-1] + HALF_MONTH)
    for label in axes.get_xticklabels():
        label.set_fontsize(10)


def _y_axis(axes: Axes, chart: Chart, series: list[tuple[str, list[float]]]) -> None:
    """The y-axis from the scale's floor (0, or 1 for a 1–5 rating) to its top or above the data.

    Whole-number values get whole-number ticks.
    """
    from matplotlib.ticker import MaxNLocator

    values = [v for _, values in series for v in values if not math.isnan(v)]
    floor, ceiling = chart.scale
    # A value off the scale (a negative count, a rating past its top) still shows.
    floor = min(floor, *values)
    high = max(values)
    if ceiling is None or high > ceiling:
        span = high - floor
        ceiling = high + 0.15 * span if span > 0 else floor + 1
    axes.set_ylim(bottom=floor, top=ceiling)
    if all(float(v).is_integer() for v in values) and float(floor).is_integer():
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))


def _bars(axes: Axes, chart: Chart, series: list[tuple[str, list[float]]]) -> None:
    """Bars side by side per category; a histogram's buckets touch."""
    positions = list(range(len(chart.labels)))
    group = 1.0 if chart.kind == "histogram" else 0.8
    width = group / len(series)
    for i, (name, values) in enumerate(series):
        offset = (i - (len(series) - 1) / 2) * width
        axes.bar(
            [p + offset for p in positions],
            # A missing value is no bar (matplotlib draws a NaN bar as nothing).
            values,
            width=width,
            color=COLOURS[i % len(COLOURS)],
            edgecolor="white",
            linewidth=0.8 if chart.kind == "histogram" else 0,
            label=name,
        )
    _x_labels(axes, chart.labels, positions)


def _x_labels(axes: Axes, labels: tuple[str, ...], positions: list[int]) -> None:
    """Category labels: cut when long, thinned when many, slanted when they would collide."""
    step = max(1, math.ceil(len(labels) / MAX_TICK_LABELS))
    shown = positions[::step]
    texts = [_short(labels[p]) for p in shown]
    axes.set_xticks(shown)
    # About 8 px per character at 10 pt, plus a gap; slant labels that would not fit.
    slot = WIDTH_PX * 0.85 / max(1, len(shown))
    slanted = max(len(t) for t in texts) * 8 + 8 > slot
    axes.set_xticklabels(
        texts,
        fontsize=10,
        rotation=35 if slanted else 0,
        ha="right" if slanted else "center",
        rotation_mode="anchor",
    )
    axes.set_xlim(-0.6, len(labels) - 0.4)


def _short(label: str) -> str:
    return label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1] + "…"


def _wrapped(text: str, width: int = TITLE_WIDTH) -> str:
    """A long title on several lines (a question's prompt can run to a sentence or two)."""
    return "\n".join(textwrap.wrap(text, width)) or text
