"""Time-of-day factors: rush hours make the same trip slower.

A factor per clock hour multiplies a trip's travel time; the trip takes the factor of the hour it ends in
(for a visit, the hour of its slot). Factors are at least 1: the network's own speeds are the quickest a
team travels, so anything checked against them (``routing/check.py``) stays a lower bound.

Settings give factors as ``"7-9=1.3,16-19=1.3"``: from 07:00 to 09:00 and from 16:00 to 19:00 trips take 30%
longer; every other hour keeps 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Rush hours per travel profile when settings say nothing: none. Congestion differs too much between cities
#: to assume it; a deployment sets e.g. ``DOORSTEP_RUSH_HOURS=7-9=1.3,16-19=1.3`` for its cars (e-bikes filter
#: through queues and walkers do not queue, so their factors usually stay 1).
DEFAULT_RUSH_HOURS: dict[str, str] = {"car": "", "ebike": "", "walk": ""}


@dataclass(frozen=True, slots=True)
class TimeOfDayFactors:
    """Travel-time multipliers by clock hour.

    Parameters
    ----------
    hourly
        24 factors, one per hour from 00:00; each finite and at least 1.
    """

    hourly: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.hourly) != 24:
            msg = f"time-of-day factors need 24 hourly values, got {len(self.hourly)}"
            raise ValueError(msg)
        bad = [f for f in self.hourly if not (math.isfinite(f) and 1.0 <= f <= 10.0)]
        if bad:
            msg = f"time-of-day factors must lie between 1 and 10, got {bad[0]!r}"
            raise ValueError(msg)

    @classmethod
    def flat(cls) -> TimeOfDayFactors:
        """No rush hour at all."""
        return cls((1.0,) * 24)

    @classmethod
    def parse(cls, text: str) -> TimeOfDayFactors:
        """Read ``"7-9=1.3,16-19=1.3"`` (hours ``start-end`` on the 24-hour clock, end exclusive).

        Raises
        ------
        ValueError
            Naming the item that is not ``H-H=factor`` or a factor outside 1..10.
        """
        hourly = [1.0] * 24
        for item in filter(None, (part.strip() for part in text.split(","))):
            span, sep, value = item.partition("=")
            start, dash, end = span.partition("-")
            try:
                h0, h1, factor = int(start), int(end), float(value)
            except ValueError:
                h0 = h1 = -1
                factor = math.nan
            if not sep or not dash or not (0 <= h0 < h1 <= 24):
                msg = f"rush hours: expected items such as 7-9=1.3 (hours 0-24), got {item!r}"
                raise ValueError(msg)
            for hour in range(h0, h1):
                hourly[hour] = factor
        return cls(tuple(hourly))

    def at(self, seconds: np.ndarray | Sequence[float] | float) -> np.ndarray:
        """The factor at each clock time (seconds since midnight; wraps past 24 h), vectorised."""
        hours = (np.floor_divide(np.asarray(seconds, dtype=np.float64), 3600.0).astype(np.int64)) % 24
        return np.asarray(self.hourly, dtype=np.float64)[hours]

    @property
    def peak(self) -> float:
        """The largest factor of the day."""
        return max(self.hourly)
