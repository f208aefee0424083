"""The printed route sheet: one A4 portrait page (or two) per team, for teams that work from paper.

It lists the stops in visit order with their times and addresses, masked customer details and a box to tick for
each possible outcome, and carries a QR code of the officer link so the phone map is one scan away. The page is
self-contained (inline css, inline SVG), so it prints the same from a file, the API or headless Chromium.
"""

from __future__ import annotations

from functools import partial

import segno

from maps.i18n import normalize_lang, translate
from maps.page import esc, mask_id
from routing.model import OUTCOME_RESULTS, Plan, TeamDay, format_clock

__all__ = ["SHEET_CSS", "render_route_sheet"]

# Print styles: A4 portrait, tight enough for 25 stops on two pages; fonts that carry CJK glyphs first.
SHEET_CSS = """
@page { size: A4 portrait; margin: 12mm 10mm; }
* { box-sizing: border-box; }
body {
  margin: 0;
  font: 10pt/1.3 "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif;
  color: #000;
}
header { display: flex; justify-content: space-between; align-items: flex-start; gap: 8mm; margin-bottom: 4mm; }
header h1 { margin: 0 0 1mm; font-size: 15pt; }
header .meta { font-size: 9pt; }
header .qr { width: 28mm; text-align: center; font-size: 7pt; }
header .qr svg { width: 28mm; height: 28mm; display: block; }
table { width: 100%; border-collapse: collapse; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { border: 0.3mm solid #444; padding: 1mm 1.5mm; vertical-align: top; text-align: left; }
th { background: #eee; font-size: 8.5pt; }
td.seq { width: 7mm; text-align: center; font-weight: bold; font-size: 11pt; }
td.time { width: 22mm; white-space: nowrap; }
td.case { width: 50mm; }
td.outcome { width: 62mm; font-size: 7.5pt; }
.box { display: inline-block; width: 50%; white-space: nowrap; }
.box::before { content: ""; display: inline-block; width: 2.6mm; height: 2.6mm; margin-right: 1mm;
  border: 0.3mm solid #000; vertical-align: -0.4mm; }
.muted { color: #444; }
footer { margin-top: 3mm; font-size: 8pt; }
.sign { display: inline-block; width: 60mm; border-bottom: 0.3mm solid #000; height: 6mm; }
@media screen { body { max-width: 190mm; margin: 8mm auto; } }
"""


def render_route_sheet(plan: Plan, route: TeamDay, *, lang: str = "en", officer_url: str | None = None) -> str:
    """Render a team's printable route sheet as a self-contained HTML document.

    Parameters
    ----------
    plan
        The plan the route belongs to (its id, date and time zone head the sheet).
    route
        The team's day.
    lang
        ``"en"`` or ``"zh-CN"``.
    officer_url
        The absolute link to the team's map; printed as a QR code and as text. Without it the sheet has none.

    Returns
    -------
    str
        The HTML document, A4 portrait when printed.

    Raises
    ------
    UnsupportedLanguageError
        When ``lang`` is not supported.
    """
    lang = normalize_lang(lang)
    t = partial(translate, lang)
    team = route.team
    title = t("sheet_title", team=team.team_id, date=plan.date.isoformat())
    boxes = "".join(f'<span class="box">{esc(t("result." + r))}</span>' for r in OUTCOME_RESULTS)
    rows = []
    for visit in sorted(route.visits, key=lambda v: v.seq):
        window = f"{format_clock(visit.slot.window.start)}-{format_clock(visit.slot.window.end)}"
        kind = f" · {t('appointment')}" if visit.slot.kind == "appointment" else ""
        address = visit.address or f"{visit.location.lat:.5f}, {visit.location.lon:.5f}"
        rows.append(
            f'<tr data-case="{esc(visit.case_id)}"><td class="seq">{visit.seq}</td>'
            f'<td class="time">{esc(t("eta"))} {format_clock(visit.arrival)}<br>'
            f'<span class="muted">{esc(window)}{esc(kind)}</span></td>'
            f'<td class="case">{esc(visit.case_id)}<br><span class="muted">{esc(t("customer"))} '
            f"{esc(mask_id(visit.customer_id))} · {esc(t('p_home'))} {visit.slot.p_home:.0%}</span></td>"
            f"<td>{esc(address)}</td>"
            f'<td class="outcome">{boxes}</td></tr>'
        )
    if not rows:
        rows.append(f'<tr><td colspan="5">{esc(t("no_visits"))}</td></tr>')
    head = "".join(f"<th>{esc(t(key))}</th>" for key in ("sheet_seq", "sheet_time", "case", "address", "sheet_outcome"))
    meta = [
        f"{t('plan')}: {plan.plan_id} · {t('timezone')}: {plan.timezone}",
        f"{t('team')}: {team.team_id} · {', '.join(team.members)}",
        f"{t('depot_start')} {format_clock(route.start_time)} → {t('depot_end')} {format_clock(route.end_time)}"
        f" · {t('visits')}: {len(route.visits)} · {route.distance_m / 1000:.1f} km",
    ]
    if route.break_start is not None:
        meta.append(f"{t('break')}: {format_clock(route.break_start)}")
    qr = ""
    if officer_url:
        svg = segno.make(officer_url, error="m").svg_inline(border=1, omitsize=True, title=t("sheet_scan"))
        qr = f'<div class="qr">{svg}{esc(t("sheet_scan"))}</div>'
    meta_html = "<br>".join(esc(m) for m in meta)
    return (
        f'<!DOCTYPE html><html lang="{esc(lang)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{SHEET_CSS}</style></head><body>"
        f'<header><div><h1>{esc(title)}</h1><div class="meta">{meta_html}</div></div>{qr}</header>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f'<footer>{esc(t("sheet_signature"))}: <span class="sign"></span></footer>'
        "</body></html>"
    )
