"""The presence floor: no copy at an hour less likely than ``SlotPolicy.min_p_home``, and a reason when none is left."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from routing.candidates import SlotPolicy, build_candidates
from routing.model import Case, Team, TimeWindow
from tests.routing.test_solver import LEGAL, ORIGIN, H, grid_points, manhattan_seconds


@dataclass(frozen=True)
class HourlyPresence:
    """P(home) by clock hour, the same for every customer named in ``by_customer``."""

    by_customer: dict[str, dict[int, float]]

    def case_slot_p_home(self, case: Case, day_type: str, start_s: int, end_s: int) -> float:
        return self.by_customer[case.customer_id].get(start_s // H, 0.05)


def _build(presence: HourlyPresence, policy: SlotPolicy) -> tuple[dict, dict]:
    points = grid_points(2)
    travel = {"car": manhattan_seconds(points)}
    team = Team("T1", ("a", "b"), ORIGIN, ORIGIN, TimeWindow(8 * H, 22 * H))
    cases = [Case("EVENING", "P1", location=points[1]), Case("NEVER", "P2", location=points[2])]
    cands, dropped = build_candidates(
        cases, {"EVENING": 1, "NEVER": 2}, [team], [0], [0], travel, presence, "workday", policy
    )
    return {c.case_id: c for c in cands}, {d.case_id: d for d in dropped}


PRESENCE = HourlyPresence(
    {
        # Home 08-09 and 17-21, out in between; the best hour is 19:00.
        "P1": {8: 0.6, 17: 0.55, 18: 0.7, 19: 0.9, 20: 0.8, 21: 0.4},
        "P2": {13: 0.2},
    }
)


def test_without_a_floor_every_case_gets_copies_and_the_anytime_copy_spans_the_day() -> None:
    cands, dropped = _build(PRESENCE, SlotPolicy(LEGAL))
    assert set(cands) == {"EVENING", "NEVER"} and not dropped
    spans = [s for s in cands["EVENING"].slots if s.window.duration > H]
    assert len(spans) == 1 and spans[0].window.start == 8 * H and spans[0].p_home == pytest.approx(0.05)


def test_a_floor_drops_the_unlikely_case_with_its_best_hour_and_keeps_only_likely_hours() -> None:
    cands, dropped = _build(PRESENCE, SlotPolicy(LEGAL, min_p_home=0.5))
    assert dropped["NEVER"].code == "unlikely_home"
    assert "0.50" in dropped["NEVER"].message and "best 0.20 at 13:00" in dropped["NEVER"].message
    slots = cands["EVENING"].slots
    assert all(s.p_home >= 0.5 for s in slots)
    hourly = sorted(s.window.start // H for s in slots if s.window.duration <= H)
    assert hourly == [18, 19, 20]  # the best three of 08, 17, 18, 19, 20 (21 is below the floor)
    # The anytime copy covers 17:00-21:00 only: the unbroken run around 19:00, not the empty afternoon.
    spans = [s for s in slots if s.window.duration > H]
    assert len(spans) == 1
    assert (spans[0].window.start, spans[0].window.end) == (17 * H, 21 * H)
    assert spans[0].p_home == pytest.approx(0.55)


def test_a_floor_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="min_p_home"):
        SlotPolicy(LEGAL, min_p_home=1.0)
