"""Core domain types of a planning day.

All are frozen, slotted dataclasses validated on construction. Times of day are integer seconds since midnight
on the plan date, wall-clock in the plan's time zone (``TimeWindow``); the solver works on these integers and
only the output layer turns them into ISO 8601 timestamps.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field

from geo.types import Location
from routing.errors import InfeasibleTeamError, InvalidInputError

__all__ = [
    "ADDRESS_KINDS",
    "CASE_STATES",
    "DAY_SECONDS",
    "DROP_CODES",
    "OUTCOME_RESULTS",
    "PROFILES",
    "SEGMENTS",
    "UNRESOLVED_CODES",
    "Break",
    "Case",
    "Dropped",
    "Location",
    "Outcome",
    "Plan",
    "Slot",
    "SolverInfo",
    "Team",
    "TeamDay",
    "TimeWindow",
    "Unresolved",
    "Visit",
]

DAY_SECONDS = 24 * 3600

SEGMENTS = (
    "employed",
    "shift_worker",
    "self_employed",
    "farmer",
    "retired",
    "unemployed",
    "caregiver",
    "student",
    "unknown",
)
PROFILES = ("car", "ebike", "walk")
CASE_STATES = ("open", "closed")
ADDRESS_KINDS = ("home", "work", "registered")
OUTCOME_RESULTS = (
    "met",
    "not_home",
    "refused",
    "promise_to_pay",
    "appointment_made",
    "wrong_address",
    "moved",
    "other",
)
UNRESOLVED_CODES = ("no_match", "low_confidence", "off_network", "outside_region", "unreachable_island")
DROP_CODES = (
    "not_worth_detour",
    "no_team_in_branch",
    "skill_missing",
    "no_feasible_slot",
    "unlikely_home",
    "appointment_unreachable",
    "visit_cap",
    "cooldown",
    "suspended",
    "closed",
    # The branch's partition failed on every attempt (see api/partitions.py); the message has the error.
    "partition_failed",
    # A supervisor took the case out of the plan (PATCH /v1/plans/{plan_id}, a ``remove`` edit).
    "removed",
)


def format_clock(seconds: int) -> str:
    """``HH:MM`` for seconds since midnight (used in messages)."""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A closed interval ``[start, end]`` of seconds since midnight on the plan date."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not (0 <= self.start <= self.end <= DAY_SECONDS):
            msg = f"time window must satisfy 0 <= start <= end <= 24:00, got {self.start}..{self.end}"
            raise InvalidInputError(msg)

    @property
    def duration(self) -> int:
        return self.end - self.start

    def contains(self, t: int) -> bool:
        return self.start <= t <= self.end

    def intersect(self, other: TimeWindow) -> TimeWindow | None:
        """The overlap of two windows, or ``None`` when they do not meet."""
        start, end = max(self.start, other.start), min(self.end, other.end)
        return TimeWindow(start, end) if start <= end else None

    def __str__(self) -> str:
        return f"{format_clock(self.start)}-{format_clock(self.end)}"


@dataclass(frozen=True, slots=True)
class Case:
    """One overdue loan to verify at the customer's address.

    ``location`` is ``None`` until the address is geocoded. ``priority`` is 0-100; the planner's value of
    meeting the customer is derived from it.
    """

    case_id: str
    customer_id: str
    address: str | None = None
    location: Location | None = None
    segment: str = "unknown"
    overdue_amount: float = 0.0
    overdue_days: int = 0
    priority: float = 50.0
    service_s: int = 20 * 60
    skills: frozenset[str] = frozenset()
    appointment: TimeWindow | None = None
    pin_team: str | None = None
    branch: str | None = None
    state: str = "open"
    name: str | None = None
    phone: str | None = None
    work_address: str | None = None
    work_location: Location | None = None
    registered_address: str | None = None
    registered_location: Location | None = None

    def location_of(self, address_kind: str) -> Location | None:
        """The point of one of the case's addresses (``home``, ``work``, ``registered``)."""
        if address_kind not in ADDRESS_KINDS:
            msg = f"case {self.case_id}: unknown address kind {address_kind!r} (one of {', '.join(ADDRESS_KINDS)})"
            raise InvalidInputError(msg)
        return {"home": self.location, "work": self.work_location, "registered": self.registered_location}[address_kind]

    def __post_init__(self) -> None:
        if not self.case_id:
            raise InvalidInputError("case_id must not be empty")
        if not self.customer_id:
            msg = f"case {self.case_id}: customer_id must not be empty"
            raise InvalidInputError(msg)
        if self.address is None and self.location is None:
            msg = f"case {self.case_id}: needs an address or a location"
            raise InvalidInputError(msg)
        if self.segment not in SEGMENTS:
            msg = f"case {self.case_id}: unknown segment {self.segment!r} (one of {', '.join(SEGMENTS)})"
            raise InvalidInputError(msg)
        if not (math.isfinite(self.overdue_amount) and self.overdue_amount >= 0):
            msg = f"case {self.case_id}: overdue_amount must be >= 0, got {self.overdue_amount!r}"
            raise InvalidInputError(msg)
        if self.overdue_days < 0:
            msg = f"case {self.case_id}: overdue_days must be >= 0, got {self.overdue_days!r}"
            raise InvalidInputError(msg)
        if not (0.0 <= self.priority <= 100.0):
            msg = f"case {self.case_id}: priority must be in [0, 100], got {self.priority!r}"
            raise InvalidInputError(msg)
        if not (0 < self.service_s <= 8 * 3600):
            msg = f"case {self.case_id}: service time must be between 1 s and 8 h, got {self.service_s} s"
            raise InvalidInputError(msg)
        if self.state not in CASE_STATES:
            msg = f"case {self.case_id}: unknown state {self.state!r} (one of {', '.join(CASE_STATES)})"
            raise InvalidInputError(msg)

    def with_location(self, location: Location) -> Case:
        """A copy of this case placed at ``location``."""
        return dataclasses.replace(self, location=location)


@dataclass(frozen=True, slots=True)
class Break:
    """A break of ``duration_s`` that lies wholly inside ``window``."""

    window: TimeWindow
    duration_s: int

    def __post_init__(self) -> None:
        if not (0 < self.duration_s <= self.window.duration):
            msg = f"break of {self.duration_s} s does not fit its window {self.window}"
            raise InvalidInputError(msg)


@dataclass(frozen=True, slots=True)
class Team:
    """A field team of at least two officers, with its shift and depot."""

    team_id: str
    members: tuple[str, ...]
    start: Location
    end: Location
    shift: TimeWindow
    lunch: Break | None = None
    profile: str = "car"
    skills: frozenset[str] = frozenset()
    max_visits: int | None = None
    branch: str | None = None

    def __post_init__(self) -> None:
        if not self.team_id:
            raise InvalidInputError("team_id must not be empty")
        if len(self.members) < 2:
            # Compliance: a home visit is made by at least two officers.
            msg = f"team {self.team_id} has {len(self.members)} member(s); a home visit needs at least two officers"
            raise InfeasibleTeamError(msg)
        if self.profile not in PROFILES:
            msg = f"team {self.team_id}: unknown profile {self.profile!r} (one of {', '.join(PROFILES)})"
            raise InvalidInputError(msg)
        if self.max_visits is not None and self.max_visits < 0:
            msg = f"team {self.team_id}: max_visits must be >= 0, got {self.max_visits}"
            raise InvalidInputError(msg)
        if self.lunch is not None and self.lunch.window.intersect(self.shift) is None:
            msg = f"team {self.team_id}: break window {self.lunch.window} lies outside the shift {self.shift}"
            raise InvalidInputError(msg)


@dataclass(frozen=True, slots=True)
class Slot:
    """A candidate time window for a visit with the chance of finding the customer at home in it."""

    kind: str
    window: TimeWindow
    p_home: float

    def __post_init__(self) -> None:
        if self.kind not in ("presence", "appointment"):
            msg = f"slot kind must be 'presence' or 'appointment', got {self.kind!r}"
            raise InvalidInputError(msg)
        if not (0.0 <= self.p_home <= 1.0):
            msg = f"p_home must be in [0, 1], got {self.p_home!r}"
            raise InvalidInputError(msg)


@dataclass(frozen=True, slots=True)
class Visit:
    """One planned stop of a team's day."""

    seq: int
    case_id: str
    customer_id: str
    address_kind: str
    location: Location
    arrival: int
    wait_s: int
    service_start: int
    departure: int
    slot: Slot
    value: float
    travel_s_from_previous: int
    address: str | None = None

    def __post_init__(self) -> None:
        if not (self.arrival <= self.service_start <= self.departure):
            msg = f"visit {self.case_id}: arrival <= service start <= departure does not hold"
            raise InvalidInputError(msg)
        if self.wait_s != self.service_start - self.arrival:
            msg = f"visit {self.case_id}: wait_s must equal service_start - arrival"
            raise InvalidInputError(msg)


@dataclass(frozen=True, slots=True)
class TeamDay:
    """A team's planned route: departure, stops in order, optional break, return.

    ``path`` is the road geometry of the whole day (depot, stops, depot) for the maps.
    """

    team: Team
    start_time: int
    end_time: int
    visits: tuple[Visit, ...]
    travel_s: int
    distance_m: float
    break_start: int | None = None
    break_after_seq: int | None = None
    path: tuple[Location, ...] = ()
    revision: int = 1

    @property
    def expected_contacts(self) -> float:
        return sum(v.slot.p_home for v in self.visits)


@dataclass(frozen=True, slots=True)
class Dropped:
    """A located case that the plan does not visit, with the reason."""

    case_id: str
    code: str
    message: str

    def __post_init__(self) -> None:
        if self.code not in DROP_CODES:
            msg = f"unknown drop code {self.code!r}"
            raise InvalidInputError(msg)


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A case with no usable point on the road network, with the reason."""

    case_id: str
    address: str | None
    code: str
    message: str

    def __post_init__(self) -> None:
        if self.code not in UNRESOLVED_CODES:
            msg = f"unknown unresolved code {self.code!r}"
            raise InvalidInputError(msg)


@dataclass(frozen=True, slots=True)
class SolverInfo:
    engine: str
    status: str
    time_s: float


@dataclass(frozen=True, slots=True)
class Plan:
    """The whole day: one route per team, plus every case that is not visited and why."""

    plan_id: str
    date: dt.date
    timezone: str
    routes: tuple[TeamDay, ...]
    dropped: tuple[Dropped, ...]
    unresolved: tuple[Unresolved, ...]
    solver: SolverInfo
    cases: int = 0
    expected_value: float = 0.0

    @property
    def planned(self) -> int:
        return sum(len(r.visits) for r in self.routes)

    @property
    def expected_contacts(self) -> float:
        return sum(r.expected_contacts for r in self.routes)

    @property
    def travel_s(self) -> int:
        return sum(r.travel_s for r in self.routes)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one visit, as recorded by the officer (the audit trail of DESIGN.md §2)."""

    client_id: str
    case_id: str
    team_id: str
    officer_id: str
    visited_at: dt.datetime
    result: str
    plan_id: str | None = None
    promised_date: dt.date | None = None
    location: Location | None = None
    accuracy_m: float | None = None
    note: str | None = None
    recording_ref: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # Which of the case's addresses the visit was at (None: home, as in exports that predate the column).
    address_kind: str | None = None

    def __post_init__(self) -> None:
        if self.address_kind is not None and self.address_kind not in ADDRESS_KINDS:
            msg = f"outcome {self.client_id}: unknown address kind {self.address_kind!r} ({', '.join(ADDRESS_KINDS)})"
            raise InvalidInputError(msg)
        if self.result not in OUTCOME_RESULTS:
            msg = f"unknown outcome result {self.result!r} (one of {', '.join(OUTCOME_RESULTS)})"
            raise InvalidInputError(msg)
        if self.visited_at.tzinfo is None:
            msg = f"outcome {self.client_id}: visited_at needs a UTC offset"
            raise InvalidInputError(msg)
