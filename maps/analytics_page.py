"""The supervisor's analytics page: outcome rates by group and week as inline SVG charts drawn on the server.

No script and no outside request: the page is HTML and SVG only, so it passes a self-only CSP and prints as is.
It takes plain rows (the API's JSON answer), not pandas frames, so ``maps`` stays independent of the API. Every
word a reader sees comes from `maps.i18n` in the deployment's language; codes and data (district names, team
ids, hours, weeks, overdue buckets) are shown as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from maps.i18n import MESSAGES, normalize_lang, translate
from maps.page import esc

__all__ = ["RATES", "bar_chart", "group_label", "rate_label", "render_analytics_page", "trend_chart"]

RATES = ("contact", "promise_to_pay", "kept_promise", "wrong_address")
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


def rate_label(lang: str, rate: str) -> str:
    """The name of ``rate`` (one of `RATES`) in ``lang``, e.g. "Contact rate"."""
    return translate(lang, f"analytics.rate.{rate}")


def group_label(lang: str, group_by: str, value: str) -> str:
    """How a group's value reads in ``lang``: a segment or day type by its translated name where `maps.i18n`
    has one (``day_type.workday``), anything else (districts, teams, hours, weeks) as it is."""
    return MESSAGES[normalize_lang(lang)].get(f"{group_by}.{value}", value)


def bar_chart(
    title: str, rows: Sequence[Mapping[str, Any]], rate: str, colour: str = "#1f77b4", lang: str = "en"
) -> str:
    """One horizontal bar per group: the rate as a bar, its 95 % interval as a whisker, the visits beside it.

    ``rows`` are the API's groups (``group``, ``rates[rate]`` with ``rate, low, high, successes, trials``); the
    ``group`` is drawn as given, so translate it first (`group_label`). Tooltips are in ``lang``.
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
            tip = translate(
                lang,
                "analytics.bar_tip",
                group=label,
                rate=_pct(r["rate"]),
                low=_pct(r["low"]),
                high=_pct(r["high"]),
                successes=r["successes"],
                trials=r["trials"],
            )
            out.append(
                f'<rect x="{x0}" y="{y + 2}" width="{w:.1f}" height="{bar_h - 6}" fill="{colour}" opacity="0.8">'
                f"<title>{esc(tip)}</title></rect>"
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


def trend_chart(title: str, weeks: Sequence[Mapping[str, Any]], lang: str = "en") -> str:
    """Each rate week by week as a line (points where a week had trials), with a legend in ``lang``."""
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
    for j, rate in enumerate(RATES):
        label = rate_label(lang, rate)
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
            tip = translate(lang, "analytics.point_tip", rate=label, week=week_name, value=_pct(value))
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{esc(tip)}</title></circle>')
        lx = left + j * 140
        out.append(f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{lx + 14}" y="{height - 5}">{esc(label)}</text>')
    out.append("</svg>")
    return "".join(out)


def render_analytics_page(
    answer: Mapping[str, Any], groups: Sequence[str], base: str = "/v1/analytics/page", lang: str = "en"
) -> str:
    """The page for one answer of ``GET /v1/analytics/outcomes``: a chart per rate by group, the weekly trend,
    the numbers as a table, and links to the same query as CSV and GeoPackage, all in ``lang``."""
    lang = normalize_lang(lang)

    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    group_by = str(answer["group_by"])
    group_name = t(f"analytics.group.{group_by}")
    query = {k: str(v) for k, v in (("from", answer.get("from")), ("to", answer.get("to"))) if v}
    nav = "".join(
        f'<a href="{esc(base + "?" + urlencode({"group_by": g, **query}))}"'
        + (' aria-current="page"' if g == group_by else "")
        + f">{esc(t(f'analytics.group.{g}'))}</a>"
        for g in groups
    )
    rows = answer["groups"]
    shown = [{**r, "group": group_label(lang, group_by, str(r["group"]))} for r in rows]
    charts = "".join(
        bar_chart(
            t("analytics.chart_title", rate=rate_label(lang, rate), group=group_name),
            shown,
            rate,
            RATE_COLOURS[rate],
            lang,
        )
        for rate in RATES
    )
    trend = trend_chart(t("analytics.trend"), answer.get("trend", []), lang)
    headers = (group_name, t("analytics.visits"), *(rate_label(lang, rate) for rate in RATES))
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        f"<tr><td>{esc(str(r['group']))}</td><td class=n>{r['visits']}</td>"
        + "".join(
            f"<td class=n>{_pct(r['rates'][k]['rate'])} <span class=muted>({_pct(r['rates'][k]['low'])}–"
            f"{_pct(r['rates'][k]['high'])})</span></td>"
            for k in RATES
        )
        + "</tr>"
        for r in shown
    )
    exports = " · ".join(
        f'<a href="{esc("/v1/analytics/outcomes?" + urlencode({"group_by": group_by, **query, "format": f}))}">'
        f"{esc(t(key))}</a>"
        for f, key in (("csv", "analytics.export_csv"), ("gpkg", "analytics.export_gpkg"))
    )
    period = t(
        "analytics.period",
        start=answer.get("from") or t("analytics.period_first"),
        end=answer.get("to") or t("analytics.period_last"),
    )
    form = (
        f'<form method="get" action="{esc(base)}"><input type="hidden" name="group_by" value="{esc(group_by)}">'
        f"<label>{esc(t('analytics.from'))} "
        f'<input type="date" name="from" value="{esc(str(answer.get("from") or ""))}"></label> '
        f"<label>{esc(t('analytics.to'))} "
        f'<input type="date" name="to" value="{esc(str(answer.get("to") or ""))}"></label> '
        f'<button type="submit">{esc(t("analytics.show"))}</button></form>'
    )
    empty = "" if rows else f'<p role="status">{esc(t("analytics.no_outcomes"))}</p>'
    return (
        f'<!DOCTYPE html><html lang="{esc(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(t('analytics.title', group=group_name))}</title><style>{PAGE_CSS}</style></head><body>"
        f"<h1>{esc(t('analytics.heading', group=group_name))}</h1><p class=muted>{esc(period)}</p>"
        f"<nav>{esc(t('analytics.group_by'))} {nav}</nav>{form}{empty}<div class=charts>{charts}{trend}</div>"
        f"<h2>{esc(t('analytics.numbers'))}</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<p>{esc(t('analytics.download'))} {exports}</p></body></html>"
    )
