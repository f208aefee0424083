"""Corrections override the geocoder from then on, with provenance; the result cache keys by normalised query."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from geo.corrections import CorrectedGeocoder, Correction, CorrectionStore
from geo.crs import wgs84_to_gcj02
from geo.errors import GeocodeError
from geo.geocoder import AddressRecord, GeocodeResult, OfflineGeocoder
from geo.result_cache import ResultCache
from geo.types import Location, haversine_m

T0 = dt.datetime(2026, 12, 1, 18, 30, tzinfo=dt.UTC)
HOME = Location(55.6876, 12.5619)


@pytest.fixture
def geocoder() -> OfflineGeocoder:
    """Two addresses on one street, 100 m apart."""
    return OfflineGeocoder(
        [
            AddressRecord("Testvej", "1", "2200", "København N", Location(55.6800, 12.5600)),
            AddressRecord("Testvej", "21", "2200", "København N", Location(55.6809, 12.5600)),
        ]
    )


def test_supervisor_fix_overrides_every_spelling(tmp_path: Path, geocoder: OfflineGeocoder) -> None:
    """After a supervisor's fix the address (in any case, accents, spacing) answers the fix, with provenance."""
    with CorrectionStore(tmp_path / "c.sqlite") as store:
        store.add(Correction("Testvej 1, 2200 København N", HOME, "supervisor", "sup-7", T0, note="gate on the back"))
        corrected = CorrectedGeocoder(geocoder, store)
        for spelling in ("Testvej 1, 2200 København N", "  TESTVEJ 1 ,2200 kobenhavn n"):
            res = corrected.geocode(spelling)
            assert (res.status, res.source, res.location, res.confidence) == ("ok", "correction", HOME, 1.0)
            assert res.message is not None and "sup-7" in res.message and "gate on the back" in res.message
        # Another address is still the geocoder's.
        assert corrected.geocode("Testvej 21").source == "offline"


def test_newest_correction_wins_and_history_is_kept(tmp_path: Path) -> None:
    """A later correction overrides an earlier one; both stay in the history, and survive reopening the file."""
    path = tmp_path / "c.sqlite"
    with CorrectionStore(path) as store:
        store.add(Correction("Testvej 1", Location(55.0, 12.0), "supervisor", "sup-1", T0))
        store.add_gps_fix("Testvej 1", HOME.lat, HOME.lon, 12.0, "off-3", T0 + dt.timedelta(days=1), case_id="C1")
    with CorrectionStore(path) as store:
        fix = store.get("testvej 1")
        assert fix is not None and (fix.source, fix.author, fix.case_id, fix.accuracy_m) == (
            "officer_gps",
            "off-3",
            "C1",
            12.0,
        )
        assert [c.author for c in store.history("Testvej 1")] == ["sup-1", "off-3"]
        assert len(store) == 2


@pytest.mark.parametrize(
    ("accuracy", "crs"),
    [
        (30.5, "wgs84"),  # coarser than 30 m
        (-1.0, "wgs84"),  # nonsense accuracy
        (10.0, "bd09"),  # a datum the outcome contract does not allow
    ],
)
def test_unusable_gps_fix_is_refused(tmp_path: Path, accuracy: float, crs: str) -> None:
    """A GPS fix coarser than 30 m, or in an unknown datum, raises and stores nothing."""
    with CorrectionStore(tmp_path / "c.sqlite") as store:
        with pytest.raises(GeocodeError):
            store.add_gps_fix("Testvej 1", HOME.lat, HOME.lon, accuracy, "off-3", T0, crs=crs)
        assert len(store) == 0


def test_gcj02_gps_fix_is_stored_in_wgs84(tmp_path: Path) -> None:
    """A fix sent in GCJ-02 (a Chinese phone map) is stored as the WGS-84 point it stands for."""
    truth = Location(22.7196, 114.2470)
    lat, lon = wgs84_to_gcj02(truth.lat, truth.lon)
    with CorrectionStore(tmp_path / "c.sqlite") as store:
        fix = store.add_gps_fix("龙翔大道2001号", lat, lon, 8.0, "off-9", T0, crs="gcj02")
    assert haversine_m(fix.location, truth) < 0.01


@pytest.mark.parametrize(
    "kwargs",
    [
        {"author": " "},  # nobody
        {"address": "  "},  # no address
        {"created_at": dt.datetime(2026, 12, 1, 18, 30)},  # no UTC offset
        {"source": "officer_gps", "accuracy_m": None},  # a GPS fix without accuracy
    ],
)
def test_correction_without_provenance_is_refused(kwargs: dict[str, object]) -> None:
    """A correction must say who, when, what address and (for GPS) how accurate."""
    fields: dict[str, object] = {
        "address": "Testvej 1",
        "location": HOME,
        "source": "supervisor",
        "author": "sup-1",
        "created_at": T0,
        **kwargs,
    }
    with pytest.raises(GeocodeError):
        Correction(**fields)  # type: ignore[arg-type]


def test_result_cache_round_trip_and_namespaces(tmp_path: Path, geocoder: OfflineGeocoder) -> None:
    """A cached result comes back for any spelling of its query, only in its own namespace."""
    res = geocoder.geocode("Testvej 1, 2200 København N")
    with ResultCache(tmp_path / "r.sqlite") as cache:
        cache.put("index-a", res)
        hit = cache.get("index-a", "TESTVEJ 1, 2200 KOBENHAVN N")
        assert hit is not None and hit.query == "TESTVEJ 1, 2200 KOBENHAVN N"
        assert (hit.location, hit.precision, hit.confidence, hit.matched) == (
            res.location,
            res.precision,
            res.confidence,
            res.matched,
        )
        assert cache.get("index-b", "Testvej 1, 2200 København N") is None
        unresolved = GeocodeResult("nowhere 9", None, "unresolved", 0.0, "unresolved", "no_match", "none", None)
        cache.put("index-a", unresolved)
        again = cache.get("index-a", "nowhere 9")
        assert again is not None and (again.status, again.code, again.location) == ("unresolved", "no_match", None)
