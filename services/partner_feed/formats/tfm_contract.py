"""Rendering the published ``tfm-record`` v1 contract from the model.

``python -m services.partner_feed.formats.tfm_contract contracts/tfm`` rewrites both files;
a unit test fails when the checked-in files and the model disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson

from services.partner_feed.formats.tfm_csv import COLUMNS, LIST_SEPARATOR, PART_SEPARATOR
from services.partner_feed.formats.tfm_model import TfmRecord

SCHEMA_FILE = "tfm-record.v1.schema.json"
COLUMNS_FILE = "tfm-record.v1.csv-columns.md"
_ESCAPED_PIPE = "\\|"


def json_schema() -> bytes:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
    schema.update(TfmRecord.model_json_schema())
    return orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def csv_columns() -> str:
    lines = [
        "# tfm-record v1 — CSV columns",
        "",
        "UTF-8, comma-separated, RFC 4180 quoting, one header row with exactly these names in",
        f"this order. List cells separate entries with `{LIST_SEPARATOR}`; compound entries",
        f"separate their parts with `{PART_SEPARATOR}`. Cells that start with `=`, `+`, `-`, `@`,",
        "tab or CR are written with a leading `'` (formula-injection guard) and flagged on input.",
        "The JSON form is `tfm-record.v1.schema.json`.",
        "",
        "| # | column | content |",
        "| --- | --- | --- |",
    ]
    lines += [
        f"| {i} | `{name}` | {text.replace('|', _ESCAPED_PIPE)} |"
        for i, (name, text) in enumerate(COLUMNS, 1)
    ]
    return "\n".join(lines) + "\n"


def write(folder: Path) -> None:
    (folder / SCHEMA_FILE).write_bytes(json_schema())
    (folder / COLUMNS_FILE).write_text(csv_columns())


if __name__ == "__main__":
    write(Path(sys.argv[1]))
