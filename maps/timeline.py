"""The day of a team as one bar: driving, waiting, visits and the break, on the clock of the shift.

An officer glances at it to see how the day is laid out and where the slack is; a supervisor to see how full
a shift is. Pure HTML and css (positions in percent), so it costs nothing to draw on a phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from maps.i18n import translate
from maps.page import esc, p_home_class
from routing.model import TeamDay, format_clock

__all__ = ["Segment", "day_segments", "timeline_html"]


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of the day: ``kind`` is ``travel``, ``wait``, ``visit`` or ``break``."""

    kind: str
    start: int
    end: int
    label: str = ""
    css: str = ""


def day_segments(route: TeamDay) -> list[Segment]:
    """The stretches of a team's day in time order, from leaving the start point to arriving at the end.

    Travel between stops is the gap between one departure and the next arrival; when the break falls in
    that gap it is cut out of the travel, so segments never overlap.
    """
    segments: list[Segment] = []
    clock = route.start_time
    for visit in sorted(route.visits, key=lambda v: v.seq):
        if visit.arrival > clock:
            segments.append(Segment("travel", clock, visit.arrival))
        if visit.service_start > visit.arrival:
            segments.append(Segment("wait", visit.arrival, visit.service_start))
        css = p_home_class(visit.slot.p_home)
        segments.append(Segment("visit", visit.service_start, visit.departure, str(visit.seq), css))
        clock = max(clock, visit.departure)
    if route.end_time > clock:
        segments.append(Segment("travel", clock, route.end_time))
    if route.break_start is not None and route.team.lunch is not None:
        segments = _cut_break(segments, route.break_start, route.break_start + route.team.lunch.duration_s)
    return segments


def _cut_break(segments: list[Segment], start: int, end: int) -> list[Segment]:
    """Insert the break, trimming the travel and waiting it overlaps (visits never overlap a break)."""
    out: list[Segment] = []
    for seg in segments:
        if seg.kind == "visit" or seg.end <= start or seg.start >= end:
            out.append(seg)
            continue
        if seg.start < start:
            out.append(Segment(seg.kind, seg.start, start, seg.label, seg.css))
        if seg.end > end:
            out.append(Segment(seg.kind, end, seg.end, seg.label, seg.css))
    out.append(Segment("break", start, end))
    return sorted(out, key=lambda s: (s.start, s.end))


def timeline_html(route: TeamDay, lang: str) -> str:
    """The bar of the day over the team's shift, with hour ticks, as trusted HTML.

    Parameters
    ----------
    route
        The team's day.
    lang
        A supported language tag.

    Returns
    -------
    str
        A ``div.ds-timeline`` whose segments are positioned in percent of the shift.
    """
    t = partial(translate, lang)
    lo = min(route.team.shift.start, route.start_time)
    hi = max(route.team.shift.end, route.end_time, lo + 1)
    span = hi - lo

    def pct(seconds: int) -> str:
        return f"{100.0 * (seconds - lo) / span:.2f}%"

    parts = []
    for seg in day_segments(route):
        if seg.end <= seg.start:
            continue
        title = f"{t('timeline.' + seg.kind)} {format_clock(seg.start)}-{format_clock(seg.end)}"
        if seg.label:
            title = f"{t('stop')} {seg.label} · {title}"
        classes = f"ds-seg ds-seg-{seg.kind} {seg.css}".strip()
        width = f"{100.0 * (seg.end - seg.start) / span:.2f}%"
        parts.append(
            f'<span class="{classes}" style="left:{pct(seg.start)};width:{width}" title="{esc(title)}">'
            f"{esc(seg.label)}</span>"
        )
    first_hour = -(-lo // 3600)
    ticks = "".join(
        f'<span class="ds-tick" style="left:{pct(hour * 3600)}">{hour:02d}</span>'
        for hour in range(first_hour, hi // 3600 + 1)
    )
    shift = (
        f'<span class="ds-shift" style="left:{pct(route.team.shift.start)};'
        f'width:{100.0 * route.team.shift.duration / span:.2f}%"></span>'
    )
    return (
        f'<div class="ds-timeline" role="img" aria-label="{esc(t("timeline"))}">'
        f'<div class="ds-timeline-bar">{shift}{"".join(parts)}</div>'
        f'<div class="ds-timeline-ticks">{ticks}</div></div>'
    )
