"""Settings: safe development defaults, clear errors, production refuses missing secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import (
    PROJECT_ROOT,
    README_BEGIN,
    README_END,
    Settings,
    SettingsError,
    env_example,
    load_settings,
    readme_table,
    setting_docs,
)


def _load(tmp_path: Path, **env: str):
    return load_settings({"DATA_DIR": str(tmp_path), **env}, env_file=tmp_path / "none")


def test_development_defaults_generate_and_keep_secrets(tmp_path):
    first = _load(tmp_path)
    assert first.environment == "development"
    assert len(first.auth.jwt_secret) >= 32
    assert len(first.encryption_keys) == 1
    assert first.shopify.endpoint_template == "http://127.0.0.1:8787/{shop}"
    assert first.shopify.api_secret == ""  # no default webhook secret exists anywhere
    again = _load(tmp_path)
    assert (again.auth.jwt_secret, again.encryption_keys) == (
        first.auth.jwt_secret,
        first.encryption_keys,
    )
    assert (tmp_path / "dev-secrets.json").stat().st_mode & 0o077 == 0


def test_production_refuses_to_start_without_secrets(tmp_path):
    with pytest.raises(SettingsError) as info:
        _load(tmp_path, XENO_ENV="production")
    message = str(info.value)
    for name in ("ENCRYPTION_KEYS", "JWT_SECRET", "DATABASE_URL"):
        assert name in message
    assert not (tmp_path / "dev-secrets.json").exists()


def test_production_rejects_short_jwt_secret(tmp_path):
    with pytest.raises(SettingsError, match="at least 32 bytes"):
        _load(
            tmp_path,
            XENO_ENV="production",
            ENCRYPTION_KEYS="k",
            JWT_SECRET="short",
            DATABASE_URL="postgresql://x@h/db",
        )


def test_production_with_everything_uses_real_shopify(tmp_path):
    settings = _load(
        tmp_path,
        XENO_ENV="production",
        ENCRYPTION_KEYS="a,b",
        JWT_SECRET="x" * 40,
        DATABASE_URL="postgresql://x@h/db",
    )
    assert settings.encryption_keys == ("a", "b")
    assert settings.shopify.endpoint_template == "https://{shop}"


def test_every_bad_value_is_reported_at_once(tmp_path):
    with pytest.raises(SettingsError) as info:
        _load(
            tmp_path,
            XENO_ENV="staging",
            DB_POOL_MAX="ten",
            SYNC_LOOKBACK_SECONDS="-1",
            SHOPIFY_ENDPOINT_TEMPLATE="ftp://nowhere",
        )
    message = str(info.value)
    assert "XENO_ENV: Input should be 'development', 'test' or 'production'" in message
    assert "DB_POOL_MAX: Input should be a valid integer" in message
    assert "SYNC_LOOKBACK_SECONDS: Input should be greater than or equal to 0" in message
    assert "SHOPIFY_ENDPOINT_TEMPLATE: Value error, must be an http(s) URL" in message


def test_dotenv_is_read_and_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("SHOPIFY_API_VERSION=2024-01\nLOG_LEVEL=DEBUG\n")
    settings = load_settings({"DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"}, env_file=env_file)
    assert settings.shopify.api_version == "2024-01"
    assert settings.log_level == "WARNING"


def test_values_are_typed_and_land_in_their_group(tmp_path):
    settings = _load(
        tmp_path,
        WORKER_FIRST_SYNCS="off",
        WORKER_POLL_SECONDS="0.25",
        CORS_ORIGINS=" https://a.example , https://b.example,",
        DAGSTER_HOME="var/dagster",
        API_DATABASE_URL="",  # empty counts as unset
    )
    assert settings.worker.first_syncs is False
    assert settings.worker.poll_seconds == 0.25
    assert settings.api.cors_origins == ("https://a.example", "https://b.example")
    assert settings.orchestration.dagster_home == PROJECT_ROOT / "var" / "dagster"
    assert settings.api.database_url == ""
    assert settings.data_dir == tmp_path


def test_every_setting_has_one_variable_and_a_meaning():
    docs = setting_docs()
    names = [doc.env for doc in docs]
    assert len(names) == len(set(names))
    assert all(doc.meaning for doc in docs)
    # each documented path resolves on Settings to the documented default
    defaults = Settings()
    for doc in docs:
        value: object = defaults
        for part in doc.path.split("."):
            value = getattr(value, part)
        assert value == doc.default, doc.path


def test_env_example_and_readme_table_are_generated_from_the_settings():
    hint = "regenerate with `uv run python -m core.settings`"
    assert (PROJECT_ROOT / ".env.example").read_text() == env_example(), hint
    readme = (PROJECT_ROOT / "README.md").read_text()
    start, end = readme.index(README_BEGIN), readme.index(README_END) + len(README_END)
    assert readme[start:end] == readme_table(), hint


def test_the_usual_frontend_origin_is_allowed_and_its_port_free(tmp_path):
    """A frontend on its usual port (3000) works with the demo out of the box."""
    from core.devserver import COMPONENTS

    origins = _load(tmp_path).api.cors_origins
    assert {"http://localhost:3000", "http://127.0.0.1:3000"} <= set(origins)
    assert not any(":3000" in component.url for component in COMPONENTS)
