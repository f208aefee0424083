"""Solomon reader, evaluator and the OR-Tools VRPTW engine behind ``doorstep bench solomon``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from routing.errors import InvalidInputError
from routing.solver_vrptw import solve_vrptw
from routing.vrptw import Instance, best_known_distance, best_known_path, evaluate, read_instance, read_routes

SOLOMON = Path(__file__).resolve().parents[3] / "shared" / "data" / "vrptw" / "solomon"
ROOT = Path(__file__).resolve().parents[2]


def _tiny() -> Instance:
    """Depot at (0,0), customers at (3,4) and (6,8); windows chosen so the order 1 -> 2 is the only one."""
    return Instance(
        name="tiny",
        vehicles=2,
        capacity=10,
        xy=np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]]),
        demand=np.array([0, 4, 5]),
        ready=np.array([0.0, 0.0, 10.0]),
        due=np.array([100.0, 5.0, 12.0]),
        service=np.array([0.0, 1.0, 1.0]),
    )


def test_reader_reads_r101() -> None:
    """R101 has 100 customers, 25 vehicles of capacity 200 and customer 1 at (41, 49) with window 161-171."""
    inst = read_instance(SOLOMON / "R101.txt")
    assert (inst.name, inst.customers, inst.vehicles, inst.capacity) == ("R101", 100, 25, 200)
    assert inst.xy[1].tolist() == [41.0, 49.0]
    assert (inst.ready[1], inst.due[1], inst.service[1]) == (161.0, 171.0, 10.0)


def test_evaluator_hand_checked() -> None:
    """0 -> 1 -> 2 -> 0: 5 + 5 + 10 = 20; service at 5 (due 5) then 5 + 1 + 5 = 11 (due 12): feasible."""
    score = evaluate(_tiny(), [[1, 2]])
    assert score.feasible, score.violations
    assert score.distance == pytest.approx(20.0)
    assert score.vehicles == 1


@pytest.mark.parametrize(
    ("routes", "rule"),
    [
        ([[2, 1]], "after its due"),  # 2 first: arrive 10, serve, reach 1 at 16 > 5
        ([[1]], "not served"),  # customer 2 missing
        ([[1, 2], [2]], "more than once"),  # customer 2 twice
        ([[1], [2], [3]], "out of range"),  # there is no customer 3
    ],
)
def test_evaluator_flags_broken_rules(routes: list[list[int]], rule: str) -> None:
    """Each broken rule is named in the violations."""
    score = evaluate(_tiny(), routes)
    assert any(rule in v for v in score.violations), score.violations


def test_evaluator_flags_capacity() -> None:
    """Load 4 + 5 = 9 fits 10, but not a capacity of 8."""
    tiny = _tiny()
    small = Instance(tiny.name, 2, 8, tiny.xy, tiny.demand, tiny.ready, tiny.due, tiny.service)
    assert any("exceeds capacity" in v for v in evaluate(small, [[1, 2]]).violations)


def test_best_known_r102_is_flagged_infeasible_with_exact_times() -> None:
    """CONTRACTS.md: R102's best-known routes break a window when times are not rounded."""
    inst = read_instance(SOLOMON / "R102.txt")
    assert not evaluate(inst, read_routes(SOLOMON / "R102.sol")).feasible
    inst = read_instance(SOLOMON / "R101.txt")
    assert evaluate(inst, read_routes(SOLOMON / "R101.sol")).feasible


def test_reader_rejects_a_non_instance(tmp_path: Path) -> None:
    """A file without the fleet and customer table is bad input, not a crash."""
    bad = tmp_path / "X1.txt"
    bad.write_text("X1\n\nnothing here\n", encoding="utf-8")
    with pytest.raises(InvalidInputError):
        read_instance(bad)


def test_engine_solves_tiny_exactly() -> None:
    """The only feasible single route is 1 -> 2 (distance 20); two routes cost 10 + 20 = 30."""
    result = solve_vrptw(_tiny(), time_limit_s=1.0, solution_limit=50)
    assert result.unserved == []
    assert evaluate(_tiny(), result.routes).distance == pytest.approx(20.0)


@pytest.mark.parametrize(
    "fleet_margin",
    [
        None,  # search with the whole fleet of 5
        0,  # search with exactly the vehicles of the first solution
        3,  # the default: first solution's vehicles + 3, capped at the fleet
    ],
)
def test_engine_fleet_margin_keeps_the_optimum(fleet_margin: int | None) -> None:
    """Shrinking a fleet of 5 to the first solution's vehicles (+ margin) still finds the single route 1 -> 2 (20)."""
    tiny = _tiny()
    fleet = Instance(tiny.name, 5, tiny.capacity, tiny.xy, tiny.demand, tiny.ready, tiny.due, tiny.service)
    result = solve_vrptw(fleet, time_limit_s=1.0, solution_limit=50, fleet_margin=fleet_margin)
    assert result.unserved == []
    assert result.first_solution_s is not None
    assert evaluate(fleet, result.routes).distance == pytest.approx(20.0)


def test_ruin_and_recreate_improves_on_guided_local_search_and_is_reproducible() -> None:
    """RC105 with a fixed solution count: 20 ruin-and-recreate rounds after the same guided search never end
    worse than that search alone, twice the same rounds give the same routes, and the plan stays complete and
    feasible with exact times."""
    inst = read_instance(SOLOMON / "RC105.txt")
    alone = solve_vrptw(inst, time_limit_s=60.0, solution_limit=20, gls_share=None)
    runs = [solve_vrptw(inst, time_limit_s=60.0, solution_limit=20, gls_share=0.5, seed=3) for _ in range(2)]
    assert runs[0].routes == runs[1].routes
    assert runs[0].rounds == 20 and runs[0].improving_rounds >= 1
    with_rr = evaluate(inst, runs[0].routes)
    assert with_rr.feasible, with_rr.violations
    assert runs[0].unserved == []
    assert with_rr.distance < evaluate(inst, alone.routes).distance


def test_engine_rejects_a_share_outside_zero_to_one() -> None:
    with pytest.raises(InvalidInputError, match="gls_share"):
        solve_vrptw(_tiny(), time_limit_s=1.0, gls_share=0.0)


def test_cli_bench_solomon_two_instances(tmp_path: Path) -> None:
    """``doorstep bench solomon`` serves every customer feasibly and lands within 8% of the best known in 2 s."""
    out = tmp_path / "bench.json"
    cmd = [sys.executable, "-m", "api.cli", "bench", "solomon", "--data", str(SOLOMON)]
    cmd += ["--instances", "C101,R201", "--time-limit", "2", "--out", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert [r["instance"] for r in rows] == ["C101", "R201"]
    for row in rows:
        assert row["feasible"], row["violations"]
        assert sorted(c for route in row["routes"] for c in route) == list(range(1, 101))
        assert row["time_s"] <= 2.0 + 1.0  # the budget covers model and search; 1 s slack for a busy machine
        assert -1e-9 <= row["gap_pct"] < 8.0  # equal to the best known can round a hair below 0


def test_cli_bench_unknown_instance_exits_2(tmp_path: Path) -> None:
    """An instance name not in the folder is bad input: exit 2 with the name."""
    cmd = [sys.executable, "-m", "api.cli", "bench", "solomon", "--data", str(SOLOMON)]
    cmd += ["--instances", "R999", "--out", str(tmp_path / "x.json")]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "R999" in done.stderr


def test_published_best_known_distance_where_no_routes_lie_beside() -> None:
    """Gehring-Homberger ships routes for a few instances only: the others are scored against the published table."""
    homberger = SOLOMON.parent / "gehring_homberger"
    assert best_known_path(homberger / "c1_2_7.txt") is None
    assert best_known_distance(homberger / "c1_2_7.txt") == pytest.approx(2701.0354)
    assert best_known_distance(SOLOMON / "C101.txt") == pytest.approx(828.94)
    assert best_known_distance(SOLOMON / "nonexistent.txt") is None
