"""Geographic value types shared by the whole project.

Coordinates always travel as named fields: osmnx, folium and GeoJSON disagree on (lat, lon) order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Location:
    """A WGS-84 point.

    Parameters
    ----------
    lat
        Latitude in degrees, -90 to 90.
    lon
        Longitude in degrees, -180 to 180.
    """

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat) and -90.0 <= self.lat <= 90.0):
            msg = f"latitude must be a number in [-90, 90], got {self.lat!r}"
            raise ValueError(msg)
        if not (math.isfinite(self.lon) and -180.0 <= self.lon <= 180.0):
            msg = f"longitude must be a number in [-180, 180], got {self.lon!r}"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """The area an extract covers, in degrees."""

    south: float
    west: float
    north: float
    east: float

    def __post_init__(self) -> None:
        if self.south > self.north or self.west > self.east:
            msg = f"empty bounding box: {self}"
            raise ValueError(msg)

    def contains(self, location: Location, margin_deg: float = 0.0) -> bool:
        """Whether ``location`` lies inside the box grown by ``margin_deg`` on every side."""
        return (
            self.south - margin_deg <= location.lat <= self.north + margin_deg
            and self.west - margin_deg <= location.lon <= self.east + margin_deg
        )

    @property
    def center(self) -> Location:
        return Location((self.south + self.north) / 2.0, (self.west + self.east) / 2.0)


def haversine_m(a: Location, b: Location) -> float:
    """Great-circle distance in metres between two points."""
    r = 6_371_008.8
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp = p2 - p1
    dl = math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(h)))
