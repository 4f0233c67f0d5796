"""Refresh: what the ribbon's Refresh button does (``customer_equity.main()``).

1. Brings the add-in's functions up to date when the catalogue of ``customer_equity.excel``
   changed (:mod:`customer_equity.udf_sync`, Windows only).
2. Recalculates the active workbook fully.
3. For a workbook made from a Customer Equity template, recomputes the parts Python writes.

Template contract. A template workbook has a workbook-level defined name ``CE_TEMPLATE``
whose value is a text constant such as ``"measurement/1"`` (template id / version). Its inputs
are workbook-level names starting with ``ce_in_``; the parts Python writes are names starting
with ``ce_out_``, whose cells are unlocked on their protected sheet (so that no runtime has to
lift protection to write them). A template module registers a refresher::

    from customer_equity import refresh

    @refresh.register("measurement/1", inputs=("ce_in_x",))
    def measurement(inputs):            # {"ce_in_x": [[...], ...], ...}
        return {"ce_out_y": [[...]]}    # 2-D lists, each fitting its named range

A template made of formulas only registers a refresher that returns ``{}``: Refresh
recalculates it and says so.

Refresh checks that every input the refresher needs is named, reads every ``ce_in_*`` name,
calls the refresher, checks that every returned name is a ``ce_out_*`` name of the workbook,
that its values fit the range (a smaller block is padded with empty cells so the whole range
is rewritten) and that no output range covers an input (a ``ce_in_*`` range or a cell with
the input fill, :data:`INPUT_FILL`), and only then writes. Every refusal is a
:class:`RefreshError` that names the name or cell and says what to do; nothing is written.
If the workbook defines ``ce_out_refreshed`` and the refresher does not fill it, it receives a
content stamp (package version and a hash of the inputs), so that refreshing twice gives the
same workbook. A workbook without ``CE_TEMPLATE``, or with a template this version does not
know, is only recalculated.

Ports: :class:`XlwingsBook` (Excel), :class:`OpenpyxlBook` (files, :func:`refresh_file`),
and in the tests a LibreOffice book over UNO (``tests/uno_port.py``), a real engine that
enforces sheet protection.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
import math
import re
import sys
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping, Protocol, Sequence

TEMPLATE_NAME = "CE_TEMPLATE"
IN_PREFIX = "ce_in_"
OUT_PREFIX = "ce_out_"
STAMP_OUTPUT = "ce_out_refreshed"
INPUT_FILL = "FFF2CC"
"""Fill colour (RRGGBB) of the templates' input cells: Refresh never writes over one."""
TEMPLATES_PACKAGE = "customer_equity.templates"
"""Imported (if it exists) before looking up a refresher, so that templates can register."""

Values = list[list[Any]]
Refresher = Callable[[Mapping[str, Values]], Mapping[str, Values]]

_REGISTRY: dict[str, Refresher] = {}
_REQUIRED: dict[str, tuple[str, ...]] = {}


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
# Registry of template refreshers
# --------------------------------------------------------------------------------------


def register(template_id: str, inputs: Sequence[str] = ()) -> Callable[[Refresher], Refresher]:
    """Decorator registering ``fn(inputs) -> outputs`` as the refresher of ``template_id``.

    ``template_id`` is the ``CE_TEMPLATE`` text, e.g. ``"measurement/1"``; a bare family
    (``"measurement"``) serves every version that has no exact registration. ``inputs``
    are the ``ce_in_*`` names the refresher needs: a workbook missing one is refused with
    a message naming it.

    >>> @register("doctest/1")
    ... def _noop(inputs):
    ...     return {}
    >>> find_refresher("doctest/1") is _noop
    True
    >>> unregister("doctest/1")
    """
    if not isinstance(template_id, str) or not template_id.strip():
        raise ValueError("template_id must be a non-empty string")

    def decorate(fn: Refresher) -> Refresher:
        _REGISTRY[template_id.strip()] = fn
        _REQUIRED[template_id.strip()] = tuple(inputs)
        return fn

    return decorate


def unregister(template_id: str) -> None:
    """Remove a registration (for tests); unknown ids are ignored."""
    _REGISTRY.pop(template_id.strip(), None)
    _REQUIRED.pop(template_id.strip(), None)


def registered_templates() -> list[str]:
    """Return the template ids that have a refresher, sorted."""
    return sorted(_REGISTRY)


def load_template_modules() -> None:
    """Import :data:`TEMPLATES_PACKAGE` if it exists, so that its modules register."""
    try:
        importlib.import_module(TEMPLATES_PACKAGE)
    except ModuleNotFoundError as exc:
        if exc.name not in (TEMPLATES_PACKAGE, TEMPLATES_PACKAGE.rsplit(".", 1)[0]):
            raise


def find_refresher(template_id: str) -> Refresher | None:
    """Return the refresher for a ``CE_TEMPLATE`` value (exact id first, then its family)."""
    template_id = template_id.strip()
    if template_id in _REGISTRY:
        return _REGISTRY[template_id]
    return _REGISTRY.get(template_id.split("/", 1)[0])


def required_inputs(template_id: str) -> tuple[str, ...]:
    """The ``ce_in_*`` names the refresher of ``template_id`` needs."""
    template_id = template_id.strip()
    if template_id in _REGISTRY:
        return _REQUIRED.get(template_id, ())
    return _REQUIRED.get(template_id.split("/", 1)[0], ())


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


# --------------------------------------------------------------------------------------
# The Refresh logic
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshResult:
    """What a refresh did: the template (if any), the output names written, a message."""

    template: str | None
    recognised: bool
    written: tuple[str, ...] = ()
    message: str = ""


def _name_map(book: WorkbookPort) -> dict[str, str]:
    return {n.lower(): n for n in book.names()}


def template_id(book: WorkbookPort) -> str | None:
    """Return the workbook's ``CE_TEMPLATE`` text, or None if it has none."""
    actual = _name_map(book).get(TEMPLATE_NAME.lower())
    if actual is None:
        return None
    value = book.constant(actual)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)  # Excel's 3.0 and openpyxl's 3 are the same input
    return value


def content_stamp(template: str, inputs: Mapping[str, Values]) -> str:
    """A stamp that changes only with the package version, the template or the inputs.

    >>> content_stamp("t/1", {"ce_in_a": [[1.0]]}) == content_stamp("t/1", {"ce_in_a": [[1]]})
    True
    """
    from customer_equity import __version__

    canon = {
        k.lower(): [[_canonical(v) for v in row] for row in rows] for k, rows in inputs.items()
    }
    digest = hashlib.sha256(
        json.dumps([template, canon], sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()
    return f"customer_equity {__version__}; {template}; inputs {digest[:12]}"


_SCALARS = (str, bool, int, float, dt.datetime, dt.date, dt.time, type(None))


def _scalar(value: Any, where: str) -> Any:
    if hasattr(value, "item") and not isinstance(value, _SCALARS):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if not isinstance(value, _SCALARS):
        raise RefreshError(f"{where}: {type(value).__name__} is not a cell value.")
    return value


def fit_values(name: str, values: Any, shape: tuple[int, int]) -> Values:
    """Check a refresher's block for a range of ``shape`` and pad it with empty cells.

    >>> fit_values("ce_out_x", [[1, 2]], (2, 2))
    [[1, 2], [None, None]]
    """
    rows_n, cols_n = shape
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise RefreshError(f"{name}: expected a non-empty 2-D list of rows.")
    rows = []
    for i, row in enumerate(values):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
            raise RefreshError(f"{name}: row {i + 1} is not a list.")
        rows.append([_scalar(v, f"{name} row {i + 1}") for v in row])
    width = len(rows[0])
    if any(len(r) != width for r in rows) or width == 0:
        raise RefreshError(f"{name}: rows must all have the same, non-zero length.")
    if len(rows) > rows_n or width > cols_n:
        raise RefreshError(
            f"{name}: {len(rows)}x{width} values do not fit its {rows_n}x{cols_n} range."
        )
    return [r + [None] * (cols_n - width) for r in rows] + [
        [None] * cols_n for _ in range(rows_n - len(rows))
    ]


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


def _located(book: WorkbookPort, exc: BaseException, names: Mapping[str, str]) -> RefreshError:
    """A refresher's complaint as a RefreshError naming the cell."""
    from .errors import CustomerEquityError

    if isinstance(exc, RefreshError):
        if exc.name and "(" not in str(exc).split(":", 1)[0]:
            msg = str(exc)
            head = where(book, names.get(exc.name.lower(), exc.name), row=exc.row)
            msg = msg.replace(exc.name, head, 1) if exc.name in msg else f"{head}: {msg}"
            return RefreshError(msg, exc.name, exc.row)
        return exc
    if isinstance(exc, CustomerEquityError):
        key = f"{IN_PREFIX}{exc.argument}".lower()
        if key in names:
            row = exc.row + 1 if exc.row is not None else None  # the table's header row first
            place = where(book, names[key], row=row) if row else where(book, names[key])
            got = f" (it holds {exc.value!r})" if exc.has_value else ""
            return RefreshError(f"{place}: {exc.rule}{got}. Correct it, then press Refresh again.",
                                names[key])
        return RefreshError(f"{exc}. Correct it, then press Refresh again.")
    return RefreshError(f"The template's calculation failed: {exc}")


def _cells(area: tuple[str, int, int, int, int]) -> set[tuple[str, int, int]]:
    sheet, r1, c1, r2, c2 = area
    return {(sheet.lower(), r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}


def check_outputs_clear_of_inputs(book: WorkbookPort, outputs: Sequence[str],
                                  inputs: Sequence[str]) -> None:
    """Refuse if an output range covers a ``ce_in_*`` range or a cell with the input fill."""
    input_cells = {}
    for name in inputs:
        for cell in _cells(book.area(name)):
            input_cells.setdefault(cell, name)
    for name in outputs:
        area = book.area(name)
        for cell in sorted(_cells(area)):
            if cell in input_cells:
                raise RefreshError(
                    f"{where(book, name)} overlaps the input {where(book, input_cells[cell])} at "
                    f"{area[0]}!{_a1(cell[1], cell[2])}: Refresh would overwrite what you typed. "
                    f"Point {name} back to its own cells (Formulas > Name Manager) or use a fresh "
                    "copy of the template.", name)
        for i, row in enumerate(book.fills(name)):
            for j, fill in enumerate(row):
                if fill is not None and fill.upper().endswith(INPUT_FILL):
                    cell = _a1(area[1] + i, area[2] + j)
                    raise RefreshError(
                        f"{where(book, name)} covers the input cell {area[0]}!{cell} (a yellow "
                        f"cell): Refresh would overwrite what you typed. Point {name} back to its "
                        "own cells (Formulas > Name Manager) or use a fresh copy of the template.",
                        name)


def refresh_workbook(book: WorkbookPort) -> RefreshResult:
    """Recalculate ``book`` and, if it is a known template, rewrite its ``ce_out_*`` ranges.

    Validates the inputs and every output before writing any; raises :class:`RefreshError`
    (having written nothing) with a message naming the name or cell at fault and what to do.
    """
    tid = template_id(book)
    book.recalculate()
    if tid is None:
        return RefreshResult(
            None,
            False,
            message=(
                "Recalculated this workbook. It was not made from a Customer Equity template "
                f"(it has no {TEMPLATE_NAME} name), so nothing else was changed."
            ),
        )
    load_template_modules()
    fn = find_refresher(tid)
    if fn is None:
        known = ", ".join(registered_templates()) or "none"
        return RefreshResult(
            tid,
            False,
            message=(
                f"Recalculated this workbook. Its template {tid!r} is unknown to this version "
                f"of customer_equity (known templates: {known}), so its outputs were not "
                "rewritten; updating the customer-equity package may help."
            ),
        )

    names = _name_map(book)
    missing = [n for n in required_inputs(tid) if n.lower() not in names]
    if missing:
        raise RefreshError(
            f"This {tid} workbook has lost the input name {missing[0]}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            + ": Refresh cannot tell which cells hold it. Define it again in Formulas > Name "
            "Manager (the template's Read me lists the names) or paste your data into a fresh "
            "copy of the template.", missing[0])
    input_names = [names[k] for k in sorted(names) if k.startswith(IN_PREFIX)]
    inputs = {}
    for name in input_names:
        try:
            inputs[name] = book.read(name)
        except RefreshError as exc:
            raise _located(book, exc, names) from exc
    try:
        outputs = dict(fn(MappingProxyType(inputs)) or {})
    except Exception as exc:  # noqa: BLE001 - every failure becomes a readable message
        raise _located(book, exc, names) from exc

    plan: dict[str, Values] = {}
    for out_name, values in outputs.items():
        key = str(out_name).lower()
        if not key.startswith(OUT_PREFIX):
            raise RefreshError(
                f"Template {tid!r} returned {out_name!r}, which is not a {OUT_PREFIX}* name; "
                "Refresh writes only to output ranges."
            )
        if key not in names:
            raise RefreshError(
                f"This workbook has lost the output name {out_name}: define it again in Formulas "
                "> Name Manager or use a fresh copy of the template.", str(out_name))
        if names[key] in plan:
            raise RefreshError(f"Template {tid!r} returned {out_name!r} twice.")
        plan[names[key]] = fit_values(names[key], values, book.shape(names[key]))
    stamp_name = names.get(STAMP_OUTPUT)
    if stamp_name is not None and stamp_name not in plan:
        plan[stamp_name] = fit_values(
            stamp_name, [[content_stamp(tid, inputs)]], book.shape(stamp_name)
        )
    if not plan:
        return RefreshResult(
            tid, True, (),
            message=f"Recalculated this {tid} workbook (its results are all formulas; "
                    "Python writes nothing in it).")
    check_outputs_clear_of_inputs(book, list(plan), input_names)

    for name, values in plan.items():
        book.write(name, values)
    book.recalculate()
    written = tuple(sorted(plan))
    return RefreshResult(
        tid,
        True,
        written,
        message=f"Refreshed {tid}: rewrote {len(written)} output range(s): {', '.join(written)}.",
    )


def main() -> RefreshResult:
    """Run Refresh on the workbook that called it (the ribbon's Refresh button)."""
    import xlwings as xw

    from .udf_sync import sync_udfs

    book = xw.Book.caller()
    notes = []
    try:
        note = sync_udfs(book)
    except Exception as exc:  # noqa: BLE001 - report, then still recalculate
        note = f"The Customer Equity functions could not be updated: {exc}"
    if note:
        notes.append(note)
    try:
        result = refresh_workbook(XlwingsBook(book))
    except RefreshError as exc:
        result = RefreshResult(None, False, message=f"Refresh stopped, nothing was written: {exc}")
        book.app.alert("\n\n".join(notes + [result.message]), title="Customer Equity")
        return result
    book.app.status_bar = result.message
    if notes or (result.template is not None and not result.recognised):
        book.app.alert("\n\n".join(notes + [result.message]), title="Customer Equity")
    return result


def refresh_file(path: Any, out: Any | None = None) -> RefreshResult:
    """Refresh a workbook file without Excel and save it to ``out`` (or in place).

    Reads the file with openpyxl, runs :func:`refresh_workbook`, then writes only the output
    cells into the file's own package (:func:`customer_equity._package.replace_cells`):
    every other part (charts, ``xl/metadata.xml`` of the dynamic arrays, the cached results
    of formulas) stays as it was. Formulas that depend on the outputs keep their cached
    results until Excel next recalculates. The file is written to a temporary file and
    renamed (:func:`customer_equity._files.atomic_path`), so a failure leaves it intact.
    Raises :class:`RefreshError` for a file that is not a workbook.
    """
    import zipfile
    from pathlib import Path

    from ._files import atomic_path
    from ._package import replace_cells

    path = Path(path)
    target = Path(out) if out is not None else path
    if not path.is_file():
        raise RefreshError(f"{path}: no such file.")
    if not zipfile.is_zipfile(path):
        raise RefreshError(f"{path} is not an Excel workbook (.xlsx, .xlsm): open it in Excel, "
                           "save it as an Excel Workbook, then refresh that file.")
    try:
        book = OpenpyxlBook.open(path)
    except Exception as exc:  # noqa: BLE001 - openpyxl's many ways of refusing a file
        raise RefreshError(f"{path} is not an Excel workbook openpyxl can read ({exc}): open "
                           "it in Excel, save it as an Excel Workbook, then refresh that file.") from exc
    result = refresh_workbook(book)
    from .errors import CustomerEquityError

    try:
        with atomic_path(target) as tmp:
            replace_cells(path, tmp, book.written)
    except CustomerEquityError as exc:
        raise RefreshError(str(exc)) from exc
    return result
