"""Server-side pygal charts that load nothing from elsewhere and satisfy the page's CSP.

pygal writes a ``<style>`` per chart, scoped to a random id, and links its tooltip script from
the internet. Here no script is linked (``js=[]``) or inlined, the style moves to one shared
stylesheet (``chart_css``), and each SVG gets a stable id, so the markup can be inlined, compared
and swapped by the live pages without any inline style.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pygal
from markupsafe import Markup
from pygal.style import Style

# pygal puts an old-style import hook (for its optional map plugins, unused here) on
# sys.meta_path; it lacks find_spec, so every failed import anywhere then warns. Take it off.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", sans-serif'
COLOURS = ("#1f6f8b", "#d9822b", "#2e7d4f", "#8e5ea2", "#b23b3b", "#5a6b7b", "#3aa6b9")

STYLE = Style(
    background="transparent",
    plot_background="#ffffff",
    foreground="#1c2833",
    foreground_strong="#1c2833",
    foreground_subtle="#dde3ea",
    opacity=".85",
    opacity_hover="1",
    colors=COLOURS,
    font_family=FONT,
    label_font_family=FONT,
    major_label_font_family=FONT,
    value_font_family=FONT,
    value_label_font_family=FONT,
    tooltip_font_family=FONT,
    title_font_family=FONT,
    legend_font_family=FONT,
    no_data_font_family=FONT,
    label_font_size=16,
    major_label_font_size=16,
    legend_font_size=17,
    value_font_size=15,
    title_font_size=17,
    no_data_font_size=28,
    guide_stroke_color="#dde3ea",
    guide_stroke_dasharray="0",
    major_guide_stroke_color="#c5cfd9",
    major_guide_stroke_dasharray="0",
    stroke_width=2.5,
)

_ID_RE = re.compile(r'id="chart-([0-9a-f-]{36})"')
_STYLE_RE = re.compile(r"<style[^>]*>.*?</style>", re.S)
_COMMENT_RE = re.compile(r"<!--.*?-->", re.S)
_SCRIPT_RE = re.compile(r"<script[^>]*>.*?</script>", re.S)


def base_config(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "width": 720,
        "height": 340,
        "margin": 12,
        # pygal measures text with a fixed-width guess; the system fonts run wider.
        "margin_bottom": 36,
        "margin_right": 34,
        "spacing": 14,
        "show_legend": True,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 3,
        "truncate_legend": 40,
        "show_y_guides": True,
        "show_x_guides": False,
        "dots_size": 3,
        "stroke_style": {"width": 2.5},
        "print_values": False,
        "include_x_axis": True,
        "x_label_rotation": 0,
        "truncate_label": 12,
    }
    config.update(overrides)
    return config


def to_markup(chart: Any, chart_id: str, label_id: str | None = None) -> Markup:
    """The chart as inline SVG without inline style, script or random ids."""
    svg = chart.render(is_unicode=True)
    found = _ID_RE.search(svg)
    if found:
        svg = svg.replace(f"chart-{found.group(1)}", chart_id)
    svg = _STYLE_RE.sub("", svg)
    svg = _SCRIPT_RE.sub("", svg)  # pygal's config for its tooltip script, never loaded here
    svg = _COMMENT_RE.sub("", svg)
    svg = svg.replace('style="opacity: 0"', 'opacity="0"')
    labelled = f' aria-labelledby="{label_id}"' if label_id else ""
    svg = svg.replace("<svg ", f'<svg role="img"{labelled} ', 1)
    return Markup(svg)


@lru_cache(maxsize=1)
def chart_css() -> str:
    """pygal's stylesheet for STYLE, scoped to every chart instead of one random id."""
    chart = pygal.Line(**base_config())
    for n in range(len(COLOURS)):  # pygal writes a colour rule only for each series it has
        chart.add(f"s{n}", [1, 2])
    svg = chart.render(is_unicode=True)
    uuid = _ID_RE.search(svg).group(1)  # type: ignore[union-attr]  # pygal always writes the id
    css = "".join(re.findall(r"<style[^>]*>(.*?)</style>", svg, re.S))
    css = css.replace("&gt;", ">").replace(f"#chart-{uuid}", "svg.pygal-chart")
    # Tooltips need pygal's script, which is not loaded; keep them out of sight.
    return css + "\nsvg.pygal-chart .tooltip{display:none}\n"


@dataclass
class Series:
    name: str
    values: Sequence[float | None]


@dataclass
class ChartView:
    """What a template needs for one figure: the SVG, title, caption and the numbers as a table."""

    chart_id: str
    title: str
    caption: str
    svg: Markup
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    #: The same rows unformatted (numbers as numbers, None for no value): the CSV's.
    values: list[list[Any]] = field(default_factory=list)


def _formatted(fmt: Callable[[float], str]) -> Callable[[Any], str]:
    def format_value(value: Any) -> str:
        if value is None:
            return "–"
        if isinstance(value, tuple | list):
            value = value[0]
        return fmt(value)

    return format_value


def line_chart(
    chart_id: str,
    title: str,
    caption: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str],
    *,
    first_column: str,
    y_range: tuple[float, float] | None = None,
    secondary: Sequence[Series] = (),
    axis_fmt: Callable[[float], str] | None = None,
) -> ChartView:
    """A trend line over periods, the numbers beside it."""
    config = base_config(
        value_formatter=_formatted(axis_fmt or fmt),
        x_labels_major_every=3 if len(labels) > 8 else None,
        show_minor_x_labels=len(labels) <= 8,
        allow_interruptions=True,
    )
    if y_range:
        config["range"] = y_range
    chart = pygal.Line(**config)
    chart.x_labels = list(labels)
    for s in series:
        chart.add(s.name, list(s.values))
    for s in secondary:
        chart.add(s.name, list(s.values), stroke_style={"width": 1.5, "dasharray": "6,4"})
    all_series = list(series) + list(secondary)
    rows = [
        [label] + [_formatted(fmt)(s.values[i]) for s in all_series]
        for i, label in enumerate(labels)
    ]
    return ChartView(
        chart_id=chart_id,
        title=title,
        caption=caption,
        svg=to_markup(chart, chart_id, f"{chart_id}-title"),
        columns=[first_column] + [s.name for s in all_series],
        rows=rows,
        values=[[label] + [s.values[i] for s in all_series] for i, label in enumerate(labels)],
    )


def count_ticks(top: float, ticks: int = 5) -> list[int]:
    """Whole-number ticks from 0 to at least ``top`` in steps of 1, 2, 5, 10, 20, 50 ...: an empty
    chart reads 0-5, not a repeated 1."""
    need = max(top, float(ticks)) / ticks
    step, base = 1, 1
    while step < need:
        for factor in (1, 2, 5):
            step = factor * base
            if step >= need:
                break
        base *= 10
    last = -(-int(max(top, ticks)) // step) * step
    return list(range(0, last + 1, step))


def bar_chart(
    chart_id: str,
    title: str,
    caption: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str],
    *,
    first_column: str,
    horizontal: bool = False,
    x_title: str | None = None,
    x_labels_every: int | None = None,
) -> ChartView:
    """Counts per bucket (a distribution), the numbers beside it. The value axis is whole
    numbers from 0 (pygal alone writes 1, 1, 1, 0, 0 for a day of zeros or ones)."""
    cls = pygal.HorizontalBar if horizontal else pygal.Bar
    top = max((v for s in series for v in s.values if v is not None), default=0)
    config = base_config(
        value_formatter=_formatted(fmt),
        show_legend=len(series) > 1,
        x_label_rotation=0,
        truncate_label=-1,
        x_title=x_title,
        y_labels=count_ticks(float(top)),
    )
    if x_labels_every:
        config.update(x_labels_major_every=x_labels_every, show_minor_x_labels=False)
    chart = cls(**config)
    chart.x_labels = list(labels)
    for s in series:
        chart.add(s.name, list(s.values))
    rows = [
        [label] + [_formatted(fmt)(s.values[i]) for s in series] for i, label in enumerate(labels)
    ]
    return ChartView(
        chart_id=chart_id,
        title=title,
        caption=caption,
        svg=to_markup(chart, chart_id, f"{chart_id}-title"),
        columns=[first_column] + [s.name for s in series],
        rows=rows,
        values=[[label] + [s.values[i] for s in series] for i, label in enumerate(labels)],
    )
