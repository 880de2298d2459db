"""Streaming, hardened reading of IATI activity XML, one ``iati-activity`` at a time.

Safety: the parser never resolves entities, loads a DTD or touches the network, keeps
libxml2's size guards (``huge_tree=False``), and any DOCTYPE or ENTITY declaration is refused
before it reaches the parser (and again from the parsed document info, for encodings the
byte sniff cannot read). Memory stays bounded: each activity element is cleared, and its
finished siblings dropped, as soon as the consumer resumes the generator.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lxml import etree

from services.partner_feed.formats.errors import (
    ForbiddenDeclaration,
    InputTooLarge,
    InvalidEncoding,
    InvalidInput,
    Location,
    MalformedInput,
    WrongRootElement,
)
from services.partner_feed.formats.safety import ByteSource, Limits, iter_chunks

ROOT = "iati-activities"
ACTIVITY = "iati-activity"
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_ROOT_START = re.compile(rb"<[A-Za-z_]")
_PROLOG_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class ActivityElement:
    """One parsed ``iati-activity``. ``element`` is valid only until the next iteration."""

    element: Any
    index: int
    path: str
    root_version: str | None


def iter_activities(source: ByteSource, limits: Limits | None = None) -> Iterator[ActivityElement]:
    """Yield each ``iati-activity`` of an ``iati-activities`` document, in order.

    Raises a subclass of :class:`InvalidInput` (with line and column) for a fatal fault:
    declarations, invalid encoding, malformed or truncated XML, a wrong root element, or
    limits exceeded. Every activity completed before the fault has already been yielded.
    """
    limits = limits or Limits()
    parser = etree.XMLPullParser(
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    state = _State(limits)
    chunks = _refuse_declarations(iter_chunks(source, limits))
    for chunk in chunks:
        try:
            parser.feed(chunk)
        except etree.XMLSyntaxError as exc:
            yield from state.drain(parser)
            raise _translate(exc) from exc
        yield from state.drain(parser)
    if state.root_seen is False:
        raise MalformedInput("the document is empty", Location(line=1, column=1))
    try:
        parser.close()
    except etree.XMLSyntaxError as exc:
        yield from state.drain(parser)
        raise _translate(exc) from exc
    yield from state.drain(parser)


class _State:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.depth = 0
        self.root: Any = None
        self.root_seen = False
        self.root_version: str | None = None
        self.count = 0

    def drain(self, parser: Any) -> Iterator[ActivityElement]:
        for event, el in parser.read_events():
            if event == "start":
                self.depth += 1
                if self.depth == 1:
                    self._check_root(el)
                continue
            self.depth -= 1
            if self.depth != 1:
                continue
            if el.tag == ACTIVITY:
                self.count += 1
                if self.count > self.limits.max_records:
                    raise InputTooLarge(
                        f"more than {self.limits.max_records} activities",
                        Location(line=el.sourceline, path=f"/{ROOT}/{ACTIVITY}[{self.count}]"),
                    )
                yield ActivityElement(
                    element=el,
                    index=self.count,
                    path=f"/{ROOT}/{ACTIVITY}[{self.count}]",
                    root_version=self.root_version,
                )
            el.clear(keep_tail=False)
            while el.getprevious() is not None:
                del self.root[0]

    def _check_root(self, el: Any) -> None:
        self.root_seen = True
        self.root = el
        docinfo = el.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None:
            raise ForbiddenDeclaration(
                "DOCTYPE and entity declarations are not accepted",
                Location(line=1, column=1),
            )
        if el.tag != ROOT:
            raise WrongRootElement(
                f"root element is <{el.tag}>, expected <{ROOT}>",
                Location(line=el.sourceline, column=1, path=f"/{el.tag}"),
            )
        version = el.get("version")
        self.root_version = version.strip() if version else None


def _refuse_declarations(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Pass chunks through, refusing DOCTYPE/ENTITY markup anywhere before the root start."""
    prolog = b""
    sniffing = True
    for chunk in chunks:
        if sniffing:
            prolog += chunk
            head = _strip_markup(prolog)
            root = _ROOT_START.search(head)
            match = _DECLARATION.search(head, 0, root.start() if root else len(head))
            if match:
                raise ForbiddenDeclaration(
                    f"{match.group(1).decode().upper()} declarations are not accepted",
                    Location(line=head[: match.start()].count(b"\n") + 1),
                )
            sniffing = root is None and len(prolog) < _PROLOG_SNIFF_BYTES
        yield chunk


def _strip_markup(prolog: bytes) -> bytes:
    # Comments and PIs may precede the root; hide them so "<?xml" and "<!--" do not count
    # as the root start and a declaration mentioned inside a comment is not refused.
    prolog = re.sub(rb"<!--.*?-->", b"", prolog, flags=re.DOTALL)
    return re.sub(rb"<\?.*?\?>", b"", prolog, flags=re.DOTALL)


def _translate(exc: Any) -> InvalidInput:
    line, column = exc.position if exc.position else (exc.lineno, None)
    location = Location(line=line, column=column)
    message = str(exc.msg) if getattr(exc, "msg", None) else str(exc)
    lowered = message.lower()
    if "encoding" in lowered or "utf-8" in lowered or "char 0x" in lowered:
        return InvalidEncoding(f"not valid UTF-8 text: {message}", location)
    if "premature end" in lowered or "not closed" in lowered or "extra content" in lowered:
        return MalformedInput(f"truncated or unbalanced XML: {message}", location)
    if "entity" in lowered:
        return ForbiddenDeclaration(f"entity reference: {message}", location)
    return MalformedInput(f"XML is not well-formed: {message}", location)
