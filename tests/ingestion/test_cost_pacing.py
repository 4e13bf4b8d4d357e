"""Cost pacing: a query starts only when the store's point bucket holds its requested cost.

The arithmetic runs on a manual clock (exact waits); the throughput tests run against the
simulator's GraphQL endpoint on Standard and Plus buckets.
"""

from __future__ import annotations

import pytest

from ingestion.pacing import DEFAULT_MAXIMUM, CostPacer


class ManualClock:
    """A clock that moves only when the pacer sleeps (records every sleep)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _report(available: float, *, requested: int = 0, actual: int | None = 0, maximum=2000.0):
    return {
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": {
            "maximumAvailable": maximum,
            "currentlyAvailable": available,
            "restoreRate": 100.0,
        },
    }


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def pacer(clock: ManualClock) -> CostPacer:
    return CostPacer(clock=clock, sleep=clock.sleep)


def test_a_query_that_fits_starts_at_once(pacer, clock):
    pacer.release(pacer.acquire(10), _report(500, requested=10, actual=8))
    pacer.release(pacer.acquire(400), _report(100, requested=400, actual=400))
    assert clock.sleeps == []
    assert (pacer.stats.requests, pacer.stats.requested_points, pacer.stats.actual_points) == (
        2,
        410,
        408,
    )
    assert (pacer.stats.used, pacer.stats.capacity) == (1900, 2000)


def test_a_query_waits_exactly_until_the_bucket_holds_its_cost(pacer, clock):
    pacer.release(pacer.acquire(10), _report(150, requested=10))
    pacer.acquire(352)  # 202 points short at 100 points/s
    assert clock.sleeps == [pytest.approx(2.02)]
    assert pacer.stats.waited_seconds == pytest.approx(2.02)


def test_a_throttled_answer_waits_exactly_what_the_bucket_needs(pacer, clock):
    """Shopify's own example: 752 requested, 666 available, restoring 50 points/s."""
    ticket = pacer.acquire(752)
    throttled = {
        "requestedQueryCost": 752,
        "actualQueryCost": None,
        "throttleStatus": {
            "maximumAvailable": 1000.0,
            "currentlyAvailable": 666,
            "restoreRate": 50.0,
        },
    }
    pacer.release(ticket, throttled, throttled=True)
    pacer.acquire(752)
    assert clock.sleeps == [pytest.approx(86 / 50)]
    assert pacer.stats.throttled == 1


def test_calls_in_flight_hold_their_points(pacer, clock):
    pacer.release(pacer.acquire(1), _report(300, requested=1))
    first = pacer.acquire(200)
    pacer.acquire(200)  # only 100 left until the first call's answer
    assert clock.sleeps == [pytest.approx(1.0)]
    pacer.release(first, None)  # no answer: its reservation ends
    assert pacer.available() == pytest.approx(200.0)  # 400 refilled, 200 still held


def test_an_older_answer_never_overwrites_a_newer_one(pacer, clock):
    older, newer = pacer.acquire(1), pacer.acquire(1)
    pacer.release(newer, _report(1200))
    pacer.release(older, _report(1900))
    assert pacer.stats.available == 1200


def test_the_bucket_refills_with_time_up_to_its_maximum(pacer, clock):
    pacer.release(pacer.acquire(1), _report(0))
    clock.now += 5
    assert pacer.available() == pytest.approx(500)
    clock.now += 100
    assert pacer.available() == pytest.approx(2000)


def test_a_query_dearer_than_the_bucket_waits_for_a_full_bucket_not_forever(pacer, clock):
    assert pacer.stats.maximum == DEFAULT_MAXIMUM  # until the store reports its own
    pacer.release(pacer.acquire(1), _report(0, maximum=1000.0))
    pacer.acquire(5000)
    assert clock.sleeps == [pytest.approx(10.0)]


@pytest.mark.parametrize(("plan", "page_size"), [("standard", 20), ("plus", 100)])
def test_paged_reads_use_the_restore_rate_without_being_throttled(
    sim, ingestion_env, plan, page_size
):
    """After the first drain, >= 95% of the restore rate is spent and nothing is THROTTLED."""
    from bench.pacing import measure
    from core.settings import get_settings
    from ingestion.graphql import ShopifyGraphQL
    from ingestion.queries import CUSTOMERS

    shop = sim.shop(orders=0, customers=1500, plan=plan)
    with ShopifyGraphQL(shop["domain"], shop["token"], get_settings()) as client:
        result = measure(client, CUSTOMERS, page_size, seconds=12)
    assert result.restore_rate == {"standard": 100, "plus": 1000}[plan]
    assert result.throttled_after_drain == 0
    assert result.restore_share >= 0.95, result
