"""Leaky bucket: call-limit header, 429 with Retry-After when full, no 429 when paced."""

from __future__ import annotations

import time

from simulator.ratelimit import LeakyBucket, RateLimit
from simulator.server import RunningSimulator
from tests.simulator.sim_helpers import new_shop


def test_header_counts_calls(sim: RunningSimulator) -> None:
    shop = new_shop(sim, rate_limit=True, bucket=40, leak=2.0)
    values = [shop.get("shop.json").headers["x-shopify-shop-api-call-limit"] for _ in range(5)]
    assert values == ["1/40", "2/40", "3/40", "4/40", "5/40"]


def test_burst_gets_429_with_retry_after(sim: RunningSimulator) -> None:
    shop = new_shop(sim, rate_limit=True, bucket=10, leak=1.0)
    responses = [shop.get("orders/count.json") for _ in range(14)]
    codes = [r.status_code for r in responses]
    assert codes[:10] == [200] * 10
    assert 429 in codes[10:]
    limited = next(r for r in responses if r.status_code == 429)
    assert limited.headers["retry-after"] == "1.0"
    assert limited.headers["x-shopify-shop-api-call-limit"] == "10/10"
    assert "Exceeded 2 calls per second" in limited.json()["errors"]
    time.sleep(1.1)  # 429s did not fill the bucket: one call leaked, one fits again
    assert shop.get("shop.json").status_code == 200


def test_paced_client_never_sees_429(sim: RunningSimulator) -> None:
    shop = new_shop(sim, rate_limit=True, bucket=4, leak=20.0)
    for _ in range(30):
        assert shop.get("shop.json").status_code == 200
        time.sleep(0.06)


def test_plus_bucket_and_runtime_switch(sim: RunningSimulator) -> None:
    shop = new_shop(sim, rate_limit=True, bucket=400, leak=20.0)
    assert shop.get("shop.json").headers["x-shopify-shop-api-call-limit"] == "1/400"
    assert shop.get("shop.json").json()["shop"]["plan_name"] == "shopify_plus"
    config = shop.sim_call("PUT", "rate_limit", {"enabled": True, "bucket": 2})
    assert config.json()["bucket"] == 2
    codes = [shop.get("shop.json").status_code for _ in range(4)]
    assert 429 in codes
    shop.sim_call("PUT", "rate_limit", {"enabled": False})
    assert all(shop.get("shop.json").status_code == 200 for _ in range(10))


def test_bucket_leaks() -> None:
    bucket = LeakyBucket(RateLimit(bucket=2, leak_per_second=50.0))
    assert bucket.take() and bucket.take() and not bucket.take()
    time.sleep(0.05)
    assert bucket.take()
