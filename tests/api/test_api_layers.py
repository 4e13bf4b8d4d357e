"""The API process serves HTTP only: loading it loads no dbt, and no job of its own."""

from __future__ import annotations

import subprocess
import sys


def test_the_api_loads_neither_dbt_nor_the_jobs():
    probe = (
        "import sys, api.app; "
        "bad = sorted(m for m in sys.modules if m == 'dbt' or m.startswith(('dbt.', "
        "'orchestration', 'dagster', 'dbt_project.runner'))); "
        "print(','.join(bad))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""
