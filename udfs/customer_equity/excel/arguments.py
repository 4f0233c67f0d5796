"""Argument kinds: what each argument of a CE_ function is, its help, and how it is read.

A CE_ function is its signature, its help and one line of body::

    @excel_function(rate=Block(_RATE), values=Block("Margin per period ..."),
                    periods=Periods(_PERIODS, optional=True), timing=Timing(_TIMING))
    def ce_ltv(rate, values, periods=None, timing=None):
        \"\"\"Contribution lifetime value per row ... Python: ltv_contribution.\"\"\"
        return core.ltv_contribution(rate, values, periods, timing)

:func:`excel_function` registers the function with xlwings (raw values in and out, one help
text per argument for the function wizard), reads every argument with its kind before the
body runs, shapes the result (``returns=``) and turns a :class:`CustomerEquityError` into the
cell's readable error on either runtime.

Each kind reads one raw argument under the name the wizard shows: the cells that
:func:`customer_equity.excel.cells.read` made of what the runtime handed over (a scalar for one
cell, a 2-D object array for a range), read with :mod:`customer_equity.reading`'s vocabulary.
An omitted optional argument arrives as ``None`` on both runtimes; a kind with a ``default``
gives it for a blank (omitted, or a blank referenced range). Numbers are mostly left to the
core, which checks them with the argument's name and the cell's position
(:mod:`customer_equity.model.validate`).

=================  ======================================================================
kind               reads
=================  ======================================================================
:class:`Block`     numbers as cells, one value, a column or a block; the core checks them
:class:`Periods`   a number of periods per row or for all; required: a blank is refused
:class:`Timing`    "end" / "begin" (one cell)
:class:`Text`      one cell of text (a lever's name, a unit); a blank or 0 is the default
:class:`Single`    one cell's value, handed on
:class:`Number`    one optional number (a share, a count of neighbours)
:class:`Numbers`   a row or a column of numbers as a list (the grid's lever values)
:class:`List`      a row or a column of settings as a list (weights, cut-offs)
:class:`Column`    one column (or row) of labels or values, one per customer
:class:`Flags`     TRUE/FALSE cells (or a customer type standing for its flag)
:class:`Ids`       customer ids, numbers or text
:class:`Dates`     a column of dates as days since 1970
:class:`Date`      one date setting
:class:`Amounts`   a column of numbers, each required (transaction amounts)
:class:`Table`     a range with its header row; the core's errors point at its column and row
:class:`Settings`  a 2-column range of setting name and value (a MeasureConfig)
:class:`Lever`     a what-if lever: one value, or one per type or per period
:class:`Moves`     rows of from type | to type | customers
:class:`Structure` a spilled structure, or customers and average per type
:class:`Traits`    trait column names
:class:`Weights`   trait weights, a row or two columns trait | weight
:class:`Params`    a fitted model's parameters (its spilled table, or the numbers alone)
:class:`Horizon`   forecast horizons: one, one per customer, or a row of horizons
=================  ======================================================================

Result kinds (``returns=``): :class:`Spilled` (a pandas table with its header row),
:class:`LeverGrid`, :class:`FitTable`, :class:`Counts`; without one, the result is written as
rows of cells by :func:`customer_equity.excel.cells.write`.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math

import numpy as np
import xlwings as xw

from .. import model as core
from .. import reading
from ..errors import CustomerEquityError
from ..model import labels, validate
from ..model import forecast as _fc
from ..model.forecast import data as _fc_data
from . import cells

__all__ = ["CATEGORY", "runtime", "excel_function", "Kind", "Block", "Periods", "Timing", "Text",
           "Single", "Number", "Numbers", "List", "Column", "Flags", "Ids", "Dates", "Date", "Amounts",
           "log_frame",
           "Table", "Settings", "Lever", "Moves", "Structure", "Traits", "Weights", "Params", "Horizon",
           "Spilled", "LeverGrid", "FitTable", "Counts", "BaseRetention", "WhatIfTable"]

CATEGORY = "Customer Equity"

_REQUIRED = object()


def runtime():
    """Which xlwings implementation decorates functions now: "com", "officejs" or "python".

    Asked while a UDF module is imported, like ``xlwings.func`` itself is bound:
    ``xlwings.udfs`` on Windows (COM), ``xlwings.pro.udfs_officejs`` in xlwings Lite and
    xlwings Server (Office.js), no-ops elsewhere.
    """
    module = getattr(xw.func, "__module__", "")
    if module == "xlwings.udfs":
        return "com"
    if module.startswith("xlwings.pro") or module.startswith("xlwings.server"):
        return "officejs"
    return "python"


def _error_result(func_name, err, where):
    """Office.js: #VALUE! with the message on the cell's error flag (XlwingsError is the
    exception xlwings shows in production). COM: xlwings cannot return a real error
    value (xlwings issue 776), so the cell shows the text "#VALUE! <message>" instead
    of a traceback. Plain Python: the exception itself."""
    message = f"{func_name.upper()}: {err}"
    if where == "officejs":
        raise xw.XlwingsError(message) from None
    if where == "com":
        return [[f"#VALUE! {message}"]]
    raise err


def excel_function(*, returns=None, same_rows=(), **kinds):
    """The one decorator of a CE_ function: xlwings' ``func``, ``ret`` and one ``arg`` per
    parameter (raw values, with its kind's help text), around the reading of each argument.

    Parameters
    ----------
    returns : result kind, optional
        How the body's result becomes cells (:class:`Spilled`, :class:`LeverGrid`, ...);
        default :func:`customer_equity.excel.cells.write`.
    same_rows : tuple of str
        Arguments read as columns that must have as many rows as the first of them.
    **kinds : Kind
        One per parameter of the function, in any order.

    xlwings' ``raw`` converter hands over what the runtime delivers without a Python pass
    over every cell (on 100,000 rows xlwings' cleaning costs more than our whole
    calculation); :func:`customer_equity.excel.cells.read` and the kinds do the rest.
    """

    def decorate(f):
        names = list(inspect.signature(f).parameters)
        if set(names) != set(kinds):
            raise TypeError(f"{f.__name__}: a kind for each argument: {names} != {sorted(kinds)}")
        where = runtime()
        read = [(name, kinds[name]) for name in names]
        shape = returns.cells if returns is not None else cells.write

        @functools.wraps(f)
        def wrapper(*args):
            try:
                # an overflow is no warning here: the result kinds refuse a non-finite result
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    values = [kind(cells.read(a, where, name), name)
                              for (name, kind), a in zip(read, args)]
                    _check_same_rows(same_rows, dict(zip(names, values)))
                    with contextlib.ExitStack() as around:
                        for (name, kind), value in zip(read, values):
                            around.enter_context(kind.around(name, value))
                        result = f(*values)
                    return shape(result)
            except CustomerEquityError as err:
                return _error_result(f.__name__, err, where)

        for name in reversed(names):
            wrapper = xw.arg(name, "raw", doc=kinds[name].help)(wrapper)
        return xw.func(category=CATEGORY)(xw.ret("raw")(wrapper))

    return decorate


def _check_same_rows(names, values):
    if not names:
        return
    first, n = names[0], np.size(values[names[0]])
    for name in names[1:]:
        size = np.size(values[name])
        if size != n:
            raise CustomerEquityError(name, f"has {size} rows where {first} has {n}: give "
                                      f"{', '.join(names)} over the same rows")


# --- argument kinds ----------------------------------------------------------------------


class Kind:
    """One kind of argument: the function wizard's help and the reading of one raw argument.

    ``kind(x, name)`` reads the cells ``x`` of the argument called ``name``: a blank
    (omitted, or a blank range) is ``default`` when there is one, else :meth:`read` decides.
    """

    def __init__(self, help, *, default=_REQUIRED):
        self.help = help
        self.default = default

    def __call__(self, x, name):
        if self.default is not _REQUIRED and cells.is_blank(x):
            return self.default
        return self.read(x, name)

    def read(self, x, name):
        return x

    def around(self, name, value):
        """A context the body runs in (a table relocates the core's errors)."""
        return contextlib.nullcontext()

    def __repr__(self):
        return f"{type(self).__name__}({self.help!r})"


class Block(Kind):
    """Numbers as cells (one value, a column, a row or a block), handed to the core, which
    reads each number and names the cell of a wrong one."""


class Single(Kind):
    """One cell's value (a range of several cells is refused), handed on."""

    def read(self, x, name):
        return cells.single(x, name)


class Periods(Kind):
    """A number of periods, one per row or one for all. Optional: a blank is the core's
    default (None); required: a blank is refused rather than read as a number."""

    def __init__(self, help, *, optional=False):
        super().__init__(help, default=None if optional else _REQUIRED)

    def read(self, x, name):
        if cells.is_blank(x):
            raise CustomerEquityError(name, "a number of periods is required, the cell is blank",
                                      value="")
        return x


class Text(Kind):
    """One cell of text (a unit, a lever's name); a blank or 0 is the default, since
    Office.js may send a blank cell as 0 where text belongs."""

    def __init__(self, help, *, default=None, lower=False):
        super().__init__(help, default=default)
        self.lower = lower

    def read(self, x, name):
        v = cells.single(x, name)
        if cells.blank_or_zero(v):
            return self.default
        return v.strip().lower() if self.lower and isinstance(v, str) else v


class LeverName(Text):
    """A what-if lever named in words or by its name (``Discount rate`` or ``rate``), as the
    core names it (:func:`customer_equity.excel.cells.lever_key`)."""

    def read(self, x, name):
        v = super().read(x, name)
        return cells.lever_key(v) if isinstance(v, str) else v


class Timing(Text):
    """ "end" (or 0) or "begin" (or 1), one cell; the core reads it
    (:func:`customer_equity.reading.timing_code`)."""


class Number(Kind):
    """One optional number (a share, a point, a count): the default when blank."""

    def __init__(self, help, *, default=None, whole=False):
        super().__init__(help, default=default)
        self.whole = whole

    def read(self, x, name):
        x = cells.single(x, name)
        if cells.is_blank(x):
            return self.default
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise CustomerEquityError(name, "expected a number", value=x)
        if self.whole and isinstance(x, float) and x.is_integer():
            return int(x)  # a count typed in a cell arrives as a float: 10.0 is 10
        return x


class Numbers(Kind):
    """A row or a column of numbers as a list (one cell: a list of one)."""

    def read(self, x, name):
        values = cells.as_list(x) if isinstance(x, np.ndarray) else [x]
        bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, float))]
        if bad:
            raise CustomerEquityError(name, "expected numbers", value=bad[0])
        return values


class List(Kind):
    """A row or a column of settings (weights, cut-offs) as a flat list."""

    def read(self, x, name):
        return cells.as_list(x)


class Column(Kind):
    """One column (or one row, or one cell) of values, one per customer, as a 1-D array."""

    def read(self, x, name):
        return cells.column(x, name)


def _carries_tv(label):
    """A customer type standing for its carrier flag: the types that provide TV carry it."""
    code = labels.type_code_of(label)
    return None if code is None else bool(core.CAPABILITIES[code, 4])


class Flags(Kind):
    """TRUE/FALSE cells (:func:`customer_equity.reading.flag_array`) as a boolean array, a
    single column as 1-D. ``or_type``: a customer type stands for whether it carries TV."""

    def __init__(self, help, *, or_type=False, **kw):
        super().__init__(help, **kw)
        self.or_type = or_type

    def read(self, x, name):
        try:
            flags = cells.flags(x, name, other=_carries_tv if self.or_type else None)
        except CustomerEquityError as err:
            if self.or_type and err.rule == reading.FLAG_RULE:
                raise CustomerEquityError(name, reading.FLAG_RULE + " or a customer type",
                                          row=err.row, column=err.column, value=err.value) from None
            raise
        return flags[:, 0] if flags.ndim == 2 and flags.shape[1] == 1 else flags


class Ids(Kind):
    """Customer ids: numbers or text, one column; a blank is refused with its row. 17 and
    17.0 are one customer; numbers mixed with text are compared as text."""

    def read(self, x, name):
        ids = cells.column(x, name)
        out = np.empty(ids.size, dtype=object)
        for k, v in enumerate(ids):
            if reading.is_blank(v):
                raise CustomerEquityError(name, "a customer id is required here, the cell is blank",
                                          row=k + 1, value="")
            if isinstance(v, str) and not v.strip():
                raise CustomerEquityError(name, "a customer id is required here, the cell holds "
                                          "only spaces", row=k + 1, value=v)
            if isinstance(v, str) and reading.excel_error(v):
                raise CustomerEquityError(name, f"the cell holds the Excel error {v.strip()}", row=k + 1)
            if isinstance(v, (bool, np.bool_)):
                raise CustomerEquityError(name, "a customer id is a number or text, not TRUE/FALSE",
                                          row=k + 1, value=v)
            if isinstance(v, (float, np.floating)) and float(v).is_integer():
                v = int(v)
            out[k] = v.strip() if isinstance(v, str) else v
        if len({type(v) is str for v in out}) > 1:
            out = np.array([str(v) for v in out], dtype=object)
        return out


class Dates(Kind):
    """A column of dates as int64 days since 1970-01-01, read by
    :func:`customer_equity.reading.date_array` (one cell: :func:`~customer_equity.reading.date_days`)."""

    def read(self, x, name):
        column = cells.column(x, name)
        if column.size == 1:
            return np.array([reading.date_days(column[0], name)], dtype=np.int64)
        return reading.date_array(column, name)


class Date(Kind):
    """One date setting as a ``datetime.date``; None when omitted or blank."""

    def __init__(self, help):
        super().__init__(help, default=None)

    def read(self, x, name):
        v = cells.single(x, name)
        if reading.is_blank(v):
            return None
        return _fc_data.day_to_date(reading.date_days(v, name))


class Amounts(Kind):
    """A column of numbers, each required (a blank is refused with its row)."""

    def read(self, x, name):
        arr = validate.as_float(np.asarray(cells.column(x, name), dtype=object), name,
                                 blank_ok=False)
        return validate.check_finite(arr, name)


def log_frame(customer, date, amount):
    """A transaction log's three columns (read as :class:`Column` reads them) as the table
    :func:`customer_equity.model.forecast.summary_data` reads.

    A row blank in all three columns (a range selected past the log's end; on Office.js a
    blank may arrive as 0) stays blank: the summary sets it aside and reports it. Every other
    row is read as :class:`Ids`, :class:`Dates` and :class:`Amounts` read a column, an error
    naming the row of the range.
    """
    columns = [np.asarray(c, dtype=object).reshape(-1) for c in (customer, date, amount)]
    blank = np.array([all(cells.blank_or_zero(c[k]) for c in columns)
                      for k in range(columns[0].size)], dtype=bool)
    at = np.flatnonzero(~blank)
    rows = reading.RowMap(numbers=at + 1)
    read = []
    for kind, name, c in ((Ids(""), "customer", columns[0]), (Dates(""), "date", columns[1]),
                          (Amounts(""), "amount", columns[2])):
        part = c[at]
        try:
            read.append(kind.read(part.reshape(-1, 1), name) if part.size else part)
        except CustomerEquityError as err:
            raise rows.relocate(err) if err.row is not None or part.size != 1 else \
                CustomerEquityError(name, err.rule, row=int(at[0]) + 1,
                                    **({"value": err.value} if err.has_value else {})) from None
    n = columns[0].size
    ids = np.full(n, None, dtype=object)
    ids[at] = read[0]
    days = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    days[at] = np.asarray(read[1], dtype=np.int64).astype("datetime64[D]")
    amounts = np.full(n, np.nan)
    amounts[at] = read[2]
    import pandas as pd

    return pd.DataFrame({"customer_id": ids, "date": days, "amount": amounts})


class Table(Kind):
    """A range with its header row (:func:`customer_equity.reading.table`), e.g.
    ``Customers[#All]``. With ``relocate``, an error the core raises about one of its
    columns points at the range: ``customers[periods], row 5`` (the header is row 1)."""

    def __init__(self, help, *, relocate=True):
        super().__init__(help)
        self.relocate = relocate

    def read(self, x, name):
        return reading.table(x, name, known=core.INPUT_COLUMNS)

    def around(self, name, frame):
        return _in_table(name, frame) if self.relocate else contextlib.nullcontext()


@contextlib.contextmanager
def _in_table(name, frame):
    """Run the core on a table argument, pointing its errors at the range's column and row."""
    try:
        yield
    except CustomerEquityError as err:
        if err.argument in frame.columns:
            raise err.relocated(argument=f"{name}[{err.argument}]",
                                row_offset=1 if err.row is not None else 0) from None
        if err.argument in frame.attrs.get("blank_columns", ()):
            raise CustomerEquityError(f"{name}[{err.argument}]", "the column is blank in every "
                                      "row, and it is needed here") from None
        raise


class Settings(Kind):
    """A 2-column range of setting name and value as a
    :class:`~customer_equity.model.config.MeasureConfig`; blank: the defaults.

    A blank name continues the list setting above it (``cutoffs``: one value a row). A
    name is text, so a 0 in the name column is read as blank, and a row with no name and a
    value that is blank or 0 as an empty row: Office.js may send a blank cell as 0.
    """

    def __call__(self, x, name):
        if cells.is_blank(x):
            return core.MeasureConfig()
        return cells.settings(x, name)


class Lever(Kind):
    """An optional lever: None when blank, a number, or a list (per type, per period).
    ``per_type``: one value for all types, or 4."""

    def __init__(self, help, *, per_type=False):
        super().__init__(help, default=None)
        self.per_type = per_type

    def read(self, x, name):
        if not isinstance(x, np.ndarray):
            return x
        flat = cells.as_list(x)
        if len(flat) == 1:
            return flat[0]
        if self.per_type and len(flat) != 4:
            raise CustomerEquityError(name, "one value for all types, or 4 (Lighthouse, Follower, "
                                      f"Rational, Profit-seeking), got {len(flat)}")
        return flat


class BaseRetention(Kind):
    """4 retention rates per period, one per type; a blank (or, as Office.js may send a blank,
    0) starts that type from the table's own retention."""

    def __init__(self, help):
        super().__init__(help, default=None)

    def read(self, x, name):
        values = cells.as_list(x) if isinstance(x, np.ndarray) else [x]
        return [None if cells.blank_or_zero(v) else v for v in values]


class Moves(Kind):
    """Rows of from type | to type | customers as the ``moves`` mapping of what_if."""

    def __init__(self, help):
        super().__init__(help, default=None)

    def read(self, x, name):
        arr = np.asarray(x, dtype=object)
        if arr.ndim != 2 or arr.shape[1] != 3:
            raise CustomerEquityError(name, "needs three columns: from type, to type, number of "
                                      "customers")
        moves = {}
        for r, (src, dst, n) in enumerate(arr.tolist(), start=1):
            if all(cells.blank_or_zero(v) for v in (src, dst, n)):  # an empty row (Office.js: 0s)
                continue
            for c, label in ((1, src), (2, dst)):
                if labels.type_code_of(label) is None:
                    raise CustomerEquityError(name, "unknown customer type", row=r, column=c,
                                              value=label)
            if isinstance(n, bool) or not isinstance(n, (int, float)):
                raise CustomerEquityError(name, "expected a number of customers", row=r, column=3,
                                          value=n)
            pair = (core.TYPES[labels.type_code_of(src)], core.TYPES[labels.type_code_of(dst)])
            moves[pair] = moves.get(pair, 0) + n
        return moves


class Structure(Kind):
    """A structure table: a spilled CE_STRUCTURE / CE_STRUCTURE_COUNTS (header row first), or
    4 rows x 2 columns of customers and average value per type."""

    def read(self, x, name):
        arr = np.asarray(x, dtype=object)
        if arr.ndim == 2 and arr.shape[0] >= 2 and isinstance(arr[0, 0], str) \
                and arr[0, 0].strip().lower() == "type":
            arr = arr.copy()  # the headers in words ("Customer share") or as column names alike
            arr[0] = [cells.header_key(h) if isinstance(h, str) else h for h in arr[0]]
            frame = reading.table(arr, name)
            with _in_table(name, frame):
                try:
                    return core.structure_table(frame)
                except CustomerEquityError as err:
                    if err.argument in ("structure", "type", "customers", "average", "equity",
                                        "value_mix"):
                        raise err.relocated(argument=f"{name}: {err.argument}",
                                            row_offset=1 if err.row is not None else 0) from None
                    raise
        if arr.ndim == 2 and arr.shape == (4, 2):
            try:
                return core.structure_from_counts(arr[:, 0], arr[:, 1])
            except CustomerEquityError as err:
                raise err.relocated(argument=f"{name} ({err.argument})") from None
        raise CustomerEquityError(name, "give a spilled CE_STRUCTURE (with its header row 'Type', "
                                  "'Customers', ...) or 4 rows x 2 columns: customers and average "
                                  "value per type",
                                  value=f"{arr.shape[0]} x {arr.shape[1]}" if arr.ndim == 2 else x)


class Traits(Kind):
    """Trait names in a row or a column; None (every column but an id) when blank."""

    def __init__(self, help):
        super().__init__(help, default=None)

    def read(self, x, name):
        names = [v for v in cells.as_list(x) if not cells.is_blank(v)]
        bad = [v for v in names if not isinstance(v, str)]
        if bad:
            raise CustomerEquityError(name, "expected the names of trait columns (text)", value=bad[0])
        return [v.strip() for v in names]


class Weights(Kind):
    """Trait weights: a row (one per trait) or two columns trait | weight (a mapping)."""

    def __init__(self, help):
        super().__init__(help, default=None)

    def read(self, x, name):
        arr = np.asarray(x, dtype=object)
        if arr.ndim == 2 and arr.shape[1] == 2 and all(isinstance(v, str) for v in arr[:, 0]):
            rows = arr.tolist()
            if rows and cells.header_key(rows[0][0]) == "trait":  # CE_PROSPECT_WEIGHTS with its header
                rows = rows[1:]
            return {k.strip(): v for k, v in rows}
        return cells.as_list(x)


class Params(Kind):
    """A fitted model's parameters from a cell range: the fit function's labelled table (rows
    named r, alpha, a, b or p, q, v with the estimate beside the name), or the parameters
    alone in the model's order (a row or a column)."""

    def __init__(self, help, model):
        super().__init__(help)
        self.model = model

    def read(self, x, name):
        names = _fc.PARAMETER_NAMES[self.model]
        arr = np.asarray(x, dtype=object)
        if arr.ndim == 0:
            arr = arr.reshape(1, 1)
        for t in (v for v in arr.ravel() if isinstance(v, str) and v.strip()):
            if t.startswith("#"):
                raise CustomerEquityError(name, "the fitted parameters show an error; correct the "
                                          f"fit first ({t[:120]})")
        if arr.ndim == 2 and arr.shape[1] >= 2 and any(
                isinstance(v, str) and v.strip().lower() in names for v in arr[:, 0]):
            found = {}
            for row in arr:
                label = row[0].strip().lower() if isinstance(row[0], str) else None
                if label in names and label not in found:
                    found[label] = row[1]
            missing = [k for k in names if k not in found]
            if missing:
                raise CustomerEquityError(name, f"no row named {missing[0]!r}: give the fit's table "
                                          "or " + ", ".join(names) + " in this order")
            values = [found[k] for k in names]
        else:
            values = [v for v in arr.ravel() if not (v is None or v == "")]
        try:
            return _fc.parameters(values, self.model)
        except CustomerEquityError as err:
            raise CustomerEquityError(name if err.argument == "params" else
                                      err.argument.replace("params", name), err.rule,
                                      **({"value": err.value} if err.has_value else {})) from None


class Horizon(Kind):
    """Forecast horizons >= 0: one for all (a number), one per customer (a column, 1-D), or a
    row of horizons, read as the ``(K, 1)`` column of the core's ``(K, N)`` table."""

    def read(self, x, name):
        h = np.asarray(x, dtype=object)
        if h.ndim == 2 and h.shape[0] == 1 and h.shape[1] > 1:
            return self._check(h.reshape(-1), name).reshape(-1, 1)
        if h.ndim == 2 and h.size > 1:
            return self._check(cells.column(h, name), name)
        v = cells.single(h, name)
        return self._check(v, name)

    @staticmethod
    def _check(h, name):
        arr = validate.as_float(np.asarray(h, dtype=object) if np.ndim(h) else h, name,
                                 blank_ok=False)
        return validate.check_range(validate.check_finite(arr, name), name, low=0)


# --- result kinds ------------------------------------------------------------------------


class Spilled:
    """A pandas table spilled with its header row (:func:`customer_equity.excel.cells.table`):
    ``first_header`` heads the index column (None: no index column); ``words`` shows the header
    in words ("Customers before"); ``labels_as_text=False`` keeps the index labels as they are
    (customer ids: numbers stay numbers)."""

    def __init__(self, first_header=None, *, words=False, labels_as_text=True):
        self.first_header, self.words, self.labels_as_text = first_header, words, labels_as_text

    def cells(self, frame):
        out = cells.table(frame, self.first_header, words_header=self.words)
        if not self.labels_as_text:
            for row, label in zip(out[1:], frame.index.tolist()):
                row[0] = label
        return out


class WhatIfTable:
    """A what-if's table per type (:class:`~customer_equity.WhatIf`), and a "Note" row under it
    when transaction income falls in periods nobody carries any more (the command prints the
    same note)."""

    def cells(self, w):
        out = cells.table(w.table, "type", words_header=True)
        if w.dropped_income:
            out.append(["Note", f"{w.dropped_income:,.0f} of transaction income falls in periods "
                        "without carriers after the change and is not earned"] + [""] * (len(out[0]) - 2))
        return out


class LeverGrid:
    """A table over two levers (:func:`customer_equity.excel.cells.lever_grid`)."""

    def cells(self, frame):
        return cells.lever_grid(frame)


class FitTable:
    """A fitted model as a labelled table: parameter, estimate, standard error, then the
    log-likelihood, the customers and any ``extra`` rows; the body returns the fit, or the
    fit and a mapping of extra rows. An undefined number is an empty cell."""

    def cells(self, result):
        fit, extra = result if isinstance(result, tuple) else (result, {})
        rows = [["parameter", "estimate", "standard error"]]
        for k in _fc.PARAMETER_NAMES[fit.model]:
            rows.append([k, float(fit.params[k]), _finite_or_blank(fit.standard_errors[k])])
        rows.append(["log-likelihood", float(fit.log_likelihood), ""])
        rows.append(["customers", float(fit.customers), ""])
        rows.extend([label, _finite_or_blank(value), ""] for label, value in extra.items())
        return rows


def _finite_or_blank(v):
    return float(v) if math.isfinite(v) else ""


class Counts:
    """A mapping as a header row of its keys (upper case) over a row of its values."""

    def cells(self, counts):
        return [[k.upper() for k in counts], list(counts.values())]
