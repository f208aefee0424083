"""The officer page in real headless Chromium flags a stop whose case the loan system closed: on opening, and
while open when the officer comes back to the page."""

from __future__ import annotations

from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.api.conftest import Api, approved_officer_link, seed_cases, wait_for
from tests.api.test_officer_browser import phone  # noqa: F401  (the phone fixture)

PLAN_DATE = "2026-12-02"


@pytest.fixture(scope="module")
def backend() -> str:
    """One database is enough: test_closed_cases.py covers both."""
    return "sqlite"


@pytest.fixture(scope="module")
def officer(api: Api) -> tuple[str, list[str]]:
    """An approved plan's officer link for team W1 and W1's stops."""
    return approved_officer_link(api, "W1", "W", 6, PLAN_DATE)


def close(api: Api, case_id: str) -> None:
    row = next(r for r in seed_cases(6, prefix="W") if r["case_id"] == case_id)
    with api.client(api.system) as c:
        assert c.post("/v1/cases", json=[{**row, "state": "closed"}]).json()["rejected"] == []


def flagged(driver: webdriver.Chrome, case_id: str) -> Any:
    items = driver.find_elements(By.CSS_SELECTOR, f'li[data-case="{case_id}"].ds-closed')
    return items[0] if items else None


def test_closed_stops_are_flagged_on_the_officer_page(
    api: Api,
    officer: tuple[str, list[str]],
    phone: webdriver.Chrome,  # noqa: F811
) -> None:
    """A stop closed before the page opens is flagged and its buttons disabled; one closed while the page is
    open is flagged as soon as the officer returns to the page; the others stay as they were."""
    link, stops = officer
    first, second = stops[0], stops[1]
    close(api, first)
    phone.get(link)
    item = wait_for(lambda: flagged(phone, first), 30, "the closed stop to be flagged")
    assert "closed" in item.text and all(not b.is_enabled() for b in item.find_elements(By.TAG_NAME, "button"))
    banner = phone.find_element(By.ID, "ds-closed-banner")
    assert first in banner.text
    assert flagged(phone, second) is None

    close(api, second)
    phone.execute_script("document.dispatchEvent(new Event('visibilitychange'))")
    wait_for(lambda: flagged(phone, second), 30, "the stop closed while the page was open")
    assert "2 case(s) closed" in banner.text
    # Their markers on the map are flagged too, and only theirs.
    marked = phone.execute_script(
        "return Object.keys(Doorstep.day.stops).filter(c => "
        "Doorstep.day.stops[c].getElement().classList.contains('ds-stop-closed')).sort()"
    )
    assert marked == sorted([first, second])
    assert all(flagged(phone, s) is None for s in stops[2:])
    assert [e for e in phone.get_log("browser") if e["level"] == "SEVERE"] == []
