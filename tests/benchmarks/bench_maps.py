"""Map and route-sheet figures: page sizes for the largest days, page-ready time on a phone-sized headless
Chromium, and route-sheet printing.

Run from the repository root with the venv active:

    python tests/benchmarks/bench_maps.py --out tests/benchmarks/results/maps.json
"""

from __future__ import annotations

import argparse
import functools
import http.server
import importlib.util
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path

import pypdf
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from geo import load_network
from geo.types import Location
from maps import render_overview, render_route_sheet, render_team_map, write_assets
from maps.pdf import CHROMIUM_FLAGS, print_pdf

ROOT = Path(__file__).resolve().parents[2]
LOADS = 7
# The day is laid over Copenhagen, the densest test extract, so the tile-less pages draw its roads.
COPENHAGEN = ROOT.parent / "shared" / "data" / "osm" / "copenhagen_kbh.osm.pbf"
CENTRE = Location(55.667, 12.573)


def big_plan_builder():  # type: ignore[no-untyped-def]
    """The largest-day builder the map tests use (tests/maps/conftest.py)."""
    spec = importlib.util.spec_from_file_location("maps_conftest", ROOT / "tests" / "maps" / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_big_plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "benchmarks" / "results" / "maps.json")
    args = parser.parse_args()
    big = big_plan_builder()(teams=20, stops=25, centre=CENTRE)
    roads = load_network(COPENHAGEN)
    root = Path(tempfile.mkdtemp(prefix="doorstep-maps-"))
    (root / "maps").mkdir()
    write_assets(root / "static")
    links = {r.team.team_id: f"maps/{r.team.team_id}.html" for r in big.routes}
    figures: dict[str, float] = {}

    started = time.perf_counter()
    pages = {tid: render_team_map(big, r, tiles="none", asset_prefix="../static/", roads=roads) for tid, r in
             zip(links, big.routes, strict=True)}  # fmt: skip
    figures["render_20_team_maps_s"] = time.perf_counter() - started
    started = time.perf_counter()
    overview = render_overview(big, links, tiles="none", public_base="http://127.0.0.1/", roads=roads)
    figures["render_overview_20x25_s"] = time.perf_counter() - started
    bare_team = render_team_map(big, big.routes[0], tiles="none", asset_prefix="../static/")
    bare_overview = render_overview(big, links, tiles="none", public_base="http://127.0.0.1/")
    figures["team_map_25_stops_without_roads_kb"] = len(bare_team.encode()) / 1000
    figures["overview_20x25_without_roads_kb"] = len(bare_overview.encode()) / 1000
    largest = max(pages, key=lambda tid: len(pages[tid].encode()))
    figures["team_map_25_stops_largest_of_20_kb"] = len(pages[largest].encode()) / 1000
    for tid, page in pages.items():
        (root / links[tid]).write_text(page, encoding="utf-8")
    (root / "index.html").write_text(overview, encoding="utf-8")
    figures["team_map_25_stops_kb"] = len(pages[big.routes[0].team.team_id].encode()) / 1000
    figures["overview_20x25_kb"] = len(overview.encode()) / 1000

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *a: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    options = webdriver.ChromeOptions()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
    )
    for label, page in (("team_map", f"maps/{largest}.html"), ("overview", "index.html")):
        ready = []
        for _ in range(LOADS):
            driver.get(url + page)
            while not driver.execute_script("return document.documentElement.dataset.dsReadyMs"):
                time.sleep(0.02)
            ready.append(float(driver.execute_script("return document.documentElement.dataset.dsReadyMs")))
        figures[f"{label}_ready_ms_median"] = statistics.median(ready)
        figures[f"{label}_ready_ms_max"] = max(ready)
    driver.quit()
    server.shutdown()

    for lang in ("en", "zh-CN"):
        sheet = root / f"sheet-{lang}.html"
        sheet.write_text(render_route_sheet(big, big.routes[0], lang=lang, officer_url=url), encoding="utf-8")
        started = time.perf_counter()
        pdf = print_pdf(sheet, sheet.with_suffix(".pdf"))
        figures[f"sheet_pdf_{lang}_s"] = time.perf_counter() - started
        figures[f"sheet_pdf_{lang}_pages"] = len(pypdf.PdfReader(pdf).pages)

    result = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
              "load_average_1min": os.getloadavg()[0], **figures}  # fmt: skip
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value:10.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
