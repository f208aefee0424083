"""Tile-less maps draw the plan's road network around the day as one light, compact layer."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import shapely

from geo import RoadNetwork, load_network
from geo.road_lines import grow_box, road_lines
from geo.types import BoundingBox, Location
from maps import render_overview, render_team_map
from maps.road_layer import decode_polyline, encode_polyline
from maps.team_map import ROAD_MARGIN_M, ROAD_TOLERANCE_M, day_box
from routing.model import Plan

COPENHAGEN = "copenhagen_kbh.osm.pbf"
CENTRE = Location(55.672, 12.573)
_ROADS = re.compile(r"Doorstep\.addRoads\([\w]+, (\[.*?\])\);", re.DOTALL)


@pytest.fixture(scope="module")
def network(osm_dir: Path, cache_dir: Path) -> RoadNetwork:
    """Copenhagen's drivable network, the largest of the test extracts."""
    return load_network(osm_dir / COPENHAGEN, cache_dir=cache_dir)


def drawn_lines(page: str) -> list[list[tuple[float, float]]]:
    """The decoded road lines of a page (empty when it has no road layer)."""
    match = _ROADS.search(page)
    return [decode_polyline(text) for text in json.loads(match.group(1))] if match else []


def test_encoded_polyline_matches_googles_example() -> None:
    """Google's documented example: (38.5, -120.2), (40.7, -120.95), (43.252, -126.453) -> this string."""
    text = encode_polyline(np.array([38.5, 40.7, 43.252]), np.array([-120.2, -120.95, -126.453]))
    assert text == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"
    assert decode_polyline(text) == [(38.5, -120.2), (40.7, -120.95), (43.252, -126.453)]


def test_team_map_draws_every_road_around_the_day(network: RoadNetwork, make_big_plan: Callable[..., Plan]) -> None:
    """Every road node inside the day's box (plus the margin) is within the simplification tolerance (plus
    1 m of encoding) of a drawn line, and nothing is drawn far outside that box."""
    plan = make_big_plan(teams=1, stops=25, centre=CENTRE)
    route = plan.routes[0]
    lines = drawn_lines(render_team_map(plan, route, tiles="none", roads=network))
    assert len(lines) > 100
    box = grow_box(day_box(route), ROAD_MARGIN_M)
    lat0, m_lat = CENTRE.lat, 111_195.0
    m_lon = m_lat * math.cos(math.radians(lat0))

    def metres(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        return np.stack([(lon - CENTRE.lon) * m_lon, (lat - lat0) * m_lat], axis=-1)

    drawn = shapely.multilinestrings([shapely.linestrings(metres(*np.array(line).T)) for line in lines])
    lat, lon = network.segments()
    inside = (lat >= box.south) & (lat <= box.north) & (lon >= box.west) & (lon <= box.east)
    nodes = shapely.points(metres(lat[inside], lon[inside]))
    assert nodes.size > 500
    assert float(shapely.distance(nodes, drawn).max()) <= ROAD_TOLERANCE_M + 1.0
    outer = grow_box(box, 1000.0)
    points = [p for line in lines for p in line]
    assert all(outer.contains(Location(a, b)) for a, b in points)
    # Roads only where the day is: the extract is about 6.5 km wide, the layer much less than all of it.
    assert len(points) < road_lines(network, network.bbox, ROAD_TOLERANCE_M).point_count / 2


def test_roads_only_without_tiles(network: RoadNetwork, make_big_plan: Callable[..., Plan]) -> None:
    """With tiles the road layer is left out (the tiles draw the roads); without a network nothing is drawn."""
    plan = make_big_plan(teams=1, stops=5, centre=CENTRE)
    assert drawn_lines(render_team_map(plan, plan.routes[0], tiles="osm", roads=network)) == []
    assert drawn_lines(render_team_map(plan, plan.routes[0], tiles="none")) == []
    assert drawn_lines(render_overview(plan, {}, tiles="osm", roads=network)) == []


def test_pages_with_roads_keep_their_size_budgets(network: RoadNetwork, make_big_plan: Callable[..., Plan]) -> None:
    """With Copenhagen's roads drawn, a 25-stop team map stays within 250 KB and a 20 × 25 overview (one road
    layer shared by all teams) within 2 MB."""
    plan = make_big_plan(teams=20, stops=25, centre=CENTRE)
    team = render_team_map(plan, plan.routes[0], tiles="none", roads=network)
    overview = render_overview(plan, {}, tiles="none", roads=network)
    assert drawn_lines(team) and drawn_lines(overview)
    assert len(team.encode()) <= 250_000
    assert len(overview.encode()) <= 2_000_000
    assert overview.count("Doorstep.addRoads(") == 1


def test_road_lines_of_an_empty_area_are_empty(network: RoadNetwork) -> None:
    """A box with no road in it (the sea east of the extract) gives no lines rather than an error."""
    east = network.bbox.east
    assert road_lines(network, BoundingBox(55.60, east + 0.1, 55.61, east + 0.2)).lines == ()
