"""The presence model the API plans with: the segment prior taught by every outcome stored in the database.

The outcomes table stays the single source of truth. Each server process keeps one model and catches it up with
the outcomes stored since it last looked (by row id), so a plan, a re-plan and ``GET /v1/customers/{id}/presence``
all read the same learnt P(home), and several processes agree because they all learn from the same table.
Segment pooling learns from every customer, so the model covers all customers with outcomes, not just a day's.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from api.db import CaseRow, Database, OutcomeRow, PresenceEvidence
from api.errors import NotFoundError
from routing.learning import LearningSettings, Observation, PresenceModel
from routing.model import SEGMENTS
from routing.presence import DAY_TYPES, PresencePrior

__all__ = ["LearntPresence", "presence_answer"]

# Outcomes read per query while catching up (bounds memory on a first load of a large store).
_BATCH = 20_000


class LearntPresence:
    """One process's presence model, caught up with the outcomes table on every use.

    Parameters
    ----------
    db
        The store whose ``outcomes`` table teaches the model.
    prior
        The segment prior the model starts from.
    timezone
        The deployment's zone: visit times are learnt as local clock hours.
    settings
        The model's strength, kernel, decay and away state (``routing.learning`` defaults).
    """

    def __init__(
        self, db: Database, prior: PresencePrior, timezone: str, settings: LearningSettings | None = None
    ) -> None:
        self._db = db
        self._zone = ZoneInfo(timezone)
        self._model = PresenceModel(prior, settings)
        self._last_id = 0
        self._lock = threading.Lock()

    @property
    def prior(self) -> PresencePrior:
        return self._model.prior

    def snapshot(self) -> PresenceModel:
        """A private copy of the model after every outcome stored so far (safe to use while others learn)."""
        with self._lock:
            self._catch_up()
            return copy.deepcopy(self._model)

    def summary(self, customer_id: str, segment: str, at: dt.datetime | None = None) -> dict[str, Any]:
        """``PresenceModel.summary`` of one customer, after every outcome stored so far."""
        with self._lock:
            self._catch_up()
            return self._model.summary(customer_id, segment, at)

    def _catch_up(self) -> None:
        while True:
            with self._db.read() as s:
                rows = s.execute(
                    select(
                        OutcomeRow.id,
                        OutcomeRow.customer_id,
                        OutcomeRow.day_type,
                        OutcomeRow.visited_at,
                        OutcomeRow.result,
                        CaseRow.record,
                        OutcomeRow.payload["address_kind"].as_string(),
                    )
                    .join(CaseRow, CaseRow.case_id == OutcomeRow.case_id)
                    .where(OutcomeRow.id > self._last_id)
                    .order_by(OutcomeRow.id)
                    .limit(_BATCH)
                ).all()
            if not rows:
                return
            self._last_id = rows[-1][0]
            self._model.update(
                # No keys: the table's unique client ids and the id cursor already learn each outcome once.
                Observation(customer, segment, kind, _local(at, self._zone), result)
                for _id, customer, kind, at, result, record, address_kind in rows
                # Only visits at home teach P(home) (and flag the home address).
                if (segment := str(record.get("segment") or "")) in SEGMENTS
                and kind in DAY_TYPES
                and address_kind in (None, "home")
            )
            if len(rows) < _BATCH:
                return


def presence_answer(db: Database, customer_id: str, learnt: LearntPresence) -> dict[str, Any]:
    """``GET /v1/customers/{id}/presence``: the learnt P(home) beside the segment prior and the raw visit counts."""
    with db.read() as s:
        record = s.scalar(select(CaseRow.record).where(CaseRow.customer_id == customer_id).limit(1))
        if record is None:
            msg = f"unknown customer {customer_id!r}"
            raise NotFoundError(msg)
        counts = {
            (e.day_type, e.hour): (e.home, e.away)
            for e in s.scalars(select(PresenceEvidence).where(PresenceEvidence.customer_id == customer_id))
        }
    segment = str(record.get("segment") or "unknown")
    now = dt.datetime.now(dt.UTC)
    learnt_now = learnt.summary(customer_id, segment, at=now) if segment in SEGMENTS else None
    prior = learnt.prior
    hours = []
    for kind in DAY_TYPES:
        for hour in range(24):
            p0 = prior.p_home(segment, kind, hour) if segment in SEGMENTS else 0.5
            p = learnt_now["day_types"][kind]["p_home"][hour] if learnt_now is not None else p0
            home, away = counts.get((kind, hour), (0, 0))
            hours.append(
                {
                    "day_type": kind,
                    "hour": hour,
                    "p_home": round(p, 4),
                    "prior": round(p0, 4),
                    "home": home,
                    "away": away,
                }
            )
    return {
        "customer_id": customer_id,
        "segment": segment,
        "visits": learnt_now["visits"] if learnt_now is not None else 0,
        "away_probability": learnt_now["away_probability"] if learnt_now is not None else None,
        "address_flag": learnt_now["address_flag"] if learnt_now is not None else None,
        "hours": hours,
    }


def _local(at: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    # Stored times are UTC; a database that drops the offset (SQLite) gives them back naive.
    return (at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)).astimezone(zone)
