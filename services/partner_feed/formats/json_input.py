"""Loading untrusted JSON: size, encoding and nesting limits; JSON pointers for faults."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from services.partner_feed.formats.errors import (
    InvalidEncoding,
    Location,
    MalformedInput,
    NestingTooDeep,
)
from services.partner_feed.formats.safety import ByteSource, Limits, iter_chunks


def pointer(*parts: str | int) -> str:
    """RFC 6901 JSON pointer for a path."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def load_json(source: ByteSource, limits: Limits) -> Any:
    """Parse the whole document (bounded by ``limits.max_input_bytes``).

    Raises :class:`InvalidEncoding`, :class:`NestingTooDeep` or :class:`MalformedInput`
    with the line and column of the fault.
    """
    data = b"".join(iter_chunks(source, limits))
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        location = _location(data, exc.pos)
        lowered = exc.msg.lower()
        if "utf-8" in lowered or "surrogate" in lowered:
            raise InvalidEncoding(f"not valid UTF-8: {exc.msg}", _bad_byte(data)) from exc
        if "recursion" in lowered or "depth" in lowered:
            raise NestingTooDeep(f"JSON nesting too deep: {exc.msg}", location) from exc
        raise MalformedInput(f"JSON is not well-formed: {exc.msg}", location) from exc


def _bad_byte(data: bytes) -> Location:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start]
        return Location(line=prefix.count(b"\n") + 1, column=exc.start - prefix.rfind(b"\n"))
    return Location()


def _location(data: bytes, pos: int) -> Location:
    # orjson reports a character offset into the decoded text; count over the bytes prefix
    # decoded leniently, which is exact up to the first bad byte.
    text = data.decode("utf-8", errors="replace")[:pos]
    line = text.count("\n") + 1
    return Location(line=line, column=pos - (text.rfind("\n") + 1) + 1)


def faults(
    value: Any, base: Sequence[str | int], *, max_depth: int, max_chars: int
) -> Iterator[tuple[str, str, str]]:
    """(code, message, pointer) for each nesting or size fault under ``value``.

    Iterative, so a hostile document cannot exhaust the Python stack.
    """
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, tuple(base))]
    while stack:
        node, path = stack.pop()
        depth = len(path) - len(base)
        if isinstance(node, dict | list) and depth >= max_depth:
            yield "nesting-too-deep", f"nested deeper than {max_depth} levels", pointer(*path)
            continue
        if isinstance(node, str) and len(node) > max_chars:
            yield "field-too-large", f"{len(node)} characters, limit {max_chars}", pointer(*path)
        elif isinstance(node, dict):
            stack.extend((v, (*path, k)) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((v, (*path, i)) for i, v in reversed(list(enumerate(node))))
