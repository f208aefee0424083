"""The drivable road network: build, snap, travel-time matrices and routes.

Model
-----
The extract is read as straight directed edges (:mod:`geo.osm_reader`), timed with :mod:`geo.speeds`, and
only the largest strongly connected component is routed on. For speed, chains of pass-through nodes (a
node with one way in and one way out, or two two-way neighbours) are contracted: Dijkstra runs on the
junctions only, and a point on a road is placed on its chain by its position in seconds from the chain's
start.

A location is snapped to the nearest straight edge of *all* the profile's roads (not only the routed part),
so that a point next to a road cut off from the rest is reported ``unreachable_island`` instead of being
snapped across the water to the main part. A road that is only cut off by its direction (a one-way stub, or
a street whose far end was clipped off the extract) still touches the routed part: a door there is placed
on the nearest routed road instead, and walked from there; so is a door whose nearest road is a fragment (a
courtyard path) when a routed road is at most :data:`ISLAND_MARGIN_M` farther. Travel time door to door is
the walk from the door to the road (capped), the drive from the projected point to the target's projected
point respecting one-ways (including the part of the edge still to drive), and the walk to the door.

Matrices run on the junction graph with one of :mod:`geo.matrix_engines` (default ``ch``, a contraction
hierarchy built with the network and cached with it); legs run scipy's Dijkstra with predecessors.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from geo import cache, osm_reader, profiles, speeds
from geo.country import country_at
from geo.profiles import PROFILES

__all__ = ["DEFAULT_MAX_SNAP_M", "PROFILES", "Leg", "RoadNetwork", "SnapResult", "build_arrays", "load_network"]
from geo.errors import NetworkLoadError, UnreachablePairError, UnroutableError
from geo.matrix_engines import ENGINES, CoreHierarchy, igraph_many_to_many, scipy_many_to_many
from geo.types import BoundingBox, Location

logger = logging.getLogger(__name__)

#: Walking speed between the door and the road, m/s.
WALK_SPEED_MPS = 1.2

#: Longest door walk counted, in seconds: beyond it the officers are assumed to park closer.
MAX_DOOR_WALK_S = 300.0

#: A point farther than this outside the extract's road bounding box is ``outside_region``.
REGION_MARGIN_M = 1000.0

#: A door whose nearest road is cut off from the routed part is placed on the nearest routed road when that
#: is at most this much farther (m); otherwise it is ``unreachable_island``.
ISLAND_MARGIN_M = 100.0

#: Upper bound on the points of a leg's geometry.
MAX_LEG_POINTS = 60

#: Smallest weight of a contracted edge (csgraph would read an explicit 0 as a missing edge).
_MIN_EDGE_S = 1e-6

#: Default farthest distance (m) from a door to a road: beyond it the door is ``off_network``, not snapped.
DEFAULT_MAX_SNAP_M = 500.0

STATUS_OK = "ok"
STATUS_OFF_NETWORK = "off_network"
STATUS_OUTSIDE_REGION = "outside_region"
STATUS_UNREACHABLE_ISLAND = "unreachable_island"

_EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True, eq=False)
class SnapResult:
    """Where a batch of locations meets the road network.

    Attributes
    ----------
    status
        Object array of str per location: ``"ok"``, ``"off_network"`` (no road within the snap
        distance), ``"outside_region"`` (outside the extract grown by about 1 km) or
        ``"unreachable_island"`` (the nearest road is not in the routed component).
    snapped
        The projection on the nearest road edge; ``None`` when off the network or outside the region.
    offset_m
        float64 distance in metres from the location to the road (NaN outside the region).
    """

    status: np.ndarray
    snapped: list[Location | None]
    offset_m: np.ndarray

    def ok_mask(self) -> np.ndarray:
        """Boolean array, True where the location can be routed."""
        return np.asarray(self.status == STATUS_OK, dtype=bool)

    def __len__(self) -> int:
        return int(self.status.shape[0])


@dataclass(frozen=True, slots=True)
class Leg:
    """One trip from door to door.

    Attributes
    ----------
    seconds
        Travel time, equal to the matching :meth:`RoadNetwork.matrix` entry.
    meters
        Distance travelled: both door walks plus the drive.
    points
        Simplified geometry along the roads (at most about :data:`MAX_LEG_POINTS`), from the start
        location to the end location.
    """

    seconds: float
    meters: float
    points: tuple[Location, ...]


@dataclass(frozen=True, slots=True)
class _Placement:
    """Internal snap output for routing: per location, the segment, fraction and chain options."""

    status: np.ndarray  # object (n,)
    offset_m: np.ndarray  # (n,)
    seg: np.ndarray  # (n,) segment index or -1
    frac: np.ndarray  # (n,) fraction from seg_a to seg_b
    lat: np.ndarray  # (n,) projected point
    lon: np.ndarray
    # Two options per location: driving along the segment's a->b edge, or its b->a edge.
    opt_edge: np.ndarray  # (n, 2) edge index or -1
    opt_chain: np.ndarray  # (n, 2) chain or -1
    opt_pos_s: np.ndarray  # (n, 2) seconds from chain start to the point (inf when no option)
    opt_pos_m: np.ndarray  # (n, 2) metres from chain start to the point
    exit_cost: np.ndarray  # (n, 2) seconds from the point to the chain's end junction (inf if none)
    entry_cost: np.ndarray  # (n, 2) seconds from the chain's start junction to the point (inf if none)
    exit_junction: np.ndarray  # (n, 2) junction index (0 when no option; its cost is inf)
    entry_junction: np.ndarray  # (n, 2)
    walk_s: np.ndarray  # (n,)


def _haversine_arrays(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Vectorised great-circle distance in metres."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))


# --------------------------------------------------------------------------------------------------------
# Build: raw edges -> arrays (everything cached is a plain numeric array)
# --------------------------------------------------------------------------------------------------------


def build_arrays(raw: osm_reader.RawNetwork) -> dict[str, np.ndarray]:
    """Turn raw directed edges into the arrays a :class:`RoadNetwork` is made of.

    Parameters
    ----------
    raw
        The directed edges of one profile's ways.

    Returns
    -------
    dict
        Numeric arrays by name, ready to cache with :func:`geo.cache.save_arrays`.
    """
    # Keep only the nodes some edge uses, renumbered densely.
    used, inverse = np.unique(np.concatenate([raw.edge_u, raw.edge_v]), return_inverse=True)
    n_edges_raw = raw.edge_u.size
    eu_all = inverse[:n_edges_raw].astype(np.int64)
    ev_all = inverse[n_edges_raw:].astype(np.int64)
    node_lat = raw.node_lat[used]
    node_lon = raw.node_lon[used]
    n_nodes = used.size

    length_all = _haversine_arrays(node_lat[eu_all], node_lon[eu_all], node_lat[ev_all], node_lon[ev_all])
    time_all = length_all / raw.speed_mps

    # Parallel ways between the same two nodes are the same straight segment: keep the fastest.
    key = eu_all * n_nodes + ev_all
    order = np.lexsort((time_all, key))
    _, first = np.unique(key[order], return_index=True)
    pick = order[first]
    edge_u, edge_v = eu_all[pick], ev_all[pick]
    edge_len, edge_time = length_all[pick], time_all[pick]
    n_edges = edge_u.size

    # Undirected segments for snapping, each with its a->b and b->a edge (or -1).
    seg_lo = np.minimum(edge_u, edge_v)
    seg_hi = np.maximum(edge_u, edge_v)
    seg_key_all = seg_lo * n_nodes + seg_hi
    seg_keys, seg_of_edge = np.unique(seg_key_all, return_inverse=True)
    seg_a = seg_keys // n_nodes
    seg_b = seg_keys % n_nodes
    seg_fwd = np.full(seg_keys.size, -1, dtype=np.int64)
    seg_bwd = np.full(seg_keys.size, -1, dtype=np.int64)
    is_fwd = edge_u == seg_lo
    seg_fwd[seg_of_edge[is_fwd]] = np.flatnonzero(is_fwd)
    seg_bwd[seg_of_edge[~is_fwd]] = np.flatnonzero(~is_fwd)

    # Largest strongly connected component.
    graph = csr_matrix((np.ones(n_edges), (edge_u, edge_v)), shape=(n_nodes, n_nodes))
    _, labels = connected_components(graph, directed=True, connection="strong")
    node_keep = labels == np.bincount(labels).argmax()
    edge_keep = node_keep[edge_u] & node_keep[edge_v]

    chains = _contract_chains(n_nodes, edge_u, edge_v, edge_len, edge_time, edge_keep)
    cu, cv, cw = _junction_edges(chains)
    hierarchy = CoreHierarchy.build(int(chains["junctions"].size), cu, cv, cw)

    return {
        "node_lat": node_lat,
        "node_lon": node_lon,
        "node_keep": node_keep,
        "edge_u": edge_u,
        "edge_v": edge_v,
        "edge_len": edge_len,
        "edge_time": edge_time,
        "seg_a": seg_a,
        "seg_b": seg_b,
        "seg_fwd": seg_fwd,
        "seg_bwd": seg_bwd,
        **chains,
        **hierarchy.to_arrays(),
    }


def _junction_edges(chains: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The contracted graph: one edge per chain kept by :func:`_contract_chains`, between junction indices."""
    pick = chains["cedge_chain"]
    node_junction = chains["node_junction"]
    u = node_junction[chains["chain_start"][pick]]
    v = node_junction[chains["chain_end"][pick]]
    return u, v, np.maximum(chains["chain_time"][pick], _MIN_EDGE_S)


def _contract_chains(
    n_nodes: int,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    edge_len: np.ndarray,
    edge_time: np.ndarray,
    edge_keep: np.ndarray,
) -> dict[str, np.ndarray]:
    """Group the kept edges into chains running from junction to junction.

    A node is a pass-through node when, in the kept graph, it has one edge in and one edge out to two
    different neighbours (a one-way street) or exactly two neighbours both connected both ways (a two-way
    street); every other node is a junction. Each chain is a maximal run of edges whose inner nodes are
    pass-through nodes. Runs in a loop without any junction get one of their nodes promoted to junction.
    """
    kept = np.flatnonzero(edge_keep)
    out_edges: list[list[int]] = [[] for _ in range(n_nodes)]
    in_nodes: list[set[int]] = [set() for _ in range(n_nodes)]
    for e in kept.tolist():
        out_edges[int(edge_u[e])].append(e)
        in_nodes[int(edge_v[e])].add(int(edge_u[e]))
    is_junction = np.zeros(n_nodes, dtype=bool)
    has_edges = np.zeros(n_nodes, dtype=bool)
    has_edges[edge_u[kept]] = True
    has_edges[edge_v[kept]] = True
    for x in np.flatnonzero(has_edges).tolist():
        outs = {int(edge_v[e]) for e in out_edges[x]}
        ins = in_nodes[x]
        one_way_through = len(outs) == 1 and len(ins) == 1 and outs != ins
        two_way_through = len(outs) == 2 and outs == ins
        is_junction[x] = not (one_way_through or two_way_through)

    chain_of_edge = np.full(edge_u.size, -1, dtype=np.int64)
    chain_edges: list[int] = []
    chain_ptr: list[int] = [0]
    chain_start: list[int] = []
    chain_end: list[int] = []

    def walk_from(junction: int) -> None:
        for first in out_edges[junction]:
            if chain_of_edge[first] >= 0:
                continue
            chain_id = len(chain_start)
            prev, e = junction, first
            while True:
                chain_of_edge[e] = chain_id
                chain_edges.append(e)
                cur = int(edge_v[e])
                if is_junction[cur]:
                    break
                nxt = [f for f in out_edges[cur] if int(edge_v[f]) != prev]
                prev, e = cur, nxt[0]
            chain_start.append(junction)
            chain_end.append(cur)
            chain_ptr.append(len(chain_edges))

    for j in np.flatnonzero(is_junction & has_edges).tolist():
        walk_from(j)
    # Loops made only of pass-through nodes: promote one node of each to junction.
    for e in kept.tolist():
        if chain_of_edge[e] < 0:
            is_junction[int(edge_u[e])] = True
            walk_from(int(edge_u[e]))

    flat = np.asarray(chain_edges, dtype=np.int64)
    ptr = np.asarray(chain_ptr, dtype=np.int64)
    n_chains = ptr.size - 1
    # Position of each edge's start within its chain, in seconds and metres.
    edge_pos_s = np.zeros(edge_u.size, dtype=np.float64)
    edge_pos_m = np.zeros(edge_u.size, dtype=np.float64)
    edge_rank = np.full(edge_u.size, -1, dtype=np.int64)
    chain_time: np.ndarray = np.zeros(n_chains, dtype=np.float64)
    chain_len: np.ndarray = np.zeros(n_chains, dtype=np.float64)
    if flat.size:
        chain_idx = np.repeat(np.arange(n_chains), np.diff(ptr))
        cum_s = np.cumsum(edge_time[flat])
        cum_m = np.cumsum(edge_len[flat])
        base_s = np.concatenate([[0.0], cum_s])[ptr[:-1]]
        base_m = np.concatenate([[0.0], cum_m])[ptr[:-1]]
        edge_pos_s[flat] = cum_s - edge_time[flat] - base_s[chain_idx]
        edge_pos_m[flat] = cum_m - edge_len[flat] - base_m[chain_idx]
        edge_rank[flat] = np.arange(flat.size)
        chain_time = np.bincount(chain_idx, weights=edge_time[flat], minlength=n_chains)
        chain_len = np.bincount(chain_idx, weights=edge_len[flat], minlength=n_chains)

    starts = np.asarray(chain_start, dtype=np.int64)
    ends = np.asarray(chain_end, dtype=np.int64)
    junctions = np.flatnonzero(is_junction & has_edges)
    node_junction = np.full(n_nodes, -1, dtype=np.int64)
    node_junction[junctions] = np.arange(junctions.size)

    # Contracted graph: one edge per chain between distinct junctions, the fastest of parallel chains.
    ju, jv = node_junction[starts], node_junction[ends]
    proper = np.flatnonzero(ju != jv)
    ckey = ju[proper] * junctions.size + jv[proper]
    corder = np.lexsort((chain_time[proper], ckey))
    _, cfirst = np.unique(ckey[corder], return_index=True)
    cpick = proper[corder[cfirst]]

    return {
        "edge_chain": chain_of_edge,
        "edge_rank": edge_rank,
        "edge_pos_s": edge_pos_s,
        "edge_pos_m": edge_pos_m,
        "chain_ptr": ptr,
        "chain_edges": flat,
        "chain_start": starts,
        "chain_end": ends,
        "chain_time": chain_time,
        "chain_len": chain_len,
        "junctions": junctions,
        "node_junction": node_junction,
        "cedge_chain": cpick,
    }


# --------------------------------------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------------------------------------


class RoadNetwork:
    """A routable road network built from an OSM extract; see :func:`load_network`.

    Parameters
    ----------
    arrays
        The arrays made by :func:`build_arrays` (possibly loaded from the cache).
    profile
        The travel profile the arrays were built for.
    """

    def __init__(
        self, arrays: Mapping[str, np.ndarray], profile: str = "car", max_snap_m: float = DEFAULT_MAX_SNAP_M
    ) -> None:
        if not (math.isfinite(max_snap_m) and max_snap_m > 0):
            msg = f"max_snap_m must be a positive number of metres, got {max_snap_m!r}"
            raise ValueError(msg)
        self.profile = profile
        self.max_snap_m = float(max_snap_m)
        a = {name: np.asarray(value) for name, value in arrays.items()}
        self.country: str | None = str(a["country"]) if "country" in a and str(a["country"]) else None
        self._node_lat: np.ndarray = a["node_lat"]
        self._node_lon: np.ndarray = a["node_lon"]
        self._node_keep: np.ndarray = a["node_keep"].astype(bool)
        self._edge_u: np.ndarray = a["edge_u"]
        self._edge_v: np.ndarray = a["edge_v"]
        self._edge_len: np.ndarray = a["edge_len"]
        self._edge_time: np.ndarray = a["edge_time"]
        self._seg_a: np.ndarray = a["seg_a"]
        self._seg_b: np.ndarray = a["seg_b"]
        self._seg_fwd: np.ndarray = a["seg_fwd"]
        self._seg_bwd: np.ndarray = a["seg_bwd"]
        self._edge_chain: np.ndarray = a["edge_chain"]
        self._edge_rank: np.ndarray = a["edge_rank"]
        self._edge_pos_s: np.ndarray = a["edge_pos_s"]
        self._edge_pos_m: np.ndarray = a["edge_pos_m"]
        self._chain_ptr: np.ndarray = a["chain_ptr"]
        self._chain_edges: np.ndarray = a["chain_edges"]
        self._chain_start: np.ndarray = a["chain_start"]
        self._chain_end: np.ndarray = a["chain_end"]
        self._chain_time: np.ndarray = a["chain_time"]
        self._chain_len: np.ndarray = a["chain_len"]
        self._junctions: np.ndarray = a["junctions"]
        self._node_junction: np.ndarray = a["node_junction"]
        cedge_chain: np.ndarray = a["cedge_chain"]

        self._bbox = BoundingBox(
            south=float(self._node_lat.min()),
            west=float(self._node_lon.min()),
            north=float(self._node_lat.max()),
            east=float(self._node_lon.max()),
        )
        # Local equirectangular projection around the centre: metres, good to well under 1% in a city.
        centre = self._bbox.center
        self._lat0 = centre.lat
        self._lon0 = centre.lon
        self._m_per_deg_lat = math.radians(1.0) * _EARTH_RADIUS_M
        self._m_per_deg_lon = self._m_per_deg_lat * math.cos(math.radians(centre.lat))
        x, y = self._project(self._node_lat, self._node_lon)
        self._node_x, self._node_y = x, y
        lines = shapely.linestrings(
            np.stack(
                [
                    np.stack([x[self._seg_a], y[self._seg_a]], axis=1),
                    np.stack([x[self._seg_b], y[self._seg_b]], axis=1),
                ],
                axis=1,
            )
        )
        self._tree = shapely.STRtree(lines)
        self._seg_keep = self._node_keep[self._seg_a] & self._node_keep[self._seg_b]
        self._kept_seg = np.flatnonzero(self._seg_keep)
        self._kept_tree = shapely.STRtree(lines[self._kept_seg])
        self._seg_touches_main = self._weakly_joined_to_routed()[self._seg_a]

        n_j = self._junctions.size
        self._cedge_u, self._cedge_v, weights = _junction_edges(a)
        self._cedge_chain = cedge_chain
        self._graph = csr_matrix((weights, (self._cedge_u, self._cedge_v)), shape=(n_j, n_j))
        self._hierarchy = (
            CoreHierarchy.from_arrays(a)
            if "ch_n" in a
            else CoreHierarchy.build(int(n_j), self._cedge_u, self._cedge_v, weights)
        )
        #: The matrix engine, one of :data:`geo.matrix_engines.ENGINES`.
        self.engine = "ch"
        # Sorted (u, v) keys to find the chain behind a step of a junction path.
        self._cedge_key = self._cedge_u * n_j + self._cedge_v
        self._cedge_order = np.argsort(self._cedge_key)

    def _weakly_joined_to_routed(self) -> np.ndarray:
        """Per node: whether it is joined to the routed part when one-way restrictions are ignored."""
        n = self._node_lat.size
        graph = csr_matrix((np.ones(self._edge_u.size), (self._edge_u, self._edge_v)), shape=(n, n))
        _, labels = connected_components(graph, directed=True, connection="weak")
        routed_labels = np.unique(labels[self._node_keep])
        return np.isin(labels, routed_labels)

    # -- properties --------------------------------------------------------------------------------------

    @property
    def bbox(self) -> BoundingBox:
        """Extent of the extract's drivable road nodes."""
        return self._bbox

    def segments(self) -> tuple[np.ndarray, np.ndarray]:
        """Every straight road segment of the profile (routed or not), once per pair of nodes.

        Returns
        -------
        tuple of numpy.ndarray
            ``lat`` and ``lon``, each of shape ``(n, 2)``: the segment's two ends (for drawing the roads).
        """
        lat = np.stack([self._node_lat[self._seg_a], self._node_lat[self._seg_b]], axis=1)
        lon = np.stack([self._node_lon[self._seg_a], self._node_lon[self._seg_b]], axis=1)
        return lat, lon

    @property
    def node_count(self) -> int:
        """Number of road nodes (as read) in the routed, strongly connected part."""
        return int(self._node_keep.sum())

    @property
    def junction_count(self) -> int:
        """Number of nodes Dijkstra runs on after contracting pass-through nodes."""
        return int(self._junctions.size)

    def __repr__(self) -> str:
        return (
            f"RoadNetwork(profile={self.profile!r}, nodes={self.node_count}, "
            f"junctions={self.junction_count}, bbox={self._bbox})"
        )

    # -- projection helpers ----------------------------------------------------------------------------

    def _project(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Degrees to local metres."""
        return (lon - self._lon0) * self._m_per_deg_lon, (lat - self._lat0) * self._m_per_deg_lat

    def _unproject(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Local metres to degrees (lat, lon)."""
        return y / self._m_per_deg_lat + self._lat0, x / self._m_per_deg_lon + self._lon0

    # -- snapping ----------------------------------------------------------------------------------------

    def snap(self, locations: Sequence[Location], max_snap_m: float | None = None) -> SnapResult:
        """Place locations on the nearest road edge.

        Parameters
        ----------
        locations
            The points to place.
        max_snap_m
            Farthest a location may be from a road and still be routed; default the network's
            ``max_snap_m`` (what :meth:`matrix` and :meth:`legs` use).

        Returns
        -------
        SnapResult
            Per location: status, projected point and door-to-road distance.
        """
        p = self._place(locations, max_snap_m)
        snapped: list[Location | None] = [
            Location(float(lat), float(lon)) if seg >= 0 else None
            for lat, lon, seg in zip(p.lat.tolist(), p.lon.tolist(), p.seg.tolist(), strict=True)
        ]
        return SnapResult(status=p.status, snapped=snapped, offset_m=p.offset_m)

    def _place(self, locations: Sequence[Location], max_snap_m: float | None = None) -> _Placement:
        """Snap and work out the driving options of every location (vectorised)."""
        if max_snap_m is None:
            max_snap_m = self.max_snap_m
        n = len(locations)
        lat = np.fromiter((loc.lat for loc in locations), dtype=np.float64, count=n)
        lon = np.fromiter((loc.lon for loc in locations), dtype=np.float64, count=n)
        status = np.full(n, STATUS_OUTSIDE_REGION, dtype=object)
        offset = np.full(n, np.nan)
        seg = np.full(n, -1, dtype=np.int64)
        frac = np.zeros(n)

        b = self._bbox
        margin_lat = REGION_MARGIN_M / self._m_per_deg_lat
        margin_lon = REGION_MARGIN_M / self._m_per_deg_lon
        inside = (
            (lat >= b.south - margin_lat)
            & (lat <= b.north + margin_lat)
            & (lon >= b.west - margin_lon)
            & (lon <= b.east + margin_lon)
        )
        idx = np.flatnonzero(inside)
        if idx.size:
            px, py = self._project(lat[idx], lon[idx])
            points = shapely.points(px, py)
            pairs = self._tree.query_nearest(points, all_matches=False)
            nearest = np.empty(idx.size, dtype=np.int64)
            nearest[pairs[0]] = pairs[1]
            t, dist = self._segment_projection(nearest, px, py)
            # Nearest road cut off only by its direction (same weak component as the routed part): place
            # the door on the nearest routed road. A separate weak component is a true island, unless a
            # routed road is barely farther (a courtyard footpath fragment beside a street).
            cut_off = np.flatnonzero(~self._seg_keep[nearest])
            if cut_off.size:
                kept_pairs = self._kept_tree.query_nearest(points[cut_off], all_matches=False)
                alt = np.empty(cut_off.size, dtype=np.int64)
                alt[kept_pairs[0]] = self._kept_seg[kept_pairs[1]]
                alt_t, alt_dist = self._segment_projection(alt, px[cut_off], py[cut_off])
                use = self._seg_touches_main[nearest[cut_off]] | (alt_dist - dist[cut_off] <= ISLAND_MARGIN_M)
                moved = cut_off[use]
                nearest[moved], t[moved], dist[moved] = alt[use], alt_t[use], alt_dist[use]
            offset[idx] = dist
            near = dist <= max_snap_m
            keep = self._seg_keep[nearest]
            status[idx] = np.where(near, np.where(keep, STATUS_OK, STATUS_UNREACHABLE_ISLAND), STATUS_OFF_NETWORK)
            seg[idx[near]] = nearest[near]
            frac[idx] = t

        has_seg = seg >= 0
        s = np.where(has_seg, seg, 0)
        a_node, b_node = self._seg_a[s], self._seg_b[s]
        proj_lat = np.where(
            has_seg, self._node_lat[a_node] + frac * (self._node_lat[b_node] - self._node_lat[a_node]), np.nan
        )
        proj_lon = np.where(
            has_seg, self._node_lon[a_node] + frac * (self._node_lon[b_node] - self._node_lon[a_node]), np.nan
        )

        # Driving options: along the a->b edge the point sits at `frac`, along b->a at `1 - frac`.
        ok = status == STATUS_OK
        opt_edge = np.stack([self._seg_fwd[s], self._seg_bwd[s]], axis=1)
        opt_edge[~ok] = -1
        opt_frac = np.stack([frac, 1.0 - frac], axis=1)
        valid = opt_edge >= 0
        e = np.where(valid, opt_edge, 0)
        chain = np.where(valid, self._edge_chain[e], -1)
        c = np.where(valid, chain, 0)
        pos_s = np.where(valid, self._edge_pos_s[e] + opt_frac * self._edge_time[e], np.inf)
        pos_m = np.where(valid, self._edge_pos_m[e] + opt_frac * self._edge_len[e], np.inf)
        exit_cost = np.where(valid, np.maximum(self._chain_time[c] - pos_s, 0.0), np.inf)
        entry_cost = pos_s.copy()
        exit_junction = np.where(valid, self._node_junction[self._chain_end[c]], 0)
        entry_junction = np.where(valid, self._node_junction[self._chain_start[c]], 0)
        walk = np.where(ok, np.minimum(offset / WALK_SPEED_MPS, MAX_DOOR_WALK_S), 0.0)
        return _Placement(
            status=status,
            offset_m=offset,
            seg=seg,
            frac=frac,
            lat=proj_lat,
            lon=proj_lon,
            opt_edge=opt_edge,
            opt_chain=chain,
            opt_pos_s=pos_s,
            opt_pos_m=pos_m,
            exit_cost=exit_cost,
            entry_cost=entry_cost,
            exit_junction=exit_junction,
            entry_junction=entry_junction,
            walk_s=walk,
        )

    def _segment_projection(self, segs: np.ndarray, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fraction along each segment of the nearest point to (px, py), and the distance to it."""
        ax, ay = self._node_x[self._seg_a[segs]], self._node_y[self._seg_a[segs]]
        bx, by = self._node_x[self._seg_b[segs]], self._node_y[self._seg_b[segs]]
        dx, dy = bx - ax, by - ay
        len2 = dx * dx + dy * dy
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(len2 > 0, ((px - ax) * dx + (py - ay) * dy) / len2, 0.0)
        t = np.clip(t, 0.0, 1.0)
        dist = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
        return t, dist

    def _require_ok(self, p: _Placement) -> None:
        """Raise :class:`UnroutableError` naming every location that is not routable."""
        bad = np.flatnonzero(p.status != STATUS_OK)
        if bad.size:
            shown = ", ".join(f"{i} ({p.status[i]})" for i in bad[:20].tolist())
            more = f" and {bad.size - 20} more" if bad.size > 20 else ""
            msg = f"cannot route locations at indices {shown}{more}"
            raise UnroutableError(msg, tuple(bad.tolist()), tuple(str(c) for c in p.status[bad]))

    # -- travel times ------------------------------------------------------------------------------------

    def _drive(
        self,
        src: _Placement,
        src_rows: np.ndarray,
        dst: _Placement,
        dst_idx: np.ndarray,
        dist: np.ndarray,
        row_of: np.ndarray,
    ) -> np.ndarray:
        """Driving seconds from every ``src_rows`` location to every ``dst_idx`` location.

        ``dist`` holds Dijkstra rows from junctions, ``row_of[junction]`` the row of a junction.
        Returns an array of shape (len(src_rows), len(dst_idx)), same-chain shortcuts included.
        """
        best = np.full((src_rows.size, dst_idx.size), np.inf)
        for k in range(2):
            exit_cost = src.exit_cost[src_rows, k]
            rows = dist[row_of[src.exit_junction[src_rows, k]]]
            for m in range(2):
                cols = dst.entry_junction[dst_idx, m]
                cand = exit_cost[:, None] + rows[:, cols] + dst.entry_cost[dst_idx, m][None, :]
                np.minimum(best, cand, out=best)
        self._same_chain(src, src_rows, dst, dst_idx, best)
        return best

    @staticmethod
    def _same_chain(
        src: _Placement, src_rows: np.ndarray, dst: _Placement, dst_idx: np.ndarray, best: np.ndarray
    ) -> None:
        """Lower ``best`` where the target lies further along the same chain (no junction in between)."""
        chains = np.concatenate([src.opt_chain[src_rows].ravel(), dst.opt_chain[dst_idx].ravel()])
        pos = np.concatenate([src.opt_pos_s[src_rows].ravel(), dst.opt_pos_s[dst_idx].ravel()])
        n_src = src_rows.size * 2
        owner = np.concatenate([np.repeat(np.arange(src_rows.size), 2), np.repeat(np.arange(dst_idx.size), 2)])
        is_src = np.arange(chains.size) < n_src
        valid = chains >= 0
        # Only chains holding both a source and a target option can give a shortcut.
        src_chains = np.unique(chains[is_src & valid])
        dst_chains = np.unique(chains[~is_src & valid])
        shared = np.intersect1d(src_chains, dst_chains, assume_unique=True)
        if shared.size == 0:
            return
        s_sel = np.flatnonzero(is_src & np.isin(chains, shared))
        d_sel = np.flatnonzero(~is_src & np.isin(chains, shared))
        s_sel = s_sel[np.argsort(chains[s_sel], kind="stable")]
        d_sel = d_sel[np.argsort(chains[d_sel], kind="stable")]
        # For each source option, every target option on the same chain (chains sorted on both sides).
        d_chain = chains[d_sel]
        lo = np.searchsorted(d_chain, chains[s_sel], side="left")
        hi = np.searchsorted(d_chain, chains[s_sel], side="right")
        counts = hi - lo
        pair_s = np.repeat(s_sel, counts)
        starts = np.repeat(lo, counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        pair_d = d_sel[starts + offsets]
        gain = pos[pair_d] - pos[pair_s]
        ahead = gain >= 0
        np.minimum.at(best, (owner[pair_s[ahead]], owner[pair_d[ahead]]), gain[ahead])

    def matrix(self, locations: Sequence[Location]) -> np.ndarray:
        """Door-to-door travel times between all pairs of locations.

        Parameters
        ----------
        locations
            The stops, all of which must snap with status ``"ok"``.

        Returns
        -------
        numpy.ndarray
            float64 seconds, shape (N, N); entry ``[i, j]`` is the walk from door i to its road, the drive
            (one-ways respected) and the walk to door j. The diagonal, and pairs of identical
            locations, are 0.

        Raises
        ------
        UnroutableError
            When a location does not snap with status ``"ok"``; the message and ``indices``/``codes`` name
            the stops and why.
        UnreachablePairError
            When stops placed on the network cannot reach each other; ``pairs`` lists them. (Never a
            silently huge number: the solver would route around it without saying why.)
        """
        p = self._place(locations)
        self._require_ok(p)
        n = len(locations)
        if n == 0:
            return np.zeros((0, 0))
        drive = self._many_to_many(p.exit_junction, p.exit_cost, p.entry_junction, p.entry_cost)
        everyone = np.arange(n)
        self._same_chain(p, everyone, p, everyone, drive)
        total = p.walk_s[:, None] + drive + p.walk_s[None, :]
        lat = np.fromiter((loc.lat for loc in locations), dtype=np.float64, count=n)
        lon = np.fromiter((loc.lon for loc in locations), dtype=np.float64, count=n)
        total[(lat[:, None] == lat[None, :]) & (lon[:, None] == lon[None, :])] = 0.0
        if not np.isfinite(total).all():
            pairs = tuple((int(i), int(j)) for i, j in np.argwhere(~np.isfinite(total)).tolist())
            shown = ", ".join(f"{i}->{j}" for i, j in pairs[:20])
            more = f" and {len(pairs) - 20} more" if len(pairs) > 20 else ""
            msg = f"no {self.profile} route between locations {shown}{more}"
            raise UnreachablePairError(msg, pairs)
        return total

    def _many_to_many(
        self, src_node: np.ndarray, src_cost: np.ndarray, dst_node: np.ndarray, dst_cost: np.ndarray
    ) -> np.ndarray:
        """Junction-graph travel times with the configured engine (see :mod:`geo.matrix_engines`)."""
        if self.engine == "ch":
            return self._hierarchy.many_to_many(src_node, src_cost, dst_node, dst_cost)
        if self.engine == "scipy":
            return scipy_many_to_many(self._graph, src_node, src_cost, dst_node, dst_cost)
        if self.engine == "igraph":
            return igraph_many_to_many(self._graph, src_node, src_cost, dst_node, dst_cost)
        msg = f"unknown matrix engine {self.engine!r}: expected one of {', '.join(ENGINES)}"
        raise ValueError(msg)

    # -- routes ------------------------------------------------------------------------------------------

    def legs(self, locations: Sequence[Location]) -> list[Leg]:
        """The consecutive legs of a sequence of stops (one Dijkstra per distinct start).

        Parameters
        ----------
        locations
            The stops in visiting order.

        Returns
        -------
        list of Leg
            ``len(locations) - 1`` legs; leg i goes from stop i to stop i + 1 with the same seconds as
            ``matrix(locations)[i, i + 1]``.

        Raises
        ------
        UnroutableError
            When a location does not snap with status ``"ok"``.
        """
        p = self._place(locations)
        self._require_ok(p)
        n = len(locations)
        if n < 2:
            return []
        starts = np.arange(n - 1)
        exits = p.exit_junction[starts][np.isfinite(p.exit_cost[starts])]
        sources = np.unique(exits)
        # The matrix engine bounds every leg's drive: Dijkstra need not search farther (on a province-sized
        # graph a district's legs then settle a small part of it). The bound is exact; the margin is for rounding.
        drive = self._many_to_many(p.exit_junction[:-1], p.exit_cost[:-1], p.entry_junction[1:], p.entry_cost[1:])
        bound = np.diagonal(drive)
        limit = float(bound.max()) * (1.0 + 1e-9) + 1.0 if np.isfinite(bound).all() else np.inf
        dist, pred = dijkstra(self._graph, directed=True, indices=sources, return_predecessors=True, limit=limit)
        row_of = np.zeros(self._junctions.size, dtype=np.int64)
        row_of[sources] = np.arange(sources.size)
        return [self._leg(p, i, i + 1, locations, dist, pred, row_of) for i in range(n - 1)]

    def leg(self, a: Location, b: Location) -> Leg:
        """The trip from ``a`` to ``b`` along the roads; see :meth:`legs`."""
        return self.legs([a, b])[0]

    def route(self, a: Location, b: Location) -> list[Location]:
        """The simplified road geometry from ``a`` to ``b`` (``list(leg(a, b).points)``)."""
        return list(self.leg(a, b).points)

    def _leg(
        self,
        p: _Placement,
        i: int,
        j: int,
        locations: Sequence[Location],
        dist: np.ndarray,
        pred: np.ndarray,
        row_of: np.ndarray,
    ) -> Leg:
        """Assemble one leg: the same arithmetic as :meth:`matrix`, then the path behind it."""
        a, b = locations[i], locations[j]
        if a == b:
            return Leg(seconds=0.0, meters=0.0, points=(a, b))
        src, dst = np.asarray([i]), np.asarray([j])
        drive = float(self._drive(p, src, p, dst, dist, row_of)[0, 0])
        seconds = float(p.walk_s[i] + drive + p.walk_s[j])

        # Which option produced `drive`: same chain, or exit k -> junction path -> entry m.
        best_choice: tuple[int, int, bool] | None = None
        for k in range(2):
            for m in range(2):
                ck, cm = p.opt_chain[i, k], p.opt_chain[j, m]
                if ck >= 0 and ck == cm:
                    gain = p.opt_pos_s[j, m] - p.opt_pos_s[i, k]
                    if gain >= 0 and gain == drive:
                        best_choice = (k, m, True)
                if best_choice is None and np.isfinite(p.exit_cost[i, k]):
                    row = row_of[p.exit_junction[i, k]]
                    via = p.exit_cost[i, k] + dist[row, p.entry_junction[j, m]] + p.entry_cost[j, m]
                    if via == drive:
                        best_choice = (k, m, False)
        if best_choice is None:  # pragma: no cover - the minimum is always one of the candidates
            msg = f"no drive from {a} to {b}"
            raise UnroutableError(msg)
        k, m, direct = best_choice

        node_path: list[int] = []
        e_i, e_j = int(p.opt_edge[i, k]), int(p.opt_edge[j, m])
        if direct:
            rank_i, rank_j = self._edge_rank[e_i], self._edge_rank[e_j]
            node_path.extend(self._edge_v[self._chain_edges[rank_i:rank_j]].tolist())
            drive_m = p.opt_pos_m[j, m] - p.opt_pos_m[i, k]
        else:
            c_i, c_j = int(p.opt_chain[i, k]), int(p.opt_chain[j, m])
            # Rest of the start chain, from the point to its end junction.
            end_i = self._chain_ptr[c_i + 1]
            node_path.extend(self._edge_v[self._chain_edges[self._edge_rank[e_i] : end_i]].tolist())
            drive_m = self._chain_len[c_i] - p.opt_pos_m[i, k]
            # Junction path between the chains.
            row = row_of[p.exit_junction[i, k]]
            target = int(p.entry_junction[j, m])
            steps = [target]
            while steps[-1] != int(p.exit_junction[i, k]):
                steps.append(int(pred[row, steps[-1]]))
            steps.reverse()
            for chain in self._chains_between(np.asarray(steps, dtype=np.int64)).tolist():
                lo, hi = self._chain_ptr[chain], self._chain_ptr[chain + 1]
                node_path.extend(self._edge_v[self._chain_edges[lo:hi]].tolist())
                drive_m += self._chain_len[chain]
            # Start of the target chain, up to the edge the point is on.
            start_j = self._chain_ptr[c_j]
            node_path.extend(self._edge_v[self._chain_edges[start_j : self._edge_rank[e_j]]].tolist())
            drive_m += p.opt_pos_m[j, m]

        nodes = np.asarray(node_path, dtype=np.int64)
        lats = np.concatenate([[a.lat, p.lat[i]], self._node_lat[nodes], [p.lat[j], b.lat]])
        lons = np.concatenate([[a.lon, p.lon[i]], self._node_lon[nodes], [p.lon[j], b.lon]])
        meters = float(p.offset_m[i] + drive_m + p.offset_m[j])
        keep = self._simplify(lats, lons)
        points = tuple(Location(float(la), float(lo)) for la, lo in zip(lats[keep], lons[keep], strict=True))
        # The exact endpoints, whatever the simplification did.
        points = (a, *points[1:-1], b)
        return Leg(seconds=seconds, meters=meters, points=points)

    def _chains_between(self, steps: np.ndarray) -> np.ndarray:
        """The chain behind each consecutive pair of a junction path."""
        if steps.size < 2:
            return np.zeros(0, dtype=np.int64)
        keys = steps[:-1] * self._junctions.size + steps[1:]
        sorted_keys = self._cedge_key[self._cedge_order]
        where = self._cedge_order[np.searchsorted(sorted_keys, keys)]
        return np.asarray(self._cedge_chain[where], dtype=np.int64)

    def _simplify(self, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
        """Indices of the points kept by Douglas-Peucker (in metres), at most :data:`MAX_LEG_POINTS`."""
        x, y = self._project(lats, lons)
        # Drop exact repeats first (the door and its projection can coincide, chains share nodes).
        distinct = np.concatenate([[True], (np.diff(x) != 0) | (np.diff(y) != 0)])
        distinct[-1] = True
        base = np.flatnonzero(distinct)
        if base.size <= MAX_LEG_POINTS:
            return base
        tolerance = 1.0
        while True:
            kept = _douglas_peucker(x[base], y[base], tolerance)
            if kept.size <= MAX_LEG_POINTS:
                return base[kept]
            tolerance *= 2.0


def _douglas_peucker(x: np.ndarray, y: np.ndarray, tolerance: float) -> np.ndarray:
    """Indices kept by the Douglas-Peucker simplification of a polyline (iterative)."""
    n = x.size
    keep = np.zeros(n, dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        lo, hi = stack.pop()
        if hi - lo < 2:
            continue
        dx, dy = x[hi] - x[lo], y[hi] - y[lo]
        px, py = x[lo + 1 : hi] - x[lo], y[lo + 1 : hi] - y[lo]
        norm = math.hypot(dx, dy)
        d = np.abs(px * dy - py * dx) / norm if norm > 0 else np.hypot(px, py)
        worst = int(np.argmax(d))
        if d[worst] > tolerance:
            mid = lo + 1 + worst
            keep[mid] = True
            stack.append((lo, mid))
            stack.append((mid, hi))
    return np.flatnonzero(keep)


def load_network(
    path: str | Path,
    profile: str = "car",
    cache_dir: str | Path | None = None,
    *,
    country: str | None = None,
    speed_overrides: Mapping[str, float] | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
) -> RoadNetwork:
    """Load one travel profile's road network from an OSM extract, through the on-disk cache.

    Parameters
    ----------
    path
        An ``.osm.pbf`` (read with pyrosm), ``.osm`` or ``.osm.bz2`` extract.
    profile
        The travel profile: ``"car"``, ``"ebike"`` or ``"walk"`` (see :mod:`geo.profiles`).
    cache_dir
        Where built networks are cached; default ``$DOORSTEP_CACHE_DIR`` or ``~/.cache/doorstep``.
    country
        ISO code choosing the default speeds; ``None``: the country at the extract's centre.
    speed_overrides
        km/h by ``highway`` value (and ``"ebike"``, ``"walk"``), over the country's defaults.
    max_snap_m
        Farthest a door may be from the profile's roads and still be routed.

    Returns
    -------
    RoadNetwork
        The routable network.

    Raises
    ------
    ValueError
        For an unknown profile or a bad speed override.
    NetworkLoadError
        When the extract is missing, unreadable or holds no road of the profile.
    """
    profiles.get_profile(profile)
    overrides = dict(sorted((speed_overrides or {}).items()))
    speeds.speed_table(country, overrides)  # validates the overrides before any work
    path = Path(path)
    if not path.is_file():
        msg = f"OSM extract not found: {path}"
        raise NetworkLoadError(msg)
    directory = Path(cache_dir) if cache_dir is not None else cache.default_cache_dir()
    variant = f"{(country or 'auto').upper()}|{overrides}"
    key = cache.cache_key(path, profile, variant)
    arrays = cache.load_arrays(directory, key)
    if arrays is None:
        segments = osm_reader.read_segments(path)
        if country is None:
            centre = Location(float(np.median(segments.node_lat)), float(np.median(segments.node_lon)))
            country = country_at(centre)
        raw = osm_reader.select(segments, profile, country, overrides)
        if raw.edge_u.size == 0:
            msg = f"no road usable by profile {profile!r} in {path}"
            raise NetworkLoadError(msg)
        arrays = {**build_arrays(raw), "country": np.asarray(country or "")}
        try:
            cache.save_arrays(directory, key, arrays)
        except OSError as exc:
            # A read-only cache must not stop the planning: the network is still usable.
            logger.warning("cannot write network cache in %s: %s", directory, exc)
    return RoadNetwork(arrays, profile, max_snap_m=max_snap_m)
