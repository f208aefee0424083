"""The edit panel of the supervisor's overview page: per stop move / pin / remove, pin a dropped case, add a case
by id, approve. The controls send ``PATCH /v1/plans/{plan_id}`` (and ``POST .../approve``) with the supervisor's
session cookie from ``/assets/plan-editor.js`` (CSP: scripts from this origin only), then reload the page."""

from __future__ import annotations

from maps.page import esc
from routing.model import Plan

__all__ = ["plan_editor"]


def _team_select(teams: list[str], current: str | None, label: str) -> str:
    options = "".join(f'<option value="{esc(t)}"{" selected" if t == current else ""}>{esc(t)}</option>' for t in teams)
    return f'<select aria-label="{esc(label)}">{options}</select>'


def plan_editor(plan: Plan, revision: int = 1) -> str:
    """The panel's HTML for ``plan`` at ``revision`` (sent as ``expected_revision``, so a stale page cannot
    overwrite a newer edit), with its script tag."""
    teams = [r.team.team_id for r in plan.routes]
    rows = []
    for route in plan.routes:
        team = route.team.team_id
        others = [t for t in teams if t != team] or teams
        for visit in sorted(route.visits, key=lambda v: v.seq):
            case = esc(visit.case_id)
            rows.append(
                f'<tr data-case="{case}" data-team="{esc(team)}"><td>{esc(team)}</td><td>{visit.seq}</td>'
                f"<td>{case}</td><td>{_team_select(others, None, f'team for {visit.case_id}')}</td>"
                '<td><button type="button" data-op="move">Move</button> '
                '<button type="button" data-op="pin">Pin</button> '
                '<button type="button" data-op="remove">Remove</button></td></tr>'
            )
    for dropped in plan.dropped:
        if dropped.code in ("not_worth_detour", "no_feasible_slot"):
            case = esc(dropped.case_id)
            rows.append(
                f'<tr data-case="{case}" data-team=""><td>—</td><td>{esc(dropped.code)}</td><td>{case}</td>'
                f"<td>{_team_select(teams, None, f'team for {dropped.case_id}')}</td>"
                '<td><button type="button" data-op="pin">Pin</button></td></tr>'
            )
    team_options = "".join(f'<option value="{esc(t)}">{esc(t)}</option>' for t in teams)
    return (
        f'<section id="ds-editor" class="ds-editor" data-plan="{esc(plan.plan_id)}" data-revision="{revision}" '
        'style="order:3;padding:8px 16px">'
        "<h2>Edit this draft plan</h2>"
        '<p class="ds-editor-help">Move a stop to another team, pin a case to the selected team (it must then be '
        "visited by that team), remove a stop, or add a case by its id; the day is re-optimised around each edit. "
        "Approve the plan to make the officer links work; an approved plan cannot be edited.</p>"
        '<p id="ds-editor-status" role="status"></p>'
        '<p><button type="button" id="ds-approve">Approve plan</button></p>'
        '<form id="ds-add"><label>Add case <input name="case_id" required maxlength="200"></label> '
        f'<label>team <select name="team_id"><option value="">any team</option>{team_options}</select></label> '
        '<button type="submit">Add</button></form>'
        "<table><thead><tr><th>team</th><th>#</th><th>case</th><th>to team</th><th>edit</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
        '<script src="/assets/plan-editor.js" defer></script>'
    )
