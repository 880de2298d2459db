"""Derive `shared/codelists/countries.json` from the IATI Country codelist (ISO 3166-1).

Usage: python tools/build_country_list.py [path/to/Country.xml]
Default source: ../shared/data/iati/codelists/Country.xml (IATI/IATI-Codelists @ 75e827ba).
User-assigned codes (XA-XZ) are left out: they are not ISO 3166-1 countries.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "iati" / "codelists" / "Country.xml"
TARGET = ROOT / "shared" / "codelists" / "countries.json"


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    tree = etree.parse(str(source), parser)
    countries = {}
    for item in tree.iter("codelist-item"):
        code = item.findtext("code", "").strip()
        name = item.findtext("name/narrative", "").strip()
        if len(code) == 2 and not code.startswith("X"):
            countries[code] = name
    document = {
        "source": "IATI/IATI-Codelists Country.xml @ 75e827ba (ISO 3166-1 alpha-2)",
        "countries": dict(sorted(countries.items())),
    }
    TARGET.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(countries)} countries to {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
