"""Read what a geocoder needs from an OSM extract: addresses, named streets, named POIs and buildings, places.

One pass with pyosmium over ``.osm.pbf``, ``.osm``, ``.osm.bz2`` or ``.osm.gz``. Ways are placed at the mean of
their nodes that the file holds: real extracts are clipped at their bounding box, so some nodes are missing, and a
way with none of its nodes is skipped. Relations are not read (multipolygon POIs are rare and have no nodes of
their own to place them by).

Everything is returned as plain tuples, so the geocoder's disk cache is a small pickle of built-in types.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geo.errors import GeocodeError

__all__ = [
    "NAME_KEYS",
    "POI_KEYS",
    "OsmFeatures",
    "read_features",
]

# One address: street, house number, postcode, city, lat, lon.
RawAddress = tuple[str, str, str | None, str | None, float, float]
# One named street way: name, its node latitudes, its node longitudes.
RawStreet = tuple[str, tuple[float, ...], tuple[float, ...]]
# One named POI or building: name, kind ("amenity=cafe"), lat, lon, radius in metres (0 for a node).
RawPoi = tuple[str, str, float, float, float]
# One place: name, place type ("suburb"), lat, lon.
RawPlace = tuple[str, str, float, float]

# Names a feature may be asked by. ``name:zh`` and ``name:en`` matter in China and for foreigners' notes.
NAME_KEYS = ("name", "alt_name", "official_name", "short_name", "old_name", "name:zh", "name:en", "name:da")
# A named feature with one of these keys is a POI (or a named building).
POI_KEYS = (
    "amenity",
    "shop",
    "tourism",
    "office",
    "leisure",
    "historic",
    "craft",
    "healthcare",
    "building",
    "public_transport",
    "railway",
    "aeroway",
    "man_made",
    "club",
    "sport",
)
# Streets: named ways with these highway values (paths and tracks carry names too, and people live on them).
_STREET_HIGHWAYS = frozenset(
    {
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "pedestrian",
        "road",
        "track",
        "footway",
        "path",
        "cycleway",
        "steps",
        "primary_link",
        "secondary_link",
        "tertiary_link",
        "trunk_link",
        "motorway_link",
    }
)
_EARTH_R = 6_371_008.8


@dataclass(slots=True)
class OsmFeatures:
    """The raw features of one extract, as read."""

    addresses: list[RawAddress] = field(default_factory=list)
    streets: list[RawStreet] = field(default_factory=list)
    pois: list[RawPoi] = field(default_factory=list)
    places: list[RawPlace] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.addresses) + len(self.streets) + len(self.pois) + len(self.places)


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    text = " ".join(value.split())
    return text or None


def _valid(lat: float, lon: float) -> bool:
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def _names(tags: Any) -> list[str]:
    out: list[str] = []
    for key in NAME_KEYS:
        value = _clean(tags.get(key))
        if value is None:
            continue
        for part in value.split(";"):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def _poi_kind(tags: Any) -> str | None:
    for key in POI_KEYS:
        value = tags.get(key)
        if value:
            return f"{key}={value}"
    return None


def _address(tags: Any, lat: float, lon: float) -> RawAddress | None:
    street = _clean(tags.get("addr:street")) or _clean(tags.get("addr:place"))
    number = _clean(tags.get("addr:housenumber"))
    if street is None or number is None or not _valid(lat, lon):
        return None
    return (street, number, _clean(tags.get("addr:postcode")), _clean(tags.get("addr:city")), lat, lon)


def _radius_m(lat: float, lon: float, lats: list[float], lons: list[float]) -> float:
    """Largest distance from the centroid to a node, in metres (equirectangular: features are small)."""
    k = math.cos(math.radians(lat))
    return max(
        math.hypot(math.radians(a - lat), math.radians(b - lon) * k) * _EARTH_R for a, b in zip(lats, lons, strict=True)
    )


def read_features(path: Path) -> OsmFeatures:
    """Read addresses, streets, POIs and places from an extract.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm``, ``.osm.bz2`` or ``.osm.gz``.

    Returns
    -------
    OsmFeatures
        Possibly empty lists; the caller decides whether an empty extract is an error.

    Raises
    ------
    GeocodeError
        The file cannot be parsed.
    """
    import osmium  # imported here: only the index build needs it

    out = OsmFeatures()
    try:
        processor = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EmptyTagFilter())
        )
        for item in processor:
            obj: Any = item  # a Node or a Way (the processor reads nothing else)
            tags = obj.tags
            if len(tags) == 0:
                continue
            has_number = "addr:housenumber" in tags
            has_name = "name" in tags
            is_place = "place" in tags
            if not (has_number or has_name or is_place):
                continue
            if obj.is_node():
                loc = obj.location
                if not loc.valid():
                    continue
                lat, lon = loc.lat, loc.lon
                if has_number and (rec := _address(tags, lat, lon)):
                    out.addresses.append(rec)
                names = _names(tags)
                if not names or not _valid(lat, lon):
                    continue
                if is_place:
                    out.places.extend((n, str(tags.get("place")), lat, lon) for n in names)
                elif (kind := _poi_kind(tags)) is not None:
                    out.pois.extend((n, kind, lat, lon, 0.0) for n in names)
                continue
            refs = list(obj.nodes)
            if len(refs) > 1 and refs[0].ref == refs[-1].ref:
                refs = refs[:-1]  # a closed ring repeats its first node
            pts = [(nd.location.lat, nd.location.lon) for nd in refs if nd.location.valid()]
            if not pts:
                continue
            lats = [p[0] for p in pts]
            lons = [p[1] for p in pts]
            names = _names(tags) if has_name else []
            highway = tags.get("highway")
            if highway in _STREET_HIGHWAYS and names:
                for n in names:
                    out.streets.append((n, tuple(lats), tuple(lons)))
                continue
            lat, lon = sum(lats) / len(lats), sum(lons) / len(lons)
            if not _valid(lat, lon):
                continue
            if has_number and (rec := _address(tags, lat, lon)):
                out.addresses.append(rec)
            if names and (kind := _poi_kind(tags)) is not None:
                radius = _radius_m(lat, lon, lats, lons)
                out.pois.extend((n, kind, lat, lon, radius) for n in names)
            elif names and is_place:
                out.places.extend((n, str(tags.get("place")), lat, lon) for n in names)
    except (RuntimeError, ValueError, OSError, KeyError) as exc:
        msg = f"cannot read {path}: {exc}"
        raise GeocodeError(msg) from exc
    return out
