"""Refresh: what the ribbon's Refresh button does (``customer_equity.main()``).

1. Brings the add-in's functions up to date when the catalogue of ``customer_equity.excel.functions``
   changed (:mod:`customer_equity.excel.addin.sync`, Windows only).
2. Recalculates the active workbook fully.
3. For a workbook made from a Customer Equity template, recomputes the parts Python writes.

The template contract (``CE_TEMPLATE``, ``ce_in_*`` inputs, ``ce_out_*`` outputs on unlocked
cells) and the workbook ports are in :mod:`.book`. Each shipped template's refresher comes from
:func:`customer_equity.excel.templates.refreshers`; a template made of formulas only has a
refresher that returns ``{}``: Refresh recalculates it and says so. Tests and extensions may
add one with :func:`register`.

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
import json
import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

from ..errors import CustomerEquityError
from .book import (INPUT_FILL, IN_PREFIX, OUT_PREFIX, ROWS_BELOW, STAMP_OUTPUT, TEMPLATE_NAME,  # noqa: F401
                   OpenpyxlBook, RefreshError, Values, WorkbookPort, XlwingsBook, _a1, parse_constant,
                   spill_anchors, where)

Refresher = Callable[[Mapping[str, Values]], Mapping[str, Values]]

_REGISTRY: dict[str, tuple[Refresher, tuple[str, ...]]] = {}
"""Refreshers registered at run time (tests, extensions), consulted before the templates'."""


# --------------------------------------------------------------------------------------
# Which refresher serves a template
# --------------------------------------------------------------------------------------


def register(template_id: str, inputs: Sequence[str] = ()) -> Callable[[Refresher], Refresher]:
    """Decorator registering ``fn(inputs) -> outputs`` as the refresher of ``template_id``.

    The shipped templates need no registration: :func:`refreshers` reads them from
    :func:`customer_equity.excel.templates.refreshers`. ``template_id`` is the
    ``CE_TEMPLATE`` text, e.g. ``"measurement/1"``; a bare family (``"measurement"``)
    serves every version that has no exact registration. ``inputs`` are the ``ce_in_*``
    names the refresher needs: a workbook missing one is refused with a message naming it.

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
        _REGISTRY[template_id.strip()] = (fn, tuple(inputs))
        return fn

    return decorate


def unregister(template_id: str) -> None:
    """Remove a registration (for tests); unknown ids are ignored."""
    _REGISTRY.pop(template_id.strip(), None)


def refreshers() -> dict[str, tuple[Refresher, tuple[str, ...]]]:
    """Every known template id with its refresher and required inputs: the shipped templates
    (:func:`customer_equity.excel.templates.refreshers`), then the run-time registrations."""
    from .templates import refreshers as shipped

    return {**shipped(), **_REGISTRY}


def registered_templates() -> list[str]:
    """Return the template ids that have a refresher, sorted."""
    return sorted(refreshers())


def _entry(template_id: str) -> tuple[Refresher, tuple[str, ...]] | None:
    known = refreshers()
    template_id = template_id.strip()
    return known.get(template_id) or known.get(template_id.split("/", 1)[0])


def find_refresher(template_id: str) -> Refresher | None:
    """Return the refresher for a ``CE_TEMPLATE`` value (exact id first, then its family)."""
    entry = _entry(template_id)
    return entry[0] if entry else None


def required_inputs(template_id: str) -> tuple[str, ...]:
    """The ``ce_in_*`` names the refresher of ``template_id`` needs."""
    entry = _entry(template_id)
    return entry[1] if entry else ()


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
    from .._version import __version__

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


def _has_header(book: WorkbookPort, name: str) -> bool:
    """Whether a name's range starts with its table's header row (``Customers[#All]``): its
    row k+1 is then the table's data row k."""
    try:
        table = getattr(book, "table_area", lambda n: None)(name)
        return table is not None and table[1] == book.area(name)[1]
    except Exception:  # noqa: BLE001 - a broken name: located by its name only
        return False


def _located(book: WorkbookPort, exc: RefreshError | CustomerEquityError,
             names: Mapping[str, str]) -> RefreshError:
    """A refresher's complaint as a RefreshError naming the cell.

    A :class:`~customer_equity.errors.CustomerEquityError` from the core names an argument
    and a 1-based row of what the core read: for a ``ce_in_<argument>`` name on a table
    column that is the range's row; for a name on a table with its header row, the row under
    it (:class:`customer_equity.reading.RowMap`, the one way positions become cells).
    """
    from ..reading import RowMap

    if isinstance(exc, RefreshError):
        if exc.name and "(" not in str(exc).split(":", 1)[0]:
            msg = str(exc)
            name = names.get(exc.name.lower(), exc.name)
            head = where(book, name, row=exc.row, column=exc.column)
            if exc.same_as_row is not None:
                msg += f" (as {where(book, name, row=exc.same_as_row, column=exc.column).split('(')[-1][:-1]})"
            msg = msg.replace(exc.name, head, 1) if exc.name in msg else f"{head}: {msg}"
            return RefreshError(msg, exc.name, exc.row)
        return exc
    key = f"{IN_PREFIX}{exc.argument}".lower()
    if key in names:
        rows = RowMap(first=2 if _has_header(book, names[key]) else 1)
        row = None if exc.row is None else rows.row(exc.row)
        place = where(book, names[key], row=row) if row else where(book, names[key])
        got = f" (it holds {exc.value!r})" if exc.has_value else ""
        return RefreshError(f"{place}: {exc.rule}{got}. Correct it, then press Refresh again.",
                            names[key])
    return RefreshError(f"{exc}. Correct it, then press Refresh again.")


def check_dynamic_arrays(book: WorkbookPort) -> None:
    """Refuse a workbook whose dynamic-array formulas were turned into fixed arrays.

    A program without Excel's dynamic arrays (LibreOffice, openpyxl, older Excel) keeps each
    spilled formula as a legacy array of fixed size and drops the marker that makes it spill:
    the names on spill ranges (``ce_ltv = Sheet!$M$12#``) then point at one cell, and a
    grown table is silently cut. A port that cannot tell says None and is not checked.
    """
    lost = getattr(book, "lost_dynamic_arrays", lambda: None)()
    if not lost:
        return
    shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
    raise RefreshError(
        f"This workbook has lost its dynamic arrays: the formulas at {shown} no longer spill "
        "(the workbook was saved by a program without Excel's dynamic arrays, such as LibreOffice "
        "or an older Excel), so the results that refer to them are wrong or cut short. To restore "
        "them in Excel 365: select each of these cells, press F2 and then Enter (the formula spills "
        "again); or paste your data into a fresh copy of the template (customer-equity templates). "
        "Nothing was written.")


def check_rows_below_tables(book: WorkbookPort, inputs: Sequence[str]) -> None:
    """Refuse rows typed or pasted under a table the inputs read: outside the table, they
    would be left out of every result without a word."""
    seen = set()
    for name in inputs:
        area = getattr(book, "table_area", lambda n: None)(name)
        if area is None or area in seen:
            continue
        seen.add(area)
        sheet, r1, c1, r2, c2 = area
        below = book.rows_below(sheet, r2, c1, c2)
        filled = [k for k, row in enumerate(below) if any(v not in (None, "") for v in row)]
        if filled:
            first, last = r2 + 1 + filled[0], r2 + 1 + filled[-1]
            rows = f"row {first}" if first == last else f"rows {first} to {last}"
            raise RefreshError(
                f"{sheet}!{_a1(first, c1)}:{_a1(last, c2)}: {len(filled):,} "
                f"{'row holds' if len(filled) == 1 else 'rows hold'} data under the table that "
                f"{name} reads ({sheet}!{_a1(r1, c1)}:{_a1(r2, c2)}), outside it ({rows}): Refresh "
                "would leave them out of every result. Take them into the table (drag the "
                "table's corner handle down, or Table Design > Resize Table), or clear them; "
                "then press Refresh again.", name)


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

    check_dynamic_arrays(book)
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
    if hasattr(book, "rows_below"):
        check_rows_below_tables(book, input_names)
    try:
        outputs = dict(fn(MappingProxyType(inputs)) or {})
    except (RefreshError, CustomerEquityError) as exc:  # a refusal: named at its cell
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
            message=f"Recalculated this {tid} workbook, every input checked (its results are "
                    "all formulas; Python writes nothing in it).")
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

    from .addin.sync import sync_udfs

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
    cells into the file's own package (:func:`customer_equity.excel._package.replace_cells`):
    every other part (charts, ``xl/metadata.xml`` of the dynamic arrays, the cached results
    of formulas) stays as it was. Formulas that depend on the outputs keep their cached
    results until Excel next recalculates. The file is written to a temporary file and
    renamed (:func:`customer_equity._files.atomic_path`), so a failure leaves it intact.
    Raises :class:`RefreshError` for a file that is not a workbook.
    """
    import zipfile
    from pathlib import Path

    from .._files import atomic_path
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
    try:
        with atomic_path(target) as tmp:
            replace_cells(path, tmp, book.written)
    except CustomerEquityError as exc:
        raise RefreshError(str(exc)) from exc
    return result
