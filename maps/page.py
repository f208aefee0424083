"""Building blocks shared by the team-day map and the overview page.

Folium's stock ``Map`` loads Leaflet, jQuery, Bootstrap and Font Awesome from CDNs, and its ``Popup`` needs
jQuery. Here the map loads only the vendored Leaflet and Doorstep's css, and popups are bound with plain
Leaflet calls, so a page works with no internet access at all (tiles aside).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence

import folium
import numpy as np
from branca.element import Element, Figure
from folium.elements import MacroElement
from folium.template import Template

from geo.types import Location
from maps.assets import css_links, js_links
from maps.tiles import OSM_ATTRIBUTION, OSM_TILE_URL, tile_source, to_map

__all__ = [
    "OSM_ATTRIBUTION",
    "OSM_TILE_URL",
    "Attribution",
    "HtmlPopup",
    "LocateControl",
    "add_html",
    "esc",
    "finish_page",
    "fit_to",
    "js_string",
    "latlngs",
    "mask_id",
    "new_map",
    "p_home_class",
]

MAX_ZOOM = 19
# A route of one point (a team with no visits) must not zoom in without limit.
FIT_MAX_ZOOM = 17

# P(home) bands for stop colours; the legend and the css use the same class names.
P_LOW = 0.3
P_MID = 0.6


def esc(value: object) -> str:
    """HTML-escape ``str(value)`` for text and attribute values."""
    return html.escape(str(value), quote=True)


def js_string(text: str) -> str:
    """A JavaScript string literal for ``text`` that is safe inside an inline ``<script>``."""
    literal = json.dumps(text, ensure_ascii=False)
    # "</script>" or "<!--" inside a string would end or confuse the script element.
    for raw, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
        literal = literal.replace(raw, escaped)
    return literal.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def latlngs(points: Iterable[Location], datum: str = "wgs84") -> list[list[float]]:
    """Points as Leaflet ``[lat, lon]`` pairs in the map's datum (see `maps.tiles`), rounded to 6 decimals
    (about 0.1 m): full floats would double the size of a page of road geometry for nothing a map can show."""
    pts = list(points)
    lat, lon = to_map([p.lat for p in pts], [p.lon for p in pts], datum)
    return np.round(np.stack([lat, lon], axis=1), 6).tolist() if pts else []


def mask_id(identifier: str) -> str:
    """Mask an identifier for officer pages: at most its first two characters, then ``***``.

    Short identifiers keep fewer characters (``"C1"`` becomes ``"***"``), so the mask never reveals most of
    an identifier.
    """
    keep = min(2, len(identifier) // 3)
    return identifier[:keep] + "***"


def p_home_class(p_home: float) -> str:
    """The css class of a stop's colour band: red below 30 %, orange below 60 %, green otherwise."""
    if p_home < P_LOW:
        return "ds-p-low"
    if p_home < P_MID:
        return "ds-p-mid"
    return "ds-p-high"


class HtmlPopup(MacroElement):
    """A popup bound with ``bindPopup(html)``: unlike ``folium.Popup`` it needs no jQuery.

    Parameters
    ----------
    content
        Trusted HTML (callers escape every value they put in it).
    max_width
        The popup's maximum width in pixels.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindPopup({{ this.content_js }}, {maxWidth: {{ this.max_width }}});
        {% endmacro %}
        """
    )

    def __init__(self, content: str, max_width: int = 300) -> None:
        super().__init__()
        self._name = "HtmlPopup"
        self.content_js = js_string(content)
        self.max_width = int(max_width)


class Attribution(MacroElement):
    """Adds an attribution to the map's attribution control, with or without a tile layer.

    Leaflet keys attributions by their text, so the same text from a tile layer is shown once.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text_js }});
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Attribution"
        self.text_js = js_string(text)


class LocateControl(MacroElement):
    """The locate-me button (``Doorstep.addLocateControl`` in the vendored ``doorstep/map.js``).

    Parameters
    ----------
    locate, locate_failed
        The button's tooltip and the text shown when no position can be had, already translated.
    datum
        The map's datum: the phone's WGS-84 fix is converted to it before it is drawn.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            Doorstep.addLocateControl({{ this._parent.get_name() }}, {{ this.labels_js }});
        {% endmacro %}
        """
    )

    def __init__(self, locate: str, locate_failed: str, datum: str = "wgs84") -> None:
        super().__init__()
        self._name = "LocateControl"
        self.labels_js = (
            f"{{locate: {js_string(locate)}, locateFailed: {js_string(locate_failed)}, datum: {js_string(datum)}}}"
        )


class _ReadyMark(MacroElement):
    """Marks the page ready once every layer above it has been added (the last script of the page)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            Doorstep.markReady();
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "ReadyMark"


def new_map(*, asset_prefix: str, tiles: str, title: str, height: str = "100%") -> folium.Map:
    """A folium map that loads only the vendored Leaflet and Doorstep's css.

    Parameters
    ----------
    asset_prefix
        Prefix of the static root as seen from the page (see `maps.write_assets`).
    tiles
        ``"osm"`` for OpenStreetMap's standard tiles, ``"amap"`` for AMap's (in GCJ-02: see `maps.tiles`),
        ``"none"`` for a plain background, or an ``http(s)://`` URL template with ``{z}``, ``{x}`` and ``{y}``
        (an OpenStreetMap-based tile server, e.g. an intranet mirror).
    title
        The page title (plain text).
    height
        The map's height as a css percentage of the page.

    Returns
    -------
    folium.Map
        The map, inside its own figure.

    Raises
    ------
    UnknownTilesError
        When ``tiles`` is none of the above.
    """
    source = tile_source(tiles)
    m = folium.Map(location=None, tiles=None, height=height, control_scale=True)
    # Instance attributes: folium's class-level lists point at CDNs and must stay untouched.
    m.default_js = js_links(asset_prefix)
    m.default_css = css_links(asset_prefix)
    m.options["maxZoom"] = min(MAX_ZOOM, source.max_zoom)
    figure = m.get_root()
    assert isinstance(figure, Figure)
    figure.title = esc(title)
    # Officer links carry their token in the path: send only the origin to tile servers and assets.
    figure.header.add_child(Element('<meta name="referrer" content="strict-origin">'), name="referrer")
    # An empty icon, so browsers do not ask the server for /favicon.ico.
    figure.header.add_child(Element('<link rel="icon" href="data:,">'), name="favicon")
    if source.url is not None:
        folium.TileLayer(
            tiles=source.url,
            attr=source.attribution,
            name="tiles",
            max_zoom=source.max_zoom,
            subdomains=source.subdomains,
            control=False,
        ).add_to(m)
    m.add_child(Attribution(OSM_ATTRIBUTION))
    return m


def _tile_url(tiles: str) -> str | None:
    return tile_source(tiles).url


def add_html(m: folium.Map, name: str, markup: str, *, before_map: bool = False) -> None:
    """Add trusted ``markup`` to the page body, after the map (or before it)."""
    figure = m.get_root()
    assert isinstance(figure, Figure)
    element = Element(markup)
    figure.html.add_child(element, name=name)
    if before_map:
        children = figure.html._children
        children.move_to_end(name, last=False)


def fit_to(m: folium.Map, points: Iterable[Location], datum: str = "wgs84") -> None:
    """Fit the map's view to ``points``, in the map's datum (no-op when there are none)."""
    pts = list(points)
    if not pts:
        return
    lat, lon = to_map([p.lat for p in pts], [p.lon for p in pts], datum)
    south, north = round(float(lat.min()), 6), round(float(lat.max()), 6)
    west, east = round(float(lon.min()), 6), round(float(lon.max()), 6)
    m.location = [(south + north) / 2, (west + east) / 2]
    m.fit_bounds([[south, west], [north, east]], padding=(24, 24), max_zoom=FIT_MAX_ZOOM)


def finish_page(m: folium.Map, *, lang: str, body_classes: Sequence[str] = ()) -> str:
    """Render the page and mark its language (and body classes) on the document."""
    m.add_child(_ReadyMark())
    page: str = m.get_root().render()
    page = page.replace("<html>", f'<html lang="{esc(lang)}">', 1)
    if body_classes:
        page = page.replace("<body>", f'<body class="{esc(" ".join(body_classes))}">', 1)
    return page
