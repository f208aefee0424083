"""A team's printed route sheet as PDF over HTTP: plan.json back to the domain types, ``maps.sheet`` lays the page
out and headless Chromium (``maps.pdf``) prints it, exactly as ``doorstep plan --pdf`` does."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from api.plan_json import clock_seconds, visit_from_dict
from geo.types import Location
from routing.model import Plan, SolverInfo, Team, TeamDay, TimeWindow

__all__ = ["CaseFacts", "sheet_pdf", "team_day_from_dict"]

CaseFacts = Mapping[str, tuple[str, str | None]]
"""case_id -> (customer_id, address) of the stops: plan.json does not carry them."""


def team_day_from_dict(plan: dict[str, Any], team: dict[str, Any], cases: CaseFacts) -> tuple[Plan, TeamDay]:
    """The plan header and one team's day from their plan.json form (what a route sheet needs of them)."""
    zone = ZoneInfo(plan["timezone"])
    date = dt.date.fromisoformat(plan["date"])

    def t(iso: str) -> int:
        return clock_seconds(iso, date, zone)

    visits = []
    for stop in team["stops"]:
        customer, address = cases.get(stop["case_id"], (stop["case_id"], None))
        visits.append(visit_from_dict(stop, date, zone, customer, address))
    start, end = t(team["start"]["time"]), t(team["end"]["time"])
    crew = Team(
        team_id=team["team_id"],
        members=tuple(team["members"]),
        start=Location(team["start"]["lat"], team["start"]["lon"]),
        end=Location(team["end"]["lat"], team["end"]["lon"]),
        shift=TimeWindow(start, max(start, end)),
        profile=team.get("profile", "car"),
    )
    brk = team.get("break")
    route = TeamDay(
        team=crew,
        start_time=start,
        end_time=end,
        visits=tuple(visits),
        travel_s=int(team["travel_s"]),
        distance_m=float(team["distance_m"]),
        break_start=t(brk["start"]) if brk else None,
        break_after_seq=brk.get("after_seq") if brk else None,
        revision=int(team.get("revision", 1)),
    )
    header = Plan(plan["plan_id"], date, plan["timezone"], (route,), (), (), SolverInfo("ortools", "", 0.0))
    return header, route


def sheet_pdf(
    plan: dict[str, Any], team: dict[str, Any], cases: CaseFacts, *, lang: str = "en", officer_url: str | None = None
) -> bytes:
    """The team's route sheet printed to PDF by headless Chromium (A4 portrait; 25 stops fit on two pages).

    Raises
    ------
    maps.pdf.PdfError
        When Chromium is missing or fails.
    """
    from maps import render_route_sheet
    from maps.pdf import print_pdf

    header, route = team_day_from_dict(plan, team, cases)
    html = render_route_sheet(header, route, lang=lang, officer_url=officer_url)
    with tempfile.TemporaryDirectory(prefix="doorstep-sheet-") as tmp:
        page = Path(tmp) / "sheet.html"
        page.write_text(html, encoding="utf-8")
        return print_pdf(page, Path(tmp) / "sheet.pdf").read_bytes()
