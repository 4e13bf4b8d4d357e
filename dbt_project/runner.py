"""Run the dbt project for a batch of tenants or for all, in-process through `dbtRunner`.

One build serves a batch of tenants: the var `tenants` ((tenant id, raw schema) pairs)
selects their raw data and their slices of the shared marts; a batch of one is the
single-tenant build. The database is the settings' (`core.db`: exported as the XENO_DB_*
variables that `profiles.yml` reads), so dbt, dlt and the API always agree on it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
from dbt.cli.main import dbtRunner, dbtRunnerResult
from psycopg import sql

from core import db, tenants
from core.settings import Settings
from dbt_project import layout
from dbt_project.layout import MART_MODELS, PROFILES_DIR, PROJECT_DIR

log = logging.getLogger(__name__)

# The nil tenant over a raw schema that never exists: a build of nothing (parsing, docs).
NO_TENANT = uuid.UUID(int=0)
BOOTSTRAP_SCHEMA = "shopify_bootstrap"
# pg_advisory_lock key serialising the first creation of the shared mart tables.
MARTS_LOCK_KEY = 0x58454E4F_0004  # "XENO" + 4
# (tenant id, raw schema) pairs built together by one dbt invocation.
Batch = Sequence[tuple[uuid.UUID, str]]


class TransformError(RuntimeError):
    """dbt could not be started, or a build failed; the message says which nodes."""


@dataclass(frozen=True)
class BuildResult:
    """Outcome of one tenant's build; `seconds` is the wall time until it was known (a
    tenant of a batch shares its batch's time)."""

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
        "XENO_MARTS_SCHEMA": marts_schema or layout.marts_schema(),
        # libpq session options for dbt's connections: JIT compilation costs more than it
        # saves on these short statements (~1 s per large statement); a whole-tenant build
        # sorts and hashes millions of rows, which spill to disk at the default 4 MB; and
        # the planner, misjudging joins of the views' computed keys, picks merge joins
        # that sort millions of wide rows where a hash join takes half the time.
        "PGOPTIONS": "-c jit=off -c work_mem=128MB -c enable_mergejoin=off",
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


def _work_dir(settings: Settings, batch: Batch) -> Path:
    """dbt target folder of a build: per tenant for a single tenant (partial parsing survives
    between its builds: dbt re-parses whenever --vars change), per tenant set otherwise."""
    if len(batch) <= 1:
        tenant_id = batch[0][0] if batch else NO_TENANT
        return settings.data_dir / "dbt" / tenant_id.hex
    key = hashlib.sha256(",".join(sorted(str(t) for t, _ in batch)).encode()).hexdigest()
    return settings.data_dir / "dbt" / "batches" / key[:16]


def batch_vars(tenants: Batch, full_refresh: bool = False) -> str:
    """The `--vars` of a build of `tenants` ((tenant id, raw schema) pairs) in one dbt run."""
    return json.dumps(
        {
            "tenants": [
                {"tenant_id": str(tenant_id), "raw_schema": raw_schema}
                for tenant_id, raw_schema in tenants
            ],
            "full_refresh": full_refresh,
        }
    )


def tenant_vars(tenant_id: uuid.UUID, raw_schema: str, full_refresh: bool = False) -> str:
    """The `--vars` of a build of one tenant: a batch of one."""
    return batch_vars([(tenant_id, raw_schema)], full_refresh)


def failures(result: dbtRunnerResult) -> list[str]:
    """`node: message` for each failed or errored node (or the exception)."""
    if result.exception is not None:
        return [f"dbt: {result.exception}"]
    failed = []
    for node in getattr(result.result, "results", None) or []:
        if str(node.status) in {"error", "fail", "runtime error"}:
            failed.append(f"{node.node.unique_id}: {(node.message or '').strip()}")
    return failed or ([] if result.success else ["dbt: build failed"])


def missing_marts(settings: Settings) -> list[str]:
    """Mart tables that do not exist yet."""
    schema = layout.marts_schema()
    with db.connect(settings) as conn:
        rows = conn.execute(
            "select table_name from information_schema.tables where table_schema = %s",
            (schema,),
        ).fetchall()
    existing = {name for (name,) in rows}
    return [name for name in MART_MODELS if name not in existing]


def tenants_without_marts(settings: Settings, batch: Batch) -> list[uuid.UUID]:
    """The batch's tenants with no orders in the marts yet (all of them before the marts
    exist): their next build reads their raw data whole (macros/batch.sql
    tenants_built_whole)."""
    table = sql.Identifier(layout.marts_schema(), "fct_orders")
    tenant_ids = [tenant_id for tenant_id, _ in batch]
    with db.connect(settings) as conn:
        row = conn.execute("select to_regclass(%s)", (table.as_string(conn),)).fetchone()
        if row is None or row[0] is None:
            return tenant_ids
        query = sql.SQL(
            "select batch.id from unnest(%s::uuid[]) with ordinality as batch(id, n) "
            "where not exists (select from {} where tenant_id = batch.id) order by batch.n"
        ).format(table)
        return [tenant_id for (tenant_id,) in conn.execute(query, (tenant_ids,))]


def ensure_marts(settings: Settings) -> None:
    """Create missing mart tables, empty, exactly once even with concurrent builds.

    Two builds must never both try to create a shared table; so the first creation is a
    separate `dbt run` for an empty batch (every staging view is then an empty typed
    relation, so the tables come out empty with their indexes), serialised by an
    advisory lock.
    """
    if not missing_marts(settings):
        return
    with db.connect(settings, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (MARTS_LOCK_KEY,))
        try:
            if missing := missing_marts(settings):
                log.info("creating mart tables: %s", ", ".join(missing))
                result = invoke(
                    ["run", "--vars", batch_vars([])],
                    url=db.resolve_database_url(settings),
                    work_dir=_work_dir(settings, []),
                )
                if not result.success:
                    reasons = "; ".join(failures(result))
                    raise TransformError(f"creating the marts failed: {reasons}")
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (MARTS_LOCK_KEY,))


def build_tenants(
    settings: Settings,
    batch: Batch,
    *,
    full_refresh: bool = False,
    command: str = "build",
    extra_args: Sequence[str] = (),
) -> list[BuildResult]:
    """Build (run and test) the slices of every mart of a batch of tenants in one dbt run.

    One invocation costs seconds whatever the batch's size, so batches are what makes
    many small tenants affordable. A failed run is retried split in halves, down to
    single tenants: the healthy tenants still build, and each failed result names the
    tenant's own failing nodes. Slices are replaced per tenant, so the rebuild of a
    half is idempotent.
    """
    url = db.resolve_database_url(settings)
    started = time.monotonic()
    ensure_marts(settings)

    def run(part: Batch) -> dbtRunnerResult:
        args = [command, "--vars", batch_vars(part, full_refresh)]
        if command == "build":
            # Unit tests check the SQL logic, not the tenants' data: CI runs them once.
            # Nothing reads the JSON artifacts of a build (results come back in memory);
            # writing the manifest took half a second of every build.
            args += ["--exclude-resource-type", "unit_test", "--no-write-json"]
            if not full_refresh and not tenants_without_marts(settings, part):
                # Raw-contract tests read tenants built whole only (dbt_project.yml):
                # here none, so they would cost a query each and read nothing.
                args += ["--exclude", "tag:raw_contract"]
        # A tenant set rarely recurs: its folder goes after the build (no parse cache worth
        # keeping), so neither does dbt write a debug log there (every statement of 50
        # tenants, at real cost to the build).
        throwaway = len(part) > 1
        if throwaway:
            args += ["--log-level-file", "none"]
        work_dir = _work_dir(settings, part)
        try:
            return invoke([*args, *extra_args], url=url, work_dir=work_dir)
        finally:
            if throwaway:
                shutil.rmtree(work_dir, ignore_errors=True)

    return _build_halving(settings, list(batch), run, started)


def _build_halving(
    settings: Settings,
    batch: list[tuple[uuid.UUID, str]],
    run: Callable[[Batch], dbtRunnerResult],
    started: float,
) -> list[BuildResult]:
    """One dbt run of `batch`; on failure, each half again (see build_tenants)."""
    if not batch:
        return []
    result = run(batch)
    if result.success:
        record_builds(settings, [tenant_id for tenant_id, _ in batch])
    if result.success or len(batch) == 1:
        seconds = time.monotonic() - started
        reasons = [] if result.success else failures(result)
        return [BuildResult(t, result.success, seconds, reasons) for t, _ in batch]
    log.warning("build of %d tenants failed; building each half on its own", len(batch))
    half = len(batch) // 2
    return _build_halving(settings, batch[:half], run, started) + _build_halving(
        settings, batch[half:], run, started
    )


def build_tenant(
    settings: Settings,
    tenant_id: uuid.UUID,
    raw_schema: str,
    *,
    full_refresh: bool = False,
    command: str = "build",
    extra_args: Sequence[str] = (),
) -> BuildResult:
    """Build (run and test) one tenant's slice of every mart: a batch of one."""
    (result,) = build_tenants(
        settings,
        [(tenant_id, raw_schema)],
        full_refresh=full_refresh,
        command=command,
        extra_args=extra_args,
    )
    return result


def record_builds(settings: Settings, tenant_ids: Sequence[uuid.UUID]) -> None:
    """Note when the tenants' marts last changed: the API's dashboard cache keys on it."""
    with db.connect(settings, autocommit=True) as conn:
        conn.execute(
            "insert into app.mart_builds (tenant_id) "
            "select id from app.tenants where id = any(%s) "
            "on conflict (tenant_id) do update set built_at = now()",
            (list(tenant_ids),),
        )


def build_all(settings: Settings, *, full_refresh: bool = False) -> Iterator[BuildResult]:
    """Build every tenant of the registry, TRANSFORM_BATCH_SIZE tenants per dbt run; a
    failed tenant does not stop the others."""
    size = settings.transforms.batch_size
    with db.connect(settings) as conn:
        registry = [(tenant.id, tenant.raw_schema) for tenant in tenants.list_all(conn)]
    for first in range(0, len(registry), size):
        batch = registry[first : first + size]
        try:
            yield from build_tenants(settings, batch, full_refresh=full_refresh)
        except Exception as exc:  # reported per tenant; the other batches still run
            log.exception("transform of %d tenants failed", len(batch))
            for tenant_id, _ in batch:
                yield BuildResult(tenant_id, False, 0.0, [f"{type(exc).__name__}: {exc}"])
