"""`xeno dev`: prepare the database, then run each built component as a child process.

Components are started through the `xeno` CLI itself (never imported), so core keeps
depending on no layer. Ctrl-C, or any child exiting, stops all of them: each child leads
its own process group, and the whole group (Dagster's webserver, daemon, code server and
run processes; dbt under the worker) gets SIGTERM, then SIGKILL after STOP_SECONDS.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click

from core import db, migrate
from core import demo as demo_setup
from core.settings import Settings

DEMO_SIMULATOR_PORT = 8787
SIMULATOR_URL = f"http://127.0.0.1:{DEMO_SIMULATOR_PORT}"
API_URL = "http://127.0.0.1:8000"
# How long stopping children may take before they are killed.
STOP_SECONDS = 8.0


@dataclass(frozen=True)
class Component:
    name: str
    argv: tuple[str, ...]
    url: str
    log: str  # file name under DATA_DIR/logs
    demo_only: bool = False
    env: tuple[tuple[str, str], ...] = ()


COMPONENTS = (
    Component(
        "Shopify simulator",
        (
            "simulator",
            "serve",
            "--port",
            str(DEMO_SIMULATOR_PORT),
            "--shops",
            "3",
            "--orders",
            "3000,1200,400",
            "--live",
            "5",
        ),
        f"{SIMULATOR_URL}/_sim/shops",
        "simulator.log",
        demo_only=True,
    ),
    Component("API docs", ("api",), f"{API_URL}/schema", "api.log"),
    # The live loop: users' syncs, first syncs, webhooks (Dagster keeps the daily cycle).
    Component("Worker", ("worker",), "", "worker.log"),
    # Port 3001: 3000 is the usual port of a frontend run next to the demo (CORS_ORIGINS).
    Component(
        "Dagster UI", ("dagster", "dev", "--port", "3001"), "http://127.0.0.1:3001", "dagster.log"
    ),
)


def run(settings: Settings, *, demo: bool) -> None:
    url = db.resolve_database_url(settings)
    applied = migrate.upgrade(url)
    click.echo(f"database ready ({len(applied)} migration(s) applied)")
    env = {**os.environ, "DATABASE_URL": url}
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    click.echo(f"component logs: {logs}/")
    # Ctrl-C, or a supervisor's SIGTERM, stops the children too (set explicitly: a shell
    # starting this in the background would otherwise have it ignore SIGINT).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    children = [
        (component, _start(component, env, logs / component.log))
        for component in COMPONENTS
        if demo or not component.demo_only
    ]
    try:
        if demo:
            click.echo("setting up the demo through the API (first sync and build) ...")
            ready = demo_setup.set_up(API_URL, SIMULATOR_URL, click.echo)
        for component, _ in children:
            if component.url:
                click.echo(f"{component.name}: {component.url}")
        click.echo(f"Dashboard page: {API_URL}/app")
        if demo:
            click.echo(demo_setup.instructions(ready))
        click.echo("running; press Ctrl-C to stop")
        _watch(children)
    except KeyboardInterrupt:
        click.echo("stopping")
    finally:
        _stop(children)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _start(component: Component, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a component with its output in its own log file, so this terminal stays readable."""
    with log.open("ab") as sink:  # the child keeps its own descriptor
        return subprocess.Popen(  # noqa: S603 - our own CLI, fixed argv
            [sys.executable, "-m", "core.cli", *component.argv],
            env={**env, **dict(component.env)},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with all it starts
        )


def _watch(children: list[tuple[Component, subprocess.Popen[bytes]]]) -> None:
    """Return never; raise if any child exits (the others are then stopped)."""
    while True:
        time.sleep(0.5)
        for component, proc in children:
            if proc.poll() is not None:
                raise click.ClickException(
                    f"{component.name} exited unexpectedly (see its log); everything stopped"
                )


def _stop(children: list[tuple[Component, subprocess.Popen[bytes]]]) -> None:
    """SIGTERM to every child's process group; SIGKILL to what is left after STOP_SECONDS.

    A second Ctrl-C (or `uv run` forwarding the first one again) must not cut this short
    and leave children running: stopping ignores further signals.
    """
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    for _, proc in children:
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for _, proc in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    for _, proc in children:  # the leader may be gone while its group lives on
        _signal_group(proc, signal.SIGKILL)
        proc.wait()


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signum)
