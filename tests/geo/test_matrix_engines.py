"""Matrix engines (contraction hierarchy, scipy, igraph) agree exactly, on hand graphs and on Copenhagen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo import Location, RoadNetwork, UnroutableError
from geo.matrix_engines import CoreHierarchy, igraph_many_to_many, scipy_many_to_many


def engines_on(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray, sources: np.ndarray, targets: np.ndarray) -> dict:
    """Plain junction-to-junction distances (zero start and end costs) from every engine."""
    graph = csr_matrix((w, (u, v)), shape=(n, n))
    src_node = np.stack([sources, sources], axis=1)
    src_cost = np.stack([np.zeros(sources.size), np.full(sources.size, np.inf)], axis=1)
    dst_node = np.stack([targets, targets], axis=1)
    dst_cost = np.stack([np.zeros(targets.size), np.full(targets.size, np.inf)], axis=1)
    ch = CoreHierarchy.build(n, u, v, w)
    return {
        "ch": ch.many_to_many(src_node, src_cost, dst_node, dst_cost),
        "scipy": scipy_many_to_many(graph, src_node, src_cost, dst_node, dst_cost),
        "igraph": igraph_many_to_many(graph, src_node, src_cost, dst_node, dst_cost),
        "reference": dijkstra(graph, directed=True, indices=sources)[:, targets],
    }


def test_hand_graph_with_one_way_and_unreachable_node() -> None:
    """0 <-> 1 <-> 2 two-way (10 s each), a one-way shortcut 0 -> 2 (15 s), and node 3 that only leaves."""
    u = np.array([0, 1, 1, 2, 0, 3])
    v = np.array([1, 0, 2, 1, 2, 0])
    w = np.array([10.0, 10.0, 10.0, 10.0, 15.0, 1.0])
    result = engines_on(4, u, v, w, np.arange(4), np.arange(4))
    expected = np.array(
        [
            [0.0, 10.0, 15.0, np.inf],  # 0 -> 2 by the one-way shortcut
            [10.0, 0.0, 10.0, np.inf],
            [20.0, 10.0, 0.0, np.inf],  # 2 -> 0 must go through 1: the shortcut is one-way
            [1.0, 11.0, 16.0, 0.0],  # 3 reaches everyone, nobody reaches 3
        ]
    )
    for name in ("ch", "scipy", "igraph"):
        assert np.array_equal(result[name], expected), name


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_road_like_graphs_agree(seed: int) -> None:
    """On random grid-like graphs with one-ways and a few dead ends, every engine matches plain Dijkstra."""
    rng = np.random.default_rng(seed)
    side = 25
    n = side * side
    ids = np.arange(n).reshape(side, side)
    pairs = np.concatenate(
        [np.stack([ids[:, :-1].ravel(), ids[:, 1:].ravel()], 1), np.stack([ids[:-1].ravel(), ids[1:].ravel()], 1)]
    )
    pairs = pairs[rng.random(len(pairs)) > 0.15]  # missing streets
    one_way = rng.random(len(pairs)) < 0.25
    flip = rng.random(len(pairs)) < 0.5
    a = np.where(flip, pairs[:, 1], pairs[:, 0])
    b = np.where(flip, pairs[:, 0], pairs[:, 1])
    u = np.concatenate([a, b[~one_way]])
    v = np.concatenate([b, a[~one_way]])
    w = rng.uniform(5.0, 60.0, u.size)
    sources = rng.choice(n, 60, replace=False)
    targets = rng.choice(n, 70, replace=False)
    result = engines_on(n, u, v, w, sources, targets)
    ref = result["reference"]
    assert np.isinf(ref).any() and np.isfinite(ref).sum() > ref.size // 2  # both kinds of pair occur
    for name in ("ch", "scipy", "igraph"):
        same_inf = np.array_equal(np.isinf(result[name]), np.isinf(ref))
        finite = np.isfinite(ref)
        assert same_inf and np.allclose(result[name][finite], ref[finite], rtol=1e-12, atol=1e-9), name


def test_copenhagen_engines_agree(copenhagen_net: RoadNetwork) -> None:
    """The Copenhagen door-to-door matrix is the same with every engine, and the hierarchy is small."""
    rng = np.random.default_rng(3)
    box = copenhagen_net.bbox
    cands = [
        Location(float(la), float(lo))
        for la, lo in zip(rng.uniform(box.south, box.north, 800), rng.uniform(box.west, box.east, 800), strict=True)
    ]
    stops = [c for c, ok in zip(cands, copenhagen_net.snap(cands, max_snap_m=100).ok_mask(), strict=True) if ok][:150]
    results = {}
    for engine in ("ch", "scipy", "igraph"):
        copenhagen_net.engine = engine
        results[engine] = copenhagen_net.matrix(stops)
    copenhagen_net.engine = "ch"
    assert np.allclose(results["ch"], results["scipy"], rtol=1e-12, atol=1e-9)
    assert np.allclose(results["igraph"], results["scipy"], rtol=1e-12, atol=1e-9)


def test_unknown_engine_is_refused(toy_net: RoadNetwork) -> None:
    """Asking for an engine that does not exist names the known ones."""
    toy_net.engine = "magic"
    try:
        with pytest.raises(ValueError, match="ch, scipy, igraph"):
            toy_net.matrix([Location(54.9999, 12.001), Location(54.9999, 12.003)])
    finally:
        toy_net.engine = "ch"


def test_unroutable_error_names_stops_and_codes(toy_net: RoadNetwork, tmp_path: Path) -> None:
    """A matrix over unroutable stops raises one error carrying every stop's index and reason."""
    stops = [Location(54.9999, 12.001), Location(56.0, 12.0), Location(55.0011, 12.0105), Location(55.008, 12.005)]
    with pytest.raises(UnroutableError) as caught:
        toy_net.matrix(stops)
    assert caught.value.indices == (1, 2, 3)
    assert caught.value.codes == ("outside_region", "unreachable_island", "off_network")
