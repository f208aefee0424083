"""Chinese map datums: GCJ-02 (AMap, Tencent, Google in China) and BD-09 (Baidu), to and from WGS-84.

GCJ-02 is WGS-84 shifted by a published, deliberately non-linear formula (up to about 700 m in China, no shift
outside China); BD-09 is GCJ-02 with a further shift. The forward formulas are exact. The inverse of GCJ-02 has no
closed form: ``gcj02_to_wgs84`` iterates the forward formula until the round trip is within 1e-9 degrees (about
0.1 mm), instead of the common one-step approximation that leaves errors of up to a metre or two.

All functions take and return ``(lat, lon)`` in this order (the project's order: ``Location(lat, lon)``), and work
on floats or numpy arrays alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 formula uses
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0


def in_china(lat: Any, lon: Any) -> Any:
    """Whether a point lies in the rough box where GCJ-02 applies (outside it, GCJ-02 equals WGS-84)."""
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    return (lon > 72.004) & (lon < 137.8347) & (lat > 0.8293) & (lat < 55.8271)


def _delta(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS-84 at a WGS-84 point, in degrees (the published formula)."""
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    inside = in_china(lat, lon)
    return np.where(inside, dlat, 0.0), np.where(inside, dlon, 0.0)


def _out(lat: np.ndarray, lon: np.ndarray, like: Any) -> tuple[Any, Any]:
    if np.ndim(like) == 0:
        return float(lat), float(lon)
    return lat, lon


def wgs84_to_gcj02(lat: Any, lon: Any) -> tuple[Any, Any]:
    """WGS-84 → GCJ-02 (exact: the published formula)."""
    la, lo = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    dlat, dlon = _delta(la, lo)
    return _out(la + dlat, lo + dlon, lat)


def gcj02_to_wgs84(lat: Any, lon: Any, *, tolerance_deg: float = 1e-9, max_iter: int = 30) -> tuple[Any, Any]:
    """GCJ-02 → WGS-84, by fixed-point iteration of the forward formula (converges in a handful of steps)."""
    la, lo = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    wlat, wlon = la.copy(), lo.copy()
    for _ in range(max_iter):
        dlat, dlon = _delta(wlat, wlon)
        err_lat, err_lon = wlat + dlat - la, wlon + dlon - lo
        wlat, wlon = wlat - err_lat, wlon - err_lon
        if np.all(np.abs(err_lat) < tolerance_deg) and np.all(np.abs(err_lon) < tolerance_deg):
            break
    return _out(wlat, wlon, lat)


def gcj02_to_bd09(lat: Any, lon: Any) -> tuple[Any, Any]:
    """GCJ-02 → BD-09 (exact)."""
    la, lo = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    z = np.sqrt(lo * lo + la * la) + 0.00002 * np.sin(la * _X_PI)
    theta = np.arctan2(la, lo) + 0.000003 * np.cos(lo * _X_PI)
    return _out(z * np.sin(theta) + 0.006, z * np.cos(theta) + 0.0065, lat)


def bd09_to_gcj02(lat: Any, lon: Any) -> tuple[Any, Any]:
    """BD-09 → GCJ-02 (the published inverse; good to about 15 cm, as the round-trip tests show)."""
    la, lo = np.asarray(lat, dtype=float) - 0.006, np.asarray(lon, dtype=float) - 0.0065
    z = np.sqrt(lo * lo + la * la) - 0.00002 * np.sin(la * _X_PI)
    theta = np.arctan2(la, lo) - 0.000003 * np.cos(lo * _X_PI)
    return _out(z * np.sin(theta), z * np.cos(theta), lat)


def wgs84_to_bd09(lat: Any, lon: Any) -> tuple[Any, Any]:
    """WGS-84 → BD-09 (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lon))


def bd09_to_wgs84(lat: Any, lon: Any) -> tuple[Any, Any]:
    """BD-09 → WGS-84 (through GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lon))
