"""Bounds on the input text: what counts as empty, and where a huge text is cut."""

from __future__ import annotations

__all__ = ["MAX_CHARACTERS", "has_words", "truncate"]

# Activity descriptions run to a few thousand characters; past 20,000 the rest of a
# document adds little signal and only costs time.
MAX_CHARACTERS = 20_000
_BACKTRACK = 200


def has_words(text: str) -> bool:
    """Whether the text contains at least one letter (of any script)."""
    return any(char.isalpha() for char in text)


def truncate(text: str, limit: int) -> tuple[str, list[str]]:
    """The first ``limit`` characters of ``text``, cut at a space when one is near.

    Returns the text to read and the notes to report (empty when nothing was cut).
    """
    if limit <= 0:
        msg = f"limit must be positive, got {limit}"
        raise ValueError(msg)
    if len(text) <= limit:
        return text, []
    cut = text.rfind(" ", max(0, limit - _BACKTRACK), limit)
    used = text[: cut if cut > 0 else limit]
    note = f"text truncated: read the first {len(used):,} of {len(text):,} characters"
    return used, [note]
