"""Addresses to points, OSM extracts to road graphs, road graphs to travel times.

The public road-network API: :func:`load_network` returns a :class:`RoadNetwork` for one travel profile
(``car``, ``ebike``, ``walk``; :mod:`geo.profiles`) that snaps locations (:class:`SnapResult`), builds
door-to-door travel-time matrices (:mod:`geo.matrix_engines`) and routes (:class:`Leg`). Rush-hour factors
live in :mod:`geo.traffic`, speeds in :mod:`geo.speeds`.
"""

from geo.errors import GeocodeError, GeoError, NetworkLoadError, UnreachablePairError, UnroutableError
from geo.network import Leg, RoadNetwork, SnapResult, load_network
from geo.types import BoundingBox, Location, haversine_m

__all__ = [
    "BoundingBox",
    "GeoError",
    "GeocodeError",
    "Leg",
    "Location",
    "NetworkLoadError",
    "RoadNetwork",
    "SnapResult",
    "UnreachablePairError",
    "UnroutableError",
    "haversine_m",
    "load_network",
]
