"""Run the dbt project for one tenant or for all, in-process through `dbtRunner`.

One build serves one tenant: the vars `tenant_id` and `raw_schema` select its raw data and
its slice of the shared marts. The connection comes from `core.db.resolve_database_url()`
(exported as the XENO_DB_* variables that `profiles.yml` reads), so dbt, dlt and the API
always agree on the database.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
from dbt.cli.main import dbtRunner, dbtRunnerResult

from core import db, tenants
from core.settings import get_settings

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent
PROFILES_DIR = PROJECT_DIR.parent
MART_MODELS = tuple(sorted(p.stem for p in (PROJECT_DIR / "models" / "marts").glob("*.sql")))
NO_TENANT = uuid.UUID(int=0)
BOOTSTRAP_SCHEMA = "shopify_bootstrap"
# pg_advisory_lock key serialising the first creation of the shared mart tables.
MARTS_LOCK_KEY = 0x58454E4F_0004  # "XENO" + issue 4


class TransformError(RuntimeError):
    """dbt could not be started, or a build failed; the message says which nodes."""


@dataclass(frozen=True)
class BuildResult:
    """Outcome of one tenant's build."""

    tenant_id: uuid.UUID
    success: bool
    seconds: float
    failures: list[str] = field(default_factory=list)


def dbt_env(url: str, marts_schema: str | None = None) -> dict[str, str]:
    """The XENO_DB_* variables profiles.yml reads, from a `postgresql://` URL."""
    parts = urlsplit(db.with_database(url, _dbname(url)))
    return {
        "XENO_DB_HOST": parts.hostname or "127.0.0.1",
        "XENO_DB_PORT": str(parts.port or 5432),
        "XENO_DB_USER": unquote(parts.username or ""),
        "XENO_DB_PASSWORD": unquote(parts.password or ""),
        "XENO_DB_NAME": _dbname(url),
        "XENO_MARTS_SCHEMA": marts_schema or os.environ.get("XENO_MARTS_SCHEMA", "marts"),
        # libpq session options for dbt's connections: JIT compilation costs more than it
        # saves on these short statements (~1 s per large statement).
        "PGOPTIONS": "-c jit=off",
    }


def _dbname(url: str) -> str:
    return str(psycopg.conninfo.conninfo_to_dict(url).get("dbname") or "")


@contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """profiles.yml reads os.environ: set the connection for the duration of a call."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def invoke(args: Sequence[str], *, url: str, work_dir: Path) -> dbtRunnerResult:
    """Run one dbt command against this project with its own target and log folder."""
    work_dir.mkdir(parents=True, exist_ok=True)
    command = [
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROFILES_DIR),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
    ]
    log.debug("dbt %s", " ".join(command))
    with _environment(dbt_env(url)):
        return dbtRunner().invoke(command)


def _work_dir(tenant_id: uuid.UUID) -> Path:
    """Per-tenant dbt target folder: partial parsing survives between a tenant's builds."""
    return get_settings().data_dir / "dbt" / tenant_id.hex


def tenant_vars(tenant_id: uuid.UUID, raw_schema: str, full_refresh: bool = False) -> str:
    """The `--vars` of a build of `tenant_id` over its raw schema."""
    return (
        f'{{"tenant_id": "{tenant_id}", "raw_schema": "{raw_schema}", '
        f'"full_refresh": {"true" if full_refresh else "false"}}}'
    )


def failures(result: dbtRunnerResult) -> list[str]:
    """`node: message` for each failed or errored node (or the exception)."""
    if result.exception is not None:
        return [f"dbt: {result.exception}"]
    failed = []
    for node in getattr(result.result, "results", None) or []:
        if str(node.status) in {"error", "fail", "runtime error"}:
            failed.append(f"{node.node.unique_id}: {(node.message or '').strip()}")
    return failed or ([] if result.success else ["dbt: build failed"])


def missing_marts(url: str) -> list[str]:
    """Mart tables that do not exist yet."""
    schema = dbt_env(url)["XENO_MARTS_SCHEMA"]
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select table_name from information_schema.tables where table_schema = %s",
            (schema,),
        ).fetchall()
    existing = {name for (name,) in rows}
    return [name for name in MART_MODELS if name not in existing]


def ensure_marts(url: str) -> None:
    """Create missing mart tables, empty, exactly once even with concurrent builds.

    Two tenant builds must never both try to create a shared table; so the first creation
    is a separate `dbt run` for no tenant (the nil UUID) over a raw schema that does not
    exist, which yields empty tables, serialised by an advisory lock.
    """
    if not missing_marts(url):
        return
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (MARTS_LOCK_KEY,))
        try:
            if missing := missing_marts(url):
                log.info("creating mart tables: %s", ", ".join(missing))
                result = invoke(
                    ["run", "--vars", tenant_vars(NO_TENANT, BOOTSTRAP_SCHEMA, False)],
                    url=url,
                    work_dir=_work_dir(NO_TENANT),
                )
                if not result.success:
                    reasons = "; ".join(failures(result))
                    raise TransformError(f"creating the marts failed: {reasons}")
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (MARTS_LOCK_KEY,))


def build_tenant(
    tenant_id: uuid.UUID,
    raw_schema: str,
    *,
    full_refresh: bool = False,
    command: str = "build",
    extra_args: Sequence[str] = (),
    url: str | None = None,
) -> BuildResult:
    """Build (run and test) one tenant's slice of every mart."""
    url = url or db.resolve_database_url()
    started = time.monotonic()
    ensure_marts(url)
    args = [command, "--vars", tenant_vars(tenant_id, raw_schema, full_refresh)]
    if command == "build":
        # Unit tests check the SQL logic, not the tenant's data: CI runs them once.
        args += ["--exclude-resource-type", "unit_test"]
    result = invoke([*args, *extra_args], url=url, work_dir=_work_dir(tenant_id))
    if result.success:
        record_build(url, tenant_id)
    return BuildResult(
        tenant_id=tenant_id,
        success=result.success,
        seconds=time.monotonic() - started,
        failures=[] if result.success else failures(result),
    )


def record_build(url: str, tenant_id: uuid.UUID) -> None:
    """Note when the tenant's marts last changed: the API's dashboard cache keys on it."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "insert into app.mart_builds (tenant_id) select id from app.tenants where id = %s "
            "on conflict (tenant_id) do update set built_at = now()",
            (tenant_id,),
        )


def build_all(*, full_refresh: bool = False, url: str | None = None) -> Iterator[BuildResult]:
    """Build every tenant of the registry in turn; a failure does not stop the others."""
    url = url or db.resolve_database_url()
    with db.transaction() as conn:
        registry = tenants.list_all(conn)
    for tenant in registry:
        try:
            yield build_tenant(tenant.id, tenant.raw_schema, full_refresh=full_refresh, url=url)
        except Exception as exc:  # reported per tenant; the others still run
            log.exception("transform of tenant %s failed", tenant.id)
            yield BuildResult(tenant.id, False, 0.0, [f"{type(exc).__name__}: {exc}"])
