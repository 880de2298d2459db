"""Reporting-organisation tag vocabularies (IATI tag ``vocabulary="99"``) used by WIPO.

IATI has no vocabulary for regional economic communities or for WIPO's Development Agenda
recommendations, so both travel as vocabulary-99 tags told apart by ``vocabulary-uri``.
The writer emits these URIs and every reader maps them back to typed fields.
"""

from __future__ import annotations

import re

REPORTING_ORG_VOCABULARY = "99"
REGIONAL_COMMUNITY_URI = "https://www.wipo.int/cooperation/en/regional-communities"
DA_RECOMMENDATION_URI = "https://www.wipo.int/ip-development/en/agenda/recommendations"
DA_RECOMMENDATIONS = range(1, 46)
"""The 45 Development Agenda recommendations adopted by the WIPO General Assembly (2007)."""

TAG_SDG_GOAL = "2"
TAG_SDG_TARGET = "3"
SECTOR_SDG_GOAL = "7"
SECTOR_SDG_TARGET = "8"
SECTOR_SDG_INDICATOR = "9"
POLICY_MARKER_OECD_DAC = "1"
GENDER_EQUALITY_MARKER = "1"
SECTOR_REPORTING_ORG = "99"
TA_CATEGORY_URI = "https://www.wipo.int/cooperation/en/technical-assistance/categories"
"""Sector vocabulary 99: WIPO's own technical-assistance categories (CDIP/22)."""
REGION_UNSPECIFIED = "998"
"""IATI Region 998, "Developing countries, unspecified": where an activity without a
beneficiary country is published (rule 3.7.1 needs a country or a region)."""

ORG_IDENTIFIER = re.compile(r"^[A-Z]{2}-[A-Z0-9_]{2,}-[^\s/&|?]+$")
"""An organisation identifier (org-id.guide): a registration agency prefix (a country or X*
code, a hyphen, the agency's code), a hyphen, the organisation's id in that register:
``XM-DAC-41114``, ``GB-COH-01234567``, ``XI-IATI-EC_INTPA``. Acronyms (``WHO``), bare codes
(``41114``) and agency-less refs (``KE-KIPI``) are names, not identifiers."""


def is_org_identifier(value: str | None) -> bool:
    return value is not None and ORG_IDENTIFIER.match(value) is not None
