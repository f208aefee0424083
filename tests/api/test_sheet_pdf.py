"""The route sheet as PDF over HTTP: printed by headless Chromium from the stored plan, on the real server."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader

from tests.api.conftest import Api, seed_cases, team_body, wait_for

PLAN_DATE = "2026-12-02"


@pytest.fixture(scope="module")
def backend() -> str:
    """Printing does not depend on the database; test_http.py covers both."""
    return "sqlite"


@pytest.fixture(scope="module")
def plan_25(api: Api) -> dict[str, Any]:
    """A done plan in which team P1 has 25 stops."""
    with api.client(api.system) as c:
        assert c.post("/v1/cases", json=seed_cases(25, prefix="S")).json()["rejected"] == []
    with api.client(api.supervisor) as c:
        assert c.put("/v1/teams/P1", json=team_body(("08:00", "22:00"))).status_code in (200, 201)
        plan_id = c.post("/v1/plans", json={"date": PLAN_DATE, "time_limit_s": 3, "seed": 1}).json()["plan_id"]
        wait_for(lambda: c.get(f"/v1/plans/{plan_id}").json()["status"] == "done", 120, "the plan")
        result: dict[str, Any] = c.get(f"/v1/plans/{plan_id}/result").json()
    return result


def test_pdf_sheet_of_25_stops_is_a_real_pdf_of_one_or_two_pages(api: Api, plan_25: dict[str, Any]) -> None:
    """?format=pdf answers application/pdf that pypdf reads: 1-2 A4 pages listing every stop, no phone numbers."""
    team = next(t for t in plan_25["teams"] if t["team_id"] == "P1")
    assert len(team["stops"]) == 25
    with api.client(api.supervisor) as c:
        r = c.get(f"/v1/plans/{plan_25['plan_id']}/teams/P1/sheet", params={"format": "pdf"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(r.content))
    assert 1 <= len(reader.pages) <= 2
    # A4 portrait is 595 x 842 points.
    box = reader.pages[0].mediabox
    assert round(float(box.width)) == 595 and round(float(box.height)) == 842
    text = "".join(page.extract_text() for page in reader.pages)
    for stop in team["stops"]:
        assert stop["case_id"] in text
    assert "555 10" not in text and "98765" not in text


def test_pdf_sheet_of_an_unknown_team_is_404(api: Api, plan_25: dict[str, Any]) -> None:
    """A team the plan does not have is 404 in PDF as in HTML, before any printing."""
    with api.client(api.supervisor) as c:
        r = c.get(f"/v1/plans/{plan_25['plan_id']}/teams/NOPE/sheet", params={"format": "pdf"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
