"""Road-network figures (issue 4): matrix engines side by side, cache load, and a 200,000+ node region.

Run from the repository root with the venv active:

    python tests/benchmarks/bench_network.py --out tests/benchmarks/results/network.json
    python tests/benchmarks/bench_network.py --graphs copenhagen --profiles ebike,walk --sizes 1000 \
        --engines ch,scipy --out tests/benchmarks/results/network_profiles.json

Graphs:
- ``copenhagen``: the network of ``copenhagen_kbh.osm.pbf`` (Danish speed defaults) for each of ``--profiles``.
- ``tiled``: the same real network laid out ``--tiles`` x ``--tiles`` times side by side (5 x 5 by default:
  about 223,000 routed nodes), neighbouring tiles stitched where their border streets face each other
  (each border node joined to the nearest node across, two-way, at residential speed). Real street
  topology, one-ways and speed distribution, at the size of a province's urban core.

Each stage runs in a fresh process so that its peak memory (``ru_maxrss``) is its own: build (read, tile,
contract, hierarchy, save), cache load (read the arrays and set up the network), and per engine a matrix
between N real-address or random routable points. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OSM = ROOT.parent / "shared" / "data" / "osm" / "copenhagen_kbh.osm.pbf"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _tiled_raw(tiles: int) -> Any:
    """The Copenhagen car network tiled ``tiles`` x ``tiles`` and stitched at the borders."""
    from scipy.spatial import cKDTree

    from geo import osm_reader
    from geo.speeds import CONGESTION_FACTOR

    raw = osm_reader.select(osm_reader.read_segments(OSM), "car", "DK")
    used = np.unique(np.concatenate([raw.edge_u, raw.edge_v]))
    remap = np.full(raw.node_lat.size, -1, dtype=np.int64)
    remap[used] = np.arange(used.size)
    lat0, lon0 = raw.node_lat[used], raw.node_lon[used]
    eu0, ev0 = remap[raw.edge_u], remap[raw.edge_v]
    dlat = lat0.max() - lat0.min() + 0.0005
    dlon = lon0.max() - lon0.min() + 0.0008
    n0 = used.size
    lats, lons, eus, evs, speeds = [], [], [], [], []
    for ty in range(tiles):
        for tx in range(tiles):
            base = (ty * tiles + tx) * n0
            lats.append(lat0 + ty * dlat)
            lons.append(lon0 + tx * dlon)
            eus.append(eu0 + base)
            evs.append(ev0 + base)
            speeds.append(raw.speed_mps)
    lat, lon = np.concatenate(lats), np.concatenate(lons)
    # Stitch: border nodes of each tile to the nearest node of the neighbouring tile (east and north).
    m_lat = 111_195.0
    m_lon = m_lat * np.cos(np.radians(lat0.mean()))
    xy = np.stack([lon * m_lon, lat * m_lat], axis=1)
    tree = cKDTree(xy)
    band = 250.0
    east = np.flatnonzero((lon0.max() - lon0) * m_lon < band)
    north = np.flatnonzero((lat0.max() - lat0) * m_lat < band)
    su, sv = [], []
    for ty in range(tiles):
        for tx in range(tiles):
            base = (ty * tiles + tx) * n0
            for border, ok in ((east, tx + 1 < tiles), (north, ty + 1 < tiles)):
                if not ok:
                    continue
                pts = base + border
                dist, idx = tree.query(xy[pts], k=8)
                other_tile = (idx // n0) != (base // n0)
                pick = np.argmax(other_tile, axis=1)
                rows = np.arange(pts.size)
                good = other_tile[rows, pick] & (dist[rows, pick] < 400.0)
                su.append(pts[good])
                sv.append(idx[rows, pick][good])
    su_all, sv_all = np.concatenate(su), np.concatenate(sv)
    stitch_speed = np.full(2 * su_all.size, 30.0 * CONGESTION_FACTOR / 3.6)
    none = np.full(2 * su_all.size, None, dtype=object)
    return osm_reader.RawNetwork(
        node_lat=lat,
        node_lon=lon,
        edge_u=np.concatenate([*eus, su_all, sv_all]),
        edge_v=np.concatenate([*evs, sv_all, su_all]),
        highway=np.concatenate([np.tile(raw.highway, tiles * tiles), np.full(2 * su_all.size, "residential")]),
        maxspeed=np.concatenate([np.tile(raw.maxspeed, tiles * tiles), none]),
        speed_mps=np.concatenate([*speeds, stitch_speed]),
    )


def stage(args: argparse.Namespace) -> dict[str, float | str]:
    """One stage in this process; returns its figures."""
    from geo import Location, cache
    from geo.network import RoadNetwork, build_arrays

    key = f"bench-{args.graph}-{args.tiles}-{args.profile}"
    out: dict[str, float | str] = {}
    if args.stage == "build":
        started = time.perf_counter()
        if args.graph == "copenhagen":
            from geo import osm_reader

            raw = osm_reader.select(osm_reader.read_segments(OSM), args.profile, "DK")
        else:
            raw = _tiled_raw(args.tiles)
        read_s = time.perf_counter() - started
        arrays = {**build_arrays(raw), "country": np.asarray("DK")}
        out["read_s"] = read_s
        out["build_s"] = time.perf_counter() - started
        cache.save_arrays(args.cache, key, arrays)
        out["cache_mb"] = cache.cache_path(args.cache, key).stat().st_size / 1e6
    else:
        started = time.perf_counter()
        arrays = cache.load_arrays(args.cache, key)
        assert arrays is not None
        net = RoadNetwork(arrays, args.profile)
        out["load_s"] = time.perf_counter() - started
        out["nodes"] = net.node_count
        out["junctions"] = net.junction_count
        out["core"] = net._hierarchy.core_size
        if args.stage == "matrix":
            rng = np.random.default_rng(args.seed)
            box = net.bbox
            lats = rng.uniform(box.south, box.north, args.n * 6)
            lons = rng.uniform(box.west, box.east, args.n * 6)
            cands = [Location(float(a), float(b)) for a, b in zip(lats, lons, strict=True)]
            ok = net.snap(cands, max_snap_m=100.0).ok_mask()
            points = [c for c, good in zip(cands, ok, strict=True) if good][: args.n]
            assert len(points) == args.n
            net.engine = args.engine
            net.matrix(points[:5])  # warm-up: imports and lazy structures
            started = time.perf_counter()
            m = net.matrix(points)
            out["matrix_s"] = time.perf_counter() - started
            out["checksum"] = float(np.round(m.sum(), 3))
    out["peak_rss_mb"] = _peak_mb()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "benchmarks" / "results" / "network.json")
    parser.add_argument("--tiles", type=int, default=5)
    parser.add_argument("--graphs", default="copenhagen,tiled")
    parser.add_argument("--engines", default="ch,scipy,igraph")
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--profiles", default="car", help="profiles to measure on Copenhagen")
    # Internal: run one stage and print its JSON.
    parser.add_argument("--stage", choices=("build", "load", "matrix"))
    parser.add_argument("--graph", default="copenhagen")
    parser.add_argument("--engine", default="ch")
    parser.add_argument("--profile", default="car", help="travel profile (the tiled graph is always car)")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(stage(args)))
        return

    cache_dir = Path(tempfile.mkdtemp(prefix="doorstep-bench-net-"))
    rows: list[dict[str, object]] = []

    def run(**kw: object) -> dict[str, float]:
        cmd = [sys.executable, __file__, "--cache", str(cache_dir), "--tiles", str(args.tiles)]
        for k, v in kw.items():
            cmd += [f"--{k}", str(v)]
        res = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT, env=dict(os.environ))
        return json.loads(res.stdout.strip().splitlines()[-1])

    plan = [
        (g, p) for g in args.graphs.split(",") for p in (args.profiles.split(",") if g == "copenhagen" else ["car"])
    ]
    for graph, profile in plan:
        build = run(stage="build", graph=graph, profile=profile)
        load = run(stage="load", graph=graph, profile=profile)
        rows.append({"graph": graph, "profile": profile, "stage": "build", **build})
        rows.append({"graph": graph, "profile": profile, "stage": "cache load", **load})
        print(f"{graph} {profile}: build {build['build_s']:.2f} s ({build['peak_rss_mb']:.0f} MB peak), "
              f"cache load {load['load_s']:.2f} s ({load['peak_rss_mb']:.0f} MB peak), "
              f"{load['nodes']} nodes, {load['junctions']} junctions, core {load['core']}", flush=True)  # fmt: skip
        for n in (int(s) for s in args.sizes.split(",")):
            for engine in args.engines.split(","):
                fig = run(stage="matrix", graph=graph, engine=engine, n=n, profile=profile)
                rows.append({"graph": graph, "profile": profile, "stage": "matrix", "engine": engine, "n": n, **fig})
                print(f"  {engine:>6} {n}x{n}: {fig['matrix_s']:.3f} s, peak {fig['peak_rss_mb']:.0f} MB, "
                      f"checksum {fig['checksum']}", flush=True)  # fmt: skip
    result = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load_avg": os.getloadavg()},
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
