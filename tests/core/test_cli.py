"""The `xeno` console script, run as a user runs it: a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time


def xeno(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )


def test_db_upgrade_is_idempotent_and_summarises(make_database):
    url = make_database()
    first = xeno("db", "upgrade", DATABASE_URL=url)
    assert first.returncode == 0, first.stderr
    assert "applied 0001_app_schema" in first.stdout
    second = xeno("db", "upgrade", DATABASE_URL=url)
    assert second.returncode == 0
    assert second.stdout.strip().splitlines()[-1] == "database up to date: 0 migration(s) applied"


def test_tenant_list_on_an_empty_database(make_database):
    url = make_database()
    xeno("db", "upgrade", DATABASE_URL=url)
    result = xeno("tenant", "list", DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0 tenant(s)"


def test_bad_settings_fail_with_one_clear_line():
    result = xeno(
        "tenant", "list", XENO_ENV="production", DATABASE_URL="", ENCRYPTION_KEYS="", JWT_SECRET=""
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: production settings incomplete")


def test_unreachable_database_fails_cleanly():
    result = xeno(
        "db", "upgrade", DATABASE_URL="postgresql://nobody:pw@127.0.0.1:1/none?connect_timeout=2"
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error:")


def test_help_is_fast_and_imports_no_layer():
    """`xeno --help` lists the layer commands from their source, importing none of them."""
    probe = (
        "import sys, time; from core.cli import cli; started = time.perf_counter()\n"
        "try: cli(['--help'], prog_name='xeno')\n"
        "except SystemExit: pass\n"
        "layers = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'api', 'ingestion', 'orchestration', 'dbt_project', 'dbt', 'dagster', 'dlt'})\n"
        "print('LAYERS', layers)"
    )
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    assert "LAYERS []" in result.stdout
    for command in ("api", "sync", "transform", "worker", "dagster", "simulator"):
        assert f"  {command} " in result.stdout
    assert "Serve the HTTP API" in result.stdout
    assert elapsed < 2, elapsed


def test_unreachable_database_fails_fast_in_one_line():
    started = time.perf_counter()
    result = xeno("tenant", "list", DATABASE_URL="postgresql://nobody:pw@127.0.0.1:1/none")
    elapsed = time.perf_counter() - started
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("Error: database unreachable:")
    assert elapsed < 5, elapsed
