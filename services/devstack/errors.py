"""The launcher's one error: the stack could not be brought up (the message says why)."""

from __future__ import annotations


class StackError(RuntimeError):
    """A broker or service did not start, or did not become ready in time."""
