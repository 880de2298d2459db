"""Derive the compact codelists the partner-feed validator needs from the IATI XML codelists.

Source: ``../shared/data/iati/codelists/`` (IATI/IATI-Codelists @ 75e827ba, branch
version-2.03, and IATI/IATI-Codelists-NonEmbedded @ 7aeece77; see its ``SOURCE.txt``).
Output: one JSON file per codelist in ``services/partner_feed/codelists/``, shaped
``{"name", "source", "active": [codes], "withdrawn": [codes]}`` so the product never
reads the shared data folder at run time.

Run from the repository root::

    .venv/bin/python tools/build_codelists.py [--source DIR] [--target DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson
from defusedxml import ElementTree

CODELISTS = (
    "ActivityDateType",
    "ActivityStatus",
    "Country",
    "DescriptionType",
    "Language",
    "OrganisationRole",
    "OrganisationType",
    "PolicyMarker",
    "PolicyMarkerVocabulary",
    "PolicySignificance",
    "Region",
    "RegionVocabulary",
    "RelatedActivityType",
    "Sector",
    "SectorCategory",
    "SectorVocabulary",
    "TagVocabulary",
    "UNSDG-Goals",
    "UNSDG-Targets",
)

_REPO = Path(__file__).resolve().parent.parent
_DEFAULT_SOURCE = _REPO.parent / "shared" / "data" / "iati" / "codelists"
_DEFAULT_TARGET = _REPO / "services" / "partner_feed" / "codelists"


def convert(xml_path: Path, provenance: str) -> dict[str, object]:
    """Read one IATI codelist XML file into the compact JSON shape."""
    root = ElementTree.parse(xml_path).getroot()
    active: list[str] = []
    withdrawn: list[str] = []
    for item in root.iter("codelist-item"):
        code = (item.findtext("code") or "").strip()
        if not code:
            continue
        (withdrawn if item.get("status") == "withdrawn" else active).append(code)
    return {
        "name": root.get("name", xml_path.stem),
        "source": provenance,
        "active": active,
        "withdrawn": withdrawn,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=_DEFAULT_SOURCE)
    parser.add_argument("--target", type=Path, default=_DEFAULT_TARGET)
    args = parser.parse_args(argv)
    source: Path = args.source
    target: Path = args.target
    provenance_file = source / "SOURCE.txt"
    provenance = provenance_file.read_text().strip() if provenance_file.exists() else ""
    target.mkdir(parents=True, exist_ok=True)
    for name in CODELISTS:
        data = convert(source / f"{name}.xml", provenance)
        out = target / f"{name}.json"
        out.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
        print(f"{out.relative_to(target.parent)}: {len(data['active'])} active")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
