"""Typed errors for partner-feed input, each carrying a machine code and a location.

The tree, by what the caller does with it (all end up as 400/422 problem details or as a
fatal entry in an ingest report)::

    InvalidInput                  base: ``code``, ``message``, ``location``
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


class InvalidInput(Exception):
    """Base of every input fault: bad input, never a bug or an outage."""

    code = "invalid-input"

    def __init__(self, message: str, location: Location | None = None) -> None:
        self.message = message
        self.location = location or Location()
        super().__init__(f"{message} ({self.location})")


class InputTooLarge(InvalidInput):
    code = "input-too-large"


class DecompressionBomb(InputTooLarge):
    code = "decompression-bomb"


class InvalidEncoding(InvalidInput):
    code = "invalid-encoding"


class MalformedInput(InvalidInput):
    code = "malformed-input"


class ForbiddenDeclaration(InvalidInput):
    code = "forbidden-declaration"


class WrongRootElement(InvalidInput):
    code = "wrong-root-element"


class UnsupportedVersion(InvalidInput):
    code = "unsupported-version"


class NestingTooDeep(InvalidInput):
    code = "nesting-too-deep"


class FieldTooLarge(InvalidInput):
    code = "field-too-large"


class WrongType(InvalidInput):
    code = "wrong-type"
