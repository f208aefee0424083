"""Per-customer presence posteriors that learn from visit outcomes (DESIGN.md §4, Presence).

Each customer has a Beta distribution per (day type, clock hour), seeded from their segment's prior with a
strength ``s`` (pseudo-visits): ``Beta(s·m, s·(1 − m))``. An outcome at local time ``t`` adds evidence to every
hour ``h`` with the weight of a Gaussian kernel ``exp(−½((h + ½ − t)/σ)²)`` (cut off at ``reach_h``), so a visit
at 19:10 informs 18:00–21:00; to the other day types with the weights of ``day_type_share``; and evidence loses
half its weight every ``half_life_days``. ``met``, ``refused``, ``promise_to_pay`` and ``appointment_made`` count
as at home, ``not_home`` as absent; ``wrong_address`` and ``moved`` say nothing about presence and set an address
flag instead; ``other`` is ignored.

Optionally (``pool_strength``) the segment prior itself is learnt from every customer's evidence, so customers who
were never visited also benefit when the time-use prior is off for the local population.

Everything is held in numpy arrays over customers × day types × hours; the store is one ``.npz`` file keyed by
customer id (``save`` / ``load``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from routing.errors import InvalidInputError
from routing.model import DAY_SECONDS, SEGMENTS, Case
from routing.presence import DAY_TYPES, PresencePrior

__all__ = [
    "ABSENT_RESULTS",
    "ADDRESS_RESULTS",
    "HOME_RESULTS",
    "LearningSettings",
    "Observation",
    "PresenceModel",
    "PresenceSource",
    "hour_overlap",
]

HOME_RESULTS = frozenset({"met", "refused", "promise_to_pay", "appointment_made"})
ABSENT_RESULTS = frozenset({"not_home"})
ADDRESS_RESULTS = frozenset({"wrong_address", "moved"})
_HOUR_CENTRES = np.arange(24, dtype=np.float64) + 0.5
_STORE_VERSION = 2
# Routines are the segments' profiles on these day kinds (a public holiday reads the rest-day profile).
_ROUTINE_KINDS = ("workday", "rest_day")


class PresenceSource(Protocol):
    """Anything the pre-solve pass can ask for a case's P(home) over a window of the plan day."""

    def case_slot_p_home(self, case: Case, day_type: str, start_s: int, end_s: int) -> float:
        """P(home) of ``case``'s customer over ``[start_s, end_s)`` on a day of ``day_type``."""
        ...


def hour_overlap(start_s: int, end_s: int) -> np.ndarray:
    """Weights of the 24 clock hours in a window: seconds of overlap over the window's length."""
    if not 0 <= start_s < end_s <= DAY_SECONDS:
        msg = f"slot must satisfy 0 <= start < end <= {DAY_SECONDS} s, got [{start_s}, {end_s})"
        raise InvalidInputError(msg)
    lo = np.arange(24) * 3600
    overlap = np.clip(np.minimum(end_s, lo + 3600) - np.maximum(start_s, lo), 0, None)
    return overlap / float(end_s - start_s)


@dataclass(frozen=True, slots=True)
class LearningSettings:
    """How strongly the prior holds and how evidence spreads and fades.

    Parameters
    ----------
    strength
        Pseudo-visits of the segment prior per (day type, hour): how many visits it takes to move a customer's
        estimate half way from the prior to what the visits say.
    bandwidth_h
        Standard deviation of the Gaussian kernel over clock hours.
    reach_h
        No evidence further than this from the visit time (hours).
    half_life_days
        Evidence loses half its weight in this many days (people's lives change: a new job, weeks away).
    day_type_share
        ``share[i][j]``: the weight with which a visit on day type ``DAY_TYPES[i]`` informs ``DAY_TYPES[j]``.
    pool_strength
        Pseudo-visits of the time-use prior when the segment prior itself is learnt from all customers'
        evidence; ``None`` keeps the segment prior fixed.
    away_share
        Prior chance that a customer is away for a while (weeks away for work, a hospital stay): a second,
        customer-wide state in which P(home) is ``away_p_home`` at every hour. Outcomes update it by Bayes' rule
        (a run of ``not_home`` at hours when the customer is usually in makes it likely; any meeting ends it)
        and it fades back to ``away_share`` with ``away_half_life_days``. The hourly Betas then count an
        absence only as far as it is not explained by being away. ``None`` turns the state off.
    routine_share
        Prior chance that a customer's day of a given day type follows another routine than their segment's (see
        the module docstring); ``None`` keeps every customer on their segment's profile.
    """

    strength: float = 10.0
    bandwidth_h: float = 1.0
    reach_h: float = 3.0
    half_life_days: float = 21.0
    day_type_share: tuple[tuple[float, float, float], ...] = (
        (1.0, 0.1, 0.1),
        (0.1, 1.0, 0.7),
        (0.1, 0.7, 1.0),
    )
    pool_strength: float | None = 20.0
    away_share: float | None = 0.05
    away_half_life_days: float = 7.0
    away_p_home: float = 0.02
    routine_share: float | None = 0.2

    def __post_init__(self) -> None:
        if not (self.strength > 0 and self.bandwidth_h > 0 and self.reach_h >= 0 and self.half_life_days > 0):
            msg = f"learning settings must be positive: {self}"
            raise InvalidInputError(msg)
        share = np.asarray(self.day_type_share, dtype=np.float64)
        if share.shape != (len(DAY_TYPES), len(DAY_TYPES)) or (share < 0).any() or (share > 1).any():
            msg = f"day_type_share must be a {len(DAY_TYPES)}×{len(DAY_TYPES)} table of weights in [0, 1]"
            raise InvalidInputError(msg)
        if self.away_share is not None and not (0 < self.away_share < 1 and 0 <= self.away_p_home < 1):
            msg = f"away_share must lie in (0, 1) and away_p_home in [0, 1), got {self}"
            raise InvalidInputError(msg)
        if self.away_half_life_days <= 0:
            msg = f"away_half_life_days must be positive, got {self.away_half_life_days}"
            raise InvalidInputError(msg)
        if self.routine_share is not None and not 0 < self.routine_share < 1:
            msg = f"routine_share must lie in (0, 1) or be None, got {self.routine_share}"
            raise InvalidInputError(msg)
        if self.pool_strength is not None and self.pool_strength <= 0:
            msg = f"pool_strength must be positive or None, got {self.pool_strength}"
            raise InvalidInputError(msg)

    def kernel(self, hours: np.ndarray) -> np.ndarray:
        """Evidence weights ``(n, 24)`` of visits at fractional local hours ``hours`` (``(n,)``)."""
        d = _HOUR_CENTRES[None, :] - np.asarray(hours, dtype=np.float64)[:, None]
        w = np.exp(-0.5 * (d / self.bandwidth_h) ** 2)
        return np.where(np.abs(d) <= self.reach_h + 0.5, w, 0.0)


@dataclass(frozen=True, slots=True)
class Observation:
    """One visit outcome as the model needs it: who, what kind of day, when (local time) and what happened."""

    customer_id: str
    segment: str
    day_type: str
    visited_at: dt.datetime
    result: str
    key: str | None = None

    def __post_init__(self) -> None:
        if self.day_type not in DAY_TYPES:
            msg = f"unknown day type {self.day_type!r}"
            raise InvalidInputError(msg)
        if self.segment not in SEGMENTS:
            msg = f"unknown segment {self.segment!r}"
            raise InvalidInputError(msg)


@dataclass(slots=True)
class _Arrays:
    ids: list[str] = field(default_factory=list)
    segment: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    home: np.ndarray = field(default_factory=lambda: np.zeros((0, len(DAY_TYPES), 24)))
    away: np.ndarray = field(default_factory=lambda: np.zeros((0, len(DAY_TYPES), 24)))
    # Days since 1970-01-01 (UTC) up to which each customer's evidence has been decayed.
    as_of: np.ndarray = field(default_factory=lambda: np.zeros(0))
    visits: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # P(away for a while) as of ``as_of``.
    gone: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # Log-likelihood of each routine (customers, day types, routines), decayed like the evidence.
    routine: np.ndarray = field(default_factory=lambda: np.zeros((0, len(DAY_TYPES), 0)))


class PresenceModel:
    """P(home) per customer, day type and hour: the segment prior sharpened by each customer's visit outcomes.

    Parameters
    ----------
    prior
        The segment prior (``PresencePrior.load_default()`` in production).
    settings
        Prior strength, kernel, decay and day-type sharing.

    Examples
    --------
    >>> model = PresenceModel(PresencePrior.load_default())
    >>> model.update([Observation("P1", "employed", "workday", at, "not_home")])  # doctest: +SKIP
    >>> model.p_home("P1", "employed", "workday", 19)  # doctest: +SKIP
    """

    def __init__(self, prior: PresencePrior, settings: LearningSettings | None = None) -> None:
        self.prior = prior
        self.settings = settings or LearningSettings()
        # (segment, day type, hour) prior means; public holidays read the rest-day row.
        self._prior_mean = np.array([[prior.profile(s, d) for d in DAY_TYPES] for s in SEGMENTS], dtype=np.float64)
        self._n_routines = len(SEGMENTS) * len(_ROUTINE_KINDS)
        self._a = _Arrays(routine=np.zeros((0, len(DAY_TYPES), self._n_routines)))
        # Bumped whenever evidence or segments change: pooled means and routines are recomputed only then.
        self._version = 0
        self._cache: dict[str, tuple[int, Any]] = {}
        self._index: dict[str, int] = {}
        self.address_flags: dict[str, tuple[str, str]] = {}
        # Keys (outcome client ids) already learnt: replaying a history never counts a visit twice.
        self.learnt_keys: set[str] = set()

    # ------------------------------------------------------------------------------------------ customers

    def __len__(self) -> int:
        return len(self._a.ids)

    def __contains__(self, customer_id: object) -> bool:
        return customer_id in self._index

    @property
    def customer_ids(self) -> tuple[str, ...]:
        return tuple(self._a.ids)

    def ensure(self, customer_ids: Sequence[str], segments: Sequence[str]) -> np.ndarray:
        """Rows of these customers, adding unknown ones (with no evidence) and updating known ones' segment."""
        if len(customer_ids) != len(segments):
            raise InvalidInputError("customer_ids and segments must have the same length")
        seg_index = {s: i for i, s in enumerate(SEGMENTS)}
        bad = sorted({s for s in segments if s not in seg_index})
        if bad:
            msg = f"unknown segments {bad}"
            raise InvalidInputError(msg)
        new = [c for c in dict.fromkeys(customer_ids) if c not in self._index]
        if new:
            a = self._a
            start = len(a.ids)
            a.ids.extend(new)
            self._index.update({c: start + k for k, c in enumerate(new)})
            n = len(new)
            a.segment = np.concatenate([a.segment, np.zeros(n, dtype=np.int64)])
            a.home = np.concatenate([a.home, np.zeros((n, len(DAY_TYPES), 24))])
            a.away = np.concatenate([a.away, np.zeros((n, len(DAY_TYPES), 24))])
            a.as_of = np.concatenate([a.as_of, np.full(n, -np.inf)])
            a.visits = np.concatenate([a.visits, np.zeros(n, dtype=np.int64)])
            a.gone = np.concatenate([a.gone, np.full(n, self.settings.away_share or 0.0)])
            a.routine = np.concatenate([a.routine, np.zeros((n, len(DAY_TYPES), self._n_routines))])
        rows = np.array([self._index[c] for c in customer_ids], dtype=np.int64)
        self._a.segment[rows] = [seg_index[s] for s in segments]
        self._version += 1
        return rows

    # ------------------------------------------------------------------------------------------ learning

    def update(self, observations: Iterable[Observation]) -> int:
        """Learn from outcomes; returns how many carried presence evidence.

        Address outcomes (``wrong_address``, ``moved``) set ``address_flags[customer_id]`` to
        ``(result, visited_at ISO)`` and leave presence alone; ``other`` is ignored. An observation whose
        ``key`` was learnt before is skipped.
        """
        obs = [o for o in observations if o.key is None or o.key not in self.learnt_keys]
        self.learnt_keys.update(o.key for o in obs if o.key is not None)
        for o in obs:
            if o.result in ADDRESS_RESULTS:
                self.address_flags[o.customer_id] = (o.result, o.visited_at.isoformat())
        obs = [o for o in obs if o.result in HOME_RESULTS or o.result in ABSENT_RESULTS]
        if not obs:
            return 0
        for o in obs:
            if o.visited_at.tzinfo is None:
                msg = f"outcome of {o.customer_id} at {o.visited_at}: visited_at needs a UTC offset"
                raise InvalidInputError(msg)
        rows = self.ensure([o.customer_id for o in obs], [o.segment for o in obs])
        t = np.array([o.visited_at.timestamp() / DAY_SECONDS for o in obs])
        local_hour = np.array([o.visited_at.hour + o.visited_at.minute / 60 + o.visited_at.second / 3600 for o in obs])
        day = np.array([DAY_TYPES.index(o.day_type) for o in obs], dtype=np.int64)
        home = np.array([o.result in HOME_RESULTS for o in obs])
        self.add_evidence(rows, day, local_hour, t, home)
        return len(obs)

    def add_evidence(
        self, rows: np.ndarray, day_type: np.ndarray, local_hour: np.ndarray, t_days: np.ndarray, home: np.ndarray
    ) -> None:
        """The vectorised core of ``update``: evidence of visits given as parallel arrays.

        Parameters
        ----------
        rows
            Customer rows (from ``ensure``).
        day_type
            Index into ``DAY_TYPES`` of each visit's day.
        local_hour
            Fractional local clock hour of each visit (19.25 = 19:15).
        t_days
            Absolute time of each visit in days (for decay).
        home
            True when the customer was found at home.
        """
        st = self.settings
        rows = np.asarray(rows, dtype=np.int64)
        day_type = np.asarray(day_type, dtype=np.int64)
        local_hour = np.asarray(local_hour, dtype=np.float64)
        t_days = np.asarray(t_days, dtype=np.float64)
        home = np.asarray(home, dtype=bool)
        share = np.asarray(st.day_type_share, dtype=np.float64)
        # Visits of one customer are learnt in time order; each round takes at most one visit per customer, so
        # a batch gives exactly what one-by-one updates give.
        order = np.lexsort((t_days, rows))
        rank = np.empty(rows.size, dtype=np.int64)
        sorted_rows = rows[order]
        first = np.r_[True, sorted_rows[1:] != sorted_rows[:-1]]
        start = np.maximum.accumulate(np.where(first, np.arange(rows.size), 0))
        rank[order] = np.arange(rows.size) - start
        for r in range(int(rank.max()) + 1 if rows.size else 0):
            pick = rank == r
            self._learn_round(rows[pick], day_type[pick], local_hour[pick], t_days[pick], home[pick], share)

    def _learn_round(
        self,
        rows: np.ndarray,
        day_type: np.ndarray,
        local_hour: np.ndarray,
        t_days: np.ndarray,
        home: np.ndarray,
        share: np.ndarray,
    ) -> None:
        """One visit each for distinct customers ``rows``."""
        a, st = self._a, self.settings
        newest = np.maximum(a.as_of[rows], t_days)
        age = newest - a.as_of[rows]
        factor = np.where(np.isfinite(age), 0.5 ** (np.maximum(age, 0.0) / st.half_life_days), 1.0)
        self._version += 1
        a.home[rows] *= factor[:, None, None]
        a.away[rows] *= factor[:, None, None]
        a.routine[rows] *= factor[:, None, None]
        decay = 0.5 ** ((newest - t_days) / st.half_life_days)
        weight = share[day_type][:, :, None] * st.kernel(local_hour)[:, None, :] * decay[:, None, None]
        absent_weight = np.ones(rows.size)
        if st.away_share is not None:
            pi0, eps = st.away_share, st.away_p_home
            relax = np.where(np.isfinite(age), 0.5 ** (np.maximum(age, 0.0) / st.away_half_life_days), 0.0)
            pi = pi0 + (a.gone[rows] - pi0) * relax
            a.as_of[rows] = newest
            hour = np.clip(local_hour.astype(np.int64), 0, 23)
            p = self._normal_mean_at(rows, day_type, hour)
            like_away = np.where(home, eps, 1.0 - eps)
            like_normal = np.where(home, p, 1.0 - p)
            post = pi * like_away / np.maximum(pi * like_away + (1.0 - pi) * like_normal, 1e-12)
            a.gone[rows] = post
            # An absence counts against this hour only as far as being away does not explain it.
            absent_weight = 1.0 - post
        a.as_of[rows] = newest
        if st.routine_share is not None:
            self._reweigh_routines(rows, day_type, local_hour, home, absent_weight, share)
        a.home[rows[home]] += weight[home]
        a.away[rows[~home]] += weight[~home] * absent_weight[~home, None, None]
        a.visits[rows] += 1
        self._version += 1

    def _reweigh_routines(
        self,
        rows: np.ndarray,
        day_type: np.ndarray,
        local_hour: np.ndarray,
        home: np.ndarray,
        absent_weight: np.ndarray,
        share: np.ndarray,
    ) -> None:
        """Bayes' rule over the routines: each is credited with how well it predicted this visit.

        The prediction is routine ``k``'s posterior mean at the visit's hour given the customer's evidence so far,
        so the weights follow the sequential marginal likelihood; a visit informs other day types by
        ``day_type_share`` (a tempered likelihood), and an absence explained by being away counts less.
        """
        a, s = self._a, self.settings.strength
        curves, _ = self.routines()
        hour = np.clip(local_hour.astype(np.int64), 0, 23)
        h_ev = a.home[rows, day_type, hour][:, None]
        a_ev = a.away[rows, day_type, hour][:, None]
        pred = (s * curves[a.segment[rows], day_type, :, hour] + h_ev) / (s + h_ev + a_ev)  # (n, routines)
        pred = np.clip(pred, 1e-4, 1.0 - 1e-4)
        loglik = np.where(home[:, None], np.log(pred), absent_weight[:, None] * np.log1p(-pred))
        a.routine[rows] += share[day_type][:, :, None] * loglik[:, None, :]

    # ------------------------------------------------------------------------------------------ estimates

    def _cached(self, name: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per state of the evidence (results are shared: callers must not write to them)."""
        hit = self._cache.get(name)
        if hit is None or hit[0] != self._version:
            hit = (self._version, compute())
            self._cache[name] = hit
        return hit[1]

    def segment_means(self) -> np.ndarray:
        """The segment prior ``(segment, day type, hour)``, learnt from all customers when pooling is on."""
        means: np.ndarray = self._cached("segment_means", self._pooled_means).copy()
        return means

    def _pooled_means(self) -> np.ndarray:
        st, a = self.settings, self._a
        if st.pool_strength is None or not len(a.ids):
            return self._prior_mean.copy()
        # Evidence summed per segment, a mask each (np.add.at is slow on many rows).
        home, away = np.zeros_like(self._prior_mean), np.zeros_like(self._prior_mean)
        for j in np.unique(a.segment):
            members = a.segment == j
            home[j], away[j] = a.home[members].sum(axis=0), a.away[members].sum(axis=0)
        s0 = st.pool_strength
        return (s0 * self._prior_mean + home) / (s0 + home + away)

    def routines(self) -> tuple[np.ndarray, np.ndarray]:
        """The routine library as each segment sees it, and the prior weights of its routines (shared arrays:
        read only).

        Returns
        -------
        curves
            ``(segments, day types, routines, hours)``: P(home) under routine ``k`` for a customer of segment ``j``
            on day type ``d``. Routine ``k`` is segment ``k // 2``'s profile on ``_ROUTINE_KINDS[k % 2]``, except
            a customer's own routine, which is their segment's *typical member*: the profile that, mixed with the
            others at the prior weights, gives back the segment profile (clipped to [0.005, 0.995], so a segment
            almost always in cannot give it back exactly; ``_prior_means`` anchors on the profile for that).
        log_prior
            ``(segments, day types, routines)`` log prior weights: ``1 − routine_share`` on the own routine.
        """
        result: tuple[np.ndarray, np.ndarray] = self._cached("routines", self._routine_library)
        return result

    def _routine_library(self) -> tuple[np.ndarray, np.ndarray]:
        share = self.settings.routine_share
        seg = self.segment_means()
        n_seg, n_k = len(SEGMENTS), self._n_routines
        kinds = [DAY_TYPES.index(k) for k in _ROUTINE_KINDS]
        library = seg[:, kinds, :].reshape(n_k, 24)
        curves = np.broadcast_to(library, (n_seg, len(DAY_TYPES), n_k, 24)).copy()
        if share is None:
            return curves, np.zeros((n_seg, len(DAY_TYPES), n_k))
        own = self._own_routine()
        j, d = np.indices(own.shape)
        alt_mean = (library.sum(axis=0)[None, None, :] - library[own]) / (n_k - 1)
        curves[j, d, own] = np.clip((seg - share * alt_mean) / (1.0 - share), 0.005, 0.995)
        log_prior = np.full((n_seg, len(DAY_TYPES), n_k), np.log(share / (n_k - 1)))
        log_prior[j, d, own] = np.log(1.0 - share)
        return curves, log_prior

    def _own_routine(self) -> np.ndarray:
        """``(segments, day types)``: the routine index of a segment's own profile on each day type."""
        kind = [0 if d == _ROUTINE_KINDS[0] else 1 for d in DAY_TYPES]
        return np.arange(len(SEGMENTS))[:, None] * len(_ROUTINE_KINDS) + np.array(kind)[None, :]

    def routine_weights(self, rows: np.ndarray, decay: np.ndarray | None = None) -> np.ndarray:
        """Posterior weights of the routines, ``(len(rows), day types, routines)``; ``decay`` ``(len(rows),)``
        scales each customer's evidence (its fading since their newest visit)."""
        _, log_prior = self.routines()
        loglik = self._a.routine[rows]
        if decay is not None:
            loglik = loglik * decay[:, None, None]
        logw = log_prior[self._a.segment[rows]] + loglik
        w = np.exp(logw - logw.max(axis=-1, keepdims=True))
        return w / w.sum(axis=-1, keepdims=True)

    def _prior_means(self, rows: np.ndarray, decay: np.ndarray | None = None) -> np.ndarray:
        """Each customer's prior mean ``(len(rows), day types, hours)``; ``decay`` as in ``routine_weights``.

        With routines: the segment profile moved by how far the customer's routine weights have moved from their
        prior weights (Σ_k (w_k − w⁰_k) · curve_k), so a customer without evidence keeps the profile exactly.
        """
        seg = self._a.segment[rows]
        means = self.segment_means()[seg]
        if self.settings.routine_share is None:
            return means
        curves, log_prior = self.routines()
        moved = self.routine_weights(rows, decay) - np.exp(log_prior[seg])
        # One segment at a time: never a (customers, day types, routines, hours) array.
        for j in np.unique(seg):
            pick = seg == j
            means[pick] += np.einsum("ndk,dkh->ndh", moved[pick], curves[j])
        return np.asarray(np.clip(means, 0.001, 0.999))

    def posterior(self, rows: np.ndarray | None = None, at: dt.datetime | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Beta parameters ``(alpha, beta)``, each ``(customers, day types, hours)``.

        Parameters
        ----------
        rows
            Customer rows (default: all).
        at
            Decay the evidence up to this time (default: as of each customer's newest visit).
        """
        a, st = self._a, self.settings
        rows = np.arange(len(a.ids)) if rows is None else np.asarray(rows, dtype=np.int64)
        home, away = a.home[rows], a.away[rows]
        factor = None
        if at is not None:
            age = at.timestamp() / DAY_SECONDS - a.as_of[rows]
            factor = np.where(np.isfinite(age), 0.5 ** (np.maximum(age, 0.0) / st.half_life_days), 1.0)
            home, away = home * factor[:, None, None], away * factor[:, None, None]
        m = self._prior_means(rows, factor)
        s = st.strength
        return s * m + home, s * (1.0 - m) + away

    def _normal_mean_at(self, rows: np.ndarray, day_type: np.ndarray, hour: np.ndarray) -> np.ndarray:
        """P(home) when not away, at one (day type, hour) per row: ``_prior_means`` and ``posterior`` evaluated at
        those cells only, without the whole day's arrays (the learning loop asks for nothing else)."""
        a, s = self._a, self.settings.strength
        seg = a.segment[rows]
        m = self.segment_means()[seg, day_type, hour]
        if self.settings.routine_share is not None:
            curves, log_prior = self.routines()
            n = np.arange(rows.size)
            moved = self.routine_weights(rows)[n, day_type] - np.exp(log_prior[seg, day_type])
            m = np.clip(m + (moved * curves[seg, day_type, :, hour]).sum(axis=-1), 0.001, 0.999)
        h_ev, a_ev = a.home[rows, day_type, hour], a.away[rows, day_type, hour]
        return np.asarray((s * m + h_ev) / (s + h_ev + a_ev))

    def away_probability(self, rows: np.ndarray | None = None, at: dt.datetime | None = None) -> np.ndarray:
        """P(the customer is away for a while), ``(customers,)``; zeros when the away state is off."""
        a, st = self._a, self.settings
        rows = np.arange(len(a.ids)) if rows is None else np.asarray(rows, dtype=np.int64)
        if st.away_share is None:
            return np.zeros(rows.size)
        pi0 = st.away_share
        if at is None:
            return a.gone[rows].copy()
        age = at.timestamp() / DAY_SECONDS - a.as_of[rows]
        relax = np.where(np.isfinite(age), 0.5 ** (np.maximum(age, 0.0) / st.away_half_life_days), 0.0)
        return np.asarray(pi0 + (a.gone[rows] - pi0) * relax)

    def mean(self, rows: np.ndarray | None = None, at: dt.datetime | None = None) -> np.ndarray:
        """Posterior mean P(home) ``(customers, day types, hours)``: present or away for a while."""
        alpha, beta = self.posterior(rows, at)
        present = alpha / (alpha + beta)
        st = self.settings
        if st.away_share is None:
            return present
        # The time-use prior already holds the usual share of people away (away_share); only the excess over it
        # pulls P(home) towards away_p_home, so a customer without evidence keeps the prior exactly.
        pi = self.away_probability(rows, at)[:, None, None]
        excess = np.clip((pi - st.away_share) / (1.0 - st.away_share), 0.0, 1.0)
        return np.asarray((1.0 - excess) * present + excess * st.away_p_home)

    def p_home(self, customer_id: str, segment: str, day_type: str, hour: int) -> float:
        """P(home) of one customer in one clock hour; a customer without evidence gets the segment's value."""
        return float(self.profiles([customer_id], [segment])[0, DAY_TYPES.index(day_type), hour])

    def profiles(
        self, customer_ids: Sequence[str], segments: Sequence[str], at: dt.datetime | None = None
    ) -> np.ndarray:
        """``(len(customer_ids), day types, hours)`` P(home), without adding unknown customers to the model."""
        seg_index = {s: i for i, s in enumerate(SEGMENTS)}
        try:
            seg = np.array([seg_index[s] for s in segments], dtype=np.int64)
        except KeyError as exc:
            msg = f"unknown segment {exc.args[0]!r}"
            raise InvalidInputError(msg) from exc
        out = self.segment_means()[seg]
        known = [(k, self._index[c]) for k, c in enumerate(customer_ids) if c in self._index]
        if known:
            pos, rows = (np.array(x, dtype=np.int64) for x in zip(*known, strict=True))
            out[pos] = self.mean(rows, at)
        return out

    def for_cases(self, cases: Sequence[Case], at: dt.datetime | None = None) -> CasePresence:
        """A ``PresenceSource`` for the pre-solve pass over these cases (one vectorised look-up for all)."""
        table = self.profiles([c.customer_id for c in cases], [c.segment for c in cases], at)
        return CasePresence({c.customer_id: k for k, c in enumerate(cases)}, table, self.prior)

    def summary(self, customer_id: str, segment: str, at: dt.datetime | None = None) -> dict[str, Any]:
        """What ``GET /v1/customers/{id}/presence`` answers: P(home) and evidence by day type and hour."""
        p = self.profiles([customer_id], [segment], at)[0]
        if customer_id in self._index:
            row = self._index[customer_id]
            home, away, visits = self._a.home[row], self._a.away[row], int(self._a.visits[row])
        else:
            home = away = np.zeros((len(DAY_TYPES), 24))
            visits = 0
        flag = self.address_flags.get(customer_id)
        if customer_id in self._index:
            gone = float(self.away_probability(np.array([self._index[customer_id]]), at)[0])
        else:
            gone = self.settings.away_share or 0.0
        routine = self._likeliest_routines(customer_id, segment)
        return {
            "customer_id": customer_id,
            "segment": segment,
            "visits": visits,
            "away_probability": round(gone, 4),
            "address_flag": None if flag is None else {"result": flag[0], "at": flag[1]},
            "day_types": {
                d: {
                    "p_home": [round(float(x), 4) for x in p[i]],
                    "evidence_home": [round(float(x), 3) for x in home[i]],
                    "evidence_away": [round(float(x), 3) for x in away[i]],
                    "routine": routine[i],
                }
                for i, d in enumerate(DAY_TYPES)
            },
        }

    def _likeliest_routines(self, customer_id: str, segment: str) -> list[dict[str, Any] | None]:
        """Per day type, the routine the customer most likely keeps: whose profile, of which day kind, how sure."""
        if self.settings.routine_share is None:
            return [None] * len(DAY_TYPES)
        if customer_id in self._index:
            weights = self.routine_weights(np.array([self._index[customer_id]]))[0]
        else:
            weights = np.exp(self.routines()[1][SEGMENTS.index(segment)])
        best = weights.argmax(axis=-1)
        return [
            {
                "segment": SEGMENTS[int(k) // len(_ROUTINE_KINDS)],
                "day_kind": _ROUTINE_KINDS[int(k) % len(_ROUTINE_KINDS)],
                "weight": round(float(weights[i, k]), 3),
            }
            for i, k in enumerate(best)
        ]

    # ------------------------------------------------------------------------------------------ store

    def save(self, path: str | Path) -> None:
        """Write the model to one ``.npz`` file (atomically: a crash never leaves half a store)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        a = self._a
        meta = {
            "version": _STORE_VERSION,
            "settings": asdict(self.settings),
            "address_flags": self.address_flags,
            "learnt_keys": sorted(self.learnt_keys),
            "segments": list(SEGMENTS),
            "day_types": list(DAY_TYPES),
        }
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez_compressed(
                    fh,
                    ids=np.array(a.ids, dtype=str),
                    segment=a.segment,
                    home=a.home,
                    away=a.away,
                    as_of=a.as_of,
                    visits=a.visits,
                    gone=a.gone,
                    routine=a.routine,
                    meta=np.array(json.dumps(meta)),
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | Path, prior: PresencePrior, settings: LearningSettings | None = None) -> PresenceModel:
        """Read a model written by ``save``; ``settings`` overrides the stored ones."""
        with np.load(Path(path), allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("version") not in (1, _STORE_VERSION) or meta.get("day_types") != list(DAY_TYPES):
                msg = f"{path}: presence store version {meta.get('version')} is not readable by this version"
                raise InvalidInputError(msg)
            if meta.get("segments") != list(SEGMENTS):
                msg = f"{path}: presence store was written with other segments {meta.get('segments')}"
                raise InvalidInputError(msg)
            stored = meta["settings"]
            stored["day_type_share"] = tuple(tuple(r) for r in stored["day_type_share"])
            model = cls(prior, settings or LearningSettings(**stored))
            a = model._a
            a.ids = [str(x) for x in z["ids"]]
            a.segment = z["segment"].astype(np.int64)
            a.home, a.away = z["home"].astype(np.float64), z["away"].astype(np.float64)
            a.as_of, a.visits = z["as_of"].astype(np.float64), z["visits"].astype(np.int64)
            a.gone = z["gone"].astype(np.float64)
            # Version 1 stores had no routines: every customer starts from the routine prior.
            shape = (len(a.ids), len(DAY_TYPES), model._n_routines)
            a.routine = z["routine"].astype(np.float64) if "routine" in z.files else np.zeros(shape)
        model._index = {c: k for k, c in enumerate(a.ids)}
        model.address_flags = {k: (v[0], v[1]) for k, v in meta["address_flags"].items()}
        model.learnt_keys = set(meta.get("learnt_keys", []))
        return model


class CasePresence:
    """P(home) of a fixed set of customers, looked up by case: the ``PresenceSource`` the planner uses."""

    def __init__(self, row_of: Mapping[str, int], table: np.ndarray, fallback: PresencePrior) -> None:
        self._row_of = dict(row_of)
        self._table = table
        self._fallback = fallback

    def case_slot_p_home(self, case: Case, day_type: str, start_s: int, end_s: int) -> float:
        row = self._row_of.get(case.customer_id)
        if row is None:
            return self._fallback.slot_p_home(case.segment, day_type, start_s, end_s)
        if day_type not in DAY_TYPES:
            msg = f"unknown day type {day_type!r}; expected one of {', '.join(DAY_TYPES)}"
            raise InvalidInputError(msg)
        return float(hour_overlap(start_s, end_s) @ self._table[row, DAY_TYPES.index(day_type)])
