"""structlog JSON logging with the current trace and span ids bound to every line.

Every line a service writes is one JSON object, including what third-party libraries log
through the standard library (`aiokafka`, `aiohttp.access`, `asyncio`, ...): the root
logger gets one handler that renders those records with the same processors, adding the
stdlib `logger` name.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog
from opentelemetry import trace
from structlog.typing import FilteringBoundLogger, Processor

__all__ = ["configure_logging"]

_HANDLER_NAME = "ta-bridge-json"
#: Chatty libraries whose INFO lines are noise in a service's log.
_QUIET = {"aiokafka": logging.WARNING, "kafka": logging.WARNING}


def _add_trace_ids(
    _logger: Any, _method: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event_dict.setdefault("trace_id", trace.format_trace_id(ctx.trace_id))
        event_dict.setdefault("span_id", trace.format_span_id(ctx.span_id))
    return event_dict


class _Service:
    """Adds `service` to lines that do not carry it (the stdlib records)."""

    def __init__(self, service: str) -> None:
        self._service = service

    def __call__(
        self, _logger: Any, _method: str, event_dict: structlog.types.EventDict
    ) -> structlog.types.EventDict:
        event_dict.setdefault("service", self._service)
        return event_dict


def configure_logging(
    service: str, level: str = "INFO", stream: TextIO | None = None
) -> FilteringBoundLogger:
    """Configure structlog once, at the entry point, and return the service's root logger.

    Every line is one JSON object with `timestamp`, `level`, `service`, `event` and, inside
    a span, `trace_id` and `span_id`; standard-library records also carry `logger`.
    """
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    out = stream or sys.stderr
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_ids,
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name, _Service(service)],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)  # configured again (tests): one handler, on the new stream
    root.addHandler(handler)
    root.setLevel(numeric)
    for name, floor in _QUIET.items():
        logging.getLogger(name).setLevel(max(floor, numeric))
    logging.captureWarnings(True)
    logger: FilteringBoundLogger = structlog.get_logger().bind(service=service)
    return logger
