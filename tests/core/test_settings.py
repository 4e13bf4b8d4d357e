"""Settings: safe development defaults, clear errors, production refuses missing secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT, SettingsError, load_settings, setting_fields


def _load(tmp_path: Path, **env: str):
    return load_settings({"DATA_DIR": str(tmp_path), **env}, env_file=tmp_path / "none")


def test_development_defaults_generate_and_keep_secrets(tmp_path):
    first = _load(tmp_path)
    assert first.environment == "development"
    assert len(first.jwt_secret) >= 32
    assert len(first.encryption_keys) == 1
    assert first.shopify_endpoint == "http://127.0.0.1:8787/{shop}"
    assert first.shopify_api_secret == ""  # no default webhook secret exists anywhere
    again = _load(tmp_path)
    assert (again.jwt_secret, again.encryption_keys) == (first.jwt_secret, first.encryption_keys)
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
    assert settings.shopify_endpoint == "https://{shop}"


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
    assert "XENO_ENV: must be one of development, test, production" in message
    assert "DB_POOL_MAX: expected an integer, got 'ten'" in message
    assert "SYNC_LOOKBACK_SECONDS" in message
    assert "SHOPIFY_ENDPOINT_TEMPLATE" in message


def test_dotenv_is_read_and_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("SHOPIFY_API_VERSION=2024-01\nLOG_LEVEL=DEBUG\n")
    settings = load_settings({"DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"}, env_file=env_file)
    assert settings.shopify_api_version == "2024-01"
    assert settings.log_level == "WARNING"


def test_env_example_documents_every_setting():
    example = (PROJECT_ROOT / ".env.example").read_text()
    missing = [
        f.metadata["env"] for f in setting_fields() if f"{f.metadata['env']}=" not in example
    ]
    assert missing == []


def test_the_usual_frontend_origin_is_allowed_and_its_port_free(tmp_path):
    """A frontend on its usual port (3000) works with the demo out of the box."""
    from core.devserver import COMPONENTS

    origins = _load(tmp_path).cors_origins
    assert {"http://localhost:3000", "http://127.0.0.1:3000"} <= set(origins)
    assert not any(":3000" in component.url for component in COMPONENTS)
