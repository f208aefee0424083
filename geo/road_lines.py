"""The roads around an area as a few simplified polylines: a light background for maps drawn without tiles.

The road segments of a network that touch the area are merged into lines at every node where exactly two of
them meet (GEOS ``line_merge``), then simplified (Douglas-Peucker, in metres), so a street is one short line
instead of dozens of segments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from geo.network import RoadNetwork
from geo.types import BoundingBox

__all__ = ["RoadLines", "grow_box", "road_lines"]

_M_PER_DEG_LAT = 111_195.0


@dataclass(frozen=True, slots=True, eq=False)
class RoadLines:
    """Polylines of road geometry in WGS-84, each an array of shape ``(n, 2)`` of ``(lat, lon)`` rows."""

    lines: tuple[np.ndarray, ...]

    @property
    def point_count(self) -> int:
        """All points of all lines."""
        return sum(int(line.shape[0]) for line in self.lines)


def grow_box(box: BoundingBox, margin_m: float) -> BoundingBox:
    """``box`` grown by ``margin_m`` metres on every side (clamped to valid degrees)."""
    dlat = margin_m / _M_PER_DEG_LAT
    dlon = margin_m / (_M_PER_DEG_LAT * max(math.cos(math.radians((box.south + box.north) / 2)), 1e-6))
    return BoundingBox(
        south=max(box.south - dlat, -90.0),
        west=max(box.west - dlon, -180.0),
        north=min(box.north + dlat, 90.0),
        east=min(box.east + dlon, 180.0),
    )


def road_lines(network: RoadNetwork, box: BoundingBox, tolerance_m: float = 5.0) -> RoadLines:
    """The network's roads with at least one end inside ``box``, merged and simplified.

    Parameters
    ----------
    network
        The road network the plan was made on.
    box
        The area to draw (callers add their margin, see `grow_box`).
    tolerance_m
        Douglas-Peucker tolerance: no point of the drawn line is farther than this from the road.

    Returns
    -------
    RoadLines
        The lines (none when no road touches the box).
    """
    lat, lon = network.segments()
    inside = (lat >= box.south) & (lat <= box.north) & (lon >= box.west) & (lon <= box.east)
    pick = inside.any(axis=1)
    if not pick.any():
        return RoadLines(())
    lat, lon = lat[pick], lon[pick]
    # Local metres around the box's centre, so the tolerance is a distance on the ground.
    lat0, lon0 = (box.south + box.north) / 2, (box.west + box.east) / 2
    m_lon = _M_PER_DEG_LAT * math.cos(math.radians(lat0))
    x, y = (lon - lon0) * m_lon, (lat - lat0) * _M_PER_DEG_LAT
    segments = shapely.linestrings(np.stack([x, y], axis=2))
    merged = shapely.line_merge(shapely.multilinestrings(segments))
    parts = shapely.get_parts(merged)
    simple = shapely.simplify(parts, tolerance_m, preserve_topology=False)
    lines = []
    for coords in (shapely.get_coordinates(line) for line in simple):
        if coords.shape[0] < 2:
            continue
        lines.append(np.stack([coords[:, 1] / _M_PER_DEG_LAT + lat0, coords[:, 0] / m_lon + lon0], axis=1))
    return RoadLines(tuple(lines))
