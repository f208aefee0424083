"""Noisy hold-out query sets built from an extract, and the measures of a geocoder on them.

The truth comes from the extract itself: an address record's point, or a named POI's point. Each query is the
feature written the way people write it, with one kind of noise (a *variant*):

European-style addresses
    ``exact`` (the label), ``folded`` (diacritics dropped, lower case), ``typo`` (one letter of the street
    deleted, doubled, swapped or replaced), ``no_postcode``, ``reordered`` (number first, or postcode and city
    first), ``floor_door`` (``"2. tv"``, ``"st. th"``), ``abbreviated`` (``"gade"`` → ``"g."``, ``"Sankt"`` →
    ``"Skt."``, ``"katu"`` → ``"k."``, ``"Avenida"`` → ``"Av."``), and ``holdout``: the address removed from the
    index (with every record of the same street and number), so interpolation and fall-backs are measured.
Chinese names (POIs and buildings)
    ``exact``, ``admin_prefix`` (province, city and district before the name), ``nearby`` (``附近``, ``旁边``),
    ``fullwidth`` (digits and Latin letters as full-width forms), ``cn_numerals`` (a number in the name in Chinese
    numerals), and ``holdout`` (the feature removed: the right answer is then no confident answer).

``evaluate`` runs a geocoder over a set (with ``min_confidence`` 0, so every guess is seen) and ``summarise``
reports, per variant, the share within 30 m and 100 m, the median error, the unresolved share at a threshold and the
share wrong but confident (confidence ≥ 0.9 and more than 100 m off); ``calibration`` bins confidence against the
share within 50 m.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from geo.address import street_key
from geo.osm_features import OsmFeatures
from geo.types import Location

__all__ = [
    "CJK_VARIANTS",
    "EURO_VARIANTS",
    "EvalQuery",
    "Outcome",
    "calibration",
    "cjk_queries",
    "euro_queries",
    "evaluate",
    "haversine_m_np",
    "summarise",
]

EURO_VARIANTS = ("exact", "folded", "typo", "no_postcode", "reordered", "floor_door", "abbreviated")
CJK_VARIANTS = ("exact", "admin_prefix", "nearby", "fullwidth", "cn_numerals")

# (pattern at the end of a word, abbreviation) as people write them; the first that applies is used.
_ABBREVIATIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\bSankt\b"), "Skt."),
    (re.compile(r"(?<=\w)gade\b"), "g."),
    (re.compile(r"(?<=\w)vej\b"), "v."),
    (re.compile(r"(?<=\w)katu\b"), "k."),
    (re.compile(r"(?<=\w)tie\b"), "t."),
    (re.compile(r"\bBoulevard\b"), "Boul."),
    (re.compile(r"\bAvenida\b"), "Av."),
    (re.compile(r"\bCalle\b"), "C."),
    (re.compile(r"\bPrivada\b"), "Priv."),
    (re.compile(r"\bPlads\b"), "Pl."),
    (re.compile(r"(?<=\w)straße\b"), "str."),
)
_FLATS = ("st. tv", "st. th", "1. tv", "2. th", "3. mf", "4. sal", "kl.", "1 tv")
_CJK_DIGITS = "零一二三四五六七八九"
_ADMIN_PREFIXES = {
    "shenzhen": ("广东省深圳市龙岗区", "深圳市龙岗区", "龙岗区"),
    "beijing": ("北京市海淀区", "北京海淀区", "海淀区"),
}


@dataclass(frozen=True, slots=True)
class EvalQuery:
    """One query with its truth: ``truth`` and every other point the extract gives the same address or name.

    An address is often tagged on several objects (an entrance node and the building outline; a big building's
    several entrances): each is the address, so the error of an answer is its distance to the nearest of them.
    """

    text: str
    truth: Location
    variant: str
    source: str  # the feature's own label or name
    also: tuple[Location, ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    """A geocoder's answer to one ``EvalQuery``: location (``None`` when nothing), confidence and precision."""

    query: EvalQuery
    location: Location | None
    confidence: float
    precision: str


def _fold_text(text: str) -> str:
    """Diacritics dropped and Nordic letters spelt in ASCII, lower case: how a keyboard without them writes."""
    table = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae", "å": "aa", "Å": "Aa", "ß": "ss"})
    text = unicodedata.normalize("NFKD", text.translate(table))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def _typo(street: str, rng: np.random.Generator) -> str | None:
    """One letter of the street deleted, doubled, swapped with its neighbour or replaced; ``None`` if too short."""
    for _ in range(10):
        typo = _one_typo(street, rng)
        if typo != street:
            return typo
    return None


def _one_typo(street: str, rng: np.random.Generator) -> str | None:
    letters = [i for i, ch in enumerate(street) if ch.isalpha()]
    if len(letters) < 6:
        return None
    i = int(rng.choice(letters[1:-1]))
    kind = int(rng.integers(4))
    if kind == 0:
        return street[:i] + street[i + 1 :]
    if kind == 1:
        return street[:i] + street[i] + street[i:]
    if kind == 2 and street[i + 1].isalpha():
        return street[:i] + street[i + 1] + street[i] + street[i + 2 :]
    repl = "aeiou" if street[i].lower() in "aeiou" else "bcdfghklmnprstv"
    choices = [c for c in repl if c != street[i].lower()]
    return street[:i] + str(rng.choice(choices)) + street[i + 1 :]


def _abbreviate(street: str) -> str | None:
    for pattern, abbr in _ABBREVIATIONS:
        if pattern.search(street):
            return pattern.sub(abbr, street, count=1)
    return None


def _tail(postcode: str | None, city: str | None) -> str:
    return " ".join(p for p in (postcode, city) if p)


def _euro_text(
    variant: str, street: str, number: str, pc: str | None, city: str | None, rng: np.random.Generator
) -> str | None:
    tail = _tail(pc, city)
    label = f"{street} {number}" + (f", {tail}" if tail else "")
    if variant in ("exact", "holdout"):
        return label
    if variant == "folded":
        return _fold_text(label)
    if variant == "typo":
        typo = _typo(street, rng)
        return None if typo is None else f"{typo} {number}" + (f", {tail}" if tail else "")
    if variant == "no_postcode":
        return f"{street} {number}" + (f", {city}" if city else "")
    if variant == "reordered":
        if tail and rng.random() < 0.5:
            return f"{tail}, {street} {number}"
        return f"{number} {street}" + (f", {tail}" if tail else "")
    if variant == "floor_door":
        flat = str(rng.choice(_FLATS))
        return f"{street} {number}, {flat}" + (f", {tail}" if tail else "")
    if variant == "abbreviated":
        abbr = _abbreviate(street)
        return None if abbr is None else f"{abbr} {number}" + (f", {tail}" if tail else "")
    msg = f"unknown variant {variant!r}"
    raise ValueError(msg)


def euro_queries(
    features: OsmFeatures,
    per_variant: int,
    seed: int,
    *,
    variants: Sequence[str] = EURO_VARIANTS,
    holdout_fraction: float = 0.1,
    holdout_queries: int | None = None,
) -> tuple[list[EvalQuery], OsmFeatures]:
    """Noisy address queries and the index features to answer them with (the hold-out addresses removed).

    Parameters
    ----------
    features
        An extract's features (``geo.osm_features.read_features``).
    per_variant
        Queries per variant (fewer when the extract has fewer usable addresses, e.g. for abbreviations).
    seed
        Makes the set reproducible.
    variants
        Which variants; ``holdout`` is added when ``holdout_fraction`` > 0.
    holdout_fraction
        Share of distinct (street, number) keys removed from the index.
    holdout_queries
        How many of the held-out addresses to query (default ``per_variant``).

    Returns
    -------
    (queries, features)
        The features without the held-out addresses.
    """
    rng = np.random.default_rng(seed)
    addresses = features.addresses
    keys = [(street_key(a[0]), a[1].replace(" ", "").lower()) for a in addresses]
    distinct = sorted(set(keys))
    n_hold = round(holdout_fraction * len(distinct))
    held = {distinct[int(i)] for i in rng.choice(len(distinct), size=n_hold, replace=False)} if n_hold else set()
    kept_idx = [i for i, k in enumerate(keys) if k not in held]
    held_idx = [i for i, k in enumerate(keys) if k in held]
    # Every point of each (street, number, postcode) address: all of them are the truth of a query for it.
    points: dict[tuple[str, str, str | None], list[Location]] = {}
    for (sk, hk), a in zip(keys, addresses, strict=True):
        points.setdefault((sk, hk, a[2]), []).append(Location(a[4], a[5]))

    def others(i: int) -> tuple[Location, ...]:
        a = addresses[i]
        return tuple(points[(keys[i][0], keys[i][1], a[2])])

    queries: list[EvalQuery] = []
    order = rng.permutation(kept_idx) if kept_idx else np.array([], dtype=int)
    for variant in variants:
        made = 0
        for i in order:
            if made >= per_variant:
                break
            street, number, pc, city, lat, lon = addresses[int(i)]
            text = _euro_text(variant, street, number, pc, city, rng)
            if text is None:
                continue
            label = _euro_text("exact", street, number, pc, city, rng) or ""
            queries.append(EvalQuery(text, Location(lat, lon), variant, label, others(int(i))))
            made += 1
        order = np.roll(order, -per_variant)  # other addresses for the next variant
    if held_idx:
        # One query per held-out key: a key's several records (node and building) are one address.
        seen: set[tuple[str, str]] = set()
        n_q = per_variant if holdout_queries is None else holdout_queries
        for i in rng.permutation(held_idx):
            if len(seen) >= n_q:
                break
            if keys[int(i)] in seen:
                continue
            seen.add(keys[int(i)])
            street, number, pc, city, lat, lon = addresses[int(i)]
            text = _euro_text("exact", street, number, pc, city, rng) or ""
            queries.append(EvalQuery(text, Location(lat, lon), "holdout", text, others(int(i))))
    kept = replace(features, addresses=[addresses[i] for i in kept_idx])
    return queries, kept


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _cn_number(n: int) -> str:
    """0–9999 in Chinese numerals (``23`` → ``二十三``)."""
    if n < 10:
        return _CJK_DIGITS[n]
    out = ""
    for value, unit in ((1000, "千"), (100, "百"), (10, "十")):
        d, n = divmod(n, value)
        if d:
            out += ("" if (unit == "十" and d == 1 and not out) else _CJK_DIGITS[d]) + unit
        elif out and n:
            out += "" if out.endswith("零") else "零"
    if n:
        out += _CJK_DIGITS[n]
    return out


def cjk_queries(
    features: OsmFeatures, per_variant: int, seed: int, *, region: str, holdout_fraction: float = 0.1
) -> tuple[list[EvalQuery], OsmFeatures]:
    """Noisy queries for the named Chinese POIs and buildings of an extract, and the index features (hold-out removed).

    Parameters
    ----------
    features
        An extract's features.
    per_variant
        Queries per variant (fewer when there are fewer names).
    seed
        Makes the set reproducible.
    region
        ``"shenzhen"`` or ``"beijing"``: which administrative prefixes to write.
    holdout_fraction
        Share of names removed from the index (all features of that name); each is then queried exactly.
    """
    rng = np.random.default_rng(seed)
    prefixes = _ADMIN_PREFIXES[region]
    cjk = re.compile(r"[\u3400-\u9fff]")
    names = sorted({p[0] for p in features.pois if cjk.search(p[0]) and len(p[0]) >= 2})
    n_hold = round(holdout_fraction * len(names))
    held = {names[int(i)] for i in rng.choice(len(names), size=n_hold, replace=False)} if n_hold else set()
    first: dict[str, tuple[float, float]] = {}
    every: dict[str, list[Location]] = {}
    for name, _kind, lat, lon, _r in features.pois:
        first.setdefault(name, (lat, lon))
        every.setdefault(name, []).append(Location(lat, lon))
    kept_names = [n for n in names if n not in held]
    queries: list[EvalQuery] = []
    makers: dict[str, Callable[[str], str | None]] = {
        "exact": lambda n: n,
        "admin_prefix": lambda n: str(rng.choice(prefixes)) + n,
        "nearby": lambda n: n + str(rng.choice(("附近", "旁边", "旁", "对面"))),
        "fullwidth": lambda n: _fullwidth(n) if re.search(r"[0-9A-Za-z]", n) else None,
        "cn_numerals": lambda n: (
            re.sub(r"\d+", lambda m: _cn_number(int(m.group(0))), n) if re.search(r"\d{1,4}", n) else None
        ),
    }
    for variant in CJK_VARIANTS:
        made = 0
        for name in rng.permutation(kept_names):
            if made >= per_variant:
                break
            text = makers[variant](str(name))
            if text is None:
                continue
            lat, lon = first[str(name)]
            queries.append(EvalQuery(text, Location(lat, lon), variant, str(name), tuple(every[str(name)])))
            made += 1
    for name in sorted(held)[:per_variant]:
        lat, lon = first[name]
        queries.append(EvalQuery(name, Location(lat, lon), "holdout", name, tuple(every[name])))
    kept = replace(features, pois=[p for p in features.pois if p[0] not in held])
    return queries, kept


def haversine_m_np(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distances in metres, element-wise."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def evaluate(
    geocode: Callable[[str], tuple[Location | None, float, str]], queries: Sequence[EvalQuery]
) -> list[Outcome]:
    """Run ``geocode`` (text → location or ``None``, confidence, precision) over the queries."""
    out = []
    for q in queries:
        loc, conf, precision = geocode(q.text)
        out.append(Outcome(q, loc, conf, precision))
    return out


def _errors(outcomes: Sequence[Outcome]) -> np.ndarray:
    """Error in metres per outcome (to the nearest point of the truth); ``inf`` where there is no location."""
    err = np.full(len(outcomes), np.inf)
    for k, o in enumerate(outcomes):
        if o.location is None:
            continue
        truths = (o.query.truth, *o.query.also)
        lat = np.array([t.lat for t in truths])
        lon = np.array([t.lon for t in truths])
        err[k] = float(
            haversine_m_np(np.full_like(lat, o.location.lat), np.full_like(lon, o.location.lon), lat, lon).min()
        )
    return err


def summarise(outcomes: Sequence[Outcome], threshold: float = 0.5) -> dict[str, dict[str, float]]:
    """Per variant (and ``all``): n, within 30 m / 100 m, median error, unresolved share, wrong but confident.

    A result below ``threshold`` counts as unresolved (no location), as it would be in production.
    """
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(o.query.variant, []).append(o)
    groups["all"] = [o for o in outcomes if o.query.variant != "holdout"]
    report: dict[str, dict[str, float]] = {}
    for variant, group in groups.items():
        if not group:
            continue
        err = _errors(group)
        conf = np.array([o.confidence for o in group])
        answered = np.array([o.location is not None for o in group]) & (conf >= threshold)
        err = np.where(answered, err, np.inf)
        finite = err[np.isfinite(err)]
        report[variant] = {
            "n": float(len(group)),
            "within_30m": float(np.mean(err <= 30.0)),
            "within_100m": float(np.mean(err <= 100.0)),
            "median_error_m": float(np.median(finite)) if finite.size else float("nan"),
            "unresolved": float(np.mean(~answered)),
            "wrong_confident": float(np.mean((conf >= 0.9) & answered & (err > 100.0))),
        }
    return report


def calibration(
    outcomes: Sequence[Outcome], edges: Sequence[float] = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0001)
) -> list[dict[str, float]]:
    """Per confidence bin: how many answers and the share within 50 m of the truth (every variant, hold-out too)."""
    err = _errors(outcomes)
    conf = np.array([o.confidence if o.location is not None else 0.0 for o in outcomes])
    rows = []
    for lo, hi in itertools.pairwise(edges):
        sel = (conf >= lo) & (conf < hi) & np.isfinite(err)
        n = int(sel.sum())
        rows.append(
            {
                "lo": lo,
                "hi": min(hi, 1.0),
                "n": float(n),
                "within_50m": float(np.mean(err[sel] <= 50.0)) if n else float("nan"),
            }
        )
    return rows
