"""Reading and writing CSV cells safely: formula injection, oversized cells, bad bytes.

A cell starting with ``= + - @``, tab or CR is a formula to a spreadsheet. Inbound such cells
are kept but flagged (warning); outbound they are neutralised with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from services.partner_feed.formats.errors import Location, MalformedInput
from services.partner_feed.formats.safety import ByteSource, Limits, iter_chunks
from services.partner_feed.validation.findings import Category, Finding, Severity

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def is_formula(cell: str) -> bool:
    """True when a spreadsheet would evaluate the cell (plain signed numbers excepted)."""
    return cell.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.match(cell)


def neutralise(cell: str) -> str:
    """The cell made inert for spreadsheets (OWASP: prefix with a single quote)."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def csv_bytes(rows: Iterable[Iterable[str]]) -> Iterator[bytes]:
    """Render rows as UTF-8 CSV, one chunk per row, every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()


@dataclass
class CsvRow:
    line: int
    cells: dict[str, str]
    findings: list[Finding] = field(default_factory=list)


def _lines(source: ByteSource, limits: Limits, bad_lines: set[int]) -> Iterator[str]:
    # UTF-8 never uses the byte 0x0A inside a multi-byte sequence, so splitting on it is
    # safe; a line that does not decode is replaced and remembered, costing only its row.
    pending = b""
    number = 0
    for chunk in iter_chunks(source, limits):
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for raw in complete:
            number += 1
            yield _decode(raw + b"\n", number, bad_lines)
    if pending:
        yield _decode(pending, number + 1, bad_lines)


def _decode(raw: bytes, number: int, bad_lines: set[int]) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        bad_lines.add(number)
        text = raw.decode("utf-8", errors="replace")
    return text.removeprefix("\ufeff") if number == 1 else text


def _finding(code: str, severity: Severity, message: str, location: Location) -> Finding:
    category = Category.SECURITY if code == "csv.formula" else Category.FORMAT
    return Finding(
        code=code, severity=severity, category=category, message=message, location=location
    )


def iter_rows(
    source: ByteSource, limits: Limits, *, required: tuple[str, ...] = ()
) -> Iterator[CsvRow]:
    """Yield each data row keyed by header name, with per-row findings.

    Raises :class:`MalformedInput` for a missing or unreadable header, or one without the
    `required` columns (a file that is not this layout at all); every other fault
    (bad UTF-8, oversized cell, wrong cell count, formula) is a finding on its row only.
    """
    bad_lines: set[int] = set()
    reader = csv.reader(_lines(source, limits, bad_lines), strict=False)
    try:
        header = next(reader)
    except StopIteration:
        raise MalformedInput("the CSV has no header row", Location(line=1)) from None
    except csv.Error as exc:
        raise MalformedInput(f"unreadable CSV header: {exc}", Location(line=1)) from exc
    if 1 in bad_lines or not any(h.strip() for h in header):
        raise MalformedInput("the CSV header is not valid UTF-8 text", Location(line=1))
    header = [h.strip() for h in header]
    missing = [name for name in required if name not in header]
    if missing:
        raise MalformedInput(
            f"the CSV header lacks the column(s) {', '.join(missing)}", Location(line=1)
        )
    count = 0
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row = CsvRow(line=start, cells={})
            row.findings.append(
                _finding("csv.malformed", Severity.CRITICAL, str(exc), Location(line=start))
            )
            yield row
            continue
        if not any(c.strip() for c in cells):
            continue
        count += 1
        if count > limits.max_records:
            raise MalformedInput(f"more than {limits.max_records} rows", Location(line=start))
        yield _row(header, cells, start, reader.line_num, bad_lines, limits)


def _row(
    header: list[str], cells: list[str], start: int, end: int, bad: set[int], limits: Limits
) -> CsvRow:
    row = CsvRow(line=start, cells={})
    if any(n in bad for n in range(start, end + 1)):
        row.findings.append(
            _finding(
                "invalid-encoding",
                Severity.CRITICAL,
                "the row is not valid UTF-8 text",
                Location(line=start),
            )
        )
    if len(cells) != len(header):
        row.findings.append(
            _finding(
                "csv.cell_count",
                Severity.ERROR,
                f"{len(cells)} cells, the header has {len(header)}",
                Location(line=start),
            )
        )
    for name, value in zip(header, cells, strict=False):
        where = Location(line=start, path=name)
        if len(value) > limits.max_field_chars:
            row.findings.append(
                _finding(
                    "field-too-large",
                    Severity.ERROR,
                    f"{len(value)} characters, the limit is {limits.max_field_chars}",
                    where,
                )
            )
            continue
        if is_formula(value):
            row.findings.append(
                _finding(
                    "csv.formula",
                    Severity.WARNING,
                    "cell starts like a spreadsheet formula; neutralised on output",
                    where,
                )
            )
        row.cells[name] = value
    return row
