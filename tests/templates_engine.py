"""Compute a template workbook with the ``formulas`` engine, the CE_ functions bound to ours.

The CE_ functions are bound through xlwings' own COM code path, with the project's
harness (``tests/xlwings_harness.py``): inside a :class:`xlwings_harness.ComRuntime`,
``customer_equity.excel.functions`` is imported under xlwings' real COM decorators
(``xlwings.udfs.xlfunc/xlarg/xlret``), and each CE_ call the engine makes goes through
``xlwings.com_server.XLPython.CallUDF`` -> ``xlwings.udfs.call_udf`` ->
``xlwings.conversion.read`` / the function / ``xlwings.conversion.write``, exactly as
from Excel's VBA wrapper. Values are handed over as COM hands them: a range (and an
array computed by another formula) as a range of cells (tuple of row tuples; one cell
a scalar), numbers as floats, blanks as None (``formulas`` marks blanks with its
``EMPTY`` sentinel), TRUE/FALSE as bool, a literal in the formula as a scalar; an
argument the formula leaves out arrives as "missing" and becomes the default.
What the cell shows is what ``CallUDF`` returns (or, on an exception, the text the VBA
wrapper writes).

``formulas`` does not know Excel tables, so :func:`resolve_tables` rewrites structured
references (``Customers[periods]``, ``Customers[[a]:[b]]``, ``Customers[#All]``) in the
defined names and cell formulas into the A1 ranges the table's current ``ref`` gives,
which is what Excel's structured references mean. Everything else (named formulas,
dynamic arrays and their ``#`` anchors) the engine reads as it is, except two functions
that ``formulas`` computes otherwise than Excel, and its reading of ``A1#``
(:func:`excel_semantics`): INDEX with a row or column number of 0, IF with one condition
and branches of different sizes, ``A1#`` beside another range that starts at A1.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import numpy as np

UDF_MODULE = "customer_equity.excel.functions"


# --- 1. CE_ calls through xlwings' COM path ---------------------------------------------


def _is_blank(v):
    import schedula as sh

    return v is sh.EMPTY or v is None


def _cell(v):
    """One engine value as cell content for the harness."""
    from xlwings_harness import CellError

    if _is_blank(v):
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    if isinstance(v, str):
        return v
    text = str(v)  # an Excel error value of the engine (XlError)
    try:
        return CellError(text)
    except ValueError:
        return CellError("#VALUE!")


def to_argument(value):
    """An engine argument as the harness passes it: ``Cells`` for a range or an array."""
    from formulas.ranges import Ranges
    from xlwings_harness import Cells

    if isinstance(value, Ranges):
        value = value.value
    if isinstance(value, np.ndarray):
        arr = np.asarray(value, dtype=object)
        if arr.ndim == 0:
            return _cell(arr.item())
        if arr.ndim == 1:
            arr = arr.reshape(1, -1)
        return Cells([[_cell(c) for c in row] for row in arr])
    return _cell(value)


def from_result(result):
    """What ``CallUDF`` returned, as an engine value (2-D array, or a scalar for one cell)."""
    from formulas.functions import Array
    from xlwings_harness import grid

    rows = grid(result)
    if len(rows) == 1 and len(rows[0]) == 1:
        v = rows[0][0]
        return "" if v is None else v
    arr = np.empty((len(rows), len(rows[0])), dtype=object)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            arr[i, j] = "" if v is None else v
    return arr.view(Array)


class CallLog:
    """The CE_ calls made during a calculation: (name, shape of the result, error text)."""

    def __init__(self):
        self.calls = []

    def errors(self):
        """The calls whose result is an error text."""
        return [c for c in self.calls if c[2]]


def _error_text(rows):
    for row in rows:
        for v in row:
            if isinstance(v, str) and (v.startswith("#VALUE!") or "Error" in v.split(":")[0]):
                return v
    return None


@contextlib.contextmanager
def ce_bound(log=None):
    """Bind every CE_ function of ``customer_equity.excel.functions`` in ``formulas.get_functions()``
    to a call through xlwings' COM path (a :class:`xlwings_harness.ComRuntime`)."""
    import formulas
    from xlwings_harness import ComRuntime, grid

    registry = formulas.get_functions()
    with ComRuntime() as com:
        module = com.module(UDF_MODULE)
        names = [n for n, f in vars(module).items() if n.startswith("ce_") and hasattr(f, "__xlfunc__")]
        saved = {n.upper(): registry.get(n.upper()) for n in names}
        for name in names:
            def bound(*args, _name=name):
                # While compiling, formulas tries every function on references without
                # values; to_argument then raises RangeValueError, which tells formulas to
                # leave the call for the calculation (returning a value would freeze it).
                converted = [to_argument(a) for a in args]
                result = com.call_cell(UDF_MODULE, _name, *converted)
                if log is not None:
                    rows = grid(result)
                    log.calls.append((_name.upper(), (len(rows), len(rows[0])), _error_text(rows)))
                return from_result(result)

            registry[name.upper()] = bound
        try:
            yield com
        finally:
            for k, v in saved.items():
                if v is None:
                    registry.pop(k, None)
                else:
                    registry[k] = v


# --- 2. where ``formulas`` departs from Excel -----------------------------------------------


def _single(v):
    """The one value of a scalar, a 1x1 array or a one-cell range; None for anything bigger."""
    from formulas.ranges import Ranges

    v = v.value if isinstance(v, Ranges) else v
    arr = np.asarray(v, dtype=object)
    return arr.reshape(-1)[0] if arr.size == 1 else None


def _whole(n):
    return isinstance(n, (int, float, np.number)) and not isinstance(n, (bool, np.bool_)) and n == 0


def excel_index(array, row_num, col_num=None, area_num=1):
    """INDEX as Excel computes it: a row number of 0 gives the whole column, a column number
    of 0 the whole row (``formulas`` 1.3 reads 0 as 1), and an array of row numbers gives the
    cells' values (``formulas`` gives a reference per cell); everything else as ``formulas`` does."""
    from formulas.functions import Array, Error
    from formulas.functions.look import xindex
    from formulas.ranges import Ranges

    r, c = _single(row_num), 1 if col_num is None else _single(col_num)
    if _whole(r) == _whole(c):
        out = xindex(array, row_num, col_num, area_num)
        if isinstance(out, np.ndarray) and out.size > 1 and any(isinstance(v, Ranges) for v in out.flat):
            # INDEX(range, {rows}): Excel gives the cells' values; formulas a reference per cell
            out = np.vectorize(lambda v: _single(v) if isinstance(v, Ranges) else v, otypes=[object])(out)
            return np.asarray(out, object).view(Array)
        return out
    values = np.asarray(array.value if isinstance(array, Ranges) else array, dtype=object)
    values = values.reshape(1, -1) if values.ndim != 2 else values
    k, size = (int(c), values.shape[1]) if _whole(r) else (int(r), values.shape[0])
    if not 1 <= k <= size:
        return np.asarray([[Error.errors["#REF!"]]], object).view(Array)
    out = values[:, k - 1:k] if _whole(r) else values[k - 1:k, :]
    return np.asarray(out, object).view(Array)


def excel_if(original):
    """IF as Excel computes it with one condition: the branch it chooses, whole. ``formulas``
    broadcasts both branches to a common shape, so a branch of another size (the range a
    name falls back to, next to a spill that has grown) would spoil the chosen one."""
    from formulas.functions import Array
    from formulas.ranges import Ranges
    from formulas.tokens import Token

    def xif(condition, x=True, y=False):
        if not any(isinstance(a, Token) for a in (condition, x, y)):  # not while compiling
            c = _single(condition)
            if isinstance(c, (bool, np.bool_)):
                chosen = x if c else y
                if isinstance(chosen, (Ranges, np.ndarray)):
                    return np.asarray(chosen.value if isinstance(chosen, Ranges) else chosen,
                                      object).view(Array)
                return chosen
        return original(condition, x, y)

    return xif


def spill_anchor(original):
    """``ExcelModel.add_anchor`` resolving ``A1#`` as Excel does: to the range of the array
    formula in A1. ``formulas`` 1.3 takes the first range node that starts at A1 and gives up
    when that one is not a formula's (a name's range ``A1:A1000`` next to a spill that has
    grown to ``A1:A5000``), leaving ``A1#`` the anchor cell alone."""
    import schedula as sh
    from formulas.excel import RangesAssembler
    from formulas.ranges import Ranges

    def add_anchor(self, rng, data_nodes=None, context=None, set_ref=True):
        if context is None and data_nodes and rng.get("anchor"):
            n_id = rng["name"]
            start = n_id[:-1] + ":"
            for k in data_nodes:
                if k.startswith(start) and any(
                        not isinstance(self.dsp.nodes[fn]["function"], RangesAssembler)
                        for fn in self.dsp.dmap.pred.get(k, ())):
                    ref = self.cells[k].range.ranges[0]["name"] if k in self.cells else Ranges.get_range(k)["name"]
                    self.dsp.add_function(function_id=f"={ref}", function=sh.bypass, inputs=[ref],
                                          outputs=[n_id])
                    return True
        return original(self, rng, data_nodes, context, set_ref)

    return add_anchor


@contextlib.contextmanager
def excel_semantics():
    """``formulas`` with Excel's INDEX (row or column 0), IF (one condition) and ``A1#`` for
    the while."""
    import collections

    import formulas
    from formulas.excel import ExcelModel
    from formulas.functions import COMPILING, wrap_func, wrap_impure_func

    registry = formulas.get_functions()
    saved = {k: registry[k] for k in ("INDEX", "IF")}
    saved_anchor = ExcelModel.add_anchor
    registry["INDEX"] = {"extra_inputs": collections.OrderedDict([(COMPILING, False)]),
                         "function": wrap_impure_func(wrap_func(excel_index, ranges=True))}
    registry["IF"] = dict(saved["IF"], function=excel_if(saved["IF"]["function"]))
    ExcelModel.add_anchor = spill_anchor(saved_anchor)
    try:
        yield
    finally:
        registry.update(saved)
        ExcelModel.add_anchor = saved_anchor


# --- 3. Excel tables -------------------------------------------------------------------


from customer_equity.excel.structured import resolve_structured  # noqa: E402,F401
from customer_equity.excel.structured import tables_of as _tables  # noqa: E402


def resolve_tables(book):
    """Rewrite the structured references of an openpyxl workbook in place (names and formulas)."""
    from openpyxl.worksheet.formula import ArrayFormula

    tables = _tables(book)
    if not tables:
        return book
    for dn in book.defined_names.values():
        if dn.attr_text:
            dn.attr_text = resolve_structured(dn.attr_text, tables)
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if isinstance(v, ArrayFormula):
                    v.text = resolve_structured(v.text, tables)
                elif isinstance(v, str) and c.data_type == "f":
                    c.value = resolve_structured(v, tables)
    return book


# --- 4. the model ------------------------------------------------------------------------


def compute(path, inputs=None, log=None):
    """Load ``path`` into ``formulas`` (tables resolved) and calculate it with the CE_ bound.

    ``inputs`` maps ``(sheet, "A1")`` to a value that replaces the cell's content for
    this calculation (as if typed in). Returns ``{(SHEET, "A1"): value}`` for every cell
    the engine computed or read, and ``{NAME: array}`` for the defined names it evaluated.
    """
    import formulas
    from formulas.excel import BOOK
    from formulas.excel.xlreader import load_workbook

    path = Path(path).resolve()
    with ce_bound(log), excel_semantics():
        book = resolve_tables(load_workbook(str(path)))
        xl = formulas.ExcelModel()
        xl.books[path.name.upper()] = {BOOK: book}
        xl.loads(str(path))
        xl.finish()
        given = {cell_key(path, s, c): v for (s, c), v in (inputs or {}).items()}
        solution = xl.calculate(inputs=given) if given else xl.calculate()
        return solution_cells(solution), named_values(solution, path)


def cell_key(path, sheet, cell):
    """The ``formulas`` node id of one cell."""
    return f"'[{Path(path).name}]{sheet.upper()}'!{cell.upper()}"


def solution_cells(solution):
    """``{(SHEET, "A1"): value}`` for every cell in a ``formulas`` solution (ranges expanded)."""
    from formulas.ranges import Ranges
    from openpyxl.utils import get_column_letter as letter

    out = {}
    for key, value in solution.items():
        if not isinstance(value, Ranges) or not value.ranges:
            continue
        rng = value.ranges[0]
        sheet = rng.get("sheet")
        if not sheet:
            continue
        arr = np.asarray(value.value, dtype=object)
        if arr.ndim != 2:
            continue
        r1, c1 = int(rng["r1"]), int(rng["n1"])
        for i in range(arr.shape[0]):
            for j in range(arr.shape[1]):
                out[(sheet.upper(), f"{letter(c1 + j)}{r1 + i}")] = _plain(arr[i, j])
    return out


def named_values(solution, path):
    """``{NAME: 2-D array}`` for the defined names the engine evaluated."""
    from formulas.ranges import Ranges

    prefix = f"'[{Path(path).name}]'!"
    out = {}
    for key, value in solution.items():
        if isinstance(key, str) and key.upper().startswith(prefix.upper()):
            v = value.value if isinstance(value, Ranges) else value
            out[key[len(prefix):].upper()] = np.asarray(v, dtype=object)
    return out


def _plain(v):
    import schedula as sh
    from formulas.ranges import Ranges

    if isinstance(v, Ranges):
        arr = np.asarray(v.value, dtype=object)
        v = arr.reshape(-1)[0] if arr.size else None
    if v is sh.EMPTY:
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def same(a, b, rel=1e-9, abs_tol=1e-6):
    """Equal as a spreadsheet shows it: numbers within tolerance, blanks and "" alike."""
    if a in (None, "") and b in (None, ""):
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b or (not isinstance(a, str) and not isinstance(b, str) and float(a) == float(b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if math.isnan(a) or math.isnan(b):
            return False
        return math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)
    return str(a) == str(b)
