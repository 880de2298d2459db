"""`make run` settings: the services' ports (their own variables), the state directory."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.devstack.restart import RestartPolicy
from shared import CommonSettings


class RunSettings(CommonSettings):
    """Read once by `services.run`. The port variables are the services' own, so that
    `REGISTRY_PORT=9081 make run` moves the registry as it would move it alone."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    registry_port: int = Field(default=8081, ge=1, le=65535, validation_alias="REGISTRY_PORT")
    feed_port: int = Field(default=8082, ge=1, le=65535, validation_alias="FEED_PORT")
    notifier_port: int = Field(default=8083, ge=1, le=65535, validation_alias="NOTIFIER_PORT")
    tagger_port: int = Field(default=8084, ge=1, le=65535, validation_alias="TAGGER_PORT")
    state_dir: str = Field(
        default="var/run",
        description="SQLite files, logs/ and traces/ (relative to the checkout).",
        validation_alias="TABRIDGE_RUN_DIR",
    )
    dev_webhook_allowlist: str = Field(
        default="127.0.0.1:8099",
        description="Comma-separated host:port (or CIDR) entries `make run` adds to the "
        "notifier's NOTIFIER_ALLOWLIST besides its own receiver, so that a webhook receiver "
        "of your own on loopback can be subscribed in development. Empty: none.",
        validation_alias="TABRIDGE_DEV_WEBHOOK_ALLOWLIST",
    )
    ready_timeout_seconds: float = Field(
        default=120.0, gt=0, validation_alias="TABRIDGE_READY_TIMEOUT"
    )
    stop_deadline_seconds: float = Field(
        default=60.0, gt=0, validation_alias="TABRIDGE_STOP_DEADLINE"
    )

    restart_initial_seconds: float = Field(
        default=0.5,
        ge=0,
        description="Backoff before the first restart of a crashed service (doubles per crash).",
        validation_alias="TABRIDGE_RESTART_INITIAL",
    )
    restart_cap_seconds: float = Field(default=30.0, gt=0, validation_alias="TABRIDGE_RESTART_CAP")
    restart_reset_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A service that ran this long before crashing restarts after the "
        "initial backoff again.",
        validation_alias="TABRIDGE_RESTART_RESET",
    )

    def restart_policy(self) -> RestartPolicy:
        return RestartPolicy(
            initial=self.restart_initial_seconds,
            cap=max(self.restart_cap_seconds, self.restart_initial_seconds),
            reset_after=self.restart_reset_seconds,
        )

    def dev_allowlist(self) -> list[str]:
        return [entry.strip() for entry in self.dev_webhook_allowlist.split(",") if entry.strip()]

    def ports(self) -> dict[str, int]:
        return {
            "registry": self.registry_port,
            "partner-feed": self.feed_port,
            "notifier": self.notifier_port,
            "sdg-tagger": self.tagger_port,
        }
