"""Navigation links: geo: everywhere, AMap and Baidu (in their own datums) for stops in China."""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from geo.crs import bd09_to_wgs84, gcj02_to_wgs84
from geo.types import Location
from maps import render_team_map
from maps.navigation import amap_uri, baidu_uri, geo_uri, navigation_links
from routing.model import Plan

TIANANMEN = Location(39.908823, 116.397470)  # WGS-84


def test_geo_uri_pins_the_point() -> None:
    assert geo_uri(TIANANMEN) == "geo:39.908823,116.397470?q=39.908823,116.397470"


def test_amap_uri_carries_gcj02_that_converts_back_to_the_door() -> None:
    """AMap gets GCJ-02 (a few hundred metres off WGS-84 in Beijing), and converting it back lands on the point."""
    query = parse_qs(urlsplit(amap_uri(TIANANMEN, "天安门")).query)
    lat, lon = float(query["dlat"][0]), float(query["dlon"][0])
    assert (lat, lon) != pytest.approx((TIANANMEN.lat, TIANANMEN.lon), abs=1e-3)  # really shifted
    back = gcj02_to_wgs84(lat, lon)
    assert back == pytest.approx((TIANANMEN.lat, TIANANMEN.lon), abs=2e-6)  # 6 decimals ~ 0.1 m
    assert query["dev"] == ["0"] and query["dname"] == ["天安门"]


def test_baidu_uri_carries_bd09() -> None:
    uri = baidu_uri(TIANANMEN, "天安门")
    destination = unquote(re.search(r"destination=([^&]+)", uri).group(1))  # type: ignore[union-attr]
    lat, lon = (float(x) for x in destination.split("|")[0].removeprefix("latlng:").split(","))
    assert bd09_to_wgs84(lat, lon) == pytest.approx((TIANANMEN.lat, TIANANMEN.lon), abs=2e-5)
    assert "coord_type=bd09ll" in uri and "name:天安门" in destination


def test_chinese_apps_offered_only_in_china() -> None:
    """A stop in Beijing gets three links; one in Helsinki only geo: (AMap and Baidu do not cover it)."""
    assert navigation_links(TIANANMEN, "x", "zh-CN").count('class="ds-nav"') == 3
    assert "高德地图" in navigation_links(TIANANMEN, "x", "zh-CN")
    helsinki = navigation_links(Location(60.17, 24.94), "x", "en")
    assert helsinki.count('class="ds-nav"') == 1 and "amapuri" not in helsinki


def test_team_map_popup_has_the_links(plan: Plan) -> None:
    """A route moved to Beijing shows AMap and Baidu links in every stop's popup."""
    route = plan.routes[1]
    moved = dataclasses.replace(
        route,
        visits=tuple(dataclasses.replace(v, location=TIANANMEN) for v in route.visits),
        path=(),
    )
    page = render_team_map(plan, moved, lang="zh-CN", tiles="none")
    assert page.count("amapuri://route/plan/") == len(route.visits)
    assert page.count("baidumap://map/direction") == len(route.visits)
