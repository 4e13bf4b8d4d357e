"""Fixtures: one simulator per session, fresh shops for tests that mutate."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from simulator.server import RunningSimulator, run_simulator
from simulator.shop import ShopSpec
from tests.simulator.sim_helpers import ANCHOR, Admin, new_shop


@pytest.fixture(scope="session")
def sim() -> Iterator[RunningSimulator]:
    shops = [
        ShopSpec(name="base", orders=300, seed=7, anchor=ANCHOR, rate_limit=False),
        ShopSpec(name="yen", orders=120, seed=8, currency="JPY", anchor=ANCHOR, rate_limit=False),
    ]
    with run_simulator(shops=shops) as running:
        yield running


@pytest.fixture(scope="session")
def base(sim: RunningSimulator) -> Admin:
    shops = httpx.get(f"{sim.base_url}/_sim/shops").json()
    return Admin(sim, next(s for s in shops if s["name"] == "base"))


@pytest.fixture
def fresh(sim: RunningSimulator) -> Admin:
    return new_shop(sim)
