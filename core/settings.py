"""Settings: typed groups per layer, read from the environment and `.env` once, at the edge.

Each group (database, api, auth, shopify, ingestion, transforms, analysts, orchestration,
webhooks, worker) is a frozen pydantic model; every field has its real type, a one-line
meaning and the environment variable it is read from (`validation_alias`). Entry points
(CLI commands, the API app factory, the worker, the Dagster definitions) call
`get_settings()` and pass the object down; library code never reads the environment.

Every setting has a safe development default so `xeno dev` works on a fresh clone.
In production (`XENO_ENV=production`) secrets have no default: start-up fails with a
message naming each missing or weak secret instead of running insecurely.

`.env.example` and the README's settings table are generated from these declarations
(`uv run python -m core.settings`); a test keeps both in step.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from dotenv import dotenv_values
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent

Environment = Literal["development", "test", "production"]


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _split_csv(raw: object) -> object:
    """Comma-separated text becomes a tuple of its non-empty parts; tuples pass through."""
    if isinstance(raw, str):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


def _endpoint_template(raw: str) -> str:
    if raw and ("{shop}" not in raw or not raw.startswith(("http://", "https://"))):
        raise ValueError("must be an http(s) URL containing {shop}, e.g. https://{shop}")
    return raw.rstrip("/")


Csv = Annotated[tuple[str, ...], BeforeValidator(_split_csv)]
ProjectPath = Annotated[Path, AfterValidator(lambda path: PROJECT_ROOT / path)]
"""A path relative to the project root (absolute paths stay as they are)."""


class Group(BaseModel):
    """A frozen group of settings; fields are read by their environment name (alias)."""

    model_config = ConfigDict(
        frozen=True, extra="ignore", validate_by_alias=True, validate_by_name=True
    )


class DatabaseSettings(Group):
    """The warehouse and application database."""

    url: str = Field(
        "",
        validation_alias="DATABASE_URL",
        description="PostgreSQL URL of the app schema and the warehouse; empty = local "
        "PostgreSQL on 127.0.0.1:5432 if it answers, else an embedded server under DATA_DIR "
        "(required in production)",
    )
    pool_min: int = Field(
        1, ge=0, validation_alias="DB_POOL_MIN", description="connections the API's pool keeps"
    )
    pool_max: int = Field(
        10, gt=0, validation_alias="DB_POOL_MAX", description="most connections in the API's pool"
    )


class ApiSettings(Group):
    """The HTTP API (`xeno api`)."""

    base_url: str = Field(
        "http://127.0.0.1:8000",
        validation_alias="BASE_URL",
        description="public URL of the API; webhook addresses are built on it",
    )
    database_url: str = Field(
        "",
        validation_alias="API_DATABASE_URL",
        description="PostgreSQL URL the API's request handlers use; they always act as the "
        "row-level-secured role xeno_api (SET ROLE). Empty = DATABASE_URL (development)",
    )
    cors_origins: Csv = Field(
        ("http://localhost:3000", "http://127.0.0.1:3000"),
        validation_alias="CORS_ORIGINS",
        description="comma-separated origins allowed to call the API from a browser",
    )
    workers: int = Field(
        1, gt=0, validation_alias="API_WORKERS", description="uvicorn worker processes"
    )
    max_body_bytes: int = Field(
        1_048_576,
        gt=0,
        validation_alias="API_MAX_BODY_BYTES",
        description="largest request body the API accepts; bigger bodies get 413",
    )
    statement_timeout_ms: int = Field(
        5_000,
        gt=0,
        validation_alias="API_STATEMENT_TIMEOUT_MS",
        description="statement timeout of every database query made by an API request",
    )
    dashboard_cache_seconds: int = Field(
        60,
        ge=0,
        validation_alias="DASHBOARD_CACHE_SECONDS",
        description="longest a cached dashboard is served; a mart build of the tenant "
        "(app.mart_builds) invalidates it sooner; 0 disables the cache",
    )


class AuthSettings(Group):
    """Logins and tokens of the API's users."""

    jwt_secret: str = Field(
        "",
        validation_alias="JWT_SECRET",
        description="HMAC secret for access tokens, at least 32 random bytes; development "
        "default: generated once into DATA_DIR",
    )
    access_token_ttl_seconds: int = Field(
        900,
        gt=0,
        validation_alias="ACCESS_TOKEN_TTL_SECONDS",
        description="lifetime of an API access token",
    )
    refresh_token_ttl_seconds: int = Field(
        30 * 24 * 3600,
        gt=0,
        validation_alias="REFRESH_TOKEN_TTL_SECONDS",
        description="lifetime of a refresh token family (each use rotates the token)",
    )
    rate_limit_per_minute: int = Field(
        10,
        gt=0,
        validation_alias="AUTH_RATE_LIMIT_PER_MINUTE",
        description="login and register attempts allowed per client address and minute (each)",
    )


class ShopifySettings(Group):
    """How stores (or the simulator) are reached."""

    api_secret: str = Field(
        "",
        validation_alias="SHOPIFY_API_SECRET",
        description="the app's client secret; verifies webhooks of stores without their own "
        "webhook secret and the compliance webhooks. No default: such webhooks are rejected",
    )
    endpoint_template: Annotated[str, AfterValidator(_endpoint_template)] = Field(
        "",
        validation_alias="SHOPIFY_ENDPOINT_TEMPLATE",
        description="store base URL with {shop}; empty = https://{shop} in production and "
        "the local simulator http://127.0.0.1:8787/{shop} otherwise",
    )
    api_version: str = Field(
        "2026-10",
        validation_alias="SHOPIFY_API_VERSION",
        description="Shopify GraphQL Admin API version used for every call",
    )
    max_retries: int = Field(
        6,
        ge=0,
        validation_alias="SHOPIFY_MAX_RETRIES",
        description="retries of a store call after a 5xx, timeout or dropped connection",
    )
    retry_backoff_ms: int = Field(
        500,
        ge=0,
        validation_alias="SHOPIFY_RETRY_BACKOFF_MS",
        description="first retry waits about this long; each further one doubles it (jittered)",
    )
    timeout_seconds: int = Field(
        30, gt=0, validation_alias="SHOPIFY_TIMEOUT_SECONDS", description="timeout of one call"
    )
    bulk_poll_seconds: float = Field(
        1.0,
        gt=0,
        validation_alias="SHOPIFY_BULK_POLL_SECONDS",
        description="first wait between two status polls of a bulk operation; each further "
        "wait is half as long again, up to ten times this",
    )
    bulk_timeout_seconds: int = Field(
        4 * 3600,
        gt=0,
        validation_alias="SHOPIFY_BULK_TIMEOUT_SECONDS",
        description="a bulk operation not finished this long after the sync began waiting for "
        "it is cancelled and the sync fails",
    )


class IngestionSettings(Group):
    """Syncs from a store into the tenant's raw schema."""

    lookback_seconds: int = Field(
        300,
        ge=0,
        validation_alias="SYNC_LOOKBACK_SECONDS",
        description="incremental syncs re-read records updated this long before the cursor",
    )
    bulk_records: int = Field(
        1_000,
        gt=0,
        validation_alias="SYNC_BULK_RECORDS",
        description="an incremental sync reads a resource with a bulk operation when more than "
        "this many of its records changed since the last sync, and page by page otherwise",
    )


class TransformSettings(Group):
    """dbt builds of the marts."""

    batch_size: int = Field(
        50,
        gt=0,
        validation_alias="TRANSFORM_BATCH_SIZE",
        description="tenants built by one dbt invocation when building all (`xeno transform`); "
        "a dbt build costs seconds per invocation, little per tenant",
    )


class AnalystSettings(Group):
    """Analyst SQL logins (`xeno analyst grant`)."""

    statement_timeout_ms: int = Field(
        60_000,
        gt=0,
        validation_alias="ANALYST_STATEMENT_TIMEOUT_MS",
        description="statement timeout of every query of an analyst login (and of exports)",
    )
    connection_limit: int = Field(
        3,
        gt=0,
        validation_alias="ANALYST_CONNECTION_LIMIT",
        description="concurrent connections allowed to each analyst login",
    )


class OrchestrationSettings(Group):
    """Dagster: the daily cycle and its storage."""

    dagster_home: ProjectPath | None = Field(
        None,
        validation_alias="DAGSTER_HOME",
        description="Dagster's instance folder (dagster.yaml, logs, local storage); "
        "empty = DATA_DIR/dagster",
    )
    dagster_database_url: str = Field(
        "",
        validation_alias="DAGSTER_DATABASE_URL",
        description="PostgreSQL URL of Dagster's run, event and schedule storage (production); "
        "empty = local SQLite files under DAGSTER_HOME",
    )
    schedule_cron: str = Field(
        "0 2 * * *",
        validation_alias="SYNC_SCHEDULE_CRON",
        description="when Dagster syncs and builds every tenant (cron, in SYNC_SCHEDULE_TIMEZONE)",
    )
    schedule_timezone: str = Field(
        "UTC", validation_alias="SYNC_SCHEDULE_TIMEZONE", description="IANA zone of the schedule"
    )
    max_runs_per_store: int = Field(
        1,
        gt=0,
        validation_alias="MAX_RUNS_PER_STORE",
        description="Dagster runs of one tenant (one store) allowed to run at once",
    )
    max_warehouse_runs: int = Field(
        2,
        gt=0,
        validation_alias="MAX_WAREHOUSE_RUNS",
        description="Dagster steps loading into or building the warehouse at once (the "
        "`warehouse` pool); the run queue admits twice as many runs",
    )
    batch_size: int = Field(
        50,
        gt=0,
        validation_alias="ORCHESTRATION_BATCH_SIZE",
        description="tenants per Dagster run of the daily cycle and other bulk syncs (one dbt "
        "build per run); on-demand syncs of one tenant stay one run each",
    )
    sync_threads: int = Field(
        4,
        gt=0,
        validation_alias="ORCHESTRATION_SYNC_THREADS",
        description="tenants of one batched Dagster run synced at once (threads)",
    )


class WebhookSettings(Group):
    """Webhook receipt and the privacy duties they bring."""

    max_body_bytes: int = Field(
        2_097_152,
        gt=0,
        validation_alias="WEBHOOK_MAX_BODY_BYTES",
        description="largest webhook body accepted (large orders exceed API_MAX_BODY_BYTES); "
        "bigger deliveries get 413",
    )
    deletion_grace_hours: int = Field(
        48,
        ge=0,
        validation_alias="TENANT_DELETION_GRACE_HOURS",
        description="after shop/redact or app/uninstalled, the tenant's data is deleted "
        "this long later",
    )


class WorkerSettings(Group):
    """The live loop (`xeno worker`)."""

    sync_threads: int = Field(
        3,
        gt=0,
        validation_alias="WORKER_SYNC_THREADS",
        description="syncs run at once: the first serves users' requests only, the others "
        "also new tenants' first syncs (a long backfill never holds up a user's sync)",
    )
    first_syncs: bool = Field(
        True,
        validation_alias="WORKER_FIRST_SYNCS",
        description="queue one first sync for every tenant that never had one; off, a tenant "
        "is synced only when asked (API, CLI, the daily cycle)",
    )
    poll_seconds: float = Field(
        1.0,
        gt=0,
        validation_alias="WORKER_POLL_SECONDS",
        description="how often the idle worker looks for queued syncs and due webhooks",
    )
    erase_interval_seconds: int = Field(
        60,
        gt=0,
        validation_alias="WORKER_ERASE_INTERVAL_SECONDS",
        description="how often the worker erases tenants whose scheduled deletion is due",
    )


class Settings(Group):
    """All configuration of Xeno: process-wide values, then one group per layer."""

    environment: Environment = Field(
        "development",
        validation_alias="XENO_ENV",
        description="development, test or production; production refuses missing secrets",
    )
    data_dir: ProjectPath = Field(
        PROJECT_ROOT / ".local",
        validation_alias="DATA_DIR",
        description="project-local folder for the embedded database, development secrets "
        "and dlt/dbt working files",
    )
    log_level: str = Field("INFO", validation_alias="LOG_LEVEL", description="logging level")
    encryption_keys: Csv = Field(
        (),
        validation_alias="ENCRYPTION_KEYS",
        description="comma-separated Fernet keys for Shopify tokens at rest; the first "
        "encrypts, all decrypt (rotation). Development default: generated once into DATA_DIR",
    )
    database: DatabaseSettings = DatabaseSettings()
    api: ApiSettings = ApiSettings()
    auth: AuthSettings = AuthSettings()
    shopify: ShopifySettings = ShopifySettings()
    ingestion: IngestionSettings = IngestionSettings()
    transforms: TransformSettings = TransformSettings()
    analysts: AnalystSettings = AnalystSettings()
    orchestration: OrchestrationSettings = OrchestrationSettings()
    webhooks: WebhookSettings = WebhookSettings()
    worker: WorkerSettings = WorkerSettings()

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def on_database(self, url: str) -> Settings:
        """These settings pointed at another database (a run's resource, tests, benches)."""
        database = self.database.model_copy(update={"url": url})
        return self.model_copy(update={"database": database})


@dataclass(frozen=True)
class SettingDoc:
    """One environment variable as documented: where it lives, its default and meaning."""

    env: str
    path: str
    default: object
    meaning: str
    group: str


def _groups() -> Iterator[tuple[str, type[Group], str]]:
    """(attribute, model, heading) for the root and each group, in declaration order."""
    yield "", Settings, "General"
    for name, info in Settings.model_fields.items():
        model = info.annotation
        if isinstance(model, type) and issubclass(model, Group):
            yield name, model, (model.__doc__ or name).strip()


def setting_docs() -> list[SettingDoc]:
    """Every environment variable, in declaration order (drives `.env.example` and README)."""
    docs = []
    for group, model, heading in _groups():
        for name, info in model.model_fields.items():
            if isinstance(info.validation_alias, str):
                docs.append(_doc(group, name, info, heading))
    return docs


def _doc(group: str, name: str, info: FieldInfo, heading: str) -> SettingDoc:
    assert isinstance(info.validation_alias, str)
    return SettingDoc(
        env=info.validation_alias,
        path=f"{group}.{name}" if group else name,
        default=info.default,
        meaning=info.description or "",
        group=heading,
    )


def _shown(default: object) -> str:
    """A default as written in `.env` (paths relative to the project root)."""
    if default is None:
        return ""
    if isinstance(default, tuple):
        return ",".join(str(part) for part in default)
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, Path):
        return str(default.relative_to(PROJECT_ROOT))
    return str(default)


def env_example() -> str:
    """The text of `.env.example`: every variable with its meaning and default."""
    lines = [
        "# Xeno configuration, generated from core/settings.py (`uv run python -m core.settings`).",
        "# Copy to `.env` (git-ignored) or set these in the environment; the environment wins.",
        "# Every value is optional in development. In production (XENO_ENV=production)",
        "# ENCRYPTION_KEYS, JWT_SECRET and DATABASE_URL are required: `xeno secrets generate`.",
    ]
    heading = None
    for doc in setting_docs():
        if doc.group != heading:
            heading = doc.group
            lines += ["", f"# == {heading}"]
        lines += [f"# {doc.meaning}", f"{doc.env}={_shown(doc.default)}"]
    return "\n".join(lines) + "\n"


README_BEGIN = "<!-- settings table: generated by `uv run python -m core.settings` -->"
README_END = "<!-- end of settings table -->"


def readme_table() -> str:
    """The README's settings table, between its markers."""
    rows = [README_BEGIN, "| variable | setting | default | meaning |", "| --- | --- | --- | --- |"]
    for doc in setting_docs():
        shown = _shown(doc.default)
        default = f"`{shown}`" if shown else "empty"
        meaning = doc.meaning.replace("|", "\\|")
        rows.append(f"| `{doc.env}` | `{doc.path}` | {default} | {meaning} |")
    return "\n".join([*rows, README_END])


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> Settings:
    """Read settings from `environ` (default: process environment) over an optional `.env`.

    Empty values count as unset. Raises SettingsError listing every bad value at once, so
    one run shows all fixes.
    """
    source: dict[str, str] = {}
    dotenv_path = env_file if env_file is not None else PROJECT_ROOT / ".env"
    if dotenv_path.is_file():
        source.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    source.update(os.environ if environ is None else environ)
    known = {doc.env: source[doc.env] for doc in setting_docs() if source.get(doc.env)}
    raw: dict[str, Any] = {group: known for group, _, _ in _groups() if group}
    try:
        settings = Settings.model_validate({**known, **raw})
    except ValidationError as exc:
        problems = [f"{error['loc'][-1]}: {error['msg']}" for error in exc.errors()]
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
    return _resolved(settings)


def _resolved(settings: Settings) -> Settings:
    """Fill the environment's defaults: development secrets and the store endpoint, or
    refuse to run production without strong secrets."""
    endpoint = settings.shopify.endpoint_template or (
        "https://{shop}" if settings.is_production else "http://127.0.0.1:8787/{shop}"
    )
    shopify = settings.shopify.model_copy(update={"endpoint_template": endpoint})
    if settings.is_production:
        problems = []
        if not settings.encryption_keys:
            problems.append(
                "ENCRYPTION_KEYS is required (generate one with `xeno secrets generate`)"
            )
        if len(settings.auth.jwt_secret.encode()) < 32:
            problems.append("JWT_SECRET is required and must be at least 32 bytes")
        if settings.database.url == "":
            problems.append("DATABASE_URL is required")
        if problems:
            raise SettingsError("production settings incomplete: " + "; ".join(problems))
        return settings.model_copy(update={"shopify": shopify})
    generated = _development_secrets(settings.data_dir)
    auth = settings.auth.model_copy(
        update={"jwt_secret": settings.auth.jwt_secret or generated["jwt_secret"]}
    )
    return settings.model_copy(
        update={
            "encryption_keys": settings.encryption_keys or (generated["encryption_key"],),
            "auth": auth,
            "shopify": shopify,
        }
    )


def _development_secrets(data_dir: Path) -> dict[str, str]:
    """Random secrets created once per checkout, so restarts can still decrypt tokens.

    They live in DATA_DIR (git-ignored) and are never used in production.
    """
    from cryptography.fernet import Fernet

    path = data_dir / "dev-secrets.json"
    if path.is_file():
        stored: dict[str, str] = json.loads(path.read_text())
        return stored
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
    """The process-wide settings, read once; only entry points call this."""
    return load_settings()


def _write_docs() -> None:
    """Regenerate `.env.example` and the README's settings table from the declarations."""
    (PROJECT_ROOT / ".env.example").write_text(env_example())
    readme = PROJECT_ROOT / "README.md"
    text = readme.read_text()
    before, _, rest = text.partition(README_BEGIN)
    _, _, after = rest.partition(README_END)
    readme.write_text(before + readme_table() + after)


if __name__ == "__main__":
    _write_docs()
