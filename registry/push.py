"""A2A push notifications: the webhook configs callers set on their tasks, and the outbox of deliveries to them.

Owns the two tables and the bookkeeping that makes delivery durable and at
least once: a delivery row is queued in the same transaction that records
which task state its config was last told about (a compare-and-set, so two
hub processes watching the same task queue it once), a dispatcher claims
due rows with a lease that runs out if it dies, and a row counts as
delivered only once the receiver said so. Rows of one config go out in the
order they were queued: a row waits while an older one of its config is
still pending.

Does not know: A2A wire formats (the payload is opaque JSON text), HTTP or
which URLs are safe (``protocols.a2a`` checks them when a config is set and
again when it connects), the engine, or the clock: every method that needs
the time takes ``now`` (milliseconds) from the caller, so a dispatcher under
test runs on a manual clock.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from registry.exceptions import InvalidEntry
from registry.schema import a2a_push_configs as configs
from registry.schema import a2a_push_deliveries as deliveries
from registry.store import RegistryStore, now_ms

MAX_CONFIGS_PER_TASK = 10


class DeliveryState(StrEnum):
    """Where a queued notification stands; stored as the string value."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # the receiver kept failing: attempts ran out
    REFUSED = "refused"  # the destination is not allowed (SSRF rules): never retried
    DROPPED = "dropped"  # the config was deleted before the delivery went out


PENDING = DeliveryState.PENDING
DELIVERED = DeliveryState.DELIVERED
FAILED = DeliveryState.FAILED
REFUSED = DeliveryState.REFUSED
DROPPED = DeliveryState.DROPPED
FINAL_STATES = frozenset({DELIVERED, FAILED, REFUSED, DROPPED})


@dataclass(frozen=True, slots=True)
class PushConfig:
    """Where and how to tell ``owner`` about changes of task ``task_id``."""

    task_id: str
    config_id: str
    owner: str
    url: str
    token: str | None = None
    auth_scheme: str | None = None
    auth_credentials: str | None = None
    created_at: int = 0
    notified: str | None = None  # the task state last queued for it (None: none yet)
    done: bool = False  # the task's final state is queued: nothing more to watch


@dataclass(frozen=True, slots=True)
class PushDelivery:
    """One queued notification; ``config`` is filled in when a dispatcher claims it."""

    id: int
    task_id: str
    config_id: str
    payload: str
    state: DeliveryState
    attempts: int
    next_at: int
    last_status: int | None = None
    last_error: str | None = None
    claim: str | None = None
    config: PushConfig | None = None


def _config(row: Any) -> PushConfig:
    return PushConfig(
        task_id=row.task_id,
        config_id=row.config_id,
        owner=row.owner,
        url=row.url,
        token=row.token,
        auth_scheme=row.auth_scheme,
        auth_credentials=row.auth_credentials,
        created_at=int(row.created_at),
        notified=row.notified,
        done=bool(row.done),
    )


def _delivery(row: Any, config: PushConfig | None = None) -> PushDelivery:
    return PushDelivery(
        id=int(row.id),
        task_id=row.task_id,
        config_id=row.config_id,
        payload=row.payload,
        state=DeliveryState(row.state),
        attempts=int(row.attempts),
        next_at=int(row.next_at),
        last_status=row.last_status,
        last_error=row.last_error,
        claim=row.claim,
        config=config,
    )


def _one(task_id: str, config_id: str) -> Any:
    return and_(configs.c.task_id == task_id, configs.c.config_id == config_id)


class PushStore:
    """Push configs and their outbox, over the registry's store."""

    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    # --- configs: what callers set ----------------------------------------------------------------

    def put(self, config: PushConfig) -> PushConfig:
        """Store a config, replacing the one with the same task and id (``notified`` and ``done`` are kept then)."""
        with self.store.begin() as conn:
            found = conn.execute(select(configs).where(_one(config.task_id, config.config_id))).first()
            values = {
                "owner": config.owner,
                "url": config.url,
                "token": config.token,
                "auth_scheme": config.auth_scheme,
                "auth_credentials": config.auth_credentials,
            }
            if found is not None:
                conn.execute(update(configs).where(_one(config.task_id, config.config_id)).values(**values))
                return _config(conn.execute(select(configs).where(_one(config.task_id, config.config_id))).one())
            count = conn.execute(
                select(func.count()).select_from(configs).where(configs.c.task_id == config.task_id)
            ).scalar_one()
            if count >= MAX_CONFIGS_PER_TASK:
                raise InvalidEntry(
                    f"task {config.task_id} has {count} push notification configs, the most a task may have; "
                    "delete one first"
                )
            created = config.created_at or now_ms()
            conn.execute(
                insert(configs).values(
                    task_id=config.task_id,
                    config_id=config.config_id,
                    created_at=created,
                    notified=config.notified,
                    done=int(config.done),
                    **values,
                )
            )
            return _config(conn.execute(select(configs).where(_one(config.task_id, config.config_id))).one())

    def get(self, task_id: str, config_id: str, owner: str) -> PushConfig | None:
        """The owner's config, or None: another principal's config is as missing as one never set."""
        with self.store.read() as conn:
            row = conn.execute(select(configs).where(_one(task_id, config_id), configs.c.owner == owner)).first()
            return _config(row) if row is not None else None

    def of_task(self, task_id: str, owner: str, *, limit: int = 100, after: str | None = None) -> list[PushConfig]:
        """The owner's configs of a task, by id, ``limit`` at most, after the id ``after``."""
        query = select(configs).where(configs.c.task_id == task_id, configs.c.owner == owner)
        if after is not None:
            query = query.where(configs.c.config_id > after)
        with self.store.read() as conn:
            return [_config(r) for r in conn.execute(query.order_by(configs.c.config_id).limit(limit))]

    def delete(self, task_id: str, config_id: str, owner: str) -> bool:
        """Delete the owner's config; False when there was none. Its pending deliveries are dropped."""
        with self.store.begin() as conn:
            gone = conn.execute(delete(configs).where(_one(task_id, config_id), configs.c.owner == owner)).rowcount
            if gone:
                conn.execute(
                    update(deliveries)
                    .where(
                        deliveries.c.task_id == task_id,
                        deliveries.c.config_id == config_id,
                        deliveries.c.state == PENDING,
                    )
                    .values(state=DROPPED, claimed_until=None, claim=None, updated_at=now_ms())
                )
            return bool(gone)

    # --- watching tasks: configs whose task may still change ------------------------------------

    def watched(self) -> list[PushConfig]:
        """Every config whose task's final state is not queued yet, grouped by task."""
        with self.store.read() as conn:
            query = select(configs).where(configs.c.done == 0).order_by(configs.c.task_id, configs.c.config_id)
            return [_config(r) for r in conn.execute(query)]

    def enqueue(self, config: PushConfig, *, signature: str, done: bool, payload: str, now: int) -> bool:
        """Queue ``payload`` for ``config`` if it was last told about ``config.notified``; False if someone else did.

        The check and the queueing are one transaction: of two hub processes
        that see the same change, one queues it.
        """
        with self.store.begin() as conn:
            notified = (
                configs.c.notified.is_(None) if config.notified is None else configs.c.notified == config.notified
            )
            moved = conn.execute(
                update(configs)
                .where(_one(config.task_id, config.config_id), notified, configs.c.done == 0)
                .values(notified=signature, done=int(done))
            ).rowcount
            if not moved:
                return False
            conn.execute(
                insert(deliveries).values(
                    task_id=config.task_id,
                    config_id=config.config_id,
                    payload=payload,
                    state=PENDING,
                    attempts=0,
                    next_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
            return True

    def finish(self, task_id: str) -> None:
        """Stop watching a task (it no longer exists)."""
        with self.store.begin() as conn:
            conn.execute(update(configs).where(configs.c.task_id == task_id).values(done=1))

    # --- the outbox: what dispatchers send --------------------------------------------------------

    def claim_due(self, now: int, *, lease_ms: int, limit: int = 16) -> list[PushDelivery]:
        """Claim up to ``limit`` due deliveries for ``lease_ms``, each with its config.

        A delivery is due when it is pending, its time has come, nobody holds
        a live lease on it and no older delivery of its config is pending.
        A delivery whose config is gone is dropped here.
        """
        older = deliveries.alias("older")
        waiting = (
            select(older.c.id)
            .where(
                older.c.task_id == deliveries.c.task_id,
                older.c.config_id == deliveries.c.config_id,
                older.c.state == PENDING,
                older.c.id < deliveries.c.id,
            )
            .exists()
        )
        free = or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < now)
        query = (
            select(deliveries)
            .where(deliveries.c.state == PENDING, deliveries.c.next_at <= now, free, ~waiting)
            .order_by(deliveries.c.next_at, deliveries.c.id)
            .limit(limit)
        )
        claimed: list[PushDelivery] = []
        with self.store.begin() as conn:
            for row in conn.execute(query).all():
                claim = secrets.token_hex(8)
                won = conn.execute(
                    update(deliveries)
                    .where(deliveries.c.id == row.id, deliveries.c.state == PENDING, free)
                    .values(claimed_until=now + lease_ms, claim=claim, updated_at=now)
                ).rowcount
                if not won:
                    continue
                found = conn.execute(select(configs).where(_one(row.task_id, row.config_id))).first()
                if found is None:
                    self._settle(conn, int(row.id), claim, now, DROPPED, None, "the push config was deleted")
                    continue
                claimed.append(replace(_delivery(row, _config(found)), claim=claim))
        return claimed

    def delivered(self, delivery: PushDelivery, now: int, status: int) -> bool:
        """Record a receiver's 2xx; False when the lease had run out and another dispatcher took the row."""
        with self.store.begin() as conn:
            return self._settle(conn, delivery.id, delivery.claim, now, DELIVERED, status, None, attempted=True)

    def retry(self, delivery: PushDelivery, now: int, *, next_at: int, status: int | None, error: str) -> bool:
        """Record a failed attempt and when to try again."""
        with self.store.begin() as conn:
            return bool(
                conn.execute(
                    update(deliveries)
                    .where(deliveries.c.id == delivery.id, deliveries.c.claim == delivery.claim)
                    .values(
                        attempts=deliveries.c.attempts + 1,
                        next_at=next_at,
                        claimed_until=None,
                        claim=None,
                        last_status=status,
                        last_error=error[:2000],
                        updated_at=now,
                    )
                ).rowcount
            )

    def give_up(
        self, delivery: PushDelivery, now: int, *, state: DeliveryState, status: int | None, error: str
    ) -> bool:
        """Record the last attempt of a delivery that will not be sent (``failed``) or may not be (``refused``)."""
        if state not in (FAILED, REFUSED):
            raise ValueError(f"give_up ends a delivery as failed or refused, not {state}")
        with self.store.begin() as conn:
            return self._settle(conn, delivery.id, delivery.claim, now, state, status, error[:2000], attempted=True)

    @staticmethod
    def _settle(
        conn: Connection,
        delivery_id: int,
        claim: str | None,
        now: int,
        state: DeliveryState,
        status: int | None,
        error: str | None,
        *,
        attempted: bool = False,
    ) -> bool:
        values: dict[str, Any] = {
            "state": state,
            "claimed_until": None,
            "claim": None,
            "last_status": status,
            "last_error": error,
            "updated_at": now,
        }
        if attempted:
            values["attempts"] = deliveries.c.attempts + 1
        query = update(deliveries).where(deliveries.c.id == delivery_id, deliveries.c.claim == claim).values(**values)
        return bool(conn.execute(query).rowcount)

    def deliveries(self, task_id: str | None = None, *, limit: int = 1000) -> list[PushDelivery]:
        """The outbox, oldest first (for operators and tests)."""
        query = select(deliveries).order_by(deliveries.c.id).limit(limit)
        if task_id is not None:
            query = query.where(deliveries.c.task_id == task_id)
        with self.store.read() as conn:
            return [_delivery(r) for r in conn.execute(query)]

    def prune(self, before: int) -> int:
        """Delete deliveries that reached a final state before ``before`` (milliseconds)."""
        with self.store.begin() as conn:
            query = delete(deliveries).where(
                deliveries.c.state.in_(sorted(FINAL_STATES)), deliveries.c.updated_at < before
            )
            return int(conn.execute(query).rowcount)
