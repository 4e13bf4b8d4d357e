"""Helpers the HTTP benchmarks share: a fresh database the API role can use, a free
port, percentiles, and a cheap fixed-arrival-rate load generator. Benchmarks run as
modules (`python -m bench.NAME`)."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field

import psycopg
import uvloop

from core import db, migrate


def bench_database(name: str) -> str:
    """A fresh, migrated database on the local server, usable by the `xeno_api` role."""
    admin = db.local_admin_url()
    if admin is None:
        raise SystemExit("benchmarks need a local PostgreSQL on 127.0.0.1:5432")
    url = db.create_database(admin, name, drop_first=True)
    with psycopg.connect(admin, autocommit=True) as conn:
        with suppress(psycopg.errors.DuplicateObject):
            conn.execute("create role xeno_api nologin")
        conn.execute(f"grant xeno_api to {db.DEV_ROLE}")
    migrate.upgrade(url)
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Connection:
    """A minimal keep-alive HTTP/1.1 client connection: the load generator shares two
    cores with the server, so a request must cost it far less than an HTTP library's."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def send(self, request: bytes) -> int:
        """One request, its status. A keep-alive connection the server closed while idle
        is reopened once, as HTTP clients do (the benchmarks' requests are idempotent)."""
        for attempt in range(2):
            if self.streams is None:
                self.streams = await asyncio.open_connection("127.0.0.1", self.port)
            reader, writer = self.streams
            writer.write(request)
            status_line = await reader.readline()
            if status_line or attempt:
                break
            writer.close()
            self.streams = None
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        parts = status_line.split()
        return int(parts[1]) if len(parts) > 1 else 0


@dataclass
class OpenLoop:
    """A fixed-arrival-rate run. Latency counts from each request's scheduled start
    (waiting for a free connection included: no coordinated omission); `lateness` is the
    generator's own delay in starting a request, reported apart from the server's."""

    latencies_ms: list[float] = field(default_factory=list)
    lateness_ms: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds


async def open_loop(
    port: int, request: Callable[[int], bytes], rate: int, total: int, connections: int
) -> OpenLoop:
    """Start request `i` at `i / rate` seconds; keep-alive connections are reused in turn
    (FIFO, so none sits idle long enough for the server to close it)."""
    result = OpenLoop()
    free: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        free.put_nowait(Connection(port))
    loop = asyncio.get_running_loop()

    async def one(i: int, scheduled: float) -> None:
        conn = await free.get()
        try:
            status = await conn.send(request(i))
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status, conn = 0, Connection(port)
        free.put_nowait(conn)
        result.latencies_ms.append((time.perf_counter() - scheduled) * 1000)
        if status != 200:
            result.errors += 1

    running: set[asyncio.Task[None]] = set()
    t0 = time.perf_counter() + 0.1  # uvloop's loop.time() ticks in whole milliseconds
    for i in range(total):
        scheduled = t0 + i / rate
        if (delay := scheduled - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        result.lateness_ms.append((time.perf_counter() - scheduled) * 1000)
        task = loop.create_task(one(i, scheduled))
        running.add(task)
        task.add_done_callback(running.discard)
    while running:
        await asyncio.gather(*running)
    result.seconds = time.perf_counter() - t0
    return result


def run_open_loop(
    port: int, request: Callable[[int], bytes], rate: int, total: int, connections: int
) -> OpenLoop:
    """`open_loop` on uvloop (a cheaper event loop leaves more CPU to the server)."""
    return uvloop.run(open_loop(port, request, rate, total, connections))


def _clock_seconds(ticks: str) -> float:
    return int(ticks) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine spent busy since boot (/proc/stat)."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq, steal = stat.readline().split()[1:9]
    return sum(_clock_seconds(v) for v in (user, nice, system, irq, softirq, steal))


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds used so far by a process and its live descendants (the server)."""
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with suppress(OSError), open(f"/proc/{entry}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            used[int(entry)] = _clock_seconds(fields[11]) + _clock_seconds(fields[12])
    tree, frontier = {root}, [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        tree.update(children)
        frontier = children
    return sum(used.get(pid, 0.0) for pid in tree)


@dataclass
class CpuMeter:
    """Where the CPU went during a run: the server, the generator (this process) and
    everything else on the machine (PostgreSQL, and whatever else runs on it)."""

    server_pid: int
    started: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def start(self) -> None:
        self.started = (
            machine_busy_seconds(),
            tree_cpu_seconds(self.server_pid),
            time.process_time(),
        )

    def report(self, requests: int, seconds: float) -> dict[str, float]:
        """CPU ms per request of the server and the generator; busy cores of the rest."""
        busy, server, generator = (
            machine_busy_seconds() - self.started[0],
            tree_cpu_seconds(self.server_pid) - self.started[1],
            time.process_time() - self.started[2],
        )
        return {
            "server_cpu_per_request": server * 1000 / requests,
            "generator_cpu_per_request": generator * 1000 / requests,
            "other_busy_cores": (busy - server - generator) / seconds,
        }
