"""The best any presence learner could do in ``doorstep simulate``: a Bayes learner that knows how the truth is made.

``IdealLearner`` is told everything about the simulated population except what a real model must learn per
customer: it knows the segment profiles, the personas' shapes and shares (``api.simulate.persona_shapes``), the
laws of the personal offsets (logit N(0, 0.5) per customer plus N(0, 0.25) per day type) and the law of the away
blocks (one block of 7–21 days starting uniformly from a week before the run to its fourth week's end). Its
posterior over (persona, away block, offset, day-type offsets) is exact up to a grid (21 × 11 offsets, every
block); its P(home) is the posterior mean. Taught the same visits' outcomes as any policy, no learner can predict
better on average, so its figures bound the issue's targets: where it misses one, the target is out of reach for
any model in this set-up, not only for ours.

``IdealLearner.told_away`` is the same learner also *told* the days each customer is away: a looser bound, and a
measure of what knowing absences in advance is worth.

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
AWAY = PERSONAS.index("away")
# hidden_truth's block law: first day uniform in [-7, max(28, days)), length uniform in [7, 22).
BLOCK_LENGTHS = np.arange(7, 22)


def _normal_weights(grid: np.ndarray, sd: float) -> np.ndarray:
    w = np.exp(-0.5 * (grid / sd) ** 2)
    return np.asarray(w / w.sum())


def _log_sum_exp(x: np.ndarray, axis: int) -> np.ndarray:
    top = x.max(axis=axis, keepdims=True)
    return np.asarray(np.squeeze(top, axis) + np.log(np.exp(x - top).sum(axis=axis)))


class IdealLearner:
    """Exact Bayes over each customer's persona, away block and offsets (see the module docstring)."""

    def __init__(self, population: Population, prior: PresencePrior, told_away: bool = False) -> None:
        table = np.array([[prior.profile(s, d) for d in DAY_TYPES] for s in SEGMENTS])
        # p[segment, persona, day type, u, v, hour]; the away persona is typical when not away.
        self._p = _sigmoid(
            _logit(persona_shapes(table))[:, :, :, None, None, :] + U[None, None, None, :, None, None]
            + V[None, None, None, None, :, None]
        )  # fmt: skip
        self._seg = np.array([SEGMENTS.index(c.segment) for c in population.cases])
        self._told = population.away if told_away else None
        n_days = population.away.shape[1]
        first = np.arange(-7, max(28, n_days))
        self._blocks = np.array([(f, f + n) for f in first for n in BLOCK_LENGTHS])  # [first, end)
        shares = [1.0 - sum(PERSONA_SHARES.values()), *(PERSONA_SHARES[p] for p in PERSONAS[1:])]
        self._log_share = np.log(shares)
        self._log_wu = np.log(_normal_weights(U, OFFSET_SD))
        self._log_wv = np.log(_normal_weights(V, DAY_OFFSET_SD))
        # Log-likelihood of each customer's visits when at home as usual: (customers, personas, day types, U, V).
        self._ll = np.zeros((self._seg.size, len(PERSONAS), len(DAY_TYPES), U.size, V.size))
        # Each customer's visits (day, day type, log-lik as usual (U, V), log-lik if away) for the block posterior.
        self._visits: list[list[tuple[int, int, np.ndarray, float]]] = [[] for _ in range(self._seg.size)]

    @classmethod
    def told_away_days(cls, population: Population, prior: PresencePrior) -> IdealLearner:
        """The learner that is also told on which days each customer is away."""
        return cls(population, prior, told_away=True)

    def learn(self, day: int, day_type: int, rows: np.ndarray, start_s: np.ndarray, home: np.ndarray) -> None:
        if self._told is not None:  # told the away days: those visits teach nothing about a person's hours
            keep = ~self._told[rows, day]
            rows, start_s, home = rows[keep], start_s[keep], home[keep]
        hour = (start_s // H).astype(np.int64)
        p = self._p[self._seg[rows], :, day_type, :, :, hour]  # (visits, personas, U, V)
        ll = np.where(home[:, None, None, None], np.log(p), np.log1p(-p))
        self._ll[rows, :, day_type] += ll
        if self._told is None:
            ll_gone = np.where(home, np.log(ABSENT_P), np.log1p(-ABSENT_P))
            for r, v_ll, g_ll in zip(rows, ll[:, AWAY], ll_gone, strict=True):
                self._visits[int(r)].append((day, day_type, v_ll, float(g_ll)))

    def view(self, day: int, day_type: int) -> np.ndarray:
        ll = self._ll + self._log_wv  # (C, P, D, U, V)
        log_z = _log_sum_exp(ll, axis=-1)  # (C, P, D, U): the day-type offsets integrate out one by one
        joint = self._log_share[None, :, None] + self._log_wu + log_z.sum(axis=2)  # (C, P, U)
        post_v = np.exp(ll[:, :, day_type] - ll[:, :, day_type].max(axis=-1, keepdims=True))
        post_v /= post_v.sum(axis=-1, keepdims=True)  # (C, P, U, V)
        p = np.empty((self._seg.size, 24))
        others = np.delete(np.arange(len(PERSONAS)), AWAY)
        n_other = others.size * U.size
        for c in range(self._seg.size):
            seg = self._seg[c]
            curves = np.einsum("puv,puvh->puh", post_v[c], self._p[seg, :, day_type])  # (P, U, 24)
            if self._told is not None:
                w = np.exp(joint[c] - joint[c].max())
                p[c] = np.einsum("pu,puh->h", w, curves) / w.sum()
                continue
            # The away persona: its usual-hours hypotheses are replaced by (block, u) ones.
            block_joint, block_curve = self._away_blocks(c, day, day_type)
            logs = np.concatenate([joint[c, others].ravel(), block_joint.ravel()])
            w = np.exp(logs - logs.max())
            w /= w.sum()
            p[c] = w[:n_other] @ curves[others].reshape(n_other, 24) + w[n_other:] @ block_curve.reshape(-1, 24)
        if self._told is not None:
            p = np.where(self._told[:, day, None], ABSENT_P, p)
        return p

    def _away_blocks(self, c: int, day: int, day_type: int) -> tuple[np.ndarray, np.ndarray]:
        """Log joint ``(blocks, U)`` of the away persona's hypotheses and their P(home) ``(blocks, U, 24)`` today."""
        first, end = self._blocks[:, 0], self._blocks[:, 1]
        log_block = self._log_share[AWAY] - np.log(len(self._blocks)) + self._log_wu[None, :]
        ll_v = np.zeros((len(self._blocks), len(DAY_TYPES), U.size, V.size))
        for d in range(len(DAY_TYPES)):
            visits = [v for v in self._visits[c] if v[1] == d]
            if not visits:
                continue
            days = np.array([v[0] for v in visits])
            usual = np.stack([v[2] for v in visits]).reshape(len(visits), -1)  # (n, U·V)
            gone = np.array([v[3] for v in visits])
            inside = ((days[None, :] >= first[:, None]) & (days[None, :] < end[:, None])).astype(float)
            ll_v[:, d] = (inside @ gone[:, None] + (1.0 - inside) @ usual).reshape(-1, U.size, V.size)
        ll_v += self._log_wv
        log_joint = log_block + _log_sum_exp(ll_v, axis=-1).sum(axis=1)  # (blocks, U)
        today = ll_v[:, day_type]
        post_v = np.exp(today - today.max(axis=-1, keepdims=True))
        post_v /= post_v.sum(axis=-1, keepdims=True)  # (blocks, U, V)
        usual_p = np.einsum("buv,uvh->buh", post_v, self._p[self._seg[c], AWAY, day_type])
        away_today = (day >= first) & (day < end)
        return log_joint, np.where(away_today[:, None, None], ABSENT_P, usual_p)
