"""Rush-hour factors: a trip to a visit takes the factor of the visit's slot, and the plan still checks."""

from __future__ import annotations

import numpy as np
import pytest

from geo.traffic import TimeOfDayFactors
from geo.types import Location
from routing.model import Slot, Team, TimeWindow
from routing.solver import Candidate, SolveInput, solve

H = 3600
DEPOT = Location(60.17, 24.94)
DOOR = Location(60.18, 24.94)
# 10 minutes from the depot to the door and back.
TRAVEL = np.array([[0.0, 600.0], [600.0, 0.0]])
# Twice as slow from 17:00 to 19:00.
RUSH = TimeOfDayFactors.parse("17-19=2")


def one_visit(slot_start_h: int, factors: TimeOfDayFactors | None) -> tuple[int, int, int, int]:
    """Plan one 20-minute visit in a one-hour slot; returns (leave depot, service start, leg in, back)."""
    team = Team("T1", ("a", "b"), DEPOT, DEPOT, TimeWindow(9 * H, 21 * H))
    slot = Slot("presence", TimeWindow(slot_start_h * H, (slot_start_h + 1) * H), 0.8)
    cand = Candidate("C1", "P1", 1, DOOR, None, 1200, 50.0, (slot,), (0,))
    problem = SolveInput(
        teams=(team,),
        team_start_index=(0,),
        team_end_index=(0,),
        candidates=(cand,),
        travel={"car": TRAVEL},
        legal=TimeWindow(8 * H, 22 * H),
        time_limit_s=0.5,  # one visit: the first solution is the best; the limit only ends the search
        seed=1,
        hourly_factors=None if factors is None else {"car": factors.hourly},
    )
    route = solve(problem).routes[0]
    (visit,) = route.visits
    return route.start_time, visit.service_start, visit.travel_s_from_previous, route.end_time


@pytest.mark.parametrize(
    ("slot_h", "factors", "leg_in", "leg_home"),
    [
        (10, None, 600, 600),  # no factors: the network's 600 s both ways
        (10, RUSH, 600, 1200),  # morning visit at 1x; the trip home is planned at the day's peak, 2x
        (17, RUSH, 1200, 1200),  # a visit in the 17:00 slot is reached at 2x: 1200 s
    ],
)
def test_trip_takes_the_factor_of_its_slot(
    slot_h: int, factors: TimeOfDayFactors | None, leg_in: int, leg_home: int
) -> None:
    """The leg to a visit is multiplied by the factor of the slot's hour; the timeline keeps to it."""
    start, service, leg, end = one_visit(slot_h, factors)
    assert leg == leg_in
    assert service >= start + leg_in
    assert end >= service + 1200 + leg_home


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("7-9", "7-9=1.3"),  # no factor
        ("9-7=1.2", "hours"),  # end before start
        ("7-25=1.2", "hours"),  # past midnight
        ("7-9=0.5", "between 1 and 10"),  # faster than the network's own speeds
        ("7-9=fast", "7-9=1.3"),  # not a number
    ],
)
def test_bad_rush_hours_are_refused(text: str, match: str) -> None:
    """Malformed rush-hour settings are refused, naming the item."""
    with pytest.raises(ValueError, match=match):
        TimeOfDayFactors.parse(text)


def test_factor_lookup_is_vectorised() -> None:
    """at() gives each clock time its hour's factor, wrapping past midnight."""
    factors = TimeOfDayFactors.parse("7-9=1.3,16-19=1.5")
    got = factors.at([6.99 * H, 7 * H, 8.5 * H, 9 * H, 18 * H, 31 * H])
    assert got.tolist() == [1.0, 1.3, 1.3, 1.0, 1.5, 1.3]  # 31 h is 07:00 the next day
    assert factors.peak == 1.5
