"""Read the drivable ways of an OSM extract as straight, directed edges.

``.osm.pbf`` files go through pyrosm, ``.osm`` and ``.osm.bz2`` through ``osmnx.graph_from_xml``. Both
give one straight segment per pair of consecutive way nodes; this module applies one drivable filter and
one one-way rule to both, so a network does not depend on the file format it came from. Clipped
extracts (ways referencing nodes outside the file) are read: the missing nodes are cut away by the readers.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from geo.errors import NetworkLoadError

#: ``highway`` values a car may use: the osmnx/pyrosm "drive_service" network. Service roads stay because
#: many doors (housing compounds, estates) are only reached through them; see :data:`EXCLUDED_SERVICE`.
DRIVABLE_HIGHWAYS: frozenset[str] = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "road",
        "service",
    }
)

#: ``service`` values that are not through roads for a visit: parking lanes, private driveways.
EXCLUDED_SERVICE: frozenset[str] = frozenset(
    {"parking_aisle", "parking", "driveway", "private", "emergency_access", "drive-through"}
)

#: ``access``-like values that close a way to cars.
CLOSED_ACCESS: frozenset[str] = frozenset({"no", "private"})

#: Tags checked for closure, most specific first: the first one present decides.
ACCESS_KEYS: tuple[str, ...] = ("motorcar", "motor_vehicle", "vehicle", "access")

#: ``oneway`` values meaning "one-way in the drawing direction".
ONEWAY_FORWARD: frozenset[str] = frozenset({"yes", "true", "1"})

#: ``oneway`` values meaning "one-way against the drawing direction".
ONEWAY_REVERSE: frozenset[str] = frozenset({"-1", "reverse"})

SUPPORTED_SUFFIXES: tuple[str, ...] = (".osm.pbf", ".osm", ".osm.bz2")


@dataclass(frozen=True, slots=True)
class RawNetwork:
    """Directed straight edges of the drivable ways, as read.

    Attributes
    ----------
    node_lat, node_lon
        float64 coordinates of every node an edge uses.
    edge_u, edge_v
        int64 indices into the node arrays: the edge runs from ``edge_u`` to ``edge_v``.
    highway, maxspeed
        Object arrays with the way's ``highway`` and raw ``maxspeed`` tags (``None`` when absent).
    """

    node_lat: np.ndarray
    node_lon: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    highway: np.ndarray
    maxspeed: np.ndarray


def _text(value: object) -> str | None:
    """A tag value as stripped lower-case text, ``None`` for missing values (None, NaN, empty)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (list, tuple)):
        value = ";".join(str(v) for v in value)
    text = str(value).strip().lower()
    return text or None


def is_closed(tags: Mapping[str, object]) -> bool:
    """Whether the access tags close a way to cars (``access=private;delivery`` counts as closed)."""
    for key in ACCESS_KEYS:
        value = _text(tags.get(key))
        if value is not None:
            return any(part.strip() in CLOSED_ACCESS for part in value.split(";"))
    return False


def is_drivable(tags: Mapping[str, object]) -> bool:
    """Whether a way with these tags belongs to the car network."""
    highway = _text(tags.get("highway"))
    if highway is None or highway not in DRIVABLE_HIGHWAYS:
        return False
    if _text(tags.get("area")) == "yes":
        return False
    service = _text(tags.get("service"))
    if service is not None and any(part.strip() in EXCLUDED_SERVICE for part in service.split(";")):
        return False
    return not is_closed(tags)


def directions(oneway: object, junction: object, highway: object) -> tuple[bool, bool]:
    """Which directions of a way may be driven.

    Parameters
    ----------
    oneway, junction, highway
        Raw tag values (``None``/NaN when absent).

    Returns
    -------
    tuple of bool
        ``(forward, backward)`` relative to the order of the way's nodes. ``oneway=yes/true/1`` is forward
        only, ``-1`` backward only, a roundabout (and a motorway) without ``oneway`` tag is forward only,
        anything else both ways.
    """
    value = _text(oneway)
    if value in ONEWAY_FORWARD:
        return True, False
    if value in ONEWAY_REVERSE:
        return False, True
    if value is None and (_text(junction) in {"roundabout", "circular"} or _text(highway) in {"motorway"}):
        return True, False
    return True, True


def read_osm(path: str | Path) -> RawNetwork:
    """Read the car network of an OSM extract.

    Parameters
    ----------
    path
        An ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` file.

    Returns
    -------
    RawNetwork
        The drivable directed edges.

    Raises
    ------
    NetworkLoadError
        When the file is missing, of an unknown type, unreadable, or holds no drivable way.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"OSM extract not found: {path}"
        raise NetworkLoadError(msg)
    name = path.name.lower()
    if name.endswith(".pbf"):
        raw = _read_pbf(path)
    elif name.endswith((".osm", ".osm.bz2", ".xml", ".xml.bz2")):
        raw = _read_xml(path)
    else:
        msg = f"unsupported OSM file type {path.name!r}: expected one of {', '.join(SUPPORTED_SUFFIXES)}"
        raise NetworkLoadError(msg)
    if raw.edge_u.size == 0:
        msg = f"no drivable road in {path}"
        raise NetworkLoadError(msg)
    return raw


def _column(frame: Any, name: str) -> list[object]:
    """A column of a data frame as a list, all ``None`` when the column is missing."""
    if name in frame.columns:
        return list(frame[name].to_numpy(dtype=object))
    return [None] * len(frame)


def _read_pbf(path: Path) -> RawNetwork:
    """Read a ``.osm.pbf`` extract with pyrosm's driving+service filter, then :func:`is_drivable`."""
    import pyrosm

    try:
        # pyrosm and geopandas warn about CRS and dtype details that do not concern us; pytest turns
        # warnings into errors, so they are silenced for these calls only.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            osm = pyrosm.OSM(str(path))
            result = osm.get_network(network_type="driving+service", nodes=True)
    except Exception as exc:
        msg = f"cannot read {path}: {exc}"
        raise NetworkLoadError(msg) from exc
    if result is None:
        msg = f"no drivable road in {path}"
        raise NetworkLoadError(msg)
    nodes, edges = result
    if nodes is None or edges is None or len(edges) == 0:
        msg = f"no drivable road in {path}"
        raise NetworkLoadError(msg)

    node_ids = nodes["id"].to_numpy(dtype=np.int64)
    order = np.argsort(node_ids)
    sorted_ids = node_ids[order]
    u_ids = edges["u"].to_numpy(dtype=np.int64)
    v_ids = edges["v"].to_numpy(dtype=np.int64)
    u_pos = np.clip(np.searchsorted(sorted_ids, u_ids), 0, sorted_ids.size - 1)
    v_pos = np.clip(np.searchsorted(sorted_ids, v_ids), 0, sorted_ids.size - 1)
    # Edges cut by the extract's boundary may name nodes the file does not hold: drop them.
    present = (sorted_ids[u_pos] == u_ids) & (sorted_ids[v_pos] == v_ids) & (u_ids != v_ids)
    u_idx = order[u_pos]
    v_idx = order[v_pos]

    tags = {
        key: _column(edges, key)
        for key in ("highway", "maxspeed", "oneway", "junction", "area", "service", *ACCESS_KEYS)
    }
    keep_fwd = np.zeros(len(edges), dtype=bool)
    keep_bwd = np.zeros(len(edges), dtype=bool)
    for i in range(len(edges)):
        if not present[i]:
            continue
        row = {key: values[i] for key, values in tags.items()}
        if not is_drivable(row):
            continue
        keep_fwd[i], keep_bwd[i] = directions(row["oneway"], row["junction"], row["highway"])

    highway = np.asarray([_text(h) for h in tags["highway"]], dtype=object)
    maxspeed = np.asarray([_text(m) for m in tags["maxspeed"]], dtype=object)
    return RawNetwork(
        node_lat=nodes["lat"].to_numpy(dtype=np.float64),
        node_lon=nodes["lon"].to_numpy(dtype=np.float64),
        edge_u=np.concatenate([u_idx[keep_fwd], v_idx[keep_bwd]]).astype(np.int64),
        edge_v=np.concatenate([v_idx[keep_fwd], u_idx[keep_bwd]]).astype(np.int64),
        highway=np.concatenate([highway[keep_fwd], highway[keep_bwd]]),
        maxspeed=np.concatenate([maxspeed[keep_fwd], maxspeed[keep_bwd]]),
    )


def _read_xml(path: Path) -> RawNetwork:
    """Read an ``.osm`` / ``.osm.bz2`` extract with osmnx and keep the drivable edges."""
    import osmnx

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graph = osmnx.graph_from_xml(path, simplify=False, retain_all=True)
    except Exception as exc:
        msg = f"cannot read {path}: {exc}"
        raise NetworkLoadError(msg) from exc

    node_index: dict[int, int] = {}
    lats: list[float] = []
    lons: list[float] = []
    us: list[int] = []
    vs: list[int] = []
    highways: list[str | None] = []
    maxspeeds: list[str | None] = []

    def index_of(node: int) -> int:
        idx = node_index.get(node)
        if idx is None:
            idx = len(lats)
            node_index[node] = idx
            data = graph.nodes[node]
            lats.append(float(data["y"]))
            lons.append(float(data["x"]))
        return idx

    for u, v, data in graph.edges(data=True):
        if u == v or not is_drivable(data):
            continue
        # osmnx already applied oneway=yes/-1 and roundabouts; a motorway without oneway tag is one-way
        # by OSM convention, so its reversed copy goes.
        if data.get("reversed") is True and _text(data.get("highway")) == "motorway" and not data.get("oneway"):
            continue
        us.append(index_of(u))
        vs.append(index_of(v))
        highways.append(_text(data.get("highway")))
        maxspeeds.append(_text(data.get("maxspeed")))

    return RawNetwork(
        node_lat=np.asarray(lats, dtype=np.float64),
        node_lon=np.asarray(lons, dtype=np.float64),
        edge_u=np.asarray(us, dtype=np.int64),
        edge_v=np.asarray(vs, dtype=np.int64),
        highway=np.asarray(highways, dtype=object),
        maxspeed=np.asarray(maxspeeds, dtype=object),
    )
