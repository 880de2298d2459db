"""The notifier process fixtures, shared with the notifier's own service tests."""

from __future__ import annotations

from tests.integration.notifier_service.conftest import notifier, receivers

__all__ = ["notifier", "receivers"]
