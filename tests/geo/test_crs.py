"""GCJ-02 / BD-09 / WGS-84 conversions against published reference points, and round trips."""

from __future__ import annotations

import numpy as np
import pytest

from geo.crs import bd09_to_gcj02, bd09_to_wgs84, gcj02_to_bd09, gcj02_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from geo.types import Location, haversine_m

# Reference outputs published with the widely used coordtransform library (wandergis/coordtransform, test/app.js),
# all for the input point lon 116.404, lat 39.915 (Tiananmen): (function, expected lat, expected lon).
REFERENCE = [
    (wgs84_to_gcj02, 39.91640428150164, 116.41024449916938),
    (gcj02_to_bd09, 39.92133699351021, 116.41036949371029),
    (bd09_to_gcj02, 39.90865673957631, 116.39762729119315),
]


@pytest.mark.parametrize(("convert", "lat", "lon"), REFERENCE)
def test_forward_formulas_match_published_values(convert: object, lat: float, lon: float) -> None:
    """The exact formulas reproduce the published outputs to 1e-9 degrees."""
    got = convert(39.915, 116.404)  # type: ignore[operator]
    assert got == pytest.approx((lat, lon), abs=1e-9)


def test_gcj02_inverse_agrees_with_published_approximation() -> None:
    """Our iterated inverse lies within 0.1 m of the published one-step approximation (lat 39.91359571849836)."""
    lat, lon = gcj02_to_wgs84(39.915, 116.404)
    assert haversine_m(Location(lat, lon), Location(39.91359571849836, 116.39775550083061)) < 0.1


def test_beijing_railway_station_bd09() -> None:
    """Beijing railway station, GCJ-02 (39.90245, 116.42703), is BD-09 (39.90851, 116.43351), as published to 5
    decimals (about 1 m)."""
    lat, lon = gcj02_to_bd09(39.90245, 116.42703)
    assert haversine_m(Location(lat, lon), Location(39.90851, 116.43351)) < 1.5


@pytest.mark.parametrize(
    "point",
    [
        (39.915, 116.404),  # Beijing
        (22.7196, 114.2470),  # Longgang, Shenzhen
        (31.2304, 121.4737),  # Shanghai
        (43.8256, 87.6168),  # Ürümqi, far west
    ],
)
def test_round_trips(point: tuple[float, float]) -> None:
    """WGS-84 → GCJ-02 → WGS-84 returns within 1 mm, through BD-09 within 20 cm (Baidu's inverse is approximate);
    the shift itself is tens to hundreds of metres."""
    here = Location(*point)
    there = Location(*wgs84_to_gcj02(*point))
    assert 10.0 < haversine_m(here, there) < 1000.0
    assert haversine_m(here, Location(*gcj02_to_wgs84(there.lat, there.lon))) < 1e-3
    assert haversine_m(here, Location(*bd09_to_wgs84(*wgs84_to_bd09(*point)))) < 0.2


def test_no_shift_outside_china() -> None:
    """Outside China GCJ-02 is WGS-84: Copenhagen does not move."""
    assert wgs84_to_gcj02(55.6761, 12.5683) == (55.6761, 12.5683)
    assert gcj02_to_wgs84(55.6761, 12.5683) == (55.6761, 12.5683)


def test_arrays_convert_element_wise() -> None:
    """Arrays in, arrays out, each element as if converted alone."""
    lats, lons = np.array([39.915, 22.7196]), np.array([116.404, 114.2470])
    got_lat, got_lon = gcj02_to_wgs84(lats, lons)
    for i in range(2):
        assert (got_lat[i], got_lon[i]) == pytest.approx(gcj02_to_wgs84(float(lats[i]), float(lons[i])), abs=1e-12)
