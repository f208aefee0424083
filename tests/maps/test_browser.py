"""The pages in a real browser: headless Chromium loads them from a local server, other hosts blocked."""

from __future__ import annotations

import functools
import http.server
import shutil
import struct
import subprocess
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from maps import render_overview, render_team_map, write_assets
from maps.pdf import CHROMIUM_FLAGS
from routing.model import Plan

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

BROWSER_TIMEOUT_S = 90


class Site:
    """A folder served on 127.0.0.1 that records every request and its status."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[tuple[str, int]] = []
        site = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                site.requests.append((self.path, int(code)))

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean; requests are recorded above

        handler = functools.partial(Handler, directory=str(root))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def failed(self) -> list[tuple[str, int]]:
        """Requests that did not answer 200."""
        return [(path, code) for path, code in self.requests if code != 200]


@pytest.fixture
def site(tmp_path: Path, plan: Plan) -> Iterator[Site]:
    """The demo layout (index.html, maps/<team>.html, static/) without tiles, served locally."""
    root = tmp_path / "site"
    (root / "maps").mkdir(parents=True)
    write_assets(root / "static")
    links = {r.team.team_id: f"maps/{r.team.team_id}.html" for r in plan.routes}
    (root / "index.html").write_text(render_overview(plan, links, tiles="none"), encoding="utf-8")
    for route in plan.routes:
        page = render_team_map(plan, route, tiles="none", asset_prefix="../static/")
        (root / links[route.team.team_id]).write_text(page, encoding="utf-8")
    served = Site(root)
    served.thread.start()
    try:
        yield served
    finally:
        served.server.shutdown()
        served.server.server_close()
        served.thread.join(timeout=10)


def chromium(url: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium on ``url``; every host but 127.0.0.1 is unresolvable, so nothing leaves."""
    if CHROMIUM is None:
        pytest.fail("chromium is needed (apt-get install chromium; .ci/run installs it)")
    command = [
        CHROMIUM,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--virtual-time-budget=3000",
        *args,
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S, check=True)


def png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the raw (filtered) scanline bytes of a PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def test_team_map_renders_route_and_markers(site: Site, tmp_path: Path) -> None:
    """In Chromium the team map draws the route, a marker per stop and the depot, from local files only."""
    result = chromium(site.url + "maps/T1.html", tmp_path / "profile", "--dump-dom")
    dom = result.stdout
    assert "leaflet-container" in dom  # Leaflet ran
    assert dom.count('class="ds-stop ') == 3  # stop markers 1, 2, 3
    assert "ds-depot" in dom
    assert "leaflet-interactive" in dom
    assert 'class="ds-route leaflet-interactive"' in dom  # the road path, as an SVG path
    assert "© OpenStreetMap contributors" in dom
    assert ("/static/leaflet/leaflet.js", 200) in site.requests
    assert site.failed() == []


def test_overview_renders_all_teams(site: Site, tmp_path: Path) -> None:
    """In Chromium the overview shows both team layers in a layer control and the summary table."""
    result = chromium(site.url + "index.html", tmp_path / "profile", "--dump-dom")
    dom = result.stdout
    assert dom.count('class="ds-route leaflet-interactive"') == 2
    assert "leaflet-control-layers" in dom
    assert 'href="maps/T1.html"' in dom and 'href="maps/T2.html"' in dom
    assert site.failed() == []


def test_team_map_screenshot_on_a_phone(site: Site, tmp_path: Path) -> None:
    """A phone-sized screenshot of the team map is a real picture, not a blank page."""
    shot = tmp_path / "team-map.png"
    chromium(site.url + "maps/T1.html", tmp_path / "profile", f"--screenshot={shot}", "--window-size=390,844")
    width, height, pixels = png_pixels(shot)
    assert (width, height) == (390, 844)
    assert shot.stat().st_size > 10_000
    # A blank page has a handful of distinct byte values; route, markers and panels give many.
    assert len(set(pixels)) > 50
    assert site.failed() == []
