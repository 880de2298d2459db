"""Settings: one validated object per service, read from the environment once at start-up."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared._dead_letter import retry_topic
from shared._errors import SettingsError
from shared._operator import parse_operator_keys

__all__ = ["CommonSettings", "load_settings"]


class CommonSettings(BaseSettings):
    """What every service reads. Shared variables carry no prefix; a service's own do.

    Subclasses set `model_config = SettingsConfigDict(env_prefix="REGISTRY_", ...)`.
    """

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:19092", validation_alias="KAFKA_BOOTSTRAP_SERVERS"
    )
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    topic_namespace: str = Field(
        default="",
        description="Prefix of every topic name and consumer group id, for sharing one "
        "cluster between environments.",
        validation_alias="TABRIDGE_TOPIC_NAMESPACE",
    )
    create_topics: bool = Field(
        default=True,
        description="Create missing topics at start-up (local runs, tests). Deployments apply "
        "the topic definitions with `python -m tools.topics apply` and set this false, so no "
        "service ever creates a topic with the broker's defaults.",
        validation_alias="TABRIDGE_CREATE_TOPICS",
    )
    trace_sample_ratio: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Share of the traces that start in this service to record (1.0: every "
        "one, the default). Parent-based: a trace that began elsewhere is recorded here "
        "exactly when it was recorded there, so a change's trace is kept or dropped whole. "
        "Unset, the OpenTelemetry SDK's own `OTEL_TRACES_SAMPLER` applies.",
        validation_alias="TABRIDGE_TRACE_SAMPLE_RATIO",
    )
    trace_dir: str | None = Field(
        default=None,
        description="Where spans are kept as JSON lines when no OTLP endpoint is configured.",
        validation_alias="TABRIDGE_TRACE_DIR",
    )
    operator_keys: str = Field(
        default="",
        description="Operator keys, comma-separated: plain (16+ characters) or sha256:<hex>. "
        "They unlock /v1/status detail and the operator routes; none, no operator access.",
        validation_alias="TABRIDGE_OPERATOR_KEYS",
    )
    http_header_timeout: float = Field(
        default=15.0,
        gt=0,
        description="Seconds a connection may take to send a request's headers (and may stay "
        "idle between requests) before it is closed.",
        validation_alias="TABRIDGE_HTTP_HEADER_TIMEOUT",
    )
    http_body_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a request body may take to arrive before it slows below "
        "TABRIDGE_HTTP_BODY_MIN_RATE; then the request is refused with 408.",
        validation_alias="TABRIDGE_HTTP_BODY_TIMEOUT",
    )
    http_body_min_rate: int = Field(
        default=16 * 1024,
        ge=0,
        description="Bytes per second a body must average once TABRIDGE_HTTP_BODY_TIMEOUT "
        "has passed.",
        validation_alias="TABRIDGE_HTTP_BODY_MIN_RATE",
    )

    @field_validator("operator_keys")
    @classmethod
    def _operator_keys(cls, value: str) -> str:
        parse_operator_keys(value)
        return value

    def namespaced_group(self, group: str) -> str:
        """The consumer group id of `group` within `TABRIDGE_TOPIC_NAMESPACE`, named as topics
        are (`<namespace>.<group>`): environments sharing a cluster never share a group, so
        neither steals the other's partitions nor skips past what the other committed."""
        return f"{self.topic_namespace}.{group}" if self.topic_namespace else group

    def group_reads(self, group: str, topics: Sequence[str]) -> dict[str, list[str]]:
        """The service's own consumer `group` as its status view names it: the namespaced
        group id and what it reads, `topics` and its retry topic (where a redrive sends
        its dead letters)."""
        return {self.namespaced_group(group): [*topics, retry_topic(group, self.topic_namespace)]}

    def operator_key_digests(self) -> frozenset[str]:
        """The SHA-256 digests of `TABRIDGE_OPERATOR_KEYS`."""
        return parse_operator_keys(self.operator_keys)


S = TypeVar("S", bound=BaseSettings)


def _variable_name(settings_cls: type[BaseSettings], loc: tuple[int | str, ...]) -> str:
    if not loc:
        return "<settings>"
    field_name = str(loc[0])
    field = settings_cls.model_fields.get(field_name)
    if field is not None and isinstance(field.validation_alias, str):
        return field.validation_alias
    prefix = str(settings_cls.model_config.get("env_prefix", ""))
    return f"{prefix}{field_name}".upper()


def load_settings(settings_cls: type[S], env: Mapping[str, str] | None = None) -> S:
    """Build `settings_cls` from the environment (or `env`), failing fast and by name.

    Raises:
        SettingsError: naming each offending environment variable and why it was refused.
    """
    try:
        if env is None:
            return settings_cls()
        return settings_cls.model_validate(_env_to_fields(settings_cls, env))
    except ValidationError as exc:
        problems = [
            f"{_variable_name(settings_cls, tuple(err['loc']))}: {err['msg']}"
            for err in exc.errors()
        ]
        raise SettingsError("invalid settings: " + "; ".join(problems)) from exc


def _env_to_fields(settings_cls: type[BaseSettings], env: Mapping[str, str]) -> dict[str, str]:
    """Map an explicit environment mapping onto validation keys, as pydantic-settings would."""
    values: dict[str, str] = {}
    for name, field in settings_cls.model_fields.items():
        if isinstance(field.validation_alias, str):
            if field.validation_alias in env:
                values[field.validation_alias] = env[field.validation_alias]
        else:
            variable = _variable_name(settings_cls, (name,))
            if variable in env:
                values[name] = env[variable]
    return values
