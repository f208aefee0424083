"""The largest team map on a phone-sized headless Chromium, driven through ChromeDriver: it must get ready
quickly, log no console error, ask no host but its own, find the officer with locate-me, and the overview's
printed QR codes must scan back to the team maps."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import cv2
import numpy as np
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from geo.crs import wgs84_to_gcj02
from geo.types import Location, haversine_m
from maps import render_overview, render_team_map, write_assets
from maps.pdf import CHROMIUM_FLAGS
from routing.model import Plan

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
READY_BUDGET_MS = 1500
# Screenshots land here for people to look at; CI keeps the folder.
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path, make_big_plan: Callable[..., Plan]) -> Iterator[tuple[str, Plan]]:
    """A 3-team day of 25 stops a team, without tiles, served on 127.0.0.1 like `doorstep plan` writes it."""
    big = make_big_plan(teams=3, stops=25)
    root = tmp_path / "site"
    (root / "maps").mkdir(parents=True)
    write_assets(root / "static")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    links = {r.team.team_id: f"maps/{r.team.team_id}.html" for r in big.routes}
    overview = render_overview(big, links, tiles="none", public_base=url)
    (root / "index.html").write_text(overview, encoding="utf-8")
    for route in big.routes:
        page = render_team_map(big, route, tiles="none", asset_prefix="../static/")
        (root / links[route.team.team_id]).write_text(page, encoding="utf-8")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url, big
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def phone() -> Iterator[webdriver.Chrome]:
    """Headless Chromium at 390x844 (a common phone), every host but 127.0.0.1 unresolvable."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.fail("chromium and chromedriver are needed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        *CHROMIUM_FLAGS,
        "--window-size=390,844",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    # A phone, not a small desktop window: viewport, pixel ratio, mobile layout and touch (coarse pointer).
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
    )
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(condition: Callable[[], object], timeout_s: float = 20.0) -> object:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"condition not met within {timeout_s} s")


def ready_ms(driver: webdriver.Chrome) -> int:
    value = wait_for(lambda: driver.execute_script("return document.documentElement.dataset.dsReadyMs"))
    return int(str(value))


def test_team_map_on_a_phone(site: tuple[str, Plan], phone: webdriver.Chrome) -> None:
    """25 stops at 390x844: ready within the budget, no console error, no request to another host."""
    url, big = site
    team = big.routes[0].team.team_id
    phone.get(url + f"maps/{team}.html")
    ready = ready_ms(phone)
    assert ready <= READY_BUDGET_MS, f"page ready after {ready} ms"
    assert len(phone.find_elements(By.CSS_SELECTOR, ".ds-stop")) == 25
    assert phone.find_element(By.CSS_SELECTOR, ".ds-timeline").is_displayed()
    errors = [entry for entry in phone.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    resources = phone.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    hosts = {urlsplit(name).netloc for name in resources if not name.startswith("data:")}
    assert hosts == {urlsplit(url).netloc}
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "team-map-phone.png"
    phone.save_screenshot(str(shot))
    image = cv2.imread(str(shot))
    assert image is not None and image.shape[:2] == (844, 390)
    # A blank or broken page has a handful of colours; a drawn map has many.
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 100


def test_locate_me_shows_the_officer(site: tuple[str, Plan], phone: webdriver.Chrome) -> None:
    """With a (emulated) GPS fix, the locate-me button puts the officer's dot on the map."""
    url, big = site
    phone.get(url + f"maps/{big.routes[1].team.team_id}.html")
    ready_ms(phone)
    origin = url.rstrip("/")
    phone.execute_cdp_cmd("Browser.grantPermissions", {"origin": origin, "permissions": ["geolocation"]})
    phone.execute_cdp_cmd(
        "Emulation.setGeolocationOverride", {"latitude": 60.1702, "longitude": 24.9415, "accuracy": 25}
    )
    phone.find_element(By.CSS_SELECTOR, ".ds-locate-button").click()
    located = wait_for(lambda: phone.execute_script("return document.documentElement.dataset.dsLocated"))
    assert located == "60.170200,24.941500"
    assert len(phone.find_elements(By.CSS_SELECTOR, "path.ds-here")) == 1


def test_locate_me_on_amap_tiles_draws_the_fix_in_gcj02(
    tmp_path: Path, make_big_plan: Callable[..., Plan], phone: webdriver.Chrome
) -> None:
    """On AMap's tiles (GCJ-02) the officer's dot is drawn at the GCJ-02 conversion of the phone's WGS-84 fix
    (hundreds of metres away in Shenzhen), and the page keeps the raw fix for anything it sends."""
    big = make_big_plan(teams=1, stops=5, centre=Location(22.72, 114.25))
    write_assets(tmp_path / "static")
    (tmp_path / "maps").mkdir()
    page = render_team_map(big, big.routes[0], tiles="amap", asset_prefix="../static/")
    (tmp_path / "maps" / "amap.html").write_text(page, encoding="utf-8")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        phone.get(url + "/maps/amap.html")  # the tiles' hosts do not resolve here: only our drawing is checked
        ready_ms(phone)
        phone.execute_cdp_cmd("Browser.grantPermissions", {"origin": url, "permissions": ["geolocation"]})
        phone.execute_cdp_cmd(
            "Emulation.setGeolocationOverride", {"latitude": 22.7205, "longitude": 114.2461, "accuracy": 20}
        )
        phone.find_element(By.CSS_SELECTOR, ".ds-locate-button").click()
        drawn = wait_for(lambda: phone.execute_script("return document.documentElement.dataset.dsLocatedDrawn"))
        assert phone.execute_script("return document.documentElement.dataset.dsLocated") == "22.720500,114.246100"
        lat, lon = wgs84_to_gcj02(22.7205, 114.2461)
        assert drawn == f"{lat:.6f},{lon:.6f}"
        assert haversine_m(Location(22.7205, 114.2461), Location(lat, lon)) > 200
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_printed_qr_codes_open_the_team_maps(site: tuple[str, Plan], phone: webdriver.Chrome) -> None:
    """Each team's QR code on the overview, as the browser draws it, decodes to that team's map link."""
    url, big = site
    # The supervisor prints from a desktop browser.
    phone.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 1000, "height": 1400, "deviceScaleFactor": 1, "mobile": False}
    )
    phone.get(url + "index.html")
    ready_ms(phone)
    detector = cv2.QRCodeDetector()
    decoded = {}
    for card in phone.find_elements(By.CSS_SELECTOR, ".ds-link-card"):
        phone.execute_script("arguments[0].scrollIntoView()", card)
        png = card.find_element(By.TAG_NAME, "svg").screenshot_as_png
        image = cv2.imdecode(np.frombuffer(png, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
        text, _, _ = detector.detectAndDecode(image)
        decoded[card.get_attribute("data-team")] = text
    assert decoded == {r.team.team_id: f"{url}maps/{r.team.team_id}.html" for r in big.routes}
    phone.get(decoded[big.routes[2].team.team_id])
    assert big.routes[2].team.team_id in phone.title
