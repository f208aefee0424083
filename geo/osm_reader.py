"""Read the ways of an OSM extract as straight, directed edges for one travel profile.

``.osm.pbf`` files go through pyrosm (all ways with a ``highway`` tag), ``.osm`` and ``.osm.bz2`` through a
streaming XML parser of our own (so the raw ``oneway`` and access tags reach us untouched). Both give one
straight segment per pair of consecutive way nodes with the way's tags; :mod:`geo.profiles` then decides,
per profile, which segments are used and in which directions, so a network does not depend on the file
format it came from. Clipped extracts (ways referencing nodes outside the file) are read: the missing
nodes are cut away.
"""

from __future__ import annotations

import bz2
import itertools
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import iterparse

import numpy as np

from geo import profiles, speeds
from geo.errors import NetworkLoadError
from geo.profiles import ONEWAY_FORWARD, ONEWAY_REVERSE, TAG_KEYS

__all__ = [
    "DRIVABLE_HIGHWAYS",
    "ONEWAY_FORWARD",
    "ONEWAY_REVERSE",
    "SUPPORTED_SUFFIXES",
    "RawNetwork",
    "Segments",
    "directions",
    "is_drivable",
    "read_osm",
    "read_segments",
    "select",
]

#: ``highway`` values a car may use (see :data:`geo.profiles.CAR`).
DRIVABLE_HIGHWAYS: frozenset[str] = profiles.CAR.highways

SUPPORTED_SUFFIXES: tuple[str, ...] = (".osm.pbf", ".osm", ".osm.bz2")


@dataclass(frozen=True, slots=True)
class Segments:
    """Every straight piece of every ``highway`` way, undirected, with its way's tags.

    Attributes
    ----------
    node_lat, node_lon
        float64 coordinates of the nodes.
    seg_u, seg_v
        int64 node indices; the way is drawn from ``seg_u`` to ``seg_v``.
    tags
        Per tag key of :data:`geo.profiles.TAG_KEYS`, an object array (``None`` when absent).
    """

    node_lat: np.ndarray
    node_lon: np.ndarray
    seg_u: np.ndarray
    seg_v: np.ndarray
    tags: Mapping[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class RawNetwork:
    """Directed straight edges of one profile's ways, as read.

    Attributes
    ----------
    node_lat, node_lon
        float64 coordinates of every node an edge uses.
    edge_u, edge_v
        int64 indices into the node arrays: the edge runs from ``edge_u`` to ``edge_v``.
    highway, maxspeed
        Object arrays with the way's ``highway`` and raw ``maxspeed`` tags (``None`` when absent).
    speed_mps
        float64 planning speed of each edge for the profile.
    """

    node_lat: np.ndarray
    node_lon: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    highway: np.ndarray
    maxspeed: np.ndarray
    speed_mps: np.ndarray


def is_drivable(tags: Mapping[str, object]) -> bool:
    """Whether a way with these tags belongs to the car network."""
    return profiles.allows(profiles.CAR, tags)


def directions(oneway: object, junction: object, highway: object) -> tuple[bool, bool]:
    """Which directions of a way a car may drive: ``(forward, backward)``; see :func:`geo.profiles.directions`."""
    return profiles.directions(profiles.CAR, {"oneway": oneway, "junction": junction, "highway": highway})


def select(
    segments: Segments,
    profile: str = "car",
    country: str | None = None,
    speed_overrides: Mapping[str, float] | None = None,
) -> RawNetwork:
    """The directed edges of one travel profile, with their planning speeds.

    Parameters
    ----------
    segments
        From :func:`read_segments`.
    profile
        ``"car"``, ``"ebike"`` or ``"walk"``.
    country
        ISO code choosing the default speeds (see :func:`geo.speeds.speed_table`).
    speed_overrides
        Settings' speed overrides, km/h by ``highway`` value.
    """
    rules = profiles.get_profile(profile)
    n = segments.seg_u.size
    columns = [segments.tags[key] for key in TAG_KEYS]
    keep_fwd = np.zeros(n, dtype=bool)
    keep_bwd = np.zeros(n, dtype=bool)
    # Ways repeat their tags on every segment: decide each distinct tag combination once.
    seen: dict[tuple[object, ...], tuple[bool, bool]] = {}
    for i, combo in enumerate(zip(*columns, strict=True)):
        decided = seen.get(combo)
        if decided is None:
            row = dict(zip(TAG_KEYS, combo, strict=True))
            decided = profiles.directions(rules, row) if profiles.allows(rules, row) else (False, False)
            seen[combo] = decided
        keep_fwd[i], keep_bwd[i] = decided
    highway = segments.tags["highway"]
    maxspeed = segments.tags["maxspeed"]
    bicycle = segments.tags["bicycle"]
    table = speeds.speed_table(country, speed_overrides)
    fwd, bwd = np.flatnonzero(keep_fwd), np.flatnonzero(keep_bwd)
    hw = np.concatenate([highway[fwd], highway[bwd]])
    ms = np.concatenate([maxspeed[fwd], maxspeed[bwd]])
    bk = np.concatenate([bicycle[fwd], bicycle[bwd]])
    return RawNetwork(
        node_lat=segments.node_lat,
        node_lon=segments.node_lon,
        edge_u=np.concatenate([segments.seg_u[fwd], segments.seg_v[bwd]]).astype(np.int64),
        edge_v=np.concatenate([segments.seg_v[fwd], segments.seg_u[bwd]]).astype(np.int64),
        highway=hw,
        maxspeed=ms,
        speed_mps=speeds.edge_speeds_mps(hw, ms, profile, table, list(bk)),
    )


def read_osm(
    path: str | Path,
    profile: str = "car",
    country: str | None = None,
    speed_overrides: Mapping[str, float] | None = None,
) -> RawNetwork:
    """Read one travel profile's network of an OSM extract.

    Parameters
    ----------
    path
        An ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` file.
    profile, country, speed_overrides
        See :func:`select`.

    Returns
    -------
    RawNetwork
        The profile's directed edges.

    Raises
    ------
    NetworkLoadError
        When the file is missing, of an unknown type, unreadable, or holds no way of the profile.
    """
    raw = select(read_segments(path), profile, country, speed_overrides)
    if raw.edge_u.size == 0:
        msg = f"no road usable by profile {profile!r} in {path}"
        raise NetworkLoadError(msg)
    return raw


def read_segments(path: str | Path) -> Segments:
    """Read every ``highway`` way of an extract as straight segments with their tags.

    Raises
    ------
    NetworkLoadError
        When the file is missing, of an unknown type, unreadable, or holds no road at all.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"OSM extract not found: {path}"
        raise NetworkLoadError(msg)
    name = path.name.lower()
    if name.endswith(".pbf"):
        segments = _read_pbf(path)
    elif name.endswith((".osm", ".osm.bz2", ".xml", ".xml.bz2")):
        segments = _read_xml(path)
    else:
        msg = f"unsupported OSM file type {path.name!r}: expected one of {', '.join(SUPPORTED_SUFFIXES)}"
        raise NetworkLoadError(msg)
    if segments.seg_u.size == 0:
        msg = f"no drivable road in {path}"
        raise NetworkLoadError(msg)
    return segments


def _column(frame: Any, name: str) -> np.ndarray:
    """A tag column as an object array of lower-case text, all ``None`` when the column is missing."""
    if name not in frame.columns:
        return np.full(len(frame), None, dtype=object)
    return np.asarray([profiles.text(v) for v in frame[name].to_numpy(dtype=object)], dtype=object)


def _read_pbf(path: Path) -> Segments:
    """Read a ``.osm.pbf`` extract with pyrosm's ``all`` network (every way with a ``highway`` tag)."""
    import pyrosm

    try:
        # pyrosm and geopandas warn about CRS and dtype details that do not concern us; pytest turns
        # warnings into errors, so they are silenced for these calls only.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            osm = pyrosm.OSM(str(path))
            result = osm.get_network(network_type="all", nodes=True)
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
    keep = np.flatnonzero(present)
    return Segments(
        node_lat=nodes["lat"].to_numpy(dtype=np.float64),
        node_lon=nodes["lon"].to_numpy(dtype=np.float64),
        seg_u=order[u_pos][keep].astype(np.int64),
        seg_v=order[v_pos][keep].astype(np.int64),
        tags={key: _column(edges, key)[keep] for key in TAG_KEYS},
    )


def _read_xml(path: Path) -> Segments:
    """Stream an ``.osm`` / ``.osm.bz2`` file: nodes, then the ways that carry a ``highway`` tag."""
    node_pos: dict[int, int] = {}
    lats: list[float] = []
    lons: list[float] = []
    us: list[int] = []
    vs: list[int] = []
    tag_rows: list[dict[str, str]] = []
    way_of_seg: list[int] = []
    wanted = set(TAG_KEYS)
    try:
        opener = bz2.open if path.name.lower().endswith(".bz2") else open
        with opener(path, "rb") as handle:
            refs: list[int] = []
            tags: dict[str, str] = {}
            for _event, elem in iterparse(handle, events=("end",)):
                tag = elem.tag
                if tag == "node":
                    lat, lon = elem.get("lat"), elem.get("lon")
                    if lat is not None and lon is not None:
                        node_pos[int(elem.get("id", "0"))] = len(lats)
                        lats.append(float(lat))
                        lons.append(float(lon))
                    refs, tags = [], {}
                    elem.clear()
                elif tag == "nd":
                    refs.append(int(elem.get("ref", "0")))
                elif tag == "tag":
                    key = elem.get("k", "")
                    if key in wanted:
                        tags[key] = elem.get("v", "")
                elif tag == "way":
                    if "highway" in tags:
                        # Nodes outside a clipped extract are cut away; the way goes on across the gap only
                        # between nodes both present and consecutive in the file.
                        pos = [node_pos.get(r, -1) for r in refs]
                        for a, b in itertools.pairwise(pos):
                            if a >= 0 and b >= 0 and a != b:
                                us.append(a)
                                vs.append(b)
                                way_of_seg.append(len(tag_rows))
                        tag_rows.append(tags)
                    refs, tags = [], {}
                    elem.clear()
                elif tag == "relation":
                    refs, tags = [], {}
                    elem.clear()
    except Exception as exc:
        msg = f"cannot read {path}: {exc}"
        raise NetworkLoadError(msg) from exc
    way_idx = np.asarray(way_of_seg, dtype=np.int64)
    columns = {
        key: np.asarray([profiles.text(row.get(key)) for row in tag_rows] or [None], dtype=object) for key in TAG_KEYS
    }
    return Segments(
        node_lat=np.asarray(lats, dtype=np.float64),
        node_lon=np.asarray(lons, dtype=np.float64),
        seg_u=np.asarray(us, dtype=np.int64),
        seg_v=np.asarray(vs, dtype=np.int64),
        tags={key: col[way_idx] if way_idx.size else np.zeros(0, dtype=object) for key, col in columns.items()},
    )
