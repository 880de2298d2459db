"""partner-feed settings: `FEED_*` variables, plus the shared unprefixed ones."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from services.partner_feed.partners import PartnerSource, parse_partners
from shared import CommonSettings


class FeedSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="FEED_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8082, ge=0, le=65535)
    db_path: str = "var/partner-feed.db"
    partners: Annotated[tuple[PartnerSource, ...], NoDecode] = Field(
        default=(),
        description="Partner sources: a JSON list, or the path of a JSON file holding one.",
    )
    upload_max_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)
    upload_dir: str | None = Field(
        default=None, description="Where upload bodies are spooled (default: system temp)."
    )
    pull_enabled: bool = True
    pull_timeout_seconds: float = Field(default=300.0, gt=0)
    max_concurrent_imports: int = Field(default=2, ge=1)
    report_max_entries: int = Field(
        default=10_000, ge=1, description="Per-record entries kept in one import report."
    )
    match_threshold: float = Field(default=0.7, gt=0, le=1)
    removal_guard_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="An import that would remove more than this share of a partner's records "
        "has its removals held for an operator (1 turns the guard off).",
    )
    iati_org_ref: str = Field(
        default="XI-IATI-WIPO", description="The reporting-org ref of the outbound feeds."
    )
    iati_org_name: str = "World Intellectual Property Organization"
    consumer_group: str = "partner-feed"
    source: str = "/ta-bridge/partner-feed"

    @field_validator("partners", mode="before")
    @classmethod
    def _partners(cls, value: Any) -> Any:
        return parse_partners(value)
