"""Offline geocoder built from an OSM extract: addresses, streets, named POIs and buildings, places.

The index holds every addressed node and way (``addr:*``; a way at the centroid of the nodes the extract holds:
extracts are clipped), every named street way, every named POI or building, and every place node. A query is
cleaned (control characters, length), parsed into street, house number, postcode and city (``geo.address``, which
also reads Chinese addresses) and resolved by falling back through the precision levels:

``house``
    the street (exact folded key, an expanded abbreviation, or a fuzzy rapidfuzz match) has this house number;
    among several records the one agreeing with the postcode and city is chosen;
``interpolated``
    the number is missing from the data: placed between the nearest numbers on the same side of the same street
    (or at the same number with another letter: ``12A`` beside ``12``);
``street``
    the street is known but the number cannot be placed: the nearest number, or the street's middle;
``poi``
    the query names a POI or a named building (``"Rosenborg Slot"``, ``"中国农业大学东校区附近"``);
``place``
    the query names only a place (village, suburb, district): its centre;
``unresolved``
    nothing matched (``no_match``), the best guess is below ``min_confidence`` (``low_confidence``), or the input
    cannot be an address (empty, too long).

Confidence is an estimate of the chance that the point lies within 50 m of the true door. Each level starts from a
base that reflects its geometric uncertainty (the gap between interpolation neighbours, the size of a POI, the
length of a street) and is scaled down for a fuzzy street name, a postcode or city that contradicts the record, or
the same address at several places. The scale is checked against noisy hold-out query sets built from the extracts
(``geo.evaluation``; ``tests/benchmarks/bench_geocoding.py``): at ≥ 0.9 the point is within 50 m in ≥ 99% of them.

The index is cached on disk as a pickle of plain tuples, keyed by the extract's SHA-256 and ``INDEX_VERSION``.
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
import re
import tempfile
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from geo.address import (
    ParsedAddress,
    cjk_name_forms,
    fold,
    housenumber_key,
    housenumber_value,
    iter_address_candidates,
    parse_address,
    place_key,
    street_key,
    street_key_variants,
)
from geo.errors import GeocodeError
from geo.osm_features import OsmFeatures, read_features
from geo.types import BoundingBox, Location, haversine_m

__all__ = [
    "INDEX_VERSION",
    "MAX_ADDRESS_CHARS",
    "PRECISIONS",
    "RESULT_CODES",
    "SOURCES",
    "AddressRecord",
    "GeocodeResult",
    "NamedFeature",
    "OfflineGeocoder",
    "StreetLine",
    "clean_query",
    "default_cache_dir",
    "query_key",
]

# Bump when the feature extraction or the pickle layout changes: old cache files are then ignored.
INDEX_VERSION = 5

Precision = Literal["house", "interpolated", "street", "poi", "place", "unresolved"]
Status = Literal["ok", "unresolved"]
PRECISIONS = ("house", "interpolated", "street", "poi", "place", "unresolved")
STATUSES = ("ok", "unresolved")
RESULT_CODES = ("no_match", "low_confidence", "outside_region")
#: Where an answer came from: this geocoder, a correction (supervisor or officer GPS), an online provider, the input.
SOURCES = ("offline", "correction", "nominatim", "amap", "input")
#: Longer input is not an address (a pasted document, a wrong column): answered ``no_match`` without parsing.
MAX_ADDRESS_CHARS = 500

# Confidence levels (see the module docstring). Kept together so the scale is visible in one place.
_CONF_EXACT = 0.97
_CONF_EXACT_POSTCODE = 1.0
_CONF_FUZZY_MAX = 0.96
_CONF_INTERP_NEAR = 0.95  # neighbours at most _INTERP_NEAR_M apart
_CONF_INTERP_FAR = 0.55  # neighbours _INTERPOLATE_MAX_GAP_M apart
_INTERP_NEAR_M = 40.0
_CONF_SAME_NUMBER = 0.85  # "12A" placed at "12": usually the same building, sometimes a back house 60 m in
_CONF_STREET_NEAREST = 0.55
_CONF_STREET_ONLY = 0.5
_CONF_POI = 0.93  # a named feature at most _POI_SMALL_M across
_POI_SMALL_M = 25.0
_CONF_PLACE = 0.35
_POSTCODE_CONTRADICTS = 0.8
_CITY_CONTRADICTS = 0.9
_BOTH_CONTRADICT = 0.45
_AMBIGUOUS = 0.6
# Same address (or name) within this distance: one place (an address node and its building, say).
_SAME_DOOR_M = 50.0
_SAME_PLACE_M = 150.0
# A street whose addresses spread wider than this, with no postcode to choose, is probably two streets.
_WIDE_STREET_M = 5000.0
_INTERPOLATE_MAX_GAP_M = 400.0
# Margin around the indexed features within which a point still belongs to the region.
_REGION_MARGIN_DEG = 0.01
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
_CJK_RE = re.compile(r"[\u3400-\u9fff]")

# One record as stored in the cache: street, housenumber, postcode, city, lat, lon.
_RawRecord = tuple[str, str, str | None, str | None, float, float]


@dataclass(frozen=True, slots=True)
class AddressRecord:
    """One address of the extract.

    Parameters
    ----------
    street
        Street name as tagged (``addr:street``, else ``addr:place``), whitespace stripped.
    housenumber
        House number as tagged (``"12"``, ``"23 B"``, ``"12-14"``).
    postcode
        ``addr:postcode`` or ``None``.
    city
        ``addr:city`` or ``None``.
    location
        The node, or the centroid of the way.
    """

    street: str
    housenumber: str
    postcode: str | None
    city: str | None
    location: Location

    def __post_init__(self) -> None:
        if not self.street.strip() or not self.housenumber.strip():
            msg = f"an address needs a street and a house number, got {self.street!r} {self.housenumber!r}"
            raise GeocodeError(msg)

    @property
    def label(self) -> str:
        """European order, missing parts omitted: ``"Nørrebrogade 12, 2200 København N"``."""
        head = f"{self.street} {self.housenumber}"
        tail = " ".join(p for p in (self.postcode, self.city) if p)
        return f"{head}, {tail}" if tail else head


@dataclass(frozen=True, slots=True)
class GeocodeResult:
    """The answer to one address query.

    Parameters
    ----------
    query
        The address as given.
    location
        The point, ``None`` when unresolved.
    precision
        ``"house"``, ``"interpolated"``, ``"street"``, ``"poi"``, ``"place"`` or ``"unresolved"``.
    confidence
        In [0, 1]; for a ``low_confidence`` result, the confidence of the withheld guess.
    status
        ``"ok"`` or ``"unresolved"``.
    code
        ``None`` when ok; ``"no_match"``, ``"low_confidence"`` or ``"outside_region"`` when unresolved.
    message
        Why: what was matched, interpolated, contradicted or not found.
    matched
        The label of the address matched (or of the withheld guess), ``None`` when nothing matched.
    source
        ``"offline"`` (this geocoder), ``"correction"``, ``"nominatim"``, ``"amap"`` or ``"input"``.
    """

    query: str
    location: Location | None
    precision: Precision
    confidence: float
    status: Status
    code: str | None = None
    message: str | None = None
    matched: str | None = None
    source: str = "offline"

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            msg = f"source must be one of {SOURCES}, got {self.source!r}"
            raise ValueError(msg)
        if self.precision not in PRECISIONS:
            msg = f"precision must be one of {PRECISIONS}, got {self.precision!r}"
            raise ValueError(msg)
        if self.status not in STATUSES:
            msg = f"status must be one of {STATUSES}, got {self.status!r}"
            raise ValueError(msg)
        if not (math.isfinite(self.confidence) and 0.0 <= self.confidence <= 1.0):
            msg = f"confidence must lie in [0, 1], got {self.confidence!r}"
            raise ValueError(msg)
        ok = self.status == "ok"
        if ok != (self.location is not None) or ok != (self.code is None) or ok != (self.precision != "unresolved"):
            msg = f"inconsistent result: status={self.status!r} code={self.code!r} precision={self.precision!r}"
            raise ValueError(msg)
        if self.code is not None and self.code not in RESULT_CODES:
            msg = f"code must be one of {RESULT_CODES}, got {self.code!r}"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class NamedFeature:
    """A named POI, building or place of the extract.

    Parameters
    ----------
    name
        As tagged (``name``, ``alt_name``, ``name:zh``, …: one feature per name).
    kind
        ``"amenity=cafe"`` for a POI, the ``place`` value (``"suburb"``) for a place.
    location
        The node, or the centroid of the way.
    radius_m
        Largest distance from ``location`` to the way's nodes; 0 for a node.
    """

    name: str
    kind: str
    location: Location
    radius_m: float = 0.0


@dataclass(frozen=True, slots=True)
class StreetLine:
    """One named street way: its name and node coordinates (the nodes the extract holds)."""

    name: str
    lats: tuple[float, ...]
    lons: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class _Guess:
    """A candidate answer before the confidence threshold is applied."""

    location: Location
    precision: Precision
    confidence: float
    matched: str
    message: str


def default_cache_dir() -> Path:
    """``$DOORSTEP_CACHE_DIR``, else ``~/.cache/doorstep``."""
    env = os.environ.get("DOORSTEP_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "doorstep"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _load_cache(cache_file: Path, digest: str) -> tuple[OsmFeatures, dict[str, Any]] | None:
    """The cached features and tables, or ``None`` when missing, stale or unreadable (then they are rebuilt)."""
    try:
        with cache_file.open("rb") as fh:
            payload = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError, IndexError):
        return None
    if not isinstance(payload, dict) or payload.get("version") != INDEX_VERSION or payload.get("sha256") != digest:
        return None
    parts: list[Any] = [payload.get(k) for k in ("addresses", "streets", "pois", "places")]
    tables = payload.get("tables")
    if not all(isinstance(p, list) for p in parts) or not isinstance(tables, dict):
        return None
    return OsmFeatures(addresses=parts[0], streets=parts[1], pois=parts[2], places=parts[3]), tables


def _write_cache(cache_file: Path, digest: str, source: Path, features: OsmFeatures, tables: dict[str, Any]) -> None:
    """Write atomically: a temporary file in the same directory, then ``os.replace``."""
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "version": INDEX_VERSION,
        "sha256": digest,
        "source": str(source),
        "addresses": features.addresses,
        "streets": features.streets,
        "pois": features.pois,
        "places": features.places,
        "tables": tables,
    }
    fd, tmp = tempfile.mkstemp(prefix=cache_file.name, suffix=".tmp", dir=cache_file.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cache_file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fuzzy_factor(score: float, threshold: float) -> float:
    """1 at a perfect score, 0.5 at the threshold, linear between."""
    if score >= 100.0 or threshold >= 100.0:
        return 1.0
    return 0.5 + 0.5 * max(0.0, score - threshold) / (100.0 - threshold)


def _lerp(x: float, x0: float, x1: float, y0: float, y1: float) -> float:
    """``y0`` at ``x0`` (and below), ``y1`` at ``x1`` (and above), linear between."""
    if x <= x0:
        return y0
    if x >= x1:
        return y1
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def clean_query(text: object) -> str:
    """The query as text, control characters and zero-width marks turned into spaces, whitespace collapsed."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    return " ".join(_CONTROL_RE.sub(" ", text).split())


def query_key(text: object) -> str:
    """The key under which a query is cached or corrected: cleaned, folded, spaces removed.

    ``"Nørrebrogade 12, 2200 København N"`` and ``" NORREBROGADE 12 ,2200 kobenhavn n"`` share a key.
    """
    return fold(clean_query(text)).replace(" ", "")


class OfflineGeocoder:
    """Geocodes addresses against the features of one OSM extract.

    Parameters
    ----------
    records
        The address records to index.
    streets
        Named street ways: street-precision answers for streets without addresses (most Chinese data).
    pois
        Named POIs and buildings.
    places
        Places (village, suburb, district, …).
    min_confidence
        Results below this are ``unresolved`` with code ``low_confidence``.
    fuzzy_threshold
        Minimum rapidfuzz score (0–100) for a street or POI name that is not an exact match.

    Examples
    --------
    >>> gc = OfflineGeocoder.from_osm("copenhagen_kbh.osm.pbf")  # doctest: +SKIP
    >>> gc.geocode("Norrebrogade 12, 2200 Kobenhavn N").precision  # doctest: +SKIP
    'house'
    """

    def __init__(
        self,
        records: Iterable[AddressRecord],
        *,
        streets: Iterable[StreetLine] = (),
        pois: Iterable[NamedFeature] = (),
        places: Iterable[NamedFeature] = (),
        min_confidence: float = 0.5,
        fuzzy_threshold: float = 85.0,
    ) -> None:
        _check_parameters(min_confidence, fuzzy_threshold)
        features = OsmFeatures(
            addresses=[(r.street, r.housenumber, r.postcode, r.city, r.location.lat, r.location.lon) for r in records],
            streets=[(s.name, s.lats, s.lons) for s in streets],
            pois=[(p.name, p.kind, p.location.lat, p.location.lon, p.radius_m) for p in pois],
            places=[(p.name, p.kind, p.location.lat, p.location.lon) for p in places],
        )
        self._setup(features, _build_tables(features), min_confidence, fuzzy_threshold)

    def _setup(
        self, features: OsmFeatures, tables: dict[str, Any], min_confidence: float, fuzzy_threshold: float
    ) -> None:
        self.min_confidence = min_confidence
        self.fuzzy_threshold = fuzzy_threshold
        self.cache_path: Path | None = None
        self.loaded_from_cache = False
        self.index_digest = ""
        self._features = features
        self._raw = features.addresses
        self._records_cache: tuple[AddressRecord, ...] | None = None
        # Objects for streets, POIs and places are made on first use: loading the index stays fast.
        self._streets_cache: tuple[StreetLine, ...] | None = None
        self._pois_cache: tuple[NamedFeature, ...] | None = None
        self._places_cache: tuple[NamedFeature, ...] | None = None
        n = len(self._raw)
        self._lat = np.fromiter((r[4] for r in self._raw), dtype=np.float64, count=n)
        self._lon = np.fromiter((r[5] for r in self._raw), dtype=np.float64, count=n)
        self._by_street: dict[str, list[int]] = tables["by_street"]
        self._by_house: dict[tuple[str, str], list[int]] = tables["by_house"]
        self._spaced: dict[str, str] = tables["spaced"]
        self._names: dict[str, str] = tables["names"]
        self._postcode_keys: list[str | None] = tables["postcode_keys"]
        self._city_keys: list[str | None] = tables["city_keys"]
        self._numbers: list[int | None] = tables["numbers"]
        self._plain_number: list[bool] = tables["plain_number"]
        self._lines: dict[str, list[int]] = tables["lines"]
        self._poi_by_key: dict[str, list[int]] = tables["poi_by_key"]
        self._place_by_key: dict[str, list[int]] = tables["place_by_key"]
        self._by_label: dict[str, list[int]] = tables["by_label"]
        self._street_keys = list(self._spaced)
        self._street_words = [self._spaced[k] for k in self._street_keys]
        self._poi_keys = list(self._poi_by_key)
        # Fuzzy street matches per (street as typed, threshold): a batch repeats its misspellings.
        self._fuzzy_memo: dict[tuple[str, float], list[tuple[str, float]]] = {}
        box = tables.get("bbox")
        self._bbox = BoundingBox(*box) if box else None

    def _rec(self, i: int) -> AddressRecord:
        street, number, pc, city, lat, lon = self._raw[i]
        return AddressRecord(street, number, pc, city, Location(lat, lon))

    def _line_at(self, j: int) -> StreetLine:
        name, lats, lons = self._features.streets[j]
        return StreetLine(name, lats, lons)

    def _poi_at(self, j: int) -> NamedFeature:
        n, k, lat, lon, r = self._features.pois[j]
        return NamedFeature(n, k, Location(lat, lon), r)

    def _place_at(self, j: int) -> NamedFeature:
        n, k, lat, lon = self._features.places[j]
        return NamedFeature(n, k, Location(lat, lon))

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_features(
        cls,
        features: OsmFeatures,
        *,
        min_confidence: float = 0.5,
        fuzzy_threshold: float = 85.0,
        tables: dict[str, Any] | None = None,
    ) -> OfflineGeocoder:
        """A geocoder over raw features (``geo.osm_features``), e.g. with some addresses held out.

        ``tables`` are the lookup tables of ``features`` as cached on disk; built when not given.
        """
        _check_parameters(min_confidence, fuzzy_threshold)
        geocoder = cls.__new__(cls)
        geocoder._setup(features, tables or _build_tables(features), min_confidence, fuzzy_threshold)
        return geocoder

    @staticmethod
    def load_features(
        path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None, *, use_cache: bool = True
    ) -> tuple[OsmFeatures, str, Path, bool]:
        """The features of an extract (from the cache when possible), its SHA-256, the cache file, and whether cached.

        Raises
        ------
        GeocodeError
            The file is missing, of an unknown type, unreadable, or holds nothing to geocode against.
        """
        features, _tables, digest, cache_file, from_cache = _load_index(path, cache_dir, use_cache)
        return features, digest, cache_file, from_cache

    @classmethod
    def from_osm(
        cls,
        path: str | os.PathLike[str],
        cache_dir: str | os.PathLike[str] | None = None,
        *,
        min_confidence: float = 0.5,
        fuzzy_threshold: float = 85.0,
        use_cache: bool = True,
    ) -> OfflineGeocoder:
        """Build (or load from the cache) the geocoder of an OSM extract.

        Parameters
        ----------
        path
            ``.osm.pbf``, ``.osm``, ``.osm.bz2`` or ``.osm.gz`` (read with pyosmium).
        cache_dir
            Where the index is cached; default ``default_cache_dir()``.
        min_confidence, fuzzy_threshold
            As for the constructor.
        use_cache
            ``False`` neither reads nor writes the cache.

        Returns
        -------
        OfflineGeocoder
            With ``cache_path``, ``loaded_from_cache`` and ``index_digest`` set.

        Raises
        ------
        GeocodeError
            The file is missing, of an unknown type, unreadable, or holds nothing to geocode against.
        """
        features, tables, digest, cache_file, from_cache = _load_index(path, cache_dir, use_cache)
        geocoder = cls.from_features(
            features, min_confidence=min_confidence, fuzzy_threshold=fuzzy_threshold, tables=tables
        )
        geocoder.cache_path = cache_file if use_cache else None
        geocoder.loaded_from_cache = from_cache
        geocoder.index_digest = f"v{INDEX_VERSION}-{digest}"
        return geocoder

    @property
    def records(self) -> tuple[AddressRecord, ...]:
        """Every address record of the index, in file order."""
        if self._records_cache is None:
            self._records_cache = tuple(self._rec(i) for i in range(len(self._raw)))
        return self._records_cache

    @property
    def pois(self) -> tuple[NamedFeature, ...]:
        """Every named POI and building of the index."""
        if self._pois_cache is None:
            self._pois_cache = tuple(self._poi_at(j) for j in range(len(self._features.pois)))
        return self._pois_cache

    @property
    def places(self) -> tuple[NamedFeature, ...]:
        """Every place of the index."""
        if self._places_cache is None:
            self._places_cache = tuple(self._place_at(j) for j in range(len(self._features.places)))
        return self._places_cache

    @property
    def streets(self) -> tuple[StreetLine, ...]:
        """Every named street way of the index."""
        if self._streets_cache is None:
            self._streets_cache = tuple(self._line_at(j) for j in range(len(self._features.streets)))
        return self._streets_cache

    @property
    def region(self) -> BoundingBox | None:
        """The bounding box of the indexed features, ``None`` for an empty index."""
        return self._bbox

    def in_region(self, location: Location) -> bool:
        """Whether ``location`` lies within the extract's features (with a margin of about 1 km)."""
        return self._bbox is not None and self._bbox.contains(location, _REGION_MARGIN_DEG)

    # ------------------------------------------------------------------ queries

    def geocode(self, address: str) -> GeocodeResult:
        """Geocode one address.

        Parameters
        ----------
        address
            A one-line address, e.g. ``"Nørrebrogade 12, 2200 København N"``, ``"12 Norrebrogade"`` or
            ``"深圳市龙岗区龙翔大道2001号"``.

        Returns
        -------
        GeocodeResult
            ``ok`` with a location, precision and confidence, or ``unresolved`` with a code and a message.
        """
        if not isinstance(address, str):
            address = "" if address is None else str(address)
        if len(address) > MAX_ADDRESS_CHARS:
            return self._unresolved(
                address, "no_match", f"address of {len(address)} characters (at most {MAX_ADDRESS_CHARS})"
            )
        text = clean_query(address)
        if not text:
            return self._unresolved(address, "no_match", "empty address")
        query = fold(text)
        best = self._label(query)
        if best is not None and best.confidence >= self.min_confidence:
            return self._answer(address, best)
        had_number = False
        for parsed in iter_address_candidates(text):
            # A later reading without the number ("Calle 5 de Mayo") must name a street exactly.
            guess = self._resolve(parsed, query, exact_only=had_number and parsed.housenumber is None)
            had_number = had_number or parsed.housenumber is not None
            if guess is not None and (best is None or guess.confidence > best.confidence):
                best = guess
            if best is not None and best.precision == "house" and best.confidence >= self.min_confidence:
                break
        if best is None or best.precision not in ("house", "interpolated"):
            named = self._named(text)
            if named is not None and (best is None or named.confidence > best.confidence):
                best = named
        if best is None:
            parsed = parse_address(text)
            what = f"no street or place like {parsed.street!r} in the index" if parsed.street else "no street found"
            return self._unresolved(address, "no_match", what)
        return self._answer(address, best)

    def _answer(self, address: str, guess: _Guess) -> GeocodeResult:
        """The result for the best guess: ok, or unresolved (low_confidence) below the threshold."""
        if guess.confidence < self.min_confidence:
            msg = (
                f"best guess {guess.matched!r} ({guess.message}) has confidence {guess.confidence:.2f}"
                f" < {self.min_confidence:.2f}"
            )
            return GeocodeResult(
                address,
                None,
                "unresolved",
                round(guess.confidence, 3),
                "unresolved",
                "low_confidence",
                msg,
                guess.matched,
            )
        return GeocodeResult(
            address,
            guess.location,
            guess.precision,
            round(guess.confidence, 3),
            "ok",
            None,
            guess.message,
            guess.matched,
        )

    def geocode_many(self, addresses: Sequence[str]) -> list[GeocodeResult]:
        """Geocode a batch; repeated addresses are resolved once. Results are in input order."""
        seen: dict[str, GeocodeResult] = {}
        out: list[GeocodeResult] = []
        for address in addresses:
            if address not in seen:
                seen[address] = self.geocode(address)
            out.append(seen[address])
        return out

    # ------------------------------------------------------------------ internals

    def _label(self, query: str) -> _Guess | None:
        """The query written exactly as an address of the index (case, accents and spacing aside)."""
        # Spaces kept: "Pieni Roobertinkatu 1-3" folds to "… 1 3", not to the "… 13" of another house.
        idxs = self._by_label.get(query)
        if not idxs:
            return None
        street, number, pc, city, _, _ = self._raw[idxs[0]]
        pc_key = place_key(pc) if pc else None
        city_key = place_key(city) if city else None
        # The same street and number without a postcode or city (another object of the same address) counts too:
        # if it stands far from these, the answer is less sure.
        same = self._by_house.get((street_key(street), housenumber_key(number)), [])
        group = sorted(set(idxs) | set(same))
        i, factor, notes = self._pick(group, pc_key, city_key, query)
        rec = self._rec(i)
        how = "exact address"
        return _Guess(rec.location, "house", min(1.0, _CONF_EXACT * factor), rec.label, "; ".join([how, *notes]))

    def _resolve(self, parsed: ParsedAddress, query: str, *, exact_only: bool = False) -> _Guess | None:
        """The best guess for one reading of the query, ``None`` when its street is not in the index."""
        if parsed.street is None:
            return None
        variants = street_key_variants(parsed.street)
        streets = [(v, 100.0) for v in variants if v in self._spaced]
        pc_key = place_key(parsed.postcode) if parsed.postcode else None
        city_key = place_key(parsed.city) if parsed.city else None
        hn_key = housenumber_key(parsed.housenumber) if parsed.housenumber else None
        guess = self._house(streets, hn_key, pc_key, city_key, query) if hn_key and streets else None
        if guess is not None:
            return guess
        # The number is not on any exact street: place it on the best of them (the postcode and city decide among
        # the first few), and compare with the number on a street of a similar name (OSM has its own typos: a
        # "Vestebrogade" with two addresses beside the long Vesterbrogade).
        options: list[_Guess] = []
        with_addresses = [st for st in streets if st[0] in self._by_street] or streets
        options.extend(self._street(st, parsed.housenumber, pc_key, city_key) for st in with_addresses[:3])
        if not exact_only and (not options or max(g.confidence for g in options) < _CONF_INTERP_NEAR):
            exact = {k for k, _ in streets}
            fuzzy = [st for st in self._fuzzy_streets(parsed.street, variants) if st[0] not in exact]
            house = self._house(fuzzy, hn_key, pc_key, city_key, query) if hn_key and fuzzy else None
            if house is not None:
                options.append(house)
            elif not options and fuzzy:
                with_addresses = [st for st in fuzzy if st[0] in self._by_street] or fuzzy
                options.extend(self._street(st, parsed.housenumber, pc_key, city_key) for st in with_addresses[:3])
        return max(options, key=lambda g: g.confidence) if options else None

    def _unresolved(self, query: str, code: str, message: str) -> GeocodeResult:
        return GeocodeResult(query, None, "unresolved", 0.0, "unresolved", code, message, None)

    def _fuzzy_streets(self, street: str, variants: list[str]) -> list[tuple[str, float]]:
        """Street keys of the index similar to ``street`` (rapidfuzz), best first, with their scores (< 100)."""
        if not variants or not self._street_keys:
            return []
        memo_key = (street, self.fuzzy_threshold)
        if memo_key in self._fuzzy_memo:
            return self._fuzzy_memo[memo_key]
        scores: dict[str, float] = {}
        cutoff = self.fuzzy_threshold
        for variant in variants[:2]:
            for _, score, idx in process.extract(
                variant, self._street_keys, scorer=fuzz.ratio, limit=5, score_cutoff=cutoff
            ):
                key = self._street_keys[idx]
                scores[key] = max(scores.get(key, 0.0), min(99.0, float(score)))
        # One slip (a letter missing, extra, wrong or two swapped) in a short name scores below the ratio threshold
        # ("cuncer" vs "cancer": 83): accept it as a score of 90 for names of at least 5 letters.
        first = variants[0]
        if len(first) >= 5:
            for _, dist, idx in process.extract(first, self._street_keys, scorer=OSA.distance, limit=5, score_cutoff=1):
                key = self._street_keys[idx]
                if dist <= 1 and len(key) >= 5:
                    scores[key] = max(scores.get(key, 0.0), 90.0)
        words = fold(street)
        if " " in words:  # reordered words ("Ørsteds H.C. Vej") only matter for names of several words
            for _, score, idx in process.extract(
                words, self._street_words, scorer=fuzz.token_sort_ratio, limit=5, score_cutoff=cutoff
            ):
                key = self._street_keys[idx]
                scores[key] = max(scores.get(key, 0.0), min(99.0, float(score)))
        out = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        if len(self._fuzzy_memo) > 50_000:
            self._fuzzy_memo.clear()
        self._fuzzy_memo[memo_key] = out
        return out

    def _agrees(self, i: int, pc_key: str | None, city_key: str | None) -> bool:
        """Whether record ``i`` contradicts neither the postcode nor the city asked for (``_agreement`` == 1)."""
        rec_pc, rec_city = self._postcode_keys[i], self._city_keys[i]
        if pc_key is not None and rec_pc is not None and rec_pc != pc_key:
            return False
        return city_key is None or rec_city is None or rec_city in city_key or city_key in rec_city

    def _agreement(self, i: int, pc_key: str | None, city_key: str | None) -> tuple[float, int, list[str]]:
        """How record ``i`` agrees with the postcode and city asked for.

        Returns the confidence factor, the number of parts it confirms, and the reasons for any penalty.
        """
        factor, confirmed = 1.0, 0
        notes: list[str] = []
        rec_pc, rec_city = self._postcode_keys[i], self._city_keys[i]
        if (pc_key is None or rec_pc is None or rec_pc == pc_key) and (city_key is None or rec_city is None):
            return 1.0, int(pc_key is not None and rec_pc == pc_key), notes  # the common case, without a record
        rec = self._rec(i)
        pc_differs = pc_key is not None and rec_pc is not None and rec_pc != pc_key
        city_differs = (
            city_key is not None and rec_city is not None and not (rec_city in city_key or city_key in rec_city)
        )
        confirmed += pc_key is not None and rec_pc == pc_key
        confirmed += city_key is not None and rec_city is not None and not city_differs
        if pc_differs and city_differs:
            # Both disagree: most likely a street of the same name in another town, outside this extract.
            factor *= _BOTH_CONTRADICT
            notes.append(f"postcode {rec.postcode} and city {rec.city} both differ from those given")
        elif pc_differs:
            factor *= _POSTCODE_CONTRADICTS
            notes.append(f"postcode {rec.postcode} differs from the one given")
        elif city_differs:
            factor *= _CITY_CONTRADICTS
            notes.append(f"city {rec.city} differs from the one given")
        return factor, confirmed, notes

    def _pick(
        self, idxs: list[int], pc_key: str | None, city_key: str | None, query: str
    ) -> tuple[int, float, list[str]]:
        """The best-agreeing record among ``idxs``, its confidence factor and notes (ambiguity included).

        Ties go to the record confirming more of the query, then to the one whose label is the query itself
        (an address node and its building often carry the same address a few metres apart).
        """
        if len(idxs) == 1:
            (only,) = idxs
            factor, _, notes = self._agreement(only, pc_key, city_key)
            if pc_key is not None and self._postcode_keys[only] == pc_key:
                factor *= _CONF_EXACT_POSTCODE / _CONF_EXACT
            return only, factor, notes
        scored = {i: self._agreement(i, pc_key, city_key) for i in idxs}
        best = max(f for f, _, _ in scored.values())
        top = [i for i in idxs if scored[i][0] == best]
        if len(top) > 1:
            most = max(scored[i][1] for i in top)
            top = [i for i in top if scored[i][1] == most]
        # The record whose own label is the query ("Kaivopiha, Mannerheimintie 3" beside "Mannerheimintie 3") first;
        # then, for one address on several objects (entrance nodes, the building outline), the middle one of the
        # group, which is nearest to all of its doors.
        exact = [i for i in top if fold(self._rec(i).label) == query]
        chosen = self._medoid(exact or top)
        notes = list(scored[chosen][2])
        factor = best
        if pc_key is not None and self._postcode_keys[chosen] == pc_key:
            factor *= _CONF_EXACT_POSTCODE / _CONF_EXACT
        sel = np.asarray(top)
        d = _dist_m(self._lat[chosen], self._lon[chosen], self._lat[sel], self._lon[sel])
        far = int(np.count_nonzero(d > _SAME_PLACE_M))
        spread = float(d[d <= _SAME_PLACE_M].max())
        if far:
            factor *= _AMBIGUOUS
            notes = [*notes, f"the same address lies at {far + 1} places; postcode or city would decide"]
        elif spread > _SAME_DOOR_M:
            # A big building with the address on doors far apart: the door asked for may be one of the others.
            factor *= _lerp(spread, _SAME_DOOR_M, _SAME_PLACE_M, 0.88, 0.7)
            notes = [*notes, f"the address is on several doors up to {spread:.0f} m apart"]
        return chosen, factor, notes

    def _medoid(self, idxs: list[int]) -> int:
        """The record of ``idxs`` whose farthest neighbour in the group (within ``_SAME_PLACE_M``) is nearest."""
        if len(idxs) == 1:
            return idxs[0]
        sel = np.asarray(idxs)
        lat, lon = self._lat[sel], self._lon[sel]
        d = _dist_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
        near = d <= _SAME_PLACE_M
        size = near.sum(axis=1)
        radius = np.where(near, d, 0.0).max(axis=1)
        # The biggest group first (the address's main place), then the most central of it, then file order.
        order = np.lexsort((sel, radius, -size))
        return int(sel[order[0]])

    def _house(
        self,
        streets: list[tuple[str, float]],
        hn_key: str | None,
        pc_key: str | None,
        city_key: str | None,
        query: str,
    ) -> _Guess | None:
        """The house-precision guess on the best-scoring street that has this number, if any."""
        best: _Guess | None = None
        if hn_key is None:
            return None
        for skey, score in streets:
            idxs = self._by_house.get((skey, hn_key))
            if not idxs:
                continue
            i, factor, notes = self._pick(idxs, pc_key, city_key, query)
            if score >= 100.0:
                conf = _CONF_EXACT * factor
                how = "exact street and number"
            else:
                conf = _CONF_FUZZY_MAX * _fuzzy_factor(score, self.fuzzy_threshold) * factor
                how = f"street name matched with score {score:.0f}"
            rec = self._rec(i)
            guess = _Guess(rec.location, "house", min(1.0, conf), rec.label, "; ".join([how, *notes]))
            if best is None or guess.confidence > best.confidence:
                best = guess
        return best

    def _street(
        self, street: tuple[str, float], housenumber: str | None, pc_key: str | None, city_key: str | None
    ) -> _Guess:
        """An interpolated or street-precision guess on one street."""
        skey, score = street
        factor = _fuzzy_factor(score, self.fuzzy_threshold)
        notes: list[str] = []
        if score < 100.0:
            notes.append(f"street name matched with score {score:.0f}")
        idxs = self._by_street.get(skey)
        if not idxs:
            return self._street_line(skey, housenumber, factor, notes, bool(pc_key or city_key))
        agreeing = [i for i in idxs if self._agrees(i, pc_key, city_key)]
        if agreeing:
            idxs = agreeing
        elif pc_key or city_key:
            factor *= _POSTCODE_CONTRADICTS
            notes.append("no address on this street has the postcode or city given")
        if (pc_key is None and city_key is None) and self._spread_m(idxs) > _WIDE_STREET_M:
            factor *= _AMBIGUOUS
            notes.append("a street of this name lies in several places")

        value = housenumber_value(housenumber) if housenumber else None
        name = self._rec(idxs[0]).street
        if value is None:
            i = self._middle(idxs)
            why = "no house number given" if not housenumber else f"number {housenumber} not understood"
            notes.insert(0, f"{why}; the street's middle address")
            conf = _CONF_STREET_ONLY * factor * self._size_factor(idxs)
            return _Guess(self._rec(i).location, "street", conf, name, "; ".join(notes))

        numbered = [i for i in idxs if self._numbers[i] is not None]
        same = [i for i in numbered if self._numbers[i] == value]
        if same:
            # "12A" asked, "12" or "12B" known: the same building or its neighbour.
            i = self._middle(same)
            rec = self._rec(i)
            notes.insert(0, f"number {housenumber} not found; placed at {rec.housenumber}")
            conf = _CONF_SAME_NUMBER * factor
            return _Guess(rec.location, "interpolated", conf, f"{name} {housenumber}", "; ".join(notes))
        same_side = [i for i in numbered if (self._numbers[i] or 0) % 2 == value % 2] or numbered
        if not same_side:
            i = self._middle(idxs)
            notes.insert(0, f"number {housenumber} not found; the street's middle address")
            conf = _CONF_STREET_ONLY * factor * self._size_factor(idxs)
            return _Guess(self._rec(i).location, "street", conf, name, "; ".join(notes))
        below = [i for i in same_side if (self._numbers[i] or 0) < value]
        above = [i for i in same_side if (self._numbers[i] or 0) > value]
        if below and above:
            n_lo = max(self._numbers[i] or 0 for i in below)
            n_hi = min(self._numbers[i] or 0 for i in above)
            lo = self._plain([i for i in below if self._numbers[i] == n_lo])
            hi = self._plain([i for i in above if self._numbers[i] == n_hi])
            a, b = self._rec(lo), self._rec(hi)
            gap = haversine_m(a.location, b.location)
            if gap <= _INTERPOLATE_MAX_GAP_M:
                t = (value - n_lo) / (n_hi - n_lo)
                loc = Location(
                    a.location.lat + t * (b.location.lat - a.location.lat),
                    a.location.lon + t * (b.location.lon - a.location.lon),
                )
                notes.insert(
                    0,
                    f"number {housenumber} not found; interpolated between {a.housenumber} and {b.housenumber}"
                    f" ({gap:.0f} m apart)",
                )
                # The point is off by at most about half the gap: sure when the neighbours are close.
                base = (
                    _CONF_INTERP_NEAR
                    if gap <= _INTERP_NEAR_M
                    else _lerp(gap, _INTERP_NEAR_M, _INTERPOLATE_MAX_GAP_M, 0.89, _CONF_INTERP_FAR)
                )
                return _Guess(loc, "interpolated", base * factor, f"{name} {housenumber}", "; ".join(notes))
        nearest = min(same_side, key=lambda i: (abs((self._numbers[i] or 0) - value), i))
        gap_n = abs((self._numbers[nearest] or 0) - value)
        conf = _CONF_STREET_NEAREST - min(0.05, gap_n / 200.0)
        rec = self._rec(nearest)
        notes.insert(0, f"number {housenumber} not found; nearest number on the street is {rec.housenumber}")
        return _Guess(rec.location, "street", conf * factor, rec.label, "; ".join(notes))

    def _street_line(
        self, skey: str, housenumber: str | None, factor: float, notes: list[str], has_area: bool
    ) -> _Guess:
        """A street known only as ways (no addresses): the way node nearest the street's centre."""
        lines = [self._line_at(j) for j in self._lines[skey]]
        lats = np.concatenate([np.asarray(line.lats) for line in lines])
        lons = np.concatenate([np.asarray(line.lons) for line in lines])
        d = _dist_m(float(lats.mean()), float(lons.mean()), lats, lons)
        k = int(np.argmin(d))
        spread = float(_dist_m(lats.min(), lons.min(), lats.max(), lons.max()))
        if spread > _WIDE_STREET_M and not has_area:
            factor *= _AMBIGUOUS
            notes.append("a street of this name lies in several places")
        what = f"number {housenumber} not in the data" if housenumber else "no house number given"
        notes.insert(0, f"{what}; the middle of the street ({spread:.0f} m long)")
        conf = _CONF_STREET_ONLY * factor * _lerp(spread, 100.0, 2000.0, 1.2, 1.0)
        name = self._names[skey]
        return _Guess(Location(float(lats[k]), float(lons[k])), "street", conf, name, "; ".join(notes))

    def _size_factor(self, idxs: list[int]) -> float:
        """A short street's middle is near every door on it: up to 1.2 for a street under 100 m."""
        return _lerp(self._spread_m(idxs), 100.0, 2000.0, 1.2, 1.0)

    def _named(self, text: str) -> _Guess | None:
        """A POI or place named by the query (exact folded key, else fuzzy), ``None`` when there is none."""
        keys = self._name_keys(text)
        best: _Guess | None = None
        for key in keys:
            for guess in (self._poi(key), self._place(key)):
                if guess is not None and (best is None or guess.confidence > best.confidence):
                    best = guess
        return best

    def _name_keys(self, text: str) -> list[str]:
        """Keys under which the query may name a feature: the whole, each comma part, Chinese noise removed."""
        text = unicodedata.normalize("NFKC", text)
        parts = [p for p in re.split(r"[,，;；]", text) if p.strip()]
        raw = [text, *parts]
        if _CJK_RE.search(text):
            raw.extend(cjk_name_forms(text))
            parsed = parse_address(text)
            if parsed.street:
                raw.append(parsed.street)
        keys: list[str] = []
        for r in raw:
            k = street_key(r)
            if k and k not in keys and not k.isdigit():
                keys.append(k)
        return keys

    def _poi(self, key: str) -> _Guess | None:
        idxs = self._poi_by_key.get(key)
        score = 100.0
        if not idxs and self._poi_keys and len(key) >= 4:
            hit = process.extractOne(key, self._poi_keys, scorer=fuzz.ratio, score_cutoff=self.fuzzy_threshold)
            if hit is not None:
                idxs, score = self._poi_by_key[hit[0]], float(hit[1])
        if not idxs:
            return None
        feats = [self._poi_at(j) for j in idxs]
        # Several features of one name close together (a building and its entrance, a bus stop on each side of
        # the road) are one place: answer the middle of the group around the smallest of them.
        chosen = min(feats, key=lambda f: (f.radius_m, f.location.lat))
        group = [f for f in feats if haversine_m(f.location, chosen.location) <= _SAME_PLACE_M]
        far = len(feats) - len(group)
        centre = Location(
            sum(f.location.lat for f in group) / len(group), sum(f.location.lon for f in group) / len(group)
        )
        spread = max(haversine_m(centre, f.location) for f in group)
        size = max(chosen.radius_m, spread)
        notes = [f"named {chosen.kind.split('=')[0]} {chosen.name!r}"]
        # Sure only of a small feature: a point inside a 25 m group is within 50 m of any door of it.
        base = _CONF_POI if size <= _POI_SMALL_M else _lerp(size, _POI_SMALL_M, 300.0, 0.89, 0.5)
        conf = base * _fuzzy_factor(score, self.fuzzy_threshold)
        if score < 100.0:
            notes.append(f"name matched with score {score:.0f}")
        if size > _POI_SMALL_M:
            notes.append(f"{size:.0f} m across")
        if far:
            conf *= _AMBIGUOUS / (1 + 0.25 * (far - 1))
            notes.append(f"{far + 1} features of this name; the answer may be another branch")
        chosen = NamedFeature(chosen.name, chosen.kind, centre, size)
        return _Guess(chosen.location, "poi", conf, chosen.name, "; ".join(notes))

    def _place(self, key: str) -> _Guess | None:
        idxs = self._place_by_key.get(key)
        if not idxs:
            return None
        place = self._place_at(idxs[0])
        conf = _CONF_PLACE * (_AMBIGUOUS if len(idxs) > 1 else 1.0)
        return _Guess(place.location, "place", conf, place.name, f"the centre of {place.kind} {place.name!r}")

    def _plain(self, idxs: list[int]) -> int:
        """Among records of one number, the one without a letter ("7" rather than "7B"), else the middle one."""
        plain = [i for i in idxs if self._plain_number[i]]
        return self._middle(plain or idxs)

    def _middle(self, idxs: list[int]) -> int:
        """The record nearest the mean of ``idxs`` (a point that is on the street, unlike the mean)."""
        if len(idxs) == 1:
            return idxs[0]
        sel = np.asarray(idxs)
        d = _dist_m(float(self._lat[sel].mean()), float(self._lon[sel].mean()), self._lat[sel], self._lon[sel])
        return int(sel[int(np.argmin(d))])

    def _spread_m(self, idxs: list[int]) -> float:
        """Diagonal of the bounding box of ``idxs``, in metres."""
        sel = np.asarray(idxs)
        lat, lon = self._lat[sel], self._lon[sel]
        return float(_dist_m(lat.min(), lon.min(), lat.max(), lon.max()))

    def __len__(self) -> int:
        return len(self._raw)


def _load_index(
    path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None, use_cache: bool
) -> tuple[OsmFeatures, dict[str, Any], str, Path, bool]:
    """Features and tables of an extract, from the cache when it is fresh; built (and cached) otherwise."""
    src = Path(path)
    if not src.is_file():
        msg = f"OSM file not found: {src}"
        raise GeocodeError(msg)
    name = src.name.lower()
    if not name.endswith((".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz", ".xml", ".xml.bz2")):
        msg = f"unsupported OSM file type: {src.name} (expected .osm.pbf, .osm, .osm.bz2 or .osm.gz)"
        raise GeocodeError(msg)
    digest = _file_sha256(src)
    cache_file = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cache_file = cache_file / f"geocoder-v{INDEX_VERSION}-{digest[:32]}.pkl"
    cached = _load_cache(cache_file, digest) if use_cache else None
    if cached is not None:
        return cached[0], cached[1], digest, cache_file, True
    try:
        features = read_features(src)
    except GeocodeError as exc:
        msg = f"cannot read addresses from {src.name}: {exc}"
        raise GeocodeError(msg) from exc
    if not features.addresses and not features.streets and not features.pois:
        msg = f"no addresses, named streets or named places in {src}"
        raise GeocodeError(msg)
    tables = _build_tables(features)
    if use_cache:
        try:
            _write_cache(cache_file, digest, src, features, tables)
        except OSError as exc:
            # A read-only cache directory must not stop the geocoder; it only costs the next start.
            warnings.warn(f"geocoder cache not written to {cache_file}: {exc}", RuntimeWarning, stacklevel=3)
    return features, tables, digest, cache_file, False


def _check_parameters(min_confidence: float, fuzzy_threshold: float) -> None:
    if not 0.0 <= min_confidence <= 1.0:
        msg = f"min_confidence must lie in [0, 1], got {min_confidence!r}"
        raise GeocodeError(msg)
    if not 0.0 < fuzzy_threshold <= 100.0:
        msg = f"fuzzy_threshold must lie in (0, 100], got {fuzzy_threshold!r}"
        raise GeocodeError(msg)


def _build_tables(features: OsmFeatures) -> dict[str, Any]:
    """The lookup tables of an index: plain dicts and lists of built-in types, cached on disk with the features."""
    memo: dict[tuple[str, str], str] = {}

    def key_of(fn: Any, text: str) -> str:
        # Few distinct street, postcode and city strings: fold each once.
        k = (fn.__name__, text)
        if k not in memo:
            memo[k] = fn(text)
        return memo[k]

    by_street: dict[str, list[int]] = {}
    by_house: dict[tuple[str, str], list[int]] = {}
    spaced: dict[str, str] = {}
    names: dict[str, str] = {}
    postcode_keys: list[str | None] = []
    city_keys: list[str | None] = []
    numbers: list[int | None] = []
    plain_number: list[bool] = []
    by_label: dict[str, list[int]] = {}
    for i, (street, number, postcode, city, _lat, _lon) in enumerate(features.addresses):
        tail = " ".join(p for p in (postcode, city) if p)
        label = f"{street} {number}, {tail}" if tail else f"{street} {number}"
        by_label.setdefault(fold(label), []).append(i)
        postcode_keys.append(key_of(place_key, postcode) if postcode else None)
        city_keys.append(key_of(place_key, city) if city else None)
        numbers.append(housenumber_value(number))
        hn_key = housenumber_key(number)
        plain_number.append(hn_key.isdigit())
        street_names = [street]
        if "," in street:
            # "Asemahalli, Kaivokatu" (a building name tagged into the street) or "Soleado, 103" (the number
            # tagged into it): index each part that has letters as a street too.
            street_names.extend(p for p in street.split(",") if re.search(r"[^\W\d_]", p))
        for name in street_names:
            skey = key_of(street_key, name)
            if skey:  # a street name of punctuation only cannot be queried
                by_street.setdefault(skey, []).append(i)
                by_house.setdefault((skey, hn_key), []).append(i)
                spaced.setdefault(skey, key_of(fold, name))
                names.setdefault(skey, name.strip())
    lines: dict[str, list[int]] = {}
    for j, (name, _lats, _lons) in enumerate(features.streets):
        skey = key_of(street_key, name)
        if skey:
            lines.setdefault(skey, []).append(j)
            spaced.setdefault(skey, key_of(fold, name))
            names.setdefault(skey, name)
    poi_by_key: dict[str, list[int]] = {}
    for j, poi in enumerate(features.pois):
        if pkey := key_of(street_key, poi[0]):
            poi_by_key.setdefault(pkey, []).append(j)
    place_by_key: dict[str, list[int]] = {}
    for j, place in enumerate(features.places):
        if pkey := key_of(street_key, place[0]):
            place_by_key.setdefault(pkey, []).append(j)
    return {
        "by_street": by_street,
        "by_house": by_house,
        "spaced": spaced,
        "names": names,
        "postcode_keys": postcode_keys,
        "city_keys": city_keys,
        "numbers": numbers,
        "plain_number": plain_number,
        "lines": lines,
        "poi_by_key": poi_by_key,
        "place_by_key": place_by_key,
        "by_label": by_label,
        "bbox": _bbox(features),
    }


def _bbox(features: OsmFeatures) -> tuple[float, float, float, float] | None:
    """South, west, north, east of every address, POI and street node; ``None`` when there are none."""
    lats = [a[4] for a in features.addresses] + [p[2] for p in features.pois]
    lons = [a[5] for a in features.addresses] + [p[3] for p in features.pois]
    for _name, s_lats, s_lons in features.streets:
        lats.extend(s_lats)
        lons.extend(s_lons)
    if not lats:
        return None
    return (min(lats), min(lons), max(lats), max(lons))


def _dist_m(lat0: Any, lon0: Any, lat1: Any, lon1: Any) -> Any:
    """Equirectangular distance in metres, vectorised (accurate to well under 1% within a city)."""
    k = np.cos(np.radians((np.asarray(lat0) + np.asarray(lat1)) / 2.0))
    dy = np.radians(np.asarray(lat1) - np.asarray(lat0))
    dx = np.radians(np.asarray(lon1) - np.asarray(lon0)) * k
    return 6_371_008.8 * np.hypot(dx, dy)
