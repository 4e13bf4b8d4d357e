"""`xeno dagster dev|webserver|daemon` (attached through `xeno.commands`).

Each command prepares DAGSTER_HOME and the dbt manifest, then replaces itself with the
Dagster process (exec), so signals from `xeno dev` or a terminal reach Dagster directly.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from core import db
from core.settings import get_settings

# 3000 is left to the frontend a developer runs next to the API (the seed's Next.js app)
UI_PORT = 3001
CODE_LOCATION = ("-m", "orchestration.definitions")


def _exec(program: str, *args: str) -> None:
    """Run a Dagster executable of this environment in place of this process."""
    from orchestration.instance import prepare_home
    from orchestration.resources import prepare_manifest

    settings = get_settings()
    os.environ["DAGSTER_HOME"] = str(prepare_home(settings))
    # Runs launched by Dagster resolve the same database as every other component.
    os.environ["DATABASE_URL"] = db.resolve_database_url(settings)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    # dagster-dbt runs `dbt` from PATH: this environment's, even when it is not activated.
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    click.echo(f"dbt manifest: {prepare_manifest()}", err=True)
    executable = Path(sys.executable).with_name(program)
    os.execv(executable, [str(executable), *args])  # noqa: S606 - our environment's Dagster


@click.group("dagster")
def dagster_group() -> None:
    """Dagster: the UI, schedules and sensors that run every tenant's pipeline."""


@dagster_group.command("dev")
@click.option("--port", default=UI_PORT, show_default=True, help="Port of the UI.")
def dev(port: int) -> None:
    """Webserver (UI) and daemon (schedule, sensor, run queue) together."""
    _exec("dagster", "dev", *CODE_LOCATION, "--host", "127.0.0.1", "--port", str(port))


@dagster_group.command("webserver")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=UI_PORT, show_default=True, help="Port of the UI.")
def webserver(host: str, port: int) -> None:
    """The UI alone (production: one process next to `xeno dagster daemon`)."""
    _exec("dagster-webserver", *CODE_LOCATION, "--host", host, "--port", str(port))


@dagster_group.command("daemon")
def daemon() -> None:
    """The daemon alone: schedule, sensor, run queue, run monitoring and run retries."""
    _exec("dagster-daemon", "run", *CODE_LOCATION)
