"""Solomon and Gehring-Homberger VRPTW instances: reader, best-known routes and an independent evaluator.

Convention of the benchmark (CONTRACTS.md, ``bench solomon``): Euclidean distance, travel time equals distance,
service times as given; distances and times are never rounded here, so a route is feasible only if it is feasible
with the exact times. The solver side lives in ``routing.solver_vrptw``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from routing.errors import InvalidInputError

__all__ = ["Evaluation", "Instance", "best_known_path", "evaluate", "find_instances", "read_instance", "read_routes"]


@dataclass(frozen=True, slots=True, eq=False)
class Instance:
    """A VRPTW instance; row 0 of every array is the depot.

    Parameters
    ----------
    name
        The instance's name as written in its file (e.g. ``R101``).
    vehicles, capacity
        Fleet size and the capacity of each vehicle.
    xy
        Coordinates, shape ``(n + 1, 2)``.
    demand, ready, due, service
        Per node, shape ``(n + 1,)``; ``ready``/``due`` bound the service start.
    """

    name: str
    vehicles: int
    capacity: int
    xy: np.ndarray
    demand: np.ndarray
    ready: np.ndarray
    due: np.ndarray
    service: np.ndarray

    @property
    def customers(self) -> int:
        return len(self.xy) - 1

    def distances(self) -> np.ndarray:
        """Exact Euclidean distances between all nodes, shape ``(n + 1, n + 1)``."""
        diff = self.xy[:, None, :] - self.xy[None, :, :]
        return np.sqrt((diff**2).sum(axis=2))


_NUMERIC_ROW = re.compile(r"^\s*\d+(\s+-?\d+(\.\d+)?){6,}\s*$")


def read_instance(path: Path) -> Instance:
    """Read a Solomon-format file (the Gehring-Homberger files use the same layout)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    name = next((ln.strip() for ln in lines if ln.strip()), "")
    try:
        vehicle_row = next(i for i, ln in enumerate(lines) if ln.strip().upper().startswith("NUMBER"))
        vehicles, capacity = (int(x) for x in lines[vehicle_row + 1].split()[:2])
        # The customer table: every line after the fleet row that is made of numbers only.
        rows = [ln.split() for ln in lines[vehicle_row + 2 :] if _NUMERIC_ROW.match(ln)]
        table = np.array([[float(x) for x in row[:7]] for row in rows], dtype=np.float64)
    except (StopIteration, ValueError, IndexError) as err:
        msg = f"{path}: not a Solomon-format VRPTW file ({err})"
        raise InvalidInputError(msg) from err
    if table.ndim != 2 or table.shape[1] != 7 or not np.array_equal(table[:, 0], np.arange(len(table))):
        msg = f"{path}: customer rows must be numbered 0..n with 7 columns each"
        raise InvalidInputError(msg)
    return Instance(
        name=name,
        vehicles=vehicles,
        capacity=capacity,
        xy=table[:, 1:3].copy(),
        demand=table[:, 3].astype(np.int64),
        ready=table[:, 4].copy(),
        due=table[:, 5].copy(),
        service=table[:, 6].copy(),
    )


_ROUTE_LINE = re.compile(r"^\s*Route\s*#?\s*\d+\s*:(.*)$", re.IGNORECASE)


def read_routes(path: Path) -> list[list[int]]:
    """Routes of a solution file (``Route #1: 2 21 73``), customer numbers without the depot."""
    routes: list[list[int]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _ROUTE_LINE.match(line)
        if match:
            route = [int(x) for x in match.group(1).split()]
            if route:
                routes.append(route)
    if not routes:
        msg = f"{path}: no 'Route #k: ...' lines"
        raise InvalidInputError(msg)
    return routes


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The score of a set of routes and every rule they break (empty ``violations`` = feasible)."""

    vehicles: int
    distance: float
    violations: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        return not self.violations


def evaluate(instance: Instance, routes: Sequence[Sequence[int]], tolerance: float = 1e-6) -> Evaluation:
    """Score routes with exact Euclidean distances and times; list capacity, window and coverage violations.

    Parameters
    ----------
    instance
        The instance.
    routes
        Customer numbers per route, depot excluded; empty routes are ignored.
    tolerance
        Slack on time comparisons (floating point only).
    """
    dist = instance.distances()
    violations: list[str] = []
    seen = np.zeros(instance.customers + 1, dtype=np.int64)
    used = [list(r) for r in routes if len(r) > 0]
    total = 0.0
    for k, route in enumerate(used, start=1):
        if min(route) < 1 or max(route) > instance.customers:
            violations.append(f"route {k}: customer number out of range")
            continue
        seen[route] += 1
        path = np.array([0, *route, 0])
        legs = dist[path[:-1], path[1:]]
        total += float(legs.sum())
        load = int(instance.demand[route].sum())
        if load > instance.capacity:
            violations.append(f"route {k}: load {load} exceeds capacity {instance.capacity}")
        t = float(instance.ready[0])
        for leg, node in zip(legs[:-1], route, strict=True):
            t = max(t + leg, float(instance.ready[node]))
            if t > instance.due[node] + tolerance:
                violations.append(f"route {k}: customer {node} served at {t:.4f}, after its due {instance.due[node]:g}")
            t += float(instance.service[node])
        back = t + float(legs[-1])
        if back > instance.due[0] + tolerance:
            violations.append(f"route {k}: back at the depot at {back:.4f}, after {instance.due[0]:g}")
    missing = np.flatnonzero(seen[1:] == 0) + 1
    twice = np.flatnonzero(seen[1:] > 1) + 1
    if len(missing):
        violations.append(f"{len(missing)} customer(s) not served, e.g. {missing[:5].tolist()}")
    if len(twice):
        violations.append(f"{len(twice)} customer(s) served more than once, e.g. {twice[:5].tolist()}")
    if len(used) > instance.vehicles:
        violations.append(f"{len(used)} routes, more than the {instance.vehicles} vehicles")
    return Evaluation(vehicles=len(used), distance=total, violations=tuple(violations))


def find_instances(data_dir: Path, names: Sequence[str] | None = None) -> list[Path]:
    """Instance files in ``data_dir``: the named ones (case-insensitive, without ``.txt``), or all of them."""
    if not data_dir.is_dir():
        msg = f"--data: no such folder: {data_dir}"
        raise InvalidInputError(msg)
    files = {p.stem.upper(): p for p in sorted(data_dir.glob("*.txt")) if _looks_like_instance(p)}
    if not names:
        return sorted(files.values(), key=_natural_key)
    missing = [n for n in names if n.strip().upper() not in files]
    if missing:
        msg = f"--instances: not found in {data_dir}: {', '.join(missing)}"
        raise InvalidInputError(msg)
    return [files[n.strip().upper()] for n in names]


def best_known_path(instance_path: Path) -> Path | None:
    """The best-known routes beside an instance: ``NAME.sol``, or ``bks_solutions/name.<vehicles>_<dist>.txt``."""
    sol = instance_path.with_suffix(".sol")
    if sol.is_file():
        return sol
    folder = instance_path.parent / "bks_solutions"
    found = sorted(folder.glob(f"{instance_path.stem}.*.txt")) if folder.is_dir() else []
    return found[0] if found else None


def best_known_distance(instance_path: Path) -> float | None:
    """The published best-known distance of an instance from a ``bks_*.csv`` table in its folder or the one
    above (columns ``instance`` and ``distance`` or ``hier_distance``), for instances without best-known routes."""
    name = instance_path.stem.upper()
    for folder in (instance_path.parent, instance_path.parent.parent):
        for table in sorted(folder.glob("bks_*.csv")):
            with table.open(newline="", encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    if row.get("instance", "").upper() == name:
                        value = row.get("distance") or row.get("hier_distance")
                        return float(value) if value else None
    return None


def _looks_like_instance(path: Path) -> bool:
    with path.open(encoding="utf-8", errors="replace") as fh:
        head = fh.read(400).upper()
    return "VEHICLE" in head and "CAPACITY" in head


def _natural_key(path: Path) -> tuple[str, int, int]:
    match = re.match(r"^([A-Za-z]+)(\d*)_?(\d*)_?(\d*)", path.stem)
    if not match:
        return (path.stem, 0, 0)
    letters, a, b, c = match.groups()
    if b:
        return (f"{letters}{a}".upper(), int(b), int(c or 0))
    return (letters.upper(), int(a or 0), 0)
