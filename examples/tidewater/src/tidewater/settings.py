"""Runtime settings, read once from the environment.

Every setting has a ``TIDEWATER_`` environment variable. Nothing secret has a default: the
PSP key and the webhook signing secret must come from the environment (or the staging
``.env`` file, which is never committed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


class SettingsError(RuntimeError):
    """A required setting is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    environment: str = "development"
    port: int = 8000
    # Outbound HTTP: every call made through tidewater.http_client uses this unless it
    # passes a tighter timeout of its own.
    http_timeout_seconds: float = 10.0
    psp_base_url: str = "https://api.stripe.com"
    psp_api_key: str = ""
    webhook_signing_secret: str = ""
    webhook_max_attempts: int = 8
    session_ttl_seconds: int = 12 * 60 * 60
    default_currency: str = "EUR"
    email_api_url: str = "https://api.postmarkapp.com"
    email_api_token: str = ""
    dunning_enabled: bool = True

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"TIDEWATER_{name}", default)


def _require(name: str) -> str:
    value = _env(name)
    if not value:
        raise SettingsError(f"TIDEWATER_{name} is not set; see docs/architecture.md#configuration")
    return value


def load_settings() -> Settings:
    """Build a Settings from the environment. Raises SettingsError for missing values."""
    environment = _env("ENVIRONMENT", "development") or "development"
    settings = Settings(
        database_url=_require("DATABASE_URL"),
        environment=environment,
        port=int(_env("PORT", "8000") or 8000),
        http_timeout_seconds=float(_env("HTTP_TIMEOUT_SECONDS", "10") or 10),
        psp_base_url=_env("PSP_BASE_URL", Settings.psp_base_url) or Settings.psp_base_url,
        psp_api_key=_env("PSP_API_KEY", "") or "",
        webhook_signing_secret=_env("WEBHOOK_SIGNING_SECRET", "") or "",
        webhook_max_attempts=int(_env("WEBHOOK_MAX_ATTEMPTS", "8") or 8),
        session_ttl_seconds=int(_env("SESSION_TTL_SECONDS", str(12 * 3600)) or 43200),
        default_currency=_env("DEFAULT_CURRENCY", "EUR") or "EUR",
        email_api_url=_env("EMAIL_API_URL", Settings.email_api_url) or Settings.email_api_url,
        email_api_token=_env("EMAIL_API_TOKEN", "") or "",
        dunning_enabled=(_env("DUNNING_ENABLED", "1") or "1") not in {"0", "false", "no"},
    )
    if settings.is_production and not settings.psp_api_key:
        raise SettingsError("TIDEWATER_PSP_API_KEY must be set in production")
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached). Tests call ``get_settings.cache_clear()``."""
    return load_settings()
