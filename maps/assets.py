"""The static files the map pages load, shipped inside the package.

The pages must work on a bank intranet with no internet access, so Leaflet is vendored (see
``maps/static/README.md``) and every page references it relative to an ``asset_prefix`` chosen by the caller.
"""

from __future__ import annotations

import html
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

__all__ = ["LEAFLET_VERSION", "css_links", "js_links", "write_assets"]

LEAFLET_VERSION = "1.9.4"

# Paths relative to the static root; the same layout is written by `write_assets`.
_LEAFLET_JS = "leaflet/leaflet.js"
_LEAFLET_CSS = "leaflet/leaflet.css"
_DOORSTEP_CSS = "doorstep/map.css"
_DOORSTEP_JS = "doorstep/map.js"


def _href(asset_prefix: str, path: str) -> str:
    # branca writes link URLs into attributes verbatim, so escape them here.
    return html.escape(asset_prefix + path, quote=True)


def js_links(asset_prefix: str) -> list[tuple[str, str]]:
    """The ``(name, url)`` scripts a map page needs, for folium's ``default_js``.

    Parameters
    ----------
    asset_prefix
        Prefix of the static root as seen from the page, e.g. ``"../static/"``.

    Returns
    -------
    list of (str, str)
        The vendored Leaflet, then Doorstep's own script; no jQuery, Bootstrap or icon fonts.
    """
    return [("leaflet", _href(asset_prefix, _LEAFLET_JS)), ("doorstep", _href(asset_prefix, _DOORSTEP_JS))]


def css_links(asset_prefix: str) -> list[tuple[str, str]]:
    """The ``(name, url)`` style sheets a map page needs, for folium's ``default_css``.

    Parameters
    ----------
    asset_prefix
        Prefix of the static root as seen from the page, e.g. ``"../static/"``.

    Returns
    -------
    list of (str, str)
        Leaflet's style sheet and Doorstep's own.
    """
    return [
        ("leaflet_css", _href(asset_prefix, _LEAFLET_CSS)),
        ("doorstep_css", _href(asset_prefix, _DOORSTEP_CSS)),
    ]


def _copy_tree(source: Traversable, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.is_dir():
            _copy_tree(entry, target / entry.name)
        elif entry.is_file():
            (target / entry.name).write_bytes(entry.read_bytes())


def write_assets(out_dir: Path) -> None:
    """Copy the static files (Leaflet's js, css, images and licence; Doorstep's css) into ``out_dir``.

    Pages rendered with ``asset_prefix`` find their files when ``asset_prefix`` points at ``out_dir``: for
    ``index.html`` with ``asset_prefix="static/"`` and ``maps/T1.html`` with ``asset_prefix="../static/"``,
    call ``write_assets(root / "static")``. Existing files are overwritten; nothing else in ``out_dir`` is
    touched.

    Parameters
    ----------
    out_dir
        The directory to fill; created when missing.
    """
    _copy_tree(resources.files("maps") / "static", Path(out_dir))
