"""notifier settings: `NOTIFIER_*` variables, plus the shared unprefixed ones.

Partner API keys come from `NOTIFIER_PARTNER_KEYS`, a JSON object (inline, or the path of a
file holding one)::

    {"un-desa": {"name": "UN-DESA", "keys": ["<plain key>"], "key_sha256": ["<hex>"]}}

Plain keys are hashed at start-up; `key_sha256` lets an operator keep plain keys out of the
environment. The configuration is the source of truth: at start-up each configured partner's
keys replace the ones stored, so removing a key from the variable revokes it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from services.notifier.partners import hash_api_key
from services.notifier.schedule import SVIX_DELAYS
from services.notifier.secret_box import parse_key
from services.notifier.ssrf import TargetPolicy
from shared import CommonSettings

PartnerId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]


class PartnerKeys(BaseModel):
    """One partner's name and API keys (plain, hashed on load, or sha256 hex)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    keys: tuple[Annotated[str, Field(min_length=16)], ...] = ()
    key_sha256: tuple[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")], ...] = ()

    def key_hashes(self) -> frozenset[str]:
        """Every key of this partner in its stored form (hex sha256)."""
        return frozenset({hash_api_key(k) for k in self.keys} | set(self.key_sha256))


def _json_or_file(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return {}
    if text[0] not in "[{":
        text = Path(text).read_text(encoding="utf-8")
    return json.loads(text)


def _comma_list(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        return json.loads(text)
    return [part.strip() for part in text.split(",") if part.strip()]


class NotifierSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8083, ge=0, le=65535)
    db_path: str = "var/notifier.db"
    partner_keys: Annotated[dict[PartnerId, PartnerKeys], NoDecode] = Field(
        default_factory=dict,
        description="Partners and their API keys: a JSON object, or the path of a JSON file.",
    )
    allowlist: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="CIDRs or host:port webhook targets allowed despite the SSRF rules "
        "(comma-separated), e.g. 127.0.0.1/32 for local receivers.",
    )
    retry_delays: Annotated[tuple[Annotated[float, Field(ge=0)], ...], NoDecode] = Field(
        default=SVIX_DELAYS,
        min_length=1,
        description="Seconds before attempt 1, 2, ... (comma-separated); its length is the budget.",
    )
    retry_scale: float = Field(default=1.0, ge=0, description="Multiplies every retry delay.")
    retry_jitter: float = Field(default=0.2, ge=0, lt=1)
    attempt_timeout_seconds: float = Field(default=15.0, gt=0)
    max_in_flight: int = Field(default=64, ge=1)
    per_subscription: int = Field(default=4, ge=1)
    failure_window_seconds: float = Field(
        default=5 * 86_400.0, gt=0, description="Continuous failure after which to disable."
    )
    secret_keys: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        repr=False,
        description="Keys sealing the webhook signing secrets at rest (comma-separated, each "
        "base64 of 32 bytes): the first seals, all open, so a rotation prepends the new key "
        "and drops the old one after a restart. None: a key file beside the store.",
    )
    allow_key_file: bool = Field(
        default=True,
        description="Without NOTIFIER_SECRET_KEYS, seal with a key file beside the store "
        "(created 0600). Deployments set false: no start without the keys.",
    )
    consumer_group: str = "notifier"
    source: str = "/ta-bridge/notifier"

    @field_validator("partner_keys", mode="before")
    @classmethod
    def _partner_keys(cls, value: Any) -> Any:
        return _json_or_file(value)

    @field_validator("partner_keys")
    @classmethod
    def _keys_unique(cls, value: dict[PartnerId, PartnerKeys]) -> dict[PartnerId, PartnerKeys]:
        # A key is how a request finds its partner: one shared by two partners would hand
        # one partner's subscriptions to the other.
        owner: dict[str, str] = {}
        for partner_id, partner in value.items():
            for key_hash in partner.key_hashes():
                other = owner.setdefault(key_hash, partner_id)
                if other != partner_id:
                    raise ValueError(f"partners {other!r} and {partner_id!r} share an API key")
        return value

    @field_validator("allowlist", "retry_delays", "secret_keys", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _comma_list(value)

    @field_validator("allowlist")
    @classmethod
    def _allowlist(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        TargetPolicy.from_allowlist(value)  # raises ValueError naming the bad entry
        return value

    @field_validator("secret_keys")
    @classmethod
    def _secret_keys(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for n, key in enumerate(value, start=1):
            try:
                parse_key(key)
            except ValueError as exc:
                raise ValueError(f"key {n}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _keys_required(self) -> NotifierSettings:
        if not self.allow_key_file and not self.secret_keys:
            raise ValueError(
                "NOTIFIER_SECRET_KEYS is required when NOTIFIER_ALLOW_KEY_FILE is false"
            )
        return self

    @property
    def failure_window(self) -> timedelta:
        return timedelta(seconds=self.failure_window_seconds)
