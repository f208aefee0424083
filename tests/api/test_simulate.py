"""`doorstep simulate`: a small closed loop on a real extract, its report, plots, truth and determinism."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from api.service import Region
from api.simulate import (
    ABSENT_P,
    PERSONAS,
    POLICIES,
    Population,
    SimulationConfig,
    make_population,
    run_simulation,
)
from routing.model import SEGMENTS
from routing.presence import DAY_TYPES, PresencePrior

SMALL = {"customers": 30, "teams": 1, "weeks": 1, "seed": 7}
# A short shortlist keeps each solve tiny; met customers are back the next day, so the pool never runs dry.
KNOBS = {"shortlist": 12, "revisit-days": 1}


@pytest.fixture(scope="module")
def cli_run(osm_dir: Path, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`doorstep simulate` on Aguascalientes: 30 customers, 1 team, 1 week, seed 7."""
    out = tmp_path_factory.mktemp("sim") / "out"
    args = [f"--{k}={v}" for k, v in {**SMALL, **KNOBS}.items()]
    result = subprocess.run(
        [sys.executable, "-m", "api", "simulate", "--osm", str(osm_dir / "aguascalientes.osm.pbf"), *args,
         "--out", str(out)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "200"}, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return {"out": out, "report": report, "stdout": result.stdout}


def test_report_has_the_contracted_shape(cli_run: dict[str, Any]) -> None:
    """report.json: the four policies, run parameters, and per week and policy the six figures."""
    report = cli_run["report"]
    assert report["policies"] == list(POLICIES)
    assert {k: report[k] for k in SMALL} == SMALL
    assert [w["week"] for w in report["weekly"]] == [1]
    for policy in POLICIES:
        m = report["weekly"][0][policy]
        assert set(m) == {"visits", "contacts", "hit_rate", "brier", "ece", "mae_p", "brier_all"}
        assert 0 < m["contacts"] <= m["visits"]
        assert m["hit_rate"] == pytest.approx(m["contacts"] / m["visits"], abs=1e-4)
        assert 0 <= m["brier"] <= 1 and 0 <= m["ece"] <= 1 and 0 < m["brier_all"] < 1
    # The oracle predicts the truth itself: no calibration error at all.
    assert report["weekly"][0]["oracle"]["ece"] == 0 and report["weekly"][0]["oracle"]["mae_p"] == 0
    # Over every customer and legal hour (the same events for all), the truth is the best forecast.
    assert report["weekly"][0]["oracle"]["brier_all"] < report["weekly"][0]["agnostic"]["brier_all"]
    assert "learning" in cli_run["stdout"] and "report.json" in cli_run["stdout"]


def test_oracle_finds_more_people_home_than_the_agnostic_plan(cli_run: dict[str, Any]) -> None:
    """Knowing when people are home beats ignoring it, even in one week of one team (same draws for both)."""
    week = cli_run["report"]["weekly"][0]
    assert week["oracle"]["hit_rate"] > week["agnostic"]["hit_rate"] + 0.05


def test_plots_are_png_files(cli_run: dict[str, Any]) -> None:
    """Learning curves and the reliability diagram are written as PNG images."""
    for name in ("learning_curves.png", "reliability.png"):
        data = (cli_run["out"] / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000


class TruthSeer:
    """A further policy for the ``learners`` hook that is shown the hidden truth: it must plan as the oracle."""

    def __init__(self, population: Population, prior: PresencePrior) -> None:
        self.population = population
        self.taught = 0

    def view(self, day: int, day_type: int) -> np.ndarray:
        pop = self.population
        return np.where(pop.away[:, day, None], ABSENT_P, pop.base[:, day_type, :])

    def learn(self, day: int, day_type: int, rows: np.ndarray, start_s: np.ndarray, home: np.ndarray) -> None:
        assert rows.shape == start_s.shape == home.shape
        self.taught += rows.size


def test_same_seed_same_report(cli_run: dict[str, Any], osm_dir: Path, cache_dir: Path) -> None:
    """Running again with the same seed in another process gives the same weekly figures; a policy added through
    the ``learners`` hook leaves the four alone, and one shown the truth plans and scores exactly as the oracle."""
    config = SimulationConfig(
        osm=osm_dir / "aguascalientes.osm.pbf", cache_dir=cache_dir, shortlist_per_team=12, revisit_days=1, **SMALL
    )
    again = run_simulation(config, learners={"seer": TruthSeer})
    assert again.report["policies"] == [*POLICIES, "seer"]
    week = again.report["weekly"][0]
    assert {k: week[k] for k in ("week", *POLICIES)} == cli_run["report"]["weekly"][0]
    assert week["seer"] == week["oracle"]


@pytest.fixture(scope="module")
def region(osm_dir: Path, cache_dir: Path) -> Region:
    """The Aguascalientes extract's road network and addresses."""
    return Region.load(osm_dir / "aguascalientes.osm.pbf", cache_dir=cache_dir)


def test_truth_prior_is_exactly_the_segment_prior(region: Region) -> None:
    """With truth='prior' every customer's true profile is their segment's prior, never away."""
    prior = PresencePrior.load_default()
    pop = make_population(region, prior, 60, 28, "prior", np.random.default_rng(1))
    for k, case in enumerate(pop.cases):
        for i, d in enumerate(DAY_TYPES):
            np.testing.assert_allclose(pop.base[k, i], prior.profile(case.segment, d))
    assert not pop.away.any()


def test_personas_depart_from_the_segment(region: Region) -> None:
    """Night shifts are home at 11:00 rather than 20:00 on workdays; the away are away in blocks of 1-3 weeks."""
    prior = PresencePrior.load_default()
    pop = make_population(region, prior, 300, 28, "personas", np.random.default_rng(2))
    counts = np.bincount(pop.persona, minlength=len(PERSONAS))
    assert all(counts[1:] >= 12), counts  # about 10 % each of 300
    night = np.flatnonzero(pop.persona == PERSONAS.index("night_shift"))
    employed = [k for k in night if pop.cases[k].segment == "employed"]
    assert employed
    assert all(pop.base[k, 0, 11] > pop.base[k, 0, 20] for k in employed)
    away = pop.away[pop.persona == PERSONAS.index("away")]
    runs = away.sum(axis=1)
    assert (runs > 0).mean() > 0.6 and runs.max() <= 21
    assert not pop.away[pop.persona != PERSONAS.index("away")].any()
    # Customers sit at distinct real addresses.
    assert len({c.location for c in pop.cases}) == 300
    assert {c.segment for c in pop.cases} <= set(SEGMENTS)


@pytest.mark.parametrize(
    "kw",
    [
        # an unknown kind of truth
        {"truth": "dreams"},
        # no customers
        {"customers": 0},
        # no weeks
        {"weeks": 0},
    ],
)
def test_bad_configurations_are_refused(kw: dict[str, Any], osm_dir: Path) -> None:
    """Nonsense settings raise ConfigurationError (exit status 2 on the command line)."""
    from api.errors import ConfigurationError, exit_code

    with pytest.raises(ConfigurationError) as err:
        SimulationConfig(osm=osm_dir / "aguascalientes.osm.pbf", **kw)
    assert exit_code(err.value) == 2


def test_more_customers_than_addresses_is_refused(region: Region, osm_dir: Path) -> None:
    """Asking for more customers than the extract has routable addresses says so."""
    from api.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="distinct routable addresses"):
        make_population(region, PresencePrior.load_default(), 100_000, 7, "prior", np.random.default_rng(1))
