"""Driving speeds: OSM ``maxspeed`` parsing and per-highway defaults.

Speeds are free-flow limits in km/h; :func:`edge_speeds_mps` turns them into the planning speeds the
network uses, scaled by :data:`CONGESTION_FACTOR` so estimated arrival times are not optimistic in town.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

import numpy as np

#: Free-flow speed (km/h) per ``highway`` value, used when a way has no usable ``maxspeed``.
HIGHWAY_DEFAULT_KMH: Mapping[str, float] = {
    "motorway": 100.0,
    "trunk": 80.0,
    "primary": 60.0,
    "secondary": 50.0,
    "tertiary": 40.0,
    "unclassified": 35.0,
    "residential": 30.0,
    "living_street": 10.0,
    "service": 15.0,
    "road": 30.0,
    # Links are ramps and slip roads: slower than the road they belong to.
    "motorway_link": 60.0,
    "trunk_link": 50.0,
    "primary_link": 45.0,
    "secondary_link": 40.0,
    "tertiary_link": 30.0,
}

#: Speed (km/h) for a ``highway`` value missing from :data:`HIGHWAY_DEFAULT_KMH`.
FALLBACK_KMH = 30.0

#: Share of the free-flow speed actually driven in town (traffic lights, turns, parking manoeuvres).
CONGESTION_FACTOR = 0.8

#: Parsed speeds outside this range (km/h) are treated as tagging errors and ignored.
PLAUSIBLE_KMH = (2.0, 150.0)

#: Speed (km/h) meant by ``maxspeed=walk`` and the ``*:walk`` zone codes.
WALK_KMH = 6.0

# Zone codes "XX:zone": per-country values where they differ from the generic ones.
_ZONE_KMH: Mapping[str, float] = {
    "urban": 50.0,
    "rural": 90.0,
    "motorway": 120.0,
    "trunk": 100.0,
    "living_street": 20.0,
    "bicycle_road": 30.0,
    "school": 30.0,
    "zone30": 30.0,
    "zone:30": 30.0,
    "walk": WALK_KMH,
}
_COUNTRY_ZONE_KMH: Mapping[tuple[str, str], float] = {
    ("DK", "rural"): 80.0,
    ("DK", "motorway"): 130.0,
    ("DK", "living_street"): 15.0,
    ("RU", "urban"): 60.0,
    ("RU", "rural"): 90.0,
    ("RU", "motorway"): 110.0,
    ("RU", "living_street"): 20.0,
    ("CN", "urban"): 50.0,
    ("CN", "rural"): 70.0,
    ("CN", "motorway"): 120.0,
    ("DE", "rural"): 100.0,
    ("DE", "motorway"): 130.0,
    ("DE", "living_street"): 7.0,
    ("FI", "urban"): 50.0,
    ("FI", "rural"): 80.0,
    ("FI", "motorway"): 120.0,
    ("GB", "nsl_single"): 96.6,
    ("GB", "nsl_dual"): 112.7,
    ("GB", "motorway"): 112.7,
}
_UNIT_KMH: Mapping[str, float] = {
    "": 1.0,
    "km/h": 1.0,
    "kmh": 1.0,
    "kph": 1.0,
    "mph": 1.609344,
    "knots": 1.852,
}
_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([a-z/]*)\s*$")


def _parse_one(value: str) -> float | None:
    """Parse a single (non-list) ``maxspeed`` value to km/h, ``None`` when it says nothing usable."""
    text = value.strip().lower()
    if not text:
        return None
    if text == "walk":
        return WALK_KMH
    # "none" (no limit), "signals", "variable": the limit is not a number; fall back to the road type.
    if text in {"none", "signals", "variable", "unposted", "implicit"}:
        return None
    if ":" in text:
        country, _, zone = text.partition(":")
        key = (country.upper(), zone)
        if key in _COUNTRY_ZONE_KMH:
            return _COUNTRY_ZONE_KMH[key]
        return _ZONE_KMH.get(zone)
    match = _NUMBER.match(text)
    if match is None:
        return None
    factor = _UNIT_KMH.get(match.group(2))
    if factor is None:
        return None
    kmh = float(match.group(1).replace(",", ".")) * factor
    low, high = PLAUSIBLE_KMH
    return kmh if low <= kmh <= high else None


def parse_maxspeed(value: object) -> float | None:
    """Parse an OSM ``maxspeed`` tag to km/h.

    Parameters
    ----------
    value
        The raw tag value: ``"50"``, ``"30 mph"``, ``"walk"``, ``"DK:urban"``, a list ``"50;30"`` (or a
        Python list, as osmnx gives for merged ways), ``None`` or NaN.

    Returns
    -------
    float or None
        The limit in km/h (the lowest of a list), or ``None`` when the tag is missing, says ``none``
        or cannot be read, so that the caller falls back to the highway default.
    """
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    parts: list[str]
    parts = [str(v) for v in value] if isinstance(value, (list, tuple)) else str(value).split(";")
    speeds = [s for s in (_parse_one(p) for p in parts) if s is not None]
    return min(speeds) if speeds else None


def highway_default_kmh(highway: object) -> float:
    """Free-flow default speed in km/h for a ``highway`` value (the first of a list)."""
    if isinstance(highway, (list, tuple)):
        highway = highway[0] if highway else None
    if not isinstance(highway, str):
        return FALLBACK_KMH
    return HIGHWAY_DEFAULT_KMH.get(highway.split(";")[0].strip(), FALLBACK_KMH)


def free_flow_kmh(highway: object, maxspeed: object) -> float:
    """Free-flow speed in km/h: the parsed ``maxspeed``, else the highway default."""
    parsed = parse_maxspeed(maxspeed)
    return parsed if parsed is not None else highway_default_kmh(highway)


def edge_speeds_mps(highways: Iterable[object], maxspeeds: Iterable[object]) -> np.ndarray:
    """Planning speeds in m/s for many edges, congestion included.

    Parameters
    ----------
    highways, maxspeeds
        The ``highway`` and ``maxspeed`` tags of each edge, in the same order.

    Returns
    -------
    numpy.ndarray
        float64 speeds, ``free_flow_kmh * CONGESTION_FACTOR / 3.6``.
    """
    # Tag values repeat a lot; parse each distinct pair once.
    seen: dict[tuple[str, str], float] = {}
    out: list[float] = []
    for highway, maxspeed in zip(highways, maxspeeds, strict=True):
        key = (repr(highway), repr(maxspeed))
        speed = seen.get(key)
        if speed is None:
            speed = free_flow_kmh(highway, maxspeed)
            seen[key] = speed
        out.append(speed)
    return np.asarray(out, dtype=np.float64) * (CONGESTION_FACTOR / 3.6)
