"""Reporting-organisation tag vocabularies (IATI tag ``vocabulary="99"``) used by WIPO.

IATI has no vocabulary for regional economic communities or for WIPO's Development Agenda
recommendations, so both travel as vocabulary-99 tags told apart by ``vocabulary-uri``.
The writer emits these URIs and every reader maps them back to typed fields.
"""

from __future__ import annotations

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
