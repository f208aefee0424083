"""Travel speeds: OSM ``maxspeed`` parsing, per-country highway defaults and per-profile speeds.

Car speeds are free-flow limits in km/h (``maxspeed`` when it parses, else the country's default for the
``highway`` value), scaled by :data:`CONGESTION_FACTOR` so estimated arrival times are not optimistic in
town. E-bikes ride at their own cruising speed, never above the road's limit; people walk at
:data:`WALK_PLAN_KMH`. Every default can be overridden by settings (:func:`speed_table`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

#: Free-flow speed (km/h) per ``highway`` value, used when a way has no usable ``maxspeed`` and the
#: country has no table of its own. It is also the European set (urban extracts, 50 km/h towns).
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
    "track": 20.0,
    # Links are ramps and slip roads: slower than the road they belong to.
    "motorway_link": 60.0,
    "trunk_link": 50.0,
    "primary_link": 45.0,
    "secondary_link": 40.0,
    "tertiary_link": 30.0,
}

#: Where a country's defaults differ from :data:`HIGHWAY_DEFAULT_KMH`. China: urban expressways and
#: arterials are slower in practice, residential compounds (小区) and village roads slow.
#: Europe: motorway limits per country.
COUNTRY_HIGHWAY_KMH: Mapping[str, Mapping[str, float]] = {
    "CN": {
        "motorway": 100.0,
        "motorway_link": 50.0,
        "trunk": 70.0,
        "trunk_link": 40.0,
        "primary": 50.0,
        "primary_link": 40.0,
        "secondary": 40.0,
        "secondary_link": 30.0,
        "tertiary": 35.0,
        "tertiary_link": 30.0,
        "unclassified": 30.0,
        "residential": 20.0,
        "living_street": 10.0,
        "service": 15.0,
        "road": 30.0,
        "track": 15.0,
    },
    "DE": {"motorway": 130.0, "trunk": 100.0, "living_street": 7.0},
    "AT": {"motorway": 130.0, "trunk": 100.0, "living_street": 5.0},
    "FR": {"motorway": 130.0, "trunk": 110.0},
    "IT": {"motorway": 130.0, "trunk": 110.0},
    "DK": {"motorway": 130.0, "trunk": 80.0, "living_street": 15.0},
    "NL": {"motorway": 100.0, "trunk": 100.0, "living_street": 15.0},
    "BE": {"motorway": 120.0, "trunk": 90.0, "living_street": 20.0},
    "ES": {"motorway": 120.0, "trunk": 100.0, "living_street": 20.0},
    "PT": {"motorway": 120.0, "trunk": 100.0, "living_street": 20.0},
    "SE": {"motorway": 110.0, "trunk": 90.0, "living_street": 7.0},
    "NO": {"motorway": 110.0, "trunk": 80.0, "living_street": 7.0},
    "FI": {"motorway": 120.0, "trunk": 80.0, "living_street": 20.0},
    "PL": {"motorway": 140.0, "trunk": 100.0, "living_street": 20.0},
    "GB": {"motorway": 112.7, "trunk": 96.6, "primary": 64.4, "residential": 32.2},
    "IE": {"motorway": 120.0, "trunk": 100.0},
    "CH": {"motorway": 120.0, "trunk": 100.0, "living_street": 20.0},
}

#: E-bike / electric scooter cruising speed (km/h) per ``highway`` value. China's standard for e-bikes
#: (GB 17761-2018) caps them at 25 km/h; in traffic they ride slower.
EBIKE_KMH: Mapping[str, float] = {
    "cycleway": 18.0,
    "track": 12.0,
    "path": 10.0,
    "bridleway": 10.0,
    "footway": 8.0,
    "pedestrian": 8.0,
    "sidewalk": 8.0,
    "crossing": 8.0,
    "living_street": 10.0,
    "service": 12.0,
}

#: E-bike cruising speed (km/h) on a street missing from :data:`EBIKE_KMH`.
EBIKE_CRUISE_KMH = 18.0

#: Walking speed (km/h) of a team on foot, and on steps.
WALK_PLAN_KMH = 4.5
STEPS_KMH = 2.0

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


def speed_table(country: str | None = None, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """The car default speeds (km/h) per ``highway`` value for a country, with settings' overrides.

    Parameters
    ----------
    country
        ISO 3166 alpha-2 code (``"CN"``, ``"DK"``); ``None`` or an unknown code gives the generic table.
    overrides
        ``highway`` value -> km/h, applied last; also the keys ``"ebike"`` (e-bike cruising speed) and
        ``"walk"`` (walking speed), which :func:`profile_kmh` reads from the same table.

    Raises
    ------
    ValueError
        For a non-positive or non-finite override.
    """
    table = dict(HIGHWAY_DEFAULT_KMH)
    table.update(COUNTRY_HIGHWAY_KMH.get((country or "").upper(), {}))
    for key, kmh in (overrides or {}).items():
        if not (math.isfinite(kmh) and kmh > 0):
            msg = f"speed override {key}={kmh!r} must be a positive number of km/h"
            raise ValueError(msg)
        table[key] = float(kmh)
    return table


def highway_default_kmh(highway: object, table: Mapping[str, float] = HIGHWAY_DEFAULT_KMH) -> float:
    """Free-flow default speed in km/h for a ``highway`` value (the first of a list)."""
    if isinstance(highway, (list, tuple)):
        highway = highway[0] if highway else None
    if not isinstance(highway, str):
        return FALLBACK_KMH
    return table.get(highway.split(";")[0].strip(), FALLBACK_KMH)


def free_flow_kmh(highway: object, maxspeed: object, table: Mapping[str, float] = HIGHWAY_DEFAULT_KMH) -> float:
    """Free-flow speed in km/h: the parsed ``maxspeed``, else the highway default."""
    parsed = parse_maxspeed(maxspeed)
    return parsed if parsed is not None else highway_default_kmh(highway, table)


def profile_kmh(profile: str, highway: object, maxspeed: object, bicycle: object, table: Mapping[str, float]) -> float:
    """Planning speed in km/h of one way for a profile (car congestion included).

    Parameters
    ----------
    profile
        ``"car"``, ``"ebike"`` or ``"walk"``.
    highway, maxspeed, bicycle
        The way's tags (``bicycle=dismount``: the e-bike is pushed).
    table
        From :func:`speed_table`.
    """
    if profile == "walk":
        return STEPS_KMH if highway == "steps" else table.get("walk", WALK_PLAN_KMH)
    limit = free_flow_kmh(highway, maxspeed, table)
    if profile == "ebike":
        if isinstance(bicycle, str) and "dismount" in bicycle:
            return table.get("walk", WALK_PLAN_KMH)
        cruise = table.get("ebike", EBIKE_CRUISE_KMH)
        own = EBIKE_KMH.get(highway, cruise) if isinstance(highway, str) else cruise
        return min(own, cruise, limit)
    return limit * CONGESTION_FACTOR


def edge_speeds_mps(
    highways: Iterable[object],
    maxspeeds: Iterable[object],
    profile: str = "car",
    table: Mapping[str, float] = HIGHWAY_DEFAULT_KMH,
    bicycles: Sequence[object] | None = None,
) -> np.ndarray:
    """Planning speeds in m/s for many edges.

    Parameters
    ----------
    highways, maxspeeds
        The ``highway`` and ``maxspeed`` tags of each edge, in the same order.
    profile
        The travel profile.
    table
        Car default speeds, from :func:`speed_table`.
    bicycles
        The ``bicycle`` tag of each edge (only the e-bike profile reads it).

    Returns
    -------
    numpy.ndarray
        float64 speeds, :func:`profile_kmh` / 3.6.
    """
    highways = list(highways)
    bikes: Sequence[object] = bicycles if bicycles is not None else [None] * len(highways)
    # Tag values repeat a lot; parse each distinct combination once.
    seen: dict[tuple[str, str, str], float] = {}
    out: list[float] = []
    for highway, maxspeed, bicycle in zip(highways, maxspeeds, bikes, strict=True):
        key = (repr(highway), repr(maxspeed), repr(bicycle))
        speed = seen.get(key)
        if speed is None:
            speed = profile_kmh(profile, highway, maxspeed, bicycle, table)
            seen[key] = speed
        out.append(speed)
    return np.asarray(out, dtype=np.float64) / 3.6
