"""Settings: one typed object read from the environment and `.env`.

Every setting has a safe development default so `xeno dev` works on a fresh clone.
In production (`XENO_ENV=production`) secrets have no default: start-up fails with a
message naming each missing or weak secret instead of running insecurely.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("development", "test", "production")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true/false")


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _int(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"expected an integer, got {raw!r}") from None


def _positive_int(raw: str) -> int:
    value = _int(raw)
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


def _non_negative_int(raw: str) -> int:
    value = _int(raw)
    if value < 0:
        raise ValueError("must be zero or a positive integer")
    return value


def _positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"expected a number, got {raw!r}") from None
    if not value > 0:
        raise ValueError("must be a positive number")
    return value


def _environment(raw: str) -> str:
    if raw not in ENVIRONMENTS:
        raise ValueError(f"must be one of {', '.join(ENVIRONMENTS)}")
    return raw


def _endpoint_template(raw: str) -> str:
    if "{shop}" not in raw or not raw.startswith(("http://", "https://")):
        raise ValueError("must be an http(s) URL containing {shop}, e.g. https://{shop}")
    return raw.rstrip("/")


def _setting(
    env: str, default: Any, parse: Callable[[str], Any] = str, *, doc: str, secret: bool = False
) -> Any:
    return field(
        default=default, metadata={"env": env, "parse": parse, "doc": doc, "secret": secret}
    )


@dataclass(frozen=True)
class Settings:
    """All configuration of Xeno. Field metadata documents each environment variable."""

    environment: str = _setting(
        "XENO_ENV",
        "development",
        _environment,
        doc="development, test or production; production refuses missing secrets",
    )
    database_url: str = _setting(
        "DATABASE_URL",
        "",
        doc="PostgreSQL URL; empty = local PostgreSQL on 127.0.0.1:5432 if it answers, "
        "else an embedded server under DATA_DIR",
    )
    data_dir: Path = _setting(
        "DATA_DIR",
        PROJECT_ROOT / ".local",
        lambda raw: PROJECT_ROOT / raw,
        doc="project-local folder for the embedded database and development secrets",
    )
    db_pool_min: int = _setting(
        "DB_POOL_MIN", 1, _non_negative_int, doc="minimum connections kept in the pool"
    )
    db_pool_max: int = _setting(
        "DB_POOL_MAX", 10, _positive_int, doc="maximum connections in the pool"
    )
    encryption_keys: tuple[str, ...] = _setting(
        "ENCRYPTION_KEYS",
        (),
        _csv,
        secret=True,
        doc="comma-separated Fernet keys for Shopify tokens at rest; the first encrypts, "
        "all decrypt (rotation). Development default: generated once into DATA_DIR",
    )
    jwt_secret: str = _setting(
        "JWT_SECRET",
        "",
        secret=True,
        doc="HMAC secret for access tokens, at least 32 random bytes. Development "
        "default: generated once into DATA_DIR",
    )
    shopify_api_secret: str = _setting(
        "SHOPIFY_API_SECRET",
        "",
        secret=True,
        doc="the app's client secret; verifies webhooks of stores without their own "
        "webhook secret. No default: such webhooks are rejected until it is set",
    )
    shopify_endpoint_template: str = _setting(
        "SHOPIFY_ENDPOINT_TEMPLATE",
        "",
        _endpoint_template,
        doc="store base URL with {shop}; default https://{shop} in production and the "
        "local simulator http://127.0.0.1:8787/{shop} otherwise",
    )
    shopify_api_version: str = _setting(
        "SHOPIFY_API_VERSION",
        "2026-10",
        doc="Shopify GraphQL Admin API version used for every call",
    )
    sync_lookback_seconds: int = _setting(
        "SYNC_LOOKBACK_SECONDS",
        300,
        _non_negative_int,
        doc="incremental syncs re-read records updated this long before the last cursor",
    )
    base_url: str = _setting(
        "BASE_URL",
        "http://127.0.0.1:8000",
        doc="public URL of the API; webhook addresses are built on it",
    )
    cors_origins: tuple[str, ...] = _setting(
        "CORS_ORIGINS",
        ("http://localhost:3000", "http://127.0.0.1:3000"),
        _csv,
        doc="comma-separated origins allowed to call the API from a browser",
    )
    log_level: str = _setting("LOG_LEVEL", "INFO", doc="Python logging level")
    shopify_max_retries: int = _setting(
        "SHOPIFY_MAX_RETRIES",
        6,
        _non_negative_int,
        doc="retries of a store call after a 5xx, timeout or dropped connection",
    )
    shopify_retry_backoff_ms: int = _setting(
        "SHOPIFY_RETRY_BACKOFF_MS",
        500,
        _non_negative_int,
        doc="first retry waits about this long; each further retry doubles it (jittered)",
    )
    shopify_timeout_seconds: int = _setting(
        "SHOPIFY_TIMEOUT_SECONDS", 30, _positive_int, doc="timeout of one store call"
    )
    shopify_bulk_poll_seconds: float = _setting(
        "SHOPIFY_BULK_POLL_SECONDS",
        1.0,
        _positive_float,
        doc="first wait between two status polls of a bulk operation; each further wait is "
        "half as long again, up to ten times this",
    )
    shopify_bulk_timeout_seconds: int = _setting(
        "SHOPIFY_BULK_TIMEOUT_SECONDS",
        4 * 3600,
        _positive_int,
        doc="a bulk operation not finished this long after the sync began waiting for it is "
        "cancelled and the sync fails",
    )
    sync_window_records: int = _setting(
        "SYNC_WINDOW_RECORDS",
        50_000,
        _positive_int,
        doc="a sync commits (loads) at least every this many records of a resource, so a "
        "killed backfill resumes from its last window instead of from zero",
    )
    sync_bulk_records: int = _setting(
        "SYNC_BULK_RECORDS",
        1_000,
        _positive_int,
        doc="an incremental sync reads a resource with a bulk operation when more than this "
        "many of its records changed since the last sync, and page by page otherwise",
    )
    sync_normalize_workers: int = _setting(
        "SYNC_NORMALIZE_WORKERS",
        1,
        _positive_int,
        doc="processes dlt normalises load files with during a sync",
    )

    api_database_url: str = _setting(
        "API_DATABASE_URL",
        "",
        secret=True,
        doc="PostgreSQL URL the API's request handlers use; they always act as the "
        "row-level-secured role xeno_api (SET ROLE). Empty = DATABASE_URL (development)",
    )
    api_workers: int = _setting(
        "API_WORKERS", 1, _positive_int, doc="uvicorn worker processes of `xeno api`"
    )
    api_max_body_bytes: int = _setting(
        "API_MAX_BODY_BYTES",
        1_048_576,
        _positive_int,
        doc="largest request body the API accepts; bigger bodies get 413",
    )
    api_statement_timeout_ms: int = _setting(
        "API_STATEMENT_TIMEOUT_MS",
        5_000,
        _positive_int,
        doc="statement timeout of every database query made by an API request",
    )
    access_token_ttl_seconds: int = _setting(
        "ACCESS_TOKEN_TTL_SECONDS", 900, _positive_int, doc="lifetime of an API access token"
    )
    refresh_token_ttl_seconds: int = _setting(
        "REFRESH_TOKEN_TTL_SECONDS",
        30 * 24 * 3600,
        _positive_int,
        doc="lifetime of a refresh token family (each use rotates the token)",
    )
    auth_rate_limit_per_minute: int = _setting(
        "AUTH_RATE_LIMIT_PER_MINUTE",
        10,
        _positive_int,
        doc="login and register attempts allowed per client address and minute (each)",
    )
    dashboard_cache_seconds: int = _setting(
        "DASHBOARD_CACHE_SECONDS",
        60,
        _non_negative_int,
        doc="longest a cached dashboard is served; a mart build of the tenant (recorded in "
        "app.mart_builds) invalidates it sooner; 0 disables the cache",
    )
    transform_batch_size: int = _setting(
        "TRANSFORM_BATCH_SIZE",
        50,
        _positive_int,
        doc="tenants built by one dbt invocation when building all (`xeno transform`); "
        "a dbt build costs seconds per invocation, little per tenant",
    )

    analyst_statement_timeout_ms: int = _setting(
        "ANALYST_STATEMENT_TIMEOUT_MS",
        60_000,
        _positive_int,
        doc="statement timeout of every query of an analyst login (`xeno analyst grant`)",
    )
    analyst_connection_limit: int = _setting(
        "ANALYST_CONNECTION_LIMIT",
        3,
        _positive_int,
        doc="concurrent connections allowed to each analyst login",
    )

    dagster_home: Path | None = _setting(
        "DAGSTER_HOME",
        None,
        lambda raw: PROJECT_ROOT / raw,
        doc="Dagster's instance folder (its dagster.yaml, logs, local storage); "
        "empty = DATA_DIR/dagster",
    )
    dagster_database_url: str = _setting(
        "DAGSTER_DATABASE_URL",
        "",
        secret=True,
        doc="PostgreSQL URL of Dagster's run, event and schedule storage (production); "
        "empty = local SQLite files under DAGSTER_HOME (development)",
    )
    sync_schedule_cron: str = _setting(
        "SYNC_SCHEDULE_CRON",
        "0 2 * * *",
        doc="when Dagster syncs and transforms every tenant (cron, in SYNC_SCHEDULE_TIMEZONE)",
    )
    sync_schedule_timezone: str = _setting(
        "SYNC_SCHEDULE_TIMEZONE", "UTC", doc="IANA time zone of SYNC_SCHEDULE_CRON"
    )
    max_runs_per_store: int = _setting(
        "MAX_RUNS_PER_STORE",
        1,
        _positive_int,
        doc="Dagster runs of one tenant (one store) allowed to run at once",
    )
    max_warehouse_runs: int = _setting(
        "MAX_WAREHOUSE_RUNS",
        2,
        _positive_int,
        doc="Dagster steps loading into or building the warehouse at once (the `warehouse` "
        "pool); the run queue admits twice as many runs",
    )
    orchestration_batch_size: int = _setting(
        "ORCHESTRATION_BATCH_SIZE",
        50,
        _positive_int,
        doc="tenants per Dagster run of the daily cycle and other bulk syncs (one dbt build "
        "per run); on-demand syncs of one tenant stay one run each",
    )
    orchestration_sync_threads: int = _setting(
        "ORCHESTRATION_SYNC_THREADS",
        4,
        _positive_int,
        doc="tenants of one batched Dagster run synced at once (threads: syncs wait on the "
        "store and the database more than on the CPU)",
    )

    webhook_max_body_bytes: int = _setting(
        "WEBHOOK_MAX_BODY_BYTES",
        2_097_152,
        _positive_int,
        doc="largest webhook body accepted (Shopify's large orders exceed API_MAX_BODY_BYTES); "
        "bigger deliveries get 413",
    )
    worker_sync_threads: int = _setting(
        "WORKER_SYNC_THREADS",
        3,
        _positive_int,
        doc="syncs the worker runs at once: the first serves users' requests only, the others "
        "also new tenants' first syncs (a long backfill never holds up a user's sync)",
    )
    worker_first_syncs: bool = _setting(
        "WORKER_FIRST_SYNCS",
        True,
        _bool,
        doc="the worker queues one first sync for every tenant that never had a sync; off, "
        "a tenant is synced only when asked (API, CLI, the daily cycle)",
    )
    worker_poll_seconds: float = _setting(
        "WORKER_POLL_SECONDS",
        1.0,
        _positive_float,
        doc="how often the idle worker looks for queued syncs and due webhooks",
    )
    worker_erase_interval_seconds: int = _setting(
        "WORKER_ERASE_INTERVAL_SECONDS",
        60,
        _positive_int,
        doc="how often the worker erases tenants whose scheduled deletion is due",
    )
    tenant_deletion_grace_hours: int = _setting(
        "TENANT_DELETION_GRACE_HOURS",
        48,
        _non_negative_int,
        doc="after shop/redact or app/uninstalled, the tenant's data is deleted this long later",
    )

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def shopify_endpoint(self) -> str:
        """The store URL template actually in force (explicit, or the environment's default)."""
        if self.shopify_endpoint_template:
            return self.shopify_endpoint_template
        return "https://{shop}" if self.is_production else "http://127.0.0.1:8787/{shop}"


def setting_fields() -> list[Any]:
    """The documented settings, in declaration order (used by docs and `.env.example` checks)."""
    return list(fields(Settings))


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> Settings:
    """Read settings from `environ` (default: process environment) over an optional `.env`.

    Raises SettingsError listing every bad value at once, so one run shows all fixes.
    """
    source: dict[str, str] = {}
    dotenv_path = env_file if env_file is not None else PROJECT_ROOT / ".env"
    if dotenv_path.is_file():
        source.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    source.update(os.environ if environ is None else environ)

    values: dict[str, Any] = {}
    problems: list[str] = []
    for f in setting_fields():
        raw = source.get(f.metadata["env"])
        if raw is None or raw == "":
            continue
        try:
            values[f.name] = f.metadata["parse"](raw)
        except ValueError as exc:
            problems.append(f"{f.metadata['env']}: {exc}")
    if problems:
        raise SettingsError("invalid settings: " + "; ".join(problems))
    settings = Settings(**values)
    return _with_secrets(settings)


def _with_secrets(settings: Settings) -> Settings:
    """Fill development secrets, or refuse to run production without strong ones."""
    if settings.is_production:
        problems = []
        if not settings.encryption_keys:
            problems.append(
                "ENCRYPTION_KEYS is required (generate one with `xeno secrets generate`)"
            )
        if len(settings.jwt_secret.encode()) < 32:
            problems.append("JWT_SECRET is required and must be at least 32 bytes")
        if settings.database_url == "":
            problems.append("DATABASE_URL is required")
        if problems:
            raise SettingsError("production settings incomplete: " + "; ".join(problems))
        return settings
    generated = _development_secrets(settings.data_dir)
    return Settings(
        **{
            **{f.name: getattr(settings, f.name) for f in setting_fields()},
            "encryption_keys": settings.encryption_keys or (generated["encryption_key"],),
            "jwt_secret": settings.jwt_secret or generated["jwt_secret"],
        }
    )


def _development_secrets(data_dir: Path) -> dict[str, str]:
    """Random secrets created once per checkout, so restarts can still decrypt tokens.

    They live in DATA_DIR (git-ignored) and are never used in production.
    """
    from cryptography.fernet import Fernet

    path = data_dir / "dev-secrets.json"
    if path.is_file():
        return json.loads(path.read_text())
    data_dir.mkdir(parents=True, exist_ok=True)
    created = {
        "encryption_key": Fernet.generate_key().decode(),
        "jwt_secret": secrets.token_urlsafe(48),
    }
    path.touch(mode=0o600)
    path.write_text(json.dumps(created))
    return created


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
