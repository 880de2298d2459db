"""Errors of the SDG tagger, a branch of the shared tree (`shared._errors`), named for
what the caller does::

    TaBridgeError
    └── SdgTaggerError
        ├── InvalidTagRequest   (InvalidInput) the caller sent something unusable (e.g. an
        │                       unknown curated target id): reject it (HTTP 422 / DLQ),
        │                       do not retry
        └── ArtifactInvalid     (SettingsError) the packaged model or knowledge data is
                                missing or corrupt: a deployment fault, fail at start-up

Text itself never raises: empty, huge or foreign-language text gets an ``outcome``.
"""

from __future__ import annotations

from shared import InvalidInput, SettingsError, TaBridgeError

__all__ = ["ArtifactInvalid", "InvalidTagRequest", "SdgTaggerError"]


class SdgTaggerError(TaBridgeError):
    """Base of every error this package raises on purpose."""


class InvalidTagRequest(SdgTaggerError, InvalidInput, ValueError):
    """The request cannot be tagged as sent; the message says which value and why."""


class ArtifactInvalid(SdgTaggerError, SettingsError):
    """The model artifact or the knowledge data failed to load or validate."""
