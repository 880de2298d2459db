"""How each service is started: module, variable prefix, port, store and consumer group."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One service of the stack, as its settings module names things.

    `name` is also the service name its spans and logs carry (`TABRIDGE_TRACE_DIR/<name>.jsonl`).
    """

    name: str
    module: str
    prefix: str
    default_port: int
    store_variable: str
    store_file: str
    group_variable: str
    default_group: str

    def variable(self, field: str) -> str:
        """The environment variable of one of this service's own settings."""
        return f"{self.prefix}{field}"


#: Start order; the stack stops them in reverse (the notifier first, the registry last).
SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        "registry",
        "services.registry",
        "REGISTRY_",
        8081,
        "SQLITE_PATH",
        "registry.db",
        "CONSUMER_GROUP",
        "registry",
    ),
    ServiceSpec(
        "sdg-tagger",
        "services.sdg_tagger",
        "TAGGER_",
        8084,
        "DB_PATH",
        "sdg-tagger.db",
        "GROUP_ID",
        "sdg-tagger",
    ),
    ServiceSpec(
        "partner-feed",
        "services.partner_feed",
        "FEED_",
        8082,
        "DB_PATH",
        "partner-feed.db",
        "CONSUMER_GROUP",
        "partner-feed",
    ),
    ServiceSpec(
        "notifier",
        "services.notifier",
        "NOTIFIER_",
        8083,
        "DB_PATH",
        "notifier.db",
        "CONSUMER_GROUP",
        "notifier",
    ),
)
