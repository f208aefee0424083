"""Travel profiles: which ways a team may use, in which directions, and how fast.

Three profiles, as teams actually move:

``car``
    Streets and service roads that lead to doors (not parking aisles or driveways), no tracks or paths;
    ``motorcar`` > ``motor_vehicle`` > ``vehicle`` > ``access`` decide closures; one-ways respected.
``ebike``
    E-bikes and electric scooters (common in rural China): every street except motorways, plus cycleways,
    tracks, paths, bridleways and all service roads; footways and pedestrian streets only where ``bicycle``
    allows it. ``bicycle`` > ``vehicle`` > ``access`` decide closures (a car ban, ``motor_vehicle=no``, does
    not close a way to e-bikes). One-ways apply unless ``oneway:bicycle=no`` or a contraflow cycleway says
    otherwise; ``bicycle=dismount`` is pushed at walking pace.
``walk``
    Every street, footway, path, steps, track and cycleway, not motorways; ``foot`` > ``access``
    decide closures; one-ways do not apply to people on foot.

Speeds come from :mod:`geo.speeds`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

#: The travel profiles a team can have (``Team.profile``).
PROFILES: tuple[str, ...] = ("car", "ebike", "walk")

_STREETS: frozenset[str] = frozenset(
    {
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "road",
        "service",
    }
)


@dataclass(frozen=True, slots=True)
class Profile:
    """Access rules of one travel profile.

    Attributes
    ----------
    name
        ``car``, ``ebike`` or ``walk``.
    highways
        ``highway`` values open to the profile unless an access tag closes them.
    permitted_highways
        ``highway`` values open only when the profile's own access tag (the first of ``access_keys``)
        explicitly allows them, e.g. a footway with ``bicycle=yes``.
    access_keys
        Access tags checked most specific first; the first one present decides.
    closed_values
        Access values that close a way (``access=private;delivery`` counts as closed).
    excluded_service
        ``service`` values the profile does not use.
    oneway_key
        Profile-specific one-way tag that overrides ``oneway`` (``oneway:bicycle``), or ``None``.
    respects_oneway
        Whether ``oneway`` applies at all.
    """

    name: str
    highways: frozenset[str]
    permitted_highways: frozenset[str]
    access_keys: tuple[str, ...]
    closed_values: frozenset[str]
    excluded_service: frozenset[str]
    oneway_key: str | None
    respects_oneway: bool


CAR = Profile(
    name="car",
    highways=_STREETS | {"motorway", "motorway_link"},
    permitted_highways=frozenset({"track"}),
    access_keys=("motorcar", "motor_vehicle", "vehicle", "access"),
    closed_values=frozenset({"no", "private", "agricultural", "forestry", "use_sidepath"}),
    excluded_service=frozenset(
        {"parking_aisle", "parking", "driveway", "private", "emergency_access", "drive-through"}
    ),
    oneway_key=None,
    respects_oneway=True,
)

EBIKE = Profile(
    name="ebike",
    highways=_STREETS | {"cycleway", "track", "path", "bridleway"},
    permitted_highways=frozenset({"footway", "pedestrian", "sidewalk", "crossing"}),
    access_keys=("bicycle", "vehicle", "access"),
    closed_values=frozenset({"no", "private", "use_sidepath", "agricultural", "forestry"}),
    excluded_service=frozenset({"emergency_access"}),
    oneway_key="oneway:bicycle",
    respects_oneway=True,
)

WALK = Profile(
    name="walk",
    highways=_STREETS
    | {"footway", "pedestrian", "path", "steps", "track", "cycleway", "bridleway", "sidewalk", "crossing", "corridor"},
    permitted_highways=frozenset({"motorway_link"}),
    access_keys=("foot", "access"),
    closed_values=frozenset({"no", "private", "use_sidepath"}),
    excluded_service=frozenset(),
    oneway_key=None,
    respects_oneway=False,
)

_BY_NAME: Mapping[str, Profile] = {p.name: p for p in (CAR, EBIKE, WALK)}

#: Access values that explicitly open a way to the profile whose access tag carries them.
OPEN_VALUES: frozenset[str] = frozenset({"yes", "designated", "permissive", "destination", "dismount"})

#: ``oneway`` values meaning "one-way in the drawing direction".
ONEWAY_FORWARD: frozenset[str] = frozenset({"yes", "true", "1"})

#: ``oneway`` values meaning "one-way against the drawing direction".
ONEWAY_REVERSE: frozenset[str] = frozenset({"-1", "reverse"})

#: Tags a reader must keep for the profiles and speeds.
TAG_KEYS: tuple[str, ...] = (
    "highway",
    "maxspeed",
    "oneway",
    "oneway:bicycle",
    "junction",
    "area",
    "service",
    "access",
    "motorcar",
    "motor_vehicle",
    "vehicle",
    "bicycle",
    "foot",
    "cycleway",
)


def get_profile(name: str) -> Profile:
    """The profile called ``name``; a ``ValueError`` naming the known ones otherwise."""
    profile = _BY_NAME.get(name)
    if profile is None:
        msg = f"unknown travel profile {name!r}: expected one of {', '.join(PROFILES)}"
        raise ValueError(msg)
    return profile


def text(value: object) -> str | None:
    """A tag value as stripped lower-case text, ``None`` for missing values (None, NaN, empty)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (list, tuple)):
        value = ";".join(str(v) for v in value)
    out = str(value).strip().lower()
    return out or None


def _values(value: str | None) -> set[str]:
    return {part.strip() for part in value.split(";")} if value is not None else set()


def access_value(profile: Profile, tags: Mapping[str, object]) -> str | None:
    """The deciding access tag value for ``profile`` (most specific key present), ``None`` when untagged."""
    for key in profile.access_keys:
        value = text(tags.get(key))
        if value is not None:
            return value
    return None


def allows(profile: Profile, tags: Mapping[str, object]) -> bool:
    """Whether a way with these tags belongs to the profile's network.

    Parameters
    ----------
    profile
        The travel profile.
    tags
        The way's raw tags (missing keys and NaN mean absent).
    """
    highway = text(tags.get("highway"))
    if highway is None or text(tags.get("area")) == "yes":
        return False
    if highway not in profile.highways:
        # Only the profile's own tags open such a way: a general ``access=yes`` on a footway is not enough.
        own = next((v for v in (text(tags.get(k)) for k in profile.access_keys[:-1]) if v is not None), None)
        if highway not in profile.permitted_highways or not (_values(own) & OPEN_VALUES):
            return False
    if _values(text(tags.get("service"))) & profile.excluded_service:
        return False
    return not (_values(access_value(profile, tags)) & profile.closed_values)


def directions(profile: Profile, tags: Mapping[str, object]) -> tuple[bool, bool]:
    """Which directions of a way the profile may use.

    Returns
    -------
    tuple of bool
        ``(forward, backward)`` relative to the order of the way's nodes. ``oneway=yes/true/1`` is forward
        only, ``-1`` backward only, a roundabout (and a motorway) without ``oneway`` tag is forward only,
        anything else both ways. The profile's own key (``oneway:bicycle``) and contraflow cycleways
        (``cycleway=opposite*``) override ``oneway``; ``walk`` ignores one-ways.
    """
    if not profile.respects_oneway:
        return True, True
    if profile.oneway_key is not None:
        own = text(tags.get(profile.oneway_key))
        if own == "no":
            return True, True
        if own in ONEWAY_FORWARD:
            return True, False
        if own in ONEWAY_REVERSE:
            return False, True
        cycleway = text(tags.get("cycleway"))
        if cycleway is not None and cycleway.startswith("opposite"):
            return True, True
    value = text(tags.get("oneway"))
    if value in ONEWAY_FORWARD:
        return True, False
    if value in ONEWAY_REVERSE:
        return False, True
    if value is None and (
        text(tags.get("junction")) in {"roundabout", "circular"} or text(tags.get("highway")) == "motorway"
    ):
        return True, False
    return True, True
