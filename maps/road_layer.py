"""The road network as one light vector layer, for pages drawn without tiles.

The lines travel as Google's encoded polylines (precision 5, about 1 m): a few bytes a point instead of the 20 of
a JSON pair, which keeps a team map with its roads well under its size budget. ``Doorstep.addRoads`` in
``doorstep/map.js`` decodes them into one non-interactive polyline on its own pane, under the route.
"""

from __future__ import annotations

import json
import re

import numpy as np
from folium.elements import MacroElement
from folium.template import Template

from geo.road_lines import RoadLines
from maps.tiles import to_map

__all__ = ["RoadLayer", "decode_polyline", "encode_polyline"]

_JINJA_OPENER = re.compile(r"\{(?=[{%#])")


def encode_polyline(lat: np.ndarray, lon: np.ndarray) -> str:
    """Google's encoded polyline of a line (precision 5)."""
    ints = np.round(np.stack([lat, lon], axis=1) * 1e5).astype(np.int64)
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel()
    out = []
    for value in deltas.tolist():
        v = ~(value << 1) if value < 0 else value << 1
        while v >= 0x20:
            out.append(chr((0x20 | (v & 0x1F)) + 63))
            v >>= 5
        out.append(chr(v + 63))
    return "".join(out)


def decode_polyline(text: str) -> list[tuple[float, float]]:
    """The points of an encoded polyline (the inverse of `encode_polyline`; for tests and tools)."""
    values: list[int] = []
    shift = result = 0
    for ch in text:
        b = ord(ch) - 63
        result |= (b & 0x1F) << shift
        shift += 5
        if b < 0x20:
            values.append(~(result >> 1) if result & 1 else result >> 1)
            shift = result = 0
    lat = lon = 0
    points = []
    for i in range(0, len(values), 2):
        lat, lon = lat + values[i], lon + values[i + 1]
        points.append((lat / 1e5, lon / 1e5))
    return points


class RoadLayer(MacroElement):
    """The roads (`geo.road_lines.RoadLines`, WGS-84) drawn in the map's datum by ``Doorstep.addRoads``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            Doorstep.addRoads({{ this._parent.get_name() }}, {{ this.lines_js }});
        {% endmacro %}
        """
    )

    def __init__(self, roads: RoadLines, datum: str = "wgs84") -> None:
        super().__init__()
        self._name = "RoadLayer"
        encoded = []
        for line in roads.lines:
            lat, lon = to_map(line[:, 0], line[:, 1], datum)
            encoded.append(encode_polyline(lat, lon))
        # Encoded polylines are ASCII 63-126: json.dumps escapes the backslash, and a brace that would open Jinja
        # markup ("{{", "{%", "{#") is escaped too, as branca renders the page's scripts through Jinja once more.
        self.lines_js = _JINJA_OPENER.sub(r"\\u007b", json.dumps(encoded))
        self.count = len(encoded)
