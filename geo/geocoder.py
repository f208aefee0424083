"""Offline geocoder built from the addresses (``addr:*``) of an OSM extract.

The index holds one ``AddressRecord`` per addressed node or way (a way is placed at the centroid of its nodes
that the extract holds: extracts are clipped). A query is parsed into street, house number, postcode and city
(``geo.address``) and resolved in this order:

1. the exact folded street and house number (``"NORREBROGADE 12"`` meets ``"Nørrebrogade 12"``), checked
   against the postcode and city when given: precision ``house``, confidence 0.97 (1.0 with a matching
   postcode, less when the postcode or city contradicts, or when the same address lies at several places);
2. a fuzzy street name (rapidfuzz, best of ``ratio`` on the space-free key and ``token_sort_ratio`` on the
   words; score ≥ ``fuzzy_threshold``) with that exact number: precision ``house``, the confidence scaled down
   from 0.95 at a perfect score to half of it at the threshold;
3. the street without that number: precision ``street``, interpolated between the nearest numbers on the same
   side (0.6) or at the nearest number (0.5–0.55), or at the middle address of the street when no number was
   given (0.5); scaled by the street's fuzzy score;
4. otherwise ``unresolved`` / ``no_match``.

A result below ``min_confidence`` is ``unresolved`` / ``low_confidence``: its location is withheld (never a
silent guess), but ``matched`` and ``message`` say what the best guess was.

The index is cached on disk as a pickle of plain tuples, keyed by the extract's SHA-256 and ``INDEX_VERSION``.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import math
import os
import pickle
import tempfile
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rapidfuzz import fuzz, process

from geo.address import (
    ParsedAddress,
    fold,
    housenumber_key,
    housenumber_value,
    parse_address,
    parse_address_candidates,
    place_key,
    street_key,
    street_key_variants,
)
from geo.errors import GeocodeError
from geo.types import Location, haversine_m

__all__ = [
    "INDEX_VERSION",
    "AddressRecord",
    "GeocodeResult",
    "OfflineGeocoder",
    "default_cache_dir",
]

# Bump when the record extraction or the pickle layout changes: old cache files are then ignored.
INDEX_VERSION = 1

Precision = Literal["house", "street", "unresolved"]
Status = Literal["ok", "unresolved"]
PRECISIONS = ("house", "street", "unresolved")
STATUSES = ("ok", "unresolved")
RESULT_CODES = ("no_match", "low_confidence")

# Confidence levels (see the module docstring). Kept together so the scale is visible in one place.
_CONF_EXACT = 0.97
_CONF_EXACT_POSTCODE = 1.0
_CONF_FUZZY_MAX = 0.95
_CONF_STREET_INTERPOLATED = 0.6
_CONF_STREET_NEAREST = 0.55
_CONF_STREET_ONLY = 0.5
_POSTCODE_CONTRADICTS = 0.8
_CITY_CONTRADICTS = 0.9
_BOTH_CONTRADICT = 0.45
_AMBIGUOUS = 0.6
# Same address within this distance: one place (an address node and its building, say).
_SAME_PLACE_M = 150.0
# A street whose addresses spread wider than this, with no postcode to choose, is probably two streets.
_WIDE_STREET_M = 5000.0
_INTERPOLATE_MAX_GAP_M = 1000.0

_PBF_SUFFIXES = (".osm.pbf", ".pbf")
_XML_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".xml", ".xml.bz2")

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
        ``"house"``, ``"street"`` or ``"unresolved"``.
    confidence
        In [0, 1]; for a ``low_confidence`` result, the confidence of the withheld guess.
    status
        ``"ok"`` or ``"unresolved"``.
    code
        ``None`` when ok; ``"no_match"`` or ``"low_confidence"`` when unresolved.
    message
        Why: what was matched, interpolated, contradicted or not found.
    matched
        The label of the address matched (or of the withheld guess), ``None`` when nothing matched.
    """

    query: str
    location: Location | None
    precision: Precision
    confidence: float
    status: Status
    code: str | None = None
    message: str | None = None
    matched: str | None = None

    def __post_init__(self) -> None:
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


def _clean(value: object) -> str | None:
    """A tag value as a stripped string, ``None`` for missing / NaN / empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _raw_record(tags: dict[str, Any], lat: float, lon: float) -> _RawRecord | None:
    street = _clean(tags.get("addr:street")) or _clean(tags.get("addr:place"))
    number = _clean(tags.get("addr:housenumber"))
    if street is None or number is None:
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return (street, number, _clean(tags.get("addr:postcode")), _clean(tags.get("addr:city")), lat, lon)


def _read_pbf(path: Path) -> list[_RawRecord]:
    """Addressed nodes and ways of a ``.osm.pbf`` via pyrosm; ways at their centroid."""
    wanted = ["addr:housenumber", "addr:street", "addr:place", "addr:postcode", "addr:city"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # Imported lazily (slow to load) and under the filter: pyrosm warns on import with some pandas.
            from pyrosm import OSM

            gdf = OSM(str(path)).get_data_by_custom_criteria(
                custom_filter={"addr:housenumber": True},
                filter_type="keep",
                keep_nodes=True,
                keep_ways=True,
                keep_relations=False,
                extra_attributes=wanted[1:],
            )
    except Exception as exc:  # pyrosm raises bare exceptions of many kinds on bad files
        msg = f"cannot read addresses from {path}: {exc}"
        raise GeocodeError(msg) from exc
    if gdf is None or len(gdf) == 0:
        return []
    columns = {k: (gdf[k].to_numpy() if k in gdf.columns else [None] * len(gdf)) for k in wanted}
    records: list[_RawRecord] = []
    for i, geom in enumerate(gdf.geometry.to_numpy()):
        if geom is None or geom.is_empty:
            continue
        point = geom if geom.geom_type == "Point" else geom.centroid
        rec = _raw_record({k: columns[k][i] for k in wanted}, float(point.y), float(point.x))
        if rec is not None:
            records.append(rec)
    return records


def _open_xml(path: Path) -> io.BufferedIOBase:
    name = path.name.lower()
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")
    if name.endswith(".gz"):
        return gzip.GzipFile(path, "rb")
    return path.open("rb")


def _read_xml(path: Path) -> list[_RawRecord]:
    """Addressed nodes and ways of an ``.osm`` / ``.osm.bz2`` file (streamed with ``iterparse``).

    A way is placed at the mean of its nodes present in the file (clipped extracts drop some); a way with
    none of its nodes is skipped.
    """
    coords: dict[str, tuple[float, float]] = {}
    records: list[_RawRecord] = []
    try:
        with _open_xml(path) as fh:
            context = ET.iterparse(fh, events=("start", "end"))
            _, root = next(context)
            for event, elem in context:
                if event != "end" or elem.tag not in ("node", "way", "relation"):
                    continue
                tags = {t.get("k", ""): t.get("v") for t in elem.iter("tag")}
                if elem.tag == "node":
                    lat, lon = float(elem.get("lat", "nan")), float(elem.get("lon", "nan"))
                    coords[elem.get("id", "")] = (lat, lon)
                    if "addr:housenumber" in tags and (rec := _raw_record(tags, lat, lon)):
                        records.append(rec)
                elif elem.tag == "way" and "addr:housenumber" in tags:
                    refs = [nd.get("ref", "") for nd in elem.iter("nd")]
                    if len(refs) > 1 and refs[0] == refs[-1]:
                        refs = refs[:-1]  # a closed ring repeats its first node
                    pts = [coords[r] for r in refs if r in coords]
                    if pts:
                        lat = sum(p[0] for p in pts) / len(pts)
                        lon = sum(p[1] for p in pts) / len(pts)
                        if rec := _raw_record(tags, lat, lon):
                            records.append(rec)
                root.clear()  # keep memory flat: each top-level element is handled once
    except (ET.ParseError, OSError, EOFError, ValueError) as exc:
        msg = f"cannot read addresses from {path}: {exc}"
        raise GeocodeError(msg) from exc
    return records


def _read_osm(path: Path) -> list[_RawRecord]:
    name = path.name.lower()
    if name.endswith(_PBF_SUFFIXES):
        return _read_pbf(path)
    if name.endswith(_XML_SUFFIXES):
        return _read_xml(path)
    msg = f"unsupported OSM file type: {path.name} (expected one of {_PBF_SUFFIXES + _XML_SUFFIXES})"
    raise GeocodeError(msg)


def _load_cache(cache_file: Path, digest: str) -> list[_RawRecord] | None:
    """The cached records, or ``None`` when the file is missing, stale or unreadable (then it is rebuilt)."""
    try:
        with cache_file.open("rb") as fh:
            payload = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or payload.get("version") != INDEX_VERSION or payload.get("sha256") != digest:
        return None
    records = payload.get("records")
    return records if isinstance(records, list) else None


def _write_cache(cache_file: Path, digest: str, source: Path, records: list[_RawRecord]) -> None:
    """Write atomically: a temporary file in the same directory, then ``os.replace``."""
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    payload = {"version": INDEX_VERSION, "sha256": digest, "source": str(source), "records": records}
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


class OfflineGeocoder:
    """Geocodes addresses against the ``addr:*`` records of one OSM extract.

    Parameters
    ----------
    records
        The address records to index.
    min_confidence
        Results below this are ``unresolved`` with code ``low_confidence``.
    fuzzy_threshold
        Minimum rapidfuzz score (0–100) for a street name that is not an exact match.

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
        min_confidence: float = 0.5,
        fuzzy_threshold: float = 85.0,
    ) -> None:
        if not 0.0 <= min_confidence <= 1.0:
            msg = f"min_confidence must lie in [0, 1], got {min_confidence!r}"
            raise GeocodeError(msg)
        if not 0.0 < fuzzy_threshold <= 100.0:
            msg = f"fuzzy_threshold must lie in (0, 100], got {fuzzy_threshold!r}"
            raise GeocodeError(msg)
        self.min_confidence = min_confidence
        self.fuzzy_threshold = fuzzy_threshold
        self.cache_path: Path | None = None
        self.loaded_from_cache = False
        self._records = tuple(records)

        memo: dict[str, str] = {}

        def key_of(fn: Any, text: str) -> str:
            # Few distinct street, postcode and city strings: fold each once.
            k = f"{fn.__name__}\0{text}"
            if k not in memo:
                memo[k] = fn(text)
            return memo[k]

        self._by_street: dict[str, list[int]] = {}
        self._by_house: dict[tuple[str, str], list[int]] = {}
        self._spaced: dict[str, str] = {}
        self._postcode_keys: list[str | None] = []
        self._city_keys: list[str | None] = []
        self._numbers: list[int | None] = []
        for i, rec in enumerate(self._records):
            self._postcode_keys.append(key_of(place_key, rec.postcode) if rec.postcode else None)
            self._city_keys.append(key_of(place_key, rec.city) if rec.city else None)
            self._numbers.append(housenumber_value(rec.housenumber))
            names = [rec.street]
            if "," in rec.street:
                # "Asemahalli, Kaivokatu": a building name tagged into the street; index the street too.
                names.append(rec.street.rsplit(",", 1)[1])
            for name in names:
                skey = key_of(street_key, name)
                if skey:  # a street name of punctuation only cannot be queried
                    self._by_street.setdefault(skey, []).append(i)
                    self._by_house.setdefault((skey, housenumber_key(rec.housenumber)), []).append(i)
                    self._spaced.setdefault(skey, key_of(fold, name))
        self._street_keys = list(self._spaced)
        self._street_words = [self._spaced[k] for k in self._street_keys]

    # ------------------------------------------------------------------ construction

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
            ``.osm.pbf`` (read with pyrosm), ``.osm``, ``.osm.bz2`` or ``.osm.gz`` (streamed XML).
        cache_dir
            Where the index is cached; default ``default_cache_dir()``.
        min_confidence, fuzzy_threshold
            As for the constructor.
        use_cache
            ``False`` neither reads nor writes the cache.

        Returns
        -------
        OfflineGeocoder
            With ``cache_path`` and ``loaded_from_cache`` set.

        Raises
        ------
        GeocodeError
            The file is missing, of an unknown type, unreadable, or holds no addresses.
        """
        src = Path(path)
        if not src.is_file():
            msg = f"OSM file not found: {src}"
            raise GeocodeError(msg)
        digest = _file_sha256(src)
        cache_file = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        cache_file = cache_file / f"geocoder-v{INDEX_VERSION}-{digest[:32]}.pkl"
        raw = _load_cache(cache_file, digest) if use_cache else None
        from_cache = raw is not None
        if raw is None:
            raw = _read_osm(src)
            if not raw:
                msg = f"no addresses (addr:housenumber with addr:street or addr:place) in {src}"
                raise GeocodeError(msg)
            if use_cache:
                try:
                    _write_cache(cache_file, digest, src, raw)
                except OSError as exc:
                    # A read-only cache directory must not stop the geocoder; it only costs the next start.
                    warnings.warn(f"geocoder cache not written to {cache_file}: {exc}", RuntimeWarning, stacklevel=2)
        records = (AddressRecord(s, n, pc, c, Location(lat, lon)) for s, n, pc, c, lat, lon in raw)
        geocoder = cls(records, min_confidence=min_confidence, fuzzy_threshold=fuzzy_threshold)
        geocoder.cache_path = cache_file if use_cache else None
        geocoder.loaded_from_cache = from_cache
        return geocoder

    @property
    def records(self) -> tuple[AddressRecord, ...]:
        """Every address record of the index, in file order."""
        return self._records

    # ------------------------------------------------------------------ queries

    def geocode(self, address: str) -> GeocodeResult:
        """Geocode one address.

        Parameters
        ----------
        address
            A one-line address, e.g. ``"Nørrebrogade 12, 2200 København N"`` or ``"12 Norrebrogade"``.

        Returns
        -------
        GeocodeResult
            ``ok`` with a location, precision and confidence, or ``unresolved`` with a code and a message.
        """
        best: _Guess | None = None
        query = fold(address)
        for parsed in parse_address_candidates(address):
            guess = self._resolve(parsed, query)
            if guess is not None and (best is None or guess.confidence > best.confidence):
                best = guess
            if best is not None and best.precision == "house" and best.confidence >= self.min_confidence:
                break
        if best is None:
            parsed = parse_address(address)
            what = f"no street like {parsed.street!r} in the index" if parsed.street else "no street name found"
            return self._unresolved(address, "no_match", what)
        guess = best
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

    def _resolve(self, parsed: ParsedAddress, query: str) -> _Guess | None:
        """The best guess for one reading of the query, ``None`` when its street is not in the index."""
        if parsed.street is None:
            return None
        streets = self._match_streets(parsed.street)
        if not streets:
            return None
        pc_key = place_key(parsed.postcode) if parsed.postcode else None
        city_key = place_key(parsed.city) if parsed.city else None
        guess: _Guess | None = None
        if parsed.housenumber:
            guess = self._house(streets, housenumber_key(parsed.housenumber), pc_key, city_key, query)
        return guess or self._street(streets[0], parsed.housenumber, pc_key, city_key)

    def _unresolved(self, query: str, code: str, message: str) -> GeocodeResult:
        return GeocodeResult(query, None, "unresolved", 0.0, "unresolved", code, message, None)

    def _match_streets(self, street: str) -> list[tuple[str, float]]:
        """Street keys of the index like ``street``, best first, with their scores (100 = exact)."""
        variants = street_key_variants(street)
        exact = [v for v in variants if v in self._by_street]
        if exact:
            return [(v, 100.0) for v in exact]
        if not variants or not self._street_keys:
            return []
        scores: dict[str, float] = {}
        cutoff = self.fuzzy_threshold
        for variant in variants[:4]:
            for _, score, idx in process.extract(
                variant, self._street_keys, scorer=fuzz.ratio, limit=5, score_cutoff=cutoff
            ):
                key = self._street_keys[idx]
                scores[key] = max(scores.get(key, 0.0), float(score))
        for _, score, idx in process.extract(
            fold(street), self._street_words, scorer=fuzz.token_sort_ratio, limit=5, score_cutoff=cutoff
        ):
            key = self._street_keys[idx]
            scores[key] = max(scores.get(key, 0.0), float(score))
        return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))

    def _agreement(self, i: int, pc_key: str | None, city_key: str | None) -> tuple[float, int, list[str]]:
        """How record ``i`` agrees with the postcode and city asked for.

        Returns the confidence factor, the number of parts it confirms, and the reasons for any penalty.
        """
        factor, confirmed, notes = 1.0, 0, []
        rec = self._records[i]
        rec_pc, rec_city = self._postcode_keys[i], self._city_keys[i]
        pc_differs = pc_key is not None and rec_pc is not None and rec_pc != pc_key
        city_differs = (
            city_key is not None
            and rec_city is not None
            and not (rec_city.startswith(city_key) or city_key.startswith(rec_city))
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
        scored = {i: self._agreement(i, pc_key, city_key) for i in idxs}
        best = max(f for f, _, _ in scored.values())
        top = [i for i in idxs if scored[i][0] == best]
        if len(top) == 1:
            chosen = top[0]
        else:
            chosen = max(top, key=lambda i: (scored[i][1], fold(self._records[i].label) == query, -i))
        notes = list(scored[chosen][2])
        factor = best
        if pc_key is not None and self._postcode_keys[chosen] == pc_key:
            factor *= _CONF_EXACT_POSTCODE / _CONF_EXACT
        here = self._records[chosen].location
        far = [i for i in top if haversine_m(here, self._records[i].location) > _SAME_PLACE_M]
        if far:
            factor *= _AMBIGUOUS
            notes = [*notes, f"the same address lies at {len(far) + 1} places; postcode or city would decide"]
        return chosen, factor, notes

    def _house(
        self,
        streets: list[tuple[str, float]],
        hn_key: str,
        pc_key: str | None,
        city_key: str | None,
        query: str,
    ) -> _Guess | None:
        """The house-precision guess on the best-scoring street that has this number, if any."""
        best: _Guess | None = None
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
            rec = self._records[i]
            guess = _Guess(rec.location, "house", min(1.0, conf), rec.label, "; ".join([how, *notes]))
            if best is None or guess.confidence > best.confidence:
                best = guess
        return best

    def _street(
        self, street: tuple[str, float], housenumber: str | None, pc_key: str | None, city_key: str | None
    ) -> _Guess:
        """A street-precision guess: interpolated or nearest number on the street, else its middle address."""
        skey, score = street
        idxs = self._by_street[skey]
        agreeing = [i for i in idxs if self._agreement(i, pc_key, city_key)[0] == 1.0]
        notes: list[str] = []
        factor = _fuzzy_factor(score, self.fuzzy_threshold)
        if score < 100.0:
            notes.append(f"street name matched with score {score:.0f}")
        if agreeing:
            idxs = agreeing
        elif pc_key or city_key:
            factor *= _POSTCODE_CONTRADICTS
            notes.append("no address on this street has the postcode or city given")
        if (pc_key is None and city_key is None) and self._spread_m(idxs) > _WIDE_STREET_M:
            factor *= _AMBIGUOUS
            notes.append("a street of this name lies in several places")

        value = housenumber_value(housenumber) if housenumber else None
        name = self._records[idxs[0]].street
        if value is None:
            i = self._middle(idxs)
            notes.insert(0, "no house number given; the street's middle address")
            return _Guess(self._records[i].location, "street", _CONF_STREET_ONLY * factor, name, "; ".join(notes))

        numbered = [i for i in idxs if self._numbers[i] is not None]
        same_side = [i for i in numbered if (self._numbers[i] or 0) % 2 == value % 2] or numbered
        if not same_side:
            i = self._middle(idxs)
            notes.insert(0, f"number {housenumber} not found; the street's middle address")
            return _Guess(self._records[i].location, "street", _CONF_STREET_ONLY * factor, name, "; ".join(notes))
        below = [i for i in same_side if (self._numbers[i] or 0) < value]
        above = [i for i in same_side if (self._numbers[i] or 0) > value]
        if below and above:
            lo = max(below, key=lambda i: self._numbers[i] or 0)
            hi = min(above, key=lambda i: self._numbers[i] or 0)
            a, b = self._records[lo], self._records[hi]
            if haversine_m(a.location, b.location) <= _INTERPOLATE_MAX_GAP_M:
                n_lo, n_hi = self._numbers[lo] or 0, self._numbers[hi] or 0
                t = (value - n_lo) / (n_hi - n_lo)
                loc = Location(
                    a.location.lat + t * (b.location.lat - a.location.lat),
                    a.location.lon + t * (b.location.lon - a.location.lon),
                )
                notes.insert(
                    0,
                    f"number {housenumber} not found; interpolated between {a.housenumber} and {b.housenumber}",
                )
                return _Guess(
                    loc,
                    "street",
                    _CONF_STREET_INTERPOLATED * factor,
                    f"{name} {housenumber}",
                    "; ".join(notes),
                )
        nearest = min(same_side, key=lambda i: (abs((self._numbers[i] or 0) - value), i))
        gap = abs((self._numbers[nearest] or 0) - value)
        conf = _CONF_STREET_NEAREST - min(0.05, gap / 200.0)
        rec = self._records[nearest]
        notes.insert(0, f"number {housenumber} not found; nearest number on the street is {rec.housenumber}")
        return _Guess(rec.location, "street", conf * factor, rec.label, "; ".join(notes))

    def _middle(self, idxs: list[int]) -> int:
        """The record nearest the mean of ``idxs`` (a point that is on the street, unlike the mean)."""
        lat = sum(self._records[i].location.lat for i in idxs) / len(idxs)
        lon = sum(self._records[i].location.lon for i in idxs) / len(idxs)
        centre = Location(lat, lon)
        return min(idxs, key=lambda i: haversine_m(centre, self._records[i].location))

    def _spread_m(self, idxs: list[int]) -> float:
        """Diagonal of the bounding box of ``idxs``, in metres."""
        lats = [self._records[i].location.lat for i in idxs]
        lons = [self._records[i].location.lon for i in idxs]
        return haversine_m(Location(min(lats), min(lons)), Location(max(lats), max(lons)))

    def __len__(self) -> int:
        return len(self._records)
