"""Typed, versioned events and the catalogue that reads them back.

An event class names its family (`TYPE`, e.g. ``org.wipo.tabridge.activity.registered``)
and its major `VERSION`; the CloudEvents `type` is ``<TYPE>.v<VERSION>``. Within a major
version, changes are additive only and readers ignore unknown fields. Older versions a
consumer still reads are upcast, one version step at a time, by small functions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from shared._envelope import Envelope
from shared._errors import Fault, InvalidEvent

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

_TYPE_RE = re.compile(r"^(?P<family>[a-z0-9_.-]+)\.v(?P<version>[0-9]+)$")


class Event(BaseModel):
    """Base of every event body: frozen, and tolerant of fields added by newer writers."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str]

    @classmethod
    def ce_type(cls) -> str:
        return f"{cls.TYPE}.v{cls.VERSION}"

    def key(self) -> str:
        """The aggregate id the event is keyed (and ordered) by."""
        raise NotImplementedError

    def subject(self) -> str | None:
        return self.key()

    def to_json(self) -> bytes:
        return self.__pydantic_serializer__.to_json(self)


def split_type(ce_type: str) -> tuple[str, int]:
    """Split ``family.vN`` into its family and major version.

    Raises:
        InvalidEvent: the type does not end in ``.v<N>``.
    """
    match = _TYPE_RE.match(ce_type)
    if match is None:
        raise InvalidEvent(
            "event type carries no major version",
            [Fault("header:ce_type", f"expected '<family>.v<N>', got {ce_type!r}")],
        )
    return match["family"], int(match["version"])


class EventCatalog:
    """The one registry of (type family, major version) → model, with upcasters between."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, int], type[Event]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self._resolved: dict[str, tuple[str, int, type[Event]]] = {}

    def register(self, model: type[Event]) -> type[Event]:
        key = (model.TYPE, model.VERSION)
        if key in self._models and self._models[key] is not model:
            raise ValueError(f"{model.ce_type()} is already registered")
        self._models[key] = model
        self._resolved.clear()
        return model

    def register_upcaster(self, family: str, from_version: int, upcaster: Upcaster) -> None:
        """`upcaster` turns a ``from_version`` body into a ``from_version + 1`` body."""
        self._upcasters[(family, from_version)] = upcaster

    def models(self) -> Iterator[type[Event]]:
        yield from sorted(self._models.values(), key=lambda m: (m.TYPE, m.VERSION))

    def latest(self, family: str) -> type[Event] | None:
        versions = [v for (f, v) in self._models if f == family]
        return self._models[(family, max(versions))] if versions else None

    def knows(self, family: str) -> bool:
        return self.latest(family) is not None

    def decode(self, envelope: Envelope) -> Event:
        """Read the body into the latest model of its family, upcasting older versions.

        Raises:
            InvalidEvent: unknown family, a version newer than this reader knows, a body
                that is not JSON or that fails the model (each fault with its JSON pointer).
        """
        family, version, model = self._resolve(envelope.type)
        if version == model.VERSION:
            try:
                return model.model_validate_json(envelope.data)
            except ValidationError as exc:
                raise InvalidEvent(
                    f"{envelope.type} does not match its model", faults_of(exc)
                ) from exc
        try:
            body = orjson.loads(envelope.data)
        except orjson.JSONDecodeError as exc:
            raise InvalidEvent("event data is not JSON", [Fault("", str(exc))]) from exc
        if not isinstance(body, dict):
            raise InvalidEvent("event data is not a JSON object", [Fault("", "expected object")])
        for step in range(version, model.VERSION):
            upcaster = self._upcasters.get((family, step))
            if upcaster is None:
                raise InvalidEvent(
                    "no upcaster for an old version",
                    [Fault("header:ce_type", f"cannot read v{step} of {family}")],
                )
            body = upcaster(body)
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            raise InvalidEvent(f"{envelope.type} does not match its model", faults_of(exc)) from exc

    def decode_body(self, ce_type: str, data: bytes) -> Event:
        """Decode a body stored apart from its envelope (an outbox row, a replay)."""
        return self.decode(Envelope(id="", source="", type=ce_type, data=data))

    def _resolve(self, ce_type: str) -> tuple[str, int, type[Event]]:
        resolved = self._resolved.get(ce_type)
        if resolved is not None:
            return resolved
        family, version = split_type(ce_type)
        model = self.latest(family)
        if model is None:
            raise InvalidEvent(
                "unknown event type", [Fault("header:ce_type", f"no model for {family!r}")]
            )
        if version > model.VERSION:
            raise InvalidEvent(
                "event version is newer than this reader",
                [Fault("header:ce_type", f"reads up to v{model.VERSION}, got v{version}")],
            )
        self._resolved[ce_type] = (family, version, model)
        return family, version, model


def faults_of(exc: ValidationError) -> list[Fault]:
    """Each pydantic error as a fault located by JSON pointer."""
    faults = []
    for err in exc.errors():
        pointer = "".join(
            "/" + str(part).replace("~", "~0").replace("/", "~1") for part in err["loc"]
        )
        faults.append(Fault(pointer, err["msg"], str(err["type"])))
    return faults
