"""Visit history: the outcome CSV of CONTRACTS.md (``--history``) and the presence model it teaches.

The presence model needs, per outcome, the customer and segment (from the day's cases, by ``case_id``), the
kind of day (from the country's calendar) and the local clock time (in the plan's time zone).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from api.errors import ConfigurationError, InputFileError, RowProblem
from api.files import _Row, read_records
from routing.errors import InvalidInputError
from routing.learning import LearningSettings, Observation, PresenceModel
from routing.model import ADDRESS_KINDS, OUTCOME_RESULTS, Case, Outcome
from routing.presence import PresencePrior, day_type

__all__ = ["learn_from_history", "learn_presence", "observations", "read_outcomes"]


def read_outcomes(path: Path) -> list[Outcome]:
    """Outcomes from a CSV or JSON file with the columns of CONTRACTS.md (every bad row reported at once).

    Required: ``client_id``, ``case_id``, ``visited_at`` (ISO 8601 with offset) and ``result``; ``team_id`` and
    ``officer_id`` may be empty in a bulk history export; ``address_kind`` (``home``, ``work`` or ``registered``)
    says where the visit was, home when empty.
    """
    problems: list[RowProblem] = []
    outcomes: list[Outcome] = []
    seen: dict[str, int] = {}
    for n, record in enumerate(read_records(path), start=1):
        row = _Row(record, n, problems)
        client_id = row.text("client_id", required=True)
        case_id = row.text("case_id", required=True)
        result = row.text("result", required=True)
        when_text = row.text("visited_at", required=True)
        if result is not None and result not in OUTCOME_RESULTS:
            row.problem("result", f"unknown result {result!r} (one of {', '.join(OUTCOME_RESULTS)})")
            result = None
        visited_at = None
        if when_text is not None:
            try:
                visited_at = dt.datetime.fromisoformat(when_text)
            except ValueError:
                row.problem("visited_at", f"not an ISO 8601 time: {when_text!r}")
            else:
                if visited_at.tzinfo is None:
                    row.problem("visited_at", f"needs a UTC offset (e.g. +08:00): {when_text!r}")
                    visited_at = None
        if client_id is not None and client_id in seen:
            row.problem("client_id", f"repeats row {seen[client_id]}")
            continue
        if client_id is not None:
            seen[client_id] = n
        if client_id is None or case_id is None or result is None or visited_at is None:
            continue
        promised = row.text("promised_date")
        address_kind = row.text("address_kind")
        if address_kind is not None and address_kind not in ADDRESS_KINDS:
            row.problem("address_kind", f"unknown address kind {address_kind!r} (one of {', '.join(ADDRESS_KINDS)})")
            continue
        try:
            outcomes.append(
                Outcome(
                    client_id=client_id,
                    case_id=case_id,
                    team_id=row.text("team_id") or "",
                    officer_id=row.text("officer_id") or "",
                    visited_at=visited_at,
                    result=result,
                    plan_id=row.text("plan_id"),
                    promised_date=dt.date.fromisoformat(promised) if promised else None,
                    note=row.text("note"),
                    recording_ref=row.text("recording_ref"),
                    address_kind=address_kind,
                )
            )
        except (InvalidInputError, ValueError) as exc:
            row.problem(None, str(exc))
    if problems:
        raise InputFileError(path, problems)
    return outcomes


def observations(
    outcomes: Sequence[Outcome], cases: Sequence[Case], timezone: str, country: str
) -> tuple[list[Observation], list[str]]:
    """Outcomes as the presence model sees them; also the case ids of outcomes whose case is unknown.

    The local clock hour is read in ``timezone`` and the day type from ``country``'s calendar. A visit at the
    customer's work or registered address says nothing about when they are at home (nor whether the home address
    is right), so it is left out, as the API does.
    """
    by_case = {c.case_id: c for c in cases}
    zone = ZoneInfo(timezone)
    kinds: dict[dt.date, str] = {}
    out: list[Observation] = []
    unknown: list[str] = []
    for o in outcomes:
        case = by_case.get(o.case_id)
        if case is None:
            unknown.append(o.case_id)
            continue
        if o.address_kind not in (None, "home"):
            continue
        local = o.visited_at.astimezone(zone)
        kind = kinds.get(local.date())
        if kind is None:
            kind = kinds[local.date()] = day_type(local.date(), country)
        out.append(Observation(case.customer_id, case.segment, kind, local, o.result, key=o.client_id))
    return out, unknown


def learn_from_history(
    path: Path,
    cases: Sequence[Case],
    timezone: str,
    country: str,
    store: Path | None = None,
    prior: PresencePrior | None = None,
    settings: LearningSettings | None = None,
) -> tuple[PresenceModel, int, list[str]]:
    """The presence model after the outcomes of ``path``: from ``store`` when it exists, saved back to it.

    Outcomes already learnt (same ``client_id``) are not counted twice. Returns the model, how many outcomes
    carried presence evidence, and the case ids of outcomes that match no case.
    """
    prior = prior or PresencePrior.load_default()
    if store is not None and store.is_file():
        model = PresenceModel.load(store, prior, settings)
    else:
        model = PresenceModel(prior, settings)
    model.ensure([c.customer_id for c in cases], [c.segment for c in cases])
    obs, unknown = observations(read_outcomes(path), cases, timezone, country)
    learnt = model.update(obs)
    if store is not None:
        model.save(store)
    return model, learnt, unknown


def learn_presence(
    history: Path | None, store: Path | None, cases: Sequence[Case], timezone: str, country: str
) -> PresenceModel:
    """The CLI's ``--history`` / ``--presence-store``: the model to plan with (history optional with a store)."""
    if history is None:
        prior = PresencePrior.load_default()
        if store is not None and store.is_file():
            return PresenceModel.load(store, prior)
        return PresenceModel(prior)
    if not history.is_file():
        msg = f"--history: no such file: {history}"
        raise ConfigurationError(msg)
    model, _, _ = learn_from_history(history, cases, timezone, country, store)
    return model
