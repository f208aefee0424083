"""Rendering of the team-day map and the overview page, checked on the HTML text (no browser, no network)."""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from maps import (
    LEAFLET_VERSION,
    UnknownTilesError,
    UnsupportedLanguageError,
    render_overview,
    render_team_map,
    write_assets,
)
from maps.i18n import MESSAGES, normalize_lang
from maps.page import mask_id, p_home_class
from maps.team_map import route_points
from routing.model import Plan

VOID_TAGS = frozenset({"meta", "link", "br", "img", "input", "hr", "area", "base", "col", "source", "wbr"})
ATTRIBUTION = "© OpenStreetMap contributors"
LINKS = {"T1": "maps/T1.html", "T2": "maps/T2.html"}


class PageParser(HTMLParser):
    """Collects tags and attributes and fails on mis-nested elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag not in VOID_TAGS:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def parse(page: str) -> PageParser:
    """Parse ``page``, asserting that every element is closed in order."""
    parser = PageParser()
    parser.feed(page)
    parser.close()
    assert parser.stack == [], f"unclosed elements: {parser.stack}"
    return parser


def resource_urls(parser: PageParser) -> list[str]:
    """Every URL the page loads by itself: script src, link href, img src."""
    urls = [a["src"] for a in parser.find("script") if "src" in a]
    urls += [a["href"] for a in parser.find("link")]
    urls += [a["src"] for a in parser.find("img")]
    return urls


def js_strings(page: str, before: str) -> list[str]:
    """The decoded JavaScript string literals that directly follow ``before`` in the page."""
    return [json.loads(m) for m in re.findall(re.escape(before) + r'\s*("(?:[^"\\]|\\.)*")', page)]


def stop_labels(page: str) -> list[str]:
    """The numbers shown in the stop markers, in page order."""
    icons = [parse(html) for html in js_strings(page, '"html":')]
    return ["".join(p.text) for p in icons if p.find("div") and "ds-stop" in p.find("div")[0]["class"]]


def test_team_map_parses_and_shows_every_stop(plan: Plan) -> None:
    """The team map is well-formed HTML with a numbered marker and a popup per stop, and a depot marker."""
    route = plan.routes[0]
    page = render_team_map(plan, route)
    parse(page)
    assert stop_labels(page) == ["1", "2", "3"]
    popups = js_strings(page, "bindPopup(")
    for visit in route.visits:
        assert any(f"Stop {visit.seq} · {visit.case_id}" in popup for popup in popups)
    assert any("ds-depot" in html for html in js_strings(page, '"html":'))
    assert "<title>Team T1 · 2026-12-01</title>" in page


def test_team_map_popup_has_times_probability_and_address(plan: Plan) -> None:
    """A stop's popup lists slot window, ETA, service start, P(home) in % and the address."""
    popups = js_strings(render_team_map(plan, plan.routes[0]), "bindPopup(")
    first = " ".join(parse(next(p for p in popups if "C17" in p)).text)
    # Stop 1: arrival 17:45, 15 min wait -> service 18:00, slot 18:00-19:00, p_home 0.62.
    for text in ("Slot 18:00-19:00", "ETA 17:45", "Service start 18:00", "Wait 15 min", "P(home) 62%"):
        assert text in first
    assert "Address Annankatu 29, Helsinki" in first
    third = " ".join(parse(next(p for p in popups if "C31" in p)).text)
    assert "19:00-21:00 (appointment)" in third


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_team_map_header_figures_sit_in_spans_a_replan_can_rewrite(plan: Plan, lang: str) -> None:
    """Each figure of the header (visits, day start and end, expected contacts, km, break and the stop it follows)
    is the whole text of a span with its own class, in both languages, so map.js can rewrite it after a re-plan."""
    route = plan.routes[0]
    page = render_team_map(plan, route, lang=lang)
    spans = dict(re.findall(r'<span class="(ds-v-[a-z-]+)">([^<]*)</span>', page))
    assert spans == {
        "ds-v-visits": "3",
        "ds-v-start": "17:38",
        "ds-v-end": "20:15",
        "ds-v-contacts": f"{route.expected_contacts:.1f}",
        "ds-v-km": "9.8",
        "ds-v-break": "19:05",
        "ds-v-break-after": "2",
    }
    assert "\x00" not in page
    header = re.search(r'<div class="ds-meta">(.*?)</div>', page)
    assert header is not None
    text = "".join(parse(header.group(1)).text)
    assert ("Visits: 3" in text and "after stop 2" in text) if lang == "en" else "第 2 站之后" in text


def test_team_map_masks_customer_ids(plan: Plan, customer_ids: tuple[str, ...]) -> None:
    """Officer pages show customer ids only masked, never in full, and no phone links."""
    for route in plan.routes:
        page = render_team_map(plan, route)
        for customer_id in customer_ids:
            assert customer_id not in page
        assert "CU***" in page
        assert "tel:" not in page


def test_team_map_escapes_text_from_the_plan(plan: Plan) -> None:
    """Markup in an address is shown as text, never executed."""
    route = plan.routes[0]
    evil = dataclasses.replace(route.visits[0], address='</script><script>alert("x")</script>')
    route = dataclasses.replace(route, visits=(evil, *route.visits[1:]))
    page = render_team_map(plan, route)
    parse(page)
    assert "<script>alert" not in page
    assert page.count("<script") == render_team_map(plan, plan.routes[0]).count("<script")
    popup = next(p for p in js_strings(page, "bindPopup(") if "C17" in p)
    assert '</script><script>alert("x")</script>' in " ".join(parse(popup).text)


@pytest.mark.parametrize("prefix", ["../static/", "/assets/v1/", "https://intranet.example/static/"])
def test_pages_load_leaflet_only_from_asset_prefix(plan: Plan, prefix: str) -> None:
    """Scripts and styles come only from asset_prefix: no CDN, no jQuery, Bootstrap or icon fonts."""
    for page in (
        render_team_map(plan, plan.routes[0], asset_prefix=prefix),
        render_overview(plan, LINKS, asset_prefix=prefix),
    ):
        urls = resource_urls(parse(page))
        assert f"{prefix}leaflet/leaflet.js" in urls
        assert f"{prefix}leaflet/leaflet.css" in urls
        assert f"{prefix}doorstep/map.css" in urls
        outside = [u for u in urls if not u.startswith(prefix) and u != "data:,"]
        assert outside == []
        assert "jquery" not in page.lower()
        assert "$(" not in page  # folium's Popup needs jQuery; ours must not


@pytest.mark.parametrize("tiles", ["osm", "none"])
def test_pages_make_no_outside_requests_except_tiles(plan: Plan, tiles: str) -> None:
    """With the default prefix no script/link/img URL is absolute; only the tile template may be."""
    for page in (
        render_team_map(plan, plan.routes[0], tiles=tiles),
        render_overview(plan, LINKS, tiles=tiles),
    ):
        urls = resource_urls(parse(page))
        assert not [u for u in urls if u.startswith(("http://", "https://", "//"))]
        assert ("tile.openstreetmap.org/{z}/{x}/{y}.png" in page) == (tiles == "osm")
        assert ("L.tileLayer" in page) == (tiles == "osm")


@pytest.mark.parametrize("tiles", ["osm", "none"])
def test_pages_always_carry_osm_attribution(plan: Plan, tiles: str) -> None:
    """The OpenStreetMap attribution is on every page, with tiles or without."""
    assert ATTRIBUTION in render_team_map(plan, plan.routes[0], tiles=tiles)
    assert ATTRIBUTION in render_overview(plan, LINKS, tiles=tiles)


def test_pages_have_mobile_viewport_and_referrer_policy(plan: Plan) -> None:
    """Pages fit phone screens and do not leak the link token to tile servers via Referer."""
    for page in (render_team_map(plan, plan.routes[0]), render_overview(plan, LINKS)):
        parser = parse(page)
        assert any(a["content"].startswith("width=device-width") for a in parser.find("meta", name="viewport"))
        assert parser.find("meta", name="referrer", content="strict-origin")


def test_team_map_without_tiles_marks_plain_background(plan: Plan) -> None:
    """tiles='none' draws no tile layer and sets the plain-background class."""
    page = render_team_map(plan, plan.routes[0], tiles="none")
    body = parse(page).find("body")[0]
    assert "ds-no-tiles" in body["class"].split()


def test_route_points_fall_back_to_straight_legs(plan: Plan) -> None:
    """Without a road path the line runs depot -> stops in visit order -> end depot."""
    road, straight = plan.routes
    assert route_points(road) == list(road.path)
    reordered = dataclasses.replace(straight, visits=tuple(reversed(straight.visits)))
    expected = [straight.team.start, *(v.location for v in straight.visits), straight.team.end]
    assert route_points(reordered) == expected


def test_team_map_without_visits_still_renders(plan: Plan) -> None:
    """A team with nothing to do gets a page with its depot and a 'no visits' note."""
    empty = dataclasses.replace(plan.routes[0], visits=(), path=())
    page = render_team_map(plan, empty)
    parse(page)
    assert "No visits planned" in page
    assert "ds-depot" in page
    assert "ds-stop " not in page


def test_team_map_fits_bounds_to_route(plan: Plan) -> None:
    """The view is fitted to the route's extent."""
    page = render_team_map(plan, plan.routes[0])
    # Stops and path of T1 span lat 60.1685..60.1841, lon 24.925..24.95.
    assert re.search(r"fitBounds\(\s*\[\[60\.1685, 24\.925\], \[60\.1841, 24\.95\]\]", page)


def test_overview_has_a_row_and_link_per_team(plan: Plan) -> None:
    """The overview's summary table has one row per team with its figures and a link to its map."""
    page = render_overview(plan, LINKS)
    parser = parse(page)
    rows = parser.find("tr")
    assert [r["data-team"] for r in rows if "data-team" in r] == ["T1", "T2"]
    hrefs = [a["href"] for a in parser.find("a")]
    assert "maps/T1.html" in hrefs
    assert "maps/T2.html" in hrefs
    text = " ".join(parser.text)
    # T1: travel 2400 s = 0.7 h, 9800 m = 9.8 km, shift 17:30-21:30; expected 0.62+0.45+0.21 = 1.28.
    for figure in ("0.7", "9.8", "17:30-21:30", "1.3", "6.4", "17:00-21:00"):
        assert figure in text


def test_overview_has_one_layer_per_team(plan: Plan) -> None:
    """Each team is its own toggleable layer in a layer control."""
    page = render_overview(plan, LINKS)
    assert page.count("L.featureGroup(") == 2
    assert "L.control.layers(" in page


def test_overview_counts_dropped_and_unresolved_with_codes(plan: Plan) -> None:
    """Dropped and unresolved cases are counted and listed with their codes."""
    parser = parse(render_overview(plan, LINKS))
    text = " ".join(parser.text)
    assert "Dropped: 1" in text
    assert "Unresolved: 1" in text
    codes = [r["data-code"] for r in parser.find("tr") if "data-code" in r]
    assert codes == ["no_feasible_slot", "no_match"]
    assert "C09" in text and "C12" in text


def test_overview_lists_team_without_link(plan: Plan) -> None:
    """A team missing from team_links is still listed, just without a link."""
    parser = parse(render_overview(plan, {"T1": "maps/T1.html"}))
    assert [a["href"] for a in parser.find("a") if a.get("href", "").startswith("maps/")] == ["maps/T1.html"]
    assert [r["data-team"] for r in parser.find("tr") if "data-team" in r] == ["T1", "T2"]


def test_zh_cn_strings_with_lang_zh_cn(plan: Plan) -> None:
    """lang='zh-CN' gives Chinese labels and marks the document's language."""
    team = render_team_map(plan, plan.routes[0], lang="zh-CN")
    assert '<html lang="zh-CN">' in team
    assert "预计到达" in team and "在家概率" in team and "小组 T1" in team
    overview = render_overview(plan, LINKS, lang="zh-CN")
    assert "走访计划总览" in overview and "未安排: 1" in overview
    assert "预计到达" not in render_team_map(plan, plan.routes[0], lang="en")


def test_every_language_defines_every_message() -> None:
    """Each language has exactly the same message keys."""
    keys = {lang: set(messages) for lang, messages in MESSAGES.items()}
    assert keys["zh-CN"] == keys["en"]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "en"),
        ("zh-CN", "zh-CN"),
        ("zh_cn", "zh-CN"),  # underscore and lower case, as locales are often spelt
        ("zh", "zh-CN"),  # bare language: Simplified Chinese
    ],
)
def test_normalize_lang_accepts_common_spellings(lang: str, expected: str) -> None:
    """Common spellings of the supported languages map to the canonical code."""
    assert normalize_lang(lang) == expected


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"lang": "fr"}, UnsupportedLanguageError),  # no French strings
        ({"lang": ""}, UnsupportedLanguageError),  # empty tag
        ({"tiles": "baidu"}, UnknownTilesError),  # BD-09 tiles are not a choice
        ({"tiles": "ftp://tiles/{z}/{x}/{y}.png"}, UnknownTilesError),  # not http(s)
        ({"tiles": "https://tiles.example/{z}.png"}, UnknownTilesError),  # missing {x} and {y}
    ],
)
def test_bad_arguments_are_rejected(plan: Plan, kwargs: dict[str, str], error: type[Exception]) -> None:
    """Unsupported languages and tile choices raise a clear error instead of rendering."""
    with pytest.raises(error):
        render_team_map(plan, plan.routes[0], **kwargs)
    with pytest.raises(error):
        render_overview(plan, LINKS, **kwargs)


def test_custom_tile_url_is_used(plan: Plan) -> None:
    """An http(s) URL template (an intranet tile mirror) replaces the OSM tile server."""
    page = render_team_map(plan, plan.routes[0], tiles="https://tiles.bank.internal/osm/{z}/{x}/{y}.png")
    assert "https://tiles.bank.internal/osm/{z}/{x}/{y}.png" in page
    assert "tile.openstreetmap.org" not in page


@pytest.mark.parametrize(
    ("identifier", "masked"),
    [
        ("CUST-100017", "CU***"),
        ("ABC", "A***"),  # 3 characters: keep one
        ("C1", "***"),  # too short to show anything
        ("", "***"),
    ],
)
def test_mask_id(identifier: str, masked: str) -> None:
    """Masks keep at most two leading characters and never most of a short id."""
    assert mask_id(identifier) == masked


@pytest.mark.parametrize(
    ("p_home", "css_class"),
    [
        (0.0, "ds-p-low"),
        (0.29, "ds-p-low"),
        (0.3, "ds-p-mid"),  # bands are closed below
        (0.59, "ds-p-mid"),
        (0.6, "ds-p-high"),
        (1.0, "ds-p-high"),
    ],
)
def test_stop_colour_bands(p_home: float, css_class: str) -> None:
    """Stops are red below 30 %, orange below 60 %, green otherwise."""
    assert p_home_class(p_home) == css_class


def test_write_assets_writes_everything_pages_reference(plan: Plan, tmp_path: Path) -> None:
    """write_assets writes Leaflet (js, css, images, licence) and our css, covering every page reference."""
    static = tmp_path / "static"
    write_assets(static)
    leaflet_js = static / "leaflet" / "leaflet.js"
    assert leaflet_js.stat().st_size > 100_000
    assert f't.version="{LEAFLET_VERSION}"' in leaflet_js.read_text(encoding="utf-8")
    assert "BSD 2-Clause" in (static / "leaflet" / "LICENSE").read_text(encoding="utf-8")
    css = (static / "leaflet" / "leaflet.css").read_text(encoding="utf-8")
    for image in re.findall(r"url\((images/[^)]+)\)", css):
        assert (static / "leaflet" / image).is_file(), image
    page_dir = tmp_path / "maps"
    parser = parse(render_team_map(plan, plan.routes[0], asset_prefix="../static/"))
    for url in resource_urls(parser):
        if url != "data:,":
            assert (page_dir / url).resolve().is_file(), url
    write_assets(static)  # a second run overwrites in place
    assert leaflet_js.is_file()
