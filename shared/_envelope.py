"""CloudEvents 1.0 envelope in Kafka binary content mode.

Attributes travel as `ce_*` headers, the event data as the JSON record value, and the W3C
trace context both as the CloudEvents distributed-tracing extension (`ce_traceparent`)
and as the plain `traceparent` header that OpenTelemetry's Kafka instrumentations read.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from types import MappingProxyType

from shared._errors import Fault, InvalidEvent

SPEC_VERSION = "1.0"
JSON_CONTENT_TYPE = "application/json"

_REQUIRED = ("ce_specversion", "ce_id", "ce_source", "ce_type")
_REQUIRED_SET = frozenset(_REQUIRED)
_KNOWN = {
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_time",
    "ce_subject",
    "ce_traceparent",
    "ce_tracestate",
    "content-type",
    "traceparent",
    "tracestate",
}

_KNOWN_PRESENT = frozenset(_KNOWN)
_NO_EXTENSIONS: Mapping[str, str] = MappingProxyType({})

Headers = Sequence[tuple[str, bytes]]


def new_event_id() -> str:
    """A fresh, globally unique event id (UUIDv4 text)."""
    return str(uuid.uuid4())


def new_event_ids(count: int) -> list[str]:
    """`count` fresh UUIDv4 texts from one read of the OS's random source.

    The same ids `uuid.uuid4()` makes (122 random bits, version 4, RFC 4122 variant), at
    a fraction of the cost when a batch needs many: one `os.urandom` call, not one each.
    """
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = raw[6::16].translate(_VERSION_4)  # the version nibble: 4
    raw[8::16] = raw[8::16].translate(_VARIANT)  # the variant bits: 10
    text = raw.hex()
    return [
        f"{text[i : i + 8]}-{text[i + 8 : i + 12]}-{text[i + 12 : i + 16]}-"
        f"{text[i + 16 : i + 20]}-{text[i + 20 : i + 32]}"
        for i in range(0, 32 * count, 32)
    ]


_VERSION_4 = bytes((b & 0x0F) | 0x40 for b in range(256))
_VARIANT = bytes((b & 0x3F) | 0x80 for b in range(256))


@dataclass(frozen=True, slots=True)
class Envelope:
    """One CloudEvent as it travels on Kafka: attributes plus the raw JSON data."""

    id: str
    source: str
    type: str
    data: bytes
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    datacontenttype: str = JSON_CONTENT_TYPE
    traceparent: str | None = None
    tracestate: str | None = None
    extensions: Mapping[str, str] = field(default_factory=dict)

    def with_trace(self, traceparent: str | None, tracestate: str | None) -> Envelope:
        return replace(self, traceparent=traceparent, tracestate=tracestate)

    def to_headers(self) -> list[tuple[str, bytes]]:
        """The Kafka headers of binary content mode, in a stable order."""
        headers = [
            ("ce_specversion", SPEC_VERSION.encode()),
            ("ce_id", self.id.encode()),
            ("ce_source", self.source.encode()),
            ("ce_type", self.type.encode()),
            ("ce_time", format_time(self.time).encode()),
            ("content-type", self.datacontenttype.encode()),
        ]
        if self.subject is not None:
            headers.append(("ce_subject", self.subject.encode()))
        if self.traceparent:
            headers.append(("ce_traceparent", self.traceparent.encode()))
            headers.append(("traceparent", self.traceparent.encode()))
        if self.tracestate:
            headers.append(("ce_tracestate", self.tracestate.encode()))
            headers.append(("tracestate", self.tracestate.encode()))
        headers.extend((f"ce_{k}", v.encode()) for k, v in sorted(self.extensions.items()))
        return headers

    def to_structured(self) -> dict[str, object]:
        """The attributes as a structured-mode JSON object without `data` (webhooks add it)."""
        out: dict[str, object] = {
            "specversion": SPEC_VERSION,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": format_time(self.time),
            "datacontenttype": self.datacontenttype,
        }
        if self.subject is not None:
            out["subject"] = self.subject
        if self.traceparent:
            out["traceparent"] = self.traceparent
        out.update(self.extensions)
        return out

    @classmethod
    def from_kafka(
        cls, headers: Iterable[tuple[str, bytes | None]] | None, value: bytes | None
    ) -> Envelope:
        """Read an envelope from a record's headers and value.

        A header with a null value (Kafka allows them) counts as absent. Only the headers
        the envelope holds are decoded, each once; the trace context is read from
        `traceparent`, or from `ce_traceparent` when that is all there is.

        Raises:
            InvalidEvent: a required attribute is missing, not UTF-8, or `ce_time` is not RFC 3339.
        """
        raw: dict[str, bytes | None] = dict(headers or ())
        if None in raw.values():
            raw = {name: v for name, v in raw.items() if v is not None}
        if not _REQUIRED_SET.issubset(raw):
            raise InvalidEvent(
                "not a CloudEvent in binary mode",
                [
                    Fault(f"header:{name}", "required header is missing")
                    for name in _REQUIRED
                    if name not in raw
                ],
            )
        attrs: dict[str, bytes] = raw  # type: ignore[assignment]  # no None left
        if not b"".join(attrs.values()).isascii():
            # ASCII is UTF-8; anything else is checked header by header.
            for name, text in attrs.items():
                if not _utf8(text):
                    raise InvalidEvent(
                        "header is not UTF-8", [Fault(f"header:{name}", "not valid UTF-8")]
                    )
        if attrs["ce_specversion"] != _SPEC_BYTES:
            version = attrs["ce_specversion"].decode()
            raise InvalidEvent(
                "unsupported CloudEvents version",
                [Fault("header:ce_specversion", f"expected 1.0, got {version!r}")],
            )
        if value is None:
            raise InvalidEvent("event has no data", [Fault("value", "record value is empty")])
        get = attrs.get
        subject = get("ce_subject")
        content_type = get("content-type")
        traceparent = get("traceparent") or get("ce_traceparent")
        tracestate = get("tracestate") or get("ce_tracestate")
        extensions: Mapping[str, str] = (
            _NO_EXTENSIONS
            if _KNOWN_PRESENT.issuperset(attrs)
            else {
                n[3:]: t.decode()
                for n, t in attrs.items()
                if n.startswith("ce_") and n not in _KNOWN
            }
        )
        return _build(
            attrs["ce_id"].decode(),
            attrs["ce_source"].decode(),
            attrs["ce_type"].decode(),
            value,
            _parse_time(get("ce_time")),
            subject.decode() if subject is not None else None,
            content_type.decode() if content_type is not None else JSON_CONTENT_TYPE,
            traceparent.decode() if traceparent else None,
            tracestate.decode() if tracestate else None,
            extensions,
        )


_SPEC_BYTES = SPEC_VERSION.encode()
_NEW = object.__new__
(
    _SET_ID,
    _SET_SOURCE,
    _SET_TYPE,
    _SET_DATA,
    _SET_TIME,
    _SET_SUBJECT,
    _SET_CONTENT_TYPE,
    _SET_TRACEPARENT,
    _SET_TRACESTATE,
    _SET_EXTENSIONS,
) = (Envelope.__dict__[f.name].__set__ for f in fields(Envelope))


def _build(
    id: str,
    source: str,
    type: str,
    data: bytes,
    time: datetime,
    subject: str | None,
    datacontenttype: str,
    traceparent: str | None,
    tracestate: str | None,
    extensions: Mapping[str, str],
) -> Envelope:
    """`Envelope(...)` without the frozen dataclass's `__init__`, which costs ten
    `object.__setattr__` calls (the consumer reads one envelope per record): the slots are
    filled through their descriptors, as the frozen class stays."""
    envelope: Envelope = _NEW(Envelope)
    _SET_ID(envelope, id)
    _SET_SOURCE(envelope, source)
    _SET_TYPE(envelope, type)
    _SET_DATA(envelope, data)
    _SET_TIME(envelope, time)
    _SET_SUBJECT(envelope, subject)
    _SET_CONTENT_TYPE(envelope, datacontenttype)
    _SET_TRACEPARENT(envelope, traceparent)
    _SET_TRACESTATE(envelope, tracestate)
    _SET_EXTENSIONS(envelope, extensions)
    return envelope


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_LAST_TIME: list[tuple[bytes, datetime]] = [(b"", datetime.min.replace(tzinfo=UTC))]
"""The last `ce_time` read and its value: a batch's events mostly share one send time."""


def _parse_time(raw: bytes | None) -> datetime:
    if raw is None:
        return datetime.now(UTC)
    last_raw, last = _LAST_TIME[0]
    if raw == last_raw:
        return last
    parsed = _read_time(raw.decode())
    _LAST_TIME[0] = (raw, parsed)
    return parsed


def _read_time(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidEvent(
            "bad event time", [Fault("header:ce_time", f"not RFC 3339: {text!r}")]
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
