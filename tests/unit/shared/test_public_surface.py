"""`shared` is a library: its `__all__` and its public names stay in step."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("module_name", ["shared", "shared.db", "shared.events", "shared.domain"])
def test_all_lists_exactly_the_public_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, type(importlib))
    }
    public -= {"annotations"}
    assert set(module.__all__) == public
    assert module.__all__ == sorted(module.__all__, key=lambda n: (not n.isupper(), n))
