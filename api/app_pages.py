"""HTML answers: map pages with their CSP, the printable route sheet and the supervisor's sign-in form."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.responses import HTMLResponse

from maps.page import esc
from maps.tiles import AMAP_HOSTS


def page_csp(script_hashes: str, tiles: str) -> str:
    """The CSP of a page: scripts from this origin and the page's own hashed inline scripts only; images also
    from the configured tile host (AMap's four hosts for ``amap``), and from no other."""
    img = "'self' data:"
    if tiles == "osm":
        img += " https://tile.openstreetmap.org"
    elif tiles == "amap":
        img += " " + " ".join(AMAP_HOSTS)
    elif tiles.startswith("https://"):
        img += " " + "/".join(tiles.split("/")[:3])
    return (
        f"default-src 'self'; script-src 'self' {script_hashes}".rstrip()
        + f"; style-src 'self' 'unsafe-inline'; img-src {img}; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'"
    )


def html_page(html: str, script_hashes: str, tiles: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status, headers={"content-security-policy": page_csp(script_hashes, tiles)})


def _clock(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).strftime("%H:%M")


def route_sheet(plan: dict[str, Any], team: dict[str, Any]) -> str:
    """A printable table of a team's day (no amounts, no phone numbers)."""
    rows = "".join(
        "<tr>"
        f"<td>{stop['seq']}</td><td>{esc(_clock(stop['arrival']))}</td>"
        f"<td>{esc(_clock(stop['slot']['start']))}-{esc(_clock(stop['slot']['end']))}</td>"
        f"<td>{esc(stop['case_id'])}</td><td>{esc(stop['address_kind'])}</td>"
        f"<td>{stop['lat']:.5f}, {stop['lon']:.5f}</td><td>{stop['p_home']:.0%}</td><td></td>"
        "</tr>"
        for stop in team["stops"]
    )
    brk = team.get("break")
    brk_text = f"{_clock(brk['start'])}-{_clock(brk['end'])}" if brk else "none"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Route sheet {esc(team['team_id'])} {esc(plan['date'])}</title>"
        '<meta name="referrer" content="no-referrer"><link rel="stylesheet" href="/static/doorstep/map.css">'
        '</head><body class="ds-sheet">'
        f"<h1>Team {esc(team['team_id'])} · {esc(plan['date'])} · revision {team['revision']}</h1>"
        f"<p>Members: {esc(', '.join(team['members']))}. Start {esc(_clock(team['start']['time']))}, "
        f"end {esc(_clock(team['end']['time']))}, break {esc(brk_text)}.</p>"
        '<table border="1" cellspacing="0" cellpadding="4"><thead><tr><th>#</th><th>ETA</th><th>slot</th>'
        "<th>case</th><th>address</th><th>point</th><th>P(home)</th><th>outcome</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></body></html>"
    )


def sign_in_form(message: str = "") -> str:
    """The supervisor's sign-in form: the key is posted once and becomes an HttpOnly session cookie."""
    note = f'<p role="alert">{esc(message)}</p>' if message else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Doorstep sign-in</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>'
        f"<h1>Doorstep supervisor sign-in</h1>{note}"
        '<form method="post" action="/v1/session"><label>API key <input name="key" type="password" '
        'autocomplete="off" required></label> <button type="submit">Sign in</button></form></body></html>'
    )
