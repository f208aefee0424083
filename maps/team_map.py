"""The team-day map an officer opens on a phone: the route, numbered stops, and what to know at each door.

Officer pages are forwarded and screenshotted, so they show only what the visit needs: the case id, the
address, times and the chance of finding someone in. Customer ids are masked; names, phone numbers and amounts
never reach the page (`routing.model.Visit` does not carry them in the first place).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from functools import partial

import folium
from folium.elements import MacroElement
from folium.template import Template

from geo.network import RoadNetwork
from geo.road_lines import grow_box, road_lines
from geo.types import BoundingBox, Location
from maps.i18n import normalize_lang, translate
from maps.navigation import navigation_links
from maps.page import (
    HtmlPopup,
    LocateControl,
    add_html,
    esc,
    finish_page,
    fit_to,
    js_string,
    latlngs,
    mask_id,
    new_map,
    p_home_class,
)
from maps.presence_strip import presence_strip_html
from maps.road_layer import RoadLayer
from maps.tiles import tile_source, to_map_point
from maps.timeline import timeline_html
from routing.model import Plan, TeamDay, Visit, format_clock

__all__ = ["ROAD_MARGIN_M", "ROAD_TOLERANCE_M", "render_team_map", "route_points"]

ROUTE_COLOUR = "#2563eb"
#: Roads drawn on a tile-less team map: the day's bounding box grown by this margin, simplified to this tolerance.
ROAD_MARGIN_M = 300.0
ROAD_TOLERANCE_M = 5.0


def route_points(route: TeamDay) -> list[Location]:
    """The line of a team's day: its road path, or straight legs depot → stops → depot without one."""
    if len(route.path) >= 2:
        return list(route.path)
    return [route.team.start, *(v.location for v in _ordered(route)), route.team.end]


def _ordered(route: TeamDay) -> tuple[Visit, ...]:
    return tuple(sorted(route.visits, key=lambda v: v.seq))


def _row(label: str, value: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<tr{attr}><th>{esc(label)}</th><td>{esc(value)}</td></tr>"


def _slot_text(visit: Visit, lang: str) -> str:
    window = f"{format_clock(visit.slot.window.start)}-{format_clock(visit.slot.window.end)}"
    if visit.slot.kind == "appointment":
        return f"{window} ({translate(lang, 'appointment')})"
    return window


def stop_popup(visit: Visit, lang: str, presence: Mapping[str, Sequence[float]] | None = None) -> str:
    """The popup of one stop (trusted HTML; every value escaped), with the customer's P(home) heat strip."""
    t = partial(translate, lang)
    rows = [
        _row(t("slot"), _slot_text(visit, lang)),
        _row(t("eta"), format_clock(visit.arrival), "ds-row-eta"),
        _row(t("service_start"), format_clock(visit.service_start), "ds-row-start"),
    ]
    if visit.wait_s > 0:
        rows.append(_row(t("wait"), t("minutes", n=round(visit.wait_s / 60))))
    rows += [
        _row(t("p_home"), f"{visit.slot.p_home:.0%}"),
        _row(t("customer"), mask_id(visit.customer_id)),
        _row(t("address"), _address_text(visit, lang)),
    ]
    return (
        '<div class="ds-popup">'
        f"<h3>{esc(t('stop'))} {visit.seq} · {esc(visit.case_id)}</h3>"
        f"<table>{''.join(rows)}</table>"
        f"{presence_strip_html(presence, lang) if presence else ''}"
        f"{navigation_links(visit.location, visit.address or visit.case_id, lang)}"
        "</div>"
    )


def _address_text(visit: Visit, lang: str) -> str:
    kind = translate(lang, f"address_kind.{visit.address_kind}") if visit.address_kind != "home" else ""
    address = visit.address or f"{visit.location.lat:.5f}, {visit.location.lon:.5f}"
    return f"{address} ({kind})" if kind else address


def _depot_markers(route: TeamDay, lang: str) -> Iterator[tuple[Location, str, str]]:
    start_text = f"{translate(lang, 'depot_start')} {format_clock(route.start_time)}"
    end_text = f"{translate(lang, 'depot_end')} {format_clock(route.end_time)}"
    if route.team.start == route.team.end:
        yield route.team.start, "⌂", f"{start_text} · {end_text}"
    else:
        yield route.team.start, "S", start_text
        yield route.team.end, "E", end_text


def add_depots(
    m: folium.Map | folium.FeatureGroup, route: TeamDay, lang: str, label: str = "", datum: str = "wgs84"
) -> None:
    """Square depot markers (one, or start and end when they differ) with their times, in the map's datum."""
    for location, glyph, text in _depot_markers(route, lang):
        icon = folium.DivIcon(
            html=f'<div class="ds-depot">{esc(glyph)}</div>',
            icon_size=(26, 26),
            icon_anchor=(13, 13),
            class_name="ds-depot-icon",
        )
        title = f"{label}{translate(lang, 'depot')}: {text}"
        marker = folium.Marker(to_map_point(location, datum), icon=icon, title=title, z_index_offset=-100)
        marker.add_child(HtmlPopup(f'<div class="ds-popup"><h3>{esc(title)}</h3></div>'))
        marker.add_to(m)


def _header_panel(plan: Plan, route: TeamDay, lang: str, title: str) -> str:
    t = partial(translate, lang)
    visits = _ordered(route)

    def value(cls: str, text: object) -> str:
        # Each figure in a span of its own class: a re-plan on the phone rewrites them in place (map.js).
        return f'<span class="{cls}">{esc(str(text))}</span>'

    start, end = format_clock(route.start_time), format_clock(route.end_time)
    meta = [
        f"{esc(t('visits'))}: {value('ds-v-visits', len(visits))}",
        f"{esc(t('depot_start'))} {value('ds-v-start', start)} → {esc(t('depot_end'))} {value('ds-v-end', end)}",
        f"{esc(t('expected_contacts'))}: {value('ds-v-contacts', f'{route.expected_contacts:.1f}')}",
        f"{value('ds-v-km', f'{route.distance_m / 1000:.1f}')} km",
    ]
    if route.break_start is not None:
        duration = route.team.lunch.duration_s if route.team.lunch is not None else 0
        brk = f"{esc(t('break'))}: {value('ds-v-break', format_clock(route.break_start))}"
        if duration:
            brk += f" ({esc(t('minutes', n=round(duration / 60)))})"
        if route.break_after_seq is not None:
            # The stop number inside the translated phrase gets its own span too.
            marker = "\x00"
            phrase = esc(t("break_after", seq=marker))
            brk += ", " + phrase.replace(marker, value("ds-v-break-after", route.break_after_seq))
        meta.append(brk)
    if visits:
        items = "".join(
            f'<li value="{v.seq}" data-case="{esc(v.case_id)}">'
            f'<span class="ds-eta">{esc(format_clock(v.arrival))}</span> · {esc(v.case_id)} · '
            f"{esc(_address_text(v, lang))}</li>"
            for v in visits
        )
        stops = f'<details><summary>{esc(t("stops"))}</summary><ol class="ds-stop-list">{items}</ol></details>'
    else:
        stops = f"<p>{esc(t('no_visits'))}</p>"
    meta_html = "<br>".join(meta)
    timeline = (
        f'<details class="ds-day" open><summary>{esc(t("timeline"))}</summary>{timeline_html(route, lang)}</details>'
    )
    return (
        f'<div class="ds-panel ds-header"><h1>{esc(title)}</h1><div class="ds-meta">{meta_html}</div>'
        f"{timeline}{stops}</div>"
    )


def _legend_panel(lang: str) -> str:
    t = partial(translate, lang)
    items = "".join(
        f'<li><span class="ds-swatch {cls}"></span>{esc(t(key))}</li>'
        for cls, key in (("ds-p-high", "p_high"), ("ds-p-mid", "p_mid"), ("ds-p-low", "p_low"))
    )
    items += f'<li><span class="ds-swatch ds-depot-swatch"></span>{esc(t("depot"))}</li>'
    return f'<div class="ds-panel ds-legend"><strong>{esc(t("p_home"))}</strong><ul>{items}</ul></div>'


class _DayHandles(MacroElement):
    """Hands the page's route line and stop markers to ``Doorstep.registerDay`` (map.js), so a re-plan can
    redraw the day in place."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            Doorstep.registerDay({{ this._parent.get_name() }}, {{ this.route_name }}, {{ this.stops_js }},
                {{ this.datum_js }});
        {% endmacro %}
        """
    )

    def __init__(self, route_line: folium.PolyLine, markers: Mapping[str, folium.Marker], datum: str) -> None:
        super().__init__()
        self._name = "DayHandles"
        self.route_name = route_line.get_name()
        self.stops_js = "{" + ", ".join(f"{json.dumps(k)}: {m.get_name()}" for k, m in markers.items()) + "}"
        self.datum_js = js_string(datum)


def day_box(route: TeamDay) -> BoundingBox:
    """The bounding box of a team's day: its line, stops and depots."""
    points = [*route_points(route), *(v.location for v in route.visits), route.team.start, route.team.end]
    return BoundingBox(
        south=min(p.lat for p in points),
        west=min(p.lon for p in points),
        north=max(p.lat for p in points),
        east=max(p.lon for p in points),
    )


def render_team_map(
    plan: Plan,
    route: TeamDay,
    *,
    lang: str = "en",
    asset_prefix: str = "../static/",
    tiles: str = "osm",
    presence: Mapping[str, Mapping[str, Sequence[float]]] | None = None,
    roads: RoadNetwork | None = None,
) -> str:
    """Render one team's day as a self-contained HTML page for phones.

    Parameters
    ----------
    plan
        The plan the route belongs to (for the date).
    route
        The team's day: its road path (straight legs are drawn when ``route.path`` is empty) and its visits,
        drawn as numbered markers coloured by P(home) with a popup each.
    lang
        ``"en"`` or ``"zh-CN"``.
    asset_prefix
        Where the page finds the static files written by `maps.write_assets`, relative to the page or
        absolute (e.g. ``"../static/"`` for ``maps/T1.html`` next to ``static/``).
    tiles
        ``"osm"`` (OpenStreetMap's standard tiles), ``"amap"`` (AMap's tiles: everything is drawn in GCJ-02,
        see `maps.tiles`), ``"none"`` (plain background, no requests at all) or an ``http(s)://`` tile URL
        template of an OpenStreetMap-based server.
    presence
        ``customer_id -> day type -> 24 hourly P(home)``: each stop's popup shows its customer's heat strip.
    roads
        The road network the plan was made on: with ``tiles="none"`` its roads around the day (the day's
        bounding box plus `ROAD_MARGIN_M`) are drawn as one light layer, so the map still reads.

    Returns
    -------
    str
        The HTML document. It loads scripts and styles only from ``asset_prefix``.

    Raises
    ------
    UnsupportedLanguageError
        When ``lang`` is not supported.
    UnknownTilesError
        When ``tiles`` is not supported.
    """
    lang = normalize_lang(lang)
    title = translate(lang, "team_title", team=route.team.team_id, date=plan.date.isoformat())
    m = new_map(asset_prefix=asset_prefix, tiles=tiles, title=title)
    datum = tile_source(tiles).datum
    if tiles == "none" and roads is not None:
        m.add_child(RoadLayer(road_lines(roads, grow_box(day_box(route), ROAD_MARGIN_M), ROAD_TOLERANCE_M), datum))

    line = route_points(route)
    route_line = folium.PolyLine(
        latlngs(line, datum),
        color=ROUTE_COLOUR,
        weight=5,
        opacity=0.8,
        dash_array=None if len(route.path) >= 2 else "8 8",
        class_name="ds-route",
    )
    route_line.add_to(m)
    add_depots(m, route, lang, datum=datum)
    markers: dict[str, folium.Marker] = {}
    for visit in _ordered(route):
        icon = folium.DivIcon(
            html=f'<div class="ds-stop {p_home_class(visit.slot.p_home)}">{visit.seq}</div>',
            icon_size=(28, 28),
            icon_anchor=(14, 14),
            class_name="ds-stop-icon",
        )
        marker = folium.Marker(
            to_map_point(visit.location, datum),
            icon=icon,
            title=f"{visit.seq} · {visit.case_id} · {format_clock(visit.arrival)}",
        )
        marker.add_child(HtmlPopup(stop_popup(visit, lang, (presence or {}).get(visit.customer_id))))
        marker.add_to(m)
        markers[visit.case_id] = marker

    m.add_child(LocateControl(translate(lang, "locate"), translate(lang, "locate_failed"), datum))
    m.add_child(_DayHandles(route_line, markers, datum))
    add_html(m, "ds_header", _header_panel(plan, route, lang, title))
    add_html(m, "ds_legend", _legend_panel(lang))
    fit_to(m, [*line, *(v.location for v in route.visits)], datum)
    classes = ["ds-team-map"] + (["ds-no-tiles"] if tiles == "none" else [])
    return finish_page(m, lang=lang, body_classes=classes)
