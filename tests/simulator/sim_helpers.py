"""Helpers to talk to a simulated shop the way Xeno does (imported by the tests)."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime
from typing import Any

import httpx

from simulator.server import RunningSimulator

ANCHOR = datetime(2024, 6, 1, tzinfo=UTC)
VERSION = "2024-10"
NEXT = re.compile(r'<([^>]+)>; rel="next"')
PREVIOUS = re.compile(r'<([^>]+)>; rel="previous"')
_names = itertools.count(1)


class Admin:
    """A shop's Admin API as a client sees it."""

    def __init__(self, sim: RunningSimulator, shop: dict[str, Any]) -> None:
        self.sim = sim
        self.info = shop
        self.domain = shop["domain"]
        self.url = f"{sim.base_url}/{self.domain}/admin/api/{VERSION}"
        # no idle connection is kept: nothing is left open when a test drops the client
        self.http = httpx.Client(
            headers={"X-Shopify-Access-Token": shop["token"]},
            timeout=30,
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(f"{self.url}/{path}", params=params)

    def walk(self, resource: str, **params: Any) -> list[dict]:
        """All records of a list endpoint, following ``rel="next"`` links."""
        response = self.get(f"{resource}.json", **params)
        out: list[dict] = []
        while True:
            assert response.status_code == 200, response.text
            out.extend(response.json()[resource])
            match = NEXT.search(response.headers.get("link", ""))
            if not match:
                return out
            response = self.http.get(match.group(1))

    def sim_call(self, method: str, path: str, json: Any = None) -> httpx.Response:
        """Control surface of this shop."""
        return httpx.request(method, f"{self.sim.base_url}/_sim/{self.domain}/{path}", json=json)


def new_shop(sim: RunningSimulator, **spec: Any) -> Admin:
    """A fresh shop (so mutating tests do not disturb each other)."""
    body = {
        "name": f"t{next(_names)}",
        "orders": 60,
        "seed": 3,
        "rate_limit": False,
        "anchor": ANCHOR.isoformat(),
        **spec,
    }
    response = httpx.post(f"{sim.base_url}/_sim/shops", json=body)
    assert response.status_code == 201, response.text
    return Admin(sim, response.json())
