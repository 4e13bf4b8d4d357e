"""``simulator serve``: prints credentials, serves, and fails with one clear line."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
from click.testing import CliRunner

from simulator.cli import simulator


def test_serve_prints_shops_and_serves() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator.cli",
            "serve",
            "--port",
            "0",
            "--shops",
            "3",
            "--orders",
            "50,20,10",
            "--rate-limit",
            "off",
            "--live",
            "0.05",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        while not any("control surface" in line for line in lines):
            line = proc.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        url = next(line.split()[-1] for line in lines if "listening on" in line)
        shops = httpx.get(f"{url}/_sim/shops").json()
        initial = [s["counts"]["orders"] + s["counts"]["checkouts"] for s in shops]
        assert "building 3 shop(s) with 50, 20, 10 orders" in "".join(lines)
        assert [s["domain"] for s in shops] == [f"demo-{n}.myshopify.com" for n in (1, 2, 3)]
        assert len({s["currency"] for s in shops}) == 3
        assert len({s["timezone"] for s in shops}) == 3
        text = "".join(lines)
        assert all(s["token"] in text and s["webhook_secret"] in text for s in shops)
        assert shops[0]["rate_limit"]["enabled"] is False
        # live activity keeps adding orders and checkouts on top of the generated sizes
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            shops = httpx.get(f"{url}/_sim/shops").json()
            grown = [s["counts"]["orders"] + s["counts"]["checkouts"] for s in shops]
            if all(g > base for g, base in zip(grown, initial, strict=True)):
                break
            time.sleep(0.1)
        assert all(g > base for g, base in zip(grown, initial, strict=True)), (grown, initial)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


def test_port_in_use_is_a_clear_error() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    port = sock.getsockname()[1]
    try:
        result = CliRunner().invoke(simulator, ["serve", "--port", str(port), "--orders", "5"])
    finally:
        sock.close()
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("Error: ")


def test_orders_per_shop_must_match_the_shop_count() -> None:
    result = CliRunner().invoke(simulator, ["serve", "--shops", "2", "--orders", "5,6,7"])
    assert result.exit_code == 2
    assert "give one size or 2 sizes" in result.output
