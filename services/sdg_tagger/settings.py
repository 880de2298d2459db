"""sdg-tagger settings: `TAGGER_*` variables, plus the shared unprefixed ones."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared import CommonSettings


class TaggerSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="TAGGER_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8084, ge=0, le=65535)
    database_url: str | None = Field(
        default=None,
        description="postgresql://… to use PostgreSQL; unset means SQLite at db_path.",
        validation_alias="DATABASE_URL",
    )
    db_path: str = Field(
        default="var/sdg-tagger.db",
        description="SQLite file holding the last tag result emitted per activity.",
    )
    group_id: str = Field(default="sdg-tagger", min_length=1)
    source: str = "/ta-bridge/sdg-tagger"
    max_body_bytes: int = Field(
        default=256 * 1024, ge=1024, description="Largest POST /v1/tag body (413 past it)."
    )
    recent_results: int = Field(
        default=4096,
        ge=0,
        description="Activities whose last tag result is kept in memory, so that a change "
        "leaving their text and curated tags as they were is not tagged again (0: off).",
    )
