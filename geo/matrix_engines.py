"""Many-to-many shortest travel times on the junction graph: three interchangeable engines.

Every engine answers the same question: given, per source, up to two start junctions with a cost to reach
each (``src_node``, ``src_cost``, shape (S, 2)) and, per target, up to two end junctions with a cost from
each (``dst_node``, ``dst_cost``, shape (T, 2)), the (S, T) matrix of
``min_k,m src_cost[s, k] + d(src_node[s, k], dst_node[t, m]) + dst_cost[t, m]`` (inf when unreachable).

``scipy``
    :func:`scipy.sparse.csgraph.dijkstra` from every distinct start junction over the whole graph.
``igraph``
    The same Dijkstra in igraph's C core, asked only for the target columns (optional dependency).
``ch``
    A contraction hierarchy with a core (:class:`CoreHierarchy`): junctions are contracted in rounds of
    independent sets while that adds no more shortcuts than it removes edges; what remains is the core.
    A query is then fully vectorised over all sources at once, PHAST style: a sweep up the hierarchy (a
    DAG, in round order), Dijkstra on the small core from one virtual node per source, and a sweep down.
    Exact: shortcuts are real paths and every shortest path is an up-core-down path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

ENGINES: tuple[str, ...] = ("ch", "scipy", "igraph")

#: Sources handled together by the hierarchy's sweeps: bounds memory to about 8 * junctions * block bytes.
CH_BLOCK = 512


def _combine(dist: np.ndarray, src_cost: np.ndarray, dst_node: np.ndarray, dst_cost: np.ndarray) -> np.ndarray:
    """Add target entry costs to per-source junction distances ``dist`` (S, n) and keep the best option."""
    out = dist[:, dst_node[:, 0]] + dst_cost[:, 0][None, :]
    np.minimum(out, dist[:, dst_node[:, 1]] + dst_cost[:, 1][None, :], out=out)
    return out


def scipy_many_to_many(
    graph: csr_matrix, src_node: np.ndarray, src_cost: np.ndarray, dst_node: np.ndarray, dst_cost: np.ndarray
) -> np.ndarray:
    """The ``scipy`` engine: Dijkstra from every distinct start junction."""
    starts = np.unique(src_node[np.isfinite(src_cost)])
    if starts.size == 0:
        return np.full((src_node.shape[0], dst_node.shape[0]), np.inf)
    rows = dijkstra(graph, directed=True, indices=starts)
    out = np.full((src_node.shape[0], dst_node.shape[0]), np.inf)
    for k in range(2):
        row = np.searchsorted(starts, src_node[:, k]).clip(0, starts.size - 1)
        part = _combine(rows[row], src_cost, dst_node, dst_cost) + src_cost[:, k][:, None]
        np.minimum(out, part, out=out)
    return out


def igraph_many_to_many(
    graph: csr_matrix, src_node: np.ndarray, src_cost: np.ndarray, dst_node: np.ndarray, dst_cost: np.ndarray
) -> np.ndarray:
    """The ``igraph`` engine: igraph's Dijkstra from every distinct start junction to the needed columns."""
    import igraph

    coo = graph.tocoo()
    g = igraph.Graph(n=graph.shape[0], edges=np.stack([coo.row, coo.col], axis=1), directed=True)
    starts = np.unique(src_node[np.isfinite(src_cost)])
    ends = np.unique(dst_node[np.isfinite(dst_cost)])
    out = np.full((src_node.shape[0], dst_node.shape[0]), np.inf)
    if starts.size == 0 or ends.size == 0:
        return out
    cols = np.asarray(g.distances(source=starts.tolist(), target=ends.tolist(), weights=coo.data, mode="out"))
    full = np.full((starts.size, graph.shape[0]), np.inf)
    full[:, ends] = cols
    for k in range(2):
        row = np.searchsorted(starts, src_node[:, k]).clip(0, starts.size - 1)
        part = _combine(full[row], src_cost, dst_node, dst_cost) + src_cost[:, k][:, None]
        np.minimum(out, part, out=out)
    return out


@dataclass(frozen=True, slots=True)
class CoreHierarchy:
    """A contraction hierarchy with an uncontracted core, as plain arrays (cacheable).

    Attributes
    ----------
    n
        Number of junctions.
    up_u, up_v, up_w, up_ptr
        Upward edges (from a node to a neighbour still present when it was contracted), grouped by round:
        round r holds ``up_*[up_ptr[r]:up_ptr[r + 1]]``, sorted by target ``up_v`` within the round.
    dn_u, dn_v, dn_w, dn_ptr
        Downward edges (from a neighbour still present into the contracted node), grouped the same way and
        sorted by target ``dn_v``.
    core_u, core_v, core_w
        Edges among core nodes (shortcuts included).
    """

    n: int
    up_u: np.ndarray
    up_v: np.ndarray
    up_w: np.ndarray
    up_ptr: np.ndarray
    dn_u: np.ndarray
    dn_v: np.ndarray
    dn_w: np.ndarray
    dn_ptr: np.ndarray
    core_u: np.ndarray
    core_v: np.ndarray
    core_w: np.ndarray

    @property
    def core_size(self) -> int:
        """Number of junctions never contracted."""
        nodes = np.concatenate([self.core_u, self.core_v])
        return int(np.unique(nodes).size)

    def to_arrays(self, prefix: str = "ch_") -> dict[str, np.ndarray]:
        """The arrays by name, for the network cache."""
        names = ("up_u", "up_v", "up_w", "up_ptr", "dn_u", "dn_v", "dn_w", "dn_ptr", "core_u", "core_v", "core_w")
        out = {prefix + name: getattr(self, name) for name in names}
        out[prefix + "n"] = np.asarray(self.n)
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], prefix: str = "ch_") -> CoreHierarchy:
        """Rebuild from :meth:`to_arrays`."""
        names = ("up_u", "up_v", "up_w", "up_ptr", "dn_u", "dn_v", "dn_w", "dn_ptr", "core_u", "core_v", "core_w")
        return cls(int(arrays[prefix + "n"]), *(np.asarray(arrays[prefix + name]) for name in names))

    @classmethod
    def build(
        cls,
        n: int,
        u: np.ndarray,
        v: np.ndarray,
        w: np.ndarray,
        core_fraction: float = 0.002,
        seed: int = 0,
        max_growth: int = 256,
    ) -> CoreHierarchy:
        """Contract a directed graph (edges ``u -> v`` of weight ``w``) down to a core.

        Each round contracts an independent set of nodes whose contraction adds at most ``allowed`` more
        shortcuts than the edges it removes (``allowed`` grows when a round finds too few), replacing every
        in-edge/out-edge pair through the node by a shortcut unless a direct edge is as short already.
        Contraction stops when the core is down to ``core_fraction`` of the nodes or a round would have to
        allow more than ``max_growth`` extra shortcuts per node. Defaults measured on Copenhagen and on a
        223k-node tiled region (``tests/benchmarks/bench_network.py``): a smaller, denser core moved work from
        the core Dijkstra (the costly part) to the vectorised sweeps.
        """
        rng = np.random.default_rng(seed)
        eu, ev, ew = _dedupe(u.astype(np.int64), v.astype(np.int64), w.astype(np.float64), n)
        alive = np.ones(n, dtype=bool)
        up: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        dn: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        allowed = 0
        target = max(int(core_fraction * n), 64)
        while int(alive.sum()) > target:
            indeg = np.bincount(ev, minlength=n)
            outdeg = np.bincount(eu, minlength=n)
            growth = indeg * outdeg - indeg - outdeg
            cand = alive & (growth <= allowed)
            key = rng.permutation(n).astype(np.int64)
            key[~cand] = n + 1
            # Independent set: a candidate whose key beats every neighbour's.
            nb_min = np.full(n, n + 2, dtype=np.int64)
            np.minimum.at(nb_min, eu, key[ev])
            np.minimum.at(nb_min, ev, key[eu])
            sel = cand & (key < nb_min)
            if int(sel.sum()) < max(1, int(0.002 * alive.sum())):
                if allowed >= max_growth:
                    break
                allowed = allowed * 2 + 2 if allowed else 2
                continue
            into, outof = sel[ev], sel[eu]
            # Shortcuts a -> x -> b for every selected x (no edge joins two selected nodes).
            i_idx = np.flatnonzero(into)
            o_idx = np.flatnonzero(outof)
            i_idx = i_idx[np.argsort(ev[i_idx], kind="stable")]
            o_idx = o_idx[np.argsort(eu[o_idx], kind="stable")]
            o_keys = eu[o_idx]
            lo = np.searchsorted(o_keys, ev[i_idx], side="left")
            hi = np.searchsorted(o_keys, ev[i_idx], side="right")
            counts = hi - lo
            pair_i = np.repeat(i_idx, counts)
            offs = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            pair_o = o_idx[np.repeat(lo, counts) + offs]
            su, sv = eu[pair_i], ev[pair_o]
            sw = ew[pair_i] + ew[pair_o]
            proper = su != sv
            su, sv, sw = su[proper], sv[proper], sw[proper]

            up.append(_sorted_by_target(eu[o_idx], ev[o_idx], ew[o_idx]))
            dn.append(_sorted_by_target(eu[i_idx], ev[i_idx], ew[i_idx]))
            keep = ~(into | outof)
            eu, ev, ew = _dedupe(
                np.concatenate([eu[keep], su]), np.concatenate([ev[keep], sv]), np.concatenate([ew[keep], sw]), n
            )
            alive[sel] = False
            if allowed:
                allowed = max(0, allowed // 2)

        def pack(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, ...]:
            sizes = [p[0].size for p in parts]
            ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
            if not parts:
                empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0)
                return empty_i, empty_i, empty_f, ptr
            return (
                np.concatenate([p[0] for p in parts]),
                np.concatenate([p[1] for p in parts]),
                np.concatenate([p[2] for p in parts]),
                ptr,
            )

        up_u, up_v, up_w, up_ptr = pack(up)
        dn_u, dn_v, dn_w, dn_ptr = pack(dn)
        return cls(n, up_u, up_v, up_w, up_ptr, dn_u, dn_v, dn_w, dn_ptr, eu, ev, ew)

    def many_to_many(
        self, src_node: np.ndarray, src_cost: np.ndarray, dst_node: np.ndarray, dst_cost: np.ndarray
    ) -> np.ndarray:
        """The ``ch`` engine; see the module docstring. Sources go in blocks of :data:`CH_BLOCK`.

        Only the part of the hierarchy a query needs is swept (RPHAST): upward, the nodes reachable up from
        the block's sources; downward, the nodes from which a target is reached going down.
        """
        n_src = src_node.shape[0]
        out = np.full((n_src, dst_node.shape[0]), np.inf)
        core = np.unique(np.concatenate([self.core_u, self.core_v]))
        rounds = self.up_ptr.size - 1
        # Target selection: a lower node x needed makes every higher a with a down-edge a -> x needed.
        need = np.zeros(self.n, dtype=bool)
        need[dst_node[np.isfinite(dst_cost)]] = True
        for r in range(rounds):
            lo, hi = self.dn_ptr[r], self.dn_ptr[r + 1]
            need[self.dn_u[lo:hi][need[self.dn_v[lo:hi]]]] = True
        need[core] = True
        for lo in range(0, n_src, CH_BLOCK):
            hi = min(lo + CH_BLOCK, n_src)
            dist, pos = self._one_block(src_node[lo:hi], src_cost[lo:hi], core, need)
            out[lo:hi] = _combine(dist.T, src_cost, pos[dst_node], dst_cost)
        return out

    def _one_block(
        self, src_node: np.ndarray, src_cost: np.ndarray, core: np.ndarray, need: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Distances (m, S) from each source of the block to the m junctions the query touches, and the row
        of each junction (-1 for the others)."""
        s = src_node.shape[0]
        rounds = self.up_ptr.size - 1
        finite = np.isfinite(src_cost)
        reach = np.zeros(self.n, dtype=bool)
        reach[src_node[finite]] = True
        for r in range(rounds):
            lo, hi = self.up_ptr[r], self.up_ptr[r + 1]
            reach[self.up_v[lo:hi][reach[self.up_u[lo:hi]]]] = True
        nodes = np.flatnonzero(reach | need)
        pos = np.full(self.n, -1, dtype=np.int64)
        pos[nodes] = np.arange(nodes.size)
        # One spare row at the end takes writes of absent options (row -1); it is never read as a node.
        dist = np.full((nodes.size + 1, s), np.inf)
        cols = np.arange(s)
        for k in range(2):
            rows_k = np.where(finite[:, k], pos[src_node[:, k]], -1)
            dist[rows_k, cols] = np.minimum(dist[rows_k, cols], np.where(finite[:, k], src_cost[:, k], np.inf))
        dist[-1] = np.inf
        # Up the hierarchy, rounds in contraction order, only from reached nodes.
        up_keep = reach[self.up_u]
        for r in range(rounds):
            lo, hi = self.up_ptr[r], self.up_ptr[r + 1]
            sel = lo + np.flatnonzero(up_keep[lo:hi])
            _relax(dist, pos[self.up_u[sel]], pos[self.up_v[sel]], self.up_w[sel])
        # The core: one virtual node per source, joined to every core node its upward sweep reached.
        c = core.size
        if c:
            core_rows = pos[core]
            core_pos = np.full(self.n, -1, dtype=np.int64)
            core_pos[core] = np.arange(c)
            reached = dist[core_rows]  # (c, s)
            ci, si = np.nonzero(np.isfinite(reached))
            rows = np.concatenate([core_pos[self.core_u], c + si])
            cols_ = np.concatenate([core_pos[self.core_v], ci])
            # csgraph reads a zero weight as no edge: virtual edges carry +1 s, taken off again below.
            weights = np.concatenate([self.core_w, reached[ci, si] + 1.0])
            graph = csr_matrix((weights, (rows, cols_)), shape=(c + s, c + s))
            core_dist = dijkstra(graph, directed=True, indices=c + np.arange(s))[:, :c] - 1.0
            dist[core_rows] = np.minimum(reached, core_dist.T)
        # Down the hierarchy, rounds in reverse order, only into nodes that lead to a target.
        dn_keep = need[self.dn_v]
        for r in range(rounds - 1, -1, -1):
            lo, hi = self.dn_ptr[r], self.dn_ptr[r + 1]
            sel = lo + np.flatnonzero(dn_keep[lo:hi])
            _relax(dist, pos[self.dn_u[sel]], pos[self.dn_v[sel]], self.dn_w[sel])
        return dist, pos


def _relax(dist: np.ndarray, eu: np.ndarray, ev: np.ndarray, ew: np.ndarray) -> None:
    """``dist[v] = min(dist[v], dist[u] + w)`` for edges sorted by ``v``, all sources (columns) at once.

    Edges into the same node are taken in turns (first edge of every target, then the second, ...), so
    each turn is one gather, add, minimum and scatter with distinct targets; ``np.minimum.reduceat`` over
    the rows measured three times slower.
    """
    if ev.size == 0:
        return
    new_group = np.concatenate([[True], ev[1:] != ev[:-1]])
    starts = np.flatnonzero(new_group)
    rank = np.arange(ev.size) - starts[np.cumsum(new_group) - 1]
    for turn in range(int(rank.max()) + 1):
        sel = np.flatnonzero(rank == turn)
        targets = ev[sel]
        cand = dist[eu[sel]]
        cand += ew[sel][:, None]
        np.minimum(cand, dist[targets], out=cand)
        dist[targets] = cand


def _sorted_by_target(u: np.ndarray, v: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(v, kind="stable")
    return u[order], v[order], w[order]


def _dedupe(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep the lightest of parallel edges."""
    if u.size == 0:
        return u, v, w
    key = u * n + v
    order = np.lexsort((w, key))
    first = np.concatenate([[True], key[order][1:] != key[order][:-1]])
    pick = order[first]
    return u[pick], v[pick], w[pick]
