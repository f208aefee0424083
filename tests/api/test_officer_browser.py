"""The officer's page in a real headless Chromium against the real server: tapping an outcome stores it, and
one tapped while offline is stored exactly once when the connection returns."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from sqlalchemy import func, select

from api.db import OutcomeRow
from tests.api.conftest import Api, approved_officer_link, headless_chromium, wait_for

PLAN_DATE = "2026-12-02"


@pytest.fixture(scope="module")
def backend() -> str:
    """One database is enough here: the storage paths are tested on both in test_http.py."""
    return "sqlite"


@pytest.fixture(scope="module")
def officer_link(api: Api) -> tuple[str, list[str]]:
    """An approved plan's officer link for team T1, and T1's stops in order."""
    return approved_officer_link(api, "T1", "B", 8, PLAN_DATE)


@pytest.fixture
def phone() -> Iterator[webdriver.Chrome]:
    """Headless Chromium as a phone, with a GPS fix 8 m accurate at the officer's position."""
    with headless_chromium() as driver:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
        )
        driver.execute_cdp_cmd(
            "Emulation.setGeolocationOverride", {"latitude": 21.8818, "longitude": -102.2916, "accuracy": 8}
        )
        yield driver


def stored(api: Api, case_id: str) -> int:
    with api.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(OutcomeRow).where(OutcomeRow.case_id == case_id)))


def tap(driver: webdriver.Chrome, case_id: str, result: str) -> None:
    button = driver.find_element(By.CSS_SELECTOR, f'li[data-case="{case_id}"] button[data-result="{result}"]')
    driver.execute_script("arguments[0].scrollIntoView()", button)
    button.click()


def test_tap_stores_the_outcome_and_offline_taps_arrive_once(
    api: Api, officer_link: tuple[str, list[str]], phone: webdriver.Chrome
) -> None:
    """Online, a tap is stored and the stop shows it; offline, the tap waits in the page and is stored exactly
    once after the connection comes back."""
    link, stops = officer_link
    origin = api.server.url.rstrip("/")
    phone.execute_cdp_cmd("Browser.grantPermissions", {"origin": origin, "permissions": ["geolocation"]})
    phone.get(link)
    wait_for(lambda: phone.find_elements(By.ID, "ds-outcomes"), 30, "the outcome panel")
    # The served page (map and panel) logs no error and asks nothing of any host but the app's own.
    assert [e for e in phone.get_log("browser") if e["level"] == "SEVERE"] == []
    resources = phone.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert {urlsplit(r).netloc for r in resources if not r.startswith("data:")} <= {urlsplit(origin).netloc}

    first, second = stops[0], stops[1]
    tap(phone, first, "not_home")
    wait_for(lambda: stored(api, first) == 1, 30, "the online outcome")
    sent = phone.find_element(By.CSS_SELECTOR, f'li[data-case="{first}"] .ds-sent')
    wait_for(lambda: "not home" in sent.text, 10, "the stop to show the result")

    phone.execute_cdp_cmd("Network.enable", {})
    offline: dict[str, Any] = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    phone.execute_cdp_cmd("Network.emulateNetworkConditions", offline)
    tap(phone, second, "met")
    queue = phone.find_element(By.ID, "ds-queue")
    wait_for(lambda: "1 waiting" in queue.text, 15, "the tap to wait in the page")
    time.sleep(1.0)  # give a leaking request the chance to arrive; none may
    assert stored(api, second) == 0

    phone.execute_cdp_cmd("Network.emulateNetworkConditions", {**offline, "offline": False})
    wait_for(lambda: stored(api, second) == 1, 30, "the queued outcome after reconnecting")
    wait_for(lambda: queue.text == "", 15, "the page's queue to empty")
    time.sleep(1.0)  # a duplicate send would land now
    assert stored(api, second) == 1 and stored(api, first) == 1
