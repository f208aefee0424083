"""The best any presence learner could do in ``doorstep simulate``: a Bayes learner that knows how the truth is made.

``IdealLearner`` is told everything about the simulated population except what a real model must learn per
customer: it knows the segment profiles, the personas' shapes and shares (``api.simulate.persona_shapes``), the laws
of the personal offsets (logit N(0, 0.5) per customer plus N(0, 0.25) per day type) and, as a gift, the days
each customer is away. Its posterior over (persona, offset, day-type offset) is exact up to a grid (21 × 11
points); its P(home) is the posterior mean. Taught the same visits' outcomes as any policy, no learner can
predict better on average, so its figures bound the issue's targets from above: where it misses one, the target is
out of reach for any model in this set-up, not only for ours.

Used by ``bench_presence.py --ideal``; not part of the product.
"""

from __future__ import annotations

import numpy as np

from api.simulate import ABSENT_P, PERSONA_SHARES, PERSONAS, Population, _logit, _sigmoid, persona_shapes
from routing.model import SEGMENTS
from routing.presence import DAY_TYPES, PresencePrior

H = 3600
OFFSET_SD, DAY_OFFSET_SD = 0.5, 0.25
U = np.linspace(-4 * OFFSET_SD, 4 * OFFSET_SD, 21)
V = np.linspace(-4 * DAY_OFFSET_SD, 4 * DAY_OFFSET_SD, 11)


def _normal_weights(grid: np.ndarray, sd: float) -> np.ndarray:
    w = np.exp(-0.5 * (grid / sd) ** 2)
    return np.asarray(w / w.sum())


class IdealLearner:
    """Exact Bayes over each customer's persona and offsets (see the module docstring)."""

    def __init__(self, population: Population, prior: PresencePrior) -> None:
        table = np.array([[prior.profile(s, d) for d in DAY_TYPES] for s in SEGMENTS])
        shapes = persona_shapes(table)  # (segments, personas, day types, 24)
        # p[segment, persona, day type, u, v, hour]
        self._p = _sigmoid(
            _logit(shapes)[:, :, :, None, None, :] + U[None, None, None, :, None, None]
            + V[None, None, None, None, :, None]
        )  # fmt: skip
        self._seg = np.array([SEGMENTS.index(c.segment) for c in population.cases])
        self._away = population.away
        shares = [1.0 - sum(PERSONA_SHARES.values()), *(PERSONA_SHARES[p] for p in PERSONAS[1:])]
        self._log_prior = np.log(shares)[:, None] + np.log(_normal_weights(U, OFFSET_SD))[None, :]  # (personas, U)
        self._log_wv = np.log(_normal_weights(V, DAY_OFFSET_SD))
        # Log-likelihood of the visits so far: (customers, personas, day types, U, V).
        self._ll = np.zeros((self._seg.size, len(PERSONAS), len(DAY_TYPES), U.size, V.size))

    def learn(self, day: int, day_type: int, rows: np.ndarray, start_s: np.ndarray, home: np.ndarray) -> None:
        present = ~self._away[rows, day]  # away days teach nothing about a person's hours
        rows, hour, home = rows[present], (start_s[present] // H).astype(np.int64), home[present]
        p = self._p[self._seg[rows], :, day_type, :, :, hour]  # (visits, personas, U, V)
        self._ll[rows, :, day_type] += np.where(home[:, None, None, None], np.log(p), np.log1p(-p))

    def view(self, day: int, day_type: int) -> np.ndarray:
        ll = self._ll + self._log_wv
        top = ll.max(axis=-1, keepdims=True)
        # log Σ_v w_v L(v) per (customer, persona, day type, u): the day-type offsets integrate out one by one.
        log_z = top[..., 0] + np.log(np.exp(ll - top).sum(axis=-1))
        joint = self._log_prior[None] + log_z.sum(axis=2)  # (customers, personas, U)
        joint = np.exp(joint - joint.max(axis=(1, 2), keepdims=True))
        joint /= joint.sum(axis=(1, 2), keepdims=True)
        post_v = np.exp(ll[:, :, day_type] - top[:, :, day_type])
        post_v /= post_v.sum(axis=-1, keepdims=True)
        weight = joint[..., None] * post_v  # (customers, personas, U, V)
        p = np.empty((self._seg.size, 24))
        for j in np.unique(self._seg):  # one segment at a time: no (customers, ..., hours) array
            pick = self._seg == j
            p[pick] = np.einsum("cpuv,puvh->ch", weight[pick], self._p[j, :, day_type])
        return np.asarray(np.where(self._away[:, day, None], ABSENT_P, p))
