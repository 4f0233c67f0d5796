"""The one reading vocabulary: how a value typed in a cell or written in a file is read.

Below both doors (the Excel cells of :mod:`customer_equity.excel`, the files of
:mod:`customer_equity.files`) and below the core, which reads its array arguments with it,
so that a value means the same thing wherever it is typed:

============  ===================================================================================
blank         ``None``, an empty text ``""`` or NaN (a missing value in a pandas column); a cell
              of spaces is text, not a blank (:func:`is_blank`)
error value   Excel's error values as text, ``#N/A`` ... (:data:`EXCEL_ERRORS`,
              :func:`excel_error`); the codes a runtime hands over are turned into this text by
              the Excel door
placeholder   text that stands for "no value" in exported files (``n/a``, ``NA``, ``NULL``, ``-``
              ...): never a number, never silently 0 (:data:`PLACEHOLDERS`)
flag          TRUE/FALSE, 1/0, yes/no, x/blank and their Chinese words (:func:`flag_value`,
              :func:`flag_array`)
timing        "end" (0) or "begin" (1) discounting (:func:`timing_code`)
date          a date cell, an Excel serial number, ISO text or a number written YYYYMMDD
              (:func:`date_days`)
header        a column name as a header is matched (:func:`canonical`), a range with its header
              row as a table (:func:`table`)
position      where in an argument a value sits, 1-based (:func:`position`)
============  ===================================================================================
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
import unicodedata

import numpy as np

from .errors import CustomerEquityError

__all__ = ["is_blank", "EXCEL_ERRORS", "excel_error", "PLACEHOLDERS", "TRUE_WORDS", "FALSE_WORDS",
           "FLAG_RULE", "flag_value", "flag_array", "timing_code", "DATE_RULE", "SERIAL_1970",
           "SERIAL_MAX", "YYYYMMDD_MIN", "YYYYMMDD_MAX", "serial_days", "date_days", "canonical",
           "table", "position", "distinct_codes"]


# --- blanks, error values, placeholders -------------------------------------------------

def is_blank(value) -> bool:
    """A blank value: ``None``, an empty text, or NaN. A cell of spaces is text.

    >>> [is_blank(v) for v in (None, "", float("nan"), " ", 0, "n/a")]
    [True, True, True, False, False, False]
    """
    if value is None:
        return True
    if isinstance(value, str):
        return value == ""
    return isinstance(value, float) and math.isnan(value)


#: Excel's error values as text (xlwings hands them over so with ``err_to_str``; the Excel door
#: turns COM's codes and Office.js' error objects into this text).
EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                          "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!",
                          "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#PYTHON!"})


def excel_error(value) -> str | None:
    """The Excel error value a cell holds (``"#N/A"``), or None.

    >>> excel_error(" #N/A "), excel_error("N/A"), excel_error(3.0)
    ('#N/A', None, None)
    """
    if isinstance(value, str) and value.strip() in EXCEL_ERRORS:
        return value.strip()
    return None


#: Text that exports write for "no value" (pandas' and pyarrow's default missing-value words,
#: with the dash that reports use). Read where a value belongs, each is refused with its place:
#: taken as blank it would silently count as 0.
PLACEHOLDERS = frozenset({"#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                          "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a",
                          "nan", "null", "na", "none", "-", "--"})


# --- positions ----------------------------------------------------------------------------

def position(shape, flat_index) -> dict:
    """The 1-based position worth naming: none for a single value, the row alone in a single
    column (or a 1-D argument), row and column in a block.

    >>> position((3, 1), 2), position((2, 3), 4), position((), 0)
    ({'row': 3}, {'row': 2, 'column': 2}, {})
    """
    if len(shape) == 0 or int(np.prod(shape)) == 1:
        return {}
    idx = np.unravel_index(flat_index, shape)
    if len(shape) == 1:
        return {"row": int(idx[0]) + 1}
    if shape[-1] == 1:
        return {"row": int(idx[-2]) + 1}
    return {"row": int(idx[-2]) + 1, "column": int(idx[-1]) + 1}


class _BoolCell:
    """A TRUE/FALSE cell as a key that never equals the number 1/0."""

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return "TRUE" if self.value else "FALSE"


_TRUE_CELL, _FALSE_CELL = _BoolCell(True), _BoolCell(False)


def distinct_codes(values):
    """``(inverse, firsts)``: a code per cell and the flat index of each code's first cell.

    Equal cells share a code, but TRUE is never the same cell as 1 (nor FALSE as 0,
    nor 1 as "1"), unlike ``pandas.factorize`` on its own: each distinct label is then
    looked up once, which keeps a million labelled cells fast. Blanks (None, NaN) get -1.

    >>> inverse, firsts = distinct_codes(np.array([True, 1, "a", True, None], dtype=object))
    >>> inverse.tolist(), firsts.tolist()
    ([0, 1, 2, 0, -1], [0, 1, 2])
    """
    import pandas as pd

    flat = values.ravel()
    if flat.dtype == object and flat.size and set(map(type, flat)) & {bool, np.bool_}:
        is_bool = np.fromiter((type(x) is bool or type(x) is np.bool_ for x in flat), bool, flat.size)
        truth = np.fromiter((bool(x) if b else False for x, b in zip(flat, is_bool)), bool, flat.size)
        tagged = flat.copy()
        tagged[is_bool & truth] = _TRUE_CELL
        tagged[is_bool & ~truth] = _FALSE_CELL
        flat = tagged
    inverse, uniques = pd.factorize(pd.Series(flat, dtype=object) if flat.dtype == object else flat,
                                    use_na_sentinel=True)
    firsts = np.full(len(uniques), -1, dtype=np.int64)
    seen = inverse >= 0
    order = np.flatnonzero(seen)[::-1]
    firsts[inverse[order]] = order  # the last write for a code is its first cell
    return inverse, firsts


# --- flags --------------------------------------------------------------------------------

TRUE_WORDS = frozenset({"true", "yes", "y", "x", "1", "1.0", "是", "有", "对", "對", "真", "✓", "√"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "0.0", "否", "无", "無", "错", "錯", "假"})

_NUMERIC_CELLS = {bool, np.bool_, float, int, np.float64, type(None)}

#: The rule a refused flag cell is told.
FLAG_RULE = "must be TRUE/FALSE, 1/0, yes/no or x/blank"


def flag_value(v):
    """1.0 for a TRUE cell, 0.0 for a FALSE one, NaN for a blank, None for anything else.

    TRUE: ``TRUE``, ``1``, ``yes``/``y``, ``x``, ``是``/``有``/``对``/``對``/``真``, ``✓``/``√``;
    FALSE: ``FALSE``, ``0``, ``no``/``n``, a blank cell, ``否``/``无``/``無``/``错``/``錯``/``假``.
    Words in any case, with surrounding spaces. Anything else (2, 0.5, a cell of spaces,
    "maybe", an Excel error) is None: the caller refuses it with its position.

    Examples
    --------
    >>> [flag_value(v) for v in (True, 1, "Yes", " x ", "否", 0.0, "no")]
    [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    >>> flag_value(None), flag_value(""), flag_value(2), flag_value("   "), flag_value("maybe")
    (nan, nan, None, None, None)
    """
    if v is None:
        return math.nan
    if isinstance(v, (bool, np.bool_)):
        return float(v)
    if isinstance(v, numbers.Real):
        f = float(v)
        if math.isnan(f):
            return math.nan  # a missing value in a pandas column
        return f if f in (0.0, 1.0) else None
    if isinstance(v, str):
        if v == "":
            return math.nan
        key = unicodedata.normalize("NFKC", v).strip().lower()
        if key in TRUE_WORDS:
            return 1.0
        if key in FALSE_WORDS:
            return 0.0
    return None


def flag_array(values, name, *, other=None):
    """TRUE/FALSE cells as a boolean array (a blank is FALSE), each distinct cell looked up once.

    Parameters
    ----------
    values : array_like
        Cells: booleans, 1/0, words of the vocabulary, blanks.
    name : str
        The argument or column, for the message.
    other : callable, optional
        ``other(value)`` gives True/False for a value outside the vocabulary (e.g. a
        customer type standing for "carries transaction value"), or None to refuse it.

    Examples
    --------
    >>> flag_array([True, 1, "yes", None, "0", "FALSE"], "tv_carrier").tolist()
    [True, True, True, False, False, False]
    """
    arr = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    if arr.dtype.kind == "b":
        return arr
    if arr.dtype == object and arr.size:
        kinds = set(map(type, arr.ravel()))
        if kinds <= {bool, np.bool_}:
            return arr.astype(bool)
        if kinds <= _NUMERIC_CELLS:  # TRUE/FALSE, 1/0 and blanks: one C-speed pass
            arr = np.where(np.equal(arr, None), np.nan, arr).astype(np.float64)
    if arr.dtype.kind in "iuf":
        with np.errstate(invalid="ignore"):
            ok = np.isnan(arr) | (arr == 0) | (arr == 1) if arr.dtype.kind == "f" else (arr == 0) | (arr == 1)
        if ok.all():
            return arr == 1
        arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    inverse, firsts = distinct_codes(arr)
    flat = arr.ravel()
    lookup = np.empty(len(firsts), dtype=bool)
    for u, k in enumerate(firsts):
        cell = flat[k]
        f = flag_value(cell)
        if f is None and other is not None and not isinstance(cell, (bool, np.bool_)):
            f = other(cell)
            f = None if f is None else float(f)
        if f is None:
            shown = cell.item() if isinstance(cell, np.generic) else cell
            error = excel_error(shown)
            if error:
                raise CustomerEquityError(name, f"the cell holds the Excel error {error}",
                                          **position(arr.shape, k))
            raise CustomerEquityError(name, FLAG_RULE, value=shown, **position(arr.shape, k))
        lookup[u] = f == 1.0  # NaN (a blank read as NaN) is FALSE
    out = np.zeros(flat.shape, dtype=bool)
    seen = inverse >= 0
    out[seen] = lookup[inverse[seen]]
    return out.reshape(arr.shape)


# --- timing -------------------------------------------------------------------------------

def timing_code(timing, name="timing"):
    """0 for end-of-period discounting (Excel NPV), 1 for beginning of period.

    Accepts "end"/"begin" (any case, also "e"/"b", "start", "beginning"), 0/1, or a blank (end).

    >>> timing_code("Begin"), timing_code(None), timing_code(0)
    (1, 0, 0)
    """
    if timing is None or (isinstance(timing, str) and timing.strip() == ""):
        return 0
    if isinstance(timing, str):
        key = timing.strip().lower()
        if key in ("end", "e", "0"):
            return 0
        if key in ("begin", "beginning", "start", "b", "1"):
            return 1
    elif isinstance(timing, numbers.Real) and not isinstance(timing, bool):
        if not math.isnan(timing) and timing in (0, 1):
            return int(timing)
    raise CustomerEquityError(name, 'must be "end" (or 0) or "begin" (or 1)', value=timing)


# --- dates --------------------------------------------------------------------------------
#
# Windows Excel (COM) hands a date-formatted cell over as a datetime and an unformatted one as
# its serial number (a float); Office.js always sends the serial number; files hold text,
# datetimes or numbers. Readings chosen:
#   * a number from 1 to 2958465 is an Excel serial date (1900 date system; the fraction, a time
#     of day, is dropped; serials below 61 follow Excel's 1900 leap-year bug, so 60 is refused
#     as 29 February 1900, a day that never was);
#   * a whole number YYYYMMDD_MIN..YYYYMMDD_MAX is a date written YYYYMMDD (as the CDNOW file and
#     many exports write it) -- it cannot be a serial, which stops at 2958465;
#   * text must be an ISO date (1997-01-31, 1997/01/31, 19970131, optionally with a time); any
#     other text ("31/01/1997", "soon") is refused, because a day/month order cannot be guessed.

#: Excel's serial number of 1970-01-01 (1900 date system): days since 1970 = serial - 25569.
SERIAL_1970 = 25569
SERIAL_MAX = 2958465  # 9999-12-31
#: A whole number in this range is a date written YYYYMMDD.
YYYYMMDD_MIN, YYYYMMDD_MAX = 10000101, 99991231
DATE_RULE = "expected a date: a date cell, an Excel serial number, or text written YYYY-MM-DD"
_EPOCH = dt.date(1970, 1, 1)
_ISO = re.compile(r"(\d{4})[-/]?(\d{2})[-/]?(\d{2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")


def serial_days(serial, name="date", row=None) -> int:
    """Days since 1970-01-01 of an Excel serial date (whole days; a time is dropped).

    >>> serial_days(25569.75), serial_days(61), serial_days(59)
    (0, -25508, -25509)
    """
    if not (1 <= serial <= SERIAL_MAX):
        raise CustomerEquityError(name, DATE_RULE + " (a serial number runs from 1 to 2958465)",
                                  row=row, value=serial)
    whole = math.floor(serial)
    if whole == 60:
        raise CustomerEquityError(name, "29 February 1900 does not exist (Excel's serial 60)",
                                  row=row, value=serial)
    return whole - SERIAL_1970 if whole > 60 else whole - SERIAL_1970 + 1


def _yyyymmdd_days(number, name, row):
    try:
        day = dt.datetime.strptime(str(int(number)), "%Y%m%d").date()
    except ValueError:
        raise CustomerEquityError(name, "not a date written YYYYMMDD", row=row,
                                  value=int(number)) from None
    return (day - _EPOCH).days


def date_days(v, name="date", row=None) -> int:
    """One cell as whole days since 1970-01-01, read as the readings above say.

    >>> [date_days(v) for v in (dt.date(1970, 1, 2), 25571.5, 19700104, "1970-01-05", "1970/01/06 10:30")]
    [1, 2, 3, 4, 5]
    >>> date_days("05/01/1970")
    Traceback (most recent call last):
    ...
    customer_equity.errors.CustomerEquityError: date: expected a date: a date cell, an Excel serial number, or text written YYYY-MM-DD (got '05/01/1970')
    """
    if isinstance(v, dt.datetime):
        return (dt.date(v.year, v.month, v.day) - _EPOCH).days
    if isinstance(v, dt.date):
        return (v - _EPOCH).days
    if v is None or (isinstance(v, str) and v.strip() == ""):
        raise CustomerEquityError(name, "a date is required here, the cell is blank", row=row,
                                  value="")
    if isinstance(v, (bool, np.bool_)):
        raise CustomerEquityError(name, DATE_RULE + ", not TRUE/FALSE", row=row, value=v)
    if isinstance(v, (numbers.Real, np.integer, np.floating)):
        x = float(v)
        if not math.isfinite(x):
            raise CustomerEquityError(name, DATE_RULE, row=row, value=v)
        if x.is_integer() and YYYYMMDD_MIN <= x <= YYYYMMDD_MAX:
            return _yyyymmdd_days(x, name, row)
        if x == 0:  # Office.js may send a blank cell as 0
            raise CustomerEquityError(name, "a date is required here, the cell is blank or 0",
                                      row=row, value=v)
        return serial_days(x, name, row)
    if isinstance(v, str):
        text = v.strip()
        error = excel_error(text)
        if error:
            raise CustomerEquityError(name, f"the cell holds the Excel error {error}", row=row)
        m = _ISO.fullmatch(text)
        if m:
            try:
                return (dt.date(*map(int, m.groups())) - _EPOCH).days
            except ValueError:
                pass
        raise CustomerEquityError(name, DATE_RULE, row=row, value=v)
    raise CustomerEquityError(name, DATE_RULE, row=row, value=str(v))


# --- headers and tables -------------------------------------------------------------------

def canonical(name) -> str:
    """How a header is matched to a column: ``" Customer ID "`` is ``"customer_id"``.

    >>> canonical(" Customer ID "), canonical("avg-value"), canonical("ＴＶ")
    ('customer_id', 'avg_value', 'tv')
    """
    key = unicodedata.normalize("NFKC", str(name)).strip().lower()
    return re.sub(r"[\s\-]+", "_", key)


def table(rows, name):
    """A range with its header row (2-D cells) as a pandas table: header text as column names.

    Each column keeps its cells, except that a column of numbers (and blanks) is float64 with
    NaN for a blank and a column of TRUE/FALSE is boolean; an empty text (a formula's ``""``)
    is a blank. A column blank in every row is left out and listed in
    ``frame.attrs["blank_columns"]``: an optional column left empty is not given.

    >>> t = table([["id", "income", "note"], ["a", 1.0, None], ["b", None, None]], "customers")
    >>> t["income"].tolist(), t.attrs["blank_columns"]
    ([1.0, nan], ['note'])
    """
    import pandas as pd

    arr = np.asarray(rows, dtype=object)
    if arr.ndim != 2 or arr.shape[0] < 2:
        raise CustomerEquityError(name, "needs a header row and at least one row below it "
                                  "(select the table with its headers, e.g. Customers[#All])")
    header = []
    for k, h in enumerate(arr[0]):
        if not isinstance(h, str) or not h.strip():
            raise CustomerEquityError(name, "the header row needs a name (text) in every column",
                                      row=1, column=k + 1, value=h)
        header.append(h.strip())
    if len(set(header)) != len(header):
        twice = next(h for h in header if header.count(h) > 1)
        raise CustomerEquityError(name, "each column name may appear only once in the header row",
                                  row=1, value=twice)
    body = arr[1:]
    columns, blank = {}, []
    for k, h in enumerate(header):
        col = body[:, k]
        kinds = set(map(type, col))  # one pass in C; most columns hold one kind of cell
        if str in kinds:
            col = col.copy()
            col[col == ""] = None  # an empty text cell (a formula's "") is a blank
            kinds = set(map(type, col))
        if kinds == {type(None)}:
            blank.append(h)
            continue
        if kinds <= {float, type(None)} and float in kinds:
            col = col.astype(np.float64)  # a column of numbers, blanks NaN
        elif kinds == {bool}:
            col = col.astype(bool)
        columns[h] = col
    frame = pd.DataFrame(columns)
    frame.attrs["blank_columns"] = blank
    return frame
