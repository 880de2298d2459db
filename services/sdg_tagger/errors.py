"""Errors of the SDG tagger, named for what the caller does::

    SdgTaggerError
    ├── InvalidTagRequest   the caller sent something unusable (e.g. an unknown curated
    │                       target id): reject it (HTTP 422 / DLQ), do not retry
    └── ArtifactInvalid     the packaged model or knowledge data is missing or corrupt:
                            a deployment fault, fail at start-up

Text itself never raises: empty, huge or foreign-language text gets an ``outcome``.
"""

from __future__ import annotations

__all__ = ["ArtifactInvalid", "InvalidTagRequest", "SdgTaggerError"]


class SdgTaggerError(Exception):
    """Base of every error this package raises on purpose."""


class InvalidTagRequest(SdgTaggerError, ValueError):
    """The request cannot be tagged as sent; the message says which value and why."""


class ArtifactInvalid(SdgTaggerError):
    """The model artifact or the knowledge data failed to load or validate."""
