"""Turning user input into float arrays, and the range rules, with positions in messages.

Positions are 1-based: for a 2-D argument ``row, column`` (customer, period); for a
1-D argument the item number is reported as a row (a column of customers is the
common 1-D case in a worksheet); a scalar has no position.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import numbers

import numpy as np

from ..errors import CustomerEquityError
from ..reading import distinct_codes, not_a_number, timing_code  # noqa: F401 - timing_code: the core's
from ..reading import position as _where


def per_row(x):
    """A per-customer amount given as a column, shape ``(N, 1)``, as shape ``(N,)``."""
    if x.ndim >= 2 and x.shape[-1] == 1:
        return x[..., 0]
    return x


def _fail(name, rule, arr, mask, value=None):
    flat = int(np.flatnonzero(mask.ravel())[0]) if np.ndim(mask) else 0
    shown = arr.ravel()[flat] if np.ndim(arr) else arr
    if value is not None:
        shown = value
    if isinstance(shown, np.generic):
        shown = shown.item()
    raise CustomerEquityError(name, rule, value=shown, **_where(np.shape(arr), flat))


def as_float(x, name, *, blank_ok=True):
    """``x`` as a float64 array; blanks (None, "", NaN) become NaN.

    Text, booleans and non-finite numbers are refused with their position.
    """
    if hasattr(x, "to_numpy") and not isinstance(x, np.ndarray):
        x = _pandas_to_numpy(x)
    arr = x if isinstance(x, np.ndarray) else _from_python(x)
    kind = arr.dtype.kind
    if kind == "f":
        out = arr.astype(np.float64, copy=False)
    elif kind in "iu":
        out = arr.astype(np.float64)
    elif kind == "b":
        _fail(name, "expected a number, got a TRUE/FALSE value", arr, arr == arr)
    elif kind == "O":
        out = _object_float(arr, name)
    else:
        out = _slow_float(arr, name)
    if not blank_ok:
        nan = np.isnan(out)
        if nan.any():
            _fail(name, "a value is required here, the cell is blank", out, nan, value="")
    return out


def _from_python(x):
    """Lists of cell values: numpy would turn [3, "x"] into text and [3, True] into 3."""
    if not isinstance(x, (list, tuple)):
        return np.asarray(x)
    return np.array(x, dtype=object)


_NUMBERS = {float, int, np.float64}


def _object_float(arr, name):
    """Cells in an object array: one C-speed pass when they are numbers and blanks."""
    kinds = set(map(type, arr.ravel()))
    if kinds <= _NUMBERS:
        return arr.astype(np.float64)
    if kinds <= _NUMBERS | {type(None)}:
        return np.where(np.equal(arr, None), np.nan, arr).astype(np.float64)
    return _slow_float(arr, name)


def _pandas_to_numpy(x):
    try:
        return x.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        return x.to_numpy(dtype=object)


def _slow_float(arr, name):
    out = np.empty(arr.shape, dtype=np.float64)
    flat_in, flat_out = arr.ravel(), out.ravel()
    for k, v in enumerate(flat_in):
        if v is None or (isinstance(v, str) and v == ""):
            flat_out[k] = np.nan  # a cell of spaces is text, not a blank
        elif isinstance(v, (numbers.Real, decimal.Decimal)) and not isinstance(v, (bool, np.bool_)):
            flat_out[k] = float(v)
        elif isinstance(v, (dt.date, dt.time)):
            # the Excel door hands a date over as its serial number; a Python date is a mistake
            raise CustomerEquityError(name, "expected a number, got a date", value=v,
                                      **_where(arr.shape, k))
        elif isinstance(v, (list, tuple)):
            raise CustomerEquityError(name, "rows of different lengths: give a rectangular range")
        else:
            raise not_a_number(v, name, **_where(arr.shape, k))
    return out


def describe_shape(shape):
    """A shape in a worksheet's words: "3 rows", "4 columns", "3 rows and 4 columns"."""
    shape = tuple(shape)
    if len(shape) == 0 or int(np.prod(shape)) == 1:
        return "one value"
    if len(shape) == 1:
        return f"{shape[0]} rows"
    rows, cols = int(np.prod(shape[:-1])), shape[-1]
    if cols == 1:
        return f"{rows} rows"
    if rows == 1:
        return f"{cols} columns"
    return f"{rows} rows and {cols} columns"


def matching(*named):
    """The common shape of ``(name, array_or_shape)`` pairs, or a refusal naming the first
    argument whose rows or columns do not match the ones before it.

    A single value goes with anything; a column goes with a block of as many rows.

    Examples
    --------
    >>> matching(("capacity", np.zeros((3, 1))), ("share", 0.5))
    (3, 1)
    >>> matching(("capacity", np.zeros((3, 1))), ("share", np.zeros((2, 1))))
    Traceback (most recent call last):
    ...
    customer_equity.errors.CustomerEquityError: share: has 2 rows, which do not match capacity (3 rows)
    """
    shapes = [tuple(x) if isinstance(x, tuple) else np.shape(x) for _, x in named]
    try:
        return np.broadcast_shapes(*shapes)  # one call when they match (the usual case)
    except ValueError:
        pass
    shape, seen = (), []
    for name, x in named:
        s = tuple(x) if isinstance(x, tuple) else np.shape(x)
        try:
            shape = np.broadcast_shapes(shape, s)
        except ValueError:
            raise CustomerEquityError(
                name, f"has {describe_shape(s)}, which do not match {', '.join(seen)} "
                f"({describe_shape(shape)})") from None
        if int(np.prod(s)) != 1:
            seen.append(name)
    return shape


def check_finite(arr, name):
    bad = np.isinf(arr)
    if bad.any():
        _fail(name, "must be a finite number", arr, bad)
    return arr


def zero_blanks(arr, name):
    """Refuse inf; blanks (NaN) become 0. One pass when there is nothing to fix."""
    if np.isfinite(arr).all():
        return arr
    check_finite(arr, name)
    return np.where(np.isnan(arr), 0.0, arr)


def _min(arr):
    m = np.min(arr)
    return np.nanmin(arr) if m != m else m


def _max(arr):
    m = np.max(arr)
    return np.nanmax(arr) if m != m else m


def check_range(arr, name, *, low=None, high=None, low_open=False, rule=None):
    """Refuse values outside ``[low, high]`` (``(low, high]`` with ``low_open``); NaN passes."""
    arr_min = _min(arr) if np.size(arr) and (low is not None) else None
    arr_max = _max(arr) if np.size(arr) and (high is not None) else None
    low_ok = low is None or arr_min is None or np.isnan(arr_min) or (
        arr_min > low if low_open else arr_min >= low)
    high_ok = high is None or arr_max is None or np.isnan(arr_max) or arr_max <= high
    if low_ok and high_ok:
        return arr
    with np.errstate(invalid="ignore"):
        bad = np.zeros(np.shape(arr), dtype=bool)
        if low is not None:
            bad |= (arr <= low) if low_open else (arr < low)
        if high is not None:
            bad |= arr > high
    if rule is None:
        lo = "" if low is None else (f"> {low}" if low_open else f">= {low}")
        hi = "" if high is None else f"<= {high}"
        rule = "must be " + " and ".join(p for p in (lo, hi) if p)
    _fail(name, rule, arr, bad)


def rate_array(rate, name="rate"):
    """A per-period discount rate: a number > -1 (a blank is refused)."""
    if type(rate) is float and rate > -1 and rate != math.inf:
        return np.float64(rate)
    r = as_float(rate, name, blank_ok=False)
    check_finite(r, name)
    return check_range(r, name, low=-1, low_open=True, rule="a per-period rate must be > -1")


def share_array(x, name):
    """A share, probability or retention rate in [0, 1]; blanks are 0."""
    a = zero_blanks(as_float(x, name), name)
    return check_range(a, name, low=0, high=1, rule="must lie in [0, 1]")


def money_array(x, name):
    """A money amount (any sign); blanks are 0."""
    return zero_blanks(as_float(x, name), name)


def influence_array(x, name="influence"):
    """A word-of-mouth influence: a share of the people reached, in [-1, 1]; blanks are 0."""
    a = zero_blanks(as_float(x, name), name)
    return check_range(a, name, low=-1, high=1, rule="an influence (a share of the people "
                       "reached) must lie in [-1, 1]")


def nonnegative_array(x, name):
    """A count or amount that cannot be negative; blanks are 0."""
    a = zero_blanks(as_float(x, name), name)
    return check_range(a, name, low=0, rule="must be >= 0")


def periods_array(periods, name="periods", *, allow_infinite=False, blank=None):
    """Whole numbers of periods >= 0; ``inf`` allowed only where a horizon may be open.

    A blank becomes ``blank`` (refused when ``blank`` is None).
    """
    p = as_float(periods, name)
    nan = np.isnan(p)
    if nan.any():
        if blank is None:
            _fail(name, "a number of periods is required, the cell is blank", p, nan, value="")
        p = np.where(nan, blank, p)
    if not allow_infinite:
        check_finite(p, name)
    check_range(p, name, low=0, rule="a number of periods must be >= 0")
    with np.errstate(invalid="ignore"):
        frac = np.isfinite(p) & (p != np.floor(p))
    if frac.any():
        _fail(name, "a number of periods must be a whole number", p, frac)
    return p


def label_codes(labels, name, code_of, unknown_rule, blank_rule):
    """Small integer codes for labels, each distinct label looked up once.

    ``code_of(label)`` gives the code or None for an unknown label, which is refused
    with ``unknown_rule`` at its position; a blank is refused with ``blank_rule``.
    """
    arr = labels if isinstance(labels, np.ndarray) else np.asarray(labels, dtype=object)
    inverse, firsts = distinct_codes(arr)
    flat = arr.ravel()
    code_of_unique = np.empty(len(firsts), dtype=np.int8)
    for u, k in enumerate(firsts):
        label = flat[k]
        code = code_of(label)
        if code is None:
            shown = label.item() if isinstance(label, np.generic) else label
            raise CustomerEquityError(name, unknown_rule, value=shown, **_where(arr.shape, int(k)))
        code_of_unique[u] = code
    if (inverse < 0).any():
        k = int(np.flatnonzero(inverse < 0)[0])
        raise CustomerEquityError(name, blank_rule, value="", **_where(arr.shape, k))
    return code_of_unique[inverse].reshape(arr.shape)
