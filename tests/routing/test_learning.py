"""The per-customer presence posterior: updates, kernel, decay, day types, pooling, store and the planner hook."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from routing.errors import InvalidInputError
from routing.learning import LearningSettings, Observation, PresenceModel, hour_overlap
from routing.model import SEGMENTS, Case
from routing.presence import DAY_TYPES, PresencePrior

UTC = dt.UTC
DAY0 = dt.datetime(2026, 12, 1, tzinfo=UTC)  # a Tuesday


@pytest.fixture(scope="module")
def prior() -> PresencePrior:
    """The shipped segment prior."""
    return PresencePrior.load_default()


def plain(**kw: object) -> LearningSettings:
    """Settings without pooling, the away state or routines: a customer's hourly Betas and their own visits only."""
    return LearningSettings(pool_strength=None, away_share=None, routine_share=None, **kw)  # type: ignore[arg-type]


def at(hour: float, day: int = 0) -> dt.datetime:
    return DAY0 + dt.timedelta(days=day, hours=hour)


def obs(result: str, hour: float, day: int = 0, customer: str = "P1", kind: str = "workday") -> Observation:
    return Observation(customer, "employed", kind, at(hour, day), result)


def test_without_evidence_the_posterior_is_the_segment_prior(prior: PresencePrior) -> None:
    """A customer nobody has visited gets exactly the segment's prior, on every day type and hour."""
    model = PresenceModel(prior)
    got = model.profiles(["P1"], ["retired"])[0]
    for i, d in enumerate(DAY_TYPES):
        assert got[i] == pytest.approx(prior.profile("retired", d))


def test_one_meeting_moves_the_hour_by_a_beta_update(prior: PresencePrior) -> None:
    """Met at 19:30 with strength 3: (3·m + 1) / (3 + 1) at 19:00-20:00."""
    model = PresenceModel(prior, plain(strength=3.0))
    m = prior.p_home("employed", "workday", 19)  # 0.721 -> (2.163 + 1) / 4 = 0.79075
    model.update([obs("met", 19.5)])
    assert model.p_home("P1", "employed", "workday", 19) == pytest.approx((3 * m + 1) / 4)


@pytest.mark.parametrize(
    ("result", "direction"),
    [
        # at home
        ("met", 1),
        ("refused", 1),
        ("promise_to_pay", 1),
        ("appointment_made", 1),
        # absent
        ("not_home", -1),
        # no presence evidence
        ("wrong_address", 0),
        ("moved", 0),
        ("other", 0),
    ],
)
def test_results_move_presence_the_right_way(prior: PresencePrior, result: str, direction: int) -> None:
    """Home results raise P(home) at that hour, not_home lowers it, address results and other leave it."""
    model = PresenceModel(prior, plain())
    before = prior.p_home("employed", "workday", 14)
    model.update([obs(result, 14.5)])
    after = model.p_home("P1", "employed", "workday", 14)
    assert np.sign(round(after - before, 9)) == direction


def test_address_results_set_a_flag(prior: PresencePrior) -> None:
    """wrong_address and moved flag the customer's address, with the result and the time."""
    model = PresenceModel(prior)
    model.update([obs("moved", 10)])
    assert model.address_flags["P1"] == ("moved", at(10).isoformat())
    assert model.summary("P1", "employed")["address_flag"]["result"] == "moved"


def test_kernel_shares_evidence_with_nearby_hours_only(prior: PresencePrior) -> None:
    """A not_home at 19:10 lowers 18:00-21:00, most at 19:00, and leaves 15:00 and 23:00 untouched."""
    model = PresenceModel(prior, plain(bandwidth_h=1.0, reach_h=3.0))
    model.update([obs("not_home", 19 + 10 / 60)])
    p = model.profiles(["P1"], ["employed"])[0, 0]
    base = np.array(prior.profile("employed", "workday"))
    drop = base - p
    assert drop[19] == drop.max() > 0
    assert (drop[18:22] > 0).all()
    assert drop[15] == pytest.approx(0) and drop[23] == pytest.approx(0)


def test_old_evidence_decays_by_half_life(prior: PresencePrior) -> None:
    """After one half-life a visit counts half: (3m + 0.5)/(3 + 0.5) instead of (3m + 1)/(3 + 1)."""
    model = PresenceModel(prior, plain(strength=3.0, half_life_days=10.0))
    m = prior.p_home("employed", "workday", 19)
    model.update([obs("met", 19.5)])
    later = model.mean(at=at(19.5, day=10))[0, 0, 19]
    assert later == pytest.approx((3 * m + 0.5) / 3.5)
    # Adding a new visit decays the old one the same way: a not_home ten days later at the same hour.
    model.update([obs("not_home", 19.5, day=10)])
    assert model.p_home("P1", "employed", "workday", 19) == pytest.approx((3 * m + 0.5) / 4.5)


def test_day_types_share_evidence_by_the_table(prior: PresencePrior) -> None:
    """A rest-day visit informs public holidays strongly and workdays weakly (share 0.7 and 0.1)."""
    model = PresenceModel(prior, plain(strength=3.0))
    model.update([obs("met", 11.5, kind="rest_day")])
    home = model.summary("P1", "employed")["day_types"]
    assert home["rest_day"]["evidence_home"][11] == pytest.approx(1.0)
    assert home["public_holiday"]["evidence_home"][11] == pytest.approx(0.7)
    assert home["workday"]["evidence_home"][11] == pytest.approx(0.1)


def test_batch_update_equals_one_by_one(prior: PresencePrior) -> None:
    """Learning 300 outcomes at once gives the same posterior as learning them one at a time, in time order."""
    rng = np.random.default_rng(3)
    items = [
        obs(
            str(rng.choice(["met", "not_home"])),
            float(rng.uniform(8, 22)),
            day=int(rng.integers(0, 60)),
            customer=f"P{int(rng.integers(0, 20))}",
            kind=str(rng.choice(DAY_TYPES)),
        )
        for _ in range(300)
    ]
    # Pooling makes an update depend on other customers' evidence so far, so it is off here.
    settings = LearningSettings(pool_strength=None)
    batch, single = PresenceModel(prior, settings), PresenceModel(prior, settings)
    batch.update(items)
    for o in sorted(items, key=lambda o: o.visited_at):
        single.update([o])
    ids = sorted({o.customer_id for o in items})
    end = at(0, day=61)
    np.testing.assert_allclose(
        batch.profiles(ids, ["employed"] * len(ids), end), single.profiles(ids, ["employed"] * len(ids), end)
    )


def test_repeated_history_is_not_learnt_twice(prior: PresencePrior) -> None:
    """Outcomes with a key (client_id) already learnt are skipped."""
    model = PresenceModel(prior)
    o = Observation("P1", "employed", "workday", at(19.5), "met", key="u-1")
    assert model.update([o]) == 1
    once = model.p_home("P1", "employed", "workday", 19)
    assert model.update([o]) == 0
    assert model.p_home("P1", "employed", "workday", 19) == once


def test_pooling_teaches_unvisited_customers_of_the_segment(prior: PresencePrior) -> None:
    """Many not_home at 11:00 among retired customers lower an unvisited retired customer's 11:00 a little."""
    model = PresenceModel(prior, LearningSettings(pool_strength=100.0, away_share=None))
    model.update(
        [Observation(f"R{k}", "retired", "workday", at(11.5), "not_home") for k in range(100)]
    )  # 100 away-counts against 100 pseudo-visits: the segment mean halves at 11:00
    p = model.p_home("NEW", "retired", "workday", 11)
    assert p == pytest.approx(prior.p_home("retired", "workday", 11) * 100 / 200)
    assert model.p_home("NEW", "employed", "workday", 11) == pytest.approx(prior.p_home("employed", "workday", 11))


def test_store_round_trip(prior: PresencePrior, tmp_path: Path) -> None:
    """save then load gives the same estimates, flags and learnt keys."""
    model = PresenceModel(prior)
    model.update([obs("met", 19.5), obs("not_home", 11, customer="P2"), obs("moved", 9, customer="P3")])
    model.update([Observation("P4", "retired", "rest_day", at(15), "met", key="k1")])
    path = tmp_path / "presence.npz"
    model.save(path)
    again = PresenceModel.load(path, prior)
    ids = ["P1", "P2", "P4", "P9"]
    segs = ["employed", "employed", "retired", "student"]
    np.testing.assert_array_equal(model.profiles(ids, segs), again.profiles(ids, segs))
    assert again.address_flags == model.address_flags
    assert again.learnt_keys == {"k1"}
    assert again.settings == model.settings


def test_vectorised_update_is_fast(prior: PresencePrior) -> None:
    """20,000 outcomes over 5,000 customers are learnt in well under a second."""
    rng = np.random.default_rng(1)
    model = PresenceModel(prior)
    rows = model.ensure([f"P{k}" for k in range(5000)], ["employed"] * 5000)
    n = 20_000
    import time

    t = time.perf_counter()
    model.add_evidence(
        rows[rng.integers(0, 5000, n)],
        rng.integers(0, 3, n),
        rng.uniform(8, 22, n),
        np.sort(rng.uniform(0, 60, n)),
        rng.random(n) < 0.5,
    )
    model.mean()
    assert time.perf_counter() - t < 1.0


@pytest.mark.parametrize(
    ("start_s", "end_s", "expected_hours"),
    [
        # 10:30-12:00: a third in hour 10, two thirds in hour 11
        (10 * 3600 + 1800, 12 * 3600, {10: 1 / 3, 11: 2 / 3}),
        # 11:00-12:00: all in 11
        (11 * 3600, 12 * 3600, {11: 1.0}),
    ],
)
def test_hour_overlap(start_s: int, end_s: int, expected_hours: dict[int, float]) -> None:
    """Slot weights are the overlap of each clock hour with the window."""
    w = hour_overlap(start_s, end_s)
    assert w.sum() == pytest.approx(1.0)
    for h in range(24):
        assert w[h] == pytest.approx(expected_hours.get(h, 0.0))


def test_case_presence_uses_the_customer_posterior(prior: PresencePrior) -> None:
    """The planner's P(home) for a case comes from its customer's posterior; unknown customers from the prior."""
    model = PresenceModel(prior, plain())
    model.update([obs("not_home", h + 0.5, day=-d) for d in range(5) for h in (18, 19, 20)])
    known = Case("C1", "P1", address="x", segment="employed")
    other = Case("C2", "P2", address="y", segment="employed")
    source = model.for_cases([known, other])
    p_known = source.case_slot_p_home(known, "workday", 19 * 3600, 20 * 3600)
    assert p_known == pytest.approx(model.p_home("P1", "employed", "workday", 19))
    assert p_known < prior.p_home("employed", "workday", 19) - 0.3
    assert source.case_slot_p_home(other, "workday", 19 * 3600, 20 * 3600) == pytest.approx(
        prior.p_home("employed", "workday", 19)
    )


@pytest.mark.parametrize(
    "kw",
    [
        # zero strength
        {"strength": 0.0},
        # negative half-life
        {"half_life_days": -1.0},
        # share table of the wrong shape
        {"day_type_share": ((1.0, 0.0), (0.0, 1.0))},
        # zero pool strength (None turns pooling off)
        {"pool_strength": 0.0},
        # a routine share of one leaves the segment no weight (None turns routines off)
        {"routine_share": 1.0},
    ],
)
def test_bad_settings_are_rejected(kw: dict[str, object]) -> None:
    """Settings that make no sense raise InvalidInputError."""
    with pytest.raises(InvalidInputError):
        LearningSettings(**kw)  # type: ignore[arg-type]


def test_a_run_of_absences_at_home_hours_means_away(prior: PresencePrior) -> None:
    """Three evenings not at home make a retired customer likely away: P(home) drops at every hour, then recovers."""
    model = PresenceModel(prior)  # away share 0.05, half-life 7 days
    model.update([Observation("R1", "retired", "workday", at(19.5, day=d), "not_home") for d in range(3)])
    away = float(model.away_probability()[0])
    assert away > 0.5
    assert model.summary("R1", "retired")["away_probability"] == pytest.approx(away, abs=1e-4)
    now = model.profiles(["R1"], ["retired"], at=at(12, day=3))[0, 0]
    base = np.array(prior.profile("retired", "workday"))
    # Mornings were never visited, yet they drop too: being away is customer-wide.
    assert now[10] < base[10] * 0.6
    later = model.profiles(["R1"], ["retired"], at=at(12, day=60))[0, 0]
    assert later[10] > base[10] - 0.05
    # A meeting ends it: back to about the usual share of people away (0.05); what is left is the chance that the
    # evenings out were away days after all rather than another routine's evenings.
    model.update([Observation("R1", "retired", "workday", at(10.5, day=4), "met")])
    assert float(model.away_probability()[0]) < min(0.1, away / 5)


def test_away_state_keeps_the_prior_without_evidence(prior: PresencePrior) -> None:
    """With the away state on, a customer without visits still gets exactly the segment prior."""
    model = PresenceModel(prior, LearningSettings(pool_strength=None))
    model.ensure(["P1"], ["employed"])
    np.testing.assert_allclose(model.mean()[0, 0], prior.profile("employed", "workday"), atol=1e-9)


def test_routines_keep_the_prior_and_sum_to_one(prior: PresencePrior) -> None:
    """Without evidence the routine mixture gives back every segment's profile; each customer's weights sum to 1."""
    model = PresenceModel(prior, LearningSettings(pool_strength=None, routine_share=0.2))
    segments = list(SEGMENTS)
    model.ensure(segments, segments)
    table = np.array([[prior.profile(s, d) for d in DAY_TYPES] for s in segments])
    np.testing.assert_allclose(model.mean(), table, atol=1e-12)
    weights = model.routine_weights(np.arange(len(segments)))
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0)
    own = weights.max(axis=-1)
    np.testing.assert_allclose(own, 0.8)  # 1 - routine_share on the segment's own routine


def night_worker_visits() -> list[Observation]:
    """An "employed" customer found in every late morning and out every evening, over two weeks of workdays."""
    days = [d for d in range(14) if (DAY0 + dt.timedelta(days=d)).weekday() < 5]
    return [
        Observation("N1", "employed", "workday", at(hour, d), result)
        for d in days[::2]
        for hour, result in ((10.5, "met"), (20.5, "not_home"))
    ]


def test_visits_that_fit_another_routine_move_the_whole_day(prior: PresencePrior) -> None:
    """Met at 10:30 and out at 20:30, again and again: the customer keeps a shift worker's day, so 15:00 and 06:00,
    which no visit came near, move to the shift worker's profile too, which the hourly evidence alone cannot do."""
    with_routines = PresenceModel(prior, LearningSettings(pool_strength=None, away_share=None))
    hourly_only = PresenceModel(prior, plain(strength=10.0))
    for model in (with_routines, hourly_only):
        model.update(night_worker_visits())
    weights = with_routines.routine_weights(np.arange(1))[0, DAY_TYPES.index("workday")]
    shift_worker_workday = SEGMENTS.index("shift_worker") * 2
    assert weights.argmax() == shift_worker_workday and weights.max() > 0.5
    employed = np.array(prior.profile("employed", "workday"))
    shift = np.array(prior.profile("shift_worker", "workday"))
    learnt = with_routines.profiles(["N1"], ["employed"])[0, 0]
    untouched = hourly_only.profiles(["N1"], ["employed"])[0, 0]
    for hour in (6, 15):  # more than 3 h from every visit: the kernel never reaches them
        assert untouched[hour] == pytest.approx(employed[hour])
        assert abs(learnt[hour] - shift[hour]) < 0.5 * abs(employed[hour] - shift[hour])
    # GET /v1/customers/{id}/presence says so, and that nothing was learnt about rest days.
    said = with_routines.summary("N1", "employed")["day_types"]
    assert said["workday"]["routine"]["segment"] == "shift_worker" and said["workday"]["routine"]["weight"] > 0.5
    rest = said["rest_day"]["routine"]
    assert (rest["segment"], rest["day_kind"]) == ("employed", "rest_day")
    assert rest["weight"] == pytest.approx(0.8, abs=0.02)


def test_routines_follow_the_segment_when_visits_agree(prior: PresencePrior) -> None:
    """Outcomes that match the segment's own profile leave its routine the most likely one."""
    model = PresenceModel(prior, LearningSettings(pool_strength=None, away_share=None))
    model.update([Observation("E1", "employed", "workday", at(19.5, d), "met") for d in range(0, 10, 2)])
    model.update([Observation("E1", "employed", "workday", at(10.5, d), "not_home") for d in range(1, 10, 2)])
    weights = model.routine_weights(np.arange(1))[0, DAY_TYPES.index("workday")]
    assert weights.argmax() == SEGMENTS.index("employed") * 2 and weights.max() > 0.8


def test_version_1_store_loads_with_routine_priors(prior: PresencePrior, tmp_path: Path) -> None:
    """A store written before routines existed loads: the hourly evidence is kept, routines start from the prior."""
    model = PresenceModel(prior)
    model.update([obs("met", 19.5), obs("not_home", 11, customer="P2")])
    path = tmp_path / "v1.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k != "routine"}
    meta = json.loads(str(arrays["meta"]))
    meta["version"] = 1
    del meta["settings"]["routine_share"]
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(path, **arrays)
    again = PresenceModel.load(path, prior)
    home = again.summary("P1", "employed")["day_types"]["workday"]["evidence_home"]
    assert home == model.summary("P1", "employed")["day_types"]["workday"]["evidence_home"]
    np.testing.assert_allclose(again.routine_weights(np.arange(2)).max(axis=-1), 1 - again.settings.routine_share)


def test_a_learnt_routine_fades_like_the_evidence(prior: PresencePrior) -> None:
    """Read long after the visits, a learnt routine has faded back towards the segment's, as hourly evidence does."""
    model = PresenceModel(prior, LearningSettings(pool_strength=None, away_share=None))
    model.update(night_worker_visits())
    employed = prior.p_home("employed", "workday", 15)
    soon = model.profiles(["N1"], ["employed"], at=at(12, day=14))[0, 0, 15]
    late = model.profiles(["N1"], ["employed"], at=at(12, day=14 + 365))[0, 0, 15]
    assert abs(soon - employed) > 0.2
    assert abs(late - employed) < 0.01
