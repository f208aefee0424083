"""The officer page's re-plan button in a real headless Chromium against the real server: it re-plans the rest
of the day from the phone's fix and redraws the order in place, says so when offline, and shows the server's
reason when the server refuses.

The re-plan API refuses a "now" on another day than the plan's, and the page sends the phone's real clock. So
the server here plans in a fixed-offset zone where it is now between 12:00 and 13:00, for today's date there:
the real clock then falls inside the day, team T1's shift (09:00-21:00) and after team T2's (08:00-10:00).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from geo.crs import wgs84_to_gcj02
from maps.road_layer import decode_polyline
from tests.api.conftest import AGUAS, Api, seed_cases, start_api, team_body, wait_for
from tests.api.test_officer_browser import phone, stored, tap

__all__ = ["phone"]  # the fixture, shared with test_officer_browser.py

# The phone's emulated GPS fix for these tests: on a street inside the cases' grid (about 150 m apart).
FIX = (21.8711, -102.2751)


def noon_zone(now: dt.datetime) -> str:
    """An ``Etc/GMT±N`` zone where ``now`` (UTC) is between 12:00 and 13:00 (POSIX signs: Etc/GMT-8 is UTC+8)."""
    offset = 12 - now.hour  # -11 .. +12, all of which exist
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


ZONE = noon_zone(dt.datetime.now(dt.UTC))


@pytest.fixture(scope="module")
def backend() -> str:
    """SQLite is enough here: the re-plan's storage is tested on both databases in test_replan_service.py."""
    return "sqlite"


@pytest.fixture(scope="module")
def api(osm_dir: Path, cache_dir: Path, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A live server (tiles none) planning in `ZONE`, with Mexico's calendar for the Aguascalientes extract."""
    env = {"DOORSTEP_TZ": ZONE, "DOORSTEP_COUNTRY": "MX"}
    started = start_api(osm_dir / AGUAS, database_url, tmp_path_factory.mktemp("server"), env)
    yield started
    started.server.stop()
    started.db.dispose()


@pytest.fixture(scope="module")
def links(api: Api) -> dict[str, Any]:
    """Today's approved plan (in `ZONE`) for T1 and T2, and their officer links."""
    today = dt.datetime.now(ZoneInfo(ZONE)).date().isoformat()
    with api.client(api.system) as c:
        assert c.post("/v1/cases", json=seed_cases(10, prefix="R")).json()["rejected"] == []
    with api.client(api.supervisor) as c:
        assert c.put("/v1/teams/T1", json=team_body()).status_code in (200, 201)
        assert c.put("/v1/teams/T2", json=team_body(("08:00", "10:00"))).status_code in (200, 201)
        plan_id = c.post("/v1/plans", json={"date": today, "time_limit_s": 2, "seed": 1}).json()["plan_id"]
        wait_for(lambda: c.get(f"/v1/plans/{plan_id}").json()["status"] == "done", 120, "the plan")
        assert c.post(f"/v1/plans/{plan_id}/approve").status_code == 200
        made = c.post(f"/v1/plans/{plan_id}/links").json()
    base = api.server.url.rstrip("/")
    return {
        "plan_id": plan_id,
        **{team: (url if str(url).startswith("http") else base + str(url)) for team, url in made.items()},
    }


def team_entry(api: Api, plan_id: str, team_id: str) -> dict[str, Any]:
    with api.client(api.supervisor) as c:
        result = c.get(f"/v1/plans/{plan_id}/result").json()
    return next(t for t in result["teams"] if t["team_id"] == team_id)


def shown_order(driver: webdriver.Chrome, selector: str) -> list[str]:
    return [str(li.get_attribute("data-case")) for li in driver.find_elements(By.CSS_SELECTOR, selector)]


def open_page(driver: webdriver.Chrome, api: Api, link: str) -> None:
    driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": api.server.url, "permissions": ["geolocation"]})
    driver.execute_cdp_cmd("Emulation.setGeolocationOverride", {"latitude": FIX[0], "longitude": FIX[1], "accuracy": 8})
    driver.get(link)
    wait_for(lambda: driver.find_elements(By.ID, "ds-replan"), 30, "the re-plan button")
    wait_for(lambda: driver.execute_script("return document.documentElement.dataset.dsReadyMs"), 30, "the map")


def test_replan_redraws_the_day_and_raises_the_revision(
    api: Api, links: dict[str, Any], phone: webdriver.Chrome
) -> None:
    """After one stop is done, re-plan re-orders the rest from the phone's fix: the page shows the server's new
    order (outcome list, header list and map markers) without reloading, the route starts at the fix, the
    plan's revision is 2, and a reload shows the same day."""
    plan_id = links["plan_id"]
    before = team_entry(api, plan_id, "T1")
    assert before["revision"] == 1 and len(before["stops"]) >= 3
    open_page(phone, api, links["T1"])
    assert [e for e in phone.get_log("browser") if e["level"] == "SEVERE"] == []
    # The API's tile-less page draws the plan's roads.
    assert int(phone.execute_script("return document.documentElement.dataset.dsRoads || '0'")) > 10

    first = before["stops"][0]["case_id"]
    tap(phone, first, "met")
    wait_for(lambda: stored(api, first) == 1, 30, "the outcome of the first stop")
    phone.execute_script("window.dsMarkBeforeReplan = true")  # gone if the page reloads
    phone.find_element(By.ID, "ds-replan").click()
    status = phone.find_element(By.ID, "ds-replan-status")
    wait_for(lambda: "Re-planned" in status.text, 60, "the re-plan message")

    after = team_entry(api, plan_id, "T1")
    assert after["revision"] == 2
    order = [s["case_id"] for s in after["stops"]]
    assert order[0] == first  # the visit done stays in front
    assert phone.execute_script("return window.dsMarkBeforeReplan") is True
    assert shown_order(phone, "#ds-outcomes li[data-case]:not(.ds-unplanned)") == order
    assert shown_order(phone, ".ds-stop-list li[data-case]") == order
    assert [e.text for e in phone.find_elements(By.CSS_SELECTOR, "#ds-outcomes li:not(.ds-unplanned) .ds-seq")] == [
        str(s["seq"]) for s in after["stops"]
    ]
    # The header's list sits in a closed <details>: read the text whatever is shown.
    etas = [e.get_attribute("textContent") for e in phone.find_elements(By.CSS_SELECTOR, ".ds-stop-list .ds-eta")]
    assert etas == [s["arrival"][11:16] for s in after["stops"]]
    markers = phone.execute_script(
        "var s = Doorstep.day.stops; return Object.keys(s).map(function (k) {"
        " return [k, s[k].getElement().textContent]; })"
    )
    assert sorted(markers) == sorted([s["case_id"], str(s["seq"])] for s in after["stops"])
    start = phone.execute_script("var p = Doorstep.day.route.getLatLngs()[0]; return [p.lat, p.lng]")
    assert start == pytest.approx(FIX, abs=1e-6)  # the road path of the rest starts at the fix sent
    assert "revision 2" in status.text
    # The header's figures follow the new day (its timeline is hidden until a reload rather than wrong).
    header = phone.execute_script(
        "var out = {}; document.querySelectorAll('[class^=ds-v-]').forEach(function (e) {"
        " out[e.className] = e.textContent; }); return out"
    )
    assert header["ds-v-visits"] == str(len(after["stops"]))
    assert header["ds-v-end"] == after["end"]["time"][11:16]
    assert header["ds-v-contacts"] == f"{after['expected_contacts']:.1f}"
    assert header["ds-v-km"] == f"{after['distance_m'] / 1000:.1f}"
    if after.get("break"):
        assert header["ds-v-break"] == after["break"]["start"][11:16]
    # The timeline comes back from the server, drawn for the new day: one visit block per stop, at its times.
    wait_for(
        lambda: phone.execute_script("var d = document.querySelector('.ds-day'); return d && !d.hidden"),
        30,
        "the re-planned timeline",
    )
    titles = phone.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('.ds-day .ds-seg-visit'),"
        " function (e) { return e.title; })"
    )
    spans = [f"{s['service_start'][11:16]}-{s['departure'][11:16]}" for s in after["stops"]]
    assert len(titles) == len(spans) and all(span in title for span, title in zip(spans, titles, strict=True))
    assert phone.execute_script("return window.dsMarkBeforeReplan") is True  # still no reload
    # Reloaded, the server's re-rendered page shows the same day: the visit done, then the re-planned rest.
    open_page(phone, api, links["T1"])
    assert shown_order(phone, "#ds-outcomes li[data-case]") == order
    assert [e.text for e in phone.find_elements(By.CSS_SELECTOR, "#ds-outcomes .ds-seq")] == [
        str(s["seq"]) for s in after["stops"]
    ]


def test_replan_offline_says_so(api: Api, links: dict[str, Any], phone: webdriver.Chrome) -> None:
    """Offline, the button says the day was not re-planned, and nothing reaches the server."""
    plan_id = links["plan_id"]
    revision = team_entry(api, plan_id, "T1")["revision"]
    open_page(phone, api, links["T1"])
    phone.execute_cdp_cmd("Network.enable", {})
    offline: dict[str, Any] = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    phone.execute_cdp_cmd("Network.emulateNetworkConditions", offline)
    phone.find_element(By.ID, "ds-replan").click()
    status = phone.find_element(By.ID, "ds-replan-status")
    wait_for(lambda: "offline" in status.text, 20, "the offline message")
    assert "ds-failed" in str(status.get_attribute("class"))
    phone.execute_cdp_cmd("Network.emulateNetworkConditions", {**offline, "offline": False})
    assert team_entry(api, plan_id, "T1")["revision"] == revision


def test_replan_refused_shows_the_servers_reason(api: Api, links: dict[str, Any], phone: webdriver.Chrome) -> None:
    """T2's shift ended at 10:00: the server answers 409 and the page shows its message; the order stays."""
    plan_id = links["plan_id"]
    before = team_entry(api, plan_id, "T2")
    open_page(phone, api, links["T2"])
    order = shown_order(phone, "#ds-outcomes li[data-case]")
    phone.find_element(By.ID, "ds-replan").click()
    status = phone.find_element(By.ID, "ds-replan-status")
    wait_for(lambda: "Not re-planned" in status.text, 60, "the refusal")
    assert "shift ended" in status.text
    assert shown_order(phone, "#ds-outcomes li[data-case]") == order
    assert team_entry(api, plan_id, "T2")["revision"] == before["revision"] == 1


def test_page_scripts_convert_and_decode_as_python_does(
    api: Api, links: dict[str, Any], phone: webdriver.Chrome
) -> None:
    """map.js's WGS-84 -> GCJ-02 (for the GPS dot on AMap tiles) and its polyline decoder give what geo.crs and
    maps.road_layer give, in China and out of it."""
    open_page(phone, api, links["T1"])
    for lat, lon in ((22.7201, 114.2470), (39.9900, 116.3500), (60.17, 24.94)):
        got = phone.execute_script(f"return Doorstep.wgs84ToGcj02({lat}, {lon})")
        assert got == pytest.approx(list(wgs84_to_gcj02(lat, lon)), abs=1e-9)
    text = "_p~iF~ps|U_ulLnnqC_mqNvxq`@"
    got = phone.execute_script("return Doorstep.decodePolyline(arguments[0])", text)
    want = decode_polyline(text)
    assert len(got) == len(want) == 3
    assert [c for p in got for c in p] == pytest.approx([c for p in want for c in p], abs=1e-9)
