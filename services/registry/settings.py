"""The registry's settings: `REGISTRY_*` variables, plus the shared unprefixed ones."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared import CommonSettings


class RegistrySettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8081, ge=0, le=65535)
    database_url: str | None = Field(
        default=None,
        description="postgresql://… to use PostgreSQL; unset means SQLite at sqlite_path.",
        validation_alias="DATABASE_URL",
    )
    sqlite_path: str = "var/registry.db"
    sqlite_synchronous: str = Field(default="FULL", pattern="^(FULL|NORMAL|EXTRA)$")
    iati_org_ref: str = Field(
        default="XI-IATI-WIPO", description="Prefix of every activity's IATI identifier."
    )
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    bulk_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    bulk_max_rows: int = Field(default=100_000, ge=1)
    relay_batch_size: int = Field(default=500, ge=1)
    relay_poll_seconds: float = Field(default=1.0, gt=0)
    consumer_group: str = "registry"
    source: str = "/ta-bridge/registry"
