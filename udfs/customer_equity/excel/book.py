"""A workbook as Refresh sees it: the template contract's names, and the ports (Excel through
xlwings, a file through openpyxl; LibreOffice over UNO in the tests).

The contract. A template workbook has a workbook-level defined name ``CE_TEMPLATE`` whose
value is a text constant such as ``"measurement/1"`` (template id / version). Its inputs are
workbook-level names starting with ``ce_in_``; the parts Python writes are names starting with
``ce_out_``, whose cells are unlocked on their protected sheet. :mod:`.refresh` drives the
ports; the templates raise :class:`RefreshError` to point at a named cell.
"""

from __future__ import annotations

import re
import sys
from typing import Any, Protocol

TEMPLATE_NAME = "CE_TEMPLATE"
IN_PREFIX = "ce_in_"
OUT_PREFIX = "ce_out_"
STAMP_OUTPUT = "ce_out_refreshed"
INPUT_FILL = "FFF2CC"
"""Fill colour (RRGGBB) of the templates' input cells: Refresh never writes over one."""

Values = list[list[Any]]


class RefreshError(RuntimeError):
    """A template workbook cannot be refreshed; nothing was written.

    ``name`` is the defined name at fault (when there is one); :func:`refresh_workbook`
    adds where it points (``Assumptions!C5``) to the message.
    """

    def __init__(self, message: str, name: str | None = None, row: int | None = None,
                 column: int | None = None, same_as_row: int | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.row = row  # 1-based row inside the named range (a customer of a table column)
        self.column = column  # 1-based column inside the named range (a column of a table)
        self.same_as_row = same_as_row  # another row of the range the message is about


# --------------------------------------------------------------------------------------
# The workbook port and its two adapters
# --------------------------------------------------------------------------------------


class WorkbookPort(Protocol):
    """What Refresh needs from a workbook: its defined names, their values, recalculation."""

    def names(self) -> list[str]:
        """Workbook-level defined names (sheet-level names excluded)."""

    def constant(self, name: str) -> Any:
        """The value of a name: its text if it is a constant, else its single cell's value."""

    def shape(self, name: str) -> tuple[int, int]:
        """(rows, columns) of the range a name refers to."""

    def read(self, name: str) -> Values:
        """The values of the range a name refers to, as a 2-D list."""

    def area(self, name: str) -> tuple[str, int, int, int, int]:
        """(sheet, first row, first column, last row, last column) of a name, 1-based."""

    def fills(self, name: str) -> Values:
        """The fill colour of each cell of a named range as ``"RRGGBB"`` (None: no fill)."""

    def write(self, name: str, values: Values) -> None:
        """Write a 2-D list of exactly :meth:`shape` into the range a name refers to."""

    def recalculate(self) -> None:
        """Recalculate the whole workbook (a full recalculation where possible)."""

    def table_area(self, name: str) -> tuple[str, int, int, int, int] | None:
        """The area of the Excel table a name refers to (``=Customers[periods]``), header row
        included, or None for a name on plain cells."""

    def rows_below(self, sheet: str, row: int, first_column: int, last_column: int) -> Values:
        """The values under ``row`` in the given columns, down to the sheet's last used row."""

    def lost_dynamic_arrays(self) -> list[str] | None:
        """The cells that spill ranges (``A1#``) are defined on but that are no dynamic arrays
        any more (a program without dynamic arrays saved the workbook), or None when the
        port cannot tell."""


#: How many rows under a table Refresh looks at for rows pasted outside it.
ROWS_BELOW = 100_000

_SPILL_NAME = re.compile(r"_xlfn\.ANCHORARRAY\(\s*'?((?:[^'!]|'')*)'?!\$?([A-Z]+)\$?(\d+)\s*\)"
                         r"|=\s*'?((?:[^'!]|'')*)'?!\$?([A-Z]+)\$?(\d+)#", re.IGNORECASE)


def spill_anchors(definitions) -> list[tuple[str, str]]:
    """``(sheet, "E12")`` of every spill reference among names' definitions.

    >>> spill_anchors(["=_xlfn.ANCHORARRAY('Step 1 Classify'!$E$12)", "=Sheet1!$A$1", "=Out!$B$3#"])
    [('Step 1 Classify', 'E12'), ('Out', 'B3')]
    """
    found = []
    for text in definitions:
        for m in _SPILL_NAME.finditer(text or ""):
            sheet, col, row = m.group(1, 2, 3) if m.group(1) is not None else m.group(4, 5, 6)
            anchor = (sheet.replace("''", "'"), f"{col.upper()}{row}")
            if anchor not in found:  # several names may spill from one anchor
                found.append(anchor)
    return found


def parse_constant(refers_to: str | None) -> str | None:
    """Return the text of a name defined as a string constant (``="a"``), else None.

    >>> parse_constant('="measurement/1"')
    'measurement/1'
    >>> parse_constant('"a ""b"" c"')
    'a "b" c'
    >>> parse_constant("=Sheet1!$A$1") is None
    True
    """
    if refers_to is None:
        return None
    text = refers_to.strip()
    if text.startswith("="):
        text = text[1:].strip()
    m = re.fullmatch(r'"((?:[^"]|"")*)"', text)
    return m.group(1).replace('""', '"') if m else None


class OpenpyxlBook:
    """:class:`WorkbookPort` over an openpyxl workbook (files without Excel).

    ``values`` is an optional ``data_only=True`` twin of the same file: reads then return
    the cached results of formulas instead of their text. openpyxl cannot calculate:
    :meth:`recalculate` does nothing, and :meth:`write` records what was written in
    :attr:`written` (``{sheet: {(row, column): value}}``) for :func:`refresh_file`,
    which writes it into the file's own package.
    """

    def __init__(self, workbook: Any, values: Any | None = None, path: Any | None = None) -> None:
        self.wb = workbook
        self.values = values
        self.path = path
        self.written: dict[str, dict[tuple[int, int], Any]] = {}

    @classmethod
    def open(cls, path: Any) -> "OpenpyxlBook":
        """Open a file for reading its names, tables, fills and cached values (read once:
        :func:`refresh_file` writes into the package, never through openpyxl)."""
        import openpyxl

        return cls(openpyxl.load_workbook(path, data_only=True), path=path)

    def table_area(self, name: str) -> tuple[str, int, int, int, int] | None:
        """The area of the table a name on a table column refers to, header included."""
        from openpyxl.utils.cell import range_boundaries

        text = self._defined(name).attr_text or ""
        m = re.match(r"\s*=?\s*([^\[\s]+)\[", text)
        if m is None:
            return None
        for ws in self.wb.worksheets:
            for table_name, table in ws.tables.items():
                if table_name.lower() == m.group(1).lower():
                    ref = table if isinstance(table, str) else table.ref
                    c1, r1, c2, r2 = range_boundaries(ref)
                    return ws.title, r1, c1, r2, c2
        return None

    def rows_below(self, sheet: str, row: int, first_column: int, last_column: int) -> Values:
        """Values under ``row`` down to the sheet's last row (at most :data:`ROWS_BELOW`)."""
        ws = (self.values or self.wb)[sheet]
        last = min(ws.max_row, row + ROWS_BELOW)
        return [[ws.cell(r, c).value for c in range(first_column, last_column + 1)]
                for r in range(row + 1, last + 1)]

    def lost_dynamic_arrays(self) -> list[str] | None:
        """Anchors of spill names that are no dynamic-array formulas in the file's package
        (Excel marks one with ``cm`` on its cell and ``xl/metadata.xml``; a program without
        dynamic arrays drops both, and the formula is then a fixed legacy array)."""
        import zipfile

        if self.path is None:
            return None
        anchors = spill_anchors(dn.attr_text for dn in self.wb.defined_names.values())
        if not anchors:
            return []
        with zipfile.ZipFile(self.path) as z:
            has_metadata = "xl/metadata.xml" in z.namelist()
            lost = []
            for sheet, cell in anchors:
                if sheet not in self.wb.sheetnames:
                    continue
                xml = z.read(_sheet_part(z, sheet)).decode("utf-8", "replace")
                m = re.search(r'<c r="' + cell + r'"([^>]*)>', xml)
                if not has_metadata or m is None or " cm=" not in m.group(1):
                    lost.append(f"{sheet}!{cell}")
        return lost

    def _defined(self, name: str) -> Any:
        for key, dn in self.wb.defined_names.items():
            if key.lower() == name.lower():
                return dn
        raise KeyError(name)

    def _area(self, name: str) -> tuple[str, int, int, int, int]:
        from openpyxl.utils.cell import range_boundaries

        text = self._defined(name).attr_text or ""
        if "[" in text:  # a name on an Excel table: =Customers[periods]
            from .structured import resolve_structured, tables_of

            text = resolve_structured(text, tables_of(self.wb))
            m = re.fullmatch(r"'?(.*?)'?!\$?([A-Z]+)\$?(\d+):\$?([A-Z]+)\$?(\d+)", text)
            if m is None:
                raise RefreshError(f"The name {name} must refer to one range.", name=name)
            c1, r1, c2, r2 = range_boundaries("".join(m.group(2, 3)) + ":" + "".join(m.group(4, 5)))
            return m.group(1).replace("''", "'"), r1, c1, r2, c2
        try:
            areas = list(self._defined(name).destinations)
        except Exception:  # noqa: BLE001 - openpyxl cannot parse it (#REF!, a formula)
            areas = []
        if len(areas) != 1 or areas[0][0] not in self.wb.sheetnames:
            raise RefreshError(f"The name {name} does not refer to one range of cells "
                               f"(it is {text!r}).", name=name)
        sheet, coord = areas[0]
        min_col, min_row, max_col, max_row = range_boundaries(coord.replace("$", ""))
        return sheet, min_row, min_col, max_row, max_col

    def names(self) -> list[str]:
        """Workbook-level defined names."""
        return list(self.wb.defined_names.keys())

    def constant(self, name: str) -> Any:
        """Text of a constant name, else the value of its single cell."""
        text = parse_constant(self._defined(name).attr_text)
        if text is not None:
            return text
        values = self.read(name)
        return values[0][0] if len(values) == 1 and len(values[0]) == 1 else None

    def shape(self, name: str) -> tuple[int, int]:
        """(rows, columns) of the named range."""
        _, r0, c0, r1, c1 = self._area(name)
        return r1 - r0 + 1, c1 - c0 + 1

    def area(self, name: str) -> tuple[str, int, int, int, int]:
        """``(sheet, first row, first column, last row, last column)``, 1-based."""
        return self._area(name)

    def fills(self, name: str) -> Values:
        """Each cell's solid fill as ``"RRGGBB"`` (None without one)."""
        sheet, r0, c0, r1, c1 = self._area(name)
        ws = self.wb[sheet]

        def fill(c):
            f = c.fill
            rgb = f.fgColor.rgb if f is not None and f.fill_type == "solid" else None
            return rgb[-6:].upper() if isinstance(rgb, str) else None

        return [[fill(ws.cell(r, c)) for c in range(c0, c1 + 1)] for r in range(r0, r1 + 1)]

    def read(self, name: str) -> Values:
        """Values of the named range (cached formula results if a values twin is given)."""
        sheet, r0, c0, r1, c1 = self._area(name)
        ws = (self.values or self.wb)[sheet]
        return [[ws.cell(r, c).value for c in range(c0, c1 + 1)] for r in range(r0, r1 + 1)]

    def write(self, name: str, values: Values) -> None:
        """Write values into the named range (both workbooks) and record them in :attr:`written`."""
        sheet, r0, c0, _, _ = self._area(name)
        cells = self.written.setdefault(sheet, {})
        for book in (self.wb, self.values):
            if book is None:
                continue
            ws = book[sheet]
            for i, row in enumerate(values):
                for j, value in enumerate(row):
                    ws.cell(r0 + i, c0 + j).value = value
                    cells[(r0 + i, c0 + j)] = value

    def recalculate(self) -> None:
        """Nothing: openpyxl cannot calculate (the file keeps its cached results)."""


class XlwingsBook:
    """:class:`WorkbookPort` over a live ``xlwings.Book`` (thin: every decision is elsewhere)."""

    def __init__(self, book: Any) -> None:
        self.book = book

    def names(self) -> list[str]:
        """Workbook-level names (xlwings spells sheet-level ones ``Sheet!name``)."""
        return [n.name for n in self.book.names if "!" not in n.name]

    def constant(self, name: str) -> Any:
        """Text of a constant name, else the value of its range's first cell."""
        n = self.book.names[name]
        text = parse_constant(n.refers_to)
        return text if text is not None else n.refers_to_range[0, 0].value

    def _range(self, name: str) -> Any:
        try:
            return self.book.names[name].refers_to_range
        except Exception as exc:  # noqa: BLE001 - COM/Office.js error: #REF!, a formula
            raise RefreshError(f"The name {name} does not refer to a range of cells.",
                               name=name) from exc

    def shape(self, name: str) -> tuple[int, int]:
        """(rows, columns) of the named range."""
        return tuple(self._range(name).shape)

    def area(self, name: str) -> tuple[str, int, int, int, int]:
        """``(sheet, first row, first column, last row, last column)``, 1-based."""
        rng = self._range(name)
        last = rng.last_cell
        return rng.sheet.name, rng.row, rng.column, last.row, last.column

    def fills(self, name: str) -> Values:
        """Each cell's fill as ``"RRGGBB"`` (None without one)."""
        rng = self._range(name)
        rows, cols = rng.shape
        out = []
        for i in range(rows):
            row = []
            for j in range(cols):
                color = rng[i, j].color
                row.append(None if color is None else "%02X%02X%02X" % tuple(color))
            out.append(row)
        return out

    def read(self, name: str) -> Values:
        """Values of the named range as a 2-D list."""
        return self._range(name).options(ndim=2).value

    def write(self, name: str, values: Values) -> None:
        """Write a 2-D list into the named range."""
        self._range(name).value = values

    def recalculate(self) -> None:
        """Full recalculation (``Application.CalculateFull`` on Windows)."""
        if sys.platform.startswith("win"):
            self.book.app.api.CalculateFull()
        else:
            self.book.app.calculate()

    def table_area(self, name: str) -> tuple[str, int, int, int, int] | None:
        """The area of the Excel table (ListObject) a name on a table column refers to."""
        text = self.book.names[name].refers_to or ""
        m = re.match(r"\s*=?\s*([^\[\s]+)\[", text)
        if m is None:
            return None
        for sheet in self.book.sheets:
            for table in sheet.tables:
                if table.name.lower() == m.group(1).lower():
                    rng = table.range
                    last = rng.last_cell
                    return sheet.name, rng.row, rng.column, last.row, last.column
        return None

    def rows_below(self, sheet: str, row: int, first_column: int, last_column: int) -> Values:
        """Values under ``row`` down to the sheet's last used row."""
        ws = self.book.sheets[sheet]
        last = min(ws.used_range.last_cell.row, row + ROWS_BELOW)
        if last <= row:
            return []
        return ws.range((row + 1, first_column), (last, last_column)).options(ndim=2).value

    def lost_dynamic_arrays(self) -> list[str] | None:
        """Anchors of spill names whose cell no longer spills (Windows: ``Range.HasSpill``)."""
        if not sys.platform.startswith("win"):
            return None
        lost = []
        for sheet, cell in spill_anchors(n.refers_to for n in self.book.names):
            try:
                if not self.book.sheets[sheet].range(cell).api.HasSpill:
                    lost.append(f"{sheet}!{cell}")
            except Exception:  # noqa: BLE001 - a deleted sheet: other checks name it
                continue
        return lost


def _sheet_part(z, sheet: str) -> str:
    """The package part (``xl/worksheets/sheet3.xml``) of a sheet, by its name."""
    workbook = z.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    import html

    for m in re.finditer(r"<sheet\b[^>]*>", workbook):
        tag = m.group(0)
        name = re.search(r'name="([^"]*)"', tag)
        rid = re.search(r'r:id="([^"]*)"', tag)
        if name and rid and html.unescape(name.group(1)) == sheet:
            target = re.search(r'<Relationship\b[^>]*Id="' + re.escape(rid.group(1))
                               + r'"[^>]*Target="([^"]*)"', rels) or re.search(
                r'<Relationship\b[^>]*Target="([^"]*)"[^>]*Id="' + re.escape(rid.group(1)) + '"', rels)
            path = target.group(1).lstrip("/")
            return path if path.startswith("xl/") else "xl/" + path
    raise KeyError(sheet)


def _a1(row: int, col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


def where(book: WorkbookPort, name: str, row: int | None = None, column: int | None = None) -> str:
    """Where a name points, for messages: ``ce_in_rate (Assumptions!C5)``.

    With ``row``/``column`` (1-based inside the range), the one cell: a customer's row of a
    table column.
    """
    try:
        sheet, r1, c1, r2, c2 = book.area(name)
    except Exception:  # noqa: BLE001 - a broken name: say its name only
        return name
    if row is not None:
        cell = _a1(r1 + row - 1, c1 + (column or 1) - 1)
        return f"{name} ({sheet}!{cell})"
    ref = _a1(r1, c1) if (r1, c1) == (r2, c2) else f"{_a1(r1, c1)}:{_a1(r2, c2)}"
    return f"{name} ({sheet}!{ref})"
