"""ta-bridge's shared event core: envelope, typed events, Kafka producer and consumer
runner, the in-memory broker twin, observability, HTTP base and settings.

Everything public is listed in `__all__`; modules starting with `_` are private.
"""

from shared._consumer import ConsumerRunner
from shared._dead_letter import DLQ_SUFFIX, dead_letter_headers, dlq_topic
from shared._dedup import DedupStore, MemoryDedup, SqliteDedup
from shared._envelope import Envelope, new_event_id
from shared._errors import (
    Conflict,
    DlqLimitExceeded,
    Fault,
    InvalidEvent,
    InvalidInput,
    NotFound,
    RetryableError,
    SettingsError,
    TaBridgeError,
)
from shared._event_model import Event, EventCatalog, Upcaster, faults_of, split_type
from shared._http import (
    LOGGER,
    METRICS_REGISTRY,
    READINESS,
    TRACER,
    ReadinessCheck,
    create_base_app,
    json_response,
)
from shared._lifecycle import (
    CleanupContext,
    consumer_context,
    publisher_context,
    serve,
    topics_context,
)
from shared._logging import configure_logging
from shared._memory_broker import MemoryBroker, MemoryRecord, MemoryTransport
from shared._metrics import PipelineMetrics
from shared._observability import Observability, build_observability
from shared._offsets import KafkaOffsetReader, OffsetReader, OffsetSnapshot, offset_reader
from shared._openapi import operational_paths
from shared._operator import (
    OPERATOR_KEYS,
    is_operator,
    operator_security_scheme,
    parse_operator_keys,
    require_operator,
)
from shared._policies import CommitPolicy, DlqLimit, RetryPolicy
from shared._problems import ProblemError, problem_response
from shared._producer import EventPublisher, Outgoing
from shared._request_body import read_body, read_json, read_model, validate_model
from shared._routing import Handler, MessageContext, Router
from shared._settings import CommonSettings, load_settings
from shared._status import (
    ConsumerLag,
    DlqDepth,
    PartitionLag,
    StatusDetails,
    add_status_route,
    consumer_lag,
    dlq_depths,
)
from shared._tracing import (
    ACTIVITY_ID_ATTRIBUTE,
    JsonlSpanExporter,
    build_tracer_provider,
    context_from_headers,
    context_from_traceparent,
    current_traceparent,
    trace_headers,
)
from shared._transport import (
    ConsumerClient,
    KafkaTransport,
    ProducerClient,
    RebalanceCallbacks,
    Record,
    TopicPartition,
    TopicSpec,
    Transport,
)

__all__ = [
    "ACTIVITY_ID_ATTRIBUTE",
    "DLQ_SUFFIX",
    "LOGGER",
    "METRICS_REGISTRY",
    "OPERATOR_KEYS",
    "READINESS",
    "TRACER",
    "CleanupContext",
    "CommitPolicy",
    "CommonSettings",
    "Conflict",
    "ConsumerClient",
    "ConsumerLag",
    "ConsumerRunner",
    "DedupStore",
    "DlqDepth",
    "DlqLimit",
    "DlqLimitExceeded",
    "Envelope",
    "Event",
    "EventCatalog",
    "EventPublisher",
    "Fault",
    "Handler",
    "InvalidEvent",
    "InvalidInput",
    "JsonlSpanExporter",
    "KafkaOffsetReader",
    "KafkaTransport",
    "MemoryBroker",
    "MemoryDedup",
    "MemoryRecord",
    "MemoryTransport",
    "MessageContext",
    "NotFound",
    "Observability",
    "OffsetReader",
    "OffsetSnapshot",
    "Outgoing",
    "PartitionLag",
    "PipelineMetrics",
    "ProblemError",
    "ProducerClient",
    "ReadinessCheck",
    "RebalanceCallbacks",
    "Record",
    "RetryPolicy",
    "RetryableError",
    "Router",
    "SettingsError",
    "SqliteDedup",
    "StatusDetails",
    "TaBridgeError",
    "TopicPartition",
    "TopicSpec",
    "Transport",
    "Upcaster",
    "add_status_route",
    "build_observability",
    "build_tracer_provider",
    "configure_logging",
    "consumer_context",
    "consumer_lag",
    "context_from_headers",
    "context_from_traceparent",
    "create_base_app",
    "current_traceparent",
    "dead_letter_headers",
    "dlq_depths",
    "dlq_topic",
    "faults_of",
    "is_operator",
    "json_response",
    "load_settings",
    "new_event_id",
    "offset_reader",
    "operational_paths",
    "operator_security_scheme",
    "parse_operator_keys",
    "problem_response",
    "publisher_context",
    "read_body",
    "read_json",
    "read_model",
    "require_operator",
    "serve",
    "split_type",
    "topics_context",
    "trace_headers",
    "validate_model",
]
