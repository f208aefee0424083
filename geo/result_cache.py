"""An on-disk cache of geocoding results, keyed by a namespace (which index or provider) and the normalised query.

One SQLite file (stdlib ``sqlite3``). The namespace of the offline geocoder is its index digest plus its threshold,
so a new extract, a new index format or another threshold never reuses old answers; an online provider uses its
name and base URL. The API engineer owns the main database: this is the simple cache of the CLI and the providers.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from geo.geocoder import GeocodeResult, query_key
from geo.types import Location

__all__ = ["ResultCache", "result_from_dict", "result_to_dict"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (namespace, key)
)
"""


def result_to_dict(result: GeocodeResult) -> dict[str, Any]:
    """A result as JSON-able values (the query is left out: a cached answer serves every spelling of it)."""
    return {
        "lat": result.location.lat if result.location else None,
        "lon": result.location.lon if result.location else None,
        "precision": result.precision,
        "confidence": result.confidence,
        "status": result.status,
        "code": result.code,
        "message": result.message,
        "matched": result.matched,
        "source": result.source,
    }


def result_from_dict(query: str, data: dict[str, Any]) -> GeocodeResult:
    """The inverse of ``result_to_dict``, for ``query``."""
    lat, lon = data.get("lat"), data.get("lon")
    return GeocodeResult(
        query,
        Location(lat, lon) if lat is not None and lon is not None else None,
        data["precision"],
        float(data["confidence"]),
        data["status"],
        data.get("code"),
        data.get("message"),
        data.get("matched"),
        data.get("source", "offline"),
    )


class ResultCache:
    """Geocoding results in a SQLite file.

    Parameters
    ----------
    path
        The file (created when missing); ``":memory:"`` for a throw-away cache.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path)
        self._conn.execute(_SCHEMA)
        self._conn.commit()

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, namespace: str, query: str) -> GeocodeResult | None:
        """The cached result of ``query`` (any spelling with the same ``query_key``), ``None`` on a miss."""
        row = self._conn.execute(
            "SELECT payload FROM results WHERE namespace = ? AND key = ?", (namespace, query_key(query))
        ).fetchone()
        if row is None:
            return None
        try:
            return result_from_dict(query, json.loads(row[0]))
        except (ValueError, KeyError, TypeError):
            return None  # a damaged row is a miss: the query is answered again and the row replaced

    def get_many(self, namespace: str, queries: Sequence[str]) -> list[GeocodeResult | None]:
        """``get`` for each query, in one transaction."""
        return [self.get(namespace, q) for q in queries]

    def put(self, namespace: str, result: GeocodeResult) -> None:
        """Store ``result`` under its query's key."""
        self.put_many(namespace, [result])

    def put_many(self, namespace: str, results: Sequence[GeocodeResult]) -> None:
        """Store several results in one transaction."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        rows = [
            (namespace, query_key(r.query), json.dumps(result_to_dict(r), ensure_ascii=False), now) for r in results
        ]
        self._conn.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?)", rows)
        self._conn.commit()

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM results").fetchone()[0])
