"""dbt's Jinja context as sqlfluff's jinja templater sees the models (`.sqlfluff`).

The linter renders the models offline, without dbt or a database: a batch of one tenant,
an incremental build, no catalog (`execute` false, so macros skip their queries and raw
selects render their empty, typed branch). sqlfluff adds its own `ref`, `source`, `this`,
`config` and `is_incremental` stand-ins.
"""

from __future__ import annotations

import hashlib
import re
from types import SimpleNamespace
from typing import Any

execute = False
invocation_id = "00000000-0000-0000-0000-000000000000"
modules = SimpleNamespace(re=re)
target = SimpleNamespace(database="xeno", schema="marts")

VARS: dict[str, Any] = {
    "tenants": [{"tenant_id": "00000000-0000-0000-0000-000000000001", "raw_schema": "shopify"}],
    "full_refresh": False,
    "top_customers_limit": 100,
}


def var(name: str, default: Any = None) -> Any:
    """A project var (dbt_project.yml) with a lint-time value."""
    return VARS.get(name, default)


def local_md5(text: str) -> str:
    """dbt's md5 of a string."""
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def run_query(sql: str) -> None:
    """Never reached: every query of the macros is guarded by `execute`."""
    raise RuntimeError(f"no database while linting: {sql}")


def _raise_compiler_error(message: str) -> None:
    raise ValueError(message)


def _quote(name: str) -> str:
    return f'"{name}"'


def _get_relation(**_: Any) -> None:
    return None


exceptions = SimpleNamespace(raise_compiler_error=_raise_compiler_error)
adapter = SimpleNamespace(quote=_quote, get_relation=_get_relation)
