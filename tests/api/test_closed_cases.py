"""Same-day changes: a case the loan system closes after the plan was made (paid) is reported to the officer
page at once and left out of the next re-plan, on the real server and both databases."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api, seed_cases, team_body, wait_for

PLAN_DATE = "2026-12-02"


@pytest.fixture(scope="module")
def approved(api: Api) -> dict[str, Any]:
    """An approved plan of teams K1 and K2 over 10 cases, with officer links."""
    with api.client(api.system) as c:
        assert c.post("/v1/cases", json=seed_cases(10, prefix="K")).json()["rejected"] == []
    with api.client(api.supervisor) as c:
        for team in ("K1", "K2"):
            assert c.put(f"/v1/teams/{team}", json=team_body()).status_code in (200, 201)
        body = {"date": PLAN_DATE, "time_limit_s": 2, "seed": 1, "team_ids": ["K1", "K2"]}
        plan_id = c.post("/v1/plans", json=body).json()["plan_id"]
        wait_for(lambda: c.get(f"/v1/plans/{plan_id}").json()["status"] == "done", 120, "the plan")
        result: dict[str, Any] = c.get(f"/v1/plans/{plan_id}/result").json()
        assert c.post(f"/v1/plans/{plan_id}/approve").status_code == 200
        links = c.post(f"/v1/plans/{plan_id}/links").json()
    return {"result": result, "tokens": {t: links[t].rsplit("/m/", 1)[1] for t in links}}


def stops_of(result: dict[str, Any], team: str) -> list[str]:
    return [s["case_id"] for t in result["teams"] if t["team_id"] == team for s in t["stops"]]


def close(api: Api, case_id: str, state: str | None = "closed") -> None:
    """The loan system sends the case again with ``state: closed`` (paid), or without it (re-opened)."""
    row = next(r for r in seed_cases(10, prefix="K") if r["case_id"] == case_id)
    with api.client(api.system) as c:
        assert c.post("/v1/cases", json=[{**row, **({"state": state} if state else {})}]).json()["rejected"] == []


def test_a_closed_stop_is_reported_to_its_team_only(api: Api, approved: dict[str, Any]) -> None:
    """After the loan system closes a K1 stop, K1's link lists it as closed; K2's link may not ask; re-opened,
    the list is empty again."""
    result, tokens = approved["result"], approved["tokens"]
    plan_id = result["plan_id"]
    stop = stops_of(result, "K1")[-1]
    path = f"/v1/plans/{plan_id}/teams/K1/closed"
    with api.client() as c:
        k1 = {"Authorization": f"Bearer {tokens['K1']}"}
        assert c.get(path, headers=k1).json()["closed"] == []
        close(api, stop)
        assert c.get(path, headers=k1).json() == {"plan_id": plan_id, "team_id": "K1", "closed": [stop]}
        r = c.get(path, headers={"Authorization": f"Bearer {tokens['K2']}"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "wrong_team"
        assert c.get(path).status_code == 401
        page = c.get(f"/m/{tokens['K1']}")
        assert page.status_code == 200 and '<script src="/assets/closed-stops.js" defer></script>' in page.text
        assert c.get("/assets/closed-stops.js").headers["content-type"].startswith("text/javascript")
    with api.client(api.supervisor) as c:
        assert c.get(path).json()["closed"] == [stop]
        assert c.get(f"/v1/plans/{plan_id}/teams/NOPE/closed").status_code == 404
    close(api, stop, None)
    with api.client(api.supervisor) as c:
        assert c.get(path).json()["closed"] == []


def test_the_next_replan_leaves_a_closed_case_out(api: Api, approved: dict[str, Any]) -> None:
    """A re-plan of K1 after one of its stops was closed: the stop is gone from the route and listed in
    dropped with code closed; every case of the plan is still there exactly once."""
    result = approved["result"]
    plan_id = result["plan_id"]
    stops = stops_of(result, "K1")
    assert len(stops) >= 2
    closed = stops[0]
    close(api, closed)
    body = {"now": f"{PLAN_DATE}T09:00:00-06:00", "lat": 21.8697, "lon": -102.2737, "accuracy_m": 10}
    with api.client(api.supervisor) as c:
        r = c.post(f"/v1/plans/{plan_id}/teams/K1/replan", json=body)
        assert r.status_code == 200, r.text
        entry = r.json()
        after = c.get(f"/v1/plans/{plan_id}/result").json()
    assert closed not in [s["case_id"] for s in entry["stops"]] and entry["stops"]
    assert {"case_id": closed, "code": "closed"}.items() <= next(
        d for d in after["dropped"] if d["case_id"] == closed
    ).items()
    placed = [s["case_id"] for t in after["teams"] for s in t["stops"]]
    placed += [d["case_id"] for d in after["dropped"]] + [u["case_id"] for u in after["unresolved"]]
    assert sorted(placed) == sorted(f"K{i:03d}" for i in range(10))
    close(api, closed, None)
