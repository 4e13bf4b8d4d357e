"""Fault injection: 5xx, drops and delays at the configured rate, reproducibly."""

from __future__ import annotations

import time

import httpx

from simulator.faults import FaultInjector, Faults
from simulator.server import RunningSimulator
from tests.simulator.sim_helpers import Admin, new_shop


def outcomes(shop: Admin, n: int) -> list[int | str]:
    out: list[int | str] = []
    for _ in range(n):
        try:
            out.append(shop.get("shop.json").status_code)
        except httpx.TransportError as exc:
            out.append(type(exc).__name__)
    return out


def test_error_and_drop_rates_are_deterministic(sim: RunningSimulator) -> None:
    shop = new_shop(sim)
    config = {"error_rate": 0.2, "drop_rate": 0.1, "seed": 11}
    assert shop.sim_call("PUT", "faults", config).status_code == 200
    first = outcomes(shop, 200)
    errors = sum(1 for o in first if isinstance(o, int) and o >= 500)
    drops = sum(1 for o in first if isinstance(o, str))
    assert 20 <= errors <= 60  # ~0.2 of the 0.9 not dropped
    assert 8 <= drops <= 35
    assert {o for o in first if isinstance(o, int)} <= {200, 500, 502, 503}
    shop.sim_call("PUT", "faults", config)  # same seed: same sequence
    assert outcomes(shop, 200) == first
    shop.sim_call("PUT", "faults", {"error_rate": 0, "drop_rate": 0})
    assert set(outcomes(shop, 20)) == {200}


def test_error_body_and_drop_is_a_reset(sim: RunningSimulator) -> None:
    shop = new_shop(sim)
    shop.sim_call("PUT", "faults", {"error_rate": 1.0})
    response = shop.get("orders.json")
    assert response.status_code in (500, 502, 503) and "errors" in response.json()
    shop.sim_call("PUT", "faults", {"error_rate": 0, "drop_rate": 1.0})
    try:
        shop.get("orders.json")
    except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
        assert exc  # connection closed without a response
    else:
        raise AssertionError("expected a dropped connection")


def test_slow_responses(sim: RunningSimulator) -> None:
    shop = new_shop(sim)
    shop.sim_call("PUT", "faults", {"slow_ms": 150, "slow_rate": 1.0})
    start = time.monotonic()
    assert shop.get("shop.json").status_code == 200
    assert time.monotonic() - start >= 0.15


def test_invalid_fault_config_is_422(sim: RunningSimulator) -> None:
    shop = new_shop(sim)
    assert shop.sim_call("PUT", "faults", {"error_rate": 2}).status_code == 422
    assert shop.sim_call("PUT", "faults", {"error_rate": "x"}).status_code == 422


def test_injector_rate() -> None:
    injector = FaultInjector(Faults(error_rate=0.25, seed=5))
    fates = [injector.next() for _ in range(4000)]
    share = sum(1 for f in fates if f.status) / len(fates)
    assert 0.22 < share < 0.28
