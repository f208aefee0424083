"""Synthetic people at real addresses: for the demo, tests and benchmarks (never for production plans)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from geo.geocoder import AddressRecord
from routing.model import SEGMENTS

CASE_COLUMNS = (
    "case_id",
    "customer_id",
    "name",
    "phone",
    "address",
    "lat",
    "lon",
    "segment",
    "overdue_amount",
    "overdue_days",
    "service_min",
    "appointment",
    "state",
)
# Rough shares of a consumer-loan book's segments.
SEGMENT_WEIGHTS = {
    "employed": 0.34,
    "shift_worker": 0.08,
    "self_employed": 0.14,
    "farmer": 0.02,
    "retired": 0.14,
    "unemployed": 0.12,
    "caregiver": 0.06,
    "student": 0.05,
    "unknown": 0.05,
}
_FIRST = ("Aino", "Eero", "Li", "Wang", "Mette", "Jonas", "Sofia", "Ahmed", "Chen", "Laura", "Mikko", "Zhang")
_LAST = ("Virtanen", "Korhonen", "Nielsen", "Hansen", "Liu", "Zhao", "Larsen", "Niemi", "Huang", "Jensen")


def synthetic_case_rows(
    records: Sequence[AddressRecord], n: int, seed: int, prefix: str = "C", unique_addresses: bool = True
) -> list[dict[str, Any]]:
    """``n`` case rows at distinct real addresses, with plausible segments, debts and service times.

    Parameters
    ----------
    records
        The extract's addresses (``OfflineGeocoder.records``).
    n
        How many cases.
    seed
        Random seed: the same seed gives the same rows.
    prefix
        Prefix of the case ids.
    unique_addresses
        Draw each address at most once.
    """
    if unique_addresses and n > len(records):
        msg = f"asked for {n} cases at distinct addresses, but the extract has only {len(records)} addresses"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(records), size=n, replace=not unique_addresses)
    segments = list(SEGMENT_WEIGHTS)
    weights = np.array([SEGMENT_WEIGHTS[s] for s in segments])
    assert set(segments) == set(SEGMENTS)
    rows = []
    for k, pick in enumerate(picks):
        record = records[int(pick)]
        amount = float(np.round(rng.lognormal(mean=8.5, sigma=1.0), -1))
        rows.append(
            {
                "case_id": f"{prefix}{k + 1:04d}",
                "customer_id": f"P{seed % 1000:03d}{k + 1:05d}",
                "name": f"{_FIRST[int(rng.integers(len(_FIRST)))]} {_LAST[int(rng.integers(len(_LAST)))]}",
                "phone": f"+000 {int(rng.integers(10_000_000, 99_999_999))}",
                "address": record.label,
                "lat": "",
                "lon": "",
                "segment": segments[int(rng.choice(len(segments), p=weights / weights.sum()))],
                "overdue_amount": f"{amount:.0f}",
                "overdue_days": str(int(rng.integers(31, 240))),
                "service_min": str(int(rng.choice([15, 20, 20, 25, 30]))),
                "appointment": "",
                "state": "open",
            }
        )
    return rows


def write_rows(path: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """Write rows as a UTF-8 CSV with the given header."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
