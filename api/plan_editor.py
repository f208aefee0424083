"""The edit panel of the supervisor's overview page: per stop move / pin / remove, pin a dropped case, add a case
by id, approve. The controls send ``PATCH /v1/plans/{plan_id}`` (and ``POST .../approve``) with the supervisor's
session cookie from ``/assets/plan-editor.js`` (CSP: scripts from this origin only), then reload the page."""

from __future__ import annotations

from maps.i18n import translate
from maps.page import esc
from routing.model import Plan

__all__ = ["plan_editor"]


def _team_select(teams: list[str], current: str | None, label: str) -> str:
    options = "".join(f'<option value="{esc(t)}"{" selected" if t == current else ""}>{esc(t)}</option>' for t in teams)
    return f'<select aria-label="{esc(label)}">{options}</select>'


def plan_editor(plan: Plan, revision: int = 1, lang: str = "en") -> str:
    """The panel's HTML for ``plan`` at ``revision`` (sent as ``expected_revision``, so a stale page cannot
    overwrite a newer edit), in ``lang``, with its script tag."""

    def t(key: str, **values: object) -> str:
        return esc(translate(lang, f"editor.{key}", **values))

    teams = [r.team.team_id for r in plan.routes]
    rows = []
    for route in plan.routes:
        team = route.team.team_id
        others = [x for x in teams if x != team] or teams
        for visit in sorted(route.visits, key=lambda v: v.seq):
            case = esc(visit.case_id)
            picker = _team_select(others, None, translate(lang, "editor.team_for", case=visit.case_id))
            rows.append(
                f'<tr data-case="{case}" data-team="{esc(team)}"><td>{esc(team)}</td><td>{visit.seq}</td>'
                f"<td>{case}</td><td>{picker}</td>"
                f'<td><button type="button" data-op="move">{t("move")}</button> '
                f'<button type="button" data-op="pin">{t("pin")}</button> '
                f'<button type="button" data-op="remove">{t("remove")}</button></td></tr>'
            )
    for dropped in plan.dropped:
        if dropped.code in ("not_worth_detour", "no_feasible_slot", "unlikely_home"):
            case = esc(dropped.case_id)
            rows.append(
                f'<tr data-case="{case}" data-team=""><td>—</td><td>{esc(dropped.code)}</td><td>{case}</td>'
                f"<td>{_team_select(teams, None, translate(lang, 'editor.team_for', case=dropped.case_id))}</td>"
                f'<td><button type="button" data-op="pin">{t("pin")}</button></td></tr>'
            )
    team_options = "".join(f'<option value="{esc(x)}">{esc(x)}</option>' for x in teams)
    # The script's messages, in the page's language ({status} and {message} filled in by the script).
    messages = " ".join(
        f'data-msg-{key}="{t(key, status="{status}", message="{message}")}"'
        for key in ("working", "done", "failed", "offline", "approved")
    )
    return (
        f'<section id="ds-editor" class="ds-editor" data-plan="{esc(plan.plan_id)}" data-revision="{revision}" '
        f'{messages} style="order:3;padding:8px 16px">'
        f"<h2>{t('title')}</h2>"
        f'<p class="ds-editor-help">{t("help")}</p>'
        '<p id="ds-editor-status" role="status"></p>'
        f'<p><button type="button" id="ds-approve">{t("approve")}</button></p>'
        f'<form id="ds-add"><label>{t("add_case")} <input name="case_id" required maxlength="200"></label> '
        f'<label>{t("team")} <select name="team_id"><option value="">{t("any_team")}</option>{team_options}</select>'
        f'</label> <button type="submit">{t("add")}</button></form>'
        f"<table><thead><tr><th>{t('col_team')}</th><th>#</th><th>{t('col_case')}</th><th>{t('col_to_team')}</th>"
        f"<th>{t('col_edit')}</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
        '<script src="/assets/plan-editor.js" defer></script>'
    )
