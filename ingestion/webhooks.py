"""Apply stored webhooks to the tenant's raw tables, through the sync's own load.

`apply_all_pending(tenant_id)` is the entry point (the worker's webhook lane calls it
through `orchestration.work.apply_webhooks`): it repeats `apply_pending`, which, under
the tenant's lock (`core.locks`), takes a micro-batch of stored events
(`app.webhook_events`, oldest first) and:

- loads create/update payloads the way a sync loads GraphQL records: each REST payload
  becomes bulk-format lines (`ingestion.lines.webhook_lines`), flattened and loaded by
  `ingestion.pipeline.load_lines` into the same raw rows (same ids, link columns and
  merge: a re-delivered order replaces its child rows), without moving the sync's cursor;
- drops stale versions first: within the batch only the newest `updated_at` of a record
  survives, and a record whose raw row is newer, or which was deleted, is not touched;
- flags deletes with `_xeno_deleted_at` (staging excludes such rows) and gives the row a
  new `_dlt_load_id`, so the incremental marts pick the change up;
- hands privacy and lifecycle topics to `ingestion.webhook_privacy`;
- marks every event applied / skipped / unhandled, or failed with the error (retried
  later with backoff; a payload that breaks the load is isolated by loading halves
  of the batch, so it fails alone), and announces changes with NOTIFY for the API's live stream;
- quarantines an event whose payload can never be applied (not an object, no usable id,
  an `updated_at` that is not a timestamp with a zone, a privacy request it cannot
  read): a terminal status with the reason, so one bad delivery never fails the rest of
  its batch, nor comes back every interval.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from core import db, locks, tenants
from core.settings import Settings
from ingestion import webhook_privacy as privacy
from ingestion.lines import webhook_lines
from ingestion.pipeline import ContractMismatch, load_lines, tenant_pipeline
from ingestion.raw_contract import DELETED_AT, new_load_id
from ingestion.source import CURSOR

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "xeno_events"
BATCH_SIZE = 5_000
# dlt runs one batch may spend to load around a payload that breaks the load (halving)
ISOLATION_LOADS = 32
# webhook topic prefix -> the sync's resource (and raw table) it updates
RESOURCES = {
    "orders": "orders",
    "customers": "customers",
    "products": "products",
    "checkouts": "abandoned_checkouts",
}
UPSERT_ACTIONS = frozenset({"create", "update", "updated", "cancelled"})
# topics that are understood but have no raw table (carts are not an Admin list resource)
STORED_ONLY = frozenset({"carts/create", "carts/update"})


@dataclass(frozen=True)
class Event:
    id: int
    topic: str
    payload: Any  # an object, unless the receiver let something else in (`unusable`)
    received_at: datetime
    triggered_at: str | None = None  # X-Shopify-Triggered-At: orders equal `updated_at`s

    @property
    def resource(self) -> str | None:
        return RESOURCES.get(self.topic.partition("/")[0])

    @property
    def action(self) -> str:
        return self.topic.partition("/")[2]


@dataclass
class AppliedBatch:
    """What one `apply_pending` call did (counts of events by outcome)."""

    tenant_id: uuid.UUID
    busy: bool = False
    applied: int = 0
    skipped: int = 0
    unhandled: int = 0
    failed: int = 0
    quarantined: int = 0
    load_id: str | None = None
    changed: dict[str, list[int]] = field(default_factory=dict)

    @property
    def events(self) -> int:
        return self.applied + self.skipped + self.unhandled + self.failed + self.quarantined


@dataclass
class BatchPlan:
    """One batch sorted by what to do with each event."""

    upserts: dict[str, dict[int, Event]] = field(default_factory=dict)
    deletes: dict[str, dict[int, Event]] = field(default_factory=dict)
    special: list[Event] = field(default_factory=list)
    outcome: dict[int, tuple[str, str | None]] = field(default_factory=dict)

    def mark(self, event: Event, status: str, reason: str | None = None) -> None:
        self.outcome[event.id] = (status, reason)


def _updated_at(event: Event) -> datetime:
    return datetime.fromisoformat(str(event.payload[CURSOR]))


def _version(event: Event) -> tuple[datetime, datetime, int]:
    """Newest first by `updated_at`; Shopify's timestamps have whole seconds, so two
    changes in one second are ordered by when Shopify triggered them, then by arrival."""
    updated = _updated_at(event)
    try:  # headers are not covered by the HMAC: a bad one only loses the tie-break
        triggered = datetime.fromisoformat(event.triggered_at or "")
    except ValueError:
        triggered = updated
    return updated, triggered, event.id


def _record_id(value: object) -> int | None:
    """A Shopify id (a positive bigint, as a number or digits), else None."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        return value
    return None


def unusable(event: Event) -> str | None:
    """Why the event's payload can never be applied (None: it can be).

    Checked before anything touches it, so the rest of the batch never pays for it."""
    if not isinstance(event.payload, dict):
        return f"payload is a JSON {type(event.payload).__name__}, not an object"
    if event.resource is None or (event.action != "delete" and event.action not in UPSERT_ACTIONS):
        return None
    if _record_id(event.payload.get("id")) is None:
        return "payload has no usable id (a positive integer)"
    if event.action == "delete":
        return None
    try:
        updated = datetime.fromisoformat(str(event.payload.get(CURSOR)))
    except ValueError:
        return f"payload {CURSOR} is not an ISO 8601 timestamp"
    if updated.tzinfo is None:
        return f"payload {CURSOR} has no time zone"
    return None


def plan_batch(events: list[Event]) -> BatchPlan:
    """Classify a batch; of several versions of one record only the newest stays."""
    plan = BatchPlan()
    for event in events:
        reason = unusable(event)
        if reason is not None:
            log.warning("webhook event %s (%s) quarantined: %s", event.id, event.topic, reason)
            plan.mark(event, "quarantined", reason)
            continue
        record_id = _record_id(event.payload.get("id"))
        if event.resource is not None and event.action == "delete" and record_id is not None:
            plan.deletes.setdefault(event.resource, {})[record_id] = event
        elif event.resource is not None and event.action in UPSERT_ACTIONS:
            assert record_id is not None  # checked by `unusable`
            versions = plan.upserts.setdefault(event.resource, {})
            current = versions.get(record_id)
            if current is None or _version(event) > _version(current):
                if current is not None:
                    plan.mark(current, "skipped", "superseded in the same batch")
                versions[record_id] = event
            else:
                plan.mark(event, "skipped", "superseded in the same batch")
        elif event.topic in STORED_ONLY:
            plan.mark(event, "skipped", "no raw table for this topic; kept in webhook_events")
        elif event.topic in privacy.TOPICS:
            plan.special.append(event)
        else:
            plan.mark(event, "unhandled", f"topic {event.topic} is not handled")
    return plan


def _raw_columns(conn: psycopg.Connection, schema: str, table: str) -> set[str]:
    rows = conn.execute(
        "select column_name from information_schema.columns "
        "where table_schema = %s and table_name = %s",
        (schema, table),
    ).fetchall()
    return {row[0] for row in rows}


def _deleted_ids(conn: psycopg.Connection, tenant_id: uuid.UUID, resource: str) -> set[int]:
    """Records whose delete webhook was applied earlier: an old update must not revive them."""
    prefix = next(topic for topic, res in RESOURCES.items() if res == resource)
    rows = conn.execute(
        "select (payload->>'id')::bigint from app.webhook_events "
        "where tenant_id = %s and topic = %s and status = 'applied'",
        (tenant_id, f"{prefix}/delete"),
    ).fetchall()
    return {row[0] for row in rows}


def drop_stale(conn: psycopg.Connection, tenant: tenants.Tenant, plan: BatchPlan) -> None:
    """Keep only upserts newer than (or as new as) the raw row, and never deleted ones."""
    for resource, versions in plan.upserts.items():
        gone = set(plan.deletes.get(resource, {})) | _deleted_ids(conn, tenant.id, resource)
        columns = _raw_columns(conn, tenant.raw_schema, resource)
        current: dict[int, datetime] = {}
        if {"id", CURSOR} <= columns:
            deleted = sql.SQL(DELETED_AT if DELETED_AT in columns else "null")
            query = sql.SQL(
                "select id, updated_at, {} is not null from {}.{} where id = any(%s)"
            ).format(deleted, sql.Identifier(tenant.raw_schema), sql.Identifier(resource))
            for record_id, updated, is_deleted in conn.execute(query, (list(versions),)):
                current[record_id] = updated
                if is_deleted:
                    gone.add(record_id)
        for record_id, event in list(versions.items()):
            if record_id in gone:
                plan.mark(event, "skipped", "the record was deleted")
            elif record_id in current and current[record_id] > _updated_at(event):
                plan.mark(event, "skipped", "stale: a newer version is already loaded")
            else:
                continue
            del versions[record_id]


def load_upserts(tenant: tenants.Tenant, plan: BatchPlan, settings: Settings) -> str | None:
    """Load the batch's payloads as bulk lines, one load per resource; the last load id."""
    pipeline = tenant_pipeline(tenant, settings)
    load_id = None
    for resource, versions in plan.upserts.items():
        if not versions:
            continue
        lines = [line for e in versions.values() for line in webhook_lines(resource, e.payload)]
        load_lines(pipeline, resource, lines, cursor=None)
        trace = pipeline.last_trace
        assert trace is not None and trace.last_load_info is not None  # it just loaded
        load_id = trace.last_load_info.loads_ids[-1]
    return load_id


def flag_deletes(
    conn: psycopg.Connection, tenant: tenants.Tenant, plan: BatchPlan, load_id: str
) -> None:
    """Set `_xeno_deleted_at` on deleted records (a delete that arrives before its record
    is recorded all the same: the later create is dropped as deleted)."""
    for resource, events in plan.deletes.items():
        if not events:
            continue
        table = sql.Identifier(tenant.raw_schema, resource)
        if "id" in _raw_columns(conn, tenant.raw_schema, resource):
            conn.execute(
                sql.SQL(
                    "update {} set {col} = coalesce({col}, now()), _dlt_load_id = %s "
                    "where id = any(%s)"
                ).format(table, col=sql.Identifier(DELETED_AT)),
                (load_id, list(events)),
            )


def _claim(conn: psycopg.Connection, tenant_id: uuid.UUID, limit: int) -> list[Event]:
    rows = conn.execute(
        "select id, topic, payload, received_at, headers->>'x-shopify-triggered-at' "
        "from app.webhook_events "
        "where tenant_id = %s and status in ('pending', 'failed') and next_attempt_at <= now() "
        "order by id limit %s",
        (tenant_id, limit),
    ).fetchall()
    return [Event(*row) for row in rows]


def _record(conn: psycopg.Connection, outcome: Mapping[int, tuple[str, str | None]]) -> None:
    groups: dict[tuple[str, str | None], list[int]] = {}
    for event_id, result in outcome.items():
        groups.setdefault(result, []).append(event_id)
    for (status, reason), ids in groups.items():
        if status == "failed":
            conn.execute(
                "update app.webhook_events set status = 'failed', error = %s, "
                "attempts = attempts + 1, next_attempt_at = now() + "
                "make_interval(secs => least(3600, 30 * power(2, attempts))) where id = any(%s)",
                (reason, ids),
            )
        else:
            conn.execute(
                "update app.webhook_events set status = %s, error = %s, "
                "attempts = attempts + 1, applied_at = now() where id = any(%s)",
                (status, reason, ids),
            )


def _notify(conn: psycopg.Connection, tenant_id: uuid.UUID, batch: AppliedBatch) -> None:
    """One NOTIFY per changed resource; the API fans it out to the tenant's streams."""
    for resource, ids in batch.changed.items():
        message = {
            "tenant": str(tenant_id),
            "resource": "checkouts" if resource == "abandoned_checkouts" else resource,
            "count": len(ids),
            "ids": ids[:100],  # NOTIFY payloads are limited to 8000 bytes
        }
        conn.execute("select pg_notify(%s, %s)", (NOTIFY_CHANNEL, json.dumps(message)))


def _reason(exc: BaseException) -> str:
    """The root cause's first line (dlt wraps the error that matters in its step error)."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:500]


def load_isolating(
    tenant: tenants.Tenant, plan: BatchPlan, settings: Settings
) -> tuple[str | None, dict[int, str]]:
    """Load the plan's upserts; a load that fails is retried as two halves, so a payload
    that breaks the load (a number out of its column's range, ...) fails alone while the
    rest of the batch is applied. At most `ISOLATION_LOADS` dlt runs: when everything
    fails (the database is down) the split stops there. The last load id, and the error
    of each event (by id) left unloaded."""
    everything = [(res, rid, ev) for res, v in plan.upserts.items() for rid, ev in v.items()]
    groups = [everything] if everything else []
    load_id: str | None = None
    failed: dict[int, str] = {}
    loads = 0
    while groups:
        group = groups.pop()
        part = BatchPlan()
        for resource, record_id, event in group:
            part.upserts.setdefault(resource, {})[record_id] = event
        loads += 1
        try:
            load_id = load_upserts(tenant, part, settings) or load_id
        except Exception as exc:
            splittable = not isinstance(exc, ContractMismatch)  # no half of it would load
            if splittable and len(group) > 1 and loads + len(groups) + 2 <= ISOLATION_LOADS:
                groups += [group[: len(group) // 2], group[len(group) // 2 :]]
                continue
            log.exception("webhook load of tenant %s failed (%s events)", tenant.id, len(group))
            failed.update(dict.fromkeys((event.id for *_, event in group), _reason(exc)))
    return load_id, failed


def _apply(
    conn: psycopg.Connection, tenant: tenants.Tenant, events: list[Event], settings: Settings
) -> AppliedBatch:
    batch = AppliedBatch(tenant.id)
    plan = plan_batch(events)
    drop_stale(conn, tenant, plan)
    batch.load_id, failed = load_isolating(tenant, plan, settings)
    if any(plan.deletes.values()):
        batch.load_id = batch.load_id or new_load_id()
        try:
            flag_deletes(conn, tenant, plan, batch.load_id)
        except Exception as exc:
            log.exception("webhook deletes of tenant %s failed", tenant.id)
            failed.update({e.id: _reason(exc) for v in plan.deletes.values() for e in v.values()})
    for kind in (plan.upserts, plan.deletes):
        for resource, versions in kind.items():
            for record_id, event in versions.items():
                if event.id in failed:
                    plan.mark(event, "failed", failed[event.id])
                else:
                    plan.mark(event, "applied")
                    batch.changed.setdefault(resource, []).append(record_id)
    for event in plan.special:
        try:
            plan.mark(event, *privacy.handle(conn, tenant, event.topic, event.payload, settings))
        except (AttributeError, TypeError, ValueError) as exc:  # a request it cannot read
            log.warning("webhook event %s (%s) quarantined: %s", event.id, event.topic, exc)
            plan.mark(event, "quarantined", f"unreadable {event.topic} payload: {exc}"[:500])
    _record(conn, plan.outcome)
    tally = Counter(status for status, _ in plan.outcome.values())
    batch.applied += tally.pop("applied", 0)
    batch.skipped += tally.pop("skipped", 0)
    batch.unhandled += tally.pop("unhandled", 0)
    batch.failed += tally.pop("failed", 0)
    batch.quarantined += tally.pop("quarantined", 0)
    assert not tally, f"outcomes without a count: {tally}"
    _notify(conn, tenant.id, batch)
    return batch


def apply_pending(
    tenant_id: uuid.UUID, settings: Settings, *, limit: int = BATCH_SIZE
) -> AppliedBatch:
    """Apply up to `limit` stored events of one tenant; `busy` if a sync holds its lock."""
    with (
        db.connect(settings, autocommit=True) as conn,
        locks.held(conn, tenant_id) as locked,
    ):
        if not locked:
            return AppliedBatch(tenant_id, busy=True)
        tenant = tenants.get(conn, tenant_id)
        events = _claim(conn, tenant_id, limit)
        if not events:
            return AppliedBatch(tenant_id)
        return _apply(conn, tenant, events, settings)


@dataclass(frozen=True)
class TenantApplied:
    """What `apply_all_pending` did to one tenant; `changed` = its marts need a rebuild."""

    changed: bool = False
    ok: bool = True
    busy: bool = False
    events: int = 0


def apply_all_pending(
    tenant_id: uuid.UUID, settings: Settings, *, limit: int = BATCH_SIZE
) -> TenantApplied:
    """Apply every due batch of one tenant; stop at a failed batch or a held lock.

    Batches are capped so a backlog of one tenant commits (and notifies) as it goes.
    """
    changed, events = False, 0
    while True:
        batch = apply_pending(tenant_id, settings, limit=limit)
        changed = changed or bool(batch.changed) or batch.applied > 0
        events += batch.events
        log.info("webhooks of tenant %s: %s", tenant_id, batch)
        if batch.busy or batch.failed or batch.events < limit:
            return TenantApplied(changed, not batch.failed, batch.busy, events)


def tenants_with_due_events(settings: Settings) -> list[uuid.UUID]:
    """Tenants with stored events due now (pending, or failed and past their backoff)."""
    with db.connect(settings, autocommit=True) as conn:
        rows = conn.execute(
            "select distinct tenant_id from app.webhook_events "
            "where status in ('pending', 'failed') and next_attempt_at <= now()"
        ).fetchall()
    return [tenant for (tenant,) in rows]
