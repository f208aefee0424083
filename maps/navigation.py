"""Links that hand a stop over to the phone's navigation app.

``geo:`` opens whatever map app the phone has, in WGS-84. In China officers mostly use AMap (高德) and Baidu
Maps, whose apps expect their own datums: the point is converted here (GCJ-02 for AMap, BD-09 for Baidu), so
the app does not have to guess and the pin lands on the door, not 300-500 m away.
"""

from __future__ import annotations

from urllib.parse import quote

from geo.crs import in_china, wgs84_to_bd09, wgs84_to_gcj02
from geo.types import Location
from maps.i18n import translate
from maps.page import esc

__all__ = ["amap_uri", "baidu_uri", "geo_uri", "navigation_links"]


def geo_uri(location: Location) -> str:
    """The RFC 5870 ``geo:`` URI of a point, with a pin (``q=``) for Android's map apps."""
    return f"geo:{location.lat:.6f},{location.lon:.6f}?q={location.lat:.6f},{location.lon:.6f}"


def amap_uri(location: Location, name: str) -> str:
    """AMap's route-planning URI to the point, in GCJ-02 (``dev=0``: already converted; ``t=0``: by car)."""
    lat, lon = wgs84_to_gcj02(location.lat, location.lon)
    return (
        f"amapuri://route/plan/?dlat={lat:.6f}&dlon={lon:.6f}&dname={quote(name)}&dev=0&t=0&sourceApplication=doorstep"
    )


def baidu_uri(location: Location, name: str) -> str:
    """Baidu Maps' directions URI to the point, in BD-09 (``coord_type=bd09ll``), by car."""
    lat, lon = wgs84_to_bd09(location.lat, location.lon)
    destination = quote(f"latlng:{lat:.6f},{lon:.6f}|name:{name}", safe=":,|")
    return f"baidumap://map/direction?destination={destination}&coord_type=bd09ll&mode=driving&src=doorstep"


def navigation_links(location: Location, name: str, lang: str) -> str:
    """The popup's navigation links (trusted HTML): ``geo:`` always, AMap and Baidu for points in China."""
    links = [(geo_uri(location), translate(lang, "navigate"))]
    if bool(in_china(location.lat, location.lon)):
        links += [(amap_uri(location, name), translate(lang, "navigate_amap"))]
        links += [(baidu_uri(location, name), translate(lang, "navigate_baidu"))]
    return " ".join(f'<a class="ds-nav" href="{esc(href)}">{esc(text)}</a>' for href, text in links)
