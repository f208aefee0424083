"""The value of a case when the loan system sends no priority."""

from __future__ import annotations

import math


def derive_priority(overdue_amount: float, overdue_days: int) -> float:
    """A 1-100 priority from the overdue amount and days.

    Amount counts on a log scale (10x the debt is not 10x the urgency); days count linearly up to 180,
    after which a case is as late as it gets. For example 10,000 overdue for 90 days:
    10 + 30*log10(1 + 10) + 0.25*90 = 10 + 31.2 + 22.5 = 63.7.
    """
    amount_part = 30.0 * math.log10(1.0 + max(0.0, overdue_amount) / 1000.0)
    days_part = 0.25 * min(max(0, overdue_days), 180)
    return round(min(100.0, max(1.0, 10.0 + amount_part + days_part)), 1)
