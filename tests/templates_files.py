"""Reading and editing template files for the tests (openpyxl and the zip package)."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

from customer_equity.excel.refresh import OpenpyxlBook



def name_area(wb, name):
    """(sheet, min_row, min_col, max_row, max_col) of a defined name that is one range."""
    dn = wb.defined_names[name]
    (sheet, coord), = list(dn.destinations)
    c1, r1, c2, r2 = range_boundaries(coord.replace("$", ""))
    return sheet, r1, c1, r2, c2


def name_cells(wb, name):
    """The (SHEET, "A1") keys of a named range, row by row."""
    sheet, r1, c1, r2, c2 = name_area(wb, name)
    return [[(sheet.upper(), f"{get_column_letter(c)}{r}") for c in range(c1, c2 + 1)]
            for r in range(r1, r2 + 1)]


def name_values(wb, name):
    """The values of a named range in ``wb`` (a data_only workbook gives cached results)."""
    sheet, r1, c1, r2, c2 = name_area(wb, name)
    ws = wb[sheet]
    return [[ws.cell(r, c).value for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]


def formula_cells(path):
    """Every cell a formula computes: ``{(SHEET, "A1"): formula text}`` (spill ranges expanded)."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if isinstance(v, ArrayFormula):
                    c1, r1, c2, r2 = range_boundaries(v.ref)
                    for r in range(r1, r2 + 1):
                        for col in range(c1, c2 + 1):
                            out[(ws.title.upper(), f"{get_column_letter(col)}{r}")] = v.text
                elif c.data_type == "f":
                    out[(ws.title.upper(), c.coordinate)] = v
    return out


def cached_values(path):
    """``{(SHEET, "A1"): cached value}`` of every non-empty cell."""
    wb = openpyxl.load_workbook(path, data_only=True)
    return {(ws.title.upper(), c.coordinate): c.value
            for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None}


def header_columns(ws, row):
    """``{header text: column number}`` of one row."""
    return {ws.cell(row, c).value: c for c in range(1, ws.max_column + 1)
            if isinstance(ws.cell(row, c).value, str)}


def _value_key(v):
    if isinstance(v, float):
        return round(v, 6) if math.isfinite(v) else str(v)
    return v


def snapshot(path):
    """What the issue calls the content of a workbook: sheets, formulas, cached values and the
    parts around them (names, tables, validation, protection, panes, print areas, charts)."""
    path = Path(path)
    wb = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)
    snap = {"sheets": wb.sheetnames,
            "names": {k: v.attr_text for k, v in wb.defined_names.items()}}
    for ws in wb.worksheets:
        vs = values[ws.title]
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                f = c.value.text if isinstance(c.value, ArrayFormula) else (
                    c.value if c.data_type == "f" else None)
                v = vs[c.coordinate].value
                if f is None and v is None:
                    continue
                cells[c.coordinate] = (f, _value_key(v), c.number_format, c.protection.locked,
                                       c.fill.fgColor.rgb if c.fill and c.fill.fill_type else None)
        snap[ws.title] = {
            "cells": cells,
            "tables": {t.name: (t.ref, [tc.name for tc in t.tableColumns]) for t in ws.tables.values()},
            "validation": sorted((str(d.sqref), d.type, d.formula1) for d in ws.data_validations.dataValidation),
            "protected": bool(ws.protection.sheet),
            "freeze": ws.freeze_panes,
            "print_area": ws.print_area,
            "merged": sorted(str(m) for m in ws.merged_cells.ranges),
            "conditional": sorted(str(r.sqref) for r in ws.conditional_formatting),
        }
    with zipfile.ZipFile(path) as z:
        snap["parts"] = sorted(z.namelist())
        snap["charts"] = {n: z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/charts/")}
    return snap


def part_text(path, part):
    """The text of one part of the package (``xl/workbook.xml``)."""
    with zipfile.ZipFile(path) as z:
        return z.read(part).decode("utf-8")


def replace_in_part(src, dst, part, old, new):
    """Copy ``src`` to ``dst`` with ``old`` replaced by ``new`` once in one XML part."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == part:
                text = data.decode("utf-8")
                if old not in text:
                    raise ValueError(f"{old!r} not in {part}")
                data = text.replace(old, new, 1).encode("utf-8")
            zout.writestr(info, data)
    return dst


def paste_customers(template, dst, customers, table="Customers"):
    """Paste a customer table into the template's Excel table, as Excel does when rows are
    pasted into it: values go under the header, the table grows (or shrinks) to the rows."""
    wb = openpyxl.load_workbook(template)
    ws = next(w for w in wb.worksheets if table in w.tables)
    t = ws.tables[table]
    c1, r1, c2, r2 = range_boundaries(t.ref)
    header = [tc.name for tc in t.tableColumns]
    n = len(customers)
    for r in range(r1 + 1, max(r2, r1 + n) + 1):
        for c in range(c1, c2 + 1):
            ws.cell(r, c).value = None
    for k, row in enumerate(customers.itertuples(index=False)):
        data = dict(zip(customers.columns, row))
        for j, h in enumerate(header):
            v = data.get(h)
            if hasattr(v, "item"):
                v = v.item()
            if isinstance(v, float) and math.isnan(v):
                v = None
            ws.cell(r1 + 1 + k, c1 + j).value = v
    t.ref = f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r1 + n}"
    # Excel re-spills each per-customer dynamic array to the new number of rows when it
    # recalculates (and saves that range); the formulas engine keeps the saved one, so the
    # saved ranges are updated here as Excel would write them
    old_n = r2 - r1
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                v = cell.value
                if isinstance(v, ArrayFormula) and ":" in v.ref:
                    a1, a2 = v.ref.split(":")
                    ac1, ar1, ac2, ar2 = range_boundaries(v.ref)
                    if ar2 - ar1 + 1 == old_n:  # one row per customer (one column, or one per period)
                        v.ref = f"{a1}:{get_column_letter(ac2)}{ar1 + n - 1}"
    if t.autoFilter is not None:
        t.autoFilter.ref = t.ref
    wb.save(dst)
    return dst


class TablesBook(OpenpyxlBook):
    """Kept for the tests' readability: ``OpenpyxlBook`` itself now reads names on tables."""


# --- CE_ evaluations per recalculation ------------------------------------------------------

import re  # noqa: E402

_CE_CALL = re.compile(r"(?<![\w.])CE_[A-Z0-9_.]*\s*\(", re.IGNORECASE)
_IDENT = re.compile(r"(?<![\w.!'\[])([A-Za-z_][\w.]*)(?![\w.]*[\[(!])")


def _strip_strings(formula):
    return re.sub(r'"(?:[^"]|"")*"', '""', formula)


def _calls_in(text):
    """The CE_ calls written in a formula (strings removed), each with its arguments' text."""
    out = []
    for m in _CE_CALL.finditer(text):
        depth, k = 0, m.end() - 1
        while k < len(text):
            depth += {"(": 1, ")": -1}.get(text[k], 0)
            if depth == 0:
                break
            k += 1
        out.append(re.sub(r"\s+", "", text[m.start():k + 1]).upper())
    return out


def ce_calls(path):
    """The CE_ function calls Excel makes in one full recalculation of a workbook.

    Every formula cell is evaluated once (a dynamic array once for its whole spill range);
    a defined name that is a formula is evaluated afresh at each reference, so its CE_
    calls are made once per reference, recursively. A name that refers to cells (a range,
    a table column, a spill range ``A1#``) makes no call. Both branches of an IF count.
    Returns ``{(sheet, cell): [call text, ...]}``: a call text is the call as written, with
    its arguments (a name's calls as the name defines them).
    """
    wb = openpyxl.load_workbook(path)
    names = {k.lower(): (dn.attr_text or "") for k, dn in wb.defined_names.items()}
    memo = {}

    def calls(formula, stack=()):
        text = _strip_strings(formula)
        found = _calls_in(text)
        for ident in _IDENT.findall(text):
            key = ident.lower()
            if key in names and key not in stack:
                if key not in memo:
                    memo[key] = calls(names[key], stack + (key,))
                found += memo[key]
        return found

    per_cell = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                text = v.text if isinstance(v, ArrayFormula) else v if c.data_type == "f" else None
                if isinstance(text, str):
                    found = calls(text)
                    if found:
                        per_cell[(ws.title, c.coordinate)] = found
    return per_cell


def ce_evaluations(path):
    """How many CE_ calls one full recalculation makes (see :func:`ce_calls`).

    Returns ``(total, {(sheet, cell): calls})``.
    """
    per_cell = {key: len(found) for key, found in ce_calls(path).items()}
    return sum(per_cell.values()), per_cell


def repeated_ce_calls(path):
    """The CE_ calls one recalculation makes more than once: ``{call text: times}``."""
    import collections

    counts = collections.Counter(call for found in ce_calls(path).values() for call in found)
    return {call: n for call, n in counts.items() if n > 1}


# --- a workbook open in LibreOffice (tests/uno_port.py) against the values Excel saved ------------


def ok_statuses(book, path):
    """What every OK/CHECK cell of ``path`` shows in the open document ``book`` (a set)."""
    names = {n.upper(): n for n in book.doc.Sheets.ElementNames}
    return {book.sheet(names[sheet]).getCellRangeByName(coord).getString()
            for (sheet, coord), f in formula_cells(path).items() if '"OK","CHECK"' in f}


def shown_values(book):
    """``value(SHEET, "A1")``: what a cell of the open LibreOffice document ``book`` holds
    (each sheet's used area read once; a cell outside it is "")."""
    data = {}
    for name in book.doc.Sheets.ElementNames:
        sheet = book.sheet(name)
        cursor = sheet.createCursor()
        cursor.gotoEndOfUsedArea(False)
        end = cursor.RangeAddress
        data[name.upper()] = sheet.getCellRangeByPosition(0, 0, end.EndColumn, end.EndRow).getDataArray()

    def value(sheet, coord):
        col, row = range_boundaries(coord)[:2]
        rows = data[sheet]
        return rows[row - 1][col - 1] if row - 1 < len(rows) and col - 1 < len(rows[row - 1]) else ""

    return value


def native_cells_differing(book, path, limit=10):
    """Native formula cells (no CE_ call) whose value in the open document ``book`` differs from
    the value cached in ``path``: numbers beyond 1e-9 relative, text, blanks and "" alike."""
    import templates_engine as E
    from uno_port import ce_cells

    held = set()
    for (sheet, ref) in ce_cells(path):
        c1, r1, c2, r2 = range_boundaries(ref)
        held |= {(sheet.upper(), f"{get_column_letter(c)}{r}") for c in range(c1, c2 + 1)
                 for r in range(r1, r2 + 1)}
    cached = cached_values(path)
    shown = shown_values(book)
    bad = []
    for (sheet, coord), formula in formula_cells(path).items():
        if (sheet, coord) in held:
            continue
        got = shown(sheet, coord)
        exp = cached.get((sheet, coord))
        exp = float(exp) if isinstance(exp, bool) else exp
        if not E.same(got, exp, rel=1e-9, abs_tol=1e-9):
            bad.append(f"{sheet}!{coord} {formula!r}: LibreOffice {got!r}, saved {exp!r}")
            if len(bad) >= limit:
                break
    return bad
