"""Running the simulator: blocking (CLI) or in a background thread (tests of any layer).

with run_simulator(shops=[ShopSpec(name="acme", orders=200)]) as sim:
    httpx.get(f"{sim.base_url}/{sim.shops[0].domain}/admin/api/2024-10/orders.json",
              headers={"X-Shopify-Access-Token": sim.shops[0].token})
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import msgspec
import uvicorn

from simulator.app import SimulatorApp
from simulator.shop import DEFAULT_VERSION, ShopSpec


class SimConfig(msgspec.Struct, kw_only=True):
    """Server settings and the shops to build at start."""

    shops: list[ShopSpec] = msgspec.field(default_factory=lambda: [ShopSpec()])
    host: str = "127.0.0.1"
    port: int = 8787
    rate_limit: bool = True
    live_interval: float = 0  # seconds between live orders/checkouts; 0 = off


class ShopInfo(msgspec.Struct, kw_only=True):
    """What a client needs to talk to one simulated shop."""

    name: str
    domain: str
    token: str
    webhook_secret: str
    currency: str
    timezone: str
    admin_url: str


class RunningSimulator(msgspec.Struct, kw_only=True):
    """A live simulator: its base URL, shops, and the app (for in-process inspection)."""

    base_url: str
    shops: list[ShopInfo]
    app: SimulatorApp

    @property
    def endpoint_template(self) -> str:
        """The setting Xeno points at the simulator: ``http://host:port/{shop}``."""
        return f"{self.base_url}/{{shop}}"

    def shop(self, name: str) -> ShopInfo:
        """A shop by name or domain."""
        for info in self.shops:
            if name in (info.name, info.domain):
                return info
        raise KeyError(name)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0 picks a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
    except OSError:  # e.g. the port is taken: the caller reports it, nothing stays open
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def describe(app: SimulatorApp, base_url: str) -> RunningSimulator:
    """Handle for a started app."""
    shops = [
        ShopInfo(
            name=s.profile.name,
            domain=s.domain,
            token=s.profile.token,
            webhook_secret=s.profile.webhook_secret,
            currency=s.profile.currency,
            timezone=s.profile.timezone,
            admin_url=f"{base_url}/{s.domain}/admin/api/{DEFAULT_VERSION}",
        )
        for s in app.shops.values()
    ]
    return RunningSimulator(base_url=base_url, shops=shops, app=app)


def _server(app: SimulatorApp) -> uvicorn.Server:
    config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
    return uvicorn.Server(config)


def serve(config: SimConfig, on_ready: Callable[[RunningSimulator], None] | None = None) -> None:
    """Build the shops, bind, call ``on_ready(RunningSimulator)``, then serve until stopped."""
    app = SimulatorApp(
        config.shops, rate_limit=config.rate_limit, live_interval=config.live_interval
    )
    sock = bind(config.host, config.port)
    host, port = sock.getsockname()[:2]
    if on_ready is not None:
        on_ready(describe(app, f"http://{host}:{port}"))
    _server(app).run(sockets=[sock])


@contextmanager
def run_in_thread(config: SimConfig) -> Iterator[RunningSimulator]:
    """Serve ``config`` from a background thread (``port=0`` picks a free port)."""
    app = SimulatorApp(
        config.shops, rate_limit=config.rate_limit, live_interval=config.live_interval
    )
    sock = bind(config.host, config.port)
    host, port = sock.getsockname()[:2]
    server = _server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("simulator failed to start")
        time.sleep(0.01)
    try:
        yield describe(app, f"http://{host}:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def run_simulator(
    shops: list[ShopSpec] | None = None,
    *,
    rate_limit: bool = True,
    host: str = "127.0.0.1",
    port: int = 0,
):
    """``with run_simulator(shops=[...]) as sim:`` -- a simulator on a free port."""
    config = SimConfig(shops=shops or [ShopSpec()], host=host, port=port, rate_limit=rate_limit)
    return run_in_thread(config)
