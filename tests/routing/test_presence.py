"""Segment presence priors (the shipped table and its lookups) and the calendar's day types."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from data import derive_presence_priors
from routing.errors import InvalidInputError
from routing.model import SEGMENTS
from routing.presence import PRIOR_DAY_TYPES, PresencePrior, day_type

ATUS = Path(__file__).resolve().parents[3] / "shared" / "data" / "availability" / "atus_2022_2023"
H = 3600


@pytest.fixture(scope="module")
def prior() -> PresencePrior:
    """The table shipped in the data package."""
    return PresencePrior.load_default()


def flat_prior(special: dict[int, float]) -> PresencePrior:
    """A table at 0.1 everywhere except the given hours of every profile."""
    profile = [special.get(h, 0.1) for h in range(24)]
    return PresencePrior({(s, d): profile for s in SEGMENTS for d in PRIOR_DAY_TYPES})


# ---------------------------------------------------------------------------------------------- the table


def test_table_covers_every_segment_day_type_and_hour(prior: PresencePrior) -> None:
    """All 9 segments × 2 day types × 24 hours are present, within the clip range [0.02, 0.98]."""
    for segment in SEGMENTS:
        for day in PRIOR_DAY_TYPES:
            values = [prior.p_home(segment, day, h) for h in range(24)]
            assert len(values) == 24
            assert all(0.02 <= p <= 0.98 for p in values), (segment, day)


def test_retired_more_at_home_than_employed_on_a_workday_morning(prior: PresencePrior) -> None:
    """At 11:00 on a workday a retired customer is likelier at home than an employed one."""
    assert prior.p_home("retired", "workday", 11) > prior.p_home("employed", "workday", 11) + 0.2


def test_employed_at_home_in_the_evening_rather_than_late_morning(prior: PresencePrior) -> None:
    """An employed customer is likelier at home at 20:00 than at 11:00 on a workday."""
    assert prior.p_home("employed", "workday", 20) > prior.p_home("employed", "workday", 11) + 0.2


def test_employed_more_at_home_on_rest_days(prior: PresencePrior) -> None:
    """At 11:00 an employed customer is likelier at home on a rest day than on a workday."""
    assert prior.p_home("employed", "rest_day", 11) > prior.p_home("employed", "workday", 11)


def test_shift_worker_pattern_is_shifted(prior: PresencePrior) -> None:
    """A shift worker is at home in the late morning and away in the evening on a workday."""
    assert prior.p_home("shift_worker", "workday", 11) > prior.p_home("shift_worker", "workday", 20)


def test_public_holiday_reads_the_rest_day_row(prior: PresencePrior) -> None:
    """A public holiday has the same prior as a rest day."""
    for h in (9, 14, 19):
        assert prior.p_home("employed", "public_holiday", h) == prior.p_home("employed", "rest_day", h)


def test_shipped_table_is_reproduced_by_the_script(tmp_path: Path) -> None:
    """Running the derivation script on the ATUS aggregates rewrites the shipped CSV byte for byte."""
    out = tmp_path / "presence_priors.csv"
    assert derive_presence_priors.main(["--atus", str(ATUS), "--out", str(out)], echo=lambda _: None) == 0
    shipped = Path(derive_presence_priors.__file__).with_name("presence_priors.csv")
    assert out.read_bytes() == shipped.read_bytes()


def test_script_segments_match_the_model() -> None:
    """The script's segment list is the domain's."""
    assert derive_presence_priors.SEGMENTS == SEGMENTS


# ---------------------------------------------------------------------------------------------- lookups


@pytest.mark.parametrize(
    ("start_s", "end_s", "expected"),
    [
        # 10:30-12:00: half an hour at 0.4 and an hour at 0.7: (1800*0.4 + 3600*0.7) / 5400 = 0.6
        (10 * H + 1800, 12 * H, 0.6),
        # 11:00-12:00: exactly one hour at 0.7
        (11 * H, 12 * H, 0.7),
        # 11:15-11:45: inside one hour
        (11 * H + 900, 11 * H + 2700, 0.7),
        # 09:00-13:00: (0.1 + 0.4 + 0.7 + 0.1) / 4 = 0.325
        (9 * H, 13 * H, 0.325),
        # the whole day: (22*0.1 + 0.4 + 0.7) / 24 = 0.1375
        (0, 24 * H, 0.1375),
    ],
)
def test_slot_p_home_is_the_overlap_weighted_mean(start_s: int, end_s: int, expected: float) -> None:
    """A slot's P(home) averages its hours weighted by the seconds of overlap."""
    prior = flat_prior({10: 0.4, 11: 0.7})
    assert prior.slot_p_home("employed", "workday", start_s, end_s) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("segment", "day", "hour"),
    [
        # unknown segment
        ("astronaut", "workday", 10),
        # segment spelt with a capital
        ("Employed", "workday", 10),
        # unknown day type
        ("employed", "weekend", 10),
        # hour past the day
        ("employed", "workday", 24),
        # negative hour
        ("employed", "workday", -1),
    ],
)
def test_bad_lookups_raise(prior: PresencePrior, segment: str, day: str, hour: int) -> None:
    """Unknown segments, day types and hours raise InvalidInputError (a ValueError)."""
    with pytest.raises(InvalidInputError):
        prior.p_home(segment, day, hour)
    assert issubclass(InvalidInputError, ValueError)


@pytest.mark.parametrize(
    ("start_s", "end_s"),
    [
        # empty window
        (10 * H, 10 * H),
        # reversed window
        (11 * H, 10 * H),
        # past midnight
        (23 * H, 25 * H),
        # before midnight
        (-H, H),
    ],
)
def test_bad_slots_raise(prior: PresencePrior, start_s: int, end_s: int) -> None:
    """Empty, reversed or out-of-day windows raise InvalidInputError."""
    with pytest.raises(InvalidInputError):
        prior.slot_p_home("employed", "workday", start_s, end_s)


@pytest.mark.parametrize(
    "table",
    [
        # a segment missing
        {(s, d): [0.5] * 24 for s in SEGMENTS[1:] for d in PRIOR_DAY_TYPES},
        # 23 hours
        {(s, d): [0.5] * 23 for s in SEGMENTS for d in PRIOR_DAY_TYPES},
        # a probability above 1
        {(s, d): [1.5] * 24 for s in SEGMENTS for d in PRIOR_DAY_TYPES},
    ],
)
def test_incomplete_or_invalid_tables_are_rejected(table: dict[tuple[str, str], list[float]]) -> None:
    """A table missing a segment, an hour, or with a value outside [0, 1] is rejected."""
    with pytest.raises(InvalidInputError):
        PresencePrior(table)


# ---------------------------------------------------------------------------------------------- calendar


@pytest.mark.parametrize(
    ("date", "country", "expected"),
    [
        # Danish Tuesday
        (dt.date(2026, 12, 22), "DK", "workday"),
        # Danish Saturday
        (dt.date(2026, 12, 19), "DK", "rest_day"),
        # Christmas Day in Denmark, a Friday
        (dt.date(2026, 12, 25), "DK", "public_holiday"),
        # lower-case country code
        (dt.date(2026, 12, 25), "dk", "public_holiday"),
        # Finnish Independence Day, a Sunday
        (dt.date(2026, 12, 6), "FI", "public_holiday"),
        # China's National Day, a Thursday
        (dt.date(2026, 10, 1), "CN", "public_holiday"),
        # China: Saturday 10 October 2026 is a make-up working day for the National Day week
        (dt.date(2026, 10, 10), "CN", "workday"),
        # China: Sunday 20 September 2026 is a make-up working day
        (dt.date(2026, 9, 20), "CN", "workday"),
        # China: an ordinary Saturday
        (dt.date(2026, 11, 7), "CN", "rest_day"),
        # China: an ordinary Wednesday
        (dt.date(2026, 11, 4), "CN", "workday"),
    ],
)
def test_day_type_from_the_calendar(date: dt.date, country: str, expected: str) -> None:
    """Day types come from the country's calendar, including China's weekend make-up working days."""
    assert day_type(date, country) == expected


def test_day_type_unknown_country_raises() -> None:
    """A country without a calendar raises InvalidInputError."""
    with pytest.raises(InvalidInputError):
        day_type(dt.date(2026, 1, 1), "XX")


def test_workplace_table_finds_workers_at_work_in_office_hours_only() -> None:
    """``p_work``: employed people are at work on workday mornings, far less on rest days; retirees almost never."""
    work = PresencePrior.load_default_work()
    assert work.p_home("employed", "workday", 10) > 0.4
    assert work.p_home("employed", "rest_day", 10) < work.p_home("employed", "workday", 10) / 2
    assert work.p_home("employed", "workday", 22) < 0.1
    assert max(work.p_home("retired", "workday", h) for h in range(24)) < 0.05
    # A night-shift worker is at work when the day worker is at home.
    assert work.p_home("shift_worker", "workday", 20) > work.p_home("employed", "workday", 20) + 0.2
