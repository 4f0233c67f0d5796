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
:class:`BaseRetention` 4 retention rates, a blank (or 0) for a type's own
=================  ======================================================================

Rules between arguments (``checks=``), checked before the body runs: :class:`Rows` (one row
per customer, alike), :class:`SameRows` (the columns of a log), :class:`OnePerRow` (one value
per row of a table), :class:`GridSize`, :class:`TraitTables`. Sizes are bounded and the bound
is told: :data:`MAX_PERIODS`, :data:`MAX_CUSTOMER_PERIODS`, :data:`MAX_GRID_CELLS`.

Result kinds (``returns=``): :class:`Spilled` (a pandas table with its header row),
:class:`WhatIfTable`, :class:`LeverGrid`, :class:`FitTable`, :class:`Counts`; without one, the
result is written as rows of cells by :func:`customer_equity.excel.cells.write`. A result
that is not finite is refused naming the input that made it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
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

__all__ = ["CATEGORY", "MAX_PERIODS", "MAX_CUSTOMER_PERIODS", "MAX_GRID_CELLS", "runtime",
           "excel_function", "Rows", "SameRows", "GridSize", "OnePerRow", "TraitTables", "Kind", "Block",
           "Periods", "Timing", "Text", "Single", "Number", "Numbers", "List", "Column", "Flags", "Ids", "Dates", "Date", "Amounts",
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


#: The most periods a periods or horizon argument may hold: beyond, a retention time or a
#: forecast is no longer an answer anyone reads (10,000 periods: 833 years of months, 192 years
#: of weeks, 27 years of days), and the per-period tables behind it no longer fit in memory.
MAX_PERIODS = 10_000
#: The most customer-periods a customer table may hold (its rows times its longest retention):
#: the what-if and the retention watch hold per-period blocks of that size (80 MB each).
MAX_CUSTOMER_PERIODS = 10_000_000
#: The most cells of a what-if grid (rows x columns of lever values): each is a what-if.
MAX_GRID_CELLS = 100
#: A number this large (in absolute value) is named first when a result overflows.
_HUGE = 1e100


def excel_function(*, returns=None, checks=(), aliases=None, **kinds):
    """The one decorator of a CE_ function: xlwings' ``func``, ``ret`` and one ``arg`` per
    parameter (raw values, with its kind's help text), around the reading of each argument.

    Parameters
    ----------
    returns : result kind, optional
        How the body's result becomes cells (:class:`Spilled`, :class:`LeverGrid`, ...);
        default :func:`customer_equity.excel.cells.write`.
    checks : sequence of callables
        Rules between arguments (:class:`Rows`, :class:`SameRows`, :class:`GridSize`,
        :class:`TraitTables`), each called with the read arguments (a dict) before the body.
    aliases : dict or callable, optional
        What the core calls an argument of this function (``{"bgnbd": "params"}``), or a
        tuple of the arguments an overflow it reports may come from; a callable gets the read
        arguments and returns the dict.
    **kinds : Kind
        One per parameter of the function, in any order.

    Every refusal starts with an argument's name as the wizard shows it: the kinds and
    checks name their own; an error of the core is renamed by ``aliases``, pointed at the
    column and row of a table argument it concerns (the header is row 1), and a result that
    overflows names the input that made it (:func:`_overflow`).

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
                    values = {name: kind(cells.read(a, where, name), name)
                              for (name, kind), a in zip(read, args)}
                    for check in checks:
                        check(values)
                    try:
                        return shape(f(**values))
                    except CustomerEquityError as err:
                        known = aliases(values) if callable(aliases) else aliases or {}
                        raise _named(err, kinds, values, known) from None
                    except (OverflowError, FloatingPointError):
                        raise _overflow(kinds, values, names) from None
            except CustomerEquityError as err:
                return _error_result(f.__name__, err, where)

        for name in reversed(names):
            wrapper = xw.arg(name, "raw", doc=kinds[name].help)(wrapper)
        return xw.func(category=CATEGORY)(xw.ret("raw")(wrapper))

    return decorate


def _argument_of(label, names):
    """The argument a refusal's label starts with (``customers[periods]`` -> customers)."""
    for name in sorted(names, key=len, reverse=True):
        if label == name or label.startswith((f"{name}[", f"{name}:", f"{name} (", f"{name},")):
            return name
    return None


def _named(err, kinds, values, aliases):
    """A refusal of the core in the function's own words (see :func:`excel_function`)."""
    label = err.argument
    own = _argument_of(label, kinds)
    if own is not None:
        if label == own and err.row is not None and isinstance(kinds[own], Table):
            return err.relocated(row_offset=1)  # the core counts customers; the range its header
        return err
    alias = _argument_of(label, aliases)
    target = aliases.get(alias)
    if isinstance(target, str):
        return err.relocated(argument=target + label[len(alias):])
    overflowed = "overflow" in err.rule or (err.has_value and isinstance(err.value, float)
                                            and math.isinf(err.value))
    if isinstance(target, tuple) or label == "result" or overflowed:
        return _overflow(kinds, values, target or list(kinds))
    for name, kind in kinds.items():
        frame = values[name]
        if not (isinstance(kind, Table) and kind.relocate and hasattr(frame, "columns")):
            continue
        if label in frame.columns:
            return err.relocated(argument=f"{name}[{label}]", row_offset=1 if err.row is not None else 0)
        if label in frame.attrs.get("blank_columns", ()):
            return CustomerEquityError(f"{name}[{label}]", "the column is blank in every row, and it "
                                       "is needed here")
        if "column missing" in err.rule:
            return err.relocated(argument=f"{name}[{label}]")
    return err


def _overflow(kinds, values, candidates):
    """The refusal of a result that overflows, naming the input that made it: the largest
    number among the candidates when it is huge, else a rate near -1 (discounting at -0.9999
    grows without bound), else the largest number."""
    found = [m for name in candidates if values.get(name) is not None
             for m in kinds[name].magnitudes(name, values[name])]
    if not found:
        return CustomerEquityError(next(iter(candidates)), "the result overflows (too large to compute)")
    label, size, where, shown = max(found, key=lambda m: m[1])
    if size < _HUGE:
        rates = [m for m in found if _argument_of(m[0], ["rate"]) and isinstance(m[3], float)
                 and m[3] <= -0.5]
        if rates:
            label, size, where, shown = min(rates, key=lambda m: m[3])
            return CustomerEquityError(label, "discounting at this rate overflows over these periods "
                                       "(too large to compute): give a rate further from -1 or fewer "
                                       "periods", value=shown, **where)
    return CustomerEquityError(label, "the result overflows (too large to compute) with this value "
                               "among the inputs: give the amounts in a larger unit (thousands, "
                               "millions)", value=shown, **where)


def _numbers(x):
    """The numbers among cells (a scalar, a list or an array), NaN elsewhere, and the shape."""
    arr = np.asarray(x, dtype=object)
    flat = np.array([float(v) if isinstance(v, (int, float, np.integer, np.floating))
                     and not isinstance(v, (bool, np.bool_)) else np.nan for v in arr.ravel()],
                    dtype=np.float64)
    return flat, arr.shape


# --- rules between arguments --------------------------------------------------------------


def _rows(x):
    arr = np.asarray(x, dtype=object) if not isinstance(x, np.ndarray) else x
    return 1 if arr.ndim == 0 else int(arr.shape[0])


class Rows:
    """Arguments per customer: each one value or one row per customer, as many rows as the
    first argument with several (a check before the core multiplies them)."""

    def __init__(self, *names):
        self.names = names

    def __call__(self, values):
        first = n = None
        for name in self.names:
            if values.get(name) is None:
                continue
            rows = _rows(values[name])
            if rows == 1:
                continue
            if n is None:
                first, n = name, rows
            elif rows != n:
                raise CustomerEquityError(name, f"has {rows} rows, which do not match {first} ({n} rows)")


class SameRows:
    """Columns that must have as many rows as the first of them (the columns of a log)."""

    def __init__(self, *names):
        self.names = names

    def __call__(self, values):
        first, n = self.names[0], np.size(values[self.names[0]])
        for name in self.names[1:]:
            size = np.size(values[name])
            if size != n:
                raise CustomerEquityError(name, f"has {size} rows where {first} has {n}: give "
                                          f"{', '.join(self.names)} over the same rows")


class GridSize:
    """A grid of two lists of values: at most :data:`MAX_GRID_CELLS` cells."""

    def __init__(self, rows, columns):
        self.rows, self.columns = rows, columns

    def __call__(self, values):
        r, c = len(values[self.rows]), len(values[self.columns])
        if r * c > MAX_GRID_CELLS:
            raise CustomerEquityError(self.columns if c > r else self.rows,
                                      f"a grid of at most {MAX_GRID_CELLS} cells (each is a what-if), "
                                      f"got {r} x {c}: give fewer values")


class OnePerRow:
    """Arguments given per customer of a table argument: as many values as its rows."""

    def __init__(self, table, *names):
        self.table, self.names = table, names

    def __call__(self, values):
        n = len(values[self.table])
        for name in self.names:
            v = values[name]
            size = None if v is None else len(v) if isinstance(v, list) else 1
            if size is not None and size != n:
                raise CustomerEquityError(name, f"needs one value per customer of {self.table} ({n}), "
                                          f"got {size}")


class TraitTables:
    """Tables of traits (the prospects, the current customers): each has every trait used,
    and each trait cell reads as a number or a category, checked table by table so that a
    refusal names its table, column and row."""

    def __init__(self, *tables, traits="traits"):
        self.tables, self.traits = tables, traits

    def __call__(self, values):
        from ..model.prospects import ID_COLUMNS

        first = values[self.tables[-1]]  # the current customers: the traits are theirs
        names = values[self.traits] or [c for c in first.columns if c not in ID_COLUMNS]
        categories = None
        for table in reversed(self.tables):
            frame = values[table]
            missing = [t for t in names if t not in frame.columns]
            if missing and table == self.tables[-1]:  # the traits named are the customers' columns
                raise CustomerEquityError(self.traits, f"no such column in {table}", value=missing[0])
            if missing:
                raise CustomerEquityError(table, "has no column for the trait", value=missing[0])
            with _in_table(table, frame):
                _, _, used = core.encode_traits(frame[names], categories)
            categories = categories if categories is not None else used


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

    def magnitudes(self, name, value):
        """``(label, |largest number|, position, number)`` of the numbers the argument holds,
        for naming the input of a result that overflows."""
        flat, shape = _numbers(value)
        if not np.isfinite(flat).any():
            return []
        k = int(np.nanargmax(np.abs(flat)))
        return [(name, float(abs(flat[k])), reading.position(shape, k), float(flat[k]))]

    def __repr__(self):
        return f"{type(self).__name__}({self.help!r})"


class Block(Kind):
    """Numbers as cells (one value, a column, a row or a block), handed to the core, which
    reads each number and names the cell of a wrong one. ``column``: a value once per
    customer, so one value for all or a single column."""

    def __init__(self, help, *, column=False, **kw):
        super().__init__(help, **kw)
        self.column = column

    def __call__(self, x, name):
        if isinstance(self.default, float) and isinstance(x, np.ndarray) and x.size > 1:
            # A range of blank values is a range of zeros, so the answer keeps one row per row
            # of the range; only an omitted argument or one blank cell is the default.
            return self.read(x, name)
        return super().__call__(x, name)

    def read(self, x, name):
        if self.column and isinstance(x, np.ndarray) and x.shape[1] > 1:
            raise CustomerEquityError(name, "one value for all rows, or one per row in a single "
                                      "column", value=f"{x.shape[0]} x {x.shape[1]} cells")
        return x


class Single(Kind):
    """One cell's value (a range of several cells is refused), handed on."""

    def read(self, x, name):
        return cells.single(x, name)


def _at_most_periods(x, name, *, offset=0):
    """Refuse a number of periods above :data:`MAX_PERIODS`, with its position."""
    flat, shape = _numbers(x)
    with np.errstate(invalid="ignore"):
        over = np.flatnonzero(flat > MAX_PERIODS)
    if over.size:
        k = int(over[0])
        where = reading.position(shape, k)
        if offset and "row" in where:
            where["row"] += offset
        raise CustomerEquityError(name, f"at most {MAX_PERIODS:,} periods", value=float(flat[k]),
                                  **where)


class Periods(Kind):
    """A number of periods, one for all or one per row (a single column), at most
    :data:`MAX_PERIODS`; the core checks each is a whole number >= 0. Optional: a blank is
    the core's default (None); required: a blank is refused rather than read as a number.
    ``single``: one cell only (a forecast's horizon)."""

    def __init__(self, help, *, optional=False, single=False):
        super().__init__(help, default=None if optional else _REQUIRED)
        self.single = single

    def read(self, x, name):
        if cells.is_blank(x):
            raise CustomerEquityError(name, "a number of periods is required, the cell is blank",
                                      value="")
        if self.single:
            x = cells.single(x, name)
        elif isinstance(x, np.ndarray) and x.shape[1] > 1:
            raise CustomerEquityError(name, "one number of periods for all rows, or one per row in "
                                      "a single column", value=f"{x.shape[0]} x {x.shape[1]} cells")
        _at_most_periods(x, name)
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


class _ListOf(Kind):
    """A kind read as a flat list: a row or a column alike, so a position within it is not
    the range's; an overflow names the argument and the value."""

    def magnitudes(self, name, value):
        return [(label, size, {}, shown) for label, size, _, shown in super().magnitudes(name, value)]


class Numbers(_ListOf):
    """A row or a column of numbers as a list (one cell: a list of one)."""

    def read(self, x, name):
        values = cells.as_list(x) if isinstance(x, np.ndarray) else [x]
        bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, float))]
        if bad:
            raise CustomerEquityError(name, "expected numbers", value=bad[0])
        return values


class List(_ListOf):
    """A row or a column of numbers (weights, cut-offs) as a flat list; a cell that is no
    number is refused here, where its row and column in the range are known."""

    def read(self, x, name):
        validate.as_float(x, name)
        return cells.as_list(x)


class Column(Kind):
    """One column (or one row, or one cell) of values, one per customer, as a 1-D array."""

    def read(self, x, name):
        return cells.column(x, name)


def _shows_error(v):
    """The Excel error a cell shows: an error value, or (on COM, where a UDF's error reaches
    a cell as text) a CE_ function's refusal "#VALUE! CE_...: ..."; None otherwise."""
    if not isinstance(v, str):
        return None
    code = v.strip().split(" ", 1)[0]
    return code if reading.excel_error(code) and (code == v.strip() or v.strip()[len(code):].startswith(" CE_")) \
        else None


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
            if _shows_error(v):
                raise CustomerEquityError(name, f"the cell holds the Excel error {_shows_error(v)}",
                                          row=k + 1)
            if isinstance(v, (bool, np.bool_)):
                raise CustomerEquityError(name, "a customer id is a number or text, not TRUE/FALSE",
                                          row=k + 1, value=v)
            if isinstance(v, (dt.date, dt.time)):  # from Python: the Excel door makes a date its serial
                raise CustomerEquityError(name, "a customer id is a number or text, not a date",
                                          row=k + 1, value=v)
            if isinstance(v, (float, np.floating)) and float(v).is_integer() and abs(v) < 2**53:
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
    columns points at the range: ``customers[periods], row 5`` (the header is row 1).
    ``periods``: a customer table, whose retention times (a ``periods`` column) are at most
    :data:`MAX_PERIODS` and, times its rows, at most :data:`MAX_CUSTOMER_PERIODS`."""

    def __init__(self, help, *, relocate=True, periods=False):
        super().__init__(help)
        self.relocate, self.periods = relocate, periods

    def read(self, x, name):
        header = np.asarray(x, dtype=object)
        if header.ndim == 2:
            for k, h in enumerate(header[0]):
                if _shows_error(h):
                    raise CustomerEquityError(name, "the header row needs a name in every column, "
                                              f"not the Excel error {_shows_error(h)}", row=1,
                                              column=k + 1)
        frame = reading.table(x, name, known=core.INPUT_COLUMNS)
        for col in frame.columns:
            values = frame[col].to_numpy()
            if values.dtype == object:
                shown = [k for k, v in enumerate(values) if _shows_error(v)]
                if shown:
                    raise CustomerEquityError(f"{name}[{col}]", "the cell holds the Excel error "
                                              f"{_shows_error(values[shown[0]])}", row=shown[0] + 2)
        if self.periods and "periods" in frame.columns:
            column = frame["periods"].to_numpy()
            _at_most_periods(column, f"{name}[periods]", offset=1)
            flat, _ = _numbers(column)
            longest = int(np.nanmax(flat, initial=0)) if np.isfinite(flat).any() else 0
            if len(frame) * longest > MAX_CUSTOMER_PERIODS:
                raise CustomerEquityError(f"{name}[periods]", f"{len(frame):,} customers retained up "
                                          f"to {longest:,} periods are more than "
                                          f"{MAX_CUSTOMER_PERIODS:,} customer-periods: shorten the "
                                          "longest retention or split the table")
        return frame

    def magnitudes(self, name, frame):
        out = []
        for col in frame.columns:
            values = frame[col].to_numpy()
            if values.dtype.kind != "f" or not np.isfinite(values).any():
                continue
            k = int(np.nanargmax(np.abs(values)))
            out.append((f"{name}[{col}]", float(abs(values[k])), {"row": k + 2}, float(values[k])))
        return out


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

    def magnitudes(self, name, config):
        out = []
        for field in ("rate", "iv", "transaction_income", "cutoffs", "tier_cutoffs"):
            out += [(f"{name}: {field}", size, {}, shown)
                    for _, size, _, shown in Kind.magnitudes(self, name, getattr(config, field, None))]
        weights = getattr(config, "weights", None) or {}
        out += [(f"{name}: weights.{k}", size, {}, shown) for k, w in weights.items()
                for _, size, _, shown in Kind.magnitudes(self, name, w)]
        return out


class Lever(_ListOf):
    """An optional lever: None when blank, a number, or a list (per type, per period).
    ``per_type``: one value for all types, or 4; ``periods``: numbers of periods (an age),
    each at most :data:`MAX_PERIODS`."""

    def __init__(self, help, *, per_type=False, periods=False):
        super().__init__(help, default=None)
        self.per_type, self.periods = per_type, periods

    def read(self, x, name):
        if self.periods:
            _at_most_periods(x, name)
        if not isinstance(x, np.ndarray):
            return x
        flat = cells.as_list(x)
        if len(flat) == 1:
            return flat[0]
        if self.per_type and len(flat) != 4:
            raise CustomerEquityError(name, "one value for all types, or 4 (Lighthouse, Follower, "
                                      f"Rational, Profit-seeking), got {len(flat)}")
        return flat


class BaseRetention(_ListOf):
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
        names = [v.strip() for v in names]
        twice = [v for k, v in enumerate(names) if v in names[:k]]
        if twice:
            raise CustomerEquityError(name, "each trait only once", value=twice[0])
        return names


class Weights(Kind):
    """Trait weights: a row (one per trait) or two columns trait | weight (a mapping)."""

    def __init__(self, help):
        super().__init__(help, default=None)

    def read(self, x, name):
        arr = np.asarray(x, dtype=object)
        if arr.ndim == 2 and arr.shape[1] == 2 and all(isinstance(v, str) for v in arr[:, 0]):
            skip = 1 if cells.header_key(arr[0, 0]) == "trait" else 0  # CE_PROSPECT_WEIGHTS' header
            try:
                weights = validate.as_float(arr[skip:, 1:], name, blank_ok=False)
            except CustomerEquityError as err:
                raise err.relocated(row_offset=skip, column=2) from None  # the weight column
            return {k.strip(): float(w) for k, w in zip(arr[skip:, 0], weights[:, 0])}
        validate.as_float(x, name, blank_ok=False)
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
        arr = validate.check_range(validate.check_finite(arr, name), name, low=0)
        validate.check_range(arr, name, high=MAX_PERIODS, rule=f"at most {MAX_PERIODS:,} periods")
        return arr


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
        estimates = [float(fit.params[k]) for k in _fc.PARAMETER_NAMES[fit.model]]
        if not np.isfinite(estimates + [float(fit.log_likelihood)]).all():
            raise CustomerEquityError(fit.model, "the fit gives no finite estimate or likelihood: the "
                                      "data cannot identify the model")
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
