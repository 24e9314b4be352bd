"""PNG charts readable on a phone: 1080 px wide, large type, few bars, each bar's name written above it.

Counts 1-4 are never drawn to scale or written: such a bar is drawn hatched at the height of 5 and labelled "< 5".
"""
from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from bot.insights.summary import SMALL, Summary, shown  # noqa: E402

WIDTH_INCHES = 7.2
DPI = 150  # 1080 px wide
TITLE_SIZE = 24
TEXT_SIZE = 18
TICK_SIZE = 16
BLUE, ORANGE, GREEN, GREY = "#1f5fa8", "#d9590b", "#2e7d32", "#9e9e9e"


@dataclass(frozen=True)
class Chart:
    name: str  # file stem, e.g. "1_pertanyaan_per_minggu"
    title: str
    png: bytes


def _shown_height(n: int) -> tuple[float, bool]:
    """(height to draw, hatched): small counts are drawn at the threshold, hatched."""
    return (float(SMALL), True) if 0 < n < SMALL else (float(n), False)


def _finish(fig: Figure, title: str, note: str | None) -> bytes:
    fig.suptitle("\n".join(textwrap.wrap(title, 30)), fontsize=TITLE_SIZE, fontweight="bold", x=0.04, ha="left")
    if note:
        fig.text(0.04, 0.012, "\n".join(textwrap.wrap(note, 60)), fontsize=TICK_SIZE - 3, color="#555555",
                 ha="left", va="bottom")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    plt.close(fig)
    return buffer.getvalue()


def horizontal_bars(title: str, items: list[tuple[str, int]], color: str = BLUE, note: str | None = None,
                    empty: str = "Belum ada data") -> bytes:
    """One bar per item, its name above it and its count at its end; at most a dozen items."""
    items = items[:12]
    height = 2.2 + 1.05 * max(1, len(items))
    fig, ax = plt.subplots(figsize=(WIDTH_INCHES, height))
    fig.subplots_adjust(left=0.04, right=0.96, top=1 - 1.25 / height, bottom=0.75 / height)
    ax.set_axis_off()
    if not items:
        ax.text(0.5, 0.5, empty, fontsize=TEXT_SIZE, ha="center", va="center", transform=ax.transAxes)
        return _finish(fig, title, None)
    top = max(_shown_height(n)[0] for _label, n in items) or 1.0
    for row, (label, n) in enumerate(items):
        y = -row * 1.0
        value, hatched = _shown_height(n)
        ax.text(0, y + 0.30, textwrap.shorten(str(label), 44, placeholder="…"), fontsize=TEXT_SIZE, va="bottom")
        ax.barh(y, value, height=0.42, color="white" if hatched else color, edgecolor=color,
                hatch="///" if hatched else None, linewidth=1.5)
        ax.text(value + top * 0.02, y, shown(n), fontsize=TEXT_SIZE, fontweight="bold", va="center")
    ax.set_xlim(0, top * 1.18)
    ax.set_ylim(-len(items) + 0.5, 0.75)
    return _finish(fig, title, note)


def bars_over_time(title: str, labels: list[str], series: list[tuple[str, list[int], str]],
                   note: str | None = None, axis: str | None = None) -> bytes:
    """Stacked columns per week or month (series: (name, values, colour)), totals written on top."""
    fig, ax = plt.subplots(figsize=(WIDTH_INCHES, 8.4))
    fig.subplots_adjust(left=0.12, right=0.97, top=0.86 if len(series) == 1 else 0.72,
                        bottom=0.17 if len(labels) <= 6 else 0.22)
    bottoms = [0.0] * len(labels)
    positions = list(range(len(labels)))
    for name, values, color in series:
        heights = [_shown_height(v) for v in values]
        ax.bar(positions, [h for h, _ in heights], bottom=bottoms, color=["white" if s else color for _, s in heights],
               edgecolor=color, linewidth=1.5, label=name, width=0.7)
        for x, (h, small) in enumerate(heights):
            if small:
                ax.bar(x, h, bottom=bottoms[x], color="white", edgecolor=color, hatch="///", linewidth=1.5, width=0.7)
        bottoms = [b + h for b, (h, _s) in zip(bottoms, heights, strict=True)]
    totals = [sum(values[i] for _n, values, _c in series) for i in range(len(labels))]
    peak = max(bottoms) if bottoms and max(bottoms) > 0 else 1.0
    for x, total in enumerate(totals):
        if total:
            ax.text(x, bottoms[x] + peak * 0.015, shown(total), ha="center", va="bottom", fontsize=TICK_SIZE,
                    fontweight="bold")
    ax.set_ylim(0, peak * 1.15)
    ax.set_xticks(positions, labels, fontsize=TICK_SIZE, rotation=0 if len(labels) <= 6 else 45,
                  ha="center" if len(labels) <= 6 else "right")
    ax.tick_params(axis="y", labelsize=TICK_SIZE)
    if axis:
        ax.set_xlabel(axis, fontsize=TICK_SIZE - 2, color="#555555")
    locator = ax.yaxis.get_major_locator()
    assert isinstance(locator, MaxNLocator)  # the y axis keeps matplotlib's default AutoLocator, a MaxNLocator
    locator.set_params(integer=True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if len(series) > 1:
        handles = [Patch(facecolor=color, edgecolor=color, label=name) for name, _values, color in series]
        legend = ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(-0.1, 1.02), fontsize=TICK_SIZE,
                           frameon=False, ncol=1, borderaxespad=0)
        for text in legend.get_texts():
            text.set_text("\n".join(textwrap.wrap(text.get_text(), 40)))
    return _finish(fig, title, note)


def charts_for(summary: Summary) -> list[Chart]:
    """The charts of a summary, in reading order; report charts only when reports were filed."""
    labels = summary.labels
    titles, series, notes = labels.get("titles", {}), labels.get("series", {}), labels.get("notes", {})
    small_note = notes.get("small")
    empty = notes.get("no_data", "Belum ada data")
    bucket_labels = [b.label for b in summary.buckets]
    by_month = len(summary.buckets) > 1 and summary.buckets[0].start.day == 1 and \
        (summary.buckets[0].end - summary.buckets[0].start).days > 7
    axis = (labels.get("axis") or {}).get("month" if by_month else "week")
    charts = [
        Chart("1_pertanyaan_per_minggu", titles.get("questions_by_week", ""), bars_over_time(
            titles.get("questions_by_week", ""), bucket_labels,
            [(series.get("answered", "answered"), summary.answered, BLUE),
             (series.get("missed", "missed"), summary.missed, ORANGE)], small_note, axis)),
        Chart("2_topik", titles.get("top_topics", ""),
              horizontal_bars(titles.get("top_topics", ""), summary.topics, BLUE, small_note, empty)),
        Chart("3_cek_perusahaan", titles.get("agency_verdicts", ""),
              horizontal_bars(titles.get("agency_verdicts", ""), summary.agency_verdicts, GREEN, small_note, empty)),
    ]
    if summary.offers_checked:
        charts.append(Chart("4_tanda_lowongan", titles.get("offer_signs", ""), horizontal_bars(
            titles.get("offer_signs", ""), summary.offer_signs, ORANGE, small_note, empty)))
    if summary.reports:
        charts += [
            Chart("5_laporan_per_minggu", titles.get("reports_by_week", ""), bars_over_time(
                titles.get("reports_by_week", ""), bucket_labels,
                [(series.get("reports", "reports"), summary.reports_by_bucket, BLUE)], small_note, axis)),
            Chart("6_laporan_per_jenis", titles.get("reports_by_category", ""), horizontal_bars(
                titles.get("reports_by_category", ""), summary.reports_by_category, BLUE, small_note, empty)),
            Chart("7_laporan_per_tempat", titles.get("reports_by_place", ""), horizontal_bars(
                titles.get("reports_by_place", ""), summary.reports_by_place, GREEN, small_note, empty)),
            Chart("8_status_laporan", titles.get("reports_by_status", ""), horizontal_bars(
                titles.get("reports_by_status", ""), summary.reports_by_status, GREY, small_note, empty)),
        ]
    return charts


def write_charts(charts: list[Chart], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for chart in charts:
        path = folder / f"{chart.name}.png"
        path.write_bytes(chart.png)
        paths.append(path)
    return paths
