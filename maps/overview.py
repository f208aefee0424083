"""The supervisor's overview of a planning day: every team on one map, a summary table and links to the
team maps, and the cases that were not planned, by reason."""

from __future__ import annotations

from collections import Counter
from functools import partial
from urllib.parse import urljoin

import folium
import segno

from geo.network import RoadNetwork
from geo.road_lines import grow_box, road_lines
from geo.types import BoundingBox, Location
from maps.i18n import normalize_lang, translate
from maps.page import HtmlPopup, add_html, esc, finish_page, fit_to, latlngs, new_map
from maps.road_layer import RoadLayer
from maps.team_map import ROAD_MARGIN_M, add_depots, day_box, route_points
from maps.tiles import tile_source, to_map_point
from routing.model import Plan, TeamDay, Visit, format_clock

__all__ = ["OVERVIEW_ROAD_TOLERANCE_M", "TEAM_COLOURS", "render_overview", "team_colour"]

#: The overview shares one road layer for all teams, a little coarser than a team map's.
OVERVIEW_ROAD_TOLERANCE_M = 10.0

# Distinct, print-safe colours; teams beyond ten reuse them in order.
TEAM_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def team_colour(index: int) -> str:
    """The colour of the ``index``-th team of a plan."""
    return TEAM_COLOURS[index % len(TEAM_COLOURS)]


def _stop_popup(route: TeamDay, visit: Visit, lang: str) -> str:
    t = partial(translate, lang)
    window = visit.slot.window
    rows = (
        (t("team"), route.team.team_id),
        (t("slot"), f"{format_clock(window.start)}-{format_clock(window.end)}"),
        (t("eta"), format_clock(visit.arrival)),
        (t("p_home"), f"{visit.slot.p_home:.0%}"),
    )
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return (
        f'<div class="ds-popup"><h3>{esc(t("stop"))} {visit.seq} · {esc(visit.case_id)}</h3><table>{body}</table></div>'
    )


def _add_team_layer(m: folium.Map, route: TeamDay, colour: str, lang: str, datum: str) -> None:
    team_id = route.team.team_id
    name = f'<span class="ds-team-swatch" style="background:{colour}"></span>{esc(team_id)}'
    layer = folium.FeatureGroup(name=name)
    line = route_points(route)
    folium.PolyLine(
        latlngs(line, datum),
        color=colour,
        weight=4,
        opacity=0.8,
        dash_array=None if len(route.path) >= 2 else "8 8",
        class_name="ds-route",
    ).add_to(layer)
    add_depots(layer, route, lang, label=f"{team_id} · ", datum=datum)
    for visit in sorted(route.visits, key=lambda v: v.seq):
        marker = folium.CircleMarker(
            to_map_point(visit.location, datum),
            radius=7,
            color="#ffffff",
            weight=2,
            fill=True,
            fill_color=colour,
            fill_opacity=0.95,
        )
        marker.add_child(HtmlPopup(_stop_popup(route, visit, lang)))
        marker.add_to(layer)
    layer.add_to(m)


def _num(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}"


def _summary_table(plan: Plan, team_links: dict[str, str], lang: str) -> str:
    t = partial(translate, lang)
    head = "".join(
        f"<th{' class=ds-num' if numeric else ''}>{esc(t(key))}</th>"
        for key, numeric in (
            ("team", False),
            ("visits", True),
            ("expected_contacts", True),
            ("travel_h", True),
            ("distance_km", True),
            ("day_h", True),
            ("shift", False),
            ("shift_use", True),
            ("map", False),
        )
    )
    rows = []
    for index, route in enumerate(plan.routes):
        team = route.team
        href = team_links.get(team.team_id)
        link = f'<a href="{esc(href)}">{esc(t("open_map"))}</a>' if href is not None else "—"
        rows.append(
            f'<tr data-team="{esc(team.team_id)}">'
            f'<td><span class="ds-team-swatch" style="background:{team_colour(index)}"></span>'
            f"{esc(team.team_id)}</td>"
            f'<td class="ds-num">{len(route.visits)}</td>'
            f'<td class="ds-num">{_num(route.expected_contacts)}</td>'
            f'<td class="ds-num">{_num(route.travel_s / 3600)}</td>'
            f'<td class="ds-num">{_num(route.distance_m / 1000)}</td>'
            f'<td class="ds-num">{_num(_day_s(route) / 3600)}</td>'
            f"<td>{format_clock(team.shift.start)}-{format_clock(team.shift.end)}</td>"
            f'<td class="ds-num">{shift_use(route):.0%}</td>'
            f"<td>{link}</td></tr>"
        )
    total_km = sum(r.distance_m for r in plan.routes) / 1000
    foot = (
        f"<tr><td>{esc(t('total'))}</td><td class=ds-num>{plan.planned}</td>"
        f"<td class=ds-num>{_num(plan.expected_contacts)}</td>"
        f"<td class=ds-num>{_num(plan.travel_s / 3600)}</td>"
        f"<td class=ds-num>{_num(total_km)}</td>"
        f"<td class=ds-num>{_num(sum(_day_s(r) for r in plan.routes) / 3600)}</td><td></td><td></td><td></td></tr>"
    )
    return (
        f'<table class="ds-summary"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody><tfoot>{foot}</tfoot></table>"
    )


def _day_s(route: TeamDay) -> int:
    """Seconds from leaving the start point to arriving at the end (0 for a team with no visits)."""
    return route.end_time - route.start_time if route.visits else 0


def shift_use(route: TeamDay) -> float:
    """The share of the team's shift its day takes, from leaving the start point to arriving at the end."""
    return min(_day_s(route) / route.team.shift.duration, 1.0) if route.team.shift.duration else 0.0


def officer_link_cards(plan: Plan, team_links: dict[str, str], public_base: str | None, lang: str) -> str:
    """One printable card per team with its officer link as text and as a QR code.

    A QR code of a relative link would not open on a phone, so a team gets a card only when its link is
    absolute or ``public_base`` makes it so; otherwise the summary table's link is all there is.
    """
    t = partial(translate, lang)
    cards = []
    for route in plan.routes:
        team_id = route.team.team_id
        href = team_links.get(team_id)
        if href is None:
            continue
        url = urljoin(public_base, href) if public_base else href
        if not url.startswith(("https://", "http://")):
            continue
        # omitsize keeps the viewBox only, so the css sets the printed size.
        qr = segno.make(url, error="m").svg_inline(border=2, title=t("scan_to_open", team=team_id), omitsize=True)
        cards.append(
            f'<div class="ds-link-card" data-team="{esc(team_id)}"><h3>{esc(team_id)}</h3>{qr}'
            f'<a class="ds-link-url" href="{esc(url)}">{esc(url)}</a></div>'
        )
    if not cards:
        return ""
    return f'<h2 class="ds-officer-links">{esc(t("officer_links"))}</h2><div class="ds-links">{"".join(cards)}</div>'


def _reasons_section(key: str, columns: tuple[str, ...], rows: list[tuple[str, ...]], lang: str) -> str:
    """A heading with the count, a code -> count table and a collapsible list of the cases.

    ``rows`` hold one value per column; the column named ``"code"`` is counted.
    """
    t = partial(translate, lang)
    heading = f'<h2 class="ds-{key}">{esc(t(key))}: {len(rows)}</h2>'
    if not rows:
        return heading
    code_at = columns.index("code")
    counts = Counter(row[code_at] for row in rows)
    code_rows = "".join(
        f'<tr data-code="{esc(code)}"><td><code>{esc(code)}</code></td><td class=ds-num>{n}</td></tr>'
        for code, n in sorted(counts.items())
    )
    codes = (
        f"<table><thead><tr><th>{esc(t('code'))}</th><th class=ds-num>{esc(t('count'))}</th></tr></thead>"
        f"<tbody>{code_rows}</tbody></table>"
    )
    detail_head = "".join(f"<th>{esc(t(c))}</th>" for c in columns)
    detail_rows = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>" for row in rows)
    return (
        f"{heading}{codes}<details><summary>{esc(t(key))}</summary>"
        f"<table><thead><tr>{detail_head}</tr></thead><tbody>{detail_rows}</tbody></table></details>"
    )


def _header(plan: Plan, lang: str, title: str) -> str:
    t = partial(translate, lang)
    solver = plan.solver
    facts = (
        (t("plan"), plan.plan_id),
        (t("timezone"), plan.timezone),
        (t("cases"), str(plan.cases)),
        (t("planned"), str(plan.planned)),
        (t("expected_contacts"), _num(plan.expected_contacts)),
        (t("solver"), f"{solver.engine} · {solver.status} · {solver.time_s:.1f} s"),
    )
    meta = " · ".join(f"{esc(k)}: {esc(v)}" for k, v in facts)
    return f'<header class="ds-overview-head"><h1>{esc(title)}</h1><div class="ds-meta">{meta}</div></header>'


def render_overview(
    plan: Plan,
    team_links: dict[str, str],
    *,
    lang: str = "en",
    asset_prefix: str = "static/",
    tiles: str = "osm",
    public_base: str | None = None,
    roads: RoadNetwork | None = None,
) -> str:
    """Render the supervisor's overview of a plan as a self-contained HTML page.

    Parameters
    ----------
    plan
        The day's plan.
    team_links
        ``team_id`` -> href of that team's map page, relative to this page (e.g. ``"maps/T1.html"``). A team
        without an entry is listed without a link.
    lang
        ``"en"`` or ``"zh-CN"``.
    asset_prefix
        Where the page finds the static files written by `maps.write_assets` (e.g. ``"static/"`` for an
        ``index.html`` next to ``static/``).
    tiles
        ``"osm"``, ``"amap"``, ``"none"`` or an ``http(s)://`` tile URL template (see `maps.render_team_map`).
    public_base
        The address the pages are published at (e.g. ``https://doorstep.bank.example/plans/2026-12-01/``).
        With it, relative team links become absolute and each team's card carries a QR code to print.
    roads
        The road network the plan was made on: with ``tiles="none"`` one shared road layer covers every
        team's day (plus a margin), simplified to `OVERVIEW_ROAD_TOLERANCE_M`.

    Returns
    -------
    str
        The HTML document: the plan's facts, a map with one toggleable layer per team, the summary table
        (team, visits, expected contacts, travel, distance, day length, shift, shift use, link), a card per
        team with its officer link (and QR code), and the dropped and unresolved cases counted by code.

    Raises
    ------
    UnsupportedLanguageError
        When ``lang`` is not supported.
    UnknownTilesError
        When ``tiles`` is not supported.
    """
    lang = normalize_lang(lang)
    title = translate(lang, "overview_title", date=plan.date.isoformat())
    m = new_map(asset_prefix=asset_prefix, tiles=tiles, title=title, height="60%")
    datum = tile_source(tiles).datum
    if tiles == "none" and roads is not None and plan.routes:
        boxes = [day_box(route) for route in plan.routes]
        box = BoundingBox(
            south=min(b.south for b in boxes),
            west=min(b.west for b in boxes),
            north=max(b.north for b in boxes),
            east=max(b.east for b in boxes),
        )
        m.add_child(RoadLayer(road_lines(roads, grow_box(box, ROAD_MARGIN_M), OVERVIEW_ROAD_TOLERANCE_M), datum))
    points: list[Location] = []
    for index, route in enumerate(plan.routes):
        _add_team_layer(m, route, team_colour(index), lang, datum)
        points += route_points(route)
    if plan.routes:
        folium.LayerControl(collapsed=False).add_to(m)
    fit_to(m, points, datum)

    add_html(m, "ds_head", _header(plan, lang, title), before_map=True)
    dropped = _reasons_section(
        "dropped", ("case", "code", "message"), [(d.case_id, d.code, d.message) for d in plan.dropped], lang
    )
    unresolved = _reasons_section(
        "unresolved",
        ("case", "code", "address", "message"),
        [(u.case_id, u.code, u.address or "", u.message) for u in plan.unresolved],
        lang,
    )
    summary = _summary_table(plan, team_links, lang)
    cards = officer_link_cards(plan, team_links, public_base, lang)
    body = f'<main class="ds-overview-body">{summary}{cards}{dropped}{unresolved}</main>'
    add_html(m, "ds_body", body)
    classes = ["ds-overview"] + (["ds-no-tiles"] if tiles == "none" else [])
    return finish_page(m, lang=lang, body_classes=classes)
