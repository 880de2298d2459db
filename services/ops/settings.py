"""The `ta-bridge` command's settings: `TABRIDGE_*` variables, flags override them."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared import CommonSettings


class OpsSettings(CommonSettings):
    """Where the services answer and where their spans are written.

    `TABRIDGE_REGISTRY_URL`, `TABRIDGE_PARTNER_FEED_URL`, `TABRIDGE_NOTIFIER_URL`,
    `TABRIDGE_SDG_TAGGER_URL`, `TABRIDGE_NOTIFIER_API_KEY`, `TABRIDGE_PARTNER_FEED_API_KEY`,
    `TABRIDGE_OPERATOR_KEY`; `TABRIDGE_TRACE_DIR` and
    `KAFKA_BOOTSTRAP_SERVERS` as the services read them.
    """

    model_config = SettingsConfigDict(env_prefix="TABRIDGE_", extra="ignore", frozen=True)

    registry_url: str = "http://127.0.0.1:8081"
    partner_feed_url: str = "http://127.0.0.1:8082"
    notifier_url: str = "http://127.0.0.1:8083"
    sdg_tagger_url: str = "http://127.0.0.1:8084"
    notifier_api_key: str | None = Field(
        default=None, description="A partner API key of the notifier, for webhook redrives."
    )
    partner_feed_api_key: str | None = Field(
        default=None, description="A partner's partner-feed API key, for `imports upload`."
    )
    operator_key: str | None = Field(
        default=None,
        description="An operator key (one of the services' TABRIDGE_OPERATOR_KEYS), sent to "
        "`/v1/status` for the full document and by `imports decide`.",
    )
    trace_dir: str | None = Field(default="var/run/traces", validation_alias="TABRIDGE_TRACE_DIR")

    def service_urls(self) -> dict[str, str]:
        """Service name → base URL, in the order the status table lists them."""
        return {
            "registry": self.registry_url,
            "partner-feed": self.partner_feed_url,
            "notifier": self.notifier_url,
            "sdg-tagger": self.sdg_tagger_url,
        }
