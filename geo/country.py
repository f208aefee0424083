"""The country a point lies in, offline: its IANA time zone, then that zone's country (tzdata's zone.tab).

Good enough to choose speed defaults for an extract; ``--country`` / ``DOORSTEP_COUNTRY`` override it.
"""

from __future__ import annotations

from importlib import resources

from geo.types import Location


def country_at(location: Location) -> str | None:
    """ISO 3166 alpha-2 code of the country at ``location``, ``None`` when unknown (open sea)."""
    from timezonefinder import TimezoneFinder

    zone = TimezoneFinder().timezone_at(lat=location.lat, lng=location.lon)
    if zone is None:
        return None
    table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    for line in table.splitlines():
        parts = line.split("\t")
        if not line.startswith("#") and len(parts) >= 3 and parts[2] == zone:
            return parts[0]
    return None
