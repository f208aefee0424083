"""Addresses to points, OSM extracts to road graphs, road graphs to travel times.

The public road-network API: :func:`load_network` returns a :class:`RoadNetwork` for one travel profile
(``car``, ``ebike``, ``walk``; :mod:`geo.profiles`) that snaps locations (:class:`SnapResult`), builds
door-to-door travel-time matrices (:mod:`geo.matrix_engines`) and routes (:class:`Leg`). Rush-hour factors
live in :mod:`geo.traffic`, speeds in :mod:`geo.speeds`. The geocoder lives in
:mod:`geo.geocoder` (offline), :mod:`geo.online` (providers), :mod:`geo.corrections` and :mod:`geo.crs`.

The road-network names are imported on first use (PEP 562): geocoding alone does not pay for scipy and the OSM
graph readers, which take about 2 s to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from geo.errors import GeocodeError, GeoError, NetworkLoadError, UnreachablePairError, UnroutableError
from geo.types import BoundingBox, Location, haversine_m

if TYPE_CHECKING:
    from geo.network import Leg, RoadNetwork, SnapResult, load_network

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

_NETWORK_NAMES = frozenset({"Leg", "RoadNetwork", "SnapResult", "load_network"})


def __getattr__(name: str) -> Any:
    if name in _NETWORK_NAMES:
        from geo import network

        return getattr(network, name)
    msg = f"module 'geo' has no attribute {name!r}"
    raise AttributeError(msg)
