"""LibreOffice through its UNO API: the third :class:`~customer_equity.excel.refresh.WorkbookPort`.

A real spreadsheet engine that enforces what Excel enforces: a protected sheet refuses a
write to a locked cell (``setDataArray`` raises), defined names follow renamed sheets and
turn into ``#REF!`` when their sheet is deleted, and ``calculateAll`` recalculates every
formula. Refresh runs through :func:`customer_equity.excel.refresh.refresh_workbook` on a
:class:`UnoBook` exactly as it does on ``XlwingsBook`` in Excel.

It lives in the tests: users never need it (it is the test double that is not ours).

What LibreOffice 7.4 does with our templates (checked here, relied on below):

- names on an Excel table (``=Customers[periods]``) are imported as named ranges whose
  ``Content`` is the structured reference and whose ``ReferredCells`` is None; the table
  itself becomes a database range. :class:`UnoBook` resolves them with
  :func:`customer_equity.excel.structured.resolve_structured` over the database ranges, which
  is what the structured reference means;
- a boolean cell is imported as ``=TRUE()`` with a LOGICAL number format, and
  ``getDataArray`` returns it as 1.0: :class:`UnoBook` gives it back as ``True``, as
  xlwings does in Excel;
- it does not keep the cached results of formulas it cannot compute (the CE_ functions):
  :func:`hold_ce_cells_as_values` puts the file's cached results back as values, so that
  a recalculation computes every native formula from the numbers Excel would show;
- it predates spill ranges: ``_xlfn.ANCHORARRAY`` (Excel's ``A1#``) is an unknown function
  there. The templates' names on spill ranges fall back to the range the file records
  (:func:`customer_equity.excel.templates._book.spill_ref`), so nothing is rewritten here.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _p in ("/usr/lib/python3/dist-packages", "/usr/lib/libreoffice/program"):
    if os.path.isdir(_p) and _p not in sys.path:
        sys.path.append(_p)

from customer_equity.excel import refresh  # noqa: E402
from customer_equity.excel.structured import resolve_structured  # noqa: E402

#: A call of a CE_ function (a name such as ``ce_types`` is not followed by a parenthesis).
CE_CALL = re.compile(r"(?<![\w.])CE_[A-Z0-9_.]*\s*\(", re.IGNORECASE)
LOGICAL_FORMAT = 1024  # com.sun.star.util.NumberFormat.LOGICAL
XLSX_FILTER = "Calc MS Excel 2007 XML"


def _import_uno():
    """``uno``, without the import hook it installs.

    pyuno replaces ``builtins.__import__`` with a hook that turns ``from com.sun.star...``
    into UNO types, and that breaks ordinary imports made later in the same process (tqdm's,
    inside the ``formulas`` engine). The original is put back; UNO structs are made with
    ``uno.createUnoStruct`` instead.
    """
    import builtins

    import uno

    original = getattr(uno, "_builtin_import", None)
    if original is not None and builtins.__import__ is not original:
        builtins.__import__ = original
    return uno


def struct(type_name, **fields):
    """A UNO struct (``com.sun.star.beans.PropertyValue``, ...) with its fields set."""
    value = _import_uno().createUnoStruct(type_name)
    for key, v in fields.items():
        setattr(value, key, v)
    return value


def available() -> str | None:
    """Why LibreOffice over UNO cannot run here, or None when it can."""
    if shutil.which("soffice") is None:
        return "LibreOffice (soffice) is not installed"
    try:
        _import_uno()
    except ImportError:
        return "python3-uno is not installed"
    return None


def _prop(name, value):
    return struct("com.sun.star.beans.PropertyValue", Name=name, Value=value)


class LibreOffice:
    """A headless LibreOffice with its own profile, listening on a free local port."""

    def __init__(self, timeout: float = 90.0) -> None:
        uno = _import_uno()

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.profile = Path(tempfile.mkdtemp(prefix="ce-lo-profile-"))
        self.process = subprocess.Popen(
            ["soffice", "--headless", "--invisible", "--norestore", "--nologo",
             f"-env:UserInstallation={self.profile.as_uri()}",
             f"--accept=socket,host=127.0.0.1,port={self.port};urp;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.context = resolver.resolve(
                    f"uno:socket,host=127.0.0.1,port={self.port};urp;StarOffice.ComponentContext")
                break
            except Exception:  # noqa: BLE001 - NoConnectException until soffice listens
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.close()
                    raise RuntimeError("LibreOffice did not start listening") from None
                time.sleep(0.25)
        self.desktop = self.context.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", self.context)

    def load(self, path):
        """Open a workbook file (hidden); the caller closes it with ``doc.close(True)``."""
        uno = _import_uno()

        url = uno.systemPathToFileUrl(str(Path(path).resolve()))
        doc = self.desktop.loadComponentFromURL(url, "_blank", 0, (_prop("Hidden", True),))
        if doc is None:
            raise RuntimeError(f"LibreOffice could not open {path}")
        return doc

    @contextlib.contextmanager
    def opened(self, path, hold_ce=True):
        """A :class:`UnoBook` on ``path`` (CE_ cells held as their cached values), closed after."""
        doc = self.load(path)
        try:
            if hold_ce:
                hold_ce_cells_as_values(doc, path)
            yield UnoBook(doc)
        finally:
            doc.close(True)

    def close(self) -> None:
        """Terminate LibreOffice (the process this object started) and drop its profile."""
        with contextlib.suppress(Exception):
            self.desktop.terminate()
        with contextlib.suppress(Exception):
            self.process.wait(timeout=15)
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(Exception):
                self.process.wait(timeout=15)
        if self.process.poll() is None:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def save_xlsx(doc, path) -> Path:
    """Store an open document as ``.xlsx``."""
    uno = _import_uno()

    path = Path(path).resolve()
    doc.storeToURL(uno.systemPathToFileUrl(str(path)), (_prop("FilterName", XLSX_FILTER),))
    return path


# --- CE_ cells held as values ------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _read_file(path, mtime):
    import openpyxl

    return openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)


def _workbooks(path):
    """The file as openpyxl reads it (formulas, cached values), read once per file version."""
    path = str(Path(path).resolve())
    return _read_file(path, os.stat(path).st_mtime_ns)


def ce_cells(path):
    """``{(sheet, "A1:B2"): 2-D cached values}`` of every formula cell calling a CE_ function.

    A dynamic-array formula is one entry covering its whole spill range.
    """
    from openpyxl.worksheet.formula import ArrayFormula

    wb, values = _workbooks(path)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                text = v.text if isinstance(v, ArrayFormula) else v if c.data_type == "f" else None
                if not isinstance(text, str) or not CE_CALL.search(text):
                    continue
                ref = v.ref if isinstance(v, ArrayFormula) else c.coordinate
                cells = values[ws.title][ref]
                if not isinstance(cells, tuple):
                    cells = ((cells,),)
                out[(ws.title, ref)] = [[x.value for x in r] for r in cells]
    return out


def hold_ce_cells_as_values(doc, path) -> int:
    """Replace every CE_ formula by the values cached in ``path`` (LibreOffice lacks the add-in).

    Protection is lifted only for this and put back; returns the number of ranges held.
    """
    held = ce_cells(path)
    by_sheet = {}
    for (sheet, ref), rows in held.items():
        by_sheet.setdefault(sheet, []).append((ref, rows))
    for sheet_name, items in by_sheet.items():
        sheet = doc.Sheets.getByName(sheet_name)
        protected = sheet.isProtected()
        if protected:
            sheet.unprotect("")
        try:
            for ref, rows in items:
                rng = sheet.getCellRangeByName(ref)
                rng.clearContents(_ALL_CONTENT)
                rng.setDataArray(tuple(tuple(_to_uno(v) for v in r) for r in rows))
        finally:
            if protected:
                sheet.protect("")
    return len(held)


_ALL_CONTENT = 1 | 2 | 4 | 16 | 32  # VALUE | DATETIME | STRING | FORMULA | ... (not formats)


def _to_uno(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    return str(v)


# --- the port ---------------------------------------------------------------------------------


class UnoBook:
    """:class:`~customer_equity.excel.refresh.WorkbookPort` over a LibreOffice document."""

    def __init__(self, doc) -> None:
        self.doc = doc

    # names -------------------------------------------------------------------------------
    def names(self):
        """Workbook-level names (LibreOffice keeps sheet-level ones on each sheet)."""
        return list(self.doc.NamedRanges.ElementNames)

    def _named(self, name):
        names = self.doc.NamedRanges
        for n in names.ElementNames:
            if n.lower() == name.lower():
                return names.getByName(n)
        raise KeyError(name)

    def _tables(self):
        tables = {}
        dbs = self.doc.DatabaseRanges
        for tname in dbs.ElementNames:
            db = dbs.getByName(tname)
            a = db.DataArea
            sheet = self.doc.Sheets.getByIndex(a.Sheet)
            header = 1 if db.ContainsHeader else 0
            columns = []
            if header:
                row = sheet.getCellRangeByPosition(a.StartColumn, a.StartRow, a.EndColumn, a.StartRow)
                columns = [str(v) for v in row.getDataArray()[0]]
            tables[tname.upper()] = {
                "sheet": sheet.Name, "c1": a.StartColumn + 1, "r1": a.StartRow + 1,
                "c2": a.EndColumn + 1, "r2": a.EndRow + 1, "columns": columns,
                "header": header, "totals": 1 if db.TotalsRow else 0}
        return tables

    def _range(self, name):
        named = self._named(name)
        cells = named.ReferredCells
        if cells is not None:
            return cells
        content = named.Content
        if "[" in content:
            a1 = resolve_structured(content, self._tables())
            m = re.fullmatch(r"'((?:[^']|'')*)'!(\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?\d+)?)", a1)
            if m:
                sheet = self.doc.Sheets.getByName(m.group(1).replace("''", "'"))
                return sheet.getCellRangeByName(m.group(2).replace("$", ""))
        raise refresh.RefreshError(
            f"The name {name} does not refer to cells (it is {content!r}); point it back to its "
            "range in Formulas > Name Manager, or start again from a fresh copy of the template.")

    def constant(self, name):
        """Text of a constant name, else its first cell's value."""
        text = refresh.parse_constant(self._named(name).Content)
        if text is not None:
            return text
        return self.read(name)[0][0]

    def shape(self, name):
        """(rows, columns) of the named range."""
        a = self._range(name).RangeAddress
        return a.EndRow - a.StartRow + 1, a.EndColumn - a.StartColumn + 1

    def area(self, name):
        """``(sheet, first row, first column, last row, last column)``, 1-based."""
        rng = self._range(name)
        a = rng.RangeAddress
        return (rng.Spreadsheet.Name, a.StartRow + 1, a.StartColumn + 1, a.EndRow + 1, a.EndColumn + 1)

    def fills(self, name):
        """The fill colour of each cell as ``"RRGGBB"`` (None where there is no fill)."""
        rng = self._range(name)
        rows, cols = self.shape(name)
        out = []
        for i in range(rows):
            row = []
            for j in range(cols):
                color = rng.getCellByPosition(j, i).CellBackColor
                row.append(None if color < 0 else f"{color & 0xFFFFFF:06X}")
            out.append(row)
        return out

    # values -------------------------------------------------------------------------------
    def _logical_cells(self, rng):
        """Positions (row, column) inside ``rng`` whose number format is LOGICAL."""
        formats = self.doc.NumberFormats
        origin = rng.RangeAddress
        found = set()
        ranges = rng.getCellFormatRanges()
        for k in range(ranges.Count):
            part = ranges.getByIndex(k)
            try:
                kind = formats.getByKey(part.NumberFormat).Type
            except Exception:  # noqa: BLE001 - an unknown key: not a boolean format
                continue
            if kind & LOGICAL_FORMAT:
                a = part.RangeAddress
                for r in range(a.StartRow, a.EndRow + 1):
                    for c in range(a.StartColumn, a.EndColumn + 1):
                        found.add((r - origin.StartRow, c - origin.StartColumn))
        return found

    def read(self, name):
        """Values of the named range as xlwings gives them: None for blank, bools as bools."""
        rng = self._range(name)
        data = [list(r) for r in rng.getDataArray()]
        logical = self._logical_cells(rng)
        for i, row in enumerate(data):
            for j, v in enumerate(row):
                if v == "":
                    row[j] = None
                elif (i, j) in logical and isinstance(v, float) and v in (0.0, 1.0):
                    row[j] = bool(v)
        return data

    def table_area(self, name):
        """The area of the table (a database range here) a name on a table column refers to."""
        content = self._named(name).Content
        m = re.match(r"\s*=?\s*([^\[\s]+)\[", content)
        if m is None:
            return None
        table = self._tables().get(m.group(1).upper())
        if table is None:
            return None
        return table["sheet"], table["r1"], table["c1"], table["r2"], table["c2"]

    def rows_below(self, sheet_name, row, first_column, last_column):
        """Values under ``row`` in the columns, down to the sheet's last used row."""
        sheet = self.sheet(sheet_name)
        cursor = sheet.createCursor()
        cursor.gotoEndOfUsedArea(False)
        last = min(cursor.RangeAddress.EndRow + 1, row + refresh.ROWS_BELOW)
        if last <= row:
            return []
        rng = sheet.getCellRangeByPosition(first_column - 1, row, last_column - 1, last - 1)
        return [[None if v == "" else v for v in r] for r in rng.getDataArray()]

    def write(self, name, values):
        """``setDataArray``: LibreOffice refuses it on a locked cell of a protected sheet."""
        self._range(name).setDataArray(tuple(tuple(_to_uno(v) for v in r) for r in values))

    def recalculate(self):
        """A full recalculation (``calculateAll``)."""
        self.doc.calculateAll()

    # for the tests --------------------------------------------------------------------------
    def sheet(self, name):
        """A sheet of the document by name."""
        return self.doc.Sheets.getByName(name)

    def used_values(self, sheet_name):
        """Every value of a sheet's used area (a snapshot for before/after comparisons)."""
        sheet = self.sheet(sheet_name)
        cursor = sheet.createCursor()
        cursor.gotoEndOfUsedArea(False)
        a = cursor.RangeAddress
        return sheet.getCellRangeByPosition(0, 0, a.EndColumn, a.EndRow).getDataArray()

    def formulas(self, name):
        """The formulas (or constants) of a named range, as LibreOffice stores them."""
        return self._range(name).getFormulaArray()

    def errors(self, sheet_name):
        """``[(cell, error text)]`` for every formula cell of a sheet whose result is an error."""
        sheet = self.sheet(sheet_name)
        found = []
        ranges = sheet.queryFormulaCells(4)  # FormulaResult.ERROR
        for address in ranges.RangeAddresses:
            for r in range(address.StartRow, address.EndRow + 1):
                for c in range(address.StartColumn, address.EndColumn + 1):
                    cell = sheet.getCellByPosition(c, r)
                    if cell.getError():
                        found.append((cell.AbsoluteName, cell.getString() or f"Err:{cell.getError()}"))
        return found
