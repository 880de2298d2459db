"""Aligned text columns for terminal output (the ops commands print tables, not grids)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

__all__ = ["columns"]


def columns(
    rows: Sequence[Sequence[str]],
    *,
    header: Sequence[str] | None = None,
    right: Collection[int] = (),
    indent: str = "",
    gap: str = "  ",
) -> list[str]:
    """Each row as one line, cells padded to their column's width.

    Columns whose index is in `right` are right-aligned (numbers); the last column is
    never padded, so a long free-text cell does not widen the table.
    """
    table = [list(header)] if header is not None else []
    table.extend(list(row) for row in rows)
    if not table:
        return []
    count = max(len(row) for row in table)
    for row in table:
        row.extend("" for _ in range(count - len(row)))
    widths = [max(len(row[i]) for row in table) for i in range(count)]
    lines = []
    for row in table:
        cells = []
        for i, cell in enumerate(row):
            if i == count - 1 and i not in right:
                cells.append(cell)
            elif i in right:
                cells.append(cell.rjust(widths[i]))
            else:
                cells.append(cell.ljust(widths[i]))
        lines.append((indent + gap.join(cells)).rstrip())
    return lines
