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
from typing import TYPE_CHECKING

from handlers.figures import Chart

if TYPE_CHECKING:
    from matplotlib.axes import Axes

WIDTH_PX = 800
HEIGHT_PX = 450
DPI = 100
#: Category labels longer than this are cut with "…" (the full label is in the tables).
LABEL_LIMIT = 24
#: At most this many x-axis labels are written; past it, every n-th one.
MAX_TICK_LABELS = 16
#: Matplotlib's colour-blind-safe "tab10" order, fixed here so charts look alike everywhere.
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


def render_png(chart: Chart) -> bytes | None:
    """The chart as PNG bytes, ``WIDTH_PX`` × ``HEIGHT_PX``; None when there is nothing to draw.

    Args:
        chart: A bar chart (categories, one bar per series side by side), a line chart (one
            line per series, with a legend when there are several) or a histogram (counts
            per bucket, the bars touching).

    Returns:
        The PNG, or None when the chart has no labels or no values.

    Raises:
        ValueError: a series does not have one value per label.
    """
    if not drawable(chart):
        return None
    import matplotlib

    # Labels are names from the directory and words people typed: plain text, never
    # mathtext (a department called "R&D $x" would otherwise fail to draw).
    with matplotlib.rc_context({"text.parse_math": False}):
        return _render(chart)


def _render(chart: Chart) -> bytes:
    """:func:`render_png` for a drawable chart."""
    series = [(name, values) for name, values in chart.series if values]
    for name, values in series:
        if len(values) != len(chart.labels):
            raise ValueError(
                f"chart {chart.title!r}: series {name!r} has {len(values)} values "
                f"for {len(chart.labels)} labels"
            )
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(chart.labels)))
    if chart.kind == "line":
        for i, (name, values) in enumerate(series):
            axes.plot(
                positions,
                values,
                marker="o",
                linewidth=2,
                color=COLOURS[i % len(COLOURS)],
                label=name,
                # Drawn over the axes' frame, so a line along zero stays visible.
                clip_on=False,
                zorder=3,
            )
    else:
        _bars(axes, chart, series, positions)
    axes.set_title(chart.title, fontsize=13, loc="left")
    if chart.y_label:
        axes.set_ylabel(chart.y_label, fontsize=11)
    if all(float(v).is_integer() for _, values in series for v in values):
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    low = min(min(values) for _, values in series)
    high = max(max(values) for _, values in series)
    if low >= 0 and (chart.kind != "line" or low == high):
        # Bars start at zero; a flat line (all zeros, say) gets a readable axis too.
        axes.set_ylim(bottom=0, top=high * 1.2 if high > 0 else 1)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    axes.spines[["top", "right"]].set_visible(False)
    _x_labels(axes, chart.labels, positions)
    if len(series) > 1:
        axes.legend(frameon=False, fontsize=10)
    out = io.BytesIO()
    # No bbox_inches="tight": it would change the size; the constrained layout makes room.
    figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def drawable(chart: Chart) -> bool:
    """Whether the chart has anything to draw: labels, and a series with values."""
    return bool(chart.labels) and any(values for _, values in chart.series)


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
            f"{label} {value:g}" for label, value in zip(chart.labels, values, strict=False)
        )
        parts.append(f"{name}: {points}.")
    text = " ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def draw(chart: Chart) -> bytes | None:
    """:func:`render_png` on a worker thread, so drawing does not hold up the event loop."""
    return await asyncio.to_thread(render_png, chart)


def _bars(
    axes: Axes,
    chart: Chart,
    series: list[tuple[str, tuple[float, ...]]],
    positions: list[int],
) -> None:
    """Bars side by side per category; a histogram's buckets touch."""
    group = 1.0 if chart.kind == "histogram" else 0.8
    width = group / len(series)
    for i, (name, values) in enumerate(series):
        offset = (i - (len(series) - 1) / 2) * width
        axes.bar(
            [p + offset for p in positions],
            values,
            width=width,
            color=COLOURS[i % len(COLOURS)],
            edgecolor="white",
            linewidth=0.8 if chart.kind == "histogram" else 0,
            label=name,
        )


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
