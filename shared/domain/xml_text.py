"""Text that every feed can carry: the characters XML 1.0 allows, refused precisely otherwise.

The registry is the system of record for text that is later rendered as IATI XML, JSON
and CSV. XML 1.0 (§2.2 `Char`) cannot represent the C0 controls other than tab, LF and
CR, the non-characters U+FFFE and U+FFFF, or a lone surrogate; a value holding one would
make the IATI feed unrenderable, so it is refused when it is written, naming the first
offending code point and its position.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

__all__ = ["XmlSafe", "XmlSafeStr", "first_xml_unsafe", "xml_safe"]

# Everything outside XML 1.0's Char production (U+D800-DFFF are only reachable as lone
# surrogates in a Python str, since a valid pair decodes to one astral code point).
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def first_xml_unsafe(text: str) -> tuple[int, str] | None:
    """The position (0-based, in code points) and character of the first character XML 1.0
    cannot hold, or None when the text is safe."""
    found = _UNSAFE.search(text)
    return None if found is None else (found.start(), found.group())


def xml_safe(text: str) -> str:
    """`text` unchanged; raises ValueError naming the code point and position otherwise."""
    found = first_xml_unsafe(text)
    if found is not None:
        position, char = found
        raise ValueError(
            f"U+{ord(char):04X} at position {position} is not allowed: text must be "
            "representable in XML 1.0 (no control characters other than tab, LF and CR, "
            "no U+FFFE/U+FFFF, no lone surrogates)"
        )
    return text


XmlSafe = AfterValidator(xml_safe)
"""Annotate a `str` type with it: `Annotated[str, ..., XmlSafe]`."""

XmlSafeStr = Annotated[str, XmlSafe]
