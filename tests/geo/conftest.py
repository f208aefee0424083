"""Road-network fixtures: real extracts built once per session in a temporary cache, and a hand-made block."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import RoadNetwork, load_network

COPENHAGEN_PBF = Path(__file__).resolve().parents[3] / "shared" / "data" / "osm" / "copenhagen_kbh.osm.pbf"

# A square block south-west corner A, then B east, C north-east, D north (lat 55.000..55.002, lon
# 12.000..12.004): A->B is a one-way residential street, B-C-D-A one two-way residential way. Far to the
# east, a two-way stub (nodes 10-11) that nothing connects to: an island. North of C, a one-way dead end
# (C->30) that can be entered but not left: cut off by its direction only.
TOY_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="doorstep-tests">
  <node id="1" lat="55.000" lon="12.000" version="1"/>
  <node id="2" lat="55.000" lon="12.004" version="1"/>
  <node id="3" lat="55.002" lon="12.004" version="1"/>
  <node id="4" lat="55.002" lon="12.000" version="1"/>
  <node id="10" lat="55.001" lon="12.010" version="1"/>
  <node id="11" lat="55.001" lon="12.011" version="1"/>
  <node id="20" lat="55.0005" lon="12.002" version="1"/>
  <node id="21" lat="55.0015" lon="12.002" version="1"/>
  <node id="30" lat="55.003" lon="12.004" version="1"/>
  <way id="100" version="1">
    <nd ref="1"/><nd ref="2"/>
    <tag k="highway" v="residential"/><tag k="oneway" v="yes"/>
  </way>
  <way id="101" version="1">
    <nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="highway" v="residential"/>
  </way>
  <way id="102" version="1">
    <nd ref="10"/><nd ref="11"/>
    <tag k="highway" v="residential"/>
  </way>
  <way id="103" version="1">
    <nd ref="20"/><nd ref="21"/>
    <tag k="highway" v="footway"/>
  </way>
  <way id="104" version="1">
    <nd ref="3"/><nd ref="30"/>
    <tag k="highway" v="residential"/><tag k="oneway" v="yes"/>
  </way>
</osm>
"""


@pytest.fixture(scope="session")
def network_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One network cache for the session, so each extract is read once."""
    return tmp_path_factory.mktemp("network-cache")


@pytest.fixture(scope="session")
def copenhagen_net(network_cache_dir: Path) -> RoadNetwork:
    """The clipped Copenhagen extract."""
    return load_network(COPENHAGEN_PBF, cache_dir=network_cache_dir)


@pytest.fixture(scope="session")
def toy_osm_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-made block of :data:`TOY_OSM` as an ``.osm`` file."""
    path = tmp_path_factory.mktemp("toy_net-osm") / "block.osm"
    path.write_text(TOY_OSM, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def toy_net(toy_osm_path: Path, network_cache_dir: Path) -> RoadNetwork:
    """The hand-made block as a network."""
    return load_network(toy_osm_path, cache_dir=network_cache_dir)
