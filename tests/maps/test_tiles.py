"""AMap tiles: every point drawn on them is in GCJ-02 (in China; the identity elsewhere), their attribution is
shown, and the served page's CSP lets their hosts in only when they are the configured tiles."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest

from api.app_pages import page_csp
from geo import load_network
from geo.crs import wgs84_to_gcj02
from geo.types import Location, haversine_m
from maps import render_overview, render_team_map
from maps.tiles import AMAP_HOSTS, tile_source
from routing.model import Plan, TeamDay

SHENZHEN = "shenzhen_longgang.osm.bz2"
_MARKER = re.compile(r"L\.(?:marker|circleMarker)\(\s*\[(-?[\d.]+), (-?[\d.]+)\]")
_POLYLINE = re.compile(r"L\.polyline\(\s*(\[\[.*?\]\])", re.DOTALL)
_BOUNDS = re.compile(r"fitBounds\(\s*(\[\[.*?\]\])", re.DOTALL)


def marker_points(page: str) -> list[tuple[float, float]]:
    """The ``[lat, lon]`` of every marker of a page, in page order."""
    return [(float(a), float(b)) for a, b in _MARKER.findall(page)]


def polyline_points(page: str) -> list[list[float]]:
    """The points of the page's first polyline (the route)."""
    match = _POLYLINE.search(page)
    assert match is not None
    return list(json.loads(match.group(1)))


def gcj(location: Location) -> tuple[float, float]:
    lat, lon = wgs84_to_gcj02(location.lat, location.lon)
    return round(lat, 6), round(lon, 6)


@pytest.fixture(scope="module")
def shenzhen_plan(osm_dir: Path, cache_dir: Path) -> Plan:
    """The Helsinki plan's team T1 moved to real road points of Longgang, Shenzhen, with its road path."""
    from .conftest import build_plan

    network = load_network(osm_dir / SHENZHEN, cache_dir=cache_dir)
    lat, lon = network.segments()
    centre = network.bbox.center
    # Four road nodes spread around the extract's centre: a depot and three stops.
    order = np.argsort(np.hypot(lat[:, 0] - centre.lat, lon[:, 0] - centre.lon))
    picks = [order[0], order[len(order) // 8], order[len(order) // 5], order[len(order) // 3]]
    points = [Location(float(lat[i, 0]), float(lon[i, 0])) for i in picks]
    base = build_plan()
    route = base.routes[0]
    visits = tuple(
        dataclasses.replace(v, location=p, address=None) for v, p in zip(route.visits, points[1:], strict=True)
    )
    team = dataclasses.replace(route.team, start=points[0], end=points[0])
    legs = network.legs([points[0], *points[1:], points[0]])
    path = [legs[0].points[0]] + [p for leg in legs for p in leg.points[1:]]
    moved = TeamDay(
        team=team,
        start_time=route.start_time,
        end_time=route.end_time,
        visits=visits,
        travel_s=route.travel_s,
        distance_m=route.distance_m,
        break_start=route.break_start,
        break_after_seq=route.break_after_seq,
        path=tuple(path),
    )
    return dataclasses.replace(base, timezone="Asia/Shanghai", routes=(moved,), dropped=(), unresolved=())


def test_amap_team_map_draws_every_point_in_gcj02(shenzhen_plan: Plan) -> None:
    """In Shenzhen, tiles=amap puts the depot, the stops, the route and the bounds at the GCJ-02 conversion of
    the WGS-84 plan (some hundreds of metres off), while tiles=osm keeps WGS-84."""
    route = shenzhen_plan.routes[0]
    wgs = [route.team.start, *(v.location for v in route.visits)]
    amap = render_team_map(shenzhen_plan, route, tiles="amap")
    osm = render_team_map(shenzhen_plan, route, tiles="osm")
    assert marker_points(amap) == [gcj(p) for p in wgs]
    assert marker_points(osm) == [(round(p.lat, 6), round(p.lon, 6)) for p in wgs]
    # GCJ-02 in Shenzhen is a real shift (hundreds of metres), so the test above can tell the two apart.
    shift = haversine_m(wgs[0], Location(*gcj(wgs[0])))
    assert 200 < shift < 800
    line = polyline_points(amap)
    assert len(line) == len(route.path)
    assert all(tuple(a) == gcj(b) for a, b in zip(line, route.path, strict=True))
    bounds = _BOUNDS.search(amap)
    assert bounds is not None
    (south, west), (north, east) = json.loads(bounds.group(1))
    shifted = [gcj(p) for p in [*route.path, *wgs]]
    assert (south, north) == (min(p[0] for p in shifted), max(p[0] for p in shifted))
    assert (west, east) == (min(p[1] for p in shifted), max(p[1] for p in shifted))
    # The phone's GPS fix is converted in the page too: the locate control knows the datum.
    assert '"gcj02"' in amap and '"gcj02"' not in osm


def test_amap_overview_draws_in_gcj02(shenzhen_plan: Plan) -> None:
    """The overview's depots and stop circles sit on AMap's tiles too."""
    route = shenzhen_plan.routes[0]
    page = render_overview(shenzhen_plan, {}, tiles="amap")
    assert marker_points(page) == [gcj(p) for p in [route.team.start, *(v.location for v in route.visits)]]


def test_amap_outside_china_draws_wgs84(plan: Plan) -> None:
    """Outside China GCJ-02 is the identity (geo.crs.in_china), so a Helsinki map is the same on both tiles."""
    route = plan.routes[0]
    amap = render_team_map(plan, route, tiles="amap")
    osm = render_team_map(plan, route, tiles="osm")
    assert marker_points(amap) == marker_points(osm)
    assert polyline_points(amap) == polyline_points(osm)


def test_amap_tiles_and_attribution(plan: Plan) -> None:
    """The AMap page loads AMap's raster tiles from its four hosts and credits AutoNavi and OpenStreetMap."""
    page = render_team_map(plan, plan.routes[0], tiles="amap")
    assert "webrd0{s}.is.autonavi.com/appmaptile" in page
    assert '"subdomains": "1234"' in page
    attributions = [json.loads(a) for a in re.findall(r'"attribution": (".*?"),', page)]
    assert attributions == ['<a href="https://www.amap.com/">© AutoNavi / 高德地图</a>']
    assert "© OpenStreetMap contributors" in page  # our road data, on every page
    assert "tile.openstreetmap.org" not in page
    assert tile_source("amap").datum == "gcj02" and tile_source("osm").datum == "wgs84"


@pytest.mark.parametrize(
    ("tiles", "allowed", "refused"),
    [
        ("amap", AMAP_HOSTS, ("https://tile.openstreetmap.org",)),  # AMap's four hosts, nothing else
        ("osm", ("https://tile.openstreetmap.org",), AMAP_HOSTS),  # OSM's only
        ("none", (), (*AMAP_HOSTS, "https://tile.openstreetmap.org")),  # no tile host at all
    ],
)
def test_csp_lets_in_only_the_configured_tile_host(
    tiles: str, allowed: tuple[str, ...], refused: tuple[str, ...]
) -> None:
    """The served pages' CSP names the configured tile hosts in img-src and no other."""
    img_src = next(d for d in page_csp("", tiles).split("; ") if d.startswith("img-src"))
    assert all(host in img_src.split() for host in allowed)
    assert not any(host in img_src for host in refused)
