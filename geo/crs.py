"""Chinese map datums: GCJ-02 (AMap, Tencent, phones sold in China) to WGS-84."""

from __future__ import annotations

import math

from geo.types import Location

_A = 6378245.0
_EE = 0.00669342162296594323


def _inside_china(lat: float, lon: float) -> bool:
    # GCJ-02 is only offset inside mainland China's rough bounding box; elsewhere it equals WGS-84.
    return 72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271


def _delta(lat: float, lon: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlat, dlon


def wgs84_to_gcj02(point: Location) -> Location:
    """The GCJ-02 coordinates of a WGS-84 point (unchanged outside China)."""
    if not _inside_china(point.lat, point.lon):
        return point
    dlat, dlon = _delta(point.lat, point.lon)
    return Location(point.lat + dlat, point.lon + dlon)


def gcj02_to_wgs84(point: Location) -> Location:
    """The WGS-84 point of GCJ-02 coordinates, by fixed-point iteration (error well below a centimetre)."""
    if not _inside_china(point.lat, point.lon):
        return point
    lat, lon = point.lat, point.lon
    for _ in range(8):
        shifted = wgs84_to_gcj02(Location(lat, lon))
        lat, lon = lat - (shifted.lat - point.lat), lon - (shifted.lon - point.lon)
    return Location(lat, lon)
