"""Live activity: a steady trickle of new orders and abandoned checkouts.

Demo dashboards should move while `xeno dev --demo` runs, exactly as a real store's
would: each new record goes through the same mutation path as `/_sim/` (so subscribers
receive the matching webhook) and is listed by the REST API like any other.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Sequence

from simulator.shop import Shop

CHECKOUT_SHARE = 0.3


async def run_live_activity(shops: Sequence[Shop], interval: float, seed: int) -> None:
    """Every `interval` seconds, create an order or a checkout in the next shop; forever."""
    rng = random.Random(seed)
    for shop in itertools.cycle(shops):
        await asyncio.sleep(interval)
        resource = "checkouts" if rng.random() < CHECKOUT_SHARE else "orders"
        shop.mutate("create", resource)
