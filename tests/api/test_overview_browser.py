"""The supervisor's overview page in real headless Chromium against the real server: after signing in, an edit
made with the page's controls changes the plan through the API, and the approve button approves it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.api.conftest import Api, headless_chromium, seed_cases, team_body, wait_for

PLAN_DATE = "2026-12-02"


@pytest.fixture(scope="module")
def backend() -> str:
    """One database is enough: test_plan_edits.py covers both."""
    return "sqlite"


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    """Headless Chromium at a desktop size."""
    with headless_chromium("--window-size=1280,1600") as driver:
        yield driver


@pytest.fixture(scope="module")
def draft(api: Api) -> dict[str, Any]:
    """A draft plan of teams V1 and V2 over 10 cases."""
    with api.client(api.system) as c:
        assert c.post("/v1/cases", json=seed_cases(12, prefix="V")).json()["rejected"] == []
    with api.client(api.supervisor) as c:
        for team in ("V1", "V2"):
            assert c.put(f"/v1/teams/{team}", json=team_body()).status_code in (200, 201)
        ids = [f"V{i:03d}" for i in range(10)]
        body = {"date": PLAN_DATE, "time_limit_s": 2, "seed": 1, "team_ids": ["V1", "V2"], "case_ids": ids}
        plan_id = c.post("/v1/plans", json=body).json()["plan_id"]
        wait_for(lambda: c.get(f"/v1/plans/{plan_id}").json()["status"] == "done", 120, "the plan")
        result: dict[str, Any] = c.get(f"/v1/plans/{plan_id}/result").json()
    return result


def result_of(api: Api, plan_id: str) -> dict[str, Any]:
    with api.client(api.supervisor) as c:
        answer: dict[str, Any] = c.get(f"/v1/plans/{plan_id}/result").json()
        return answer


def team_of(result: dict[str, Any], case_id: str) -> str | None:
    return next((t["team_id"] for t in result["teams"] if case_id in [s["case_id"] for s in t["stops"]]), None)


def test_edits_and_approval_from_the_overview_page(api: Api, draft: dict[str, Any], browser: webdriver.Chrome) -> None:
    """Sign in, move a stop to the other team with the row's controls, add a case by id, then approve: each
    shows in the plan the API serves, and the page then says the plan can no longer be edited."""
    plan_id = draft["plan_id"]
    origin = api.server.url
    browser.get(f"{origin}/v1/session")
    browser.find_element(By.NAME, "key").send_keys(api.supervisor)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    browser.get(f"{origin}/v1/plans/{plan_id}/overview")
    wait_for(lambda: browser.find_elements(By.ID, "ds-editor"), 30, "the edit panel")

    row = browser.find_element(By.CSS_SELECTOR, '#ds-editor tr[data-team="V1"]')
    case = row.get_attribute("data-case")
    assert case and team_of(draft, case) == "V1"
    Select(row.find_element(By.TAG_NAME, "select")).select_by_value("V2")
    row.find_element(By.CSS_SELECTOR, 'button[data-op="move"]').click()
    edited = wait_for(lambda: (r := result_of(api, plan_id)).get("revision") == 2 and r, 60, "the move to arrive")
    assert team_of(edited, case) == "V2" and edited["edits"]["pins"] == {case: "V2"}
    # The page reloads with the new plan: the moved stop is now listed under V2.
    wait_for(
        lambda: browser.find_elements(By.CSS_SELECTOR, f'#ds-editor tr[data-case="{case}"][data-team="V2"]'),
        30,
        "the reload",
    )

    add = browser.find_element(By.ID, "ds-add")
    add.find_element(By.NAME, "case_id").send_keys("V011")
    add.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    added = wait_for(lambda: (r := result_of(api, plan_id)).get("revision") == 3 and r, 60, "the add to arrive")
    assert team_of(added, "V011") is not None and added["edits"]["added"] == ["V011"]

    # A refused edit is shown on the page, not lost: V999 is no case.
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, '#ds-editor[data-revision="3"]'), 30, "the reload")
    add = browser.find_element(By.ID, "ds-add")
    add.find_element(By.NAME, "case_id").send_keys("V999")
    add.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    status = browser.find_element(By.ID, "ds-editor-status")
    wait_for(lambda: "unknown case" in status.text, 30, "the refusal to show")
    assert "422" in status.text

    browser.find_element(By.ID, "ds-approve").click()
    with api.client(api.supervisor) as c:
        wait_for(lambda: c.get(f"/v1/plans/{plan_id}").json()["approval"] == "approved", 30, "the approval")
    wait_for(
        lambda: "can no longer be edited" in browser.find_element(By.ID, "ds-editor-status").text, 30, "the notice"
    )
    assert not browser.find_element(By.ID, "ds-approve").is_enabled()
    # Only the refused edit's 422 and the sign-in form's missing favicon may be logged as errors.
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert [m for m in errors if "422" not in m and "favicon.ico" not in m] == []
