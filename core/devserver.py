"""`xeno dev`: prepare the database, then run each built component as a child process.

Components are started through the `xeno` CLI itself (never imported), so core keeps
depending on no layer. Ctrl-C, or any child exiting, stops all of them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib.metadata import entry_points

import click

from core import db, migrate
from core.settings import get_settings

DEMO_SIMULATOR_PORT = 8787


@dataclass(frozen=True)
class Component:
    name: str
    command: str  # the `xeno.commands` entry point that must exist
    argv: tuple[str, ...]
    url: str
    demo_only: bool = False


COMPONENTS = (
    Component(
        "Shopify simulator",
        "simulator",
        (
            "simulator",
            "serve",
            "--port",
            str(DEMO_SIMULATOR_PORT),
            "--shops",
            "3",
            "--orders",
            "2000",
        ),
        f"http://127.0.0.1:{DEMO_SIMULATOR_PORT}/_sim/shops",
        demo_only=True,
    ),
    Component("API", "api", ("api",), "http://127.0.0.1:8000/schema"),
)


def _built(command: str) -> bool:
    return any(ep.name == command for ep in entry_points(group="xeno.commands"))


def run(*, demo: bool) -> None:
    settings = get_settings()
    url = db.resolve_database_url(settings)
    applied = migrate.upgrade(url)
    click.echo(f"database ready ({len(applied)} migration(s) applied)")
    env = {**os.environ, "DATABASE_URL": url}
    children: list[tuple[Component, subprocess.Popen[bytes]]] = []
    for component in COMPONENTS:
        if component.demo_only and not demo:
            continue
        if not _built(component.command):
            click.echo(f"{component.name}: not built yet, skipped")
            continue
        proc = subprocess.Popen(  # noqa: S603 - our own CLI, fixed argv
            [sys.executable, "-m", "core.cli", *component.argv], env=env
        )
        children.append((component, proc))
        click.echo(f"{component.name}: {component.url}")
    if not children:
        click.echo("nothing to run yet: the database is ready")
        return
    click.echo("running; press Ctrl-C to stop")
    _supervise(children)


def _supervise(children: list[tuple[Component, subprocess.Popen[bytes]]]) -> None:
    failed: Component | None = None
    try:
        while failed is None:
            time.sleep(0.5)
            failed = next((c for c, p in children if p.poll() is not None), None)
    except KeyboardInterrupt:
        click.echo("stopping")
    finally:
        for _, proc in children:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for _, proc in children:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    if failed is not None:
        raise click.ClickException(f"{failed.name} exited unexpectedly; everything stopped")
