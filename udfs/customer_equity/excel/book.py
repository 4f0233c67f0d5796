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

    def __init__(self, message: str, name: str | None = None, row: int | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.row = row  # 1-based row inside the named range (a customer of a table column)


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

    def __init__(self, workbook: Any, values: Any | None = None) -> None:
        self.wb = workbook
        self.values = values
        self.written: dict[str, dict[tuple[int, int], Any]] = {}

    @classmethod
    def open(cls, path: Any) -> "OpenpyxlBook":
        """Open a file for reading its names, tables, fills and cached values (read once:
        :func:`refresh_file` writes into the package, never through openpyxl)."""
        import openpyxl

        return cls(openpyxl.load_workbook(path, data_only=True))

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
