"""Reading IATI 1.0x activities as 2.0x, where the mapping is simple; refusing the rest.

1.0x differs from 2.0x mostly in spelling: text sits directly in elements instead of
``narrative`` children, roles and date types are words (``Funding``, ``start-actual``) and
vocabularies are acronyms (``DAC``). Those are mapped here. Anything older than 1.01 or newer
than the 2.0x line is refused with :class:`UnsupportedVersion`.
"""

from __future__ import annotations

import re
from typing import Any

from services.partner_feed.formats.errors import Location, UnsupportedVersion

SUPPORTED_2X = frozenset({"2.01", "2.02", "2.03"})
LEGACY_1X = frozenset({"1.01", "1.02", "1.03", "1.04", "1.05"})

ROLE_CODES = {"funding": "1", "accountable": "2", "extending": "3", "implementing": "4"}
DATE_TYPE_CODES = {"start-planned": "1", "start-actual": "2", "end-planned": "3", "end-actual": "4"}
VOCABULARY_CODES = {"DAC": "1", "DAC-3": "2"}
"""1.0x sector / policy-marker vocabularies (sector: 5-digit DAC, 3-digit DAC)."""


def detect_version(activity: Any, root_version: str | None) -> str:
    """The IATI version an activity is written in.

    Order: the activity's own ``version`` (allowed in 1.0x), the root's ``version``, any
    namespaced ``...:version`` (datastores add ``iati-extra:version``), else inferred:
    ``narrative`` children mean 2.0x, plain text in ``title`` means 1.0x.
    """
    declared = activity.get("version") or root_version
    if not declared:
        for name, value in activity.attrib.items():
            if name.endswith("}version") or name.endswith(":version"):
                declared = value
                break
    if declared:
        return str(declared).strip()
    title = activity.find("title")
    if title is not None and title.find("narrative") is None and (title.text or "").strip():
        return "1.0x"
    return "2.03"


_LEGACY_SPELLINGS = re.compile(r"^1(?:\.0[0-9]?)?$")
"""``1``, ``1.0``, ``1.00``: 1.0x files as some publishers label them."""


def check_supported(version: str, location: Location) -> bool:
    """True for 1.0x (legacy mapping), False for 2.0x; raises for anything else."""
    if version in SUPPORTED_2X:
        return False
    if version in LEGACY_1X or version == "1.0x" or _LEGACY_SPELLINGS.match(version):
        return True
    raise UnsupportedVersion(
        f"IATI version {version!r} is not supported (read: 2.01-2.03, mapped: 1.01-1.05)",
        location,
    )


def role_code(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return ROLE_CODES.get(value.lower(), value)


def date_type_code(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return DATE_TYPE_CODES.get(value.lower(), value)


def vocabulary_code(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return VOCABULARY_CODES.get(value.upper(), value)
