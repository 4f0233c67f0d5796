"""Excel table (structured) references as A1 ranges, for workbooks read outside Excel.

openpyxl and the ``formulas`` engine do not know ``Customers[periods]``; Excel does.
"""

from __future__ import annotations

import re

_STRUCT = re.compile(r"(?<![\w.'!])([A-Za-z_][\w.]*)\[((?:[^\[\]]|\[[^\[\]]*\])*)\]")


def tables_of(book):
    """The Excel tables of an openpyxl workbook by upper-case name: sheet, bounds, columns."""
    from openpyxl.utils import range_boundaries

    out = {}
    for ws in book.worksheets:
        for t in ws.tables.values():
            c1, r1, c2, r2 = range_boundaries(t.ref)
            out[t.name.upper()] = {
                "sheet": ws.title, "c1": c1, "r1": r1, "c2": c2, "r2": r2,
                "columns": [tc.name for tc in t.tableColumns],
                "header": t.headerRowCount if t.headerRowCount is not None else 1,
                "totals": t.totalsRowCount or 0,
            }
    return out


def _quote(sheet):
    return "'" + sheet.replace("'", "''") + "'"


def _struct_to_a1(table, spec):
    from openpyxl.utils import get_column_letter as letter

    parts = re.findall(r"\[([^\[\]]*)\]", spec) if spec.startswith("[") else [spec]
    specials = [p.lower() for p in parts if p.startswith("#")]  # LibreOffice writes #all
    cols = [p for p in parts if not p.startswith("#")]
    if "#this row" in specials or spec.startswith("@"):
        raise ValueError(f"structured reference not supported by the resolver: [{spec}]")
    r_head = table["r1"]
    r_first = table["r1"] + table["header"]
    r_last = table["r2"] - table["totals"]
    r1, r2 = r_first, r_last
    if "#all" in specials:
        r1, r2 = table["r1"], table["r2"]
    elif "#headers" in specials:
        r1 = r2 = r_head
    if not cols:
        c1, c2 = table["c1"], table["c2"]
    else:
        lower = [c.lower() for c in table["columns"]]  # column names are case-insensitive
        idx = [lower.index(c.replace("'", "").lower()) for c in cols]
        c1, c2 = table["c1"] + min(idx), table["c1"] + max(idx)
    return f"{_quote(table['sheet'])}!${letter(c1)}${r1}:${letter(c2)}${r2}"


def resolve_structured(text, tables):
    """``text`` with its structured table references replaced by A1 ranges."""
    def sub(m):
        t = tables.get(m.group(1).upper())
        if t is None:
            return m.group(0)
        return _struct_to_a1(t, m.group(2))

    out = text
    for _ in range(3):  # nested forms resolve outside-in at most this deep
        new = _STRUCT.sub(sub, out)
        if new == out:
            break
        out = new
    return out
