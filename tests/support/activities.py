"""Realistic WIPO TA activity documents for tests (written from the CDIP TA categories)."""

from __future__ import annotations

from typing import Any


def activity_doc(**overrides: Any) -> dict[str, Any]:
    """A valid `ActivityFields` document: a national IP strategy for Kenya."""
    doc: dict[str, Any] = {
        "title": {
            "en": "National IP strategy for Kenya",
            "fr": "Stratégie nationale de PI pour le Kenya",
        },
        "description": {
            "en": "Needs assessment and drafting of a national intellectual property strategy "
            "aligned with Kenya's development plan, with a technology and innovation support centre network."
        },
        "category": "national_ip_strategy",
        "stage": "planning_and_design",
        "status": "implementation",
        "beneficiaries": [{"country": "KE"}],
        "regional_communities": ["EAC"],
        "lead_unit": {"kind": "regional_bureau", "name": "Regional Bureau for Africa"},
        "partners": [
            {
                "name": "Kenya Industrial Property Institute",
                "kind": "ip_office",
                "role": "implementing",
            }
        ],
        "modality": "bilateral",
        "dates": {"planned_start": "2026-01-15", "planned_end": "2027-06-30"},
        "da_recommendations": [1, 10],
        "gender_marker": 1,
        "sdg": {"goals": [9], "targets": ["9.5"]},
    }
    doc.update(overrides)
    return doc
