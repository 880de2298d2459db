"""Finding a key that appears twice in one JSON object.

RFC 8259 leaves duplicate names undefined and parsers disagree: orjson and the standard
library keep the last value, others the first. A body whose meaning depends on the parser
(a proxy validating the first `"category"`, the service storing the second) is refused
instead (`read_json`, 400 `duplicate_json_key`).

orjson reports no duplicates, so the body is scanned once more by the standard library's
C scanner with an `object_pairs_hook`, which sees each object's pairs before they become a
dict. Only when a duplicate was seen is the tree walked (outermost objects first) to name the
object's JSON pointer. Callers check nesting depth first, so the scan cannot recurse deep.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["escape_pointer", "first_duplicate_key"]


class _Duplicated(dict[str, Any]):
    """An object that had a key twice (kept with its last value, as orjson does)."""

    duplicate: str = ""


def escape_pointer(key: str) -> str:
    """`key` as one JSON pointer segment (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


def first_duplicate_key(body: bytes | str) -> tuple[str, str] | None:
    """The JSON pointer of an object holding a key twice (the outermost such, then the
    first in document order), and that key; None when every object's keys are distinct.
    `body` must be valid JSON."""
    seen = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal seen
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                seen = True
                marked = _Duplicated(items)
                marked.duplicate = key
                return marked
            result[key] = value
        return result

    tree = json.loads(body, object_pairs_hook=pairs)
    if not seen:
        return None
    stack: list[tuple[Any, str]] = [(tree, "")]
    while stack:
        value, pointer = stack.pop()
        if isinstance(value, _Duplicated):
            return pointer, value.duplicate
        if isinstance(value, dict):
            children = [(v, f"{pointer}/{escape_pointer(k)}") for k, v in value.items()]
        elif isinstance(value, list):
            children = [(v, f"{pointer}/{i}") for i, v in enumerate(value)]
        else:
            continue
        stack.extend(reversed(children))
    return None
