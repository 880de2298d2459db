"""Resource limits for untrusted partner input, and bounded (gzip-aware) byte streaming.

Every reader pulls its bytes through :func:`iter_chunks`, so a hostile upload can never make
us hold or inflate more than :class:`Limits` allows, whatever the format.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict, Field

from services.partner_feed.formats.errors import (
    DecompressionBomb,
    InputTooLarge,
    Location,
    MalformedInput,
)

ByteSource = bytes | BinaryIO
"""What every reader accepts: the whole body, or a binary file object read in chunks."""

_GZIP_MAGIC = b"\x1f\x8b"


class Limits(BaseModel):
    """Ceilings applied to one input. Defaults suit partner exports of a few hundred MB."""

    model_config = ConfigDict(frozen=True)

    max_input_bytes: int = Field(default=256 * 1024**2, gt=0)
    """Bytes after decompression (the raw size for plain input)."""
    max_compression_ratio: int = Field(default=100, gt=0)
    """Decompressed / compressed bytes; checked once output passes ``ratio_grace_bytes``."""
    ratio_grace_bytes: int = Field(default=1024**2, ge=0)
    max_field_chars: int = Field(default=32 * 1024, gt=0)
    """Longest text of one field, CSV cell or XML narrative."""
    max_json_depth: int = Field(default=16, gt=0)
    max_records: int = Field(default=1_000_000, gt=0)
    chunk_bytes: int = Field(default=64 * 1024, gt=0)


def iter_chunks(source: ByteSource, limits: Limits) -> Iterator[bytes]:
    """Yield the input's bytes, transparently gunzipped, in chunks of ``limits.chunk_bytes``.

    Raises :class:`InputTooLarge` once the output passes ``max_input_bytes`` and
    :class:`DecompressionBomb` when the gzip ratio passes ``max_compression_ratio``; in both
    cases no more than one chunk beyond the limit has been produced.
    """
    raw = _iter_raw(source, limits.chunk_bytes)
    first = next(raw, b"")
    if first.startswith(_GZIP_MAGIC):
        yield from _gunzip(_prepend(first, raw), limits)
        return
    total = 0
    for chunk in _prepend(first, raw):
        total += len(chunk)
        if total > limits.max_input_bytes:
            raise InputTooLarge(
                f"input is larger than {limits.max_input_bytes} bytes",
                Location(path=f"byte {limits.max_input_bytes}"),
            )
        yield chunk


def _iter_raw(source: ByteSource, size: int) -> Iterator[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        for start in range(0, len(data), size):
            yield data[start : start + size]
        return
    while chunk := source.read(size):
        yield chunk


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


def _gunzip(compressed: Iterator[bytes], limits: Limits) -> Iterator[bytes]:
    # wbits=47 accepts gzip (and zlib) headers; max_length bounds each inflate step so a bomb
    # is caught after at most one chunk of output.
    inflater = zlib.decompressobj(wbits=47)
    consumed = produced = 0
    for chunk in compressed:
        consumed += len(chunk)
        data = chunk
        while data or inflater.unconsumed_tail:
            try:
                out = inflater.decompress(data or inflater.unconsumed_tail, limits.chunk_bytes)
            except zlib.error as exc:
                raise MalformedInput(f"corrupt gzip stream: {exc}") from exc
            data = b""
            produced += len(out)
            _check_inflation(produced, consumed, limits)
            if out:
                yield out
            if inflater.eof:
                return
            if not out and not inflater.unconsumed_tail:
                break
    if not inflater.eof:
        raise MalformedInput("truncated gzip stream", Location(path=f"byte {consumed}"))


def _check_inflation(produced: int, consumed: int, limits: Limits) -> None:
    if produced > limits.max_input_bytes:
        raise InputTooLarge(
            f"decompressed input is larger than {limits.max_input_bytes} bytes",
            Location(path=f"compressed byte {consumed}"),
        )
    if produced > limits.ratio_grace_bytes and produced > consumed * limits.max_compression_ratio:
        raise DecompressionBomb(
            f"gzip expands more than {limits.max_compression_ratio}:1",
            Location(path=f"compressed byte {consumed}"),
        )
