"""Fixtures shared by every test package: where the shared data lives and a per-run cache folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
OSM_DIR = SHARED_DATA / "osm"


@pytest.fixture(scope="session")
def osm_dir() -> Path:
    """The real OpenStreetMap extracts beside the project (../shared/data/osm)."""
    if not OSM_DIR.is_dir():
        pytest.fail(f"shared data not found at {OSM_DIR}: the tests need ../shared beside the project")
    return OSM_DIR


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One on-disk cache for the whole run, also handed to subprocesses through DOORSTEP_CACHE_DIR."""
    path = Path(os.environ.get("DOORSTEP_CACHE_DIR") or tmp_path_factory.mktemp("doorstep-cache"))
    old = os.environ.get("DOORSTEP_CACHE_DIR")
    os.environ["DOORSTEP_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("DOORSTEP_CACHE_DIR", None)
    else:
        os.environ["DOORSTEP_CACHE_DIR"] = old
