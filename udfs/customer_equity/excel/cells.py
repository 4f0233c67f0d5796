"""The one place where cell values are read and written.

What the two xlwings runtimes hand over, cell by cell, and what this module makes of it:

=======================  ===========================  ===========================  ==================
cell                     COM (pywin32)                Office.js                    read as
=======================  ===========================  ===========================  ==================
blank                    ``None``                     ``0`` or ``None``            blank (``None``)
number                   ``float``                    ``int``/``float``            the number (float)
TRUE/FALSE               ``bool``                     ``bool``                     the boolean
text                     ``str``                      ``str``                      the text (a cell of
                                                                                   spaces is text)
error value (#N/A)       ``int`` (HRESULT)            ``{"type": "Error", ...}``   ``"#N/A"``
Currency-formatted       ``decimal.Decimal``          ``float``                    ``float``
date-formatted           ``datetime``                 its serial number            its serial number
=======================  ===========================  ===========================  ==================

Office.js cannot tell a date-formatted cell from a number (Excel passes the serial
number, without its format), so a COM date is read as its serial number too
(:func:`customer_equity.reading.excel_serial`): a date where a number belongs is that
number on both paths, as Excel's own ``=A1+1`` reads it, and a date argument reads a serial
as its date. Nor can Office.js tell a blank cell from a 0 when the runtime sends 0: that
difference between the runtimes is Excel's, not ours. Flags (TRUE/FALSE, 1/0,
yes/no, x/blank) are read with the one vocabulary of :mod:`customer_equity.reading`.

Results go back as rows of plain cells: numbers as ``float``, labels as ``str``,
flags as ``bool``. A result that is not a finite number (an overflow to infinity, or
NaN from infinity times zero) is refused with a message rather than written as a
blank or an ``inf`` that Office.js cannot even encode.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re

import numpy as np

from ..errors import CustomerEquityError
from .. import reading
from ..reading import COM_ERRORS, EXCEL_ERRORS, excel_serial, flag_array

__all__ = ["LEVER_WORDS", "header_key", "lever_key", "words", "COM_ERRORS", "EXCEL_ERRORS", "read",
           "is_blank", "blank_or_zero", "single", "text_or_none", "as_list", "column", "flags",
           "settings", "write", "table", "lever_grid"]

_PLAIN = {float, str, bool, type(None)}


def _cell(v, runtime):
    if isinstance(v, dict) and v.get("type") == "Error":  # Office.js error cell
        return str(v.get("basicValue", "#VALUE!"))
    if type(v) is int:
        # COM: an error cell's HRESULT (numbers arrive as float); Office.js: a number that
        # JSON made an int. Either way a number is a float, whichever runtime passed it.
        return COM_ERRORS.get(v, "#VALUE!") if runtime == "com" else float(v)
    if isinstance(v, decimal.Decimal):  # COM: a Currency-formatted cell
        return float(v)
    if isinstance(v, (dt.date, dt.time)):  # COM: a date cell (pywintypes.datetime)
        return excel_serial(v)
    return v


def read(x, runtime="python", name="argument"):
    """A raw argument as the core reads it.

    A scalar stays a scalar, a range becomes a 2-D object array; error cells become
    their text ("#N/A"), Currency cells floats. Rows of different lengths (which no
    worksheet range has, but a hand-made call may) are refused.

    Examples
    --------
    >>> read([[1.0, None], ["a", True]]).tolist()
    [[1.0, None], ['a', True]]
    >>> read(-2146826246, "com")
    '#N/A'
    """
    if not isinstance(x, (list, tuple)):
        return _cell(x, runtime)
    arr = np.array(x, dtype=object)
    if arr.ndim == 1 and arr.size and isinstance(x[0], (list, tuple)):
        raise CustomerEquityError(name, "rows of different lengths: give a rectangular range")
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)  # one row given as a flat list
    if arr.ndim != 2 or arr.size == 0:
        raise CustomerEquityError(name, "give a rectangular range of cells")
    if set(map(type, arr.ravel())) - _PLAIN:
        flat = arr.reshape(-1)
        for k, v in enumerate(flat):
            flat[k] = _cell(v, runtime)
    return arr


def is_blank(x):
    """An omitted optional argument (None), or a blank referenced cell or range (the blank of
    :func:`customer_equity.reading.is_blank`, cell by cell)."""
    if isinstance(x, np.ndarray):
        return all(map(reading.is_blank, x.ravel()))
    return reading.is_blank(x)


def blank_or_zero(x):
    """A blank cell as either runtime may send it: also a 0, where text belongs (a name, a
    type) or where a 0 means nothing (an empty row), since Office.js may send a blank as 0."""
    return is_blank(x) or (type(x) in (int, float) and x == 0)


def single(x, name):
    """One cell's value; a range of several cells is refused."""
    if isinstance(x, np.ndarray):
        if x.size != 1:
            raise CustomerEquityError(name, "must be a single cell")
        return x.reshape(-1)[0]
    return x


def text_or_none(x, name):
    """A single setting cell (e.g. timing); None when blank."""
    x = single(x, name)
    return None if x is None or x == "" else x


def as_list(x):
    """A row or column of settings (weights, cut-offs) as a flat list."""
    return np.asarray(x, dtype=object).reshape(-1).tolist()


def column(x, name):
    """Per-customer labels (types, stages): one column, one row or one cell."""
    arr = np.asarray(x, dtype=object)
    if arr.ndim == 0:
        return arr.reshape(1)
    if arr.ndim == 2 and arr.shape[1] == 1:
        return arr[:, 0]
    if arr.ndim == 2 and arr.shape[0] == 1:
        return arr[0, :]
    raise CustomerEquityError(name, "must be one column (one cell per customer)")


def flags(x, name, other=None):
    """TRUE/FALSE cells (the one vocabulary) as a boolean array of the range's shape."""
    arr = np.asarray(x, dtype=object)
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    return flag_array(arr, name, other=other)


def settings(x, name="config"):
    """A 2-column range of setting name and value as a
    :class:`~customer_equity.model.config.MeasureConfig`; blank: the defaults.

    A blank name continues the list setting above it (``cutoffs``: one value a row). A
    name is text, so a 0 in the name column is read as blank, and a row with no name and a
    value that is blank or 0 as an empty row: Office.js may send a blank cell as 0.

    >>> settings([["rate", 0.08], ["timing", "b"], ["cutoffs", 5], [None, 3], [None, 1]]).cutoffs
    (5, 3, 1)
    """
    from ..model.config import MeasureConfig

    if not isinstance(x, list) and is_blank(x):
        return MeasureConfig()
    arr = np.asarray(x, dtype=object)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise CustomerEquityError(name, "needs two columns: the setting's name and its value")
    data, weights, last = {}, {}, None
    for r, (key, value) in enumerate(arr.tolist(), start=1):
        if blank_or_zero(key):
            if blank_or_zero(value):
                continue
            if last is None or last.startswith("weights."):
                raise CustomerEquityError(name, "a value without a setting name", row=r, value=value)
            data[last] = (data[last] if isinstance(data[last], list) else [data[last]]) + [value]
            continue
        if not isinstance(key, str):
            raise CustomerEquityError(name, "a setting name must be text", row=r, column=1, value=key)
        key = key.strip()
        if key.lower().startswith("weights."):
            weights[key[len("weights."):]] = value
        else:
            data[key] = None if is_blank(value) else value
        last = key
    if weights:
        data["weights"] = weights
    for key in ("cutoffs", "tier_cutoffs"):
        if key in data and data[key] is not None and not isinstance(data[key], list):
            data[key] = [data[key]]
    data = {k: v for k, v in data.items() if v is not None}
    return MeasureConfig.from_dict(data, source=name)


def _where(shape, flat):
    if int(np.prod(shape)) <= 1:
        return {}
    r, c = np.unravel_index(flat, shape)
    return {"row": int(r) + 1, "column": int(c) + 1}


def write(result):
    """Any result as rows of plain Python cells, refusing a number that is not finite.

    Examples
    --------
    >>> write(np.array([1.5, 2.0]))
    [[1.5], [2.0]]
    >>> write(np.float64("inf"))
    Traceback (most recent call last):
    ...
    customer_equity.errors.CustomerEquityError: result: the value overflows (too large to compute); check the size of the inputs
    """
    if isinstance(result, list) and result and isinstance(result[0], list):
        return result
    arr = np.asarray(result)
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr)
        if bad.any():
            k = int(np.flatnonzero(bad.ravel())[0])
            rule = ("the value overflows (too large to compute); check the size of the inputs"
                    if np.isinf(arr.ravel()[k]) else
                    "the value is undefined (an overflow met a zero); check the size of the inputs")
            raise CustomerEquityError("result", rule, **_where(arr.shape, k))
    return arr.tolist()


#: The value kinds keep their letters when a column name becomes words.
_KIND_WORDS = {"pv": "PV", "ppv": "PPV", "cv": "CV", "kv": "KV", "tv": "TV", "iv": "Iv"}

#: The what-if levers in words, as the template and the grid's corner show them.
LEVER_WORDS = {"retention_change": "Retention change", "rate": "Discount rate",
               "margin_change": "Unit margin change", "share_change": "Share of wallet change",
               "loyalty_change": "Loyalty change", "transaction_income": "Transaction income"}


def words(name):
    """A column name as a header in words, the way every spilled table shows it.

    >>> words("customers_before"), words("value_effect_pv"), words("retention_p_alive"), words("Share")
    ('Customers before', 'Value effect PV', 'Retention P(alive)', 'Share')
    """
    parts = str(name).replace("p_alive", "P(alive)").split("_")
    out = [_KIND_WORDS.get(p.lower(), p) for p in parts]
    if out and out[0] == parts[0]:
        out[0] = out[0][:1].upper() + out[0][1:]
    return " ".join(out)


def header_key(text):
    """A header as a column name: words and the column names of earlier versions read alike.

    >>> header_key("Customers before"), header_key("customer_share"), header_key(" Retention P(alive) ")
    ('customers_before', 'customer_share', 'retention_p_alive')
    """
    return re.sub(r"\s+", "_", str(text).strip()).lower().replace("p(alive)", "p_alive")


def lever_key(text):
    """A what-if lever named in words or by its name: ``"Discount rate"`` and ``"rate"`` are ``"rate"``.

    >>> lever_key("Discount rate"), lever_key("retention_change"), lever_key("Unit margin change")
    ('rate', 'retention_change', 'margin_change')
    """
    key = header_key(text)
    spelled = {header_key(w): name for name, w in LEVER_WORDS.items()}
    return spelled.get(key, key)


def table(frame, first_header=None, *, words_header=False):
    """A pandas table with its header row (and index column) as rows of cells.

    ``first_header`` heads the index column; without it the index is left out. Numbers
    are ``float``, as everywhere a cell is written. An undefined entry (the average of a
    type without customers, a share of a total of 0) is an empty cell: it is no number,
    and the table says so by leaving it out. Any other non-finite number is refused as in
    :func:`write`. ``words_header`` shows the headers in words (:func:`words`:
    "Customers before"), as a report does; a function that reads such a table back takes
    the words and the column names alike (:func:`header_key`).

    >>> import pandas as pd
    >>> table(pd.DataFrame({"customers_after": [3]}, index=["Rational"]), "type", words_header=True)
    [['Type', 'Customers after'], ['Rational', 3.0]]
    """
    header = ([first_header] if first_header else []) + [str(c) for c in frame.columns]
    if words_header:
        header = [words(h) for h in header]
    body = []
    for idx, row in zip(frame.index, frame.itertuples(index=False)):
        cells = [str(idx)] if first_header else []
        for v in np.asarray(row, dtype=object).tolist():
            v = v.item() if isinstance(v, np.generic) else v
            if isinstance(v, float) and math.isnan(v):
                v = ""
            elif isinstance(v, float) and math.isinf(v):
                write(np.array([v]))
            elif isinstance(v, int) and not isinstance(v, bool):
                v = float(v)
            cells.append(v)
        body.append(cells)
    return [header] + body


def lever_grid(frame):
    """A table over two levers (:func:`customer_equity.what_if_grid`) as cells: the corner
    names both levers in words ("Discount rate \\ Retention change") and their values, in
    the header row and the first column, are numbers.

    >>> import pandas as pd
    >>> g = pd.DataFrame([[1.0, 2.0]], index=pd.Index([0.1], name="rate"),
    ...                  columns=pd.Index([0, 0.05], name="retention_change"))
    >>> lever_grid(g)
    [['Discount rate \\\\ Retention change', 0.0, 0.05], [0.1, 1.0, 2.0]]
    """
    name = {k: LEVER_WORDS.get(k, words(k)) for k in (frame.index.name, frame.columns.name)}
    out = table(frame, f"{name[frame.index.name]} \\ {name[frame.columns.name]}")
    out[0][1:] = [float(v) for v in frame.columns]
    for row, value in zip(out[1:], frame.index):
        row[0] = float(value)
    return out
