"""A small hand-built plan in central Helsinki: two teams, one dropped and one unresolved case."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

import pytest

from geo.types import Location
from routing.model import (
    Break,
    Dropped,
    Plan,
    Slot,
    SolverInfo,
    Team,
    TeamDay,
    TimeWindow,
    Unresolved,
    Visit,
)


def hm(text: str) -> int:
    """Seconds since midnight for ``HH:MM``."""
    hours, minutes = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def visit(
    seq: int,
    case_id: str,
    customer_id: str,
    lat: float,
    lon: float,
    arrival: str,
    wait_min: int,
    slot: tuple[str, str],
    p_home: float,
    address: str,
    kind: str = "presence",
) -> Visit:
    """A 20-minute visit; ``service_start`` = arrival + wait."""
    start = hm(arrival) + wait_min * 60
    return Visit(
        seq=seq,
        case_id=case_id,
        customer_id=customer_id,
        address_kind="home",
        location=Location(lat, lon),
        arrival=hm(arrival),
        wait_s=wait_min * 60,
        service_start=start,
        departure=start + 20 * 60,
        slot=Slot(kind, TimeWindow(hm(slot[0]), hm(slot[1])), p_home),
        value=40.0,
        travel_s_from_previous=300,
        address=address,
    )


# Customer ids that must never appear in full on an officer page.
CUSTOMER_IDS = ("CUST-100017", "CUST-100023", "CUST-100031", "CUST-200044", "CUST-200052")


def build_plan() -> Plan:
    """Two teams: T1 with a road path and three stops (one of each P(home) band), T2 without a path."""
    depot1 = Location(60.1710, 24.9414)  # Rautatientori
    depot2 = Location(60.1986, 24.9335)  # Pasila
    t1 = Team(
        team_id="T1",
        members=("officer-a", "officer-b"),
        start=depot1,
        end=depot1,
        shift=TimeWindow(hm("17:30"), hm("21:30")),
        lunch=Break(TimeWindow(hm("19:00"), hm("20:00")), 30 * 60),
    )
    t2 = Team(
        team_id="T2",
        members=("officer-c", "officer-d"),
        start=depot2,
        end=Location(60.1921, 24.9458),  # ends at Vallila
        shift=TimeWindow(hm("17:00"), hm("21:00")),
    )
    v1 = [
        visit(1, "C17", CUSTOMER_IDS[0], 60.1685, 24.9316, "17:45", 15, ("18:00", "19:00"), 0.62,
              "Annankatu 29, Helsinki"),
        visit(2, "C23", CUSTOMER_IDS[1], 60.1760, 24.9250, "18:30", 0, ("18:00", "19:00"), 0.45,
              "Runeberginkatu 43, Helsinki"),
        visit(3, "C31", CUSTOMER_IDS[2], 60.1841, 24.9500, "19:40", 0, ("19:00", "21:00"), 0.21,
              "Helsinginkatu 15, Helsinki", kind="appointment"),
    ]  # fmt: skip
    v2 = [
        visit(1, "C44", CUSTOMER_IDS[3], 60.2140, 24.9510, "17:20", 0, ("17:00", "18:00"), 0.75,
              "Käpyläntie 5, Helsinki"),
        visit(2, "C52", CUSTOMER_IDS[4], 60.1930, 24.9550, "18:05", 0, ("18:00", "19:00"), 0.33,
              "Sturenkatu 21, Helsinki"),
    ]  # fmt: skip
    path1 = (
        depot1,
        Location(60.1699, 24.9384),
        Location(60.1690, 24.9340),
        v1[0].location,
        Location(60.1722, 24.9290),
        v1[1].location,
        Location(60.1790, 24.9380),
        Location(60.1820, 24.9470),
        v1[2].location,
        Location(60.1770, 24.9460),
        depot1,
    )
    r1 = TeamDay(
        team=t1,
        start_time=hm("17:38"),
        end_time=hm("20:15"),
        visits=tuple(v1),
        travel_s=2400,
        distance_m=9800.0,
        break_start=hm("19:05"),
        break_after_seq=2,
        path=path1,
    )
    r2 = TeamDay(
        team=t2,
        start_time=hm("17:10"),
        end_time=hm("18:40"),
        visits=tuple(v2),
        travel_s=1500,
        distance_m=6400.0,
    )
    return Plan(
        plan_id="plan-2026-12-01-a",
        date=dt.date(2026, 12, 1),
        timezone="Europe/Helsinki",
        routes=(r1, r2),
        dropped=(Dropped("C09", "no_feasible_slot", "no slot fits the shift"),),
        unresolved=(Unresolved("C12", "Nonexistent väylä 999", "no_match", "address not found"),),
        solver=SolverInfo("ortools", "ROUTING_SUCCESS", 1.2),
        cases=7,
        expected_value=120.0,
    )


@pytest.fixture
def plan() -> Plan:
    """The two-team Helsinki plan."""
    return build_plan()


@pytest.fixture
def customer_ids() -> tuple[str, ...]:
    """The plan's customer ids, which officer pages must only show masked."""
    return CUSTOMER_IDS


HELSINKI = Location(60.17, 24.94)


def build_big_plan(
    teams: int, stops: int, points_per_leg: int = 60, seed: int = 7, centre: Location = HELSINKI
) -> Plan:
    """A full day for ``teams`` teams of ``stops`` stops each around ``centre`` (Helsinki), with a winding road
    path of ``points_per_leg`` points a leg (the most `geo` keeps): the largest pages the field will see."""
    rng = random.Random(seed)
    routes = []
    for k in range(teams):
        depot = Location(centre.lat + rng.uniform(-0.03, 0.03), centre.lon + rng.uniform(-0.06, 0.06))
        team = Team(
            team_id=f"TEAM-{k + 1:02d}",
            members=("officer-a", "officer-b"),
            start=depot,
            end=depot,
            shift=TimeWindow(hm("08:00"), hm("22:00")),
            lunch=Break(TimeWindow(hm("12:00"), hm("14:00")), 30 * 60),
        )
        clock = hm("08:30")
        visits, path, here = [], [depot], depot
        for seq in range(1, stops + 1):
            there = Location(here.lat + rng.uniform(-0.004, 0.004), here.lon + rng.uniform(-0.008, 0.008))
            path += [
                Location(
                    here.lat + (there.lat - here.lat) * i / points_per_leg + rng.uniform(-2e-4, 2e-4),
                    here.lon + (there.lon - here.lon) * i / points_per_leg + rng.uniform(-2e-4, 2e-4),
                )
                for i in range(1, points_per_leg)
            ] + [there]
            arrival = clock + 600
            window = (arrival // 3600 * 3600, arrival // 3600 * 3600 + 3600)
            visits.append(
                Visit(
                    seq=seq,
                    case_id=f"CASE-{k:02d}-{seq:03d}",
                    customer_id=f"CUST-{k:02d}{seq:05d}",
                    address_kind="home",
                    location=there,
                    arrival=arrival,
                    wait_s=0,
                    service_start=arrival,
                    departure=arrival + 1200,
                    slot=Slot("presence", TimeWindow(*window), round(rng.uniform(0.1, 0.9), 2)),
                    value=40.0,
                    travel_s_from_previous=600,
                    address=f"Mannerheimintie {seq + 10 * k}, 00100 Helsinki",
                )
            )
            clock, here = arrival + 1200, there
        routes.append(
            TeamDay(
                team=team,
                start_time=hm("08:30"),
                end_time=clock + 600,
                visits=tuple(visits),
                travel_s=600 * (stops + 1),
                distance_m=2500.0 * (stops + 1),
                path=(*path, depot),
            )
        )
    return Plan(
        plan_id="plan-big",
        date=dt.date(2026, 12, 1),
        timezone="Europe/Helsinki",
        routes=tuple(routes),
        dropped=(),
        unresolved=(),
        solver=SolverInfo("ortools", "ROUTING_SUCCESS", 30.0),
        cases=teams * stops,
    )


@pytest.fixture
def make_big_plan() -> Callable[..., Plan]:
    """`build_big_plan`, for tests that need the largest realistic pages."""
    return build_big_plan
