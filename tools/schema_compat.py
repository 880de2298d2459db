"""Backward compatibility of two JSON Schemas of the same major event version.

Within a major version, change is additive only: readers of the old schema must read new
events (they ignore unknown fields), and readers of the new schema must read old events.
So between the old and the new schema of one version:
- no property disappears, and none changes type or format;
- the set of required properties stays the same (a new required field breaks old data,
  a required field made optional breaks old readers);
- enumerations keep exactly their values (old readers reject new values);
- new optional properties are fine.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Each reason `new` is not a backward-compatible successor of `old` (empty if it is)."""
    problems: list[str] = []
    _compare(old, new, old.get("$defs", {}), new.get("$defs", {}), "#", problems, set())
    return problems


def _resolve(node: Schema, defs: Schema) -> Schema:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        resolved: Schema = defs.get(ref.removeprefix("#/$defs/"), {})
        return resolved
    return node


def _types(node: Schema) -> set[str]:
    if "type" in node:
        kind = node["type"]
        return set(kind) if isinstance(kind, list) else {kind}
    variants = node.get("anyOf") or node.get("oneOf")
    if variants:
        found: set[str] = set()
        for variant in variants:
            found |= _types(variant) or {"$ref" if "$ref" in variant else "any"}
        return found
    return set()


def _compare(
    old: Schema,
    new: Schema,
    old_defs: Schema,
    new_defs: Schema,
    path: str,
    problems: list[str],
    visiting: set[tuple[str, str]],
) -> None:
    marker = (str(old.get("$ref")), str(new.get("$ref")))
    if "$ref" in old:
        if marker in visiting:
            return
        visiting = visiting | {marker}
    old, new = _resolve(old, old_defs), _resolve(new, new_defs)
    problems.extend(_scalar_changes(old, new, path))

    def nested(a: Schema, b: Schema, where: str) -> None:
        _compare(a, b, old_defs, new_defs, where, problems, visiting)

    old_props: Schema = old.get("properties", {})
    new_props: Schema = new.get("properties", {})
    for name, old_prop in old_props.items():
        if name not in new_props:
            problems.append(f"{path}/properties/{name}: removed")
        else:
            nested(old_prop, new_props[name], f"{path}/properties/{name}")
    if "items" in old and "items" in new:
        nested(old["items"], new["items"], f"{path}/items")
    old_variants = old.get("anyOf") or old.get("oneOf") or []
    new_variants = new.get("anyOf") or new.get("oneOf") or []
    if len(old_variants) == len(new_variants):
        for i, (a, b) in enumerate(zip(old_variants, new_variants, strict=True)):
            nested(a, b, f"{path}/anyOf/{i}")
    old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
    if isinstance(old_extra, dict) and isinstance(new_extra, dict):
        nested(old_extra, new_extra, f"{path}/additionalProperties")


def _scalar_changes(old: Schema, new: Schema, path: str) -> list[str]:
    problems = []
    if _types(old) != _types(new):
        problems.append(f"{path}: type changed from {sorted(_types(old))} to {sorted(_types(new))}")
    if old.get("format") != new.get("format"):
        problems.append(f"{path}: format changed from {old.get('format')} to {new.get('format')}")
    old_enum, new_enum = old.get("enum"), new.get("enum")
    if (old_enum or new_enum) and sorted(map(str, old_enum or [])) != sorted(
        map(str, new_enum or [])
    ):
        problems.append(f"{path}: enumeration changed {old_enum} -> {new_enum}")
    if "const" in old and old.get("const") != new.get("const"):
        problems.append(f"{path}: constant changed")
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    problems.extend(
        f"{path}/required: {n} became required" for n in sorted(new_required - old_required)
    )
    problems.extend(
        f"{path}/required: {n} is no longer required" for n in sorted(old_required - new_required)
    )
    return problems
