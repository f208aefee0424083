"""``doorstep geocode`` and ``doorstep correct`` on a real extract: every row answered, bad rows named, exit codes."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.geocode_cmd import OUTPUT_COLUMNS, run_geocode

RUNNER = CliRunner()
HEADER = "id,address\n"


def write(tmp_path: Path, body: bytes, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(body)
    return path


def read_out(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def copenhagen(osm_dir: Path) -> Path:
    """The Copenhagen extract."""
    return osm_dir / "copenhagen_kbh.osm.pbf"


def test_geocode_command_answers_every_row(tmp_path: Path, copenhagen: Path, cache_dir: Path) -> None:
    """Good, noisy and bad rows each get an answer; the output keeps the input columns and adds the contract's."""
    body = (
        HEADER
        + '1,"Nørrebrogade 12, 2200 København N"\n'  # exact
        + "2,norrebrogade 12\n"  # folded, no postcode
        + "3,\n"  # empty address
        + "4,Qwrtzpflvej 3\n"  # nothing like it
        + f"5,{'Nørrebrogade 12 ' * 700}\n"  # 11 KB
        + '6,"Nørre\x01brogade 12"\n'  # a control character
        + "7\n"  # no address cell at all
    ).encode() + b'8,"N\xf8rrebrogade 12"\n'  # Latin-1 bytes in one row
    out = tmp_path / "out.csv"
    result = RUNNER.invoke(
        app, ["geocode", "--osm", str(copenhagen), "--in", str(write(tmp_path, body)), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = read_out(out)
    assert [r["id"] for r in rows] == [str(i) for i in range(1, 9)]
    assert set(OUTPUT_COLUMNS) <= set(rows[0])
    by_id = {r["id"]: r for r in rows}
    for ok in ("1", "2", "6"):
        assert (by_id[ok]["status"], by_id[ok]["precision"]) == ("ok", "house")
        assert float(by_id[ok]["lat"]) == pytest.approx(55.68762, abs=1e-4)
    for bad, words in (
        ("3", "empty"),
        ("4", "no street"),
        ("5", "characters"),
        ("7", "no address cell"),
        ("8", "UTF-8"),
    ):
        assert (by_id[bad]["status"], by_id[bad]["code"], by_id[bad]["lat"]) == ("unresolved", "no_match", "")
        assert words in by_id[bad]["message"]


def test_given_coordinates_are_checked_against_the_region(tmp_path: Path, copenhagen: Path, cache_dir: Path) -> None:
    """Rows with lat/lon inside the extract pass through; outside it, outside_region; not numbers, a row error."""
    body = "id,address,lat,lon\n1,a,55.68,12.56\n2,b,56.1567,10.2108\n3,c,north,12.5\n4,Nørrebrogade 12,,\n".encode()
    out = tmp_path / "out.csv"
    run_geocode(copenhagen, write(tmp_path, body), out, cache_dir=cache_dir)
    rows = {r["id"]: r for r in read_out(out)}
    assert (rows["1"]["status"], rows["1"]["source"]) == ("ok", "input")
    assert (rows["2"]["status"], rows["2"]["code"]) == ("unresolved", "outside_region")
    assert (rows["3"]["status"], rows["3"]["code"]) == ("unresolved", "no_match")
    assert (rows["4"]["status"], rows["4"]["precision"]) == ("ok", "house")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        # no address column
        ("id,street\n1,Nørrebrogade\n".encode(), "address"),
        # the whole file in Latin-1
        ("id,address\n1,Nørrebrogade 12\n2,Søndergade 3\n".encode("latin-1"), "UTF-8"),
    ],
)
def test_unreadable_table_exits_2(tmp_path: Path, copenhagen: Path, body: bytes, words: str) -> None:
    """A file that is not an address table exits 2, naming the file and the reason."""
    path = write(tmp_path, body)
    result = RUNNER.invoke(
        app, ["geocode", "--osm", str(copenhagen), "--in", str(path), "--out", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == 2
    assert words in result.output and "in.csv" in result.output


def test_results_are_cached_and_corrections_override_them(tmp_path: Path, copenhagen: Path) -> None:
    """A second run answers from the result cache; after `doorstep correct` the corrected point wins."""
    cache = tmp_path / "cache"
    src = write(tmp_path, (HEADER + '1,"Nørrebrogade 12, 2200 København N"\n2,Nørregade 5\n').encode())
    first = run_geocode(copenhagen, src, tmp_path / "a.csv", cache_dir=cache)
    second = run_geocode(copenhagen, src, tmp_path / "b.csv", cache_dir=cache)
    assert (first.from_cache, second.from_cache) == (0, 2)
    assert read_out(tmp_path / "a.csv") == read_out(tmp_path / "b.csv")
    db = tmp_path / "corrections.sqlite"
    args = ["correct", "--db", str(db), "--address", "NØRREBROGADE 12, 2200 KØBENHAVN N"]
    result = RUNNER.invoke(
        app, [*args, "--lat", "55.6880", "--lon", "12.5630", "--by", "sup-7", "--note", "back house"]
    )
    assert result.exit_code == 0, result.output
    third = run_geocode(copenhagen, src, tmp_path / "c.csv", cache_dir=cache, corrections=db)
    assert third.corrected == 1
    row = read_out(tmp_path / "c.csv")[0]
    assert (row["source"], row["lat"], row["lon"]) == ("correction", "55.6880000", "12.5630000")
    assert "sup-7" in row["message"] and "back house" in row["message"]
