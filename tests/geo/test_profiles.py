"""Travel profiles (car, ebike, walk): access rules, one-ways, speeds, and what they do to real trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geo import Location, haversine_m, load_network
from geo.network import WALK_SPEED_MPS, RoadNetwork
from geo.profiles import CAR, EBIKE, WALK, Profile, allows, directions, get_profile
from geo.speeds import CONGESTION_FACTOR, parse_maxspeed, profile_kmh, speed_table

OSM_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "osm"
COPENHAGEN_PBF = OSM_DIR / "copenhagen_kbh.osm.pbf"
SHENZHEN_BZ2 = OSM_DIR / "shenzhen_longgang.osm.bz2"

# A block (A south-west, B south-east, C north-east, D north-west; 0.004° of longitude by 0.002° of latitude)
# crossed east-west in the middle by a footway M1-M2. A->B is one-way for cars with maxspeed 20, but
# oneway:bicycle=no; the rest of the ring is a two-way residential street with no maxspeed. A track runs
# north from D to a farm (node 7), 0.001° long. A courtyard footway (nodes 8-9) joins nothing.
PROFILE_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="doorstep-tests">
  <node id="1" lat="55.000" lon="12.000"/>
  <node id="2" lat="55.000" lon="12.004"/>
  <node id="3" lat="55.002" lon="12.004"/>
  <node id="4" lat="55.002" lon="12.000"/>
  <node id="5" lat="55.001" lon="12.000"><tag k="highway" v="crossing"/></node>
  <node id="6" lat="55.001" lon="12.004"/>
  <node id="7" lat="55.003" lon="12.000"/>
  <node id="8" lat="55.0006" lon="12.0015"/>
  <node id="9" lat="55.0006" lon="12.0025"/>
  <way id="100">
    <nd ref="1"/><nd ref="2"/>
    <tag k="highway" v="residential"/><tag k="oneway" v="yes"/><tag k="oneway:bicycle" v="no"/>
    <tag k="maxspeed" v="20"/>
  </way>
  <way id="101">
    <nd ref="2"/><nd ref="6"/><nd ref="3"/><nd ref="4"/><nd ref="5"/><nd ref="1"/>
    <tag k="highway" v="residential"/>
  </way>
  <way id="102">
    <nd ref="5"/><nd ref="6"/>
    <tag k="highway" v="footway"/>
  </way>
  <way id="103">
    <nd ref="4"/><nd ref="7"/>
    <tag k="highway" v="track"/>
  </way>
  <way id="104">
    <nd ref="8"/><nd ref="9"/>
    <tag k="highway" v="footway"/>
  </way>
</osm>
"""

A, B = Location(55.000, 12.000), Location(55.000, 12.004)
M1, M2 = Location(55.001, 12.000), Location(55.001, 12.004)
# 0.0001° (11.12 m) south of A-B, a quarter and three quarters along.
P, Q = Location(54.9999, 12.001), Location(54.9999, 12.003)
# 0.0001° north of the footway, a quarter and three quarters along.
W1, W2 = Location(55.0011, 12.001), Location(55.0011, 12.003)
# Beside the track, 0.0001° of longitude (6.4 m) west of it, halfway to the farm; 55.9 m from D.
FARM_DOOR = Location(55.0025, 11.9999)
KERB_M = haversine_m(P, Location(55.0, 12.001))  # 11.12 m


@pytest.fixture(scope="module")
def profile_osm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The block of :data:`PROFILE_OSM` as a file."""
    path = tmp_path_factory.mktemp("profiles") / "block.osm"
    path.write_text(PROFILE_OSM, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def nets(profile_osm: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, RoadNetwork]:
    """The block for each profile, with Danish speed defaults."""
    cache = tmp_path_factory.mktemp("profile-cache")
    return {p: load_network(profile_osm, p, cache_dir=cache, country="DK") for p in ("car", "ebike", "walk")}


# ---------------------------------------------------------------------------------------------------------
# Rules, one tag combination at a time
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "car", "ebike", "walk"),
    [
        ({"highway": "residential"}, True, True, True),
        ({"highway": "motorway"}, True, False, False),  # no bikes or people on motorways
        ({"highway": "footway"}, False, False, True),
        ({"highway": "footway", "bicycle": "yes"}, False, True, True),  # a shared path
        ({"highway": "footway", "access": "yes"}, False, False, True),  # generic access opens no footway
        ({"highway": "pedestrian", "bicycle": "designated"}, False, True, True),
        ({"highway": "cycleway"}, False, True, True),
        ({"highway": "cycleway", "foot": "no"}, False, True, False),
        ({"highway": "path"}, False, True, True),  # village paths
        ({"highway": "track"}, False, True, True),  # farm tracks: e-bikes and feet
        ({"highway": "track", "motor_vehicle": "yes"}, True, True, True),  # a track open to cars
        ({"highway": "steps"}, False, False, True),
        ({"highway": "service"}, True, True, True),
        ({"highway": "service", "service": "driveway"}, False, True, True),  # cars do not cut through
        ({"highway": "service", "service": "parking_aisle"}, False, True, True),
        ({"highway": "residential", "access": "private"}, False, False, False),
        ({"highway": "residential", "access": "no", "foot": "yes"}, False, False, True),  # specific wins
        ({"highway": "residential", "motor_vehicle": "no"}, False, True, True),  # a car ban only
        ({"highway": "residential", "access": "no", "motor_vehicle": "yes"}, True, False, False),
        ({"highway": "primary", "bicycle": "no"}, True, False, True),
        ({"highway": "primary", "bicycle": "use_sidepath"}, True, False, True),
        ({"highway": "residential", "motorcar": "private;delivery"}, False, True, True),
        ({"highway": "pedestrian", "area": "yes"}, False, False, False),  # squares are areas, not ways
        ({"building": "yes"}, False, False, False),
    ],
)
def test_access_rules(tags: dict[str, str], car: bool, ebike: bool, walk: bool) -> None:
    """Each profile keeps the ways its own access tags allow."""
    assert (allows(CAR, tags), allows(EBIKE, tags), allows(WALK, tags)) == (car, ebike, walk)


@pytest.mark.parametrize(
    ("profile", "tags", "expected"),
    [
        (CAR, {"highway": "residential", "oneway": "yes"}, (True, False)),
        (CAR, {"highway": "residential", "oneway": "-1"}, (False, True)),
        (CAR, {"highway": "residential", "oneway": "yes", "oneway:bicycle": "no"}, (True, False)),
        (EBIKE, {"highway": "residential", "oneway": "yes", "oneway:bicycle": "no"}, (True, True)),  # contraflow
        (EBIKE, {"highway": "residential", "oneway": "yes", "cycleway": "opposite_lane"}, (True, True)),
        (EBIKE, {"highway": "residential", "oneway": "yes"}, (True, False)),
        (EBIKE, {"highway": "cycleway", "oneway:bicycle": "yes"}, (True, False)),
        (EBIKE, {"highway": "residential", "junction": "roundabout"}, (True, False)),
        (WALK, {"highway": "residential", "oneway": "yes"}, (True, True)),  # people walk both ways
        (WALK, {"highway": "residential", "junction": "roundabout"}, (True, True)),
    ],
)
def test_oneway_per_profile(profile: Profile, tags: dict[str, str], expected: tuple[bool, bool]) -> None:
    """One-ways bind cars, bind e-bikes unless a bicycle exception says otherwise, and never bind walkers."""
    assert directions(profile, tags) == expected


def test_unknown_profile_named() -> None:
    """An unknown profile is a ValueError that lists the known ones."""
    with pytest.raises(ValueError, match="car, ebike, walk"):
        get_profile("truck")


# ---------------------------------------------------------------------------------------------------------
# Speeds
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kmh"),
    [
        ("50", 50.0),
        ("50 mph", 80.4672),  # 50 * 1.609344
        ("RU:urban", 60.0),
        ("CN:urban", 50.0),
        ("CN:rural", 70.0),
        ("DE:rural", 100.0),
        ("DE:zone30", 30.0),
        ("DE:living_street", 7.0),
        ("walk", 6.0),
        ("50;30", 30.0),  # a list: the lower limit
        ("none", None),  # no limit: the highway default decides
        ("60 knots", 111.12),
        ("40,5", 40.5),  # decimal comma
    ],
)
def test_maxspeed_values(value: str, kmh: float | None) -> None:
    """Real maxspeed values parse to km/h (None: use the highway default)."""
    parsed = parse_maxspeed(value)
    assert parsed == (None if kmh is None else pytest.approx(kmh))


@pytest.mark.parametrize(
    ("country", "highway", "kmh"),
    [
        ("CN", "residential", 20.0),  # compounds and lanes: slow
        ("CN", "motorway", 100.0),
        ("DE", "motorway", 130.0),  # advisory speed where there is no limit
        ("DK", "motorway", 130.0),
        ("DK", "residential", 30.0),  # the European set
        ("GB", "residential", 32.2),  # 20 mph
        (None, "residential", 30.0),  # unknown country: the generic table
        ("ZZ", "primary", 60.0),
    ],
)
def test_country_defaults(country: str | None, highway: str, kmh: float) -> None:
    """Ways without maxspeed take the country's default for their highway type."""
    assert speed_table(country)[highway] == pytest.approx(kmh)


def test_speed_overrides_and_profiles() -> None:
    """Settings override the defaults; e-bikes never beat the limit; car speeds carry congestion."""
    table = speed_table("CN", {"residential": 15.0, "ebike": 22.0})
    assert table["residential"] == 15.0 and table["primary"] == 50.0
    assert profile_kmh("car", "residential", None, None, table) == pytest.approx(15.0 * CONGESTION_FACTOR)
    assert profile_kmh("car", "residential", "CN:urban", None, table) == pytest.approx(50.0 * CONGESTION_FACTOR)
    assert profile_kmh("ebike", "primary", None, None, table) == 22.0  # its cruising speed, below 50
    assert profile_kmh("ebike", "residential", None, None, table) == 15.0  # the street's limit is lower
    assert profile_kmh("ebike", "track", None, None, table) == 12.0
    assert profile_kmh("ebike", "pedestrian", None, "dismount", table) == 4.5  # pushed
    assert profile_kmh("walk", "primary", "80", None, table) == 4.5
    with pytest.raises(ValueError, match="positive"):
        speed_table("CN", {"residential": 0.0})


# ---------------------------------------------------------------------------------------------------------
# Trips on the block
# ---------------------------------------------------------------------------------------------------------


def test_one_way_binds_cars_but_not_ebikes(nets: dict[str, RoadNetwork]) -> None:
    """Against A->B a car goes round the block; an e-bike rides the contraflow at 18 km/h."""
    ab = haversine_m(A, B)  # 255.9 m
    walks = 2 * KERB_M / WALK_SPEED_MPS
    car = nets["car"].matrix([P, Q])
    ebike = nets["ebike"].matrix([P, Q])
    car_ab = 20.0 * CONGESTION_FACTOR / 3.6  # maxspeed 20 with congestion: 4.44 m/s
    # P -> Q by car: half of A-B (127.9 m) at 4.44 m/s = 28.8 s.
    assert car[0, 1] == pytest.approx(walks + 0.5 * ab / car_ab, rel=1e-5)
    # By e-bike, both ways: 127.9 m at 18 km/h (5 m/s) = 25.6 s.
    assert ebike[0, 1] == pytest.approx(walks + 0.5 * ab / 5.0, rel=1e-5)
    assert ebike[1, 0] == pytest.approx(walks + 0.5 * ab / 5.0, rel=1e-5)
    # By car Q -> P is the way round: 0.25 AB + ring (1.28 km at 24 km/h) + 0.25 AB, over 150 s.
    assert car[1, 0] > 150.0


def test_footway_only_for_walkers(nets: dict[str, RoadNetwork]) -> None:
    """A door by the footway is walked along it at 4.5 km/h; cars and e-bikes use the street 64 m away."""
    fw = haversine_m(M1, M2)
    walk = nets["walk"].matrix([W1, W2])
    # 11.12 m door walks at 1.2 m/s, and half the footway (127.9 m) at 1.25 m/s = 102.3 s.
    assert walk[0, 1] == pytest.approx(2 * KERB_M / WALK_SPEED_MPS + 0.5 * fw / 1.25, rel=1e-5)
    for profile in ("car", "ebike"):
        snap = nets[profile].snap([W1])
        assert snap.offset_m[0] == pytest.approx(63.8, abs=0.2)  # to D-A, 0.001° of longitude west
    assert nets["walk"].snap([W1]).offset_m[0] == pytest.approx(KERB_M, abs=0.01)


def test_track_and_snap_limit(profile_osm: Path, nets: dict[str, RoadNetwork], tmp_path: Path) -> None:
    """The farm door is on the track for e-bikes; for cars it is 56 m from the street, beyond a 30 m limit."""
    assert nets["ebike"].snap([FARM_DOOR]).status.tolist() == ["ok"]
    assert nets["ebike"].snap([FARM_DOOR]).offset_m[0] == pytest.approx(6.4, abs=0.1)
    strict = load_network(profile_osm, "car", cache_dir=tmp_path, country="DK", max_snap_m=30.0)
    snap = strict.snap([FARM_DOOR])
    assert snap.status.tolist() == ["off_network"] and snap.snapped == [None]
    assert snap.offset_m[0] == pytest.approx(55.9, abs=0.3)  # reported, though not snapped
    assert nets["car"].snap([FARM_DOOR]).status.tolist() == ["ok"]  # within the default 500 m


def test_profile_networks_are_cached_apart(profile_osm: Path, tmp_path: Path) -> None:
    """Each profile, country and override set is its own cache entry; a bad max_snap_m is refused."""
    load_network(profile_osm, "car", cache_dir=tmp_path, country="DK")
    load_network(profile_osm, "walk", cache_dir=tmp_path, country="DK")
    load_network(profile_osm, "car", cache_dir=tmp_path, country="CN")
    slow = load_network(profile_osm, "car", cache_dir=tmp_path, country="DK", speed_overrides={"residential": 15})
    assert len(list(tmp_path.glob("network-*.npz"))) == 4
    base = load_network(profile_osm, "car", cache_dir=tmp_path, country="DK")
    # Two doors 11 m north of the residential C-D, half of it apart: 15 instead of 30 km/h doubles the drive.
    doors = [Location(55.0021, 12.003), Location(55.0021, 12.001)]
    walks = 2 * KERB_M / WALK_SPEED_MPS
    slow_drive = slow.matrix(doors)[0, 1] - walks
    assert slow_drive == pytest.approx(2.0 * (base.matrix(doors)[0, 1] - walks), rel=1e-6)
    with pytest.raises(ValueError, match="max_snap_m"):
        load_network(profile_osm, "car", cache_dir=tmp_path, country="DK", max_snap_m=-1.0)


# ---------------------------------------------------------------------------------------------------------
# Real extracts
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [COPENHAGEN_PBF, SHENZHEN_BZ2])
def test_profiles_on_real_extracts(path: Path, network_cache_dir: Path) -> None:
    """On real extracts walkers and e-bikes reach more of the map than cars, and are slower on long trips."""
    nets = {p: load_network(path, p, cache_dir=network_cache_dir) for p in ("car", "ebike", "walk")}
    # No country given: it is found offline at the extract's centre, and chooses the speed defaults.
    assert {net.country for net in nets.values()} == {"DK" if path == COPENHAGEN_PBF else "CN"}
    assert nets["car"].node_count < nets["ebike"].node_count < nets["walk"].node_count
    rng = np.random.default_rng(5)
    box = nets["car"].bbox
    cands = [
        Location(float(la), float(lo))
        for la, lo in zip(rng.uniform(box.south, box.north, 400), rng.uniform(box.west, box.east, 400), strict=True)
    ]
    ok = np.ones(len(cands), dtype=bool)
    for net in nets.values():
        ok &= net.snap(cands, max_snap_m=60.0).ok_mask()
    stops = [c for c, good in zip(cands, ok, strict=True) if good][:40]
    assert len(stops) >= 20
    m = {p: net.matrix(stops) for p, net in nets.items()}
    crow = np.array([[haversine_m(a, b) for b in stops] for a in stops])
    far = crow > 1500.0
    assert far.sum() > 20
    # Over 1.5 km as the crow flies: walking (4.5 km/h on paths at most as long) is slower than riding.
    assert (m["walk"][far] > m["ebike"][far]).all()
    # Nobody beats their top speed as the crow flies (walk 4.5 km/h, e-bike 18 km/h, plus door walks).
    assert (crow[far] / m["walk"][far] * 3.6 < 4.6).all()
    assert (crow[far] / m["ebike"][far] * 3.6 < 18.1).all()


def test_door_by_a_detached_path_goes_to_the_routed_path_nearby(nets: dict[str, RoadNetwork]) -> None:
    """A door 5.6 m from a courtyard path that joins nothing is walked from the footway 38.9 m away."""
    door = Location(55.00065, 12.002)
    snap = nets["walk"].snap([door])
    assert snap.status.tolist() == ["ok"]
    # 0.00035° of latitude north to the M1-M2 footway: 38.9 m (the 100 m island margin allows it).
    assert snap.offset_m[0] == pytest.approx(38.9, abs=0.1)
    assert np.isfinite(nets["walk"].matrix([door, W1])).all()
