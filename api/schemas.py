"""Pydantic models of the HTTP API (the only place they live), with the examples shown in the OpenAPI document."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from routing.model import OUTCOME_RESULTS, SEGMENTS

OutcomeResult = Literal[
    "met", "not_home", "refused", "promise_to_pay", "appointment_made", "wrong_address", "moved", "other"
]
assert set(OutcomeResult.__args__) == set(OUTCOME_RESULTS)  # type: ignore[attr-defined]
Segment = Literal[
    "employed", "shift_worker", "self_employed", "farmer", "retired", "unemployed", "caregiver", "student", "unknown"
]
assert set(Segment.__args__) == set(SEGMENTS)  # type: ignore[attr-defined]
Id = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")


class ErrorBody(BaseModel):
    code: str = Field(examples=["invalid"])
    message: str = Field(examples=["body.visited_at: needs a UTC offset"])
    details: Any = None


class ErrorResponse(BaseModel):
    """Every error: what went wrong, in words and in a stable code, with the fields at fault in ``details``."""

    error: ErrorBody


def json_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for error answers that are JSON even where the success is HTML."""
    schema = {"$ref": "#/components/schemas/ErrorResponse"}
    return {s: {"description": "error", "content": {"application/json": {"schema": schema}}} for s in statuses}


class CaseIn(BaseModel):
    """One case (the columns of a cases file; see the README). Unknown fields are refused."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "case_id": "C17",
                    "customer_id": "P9001",
                    "address": "Calle Venustiano Carranza 101",
                    "segment": "retired",
                    "overdue_amount": 12000,
                    "overdue_days": 95,
                    "phone": "+52 449 123 4567",
                }
            ]
        },
    )

    case_id: str = Id
    customer_id: str = Id
    name: str | None = Field(None, max_length=400)
    phone: str | None = Field(None, max_length=40)
    address: str | None = Field(None, max_length=1000)
    work_address: str | None = Field(None, max_length=1000)
    registered_address: str | None = Field(None, max_length=1000)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    segment: Segment | None = None
    overdue_amount: float | None = Field(None, ge=0, le=1e15)
    overdue_days: int | None = Field(None, ge=0, le=100_000)
    priority: float | None = Field(None, ge=0, le=100)
    service_min: float | None = Field(None, ge=1, le=480)
    skills: list[str] | str | None = None
    appointment: str | None = Field(None, max_length=60, examples=["18:00-19:00"])
    pin_team: str | None = Field(None, max_length=200)
    branch: str | None = Field(None, max_length=200)
    state: Literal["open", "closed"] | None = None


class RowError(BaseModel):
    row: int = Field(examples=[3], description="1-based position in the list (or CSV data row)")
    field: str | None = Field(examples=["segment"])
    error: str = Field(examples=["unknown segment 'pilot'; one of employed, …"])


class ImportReport(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"accepted": 2, "rejected": []}]})

    accepted: int
    rejected: list[RowError]


class OutcomeBrief(BaseModel):
    client_id: str
    result: str
    visited_at: str
    team_id: str


class CaseOut(BaseModel):
    """A stored case: what was sent, where it is placed, its lifecycle state and its visits."""

    case_id: str
    customer_id: str
    state: str = Field(examples=["open"], description="open, planned, done, cooldown, suspended, needs_address, closed")
    state_until: dt.date | None = None
    record: dict[str, Any]
    geocode: dict[str, Any] | None = Field(
        None, examples=[{"lat": 21.88, "lon": -102.29, "source": "geocoder", "precision": "house", "status": "ok"}]
    )
    visits: list[OutcomeBrief]


class TeamIn(BaseModel):
    """A team (the columns of a teams file). ``team_id`` comes from the path."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "members": ["li", "wang"],
                    "start_lat": 21.8818,
                    "start_lon": -102.2916,
                    "shift_start": "12:00",
                    "shift_end": "21:00",
                    "break_start": "16:00",
                    "break_end": "18:00",
                    "break_min": 30,
                }
            ]
        },
    )

    members: list[str] | str
    start_address: str | None = Field(None, max_length=1000)
    start_lat: float | None = Field(None, ge=-90, le=90)
    start_lon: float | None = Field(None, ge=-180, le=180)
    end_address: str | None = Field(None, max_length=1000)
    end_lat: float | None = Field(None, ge=-90, le=90)
    end_lon: float | None = Field(None, ge=-180, le=180)
    shift_start: str = Field(max_length=5, examples=["12:00"])
    shift_end: str = Field(max_length=5, examples=["21:00"])
    break_start: str | None = Field(None, max_length=5)
    break_end: str | None = Field(None, max_length=5)
    break_min: float | None = Field(None, ge=1, le=480)
    profile: Literal["car", "ebike", "walk"] | None = None
    skills: list[str] | str | None = None
    max_visits: int | None = Field(None, ge=0, le=1000)
    branch: str | None = Field(None, max_length=200)


class TeamOut(BaseModel):
    team_id: str
    record: dict[str, Any]
    updated_at: dt.datetime


class PlanRequest(BaseModel):
    """What to plan: a date, optionally only some teams and cases, and the solver's time budget."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"date": "2026-12-01", "team_ids": ["T1", "T2"], "time_limit_s": 10}]},
    )

    date: dt.date
    team_ids: list[str] | None = Field(None, max_length=1000)
    case_ids: list[str] | None = Field(None, max_length=100_000)
    time_limit_s: float | None = Field(None, gt=0, le=3600)
    seed: int | None = Field(None, ge=0, le=2**31 - 1, description="reproducible run: stop on a solution count")


class PlanAccepted(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"plan_id": "3f2a9c1e0b7d", "status_url": "/v1/plans/3f2a9c1e0b7d"}]}
    )

    plan_id: str
    status_url: str


class PlanStatus(BaseModel):
    """A planning job: ``progress`` runs from 0 to 1 through the named ``stage``s."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "plan_id": "3f2a9c1e0b7d",
                    "status": "running",
                    "stage": "solving",
                    "progress": 0.4,
                    "approval": "draft",
                    "summary": None,
                    "error": None,
                }
            ]
        }
    )

    plan_id: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    stage: str
    progress: float
    approval: Literal["draft", "approved"]
    date: dt.date
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    summary: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class PinEdit(BaseModel):
    """Only ``team_id`` may visit the case, and the plan must visit it (kept in later edits)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"op": "pin", "case_id": "C17", "team_id": "T2"}]}
    )

    op: Literal["pin"]
    case_id: str = Id
    team_id: str = Id


class MoveEdit(BaseModel):
    """A planned stop goes to ``team_id`` (pinned there from now on), tried at ``position`` (1-based) of that
    team's route when given; the re-optimisation may still change the order within the route."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"op": "move", "case_id": "C17", "team_id": "T2", "position": 3}]},
    )

    op: Literal["move"]
    case_id: str = Id
    team_id: str = Id
    position: int | None = Field(None, ge=1, le=10_000)


class AddEdit(BaseModel):
    """A stored case joins the plan and must be visited, by ``team_id`` when given (then pinned there)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"op": "add", "case_id": "C99"}]})

    op: Literal["add"]
    case_id: str = Id
    team_id: str | None = Field(None, min_length=1, max_length=200)


class RemoveEdit(BaseModel):
    """A planned stop leaves the plan (``dropped`` with code ``removed``) and stays out until added again."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"op": "remove", "case_id": "C5"}]})

    op: Literal["remove"]
    case_id: str = Id


PlanEdit = Annotated[PinEdit | MoveEdit | AddEdit | RemoveEdit, Field(discriminator="op")]


class PlanEdits(BaseModel):
    """A supervisor's edits of a draft plan, applied in order; the plan is then re-optimised around them.

    ``expected_revision`` (optional) is the plan revision the edits were made against: when another edit got
    there first the request answers 409 instead of editing a plan the sender has not seen.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "edits": [
                        {"op": "pin", "case_id": "C17", "team_id": "T2"},
                        {"op": "move", "case_id": "C21", "team_id": "T1", "position": 2},
                        {"op": "add", "case_id": "C99", "team_id": "T3"},
                        {"op": "remove", "case_id": "C5"},
                    ],
                    "expected_revision": 1,
                }
            ]
        },
    )

    edits: list[PlanEdit] = Field(min_length=1, max_length=500)
    expected_revision: int | None = Field(None, ge=1)


class OutcomeIn(BaseModel):
    """A visit's outcome. ``client_id`` (a UUID chosen by the phone) makes a repeat harmless."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "client_id": "6c1f2f0e-8f0e-4a53-9a55-2f1d3c4b5a69",
                    "plan_id": "3f2a9c1e0b7d",
                    "team_id": "T1",
                    "officer_id": "li",
                    "case_id": "C17",
                    "visited_at": "2026-12-01T18:07:00-06:00",
                    "result": "promise_to_pay",
                    "promised_date": "2026-12-15",
                    "lat": 21.8821,
                    "lon": -102.2919,
                    "accuracy_m": 12,
                }
            ]
        },
    )

    client_id: uuid.UUID
    plan_id: str | None = Field(None, min_length=1, max_length=40)
    team_id: str = Id
    officer_id: str = Id
    case_id: str = Id
    visited_at: AwareDatetime
    result: OutcomeResult
    promised_date: dt.date | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    accuracy_m: float | None = Field(None, ge=0, le=100_000)
    crs: Literal["wgs84", "gcj02"] = "wgs84"
    note: str | None = Field(None, max_length=4000)
    recording_ref: str | None = Field(None, max_length=500)
    address_kind: Literal["home", "work", "registered"] | None = Field(
        None,
        description="Which of the case's addresses the visit was at (the stop's address_kind; absent = home). "
        "Only visits at home teach P(home) and may move the home address by GPS.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> OutcomeIn:
        if (self.lat is None) != (self.lon is None):
            msg = "lat and lon go together"
            raise ValueError(msg)
        if self.result == "promise_to_pay" and self.promised_date is None:
            msg = "promised_date is required with result promise_to_pay"
            raise ValueError(msg)
        if self.result != "promise_to_pay" and self.promised_date is not None:
            msg = "promised_date only goes with result promise_to_pay"
            raise ValueError(msg)
        if not dt.datetime(1970, 1, 2, tzinfo=dt.UTC) <= self.visited_at <= dt.datetime(9999, 1, 1, tzinfo=dt.UTC):
            msg = "visited_at is out of range"
            raise ValueError(msg)
        return self


class OutcomeOut(BaseModel):
    """The stored outcome, as recorded (the same answer for every repeat)."""

    id: int
    client_id: str
    case_id: str
    team_id: str
    plan_id: str | None
    result: str
    visited_at: dt.datetime
    recorded_at: dt.datetime
    case_state: str
    outcome: dict[str, Any]


class ReplanRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"now": "2026-12-01T16:30:00-06:00", "lat": 21.8821, "lon": -102.2919, "accuracy_m": 15}]
        },
    )

    now: AwareDatetime
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(None, ge=0, le=100_000)


class PresenceHour(BaseModel):
    day_type: str
    hour: int
    p_home: float
    prior: float
    home: int
    away: int


class AddressFlag(BaseModel):
    result: str = Field(description="wrong_address or moved")
    at: str = Field(description="local time of the visit that reported it")


class PresenceOut(BaseModel):
    """P(home) by day type and hour as the planner sees it: the segment prior taught by every stored outcome
    (routing.learning.PresenceModel: per-hour Beta evidence shared across nearby hours, decaying with age, and an
    "away for a while" state). ``home`` / ``away`` are the raw outcome counts of each hour."""

    customer_id: str
    segment: str
    visits: int = Field(0, description="outcomes that carried presence evidence")
    away_probability: float | None = Field(None, description="P(the customer is away for a while), now")
    address_flag: AddressFlag | None = None
    hours: list[PresenceHour]


class Rate(BaseModel):
    """A proportion with its Wilson 95 % interval; ``null`` rate and bounds when there were no trials."""

    rate: float | None
    low: float | None
    high: float | None
    successes: int
    trials: int


RATE_DESCRIPTION = (
    "contact: someone opened the door (met, refused, promise_to_pay, appointment_made) per visit; promise_to_pay:"
    " promises per visit; kept_promise: promises paid by their date (the case closed by the loan system) per"
    " promise whose date has passed; wrong_address: per visit"
)


class RateGroup(BaseModel):
    group: str
    visits: int
    contacts: int
    rate: float = Field(description="the contact rate (contacts / visits)")
    low: float = Field(description="Wilson 95 % interval of the contact rate, lower bound")
    high: float
    rates: dict[Literal["contact", "promise_to_pay", "kept_promise", "wrong_address"], Rate] = Field(
        default_factory=dict, description=RATE_DESCRIPTION
    )


class TrendWeek(BaseModel):
    week: str = Field(description="the Monday the week starts on (local date)", examples=["2026-11-30"])
    visits: int
    rates: dict[Literal["contact", "promise_to_pay", "kept_promise", "wrong_address"], Rate]


class AnalyticsOut(BaseModel):
    group_by: str
    from_: dt.date | None = Field(None, alias="from")
    to: dt.date | None = None
    groups: list[RateGroup]
    trend: list[TrendWeek] = Field(default_factory=list, description="the same rates week by week, oldest first")

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "group_by": "segment",
                    "from": "2026-11-01",
                    "to": "2026-11-30",
                    "groups": [
                        {
                            "group": "retired",
                            "visits": 120,
                            "contacts": 66,
                            "rate": 0.55,
                            "low": 0.461,
                            "high": 0.636,
                            "rates": {
                                "contact": {"rate": 0.55, "low": 0.461, "high": 0.636, "successes": 66, "trials": 120},
                                "promise_to_pay": {
                                    "rate": 0.1,
                                    "low": 0.058,
                                    "high": 0.167,
                                    "successes": 12,
                                    "trials": 120,
                                },
                                "kept_promise": {
                                    "rate": 0.5,
                                    "low": 0.237,
                                    "high": 0.763,
                                    "successes": 5,
                                    "trials": 10,
                                },
                                "wrong_address": {
                                    "rate": 0.025,
                                    "low": 0.009,
                                    "high": 0.071,
                                    "successes": 3,
                                    "trials": 120,
                                },
                            },
                        }
                    ],
                    "trend": [],
                }
            ]
        },
    )


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    jobs: dict[str, int]
