"""Run queries through a local Nominatim (nominatim-api, Python frontend) and print the answers as JSON.

Run with the Python of the environment where ``nominatim-db`` and ``nominatim-api`` are installed (not the
project's: Nominatim pins its own dependencies), from ``bench_geocoding.py``:

    NOMINATIM_DATABASE_DSN="pgsql:host=127.0.0.1;user=postgres;dbname=nominatim_kbh" \\
        /path/to/nominatim-venv/bin/python nominatim_runner.py PROJECT_DIR QUERIES.json OUT.json

``QUERIES.json`` is a list of strings; ``OUT.json`` gets ``{"elapsed_s": …, "results": [[lat, lon, rank,
category] or null, …]}`` in the same order. One process, one query at a time: the same conditions as Doorstep's
single-process figure.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    import nominatim_api as napi  # only importable in Nominatim's own environment

    project, queries_path, out_path = sys.argv[1:4]
    with open(queries_path, encoding="utf-8") as fh:
        queries = json.load(fh)
    api = napi.NominatimAPI(project)
    try:
        api.search("warm up", max_results=1)  # the first query opens the connection pool
        results = []
        start = time.perf_counter()
        for q in queries:
            try:
                found = api.search(q, max_results=1)
            except Exception as exc:  # a query Nominatim cannot parse is its "no answer", not the run's end
                print(f"query {q!r}: {exc}", file=sys.stderr)
                found = []
            if found:
                r = found[0]
                results.append([r.centroid.lat, r.centroid.lon, r.rank_address, "=".join(r.category)])
            else:
                results.append(None)
        elapsed = time.perf_counter() - start
    finally:
        api.close()
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump({"elapsed_s": elapsed, "results": results}, fh)


if __name__ == "__main__":
    main()
