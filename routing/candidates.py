"""The pre-solve pass: which team may visit which case, in which slots, and why a case cannot be planned.

Every located open case leaves here either as a ``Candidate`` for the solver or as a ``Dropped`` record with
its code (CONTRACTS.md): the solver itself only ever adds ``not_worth_detour``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from routing.learning import PresenceSource
from routing.model import Case, Dropped, Slot, Team, TimeWindow
from routing.solver import Alternative, Candidate, copy_window

SLOT_SECONDS = 3600
# P(found at the registered residence) as a share of P(home) there: the customer often lives elsewhere (a
# registration left behind in a home town), so a visit there mostly finds family. An assumption, not a measurement,
# until outcomes are learnt per address kind.
REGISTERED_SHARE = 0.3
ALTERNATIVE_KINDS = ("work", "registered")


@dataclass(frozen=True, slots=True)
class ScaledPresence:
    """A presence source whose every P is ``factor`` times another's (the registered residence's)."""

    base: PresenceSource
    factor: float

    def case_slot_p_home(self, case: Case, day_type: str, start_s: int, end_s: int) -> float:
        return self.factor * self.base.case_slot_p_home(case, day_type, start_s, end_s)


@dataclass(frozen=True, slots=True)
class SlotPolicy:
    """How candidate slots are made.

    Parameters
    ----------
    legal
        The legal visiting window (08:00-22:00 by default; never wider).
    max_slots
        Copies kept per case: the best few slots by P(home) (DESIGN.md §4).
    appointment_p_home
        P(home) assumed inside an agreed appointment window.
    anytime
        Add one more copy per case spanning every reachable legal hour, valued at the lowest P(home) of those
        hours: a team with spare time can still make the visit, and the plan never overstates its chance
        (the stop is re-labelled with the hour it falls in after solving, ``relabel_anytime``). Measured in
        BENCHMARKS.md: without it, 1-hour slot copies alone leave teams idle.
    min_p_home
        No copy is offered at an hour whose P(home) is below this: a knock on an empty home still uses one of the
        customer's capped visits and an officer's time. A case with no reachable hour at or above it is dropped
        as ``unlikely_home``; the anytime copy then spans only the run of such hours around the best one.
        0 offers every hour (BENCHMARKS.md, issue 5, for what a floor does to contacts and hit rate).
    """

    legal: TimeWindow
    max_slots: int = 3
    appointment_p_home: float = 0.9
    anytime: bool = True
    min_p_home: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_p_home < 1.0:
            msg = f"min_p_home must be in [0, 1), got {self.min_p_home!r}"
            raise ValueError(msg)


def build_candidates(
    cases: Sequence[Case],
    location_index: Mapping[str, int],
    teams: Sequence[Team],
    team_start_index: Sequence[int],
    team_end_index: Sequence[int],
    travel: Mapping[str, np.ndarray],
    presence: PresenceSource,
    day_type: str,
    policy: SlotPolicy,
    alternative_index: Mapping[tuple[str, str], int] | None = None,
    alternative_presence: Mapping[str, PresenceSource] | None = None,
    floor_exempt: Collection[str] = (),
) -> tuple[list[Candidate], list[Dropped]]:
    """Split located cases into solver candidates and pre-solve drops.

    Parameters
    ----------
    cases
        Cases with a location; ``location_index[case_id]`` is the case's row in the travel matrices.
    teams, team_start_index, team_end_index
        The day's teams and their depots' matrix rows.
    travel
        Seconds between matrix rows, per travel profile.
    presence
        P(home) per case and slot: the segment prior, or a customer's learnt posterior
        (``PresenceModel.for_cases``).
    day_type
        ``workday``, ``rest_day`` or ``public_holiday``.
    policy
        Legal window and slot settings.
    alternative_index
        Matrix row of a case's other address, by ``(case_id, "work" | "registered")``; such an address joins the
        case's disjunction with its own slots (not for appointments, which are agreed for the home address).
    alternative_presence
        P(found) per alternative address kind (``alternative_sources``); required with ``alternative_index``.
    floor_exempt
        Case ids the presence floor (``policy.min_p_home``) does not apply to: a supervisor required them.

    Returns
    -------
    tuple
        The candidates and the dropped cases.
    """
    candidates: list[Candidate] = []
    dropped: list[Dropped] = []
    alt_index = alternative_index or {}
    unfloored = dataclasses.replace(policy, min_p_home=0.0)
    for case in cases:
        case_policy = unfloored if case.case_id in floor_exempt else policy
        if case.state == "closed":
            dropped.append(Dropped(case.case_id, "closed", "the case is closed (paid or withdrawn)"))
            continue
        eligible, reason = _eligible_teams(case, teams)
        if reason is not None:
            dropped.append(reason)
            continue
        row = location_index[case.case_id]
        reach = {
            t: _reachable_window(teams[t], case.service_s, travel, team_start_index[t], team_end_index[t], row)
            for t in eligible
        }
        if case.appointment is not None:
            slots, drop = _appointment_slot(case, reach, case_policy)
        else:
            slots, drop = _presence_slots(case, reach, presence, day_type, case_policy)
        if drop is not None:
            dropped.append(drop)
            continue
        allowed = {t for t in eligible if reach[t] is not None}
        others: list[Alternative] = []
        for kind in ALTERNATIVE_KINDS if case.appointment is None else ():
            alt_row = alt_index.get((case.case_id, kind))
            location = case.location_of(kind)
            if alt_row is None or location is None:
                continue
            assert alternative_presence is not None, "alternative_index needs alternative_presence"
            alt_reach = {
                t: _reachable_window(teams[t], case.service_s, travel, team_start_index[t], team_end_index[t], alt_row)
                for t in eligible
            }
            alt_slots, _ = _presence_slots(case, alt_reach, alternative_presence[kind], day_type, case_policy)
            if alt_slots:
                address = case.work_address if kind == "work" else case.registered_address
                others.append(Alternative(alt_row, location, address, kind, alt_slots))
                allowed |= {t for t, r in alt_reach.items() if r is not None}
        candidates.append(
            Candidate(
                case_id=case.case_id,
                customer_id=case.customer_id,
                location_index=row,
                location=case.location,  # type: ignore[arg-type]  # located cases only
                address=case.address,
                service_s=case.service_s,
                value=max(1.0, case.priority),
                slots=slots,
                allowed_teams=tuple(sorted(allowed)),
                alternatives=tuple(others),
            )
        )
    return candidates, dropped


def alternative_sources(home: PresenceSource, work: PresenceSource) -> dict[str, PresenceSource]:
    """P(found) at each alternative address kind: the workplace table at work, a share of P(home) at the
    registered residence."""
    return {"work": work, "registered": ScaledPresence(home, REGISTERED_SHARE)}


def _eligible_teams(case: Case, teams: Sequence[Team]) -> tuple[list[int], Dropped | None]:
    in_branch = [i for i, t in enumerate(teams) if t.branch == case.branch]
    if not in_branch:
        where = f"branch {case.branch!r}" if case.branch else "the default branch"
        return [], Dropped(case.case_id, "no_team_in_branch", f"no team works in {where}")
    if case.pin_team is not None:
        in_branch = [i for i in in_branch if teams[i].team_id == case.pin_team]
        if not in_branch:
            msg = f"pinned to team {case.pin_team}, which is not planned in the case's branch today"
            return [], Dropped(case.case_id, "no_team_in_branch", msg)
    skilled = [i for i in in_branch if case.skills <= teams[i].skills]
    if not skilled:
        need = ", ".join(sorted(case.skills))
        return [], Dropped(case.case_id, "skill_missing", f"no team in its branch has the skills: {need}")
    return skilled, None


def _reachable_window(
    team: Team,
    service_s: int,
    travel: Mapping[str, np.ndarray],
    start_row: int,
    end_row: int,
    row: int,
) -> TimeWindow | None:
    """Service starts at which ``team`` can reach the case from its depot and still get back in its shift."""
    matrix = travel[team.profile]
    earliest = team.shift.start + int(np.ceil(matrix[start_row, row]))
    latest = team.shift.end - service_s - int(np.ceil(matrix[row, end_row]))
    if earliest > latest:
        return None
    return TimeWindow(max(0, earliest), latest)


def _feasible(window: TimeWindow | None, reach: Mapping[int, TimeWindow | None]) -> bool:
    return window is not None and any(r is not None and r.intersect(window) is not None for r in reach.values())


def _appointment_slot(
    case: Case, reach: Mapping[int, TimeWindow | None], policy: SlotPolicy
) -> tuple[tuple[Slot, ...], Dropped | None]:
    appointment = case.appointment
    assert appointment is not None
    window = copy_window(appointment, policy.legal, case.service_s)
    if window is None:
        msg = f"appointment {appointment} leaves no legal visit time (legal hours {policy.legal})"
        return (), Dropped(case.case_id, "appointment_unreachable", msg)
    if not _feasible(window, reach):
        msg = f"no team can reach the customer within the appointment {appointment} and its shift"
        return (), Dropped(case.case_id, "appointment_unreachable", msg)
    return (Slot("appointment", window, policy.appointment_p_home),), None


def _presence_slots(
    case: Case,
    reach: Mapping[int, TimeWindow | None],
    presence: PresenceSource,
    day_type: str,
    policy: SlotPolicy,
) -> tuple[tuple[Slot, ...], Dropped | None]:
    options: list[Slot] = []
    first = policy.legal.start - policy.legal.start % SLOT_SECONDS
    for start in range(first, policy.legal.end, SLOT_SECONDS):
        hour = TimeWindow(start, min(start + SLOT_SECONDS, 24 * 3600))
        window = copy_window(hour, policy.legal, case.service_s)
        if not _feasible(window, reach):
            continue
        assert window is not None
        p = presence.case_slot_p_home(case, day_type, hour.start, hour.end)
        options.append(Slot("presence", window, p))
    if not options:
        msg = "no legal hour of the day falls inside a reachable part of any eligible team's shift"
        return (), Dropped(case.case_id, "no_feasible_slot", msg)
    # The anytime copy spans one unbroken run of offered hours (with no floor: all of them).
    span_options = options
    if policy.min_p_home > 0.0:
        best = max(options, key=lambda s: s.p_home)
        if best.p_home < policy.min_p_home:
            best_hour = best.window.start // SLOT_SECONDS
            msg = (
                f"P(home) is below {policy.min_p_home:.2f} at every reachable hour "
                f"(best {best.p_home:.2f} at {best_hour:02d}:00)"
            )
            return (), Dropped(case.case_id, "unlikely_home", msg)
        span_options = _run_around(options, best, policy.min_p_home)
        options = [s for s in options if s.p_home >= policy.min_p_home]
    # The best few slots by P(home); earlier slots first among equals.
    options.sort(key=lambda s: (-s.p_home, s.window.start))
    chosen = options[: policy.max_slots]
    # A team whose shift misses all of those still gets its own best slot: a likely-absent visit by a team
    # with spare time is worth more than no visit at all.
    for window in {r for r in reach.values() if r is not None}:
        if any(s.window.intersect(window) is not None for s in chosen):
            continue
        own = next((s for s in options if s.window.intersect(window) is not None), None)
        if own is not None and own not in chosen:
            chosen.append(own)
    if policy.anytime and len(span_options) > len([s for s in chosen if s in span_options]):
        span = TimeWindow(min(s.window.start for s in span_options), max(s.window.end for s in span_options))
        chosen.append(Slot("presence", span, min(s.p_home for s in span_options)))
    return tuple(sorted(chosen, key=lambda s: (s.window.start, s.window.end))), None


def _run_around(options: Sequence[Slot], best: Slot, floor: float) -> list[Slot]:
    """The hourly options at or above ``floor`` that join ``best`` without a gap (options are in hour order)."""
    at = options.index(best)
    first = at
    while first > 0 and options[first - 1].p_home >= floor and _adjacent(options[first - 1], options[first]):
        first -= 1
    last = at
    while last + 1 < len(options) and options[last + 1].p_home >= floor and _adjacent(options[last], options[last + 1]):
        last += 1
    return list(options[first : last + 1])


def _adjacent(earlier: Slot, later: Slot) -> bool:
    """Whether two hourly options are consecutive clock hours."""
    return later.window.start // SLOT_SECONDS == earlier.window.start // SLOT_SECONDS + 1


def relabel_anytime(
    slot: Slot, service_start: int, case: Case, presence: PresenceSource, day_type: str, legal: TimeWindow
) -> Slot:
    """The clock-hour slot a visit made on a multi-hour copy falls in, with that hour's P(home).

    A slot of at most one hour is returned as it is.
    """
    if slot.kind != "presence" or slot.window.duration <= SLOT_SECONDS:
        return slot
    hour = service_start - service_start % SLOT_SECONDS
    window = TimeWindow(max(hour, slot.window.start), min(hour + SLOT_SECONDS, slot.window.end))
    p = presence.case_slot_p_home(case, day_type, hour, min(hour + SLOT_SECONDS, 24 * 3600))
    return Slot("presence", window, p)
