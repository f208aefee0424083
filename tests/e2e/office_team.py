"""One field team for the small real-city days of these tests, built the way ``doorstep plan`` builds teams."""

from __future__ import annotations

from pathlib import Path

from api.files import read_teams
from api.service import Region, build_teams
from geo.types import Location
from routing.model import Team


def office_team(work: Path, depot: Location, region: Region) -> list[Team]:
    """Team T1 (two officers) working 09:00-16:00 from ``depot``, written as a teams file and read back."""
    path = work / "teams.csv"
    path.write_text(
        f"team_id,members,start_lat,start_lon,shift_start,shift_end\nT1,a;b,{depot.lat},{depot.lon},09:00,16:00\n",
        encoding="utf-8",
    )
    return build_teams(read_teams(path), region, path)
