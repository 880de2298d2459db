"""Typed errors for partner-feed input, each carrying a machine code and a location.

The tree, by what the caller does with it (all end up as 400/422 problem details or as a
fatal entry in an ingest report). It is a branch of the shared tree: ``InputFault`` is a
``shared.InvalidInput`` whose one fault is where in the file it was found::

    InputFault                    base: ``code``, ``message``, ``location``
    ├── InputTooLarge             raw or decompressed size over the limit
    │   └── DecompressionBomb     gzip ratio over the limit
    ├── InvalidEncoding           bytes that are not valid UTF-8
    ├── MalformedInput            truncated / not well-formed XML, JSON or CSV
    ├── ForbiddenDeclaration      DOCTYPE or ENTITY declarations (XXE, billion laughs)
    ├── WrongRootElement          the document is not what the format expects
    ├── UnsupportedVersion        an IATI version we neither read nor map
    ├── NestingTooDeep            JSON deeper than the limit
    ├── FieldTooLarge             one field or cell longer than the limit
    └── WrongType                 a JSON value of the wrong type
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared import Fault, InvalidInput


class Location(BaseModel):
    """Where a fault is: a 1-based line and column, and an XPath-like path or JSON pointer."""

    model_config = ConfigDict(frozen=True)

    line: int | None = None
    column: int | None = None
    path: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        if self.path:
            parts.append(self.path)
        return ", ".join(parts) or "unknown location"


class InputFault(InvalidInput):
    """Base of every fault in a partner file: bad input, never a bug or an outage."""

    code = "invalid-input"

    def __init__(self, message: str, location: Location | None = None) -> None:
        self.location = location or Location()
        super().__init__(message, [Fault(self.location.path or "", message, self.code)])
        self.args = (f"{message} ({self.location})",)


class InputTooLarge(InputFault):
    code = "input-too-large"


class DecompressionBomb(InputTooLarge):
    code = "decompression-bomb"


class InvalidEncoding(InputFault):
    code = "invalid-encoding"


class MalformedInput(InputFault):
    code = "malformed-input"


class ForbiddenDeclaration(InputFault):
    code = "forbidden-declaration"


class WrongRootElement(InputFault):
    code = "wrong-root-element"


class UnsupportedVersion(InputFault):
    code = "unsupported-version"


class NestingTooDeep(InputFault):
    code = "nesting-too-deep"


class FieldTooLarge(InputFault):
    code = "field-too-large"


class WrongType(InputFault):
    code = "wrong-type"
