"""`xeno worker`: the live loop's one home — users' syncs, first syncs, webhooks, erasure.

One process with lanes (threads) that each wait on their own queue, so no kind of work
waits behind another's backlog:

- sync lanes (WORKER_SYNC_THREADS): claim queued `app.sync_runs` rows oldest first, sync
  and ask the builder for the tenant's build. The first lane takes only users' requests
  (trigger `api`), the others also new tenants' first syncs, so a long backfill never
  holds up a user.
- the webhook lane: applies every tenant's due webhooks, then has their marts rebuilt
  together, and erases tenants whose deletion is due.
- the builder: the only thread that runs dbt. Every lane's build requests that arrive
  while a build runs join the next one: one dbt invocation for all of them. A tenant
  whose build fails is retried alone with backoff, never in another tenant's batch.

Every queue holds at most one unit per tenant: the database allows one queued-or-running
sync per tenant, and webhook work is "this tenant has due events" however many arrived.
The daily cycle and operators' runs stay in Dagster (docs/orchestration.md); both call
the jobs in orchestration/work.py. Stopping (SIGINT/SIGTERM) puts in-flight syncs back
in the queue (once: `ingestion.runs.MAX_ATTEMPTS`) and exits within seconds.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import FrameType
from typing import ParamSpec, TypeVar

import click

from core import db
from core.settings import Settings, get_settings
from ingestion import runs
from ingestion.runs import SyncRun
from ingestion.webhooks import tenants_with_due_events
from orchestration import work

log = logging.getLogger("xeno.worker")
T = TypeVar("T")
P = ParamSpec("P")

# How long a stop waits for lanes to reach a safe point before the process exits anyway.
STOP_GRACE_SECONDS = 5.0
# Tenants whose webhooks are applied at once: a dlt load waits on the database about as
# long as it computes, so two overlap well on two cores.
APPLY_THREADS = 2
# A failing tenant's builds are retried after 30 s, 60 s, ... up to 30 minutes.
BUILD_RETRY_SECONDS = (30, 60, 120, 300, 900, 1800)


@dataclass
class _Failing:
    """A tenant whose last build failed: when it may be built again."""

    failures: int
    retry_at: float
    reason: str


@dataclass
class Builder:
    """The worker's one dbt builder: requests made meanwhile are built together.

    Nobody waits for a build: a sync's run shows `transforming` until its tenant's build
    is recorded (or `failed` with dbt's reason), and the webhook lane applies on.
    """

    stop: threading.Event
    build: Callable[[list[uuid.UUID], bool], dict[uuid.UUID, str]]
    _cond: threading.Condition = field(default_factory=threading.Condition)
    # full_refresh -> the tenants to build next
    _pending: dict[bool, set[uuid.UUID]] = field(
        default_factory=lambda: {False: set(), True: set()}
    )
    _failing: dict[uuid.UUID, _Failing] = field(default_factory=dict)

    def request(
        self, tenant_ids: Iterable[uuid.UUID], *, full_refresh: bool = False, now: bool = False
    ) -> None:
        """Ask for a build of these tenants. `now`: someone asked for it (a user's sync),
        so a failing tenant is tried again at once instead of after its backoff."""
        tenant_ids = list(tenant_ids)
        with self._cond:
            self._pending[full_refresh].update(tenant_ids)
            if now:
                for tenant_id in tenant_ids:
                    if tenant_id in self._failing:
                        self._failing[tenant_id].retry_at = time.monotonic()
            self._cond.notify_all()

    def retry_due(self) -> list[uuid.UUID]:
        """Failing tenants whose backoff has passed (the webhook lane requests them again)."""
        now = time.monotonic()
        with self._cond:
            return [t for t, f in self._failing.items() if f.retry_at <= now]

    def _next_batch(self) -> tuple[bool, list[uuid.UUID]] | None:
        """Full refreshes first. A failing tenant due for its retry is built alone, before
        the healthy ones (who would otherwise always be pending); not before its time."""
        now = time.monotonic()
        for full_refresh in (True, False):
            pending = self._pending[full_refresh]
            due = [t for t in pending if t in self._failing and self._failing[t].retry_at <= now]
            chosen = due[:1] or [t for t in pending if t not in self._failing]
            if chosen:
                pending.difference_update(chosen)
                return full_refresh, chosen
        return None

    def run(self) -> None:
        while not self.stop.is_set():
            with self._cond:
                batch = self._next_batch()
                if batch is None:
                    self._cond.wait(timeout=1.0)
                    continue
            full_refresh, tenant_ids = batch
            try:
                failed = self.build(tenant_ids, full_refresh)
            except Exception as exc:  # work.build records what it can; never stop the lane
                log.exception("build of %d tenant(s) failed", len(tenant_ids))
                failed = {t: f"{type(exc).__name__}: {exc}" for t in tenant_ids}
            self._settle(tenant_ids, failed)

    def _settle(self, tenant_ids: list[uuid.UUID], failed: dict[uuid.UUID, str]) -> None:
        with self._cond:
            for tenant_id in tenant_ids:
                reason = failed.get(tenant_id)
                if reason is None:
                    self._failing.pop(tenant_id, None)
                    continue
                previous = self._failing.get(tenant_id)
                count = previous.failures + 1 if previous else 1
                delay = BUILD_RETRY_SECONDS[min(count, len(BUILD_RETRY_SECONDS)) - 1]
                self._failing[tenant_id] = _Failing(count, time.monotonic() + delay, reason)
                log.error("build of tenant %s failed (%d in a row; retry in %d s): %s",
                          tenant_id, count, delay, reason)  # fmt: skip


@dataclass
class Worker:
    settings: Settings
    stop: threading.Event = field(default_factory=threading.Event)
    builder: Builder = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # runs this process is executing now: tenant id -> run id
    _syncing: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.builder = Builder(self.stop, self._build)

    def _build(self, tenant_ids: list[uuid.UUID], full_refresh: bool) -> dict[uuid.UUID, str]:
        batch = work.existing(self.settings, tenant_ids)
        return work.build(self.settings, batch, full_refresh=full_refresh)

    # -- lanes ---------------------------------------------------------------------------

    def sync_lane(self, triggers: tuple[str, ...]) -> None:
        """Claim and run queued syncs of `triggers`, one at a time."""
        while not self.stop.is_set():
            run = self._claim(triggers)
            if run is None:
                self.stop.wait(self.settings.worker.poll_seconds)
                continue
            try:
                self._sync_then_build(run)
            finally:
                with self._lock:
                    self._syncing.pop(run.tenant_id, None)

    def _claim(self, triggers: tuple[str, ...]) -> SyncRun | None:
        try:
            with self._lock, db.connect(self.settings) as conn:
                run = runs.claim(conn, triggers, exclude=set(self._syncing))
                if run is not None:
                    self._syncing[run.tenant_id] = run.id
                return run
        except Exception:
            log.exception("could not claim a sync")
            return None

    def _sync_then_build(self, run: SyncRun) -> None:
        """A claimed run: its sync, then a build of its tenant (joined with other requests)."""
        context = {"sync_id": str(run.id), "tenant_id": str(run.tenant_id)}
        log.info("sync starting (%s)", run.trigger, extra=context)
        outcome = work.sync_tenant(
            run.tenant_id,
            self.settings,
            trigger=run.trigger,
            run_id=run.id,
            full_refresh=run.full_refresh,
        )
        if outcome.error:
            log.warning("sync not done: %s", outcome.error, extra=context)
            return
        self.builder.request([run.tenant_id], full_refresh=run.full_refresh, now=True)
        log.info("sync loaded; its build is queued", extra=context)

    def webhook_lane(self) -> None:
        """Apply due webhooks of every tenant, and have the changed ones rebuilt.

        The lane does not wait for the build: it applies the next events while dbt builds
        the last ones (dlt's work is this process's CPU, dbt's the database's), and the
        requests made meanwhile join the next build.
        """
        last_erase = 0.0
        while not self.stop.is_set():
            started = time.monotonic()
            if started - last_erase >= self.settings.worker.erase_interval_seconds:
                self._guarded(work.erase_due, self.settings)
                self._guarded(self._queue_first_syncs)
                last_erase = started
            changed = [*self._apply_due(), *self.builder.retry_due()]
            if changed:
                self.builder.request(changed)
            else:
                self.stop.wait(self.settings.worker.poll_seconds)

    def _apply_due(self) -> list[uuid.UUID]:
        """Apply the due events of every tenant not being synced; the tenants changed."""
        due = self._guarded(tenants_with_due_events, self.settings) or []
        with self._lock:
            todo = [t for t in due if t not in self._syncing]  # its sync holds the lock
        with ThreadPoolExecutor(APPLY_THREADS, thread_name_prefix="apply") as pool:
            applied = pool.map(self._apply_unless_stopping, todo)
            return [t for t, changed in zip(todo, applied, strict=True) if changed]

    def _apply_unless_stopping(self, tenant_id: uuid.UUID) -> bool:
        return not self.stop.is_set() and work.apply_webhooks(tenant_id, self.settings).changed

    def _queue_first_syncs(self) -> None:
        if not self.settings.worker.first_syncs:
            return
        with db.connect(self.settings) as conn:
            queued = runs.queue_first_syncs(conn)
        if queued:
            log.info("queued first syncs of %d new tenant(s)", len(queued))

    @staticmethod
    def _guarded(step: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        """Run a housekeeping step; a failure is logged and the lane carries on."""
        try:
            return step(*args, **kwargs)
        except Exception:
            log.exception("%s failed", getattr(step, "__name__", "step"))
            return None

    # -- lifecycle -----------------------------------------------------------------------

    def recover(self) -> None:
        """Syncs a dead process left `running` go back to the queue (once) or fail."""
        with db.connect(self.settings) as conn:
            requeued = runs.requeue_interrupted(conn)
        self._queue_first_syncs()
        for run in requeued:
            log.warning("sync %s of tenant %s was interrupted: %s", run.id, run.tenant_id,
                        run.status)  # fmt: skip

    def start(self) -> None:
        self.recover()
        lanes: list[tuple[str, Callable[[], None]]] = [("builder", self.builder.run)]
        for n in range(self.settings.worker.sync_threads):
            triggers = ("api",) if n == 0 else ("first", "api")
            lanes.append((f"sync-{n}", functools.partial(self.sync_lane, triggers)))
        lanes.append(("webhooks", self.webhook_lane))
        for name, target in lanes:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("worker started: %d sync lane(s), webhooks, builder", len(lanes) - 2)

    def shutdown(self) -> None:
        """Stop claiming; give lanes a moment; put unfinished syncs back in the queue."""
        self.stop.set()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            unfinished = list(self._syncing.values())
        if unfinished:
            with db.connect(self.settings) as conn:
                runs.interrupt(conn, unfinished)
            log.warning("stopped with %d sync(s) unfinished: queued again", len(unfinished))


def run_worker(settings: Settings) -> None:
    """Run the worker until SIGINT/SIGTERM; then exit within STOP_GRACE_SECONDS.

    Threads busy in dlt or dbt cannot be interrupted, so after the grace period the
    process exits at once: the database releases the tenant locks with its sessions, and
    the runs it was executing were put back in the queue first.
    """
    worker = Worker(settings)
    stopping = threading.Event()

    def on_signal(signum: int, _: FrameType | None) -> None:
        log.info("worker stopping (signal %d)", signum)
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    worker.start()
    while not stopping.wait(1.0):
        pass
    try:
        worker.shutdown()
    finally:
        logging.shutdown()
        os._exit(0)


@click.command("worker")
def worker_command() -> None:
    """The worker: users' syncs, first syncs, webhooks and erasure (the live loop)."""
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(threadName)s %(message)s"
    )
    # The worker's log tells what it did per unit of work; dlt's per-load warnings and
    # dbt's line per node (hundreds per build) are only noise here.
    logging.getLogger("dlt").setLevel(logging.ERROR)
    os.environ.setdefault("DBT_LOG_LEVEL", "warn")
    click.echo("worker: running; Ctrl-C stops it", err=True)
    run_worker(settings)
