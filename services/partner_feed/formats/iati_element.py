"""Reading values out of one ``iati-activity`` element: narratives per language, trimmed
attributes, numbers and dates, each with its location; conversion faults become findings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from services.partner_feed.formats.errors import Location
from services.partner_feed.formats.iati_tolerant import canonical_language
from services.partner_feed.formats.record import Text
from services.partner_feed.validation.findings import Category, Finding, Severity

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class ElementReader:
    """Reads one activity; collects ``locations`` (field path → Location) and ``findings``."""

    def __init__(self, activity: Any, path: str, legacy_mode: bool, max_chars: int) -> None:
        self.activity = activity
        self.path = path
        self.legacy = legacy_mode
        self.max_chars = max_chars
        self.lang = canonical_language(activity.get(XML_LANG) or "en")
        self._siblings: dict[Any, dict[Any, tuple[int, int]]] = {}
        self.locations: dict[str, Location] = {"": self.loc(activity)}
        self.findings: list[Finding] = []
        self._counts: dict[str, int] = {}
        self._by_tag: dict[Any, list[Any]] | None = None

    def children(self, tag: str) -> list[Any]:
        """The activity's child elements named ``tag``, in document order (as
        ``activity.findall(tag)``, from one pass over the children for every tag)."""
        by_tag = self._by_tag
        if by_tag is None:
            by_tag = self._by_tag = {}
            for child in self.activity:
                group = by_tag.get(child.tag)
                if group is None:
                    by_tag[child.tag] = [child]
                else:
                    group.append(child)
        return by_tag.get(tag, [])

    def child(self, tag: str) -> Any | None:
        """The activity's first child element named ``tag`` (as ``activity.find(tag)``)."""
        found = self.children(tag)
        return found[0] if found else None

    def loc(self, el: Any) -> Location:
        return Location(line=el.sourceline, path=self.path + self._rel(el))

    def _rel(self, el: Any) -> str:
        parent = el.getparent()
        if parent is self.activity:  # the common case: a child of the activity itself
            position, count = self._position(parent, el)
            return f"/{el.tag}[{position}]" if count > 1 else f"/{el.tag}"
        parts: list[str] = []
        while el is not None and el is not self.activity:
            parent = el.getparent()
            position, count = self._position(parent, el) if parent is not None else (1, 1)
            parts.append(f"{el.tag}[{position}]" if count > 1 else str(el.tag))
            el = parent
        return "".join(f"/{p}" for p in reversed(parts))

    def _position(self, parent: Any, el: Any) -> tuple[int, int]:
        """`el`'s 1-based position among its parent's children of its tag, and their count.

        Indexed once per parent: the location of every field is kept, and a flat scan of
        the siblings per element made activities with many transactions quadratic."""
        index = self._siblings.get(parent)
        if index is None:
            positions: dict[Any, int] = {}
            counts: dict[Any, int] = {}
            for child in parent:
                counts[child.tag] = positions[child] = counts.get(child.tag, 0) + 1
            index = self._siblings[parent] = {c: (n, counts[c.tag]) for c, n in positions.items()}
        return index[el]

    def fault(self, code: str, message: str, el: Any, severity: Severity = Severity.ERROR) -> None:
        self.findings.append(
            Finding(
                code=code,
                severity=severity,
                category=Category.FORMAT,
                message=message,
                location=self.loc(el),
            )
        )

    def text(self, el: Any | None) -> Text:
        if el is None:
            return {}
        out: Text = {}
        sources = el.findall("narrative")
        if self.legacy or not sources:
            sources = [el] if (el.text or "").strip() else sources
        for node in sources:
            value = (node.text or "").strip()
            if not value:
                continue
            if len(value) > self.max_chars:
                self.fault("format.field_too_large", f"text over {self.max_chars} chars", node)
                continue
            lang = canonical_language(node.get(XML_LANG) or el.get(XML_LANG) or self.lang)
            out.setdefault(lang, value)
        return out

    def attr(self, el: Any, name: str) -> str | None:
        value = el.get(name)
        return value.strip() if value is not None and value.strip() else None

    def decimal(self, el: Any, name: str = "percentage") -> Decimal | None:
        raw = self.attr(el, name)
        if raw is None:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            self.fault("format.number", f"{name}={raw!r} is not a number", el)
            return None
        if not value.is_finite():
            self.fault("format.number", f"{name}={raw!r} is not a finite number", el)
            return None
        return value.normalize() if value != value.to_integral() else value.quantize(Decimal(1))

    def iso_date(self, el: Any) -> date | None:
        raw = self.attr(el, "iso-date")
        try:
            return date.fromisoformat((raw or "")[:10])
        except ValueError:
            self.fault("format.date", f"iso-date={raw!r} is not a date", el)
            return None

    def keep(self, key: str, el: Any) -> None:
        if key not in self.locations:  # only the first is kept: do not locate the others
            self.locations[key] = self.loc(el)

    def indexed(self, field: str, el: Any) -> None:
        n = self._counts.get(field, 0)
        self._counts[field] = n + 1
        location = self.locations[f"{field}/{n}"] = self.loc(el)
        self.locations.setdefault(field, location)
