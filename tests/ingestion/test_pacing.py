"""Pacing by the store's call-limit header: full use of the bucket, no 429 in steady state."""

from __future__ import annotations

from core.settings import get_settings
from ingestion.pacing import LeakyBucketPacer, parse_call_limit
from ingestion.progress import ProgressEvent
from ingestion.sync import run_sync
from tests.ingestion.conftest import raw_count


class FakeClock:
    """Time that moves only when the pacer sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_call_limit_header_parsing():
    assert parse_call_limit("32/40") == (32, 40)
    assert parse_call_limit("1/400") == (1, 400)
    assert parse_call_limit(None) is None
    assert parse_call_limit("garbage") is None


def test_pacer_uses_the_reported_bucket_and_leaks_at_its_rate():
    clock = FakeClock()
    pacer = LeakyBucketPacer(clock=clock, sleep=clock.sleep, margin=1)
    for used in range(1, 400):  # a Plus store: 400 calls, leaking 20/s
        pacer.release(pacer.acquire(), f"{used}/400")
    assert clock.now == 0.0  # the whole bucket is used without waiting
    pacer.acquire()  # full: wait for one call to leak out at 20/s
    assert abs(clock.now - 1 / 20) < 1e-9
    assert pacer.leak_rate == 20


def test_pacer_counts_calls_in_flight_once():
    clock = FakeClock()
    pacer = LeakyBucketPacer(leak_rate=2, clock=clock, sleep=clock.sleep, margin=0)
    tickets = [pacer.acquire() for _ in range(40)]  # 40 concurrent calls fill the bucket
    assert clock.now == 0.0
    pacer.release(tickets[-1], "40/40")  # the last one's report includes the others
    for ticket in tickets[:-1]:
        pacer.release(ticket, "40/40")  # older reports do not move the estimate back
    pacer.acquire()
    assert abs(clock.now - 0.5) < 1e-9


def test_a_paced_sync_never_trips_the_rate_limit(sim, make_tenant, conn):
    shop = sim.shop(orders=1800, customers=1200, bucket=6, leak=6.0)
    tenant = make_tenant(shop)
    events: list[ProgressEvent] = []
    defaults = get_settings()
    shopify = defaults.shopify.model_copy(update={"leak_rate": 6})
    settings = defaults.model_copy(update={"shopify": shopify})
    run = run_sync(tenant.id, settings, progress=events.append)
    assert run.status == "succeeded", run.error
    last = events[-1]
    assert last.requests > 2 * last.bucket_capacity  # the bucket drained and refilled
    assert last.throttled == 0
    assert raw_count(conn, tenant.raw_schema, "orders") == 1800
