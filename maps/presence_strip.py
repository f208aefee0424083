"""A small heat strip of a customer's P(home) by hour, one row per day type, for a stop's popup."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from maps.i18n import translate
from maps.page import esc

__all__ = ["presence_strip_html"]

# The legal visiting hours (DESIGN.md §2): nothing outside them is ever planned, so nothing else is shown.
FIRST_HOUR, LAST_HOUR = 8, 21


def _colour(p: float) -> str:
    """Red (absent) through amber to green (home), as the stop colours read."""
    p = min(1.0, max(0.0, p))
    if p < 0.5:
        r, g = 220, int(60 + 2 * p * (180 - 60))
    else:
        r, g = int(220 - 2 * (p - 0.5) * (220 - 34)), int(180 - 2 * (p - 0.5) * (180 - 160))
    return f"rgb({r},{g},60)"


def presence_strip_html(profiles: Mapping[str, Sequence[float]], lang: str, current: str | None = None) -> str:
    """Rows of coloured cells, 08:00–22:00, one per day type in ``profiles`` (``day type -> 24 values``).

    ``current`` marks the plan day's own day type.
    """
    rows = []
    for day, values in profiles.items():
        cells = "".join(
            f'<span class="ds-heat-cell" style="display:inline-block;width:12px;height:10px;'
            f'background:{_colour(float(values[h]))}" title="{h:02d}:00 {float(values[h]):.0%}"></span>'
            for h in range(FIRST_HOUR, LAST_HOUR + 1)
        )
        label = translate(lang, f"day_type.{day}")
        mark = " ◀" if day == current else ""
        rows.append(
            f'<div class="ds-heat-row" data-day-type="{esc(day)}" style="white-space:nowrap;line-height:10px;'
            f'margin:1px 0"><span style="display:inline-block;width:5.5em;font-size:11px">{esc(label)}</span>'
            f"{cells}{esc(mark)}</div>"
        )
    hours = (
        f'<div style="font-size:10px;padding-left:5.5em">{FIRST_HOUR:02d}'
        f'<span style="display:inline-block;width:{12 * (LAST_HOUR - FIRST_HOUR) - 14}px"></span>{LAST_HOUR + 1:02d}'
        "</div>"
    )
    title = esc(translate(lang, "presence_by_hour"))
    return f'<div class="ds-heat"><div style="font-size:11px;font-weight:600">{title}</div>{"".join(rows)}{hours}</div>'
