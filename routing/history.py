"""Visit caps and the cool-down after a refusal, from the visit history (DESIGN.md §2).

Caps count per customer, not per case: a customer with two loans is still one person at the door. The rolling
week is the seven days ending on the plan date. After a refusal on day d, the customer is not visited again
before day d + ``cooldown_days``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from routing.errors import InvalidInputError
from routing.model import Case, Dropped, Outcome

__all__ = ["CustomerHistory", "VisitRules", "allowances", "summarize"]

# Every recorded outcome is a visit and counts toward the caps; the rolling week is this many days.
_WEEK_DAYS = 7


@dataclass(frozen=True, slots=True)
class VisitRules:
    """The compliance caps: visits per customer per day and per rolling week, and the cool-down in days."""

    max_per_day: int = 1
    max_per_week: int = 3
    cooldown_days: int = 14

    def __post_init__(self) -> None:
        if self.max_per_day < 0 or self.max_per_week < 0 or self.cooldown_days < 0:
            msg = f"visit caps and cool-down must be >= 0, got {self}"
            raise InvalidInputError(msg)


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    """What the history says about one customer, seen from the plan date."""

    visits_today: int = 0
    visits_week: int = 0
    last_refusal: dt.date | None = None


def summarize(
    outcomes: Iterable[Outcome], cases: Iterable[Case], date: dt.date, timezone: str
) -> dict[str, CustomerHistory]:
    """Per customer id: visits on the plan date, in the rolling week ending on it, and the last refusal before it.

    Outcomes after the plan date are ignored; an outcome for a case not in ``cases`` is ignored too (its
    customer is unknown).
    """
    zone = ZoneInfo(timezone)
    customer_of = {c.case_id: c.customer_id for c in cases}
    week_start = date - dt.timedelta(days=_WEEK_DAYS - 1)
    today: dict[str, int] = {}
    week: dict[str, int] = {}
    refusal: dict[str, dt.date] = {}
    for outcome in outcomes:
        customer = customer_of.get(outcome.case_id)
        if customer is None:
            continue
        day = outcome.visited_at.astimezone(zone).date()
        if day > date:
            continue
        if day == date:
            today[customer] = today.get(customer, 0) + 1
        if day >= week_start:
            week[customer] = week.get(customer, 0) + 1
        if outcome.result == "refused" and (customer not in refusal or refusal[customer] < day):
            refusal[customer] = day
    return {
        customer: CustomerHistory(today.get(customer, 0), week.get(customer, 0), refusal.get(customer))
        for customer in set(today) | set(week) | set(refusal)
    }


def allowances(
    cases: Iterable[Case], history: Mapping[str, CustomerHistory], date: dt.date, rules: VisitRules
) -> tuple[dict[str, int], list[Dropped]]:
    """Visits still allowed today per customer (only customers with a binding cap), and cases dropped for it.

    A case is dropped with ``cooldown`` while its customer's cool-down runs, with ``visit_cap`` when the day's or
    the week's cap is used up; otherwise the customer may get ``min(day left, week left)`` visits today.
    """
    caps: dict[str, int] = {}
    dropped: list[Dropped] = []
    by_customer: dict[str, list[Case]] = {}
    for case in cases:
        by_customer.setdefault(case.customer_id, []).append(case)
    for customer, own in by_customer.items():
        seen = history.get(customer, CustomerHistory())
        if seen.last_refusal is not None:
            until = seen.last_refusal + dt.timedelta(days=rules.cooldown_days)
            if date < until:
                msg = f"refused on {seen.last_refusal}; cool-down until {until}"
                dropped.extend(Dropped(c.case_id, "cooldown", msg) for c in own)
                continue
        left = min(rules.max_per_day - seen.visits_today, rules.max_per_week - seen.visits_week)
        if left <= 0:
            msg = (
                f"customer {customer} had {seen.visits_today} visit(s) today and {seen.visits_week} this week "
                f"(caps {rules.max_per_day}/day, {rules.max_per_week}/week)"
            )
            dropped.extend(Dropped(c.case_id, "visit_cap", msg) for c in own)
            continue
        if len(own) > left:
            caps[customer] = left
    return caps, dropped
