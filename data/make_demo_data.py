"""Make the demo's sample files: synthetic customers at real addresses of the embedded Helsinki extract.

Run from the repository root: ``python data/make_demo_data.py``. It writes ``data/demo_cases.csv`` and
``data/demo_teams.csv``. The people are invented; the addresses are real OpenStreetMap addresses
(© OpenStreetMap contributors, ODbL). A few cases are made unusable on purpose, so the demo shows how
Doorstep reports them instead of losing them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from api.synthetic import CASE_COLUMNS, synthetic_case_rows, write_rows
from data import helsinki_extract
from geo.geocoder import OfflineGeocoder

TEAM_COLUMNS = (
    "team_id",
    "members",
    "start_lat",
    "start_lon",
    "shift_start",
    "shift_end",
    "break_start",
    "break_end",
    "break_min",
    "profile",
    "max_visits",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    geocoder = OfflineGeocoder.from_osm(helsinki_extract())
    rows = synthetic_case_rows(geocoder.records, 44, seed=args.seed)
    rows[3]["appointment"] = "18:00-19:00"
    rows[5]["state"] = "closed"
    # Deliberately unusable: streets that do not exist, and a point far outside the extract.
    bad = [
        ("Olematonkatu 99, 00990 Helsinki", "", ""),
        ("Kuvitteellinen tie 12", "", ""),
        ("xyz 000 ???", "", ""),
        ("", "61.4978", "23.7610"),  # Tampere: outside the region of the extract
    ]
    for k, (address, lat, lon) in enumerate(bad, start=len(rows) + 1):
        rows.append(
            {
                **rows[0],
                "case_id": f"C{k:04d}",
                "customer_id": f"PX{k:05d}",
                "address": address,
                "lat": lat,
                "lon": lon,
            }
        )
    write_rows(args.out / "demo_cases.csv", rows, CASE_COLUMNS)

    # Depot: the address nearest the centre of the extract's addresses.
    lats = sorted(r.location.lat for r in geocoder.records)
    lons = sorted(r.location.lon for r in geocoder.records)
    mid_lat, mid_lon = lats[len(lats) // 2], lons[len(lons) // 2]
    depot = min(
        geocoder.records, key=lambda r: (r.location.lat - mid_lat) ** 2 + (r.location.lon - mid_lon) ** 2
    ).location
    teams = [
        ("T1", "Aino;Eero", "09:00", "17:00", "12:00", "14:00", "30", "12"),
        ("T2", "Li;Mikko", "12:00", "21:00", "16:00", "18:00", "30", "14"),
        ("T3", "Sofia;Jonas", "14:00", "22:00", "", "", "", ""),
    ]
    write_rows(
        args.out / "demo_teams.csv",
        [
            dict(
                zip(
                    TEAM_COLUMNS,
                    (tid, members, f"{depot.lat:.6f}", f"{depot.lon:.6f}", s, e, bs, be, bm, "car", mv),
                    strict=True,
                )
            )
            for tid, members, s, e, bs, be, bm, mv in teams
        ],
        TEAM_COLUMNS,
    )
    print(f"wrote {len(rows)} cases and {len(teams)} teams to {args.out}")


if __name__ == "__main__":
    main()
