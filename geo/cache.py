"""On-disk cache of built road networks, keyed by the hash of their input.

A built network is a handful of numpy arrays; they are stored as one ``.npz`` file named after the sha256
of the extract's bytes, the travel profile and :data:`CACHE_VERSION`. Writes go to a temporary file in
the same directory first and are moved in place with :func:`os.replace`, so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

#: Bump whenever the build (filters, speeds, array layout) changes, so older cache files are ignored.
CACHE_VERSION = "4"

#: Environment variable naming the cache directory.
CACHE_DIR_ENV = "DOORSTEP_CACHE_DIR"

_CHUNK = 1 << 20

logger = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """The cache directory: ``$DOORSTEP_CACHE_DIR`` if set, else ``~/.cache/doorstep``."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "doorstep"


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def cache_key(path: str | Path, profile: str, variant: str = "") -> str:
    """The cache key of an extract built for a profile.

    Parameters
    ----------
    path
        The OSM extract.
    profile
        The travel profile, e.g. ``"car"``.
    variant
        Anything else the build depends on (country, speed overrides).

    Returns
    -------
    str
        Hex sha256 over the file hash, the profile, the variant and :data:`CACHE_VERSION`.
    """
    material = f"{file_sha256(path)}|{profile}|{variant}|{CACHE_VERSION}".encode()
    return hashlib.sha256(material).hexdigest()


def cache_path(cache_dir: str | Path, key: str) -> Path:
    """Where the arrays of ``key`` live under ``cache_dir``."""
    return Path(cache_dir) / f"network-{key}.npz"


def load_arrays(cache_dir: str | Path, key: str) -> dict[str, np.ndarray] | None:
    """Load cached arrays, or ``None`` on a miss (absent or unreadable file).

    Parameters
    ----------
    cache_dir
        The cache directory.
    key
        A key from :func:`cache_key`.

    Returns
    -------
    dict or None
        The arrays by name, fully read into memory.
    """
    target = cache_path(cache_dir, key)
    if not target.is_file():
        return None
    try:
        # Open the file ourselves: np.load leaks its handle when the archive is damaged.
        with target.open("rb") as handle, np.load(handle, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        # A damaged cache file is not an error of the caller's: rebuild and overwrite it.
        logger.warning("ignoring unreadable network cache %s: %s", target, exc)
        return None


def save_arrays(cache_dir: str | Path, key: str, arrays: Mapping[str, np.ndarray]) -> Path:
    """Store arrays atomically under ``key``.

    Parameters
    ----------
    cache_dir
        The cache directory, created when missing.
    key
        A key from :func:`cache_key`.
    arrays
        Numeric arrays by name (no object arrays: the file is loaded without pickle).

    Returns
    -------
    pathlib.Path
        The cache file written.
    """
    directory = Path(cache_dir)
    directory.mkdir(parents=True, exist_ok=True)
    target = cache_path(directory, key)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            # numpy's stubs mistake the array names for savez's own keywords; the call is fine.
            savez: Callable[..., None] = np.savez
            savez(handle, **arrays)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target
