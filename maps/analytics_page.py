"""The supervisor's analytics page: outcome rates by group and week as inline SVG charts drawn on the server.

No script and no outside request: the page is HTML and SVG only, so it passes a self-only CSP and prints as is.
It takes plain rows (the API's JSON answer), not pandas frames, so ``maps`` stays independent of the API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from maps.page import esc

__all__ = ["RATE_LABELS", "bar_chart", "render_analytics_page", "trend_chart"]

RATE_LABELS = {
    "contact": "Contact rate",
    "promise_to_pay": "Promise-to-pay rate",
    "kept_promise": "Kept-promise rate",
    "wrong_address": "Wrong-address rate",
}
RATE_COLOURS = {
    "contact": "#1f77b4",
    "promise_to_pay": "#2ca02c",
    "kept_promise": "#9467bd",
    "wrong_address": "#d62728",
}
PAGE_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; color: #111; max-width: 1100px; }
h1 { font-size: 20px; margin: 0 0 8px; } h2 { font-size: 16px; margin: 20px 0 4px; }
nav a { margin-right: 8px; } nav a[aria-current] { font-weight: bold; text-decoration: none; color: #111; }
form { margin: 8px 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 12px; }
svg { width: 100%; height: auto; background: #fff; border: 1px solid #ddd; }
svg text { font: 11px system-ui, sans-serif; fill: #222; } svg .title { font-size: 13px; font-weight: bold; }
table { border-collapse: collapse; margin-top: 8px; } th, td { border: 1px solid #ccc; padding: 2px 6px; }
td.n { text-align: right; font-variant-numeric: tabular-nums; } .muted { color: #555; }
"""


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def bar_chart(title: str, rows: Sequence[Mapping[str, Any]], rate: str, colour: str = "#1f77b4") -> str:
    """One horizontal bar per group: the rate as a bar, its 95 % interval as a whisker, the visits beside it.

    ``rows`` are the API's groups (``group``, ``rates[rate]`` with ``rate, low, high, successes, trials``).
    """
    bar_h, left, width, right = 18, 130, 300, 110
    height = 28 + bar_h * max(1, len(rows)) + 22
    x0 = left
    out = [
        f'<svg viewBox="0 0 {left + width + right} {height}" role="img" aria-label="{esc(title)}">',
        f'<text class="title" x="4" y="16">{esc(title)}</text>',
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = x0 + tick * width
        out.append(f'<line x1="{x:.1f}" y1="24" x2="{x:.1f}" y2="{height - 18}" stroke="#eee"/>')
        out.append(f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle">{tick:.0%}</text>')
    for i, row in enumerate(rows):
        y = 26 + i * bar_h
        r = row["rates"][rate]
        label = str(row["group"])
        out.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{esc(label[:20])}</text>')
        if r["rate"] is not None:
            w = r["rate"] * width
            out.append(
                f'<rect x="{x0}" y="{y + 2}" width="{w:.1f}" height="{bar_h - 6}" fill="{colour}" opacity="0.8">'
                f"<title>{esc(label)}: {_pct(r['rate'])} ({_pct(r['low'])}–{_pct(r['high'])}), "
                f"{r['successes']} of {r['trials']}</title></rect>"
            )
            lo, hi = x0 + r["low"] * width, x0 + r["high"] * width
            mid = y + bar_h / 2 - 1
            out.append(f'<line x1="{lo:.1f}" y1="{mid}" x2="{hi:.1f}" y2="{mid}" stroke="#000"/>')
            for x in (lo, hi):
                out.append(f'<line x1="{x:.1f}" y1="{mid - 4}" x2="{x:.1f}" y2="{mid + 4}" stroke="#000"/>')
        note = f"{_pct(r['rate'])} · n={r['trials']}"
        out.append(f'<text x="{x0 + width + 6}" y="{y + 12}">{esc(note)}</text>')
    out.append("</svg>")
    return "".join(out)


def trend_chart(title: str, weeks: Sequence[Mapping[str, Any]]) -> str:
    """Each rate week by week as a line (points where a week had trials), with a legend."""
    left, width, top, plot_h = 40, 560, 28, 180
    height = top + plot_h + 44
    out = [
        f'<svg viewBox="0 0 {left + width + 20} {height}" role="img" aria-label="{esc(title)}">',
        f'<text class="title" x="4" y="16">{esc(title)}</text>',
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - tick)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + width}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{tick:.0%}</text>')
    n = len(weeks)
    step = width / max(1, n - 1)
    for k, week in enumerate(weeks):
        if n <= 12 or k % max(1, n // 12) == 0:
            x = left + k * step if n > 1 else left + width / 2
            out.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{esc(week["week"][5:])}</text>')
    for j, (rate, label) in enumerate(RATE_LABELS.items()):
        colour = RATE_COLOURS[rate]
        points = []
        for k, week in enumerate(weeks):
            value = week["rates"][rate]["rate"]
            if value is not None:
                x = left + k * step if n > 1 else left + width / 2
                points.append((x, top + plot_h * (1 - value), week["week"], value))
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y, week_name, value in points:
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{esc(label)}, week of '
                f"{esc(week_name)}: {_pct(value)}</title></circle>"
            )
        lx = left + j * 140
        out.append(f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{lx + 14}" y="{height - 5}">{esc(label)}</text>')
    out.append("</svg>")
    return "".join(out)


def render_analytics_page(answer: Mapping[str, Any], groups: Sequence[str], base: str = "/v1/analytics/page") -> str:
    """The page for one answer of ``GET /v1/analytics/outcomes``: a chart per rate by group, the weekly trend,
    the numbers as a table, and links to the same query as CSV and GeoPackage."""
    group_by = str(answer["group_by"])
    query = {k: str(v) for k, v in (("from", answer.get("from")), ("to", answer.get("to"))) if v}
    nav = "".join(
        f'<a href="{esc(base + "?" + urlencode({"group_by": g, **query}))}"'
        + (' aria-current="page"' if g == group_by else "")
        + f">{esc(g)}</a>"
        for g in groups
    )
    rows = answer["groups"]
    charts = "".join(
        bar_chart(f"{label} by {group_by}", rows, rate, RATE_COLOURS[rate]) for rate, label in RATE_LABELS.items()
    )
    trend = trend_chart("Weekly trend", answer.get("trend", []))
    head = "".join(f"<th>{esc(h)}</th>" for h in (group_by, "visits", *RATE_LABELS.values()))
    body = "".join(
        f"<tr><td>{esc(str(r['group']))}</td><td class=n>{r['visits']}</td>"
        + "".join(
            f"<td class=n>{_pct(r['rates'][k]['rate'])} <span class=muted>({_pct(r['rates'][k]['low'])}–"
            f"{_pct(r['rates'][k]['high'])})</span></td>"
            for k in RATE_LABELS
        )
        + "</tr>"
        for r in rows
    )
    exports = " · ".join(
        f'<a href="{esc("/v1/analytics/outcomes?" + urlencode({"group_by": group_by, **query, "format": f}))}">'
        f"{esc(name)}</a>"
        for f, name in (("csv", "CSV"), ("gpkg", "GeoPackage (outcome points)"))
    )
    period = f"{answer.get('from') or 'the first outcome'} – {answer.get('to') or 'the last'}"
    form = (
        f'<form method="get" action="{esc(base)}"><input type="hidden" name="group_by" value="{esc(group_by)}">'
        f'<label>from <input type="date" name="from" value="{esc(str(answer.get("from") or ""))}"></label> '
        f'<label>to <input type="date" name="to" value="{esc(str(answer.get("to") or ""))}"></label> '
        '<button type="submit">Show</button></form>'
    )
    empty = "" if rows else '<p role="status">No outcomes in this period.</p>'
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Outcome analytics by {esc(group_by)}</title><style>{PAGE_CSS}</style></head><body>"
        f"<h1>What the visits taught: by {esc(group_by)}</h1><p class=muted>{esc(period)}; bars are rates, "
        "whiskers their 95 % Wilson intervals.</p>"
        f"<nav>Group by: {nav}</nav>{form}{empty}<div class=charts>{charts}{trend}</div>"
        f"<h2>Numbers</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<p>Download: {exports}</p></body></html>"
    )
