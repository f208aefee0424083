"""Plan -> HTML maps: the officer's team-day map, the supervisor's overview, and their static files.

Only this package imports folium. Pages load scripts and styles only from ``asset_prefix`` (see
`write_assets`), never from a CDN.
"""

from __future__ import annotations

from maps.assets import LEAFLET_VERSION, write_assets
from maps.errors import MapError, UnknownTilesError, UnsupportedLanguageError
from maps.i18n import LANGS
from maps.overview import render_overview
from maps.sheet import render_route_sheet
from maps.team_map import render_team_map

__all__ = [
    "LANGS",
    "LEAFLET_VERSION",
    "MapError",
    "UnknownTilesError",
    "UnsupportedLanguageError",
    "render_overview",
    "render_route_sheet",
    "render_team_map",
    "write_assets",
]
