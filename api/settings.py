"""Settings of a deployment: options win over environment variables, which win over defaults.

The variables (`DOORSTEP_TZ`, `DOORSTEP_COUNTRY`, `DOORSTEP_CACHE_DIR`, `DOORSTEP_LEGAL_START`,
`DOORSTEP_LEGAL_END`, `DOORSTEP_MIN_P_HOME`, `DOORSTEP_LANG`, `DOORSTEP_PUBLIC_URL`) are documented in one table in
the README.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from api.errors import ConfigurationError
from geo.traffic import DEFAULT_RUSH_HOURS, TimeOfDayFactors
from geo.types import Location
from routing.model import TimeWindow

# Compliance (DESIGN.md §2): no field visit between 22:00 and 08:00; settings may narrow this, never widen it.
LEGAL_WINDOW = TimeWindow(8 * 3600, 22 * 3600)


@dataclass(frozen=True, slots=True)
class DaySettings:
    """What a planning run needs to know about where and when it is."""

    timezone: str
    country: str
    legal: TimeWindow
    lang: str = "en"
    #: Travel-time factors by hour per profile; ``None``: from the environment (:func:`rush_hours`).
    rush: Mapping[str, TimeOfDayFactors] | None = None
    #: No visit is offered at an hour with a lower P(home) (``routing.candidates.SlotPolicy.min_p_home``).
    min_p_home: float = 0.0


def presence_floor() -> float:
    """``DOORSTEP_MIN_P_HOME``: the floor on P(home) for offering a visit hour, 0 (every hour) by default."""
    text = os.environ.get("DOORSTEP_MIN_P_HOME")
    if not text:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        value = float("nan")  # refused below with the same message
    if not 0.0 <= value < 1.0:
        msg = f"DOORSTEP_MIN_P_HOME: expected a number in [0, 1), got {text!r}"
        raise ConfigurationError(msg)
    return value


def legal_window(start: str | None = None, end: str | None = None) -> TimeWindow:
    """The legal visiting window, narrowed by settings and clamped to 08:00-22:00 whatever they say."""
    start = start or os.environ.get("DOORSTEP_LEGAL_START")
    end = end or os.environ.get("DOORSTEP_LEGAL_END")
    s = _clock(start, "DOORSTEP_LEGAL_START") if start else LEGAL_WINDOW.start
    e = _clock(end, "DOORSTEP_LEGAL_END") if end else LEGAL_WINDOW.end
    s, e = max(s, LEGAL_WINDOW.start), min(e, LEGAL_WINDOW.end)
    if s >= e:
        msg = f"the legal visiting window {start}-{end} is empty"
        raise ConfigurationError(msg)
    return TimeWindow(s, e)


def _clock(text: str, name: str) -> int:
    try:
        h, m = text.split(":")
        return int(h) * 3600 + int(m) * 60
    except ValueError as err:
        msg = f"{name}: expected HH:MM, got {text!r}"
        raise ConfigurationError(msg) from err


def resolve_timezone(option: str | None, center: Location) -> str:
    """``--tz``, else ``DOORSTEP_TZ``, else the zone at the extract's centre."""
    name = option or os.environ.get("DOORSTEP_TZ")
    if name is None:
        from timezonefinder import TimezoneFinder

        name = TimezoneFinder().timezone_at(lat=center.lat, lng=center.lon)
        if name is None:
            msg = f"no time zone is known at {center.lat:.4f}, {center.lon:.4f}; pass --tz"
            raise ConfigurationError(msg)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        msg = f"unknown time zone {name!r} (an IANA name such as Europe/Helsinki)"
        raise ConfigurationError(msg) from err
    return name


def resolve_country(option: str | None, timezone: str) -> str:
    """``--country``, else ``DOORSTEP_COUNTRY``, else the country of the time zone (IANA zone.tab)."""
    code = option or os.environ.get("DOORSTEP_COUNTRY")
    if code:
        if len(code) != 2 or not code.isalpha():
            msg = f"country must be a two-letter ISO code, got {code!r}"
            raise ConfigurationError(msg)
        return code.upper()
    table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    for line in table.splitlines():
        if line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) >= 3 and parts[2] == timezone:
            return parts[0]
    msg = f"no country is known for time zone {timezone}; pass --country"
    raise ConfigurationError(msg)


def resolve_lang(option: str | None) -> str:
    lang = option or os.environ.get("DOORSTEP_LANG") or "en"
    if lang not in ("en", "zh-CN"):
        msg = f"unknown language {lang!r}; one of en, zh-CN"
        raise ConfigurationError(msg)
    return lang


def speed_overrides(text: str | None = None) -> dict[str, float]:
    """Speed overrides in km/h from ``DOORSTEP_SPEEDS``: ``residential=25,primary=45,ebike=16,walk=4``.

    Keys are OSM ``highway`` values (car defaults; e-bikes and walkers never exceed them where they apply),
    plus ``ebike`` and ``walk`` for those profiles' cruising speeds.
    """
    text = text if text is not None else os.environ.get("DOORSTEP_SPEEDS", "")
    out: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        try:
            kmh = float(value)
        except ValueError:
            kmh = float("nan")
        if not sep or not key.strip() or not (kmh > 0 and kmh < 300):
            msg = f"DOORSTEP_SPEEDS: expected highway=km/h items such as residential=25, got {item!r}"
            raise ConfigurationError(msg)
        out[key.strip()] = kmh
    return out


def max_snap_m(text: str | None = None) -> float:
    """Farthest a door may be from a road, in metres, from ``DOORSTEP_MAX_SNAP_M`` (default 500)."""
    text = text if text is not None else os.environ.get("DOORSTEP_MAX_SNAP_M")
    if not text:
        return 500.0
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value > 0 and value <= 10_000):
        msg = f"DOORSTEP_MAX_SNAP_M: expected metres between 0 and 10000, got {text!r}"
        raise ConfigurationError(msg)
    return value


def rush_hours() -> dict[str, TimeOfDayFactors]:
    """Rush-hour factors per profile from ``DOORSTEP_RUSH_HOURS`` (car), ``DOORSTEP_RUSH_HOURS_EBIKE`` and
    ``DOORSTEP_RUSH_HOURS_WALK``, e.g. ``7-9=1.3,16-19=1.3``; an empty value turns them off."""
    out: dict[str, TimeOfDayFactors] = {}
    for profile, default in DEFAULT_RUSH_HOURS.items():
        name = "DOORSTEP_RUSH_HOURS" + ("" if profile == "car" else f"_{profile.upper()}")
        text = os.environ.get(name, default)
        try:
            out[profile] = TimeOfDayFactors.parse(text)
        except ValueError as err:
            msg = f"{name}: {err}"
            raise ConfigurationError(msg) from err
    return out


def resolve_public_url(option: str | None = None) -> str | None:
    """``--public-url``, else ``DOORSTEP_PUBLIC_URL``: where the written pages are published, or None.

    Relative links on the overview are joined to it (so they can be printed as QR codes); it always ends
    with ``/`` so that joining keeps its last path segment.
    """
    url = option or os.environ.get("DOORSTEP_PUBLIC_URL")
    if not url:
        return None
    if not url.startswith(("https://", "http://")):
        msg = f"public URL must start with https:// or http://, got {url!r}"
        raise ConfigurationError(msg)
    return url if url.endswith("/") else url + "/"
