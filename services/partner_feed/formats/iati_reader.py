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
    InputFault,
    InputTooLarge,
    InvalidEncoding,
    Location,
    MalformedInput,
    WrongRootElement,
)
from services.partner_feed.formats.safety import ByteSource, Limits, iter_chunks

ROOT = "iati-activities"
ACTIVITY = "iati-activity"
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_ROOT_START = re.compile(rb"<[A-Za-z_]")
_ROOT_NAME = re.compile(rb"[A-Za-z_][\w.:-]*(?=[\s/>])")
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

    Raises a subclass of :class:`InputFault` (with line and column) for a fatal fault:
    declarations, invalid encoding, malformed or truncated XML, a wrong root element, or
    limits exceeded. Every activity completed before the fault has already been yielded.
    """
    limits = limits or Limits()
    sniff = _Sniff()
    chunks = _refuse_declarations(iter_chunks(source, limits), sniff)
    first = next(chunks, b"")
    # When the prolog shows the root is <iati-activities>, lxml reports only the root and
    # the activities (no Python object for each of their ~100 descendants: a third of the
    # parse); any other root, or a prolog the byte sniff cannot read, takes the general
    # path that sees every element.
    fast = sniff.root == ROOT.encode()
    parser = etree.XMLPullParser(
        events=("start", "end"),
        tag=(ROOT, ACTIVITY) if fast else None,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    state = _State(limits, filtered=fast)
    for chunk in _prepend(first, chunks):
        try:
            parser.feed(chunk)
        except etree.XMLSyntaxError as exc:
            yield from state.drain(parser)
            raise _translate(exc) from exc
        yield from state.drain(parser)
        state.drop_finished()
    if state.root_seen is False:
        if fast:  # the sniff saw a root start the parser never reported: cut short
            try:
                parser.close()
            except etree.XMLSyntaxError as exc:
                raise _translate(exc) from exc
        raise MalformedInput("the document is empty", Location(line=1, column=1))
    try:
        parser.close()
    except etree.XMLSyntaxError as exc:
        yield from state.drain(parser)
        raise _translate(exc) from exc
    yield from state.drain(parser)


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


class _State:
    def __init__(self, limits: Limits, *, filtered: bool = False) -> None:
        self.limits = limits
        self.filtered = filtered
        """Only the root and ``iati-activity`` elements are reported (at any depth)."""
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
            if self.filtered and el.getparent() is not self.root:
                continue  # an activity inside another element: part of that element
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

    def drop_finished(self) -> None:
        """Drop the root's finished children (all but the last, which may be open).

        The filtered parser never reports other children of the root, so without this a
        file of anything but activities would pile up in memory."""
        if self.filtered and self.root is not None:
            while len(self.root) > 1:
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


class _Sniff:
    root: bytes | None = None
    """The root element's name as the prolog sniff read it (None: not found)."""


def _refuse_declarations(chunks: Iterator[bytes], sniff: _Sniff) -> Iterator[bytes]:
    """Pass chunks through, refusing DOCTYPE/ENTITY markup anywhere before the root start;
    notes the root element's name in `sniff`."""
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
            if root is not None:
                name = _ROOT_NAME.match(head, root.start() + 1)
                sniff.root = name.group(0) if name else None
            sniffing = root is None and len(prolog) < _PROLOG_SNIFF_BYTES
        yield chunk


def _strip_markup(prolog: bytes) -> bytes:
    # Comments and PIs may precede the root; hide them so "<?xml" and "<!--" do not count
    # as the root start and a declaration mentioned inside a comment is not refused.
    prolog = re.sub(rb"<!--.*?-->", b"", prolog, flags=re.DOTALL)
    return re.sub(rb"<\?.*?\?>", b"", prolog, flags=re.DOTALL)


def _translate(exc: Any) -> InputFault:
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
