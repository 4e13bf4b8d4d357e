"""The `xeno` console script, run as a user runs it: a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys


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
