"""Background tiles of the map pages, and the datum everything drawn on them must use.

OpenStreetMap tiles (and an OSM-based server at a URL) are in WGS-84, like the plan. AMap's tiles are drawn in
GCJ-02, China's shifted datum (up to about 700 m off in China, identical outside it): on them every point we draw
(route lines, stops, depots, the officer's GPS dot, the map's bounds) is converted to GCJ-02 first, or it would
sit hundreds of metres beside its road. Data sent back to the server (outcomes, re-plans) stays WGS-84.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from geo.crs import wgs84_to_gcj02
from geo.types import Location
from maps.errors import UnknownTilesError

__all__ = [
    "AMAP_ATTRIBUTION",
    "AMAP_HOSTS",
    "AMAP_TILE_URL",
    "OSM_ATTRIBUTION",
    "OSM_TILE_URL",
    "TILE_CHOICES",
    "TileSource",
    "tile_source",
    "to_map",
    "to_map_point",
]

OSM_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
# Shown on every page, tiles or not: the road geometry itself comes from OpenStreetMap.
OSM_ATTRIBUTION = '<a href="https://www.openstreetmap.org/copyright">© OpenStreetMap contributors</a>'
AMAP_TILE_URL = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
AMAP_SUBDOMAINS = "1234"
AMAP_HOSTS = tuple(f"https://webrd0{s}.is.autonavi.com" for s in AMAP_SUBDOMAINS)
AMAP_ATTRIBUTION = '<a href="https://www.amap.com/">© AutoNavi / 高德地图</a>'
AMAP_MAX_ZOOM = 18
TILE_CHOICES = ("osm", "amap", "none")


@dataclass(frozen=True, slots=True)
class TileSource:
    """A page's background: tile URL (``None``: no tiles), subdomains, attribution, zoom limit and datum."""

    url: str | None
    attribution: str
    datum: str = "wgs84"
    subdomains: str = "abc"
    max_zoom: int = 19


def tile_source(tiles: str) -> TileSource:
    """The background for a ``tiles`` choice: ``osm``, ``amap``, ``none`` or an OSM-based ``http(s)://`` URL
    template with ``{z}``, ``{x}`` and ``{y}``.

    Raises
    ------
    UnknownTilesError
        When ``tiles`` is none of these.
    """
    if tiles == "osm":
        return TileSource(OSM_TILE_URL, OSM_ATTRIBUTION)
    if tiles == "amap":
        return TileSource(AMAP_TILE_URL, AMAP_ATTRIBUTION, "gcj02", AMAP_SUBDOMAINS, AMAP_MAX_ZOOM)
    if tiles == "none":
        return TileSource(None, OSM_ATTRIBUTION)
    if tiles.startswith(("https://", "http://")) and all(p in tiles for p in ("{z}", "{x}", "{y}")):
        return TileSource(tiles, OSM_ATTRIBUTION)
    msg = f"unknown tiles {tiles!r}: use 'osm', 'amap', 'none' or an http(s) URL template with {{z}}, {{x}}, {{y}}"
    raise UnknownTilesError(msg)


def to_map(lats: Iterable[float], lons: Iterable[float], datum: str) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 coordinates in the map's datum (vectorised: a whole polyline at once)."""
    lat = np.asarray(list(lats) if not isinstance(lats, np.ndarray) else lats, dtype=float)
    lon = np.asarray(list(lons) if not isinstance(lons, np.ndarray) else lons, dtype=float)
    if datum == "gcj02":
        glat, glon = wgs84_to_gcj02(lat, lon)
        return np.asarray(glat, dtype=float), np.asarray(glon, dtype=float)
    return lat, lon


def to_map_point(location: Location, datum: str) -> list[float]:
    """One WGS-84 point as Leaflet's ``[lat, lon]`` in the map's datum, rounded to 6 decimals (0.1 m)."""
    lat, lon = to_map([location.lat], [location.lon], datum)
    return [round(float(lat[0]), 6), round(float(lon[0]), 6)]
