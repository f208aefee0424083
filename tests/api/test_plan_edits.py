"""PATCH /v1/plans/{plan_id}: a supervisor's edits (pin, move, add, remove) on the real server and database, the
day re-optimised around them, every result re-checked here by routing/check.py, and the edits kept."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from api.plan_json import plan_from_dict
from geo import load_network
from geo.types import Location
from routing.check import check_plan
from routing.model import Case, Team, TimeWindow
from tests.api.conftest import AGUAS, DEPOT, Api, seed_cases, team_body, wait_for

PLAN_DATE = "2026-12-02"
TEAMS = ("E1", "E2", "E3")
H = 3600


def stops_of(result: dict[str, Any], team: str) -> list[str]:
    return [s["case_id"] for t in result["teams"] if t["team_id"] == team for s in t["stops"]]


def team_of(result: dict[str, Any], case_id: str) -> str | None:
    return next((t["team_id"] for t in result["teams"] if case_id in [s["case_id"] for s in t["stops"]]), None)


@pytest.fixture(scope="module")
def checker(osm_dir: Path, cache_dir: Path) -> Any:
    """routing/check.py over the same road network, with the teams and cases as the tests stored them."""
    network = load_network(osm_dir / AGUAS, profile="car", cache_dir=cache_dir)
    depot = Location(*DEPOT)
    teams = {t: Team(t, ("li", "wang"), depot, depot, TimeWindow(9 * H, 21 * H)) for t in TEAMS}
    rows = seed_cases(24, prefix="E")
    cases = [Case(r["case_id"], r["customer_id"], location=Location(r["lat"], r["lon"])) for r in rows]

    def check(result: dict[str, Any], plan_cases: Sequence[str]) -> list[Any]:
        plan = plan_from_dict(result, teams, {c.case_id: c.customer_id for c in cases})
        wanted = set(plan_cases)
        return check_plan(
            plan,
            [c for c in cases if c.case_id in wanted],
            list(teams.values()),
            lambda profile, points: [leg.seconds for leg in network.legs(list(points))],
            TimeWindow(8 * H, 22 * H),
        )

    return check


def new_plan(api: Api, case_ids: list[str]) -> dict[str, Any]:
    with api.client(api.supervisor) as c:
        plan_id = c.post(
            "/v1/plans",
            json={"date": PLAN_DATE, "time_limit_s": 2, "seed": 1, "team_ids": list(TEAMS), "case_ids": case_ids},
        ).json()["plan_id"]
        wait_for(lambda: c.get(f"/v1/plans/{plan_id}").json()["status"] == "done", 120, "the plan")
        result: dict[str, Any] = c.get(f"/v1/plans/{plan_id}/result").json()
    return result


@pytest.fixture(scope="module")
def seeded(api: Api) -> list[str]:
    """24 cases and three teams stored; the first 20 cases go into the plans, the last 4 stay out."""
    with api.client(api.system) as c:
        assert c.post("/v1/cases", json=seed_cases(24, prefix="E")).json()["rejected"] == []
    with api.client(api.supervisor) as c:
        for team in TEAMS:
            assert c.put(f"/v1/teams/{team}", json=team_body()).status_code in (200, 201)
    return [f"E{i:03d}" for i in range(20)]


def test_edits_reoptimise_keep_every_case_once_and_pass_the_checker(api: Api, seeded: list[str], checker: Any) -> None:
    """pin, move, add and remove in one request: each is honoured, revision + 1, every case once, check clean."""
    plan = new_plan(api, seeded)
    assert plan.get("revision", 1) == 1 and checker(plan, seeded) == []
    e1, e2 = stops_of(plan, "E1"), stops_of(plan, "E2")
    assert len(e1) >= 3 and e2
    pinned, moved, removed = e1[0], e1[1], e2[0]
    edits = [
        {"op": "pin", "case_id": pinned, "team_id": "E2"},
        {"op": "move", "case_id": moved, "team_id": "E3", "position": 1},
        {"op": "remove", "case_id": removed},
        {"op": "add", "case_id": "E021", "team_id": "E1"},
    ]
    with api.client(api.supervisor) as c:
        r = c.patch(f"/v1/plans/{plan['plan_id']}", json={"edits": edits, "expected_revision": 1})
        assert r.status_code == 200, r.text
        edited = r.json()
        assert c.get(f"/v1/plans/{plan['plan_id']}/result").json() == edited
    assert edited["revision"] == 2 and all(t["revision"] == 2 for t in edited["teams"])  # all three changed
    assert team_of(edited, pinned) == "E2" and team_of(edited, moved) == "E3" and team_of(edited, "E021") == "E1"
    assert team_of(edited, removed) is None
    assert {"case_id": removed, "code": "removed", "message": "removed from the plan by a supervisor"} in edited[
        "dropped"
    ]
    assert edited["edits"] == {
        "pins": dict(sorted({pinned: "E2", moved: "E3", "E021": "E1"}.items())),
        "added": ["E021"],
        "removed": [removed],
    }
    everyone = [*seeded, "E021"]
    placed = [s["case_id"] for t in edited["teams"] for s in t["stops"]]
    placed += [d["case_id"] for d in edited["dropped"]] + [u["case_id"] for u in edited["unresolved"]]
    assert sorted(placed) == sorted(everyone)
    assert checker(edited, everyone) == []
    # The checker does look: the same plan with a stop dropped from it is caught.
    tampered = {**edited, "teams": [{**t, "stops": t["stops"][1:]} if t["stops"] else t for t in edited["teams"]]}
    assert checker(tampered, everyone) != []

    # A later edit keeps the earlier ones: the pin holds, the removed case stays out.
    with api.client(api.supervisor) as c:
        r = c.patch(f"/v1/plans/{plan['plan_id']}", json={"edits": [{"op": "add", "case_id": "E022"}]})
        assert r.status_code == 200, r.text
        later = r.json()
    assert later["revision"] == 3
    assert team_of(later, pinned) == "E2" and team_of(later, moved) == "E3" and team_of(later, "E021") == "E1"
    assert team_of(later, removed) is None and team_of(later, "E022") is not None
    assert checker(later, [*everyone, "E022"]) == []

    # A stale revision is refused rather than silently overwriting what another supervisor did.
    with api.client(api.supervisor) as c:
        stale = c.patch(
            f"/v1/plans/{plan['plan_id']}",
            json={"edits": [{"op": "remove", "case_id": pinned}], "expected_revision": 2},
        )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "revision_conflict"


def test_edits_survive_a_restart(api: Api, seeded: list[str]) -> None:
    """The edits are stored with the plan: after the server restarts, the next edit still honours them."""
    plan = new_plan(api, seeded)
    stop = stops_of(plan, "E1")[0]
    with api.client(api.supervisor) as c:
        r = c.patch(f"/v1/plans/{plan['plan_id']}", json={"edits": [{"op": "remove", "case_id": stop}]})
        assert r.status_code == 200, r.text
    api.server.stop()
    api.server.start()
    with api.client(api.supervisor) as c:
        r = c.patch(f"/v1/plans/{plan['plan_id']}", json={"edits": [{"op": "add", "case_id": "E023"}]})
        assert r.status_code == 200, r.text
        again = r.json()
    assert team_of(again, stop) is None and again["edits"]["removed"] == [stop]
    assert again["revision"] == 3


BAD_EDITS = [
    # an unknown case
    ({"op": "remove", "case_id": "NOPE"}, "case_id", "unknown case"),
    # a team the plan does not have
    ({"op": "pin", "case_id": "E000", "team_id": "T9"}, "team_id", "not in this plan"),
    # removing a case that is not a stop (E020 is stored but not in the plan)
    ({"op": "remove", "case_id": "E020"}, "case_id", "not a planned stop"),
    # pinning a case that is not in the plan: add it instead
    ({"op": "pin", "case_id": "E020", "team_id": "E1"}, "case_id", "use an add edit"),
    # moving a case that is not a stop
    ({"op": "move", "case_id": "E020", "team_id": "E1"}, "case_id", "not a planned stop"),
    # a position past the end of the team's route
    ({"op": "move", "case_id": "STOP", "team_id": "E3", "position": 999}, "position", "position must be"),
]


@pytest.mark.parametrize(("edit", "field", "why"), BAD_EDITS)
def test_a_bad_edit_is_refused_with_its_index_field_and_reason(
    api: Api, draft: dict[str, Any], edit: dict[str, Any], field: str, why: str
) -> None:
    """422 invalid_edit naming the edit's index and field and saying why; the plan is left as it was."""
    plan = draft
    if edit["case_id"] == "STOP":
        edit = {**edit, "case_id": stops_of(plan, "E1")[0]}
    good = {"op": "add", "case_id": "E023"}
    with api.client(api.supervisor) as c:
        r = c.patch(f"/v1/plans/{plan['plan_id']}", json={"edits": [good, edit]})
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert c.get(f"/v1/plans/{plan['plan_id']}/result").json() == plan
    assert error["code"] == "invalid_edit"
    assert error["details"][0]["index"] == 1 and error["details"][0]["field"] == f"body.edits[1].{field}"
    assert why in error["details"][0]["error"] and why in error["message"]


@pytest.fixture(scope="module")
def draft(api: Api, seeded: list[str]) -> dict[str, Any]:
    """One unedited draft plan shared by the refusal tests (they leave it unchanged, which each one checks)."""
    return new_plan(api, seeded)


@pytest.mark.parametrize(
    "body",
    [
        {"edits": []},  # nothing to do
        {"edits": [{"op": "swap", "case_id": "E000"}]},  # unknown op
        {"edits": [{"op": "move", "case_id": "E000"}]},  # a move needs a team
        {"edits": [{"op": "move", "case_id": "E000", "team_id": "E1", "position": 0}]},  # positions start at 1
        {"edits": [{"op": "remove", "case_id": "E000", "team_id": "E1"}]},  # remove takes no team
    ],
)
def test_malformed_edits_are_422(api: Api, draft: dict[str, Any], body: dict[str, Any]) -> None:
    """Edits that do not match the documented format are refused by the schema, naming the field."""
    plan = draft
    with api.client(api.supervisor) as c:
        r = c.patch(f"/v1/plans/{plan['plan_id']}", json=body)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"].startswith("body")


def test_an_impossible_pin_is_409_and_changes_nothing(api: Api, seeded: list[str]) -> None:
    """A pin to a team whose shift cannot reach the case: 409 edit_infeasible naming the case; plan unchanged."""
    with api.client(api.supervisor) as c:
        assert c.put("/v1/teams/E3", json=team_body(("09:00", "09:05"))).status_code == 200
    try:
        plan = new_plan(api, seeded)
        case = stops_of(plan, "E1")[0]
        with api.client(api.supervisor) as c:
            r = c.patch(
                f"/v1/plans/{plan['plan_id']}", json={"edits": [{"op": "pin", "case_id": case, "team_id": "E3"}]}
            )
            assert r.status_code == 409, r.text
            error = r.json()["error"]
            assert c.get(f"/v1/plans/{plan['plan_id']}/result").json() == plan
        assert error["code"] == "edit_infeasible"
        assert error["details"][0]["case_id"] == case and error["details"][0]["index"] == 0
    finally:
        with api.client(api.supervisor) as c:
            assert c.put("/v1/teams/E3", json=team_body()).status_code == 200


def test_only_draft_plans_can_be_edited(api: Api, seeded: list[str]) -> None:
    """An approved plan answers 409 plan_not_draft with a message that says so; a supervisor key is needed."""
    plan = new_plan(api, seeded)
    body = {"edits": [{"op": "remove", "case_id": stops_of(plan, "E1")[0]}]}
    with api.client(api.system) as c:
        assert c.patch(f"/v1/plans/{plan['plan_id']}", json=body).status_code == 403
    with api.client(api.supervisor) as c:
        assert c.post(f"/v1/plans/{plan['plan_id']}/approve").status_code == 200
        r = c.patch(f"/v1/plans/{plan['plan_id']}", json=body)
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "plan_not_draft" and "only draft plans" in r.json()["error"]["message"]
        assert c.patch("/v1/plans/nope", json=body).status_code == 404


def test_officer_links_work_only_once_the_plan_is_approved(api: Api, seeded: list[str]) -> None:
    """A link made for a draft plan answers 403 plan_not_approved until the supervisor approves the plan."""
    plan = new_plan(api, seeded)
    with api.client(api.supervisor) as c:
        link = c.post(f"/v1/plans/{plan['plan_id']}/links").json()["E1"]
    token = link.rsplit("/m/", 1)[1]
    with api.client() as c:
        r = c.get(f"/m/{token}")
        assert r.status_code == 403 and r.json()["error"]["code"] == "plan_not_approved"
    with api.client(api.supervisor) as c:
        assert c.post(f"/v1/plans/{plan['plan_id']}/approve").status_code == 200
    with api.client() as c:
        assert c.get(f"/m/{token}").status_code == 200
