"""Road-network settings from the environment: speed overrides, the snapping limit and rush hours."""

from __future__ import annotations

import pytest

from api.errors import ConfigurationError
from api.settings import max_snap_m, rush_hours, speed_overrides


def test_speed_overrides_parse() -> None:
    """DOORSTEP_SPEEDS items become km/h by highway value (and the ebike/walk cruising speeds)."""
    assert speed_overrides("residential=25, primary=45,ebike=15") == {
        "residential": 25.0,
        "primary": 45.0,
        "ebike": 15.0,
    }
    assert speed_overrides("") == {}


@pytest.mark.parametrize(
    "text",
    [
        "residential",  # no value
        "residential=fast",  # not a number
        "residential=0",  # not positive
        "=30",  # no key
        "motorway=400",  # implausible
    ],
)
def test_bad_speed_overrides_are_refused(text: str) -> None:
    """A malformed DOORSTEP_SPEEDS item is a configuration error naming it."""
    with pytest.raises(ConfigurationError, match="DOORSTEP_SPEEDS"):
        speed_overrides(text)


@pytest.mark.parametrize(("text", "metres"), [(None, 500.0), ("", 500.0), ("120", 120.0), ("75.5", 75.5)])
def test_max_snap(text: str | None, metres: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """DOORSTEP_MAX_SNAP_M sets the snapping limit; unset or empty keeps 500 m."""
    monkeypatch.delenv("DOORSTEP_MAX_SNAP_M", raising=False)
    assert max_snap_m(text) == metres


@pytest.mark.parametrize("text", ["-5", "far", "20000"])
def test_bad_max_snap_is_refused(text: str) -> None:
    """A negative, non-numeric or absurd snapping limit is refused."""
    with pytest.raises(ConfigurationError, match="DOORSTEP_MAX_SNAP_M"):
        max_snap_m(text)


def test_rush_hours_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No rush hours unless the environment sets them, per profile."""
    monkeypatch.delenv("DOORSTEP_RUSH_HOURS", raising=False)
    assert all(f.peak == 1.0 for f in rush_hours().values())
    monkeypatch.setenv("DOORSTEP_RUSH_HOURS", "7-9=1.3,16-19=1.3")
    monkeypatch.setenv("DOORSTEP_RUSH_HOURS_EBIKE", "17-18=1.2")
    factors = rush_hours()
    assert factors["car"].hourly[7] == 1.3 and factors["car"].hourly[12] == 1.0
    assert factors["ebike"].hourly[17] == 1.2 and factors["walk"].peak == 1.0
    monkeypatch.setenv("DOORSTEP_RUSH_HOURS", "")
    assert rush_hours()["car"].peak == 1.0  # empty turns them off
    monkeypatch.setenv("DOORSTEP_RUSH_HOURS", "7-9")
    with pytest.raises(ConfigurationError, match="DOORSTEP_RUSH_HOURS"):
        rush_hours()
