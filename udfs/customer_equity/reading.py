"""The one reading vocabulary: how a value typed in a cell or written in a file is read.

Below both doors (the Excel cells of :mod:`customer_equity.excel`, the files of
:mod:`customer_equity.files`) and below the core, which reads its array arguments with it,
so that a value means the same thing wherever it is typed:

============  ===================================================================================
blank         ``None``, an empty text ``""``, NaN or a pandas/arrow missing value. A cell of
              spaces is text, not a blank: it is refused where a number, date or flag belongs
              ("clear the cell"), as Excel's own ``=A1+1`` refuses it (:func:`is_blank`)
error value   Excel's error values as text, ``#N/A`` ... with their numbers (:data:`EXCEL_ERRORS`,
              :func:`excel_error`); COM's codes (:data:`COM_ERRORS`) and Office.js' error objects
              are turned into this text by the Excel door
placeholder   text that stands for "no value" in exported files (``n/a``, ``NA``, ``NULL``, ``-``
              ...): refused with its place, never a number, never silently 0
              (:data:`PLACEHOLDERS`, :func:`placeholder`, :func:`not_a_number`)
number        a number, or refused with a message that says what the cell holds instead (text,
              a placeholder, an Excel error, a cell of spaces, a number stored as text)
              (:func:`not_a_number`); a date where a number belongs is its Excel serial number,
              as Excel's own functions read it (:func:`excel_serial`)
flag          TRUE/FALSE, 1/0, yes/no, x/blank and their Chinese words (:func:`flag_value`,
              :func:`flag_array`)
timing        "end" (0) or "begin" (1) discounting, with their short forms (:func:`timing_code`,
              :func:`timing_word`)
date          a date cell, an Excel serial number, ISO text or a number written YYYYMMDD, from
              1900-01-01 to 9999-12-31 (Excel's range): one cell (:func:`date_days`) or a column
              (:func:`date_array`), read by the same rules
header        a column name as a header is matched (:func:`canonical`), a range with its header
              row as a table (:func:`table`)
position      where in an argument a value sits, 1-based (:func:`position`), and the row a user
              sees for it in a range or a file (:class:`RowMap`)
============  ===================================================================================
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
import unicodedata
from types import MappingProxyType

import numpy as np

from .errors import CustomerEquityError

__all__ = ["is_blank", "EXCEL_ERRORS", "COM_ERRORS", "excel_error", "PLACEHOLDERS", "placeholder",
           "not_a_number", "excel_serial", "TRUE_WORDS", "FALSE_WORDS", "FLAG_RULE", "flag_value",
           "flag_array", "TIMING_RULE", "timing_code", "timing_word", "DATE_RULE", "RANGE_RULE",
           "SERIAL_1970", "SERIAL_MAX", "YYYYMMDD_MIN", "YYYYMMDD_MAX", "DAY_MIN", "DAY_MAX",
           "serial_days", "date_days", "date_array", "canonical", "column_name", "table", "position", "RowMap",
           "distinct_codes"]


# --- blanks, error values, placeholders -------------------------------------------------

def is_blank(value) -> bool:
    """A blank value: ``None``, an empty text, NaN, or pandas' ``NA``/``NaT``. A cell of spaces
    is text (Excel's ``ISBLANK`` and ``=A1+1`` say the same).

    >>> [is_blank(v) for v in (None, "", float("nan"), " ", 0, "n/a")]
    [True, True, True, False, False, False]
    """
    if value is None:
        return True
    if isinstance(value, str):
        return value == ""
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    return type(value).__name__ in ("NAType", "NaTType")


#: Excel's error values as text, with their numbers (``CVErr``, the XlCVError enumeration;
#: the newer ones as Excel's C API numbers them). xlwings hands the first seven over as text
#: (``err_to_str``); the Excel door turns COM's codes and Office.js' error objects into this text.
EXCEL_ERRORS = MappingProxyType({
    "#NULL!": 2000, "#DIV/0!": 2007, "#VALUE!": 2015, "#REF!": 2023, "#NAME?": 2029,
    "#NUM!": 2036, "#N/A": 2042, "#GETTING_DATA": 2043, "#SPILL!": 2045, "#CONNECT!": 2046,
    "#BLOCKED!": 2047, "#UNKNOWN!": 2048, "#FIELD!": 2049, "#CALC!": 2050, "#BUSY!": 2051,
    "#PYTHON!": 2222})

#: How pywin32 hands an error cell over on COM: the HRESULT 0x800A0000 + the error's number
#: (``#N/A``: -2146826246), as ``xlwings._xlwindows.cell_errors`` lists the first seven.
COM_ERRORS = MappingProxyType({code - 2146828288: text for text, code in EXCEL_ERRORS.items()})


def excel_error(value) -> str | None:
    """The Excel error value a cell holds (``"#N/A"``), or None.

    >>> excel_error(" #N/A "), excel_error("N/A"), excel_error(3.0)
    ('#N/A', None, None)
    """
    if isinstance(value, str):
        text = value.strip().upper()
        if text in EXCEL_ERRORS:
            return text
    return None


#: Text that exports write for "no value" (pandas' and pyarrow's default missing-value words,
#: the dash and "n.a." of reports), compared in lower case. Where a value belongs each is
#: refused with its place: taken as a blank it would silently count as 0.
PLACEHOLDERS = frozenset({"#n/a", "#n/a n/a", "#na", "-1.#ind", "-1.#qnan", "-nan", "1.#ind",
                          "1.#qnan", "<na>", "n/a", "na", "n.a.", "null", "nan", "none", "nil",
                          "-", "--", "?", "missing"})


def placeholder(value) -> str | None:
    """The text as typed when it stands for "no value" (:data:`PLACEHOLDERS`, any case), else None.

    >>> placeholder("N/A"), placeholder(" - "), placeholder("NULL"), placeholder("no"), placeholder(0)
    ('N/A', '-', 'NULL', None, None)
    """
    if isinstance(value, str) and value.strip().lower() in PLACEHOLDERS:
        return value.strip()
    return None


_NUMBER_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def not_a_number(value, name, expected="a number", **where):
    """The refusal of a cell that holds ``value`` where ``expected`` belongs, naming what it
    holds instead (an Excel error, a placeholder, a cell of spaces, a number stored as text,
    TRUE/FALSE, other text); ``where`` is its position (``row``, ``column``).

    >>> str(not_a_number("n/a", "share", row=3))
    "share, row 3: 'n/a' stands for a missing value and is never read as 0: type a number, or clear the cell for a blank (got 'n/a')"
    >>> str(not_a_number("12", "share"))
    "share: expected a number, got a number stored as text: convert it to a number (got '12')"
    """
    if isinstance(value, np.generic):
        value = value.item()
    error = excel_error(value)
    if error:
        return CustomerEquityError(name, f"the cell holds the Excel error {error}", **where)
    if isinstance(value, (bool, np.bool_)):
        return CustomerEquityError(name, f"expected {expected}, got a TRUE/FALSE value",
                                   value=bool(value), **where)
    if isinstance(value, str):
        if placeholder(value):
            rule = (" and is never read as 0: type a number, or clear the cell for a blank"
                    if expected == "a number" else f": type {expected}")
            return CustomerEquityError(name, f"{value.strip()!r} stands for a missing value{rule}",
                                       value=value, **where)
        if value.strip() == "":
            return CustomerEquityError(name, f"expected {expected}, got a cell of spaces: clear "
                                       "the cell for a blank", value=value, **where)
        if expected == "a number" and _NUMBER_TEXT.fullmatch(value.strip()):
            return CustomerEquityError(name, "expected a number, got a number stored as text: "
                                       "convert it to a number", value=value, **where)
        return CustomerEquityError(name, f"expected {expected}, got text", value=value, **where)
    return CustomerEquityError(name, f"expected {expected}", value=str(value), **where)


def excel_serial(value) -> float:
    """The Excel serial number of a date (and time) cell, as Excel's own functions read a date
    where a number belongs: ``=A1+1`` on 2024-01-01 is 45293.

    COM hands a date cell over as an OLE automation date (days since 1899-12-30), which is
    the cell's serial number; Office.js hands over the serial number itself. So a date in a
    number argument is the same number on both paths.

    >>> excel_serial(dt.datetime(2024, 1, 1, 12)), excel_serial(dt.date(1970, 1, 1)), excel_serial(dt.time(6))
    (45292.5, 25569.0, 0.25)
    """
    if isinstance(value, dt.time):
        return (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400
    days = (dt.date(value.year, value.month, value.day) - _OLE_EPOCH).days
    if isinstance(value, dt.datetime):
        return days + excel_serial(value.time())
    return float(days)


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


class RowMap:
    """The row a user sees for a row of an argument, a table or a batch.

    ``first`` is the user's number of row 1 (the row under a range's header is row 2 of the
    range; a CSV's first data line is line 2); ``numbers`` are explicit row numbers (a sheet
    whose blank rows were skipped), row ``k`` being ``numbers[k - 1]``. The one way a position
    in what the core read becomes a cell row or a file row, in messages and reports.

    >>> RowMap(first=2).row(1), RowMap(numbers=[4, 7, 9]).rows([1, 3]).tolist()
    (2, [4, 9])
    >>> err = CustomerEquityError("share", "must lie in [0, 1]", row=3, value=1.5)
    >>> str(RowMap(first=2).relocate(err, argument="customers[share]"))
    'customers[share], row 4: must lie in [0, 1] (got 1.5)'
    """

    def __init__(self, first=1, numbers=None):
        self.first = int(first)
        self.numbers = None if numbers is None else np.asarray(numbers, dtype=np.int64)

    def row(self, row):
        """The user's row of 1-based ``row``."""
        if self.numbers is not None:
            return int(self.numbers[int(row) - 1])
        return int(row) + self.first - 1

    def rows(self, rows):
        """The user's rows of 1-based ``rows`` (an array of them in one pass)."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.numbers is not None:
            return self.numbers[rows - 1]
        return rows + (self.first - 1)

    def relocate(self, err, argument=None, **kwargs):
        """``err`` pointing at the user's row (and ``argument``, e.g. a column of a file)."""
        row = None if err.row is None else self.row(err.row)
        return err.relocated(argument=argument, row_offset=0 if row is None else row - err.row,
                             **kwargs)


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

_TIMING_WORDS = {"end": 0, "e": 0, "0": 0, "begin": 1, "beginning": 1, "start": 1, "b": 1, "1": 1}
TIMING_RULE = 'must be "end" (or 0) or "begin" (or 1)'


def timing_code(timing, name="timing"):
    """0 for end-of-period discounting (Excel NPV), 1 for beginning of period.

    Accepts "end"/"begin" (any case, also "e"/"b", "start", "beginning"), 0/1, or a blank
    (end: the default). A cell of spaces is text, and refused like any other word.

    >>> timing_code("Begin"), timing_code(None), timing_code(0)
    (1, 0, 0)
    """
    if is_blank(timing):
        return 0
    if isinstance(timing, str):
        key = timing.strip().lower()
        if key in _TIMING_WORDS:
            return _TIMING_WORDS[key]
    elif isinstance(timing, numbers.Real) and not isinstance(timing, (bool, np.bool_)):
        if timing in (0, 1):
            return int(timing)
    raise CustomerEquityError(name, TIMING_RULE, value=timing)


def timing_word(timing, name="timing") -> str:
    """``"end"`` or ``"begin"``: the word of :func:`timing_code` (configurations keep the word).

    >>> timing_word("B"), timing_word(0)
    ('begin', 'end')
    """
    return ("end", "begin")[timing_code(timing, name)]


# --- dates --------------------------------------------------------------------------------
#
# Windows Excel (COM) hands a date-formatted cell over as a datetime and an unformatted one as
# its serial number (a float); Office.js always sends the serial number; files hold text,
# datetimes or numbers. Readings chosen, the same for one cell and for a column:
#   * a number from 1 to 2958465 is an Excel serial date (1900 date system; the fraction, a time
#     of day, is dropped; serials below 61 follow Excel's 1900 leap-year bug, so 60 is refused
#     as 29 February 1900, a day that never was);
#   * a whole number YYYYMMDD_MIN..YYYYMMDD_MAX is a date written YYYYMMDD (as the CDNOW file and
#     many exports write it) -- it cannot be a serial, which stops at 2958465;
#   * text must be an ISO date (1997-01-31, 1997/01/31, 19970131, optionally with a time, whose
#     zone is ignored: the day is the day written); any other text ("31/01/1997", "soon") is
#     refused, because a day/month order cannot be guessed;
#   * every date lies in Excel's range, 1900-01-01 to 9999-12-31.

#: Excel's serial number of 1970-01-01 (1900 date system): days since 1970 = serial - 25569.
SERIAL_1970 = 25569
SERIAL_MAX = 2958465  # 9999-12-31
#: A whole number in this range is a date written YYYYMMDD.
YYYYMMDD_MIN, YYYYMMDD_MAX = 19000101, 99991231
#: The dates read, as days since 1970-01-01: Excel's range, 1900-01-01 to 9999-12-31.
DAY_MIN, DAY_MAX = -25567, 2932896
DATE_RULE = "expected a date: a date cell, an Excel serial number, or text written YYYY-MM-DD"
RANGE_RULE = "a date must lie from 1900-01-01 to 9999-12-31 (Excel's dates)"
_EPOCH = dt.date(1970, 1, 1)
_OLE_EPOCH = dt.date(1899, 12, 30)
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


def _ymd_days(year, month, day):
    """Days since 1970 of whole-number year, month, day arrays, with a mask of real dates."""
    year, month, day = (np.asarray(a, dtype=np.int64) for a in (year, month, day))
    ok = (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31) & (year >= 1) & (year <= 9999)
    months = np.where(ok, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + np.where(ok, day - 1, 0)
    ok &= days.astype("datetime64[M]") == months  # 31 April is 1 May: no such day
    return days.astype(np.int64), ok


def date_days(v, name="date", row=None) -> int:
    """One cell as whole days since 1970-01-01, read as the readings above say.

    >>> [date_days(v) for v in (dt.date(1970, 1, 2), 25571.5, 19700104, "1970-01-05", "1970/01/06 10:30")]
    [1, 2, 3, 4, 5]
    >>> date_days("05/01/1970")
    Traceback (most recent call last):
    ...
    customer_equity.errors.CustomerEquityError: date: expected a date: a date cell, an Excel serial number, or text written YYYY-MM-DD (got '05/01/1970')
    """
    if isinstance(v, np.datetime64):
        v = None if np.isnat(v) else v.astype("datetime64[D]").item()
    elif isinstance(v, np.generic):
        v = v.item()
    if is_blank(v):
        raise CustomerEquityError(name, "a date is required here, the cell is blank", row=row,
                                  value="")
    if isinstance(v, dt.date):
        day = (dt.date(v.year, v.month, v.day) - _EPOCH).days
        if not DAY_MIN <= day <= DAY_MAX:
            raise CustomerEquityError(name, RANGE_RULE, row=row, value=v)
        return day
    if isinstance(v, bool):
        raise CustomerEquityError(name, DATE_RULE + ", not TRUE/FALSE", row=row, value=v)
    if isinstance(v, numbers.Real):
        x = float(v)
        if not math.isfinite(x):
            raise CustomerEquityError(name, DATE_RULE, row=row, value=v)
        if x.is_integer() and YYYYMMDD_MIN <= x <= YYYYMMDD_MAX:
            n = int(x)
            days, ok = _ymd_days(n // 10000, n // 100 % 100, n % 100)
            if not ok:
                raise CustomerEquityError(name, "not a date written YYYYMMDD", row=row, value=n)
            return int(days)
        if x.is_integer() and 10000101 <= x < YYYYMMDD_MIN:
            raise CustomerEquityError(name, RANGE_RULE, row=row, value=int(x))
        if x == 0:  # Office.js may send a blank cell as 0
            raise CustomerEquityError(name, "a date is required here, the cell is blank or 0",
                                      row=row, value=v)
        return serial_days(x, name, row)
    if isinstance(v, str):
        text = v.strip()
        if excel_error(text) or placeholder(text) or not text:
            raise not_a_number(v, name, "a date", **({} if row is None else {"row": row}))
        m = _ISO.fullmatch(text)
        if m:
            days, ok = _ymd_days(*map(int, m.groups()))
            if ok and DAY_MIN <= days <= DAY_MAX:
                return int(days)
            if ok:
                raise CustomerEquityError(name, RANGE_RULE, row=row, value=v)
        raise CustomerEquityError(name, DATE_RULE, row=row, value=v)
    raise CustomerEquityError(name, DATE_RULE, row=row, value=str(v))


def date_array(values, name="date") -> np.ndarray:
    """A column of dates as int64 days since 1970-01-01, each value read as :func:`date_days`
    reads one cell; the first that is not a date is refused with its row (1-based).

    Fast for what files hold: an arrow column of timestamps, a pandas column of datetimes,
    numbers (serials or YYYYMMDD), and text in the form of its first value
    (:func:`date_format`: ``1997-01-31`` with or without a time, ``19970131``, ``1997/01/31``),
    parsed by Arrow in one vectorised pass where pyarrow is installed. The fast paths give a
    column's days only when every value reads as :func:`date_days` reads it; any other column
    (blanks, mixed forms, a bad date, Excel's mixed cells) is read one distinct value at a time,
    which names the first bad row.

    >>> date_array(["1970-01-02", 19700103, 25572.0, "1970/01/05 10:30"]).tolist()
    [1, 2, 3, 4]
    >>> date_array(["1997-01-01", "01/02/1997"])
    Traceback (most recent call last):
    ...
    customer_equity.errors.CustomerEquityError: date, row 2: expected a date: a date cell, an Excel serial number, or text written YYYY-MM-DD (got '01/02/1997')
    """
    import pandas as pd

    days = _arrow_days(values)
    if days is None and not hasattr(values, "null_count"):
        text = _as_arrow_text(values)  # text in one form: one vectorised pass, as for a file
        days = None if text is None else _arrow_days(text)
    if days is not None:
        return _in_range(days, None, name)
    if hasattr(values, "to_numpy") and not isinstance(values, (np.ndarray, pd.Series)):
        values = values.to_numpy(zero_copy_only=False)  # an arrow column with blanks
    s = values if isinstance(values, pd.Series) else pd.Series(
        values if isinstance(values, np.ndarray) and values.dtype != object
        else np.asarray(values, dtype=object))
    s = s.reset_index(drop=True)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)  # the day written, in its own zone
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        blank = s.isna().to_numpy()
        if blank.any():
            _refuse_cell(s.to_numpy(dtype=object), blank, name)
        return _in_range(s.to_numpy().astype("datetime64[D]").astype(np.int64), s, name)
    if pd.api.types.is_bool_dtype(s.dtype):
        _refuse_cell(s.to_numpy(dtype=object), np.ones(len(s), bool), name)
    if pd.api.types.is_numeric_dtype(s.dtype):
        return _number_days(s.to_numpy(dtype=np.float64, na_value=np.nan), name)
    codes, uniques = pd.factorize(s.to_numpy(dtype=object), use_na_sentinel=True)
    if (codes < 0).any():
        _refuse_cell(s.to_numpy(dtype=object), codes < 0, name)
    out = np.empty(len(uniques), dtype=np.int64)
    text = np.fromiter((isinstance(u, str) for u in uniques), bool, len(uniques))
    if text.any():  # ISO text in one vectorised pass
        parts = pd.Series(uniques[text], dtype=object).str.strip().str.fullmatch(_ISO.pattern)
        groups = pd.Series(uniques[text], dtype=object).str.strip().str.extract(_ISO.pattern)
        ok = parts.fillna(False).to_numpy(dtype=bool)
        y, m, d = (pd.to_numeric(groups[k], errors="coerce").fillna(0).to_numpy(np.int64)
                   for k in range(3))
        d_text, real = _ymd_days(y, m, d)
        good = ok & real & (d_text >= DAY_MIN) & (d_text <= DAY_MAX)
        out[np.flatnonzero(text)[good]] = d_text[good]
        text[np.flatnonzero(text)[~good]] = False  # refused below, one at a time
    for k in np.flatnonzero(~text):
        try:
            out[k] = date_days(uniques[k], name)
        except CustomerEquityError as err:
            row = int(np.flatnonzero(codes == k)[0]) + 1
            raise CustomerEquityError(name, err.rule, row=row,
                                      **({"value": err.value} if err.has_value else {})) from None
    return out[codes]


def _refuse_cell(raw, bad, name):
    k = int(np.flatnonzero(bad)[0])
    date_days(raw[k], name, k + 1)
    raise CustomerEquityError(name, DATE_RULE, row=k + 1, value=raw[k])  # pragma: no cover


def _in_range(days, raw, name):
    bad = (days < DAY_MIN) | (days > DAY_MAX)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        shown = str(np.datetime64(int(days[k]), "D")) if raw is None else raw.iloc[k]
        raise CustomerEquityError(name, RANGE_RULE, row=k + 1, value=shown)
    return days


def _number_days(x, name):
    """Serial numbers and YYYYMMDD numbers of a column, the rules of :func:`date_days`."""
    whole = np.isfinite(x) & (x == np.floor(x))
    ymd = whole & (x >= YYYYMMDD_MIN) & (x <= YYYYMMDD_MAX)
    serial = np.isfinite(x) & (x >= 1) & (x <= SERIAL_MAX) & (np.floor(x) != 60)
    if not (ymd | serial).all():
        _refuse_cell(x.astype(object), ~(ymd | serial), name)
    out = np.empty(x.size, dtype=np.int64)
    if serial.any():
        w = np.floor(x[serial]).astype(np.int64)
        out[serial] = np.where(w > 60, w - SERIAL_1970, w - SERIAL_1970 + 1)
    if ymd.any():
        n = x[ymd].astype(np.int64)
        days, ok = _ymd_days(n // 10000, n // 100 % 100, n % 100)
        if not ok.all():
            k = int(np.flatnonzero(ymd)[np.flatnonzero(~ok)[0]])
            raise CustomerEquityError(name, "not a date written YYYYMMDD", row=k + 1,
                                      value=int(x[k]))
        out[ymd] = days
    return out


def _pyarrow():
    """``(pyarrow, pyarrow.compute)``, or None in a base install (xlwings Lite)."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        return None
    return pa, pc


#: The forms of a date written as text, told from one value: (pattern, format, length).
DATE_FORMS = ((re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$"), "ISO8601", None),
              (re.compile(r"\d{8}$"), "%Y%m%d", 8),
              (re.compile(r"\d{4}/\d{2}/\d{2}$"), "%Y/%m/%d", 10))


def date_format(text: object) -> tuple | None:
    """The form of one date written as text: ``(format, length)`` of :data:`DATE_FORMS`
    (``length`` None: any ISO 8601 date or date and time), or None.

    >>> date_format(" 1997-01-31 14:05"), date_format("19970131"), date_format("31/01/1997")
    (('ISO8601', None), ('%Y%m%d', 8), None)
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    for pattern, fmt, length in DATE_FORMS:
        if pattern.match(text):
            return fmt, length
    return None


def _as_arrow_text(values):
    """A column of Python or pandas text as an arrow string column, or None (not all text,
    no pyarrow): the text then goes through the one vectorised parse of :func:`_arrow_days`."""
    arrow = _pyarrow()
    if arrow is None or not len(values):
        return None
    import pandas as pd

    if isinstance(values, pd.Series):
        first = values.iloc[0]
    elif isinstance(values, (list, tuple, np.ndarray)):
        first = values[0]
    else:
        return None
    if not isinstance(first, str):
        return None
    pa = arrow[0]
    try:
        return pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return None


#: _ISO from start to end, for Arrow's regular expressions (RE2: ``\d`` is ASCII only, so
#: that what it matches Python's ``re`` matches too).
_ISO_WHOLE = "^(?:" + _ISO.pattern + ")$"


def _arrow_text_days(text, pa, pc):
    """Days of an arrow column of text in the form of its first value (:func:`date_format`),
    in one vectorised pass, or None: returned only when every value is a date :func:`date_days`
    reads, the same day, in range (anything else is left to the general path, which names the
    row with the one reading's words)."""
    text = pc.ascii_trim_whitespace(text)
    form = date_format(text[0].as_py())
    if form is None or not pc.all(pc.match_substring_regex(text, _ISO_WHOLE)).as_py():
        return None
    if form[0] == "%Y%m%d":  # the eight digits of YYYYMMDD, then perhaps a time
        n = np.asarray(pc.cast(pc.utf8_slice_codeunits(text, 0, 8), pa.int64()).to_numpy(
            zero_copy_only=False), dtype=np.int64)
        days, ok = _ymd_days(n // 10000, n // 100 % 100, n % 100)
        if not ok.all():
            return None
    else:  # YYYY-MM-DD or YYYY/MM/DD, then perhaps a time (ignored, as date_days ignores it)
        ten = pc.utf8_slice_codeunits(text, 0, 10)
        if form[0] == "%Y/%m/%d":
            ten = pc.replace_substring(ten, "/", "-")
        days = pc.cast(pc.cast(ten, pa.date32()), pa.int32())  # strict: 30 February refused
        days = np.asarray(days.to_numpy(zero_copy_only=False), dtype=np.int64)
    if days.size and (days.min() < DAY_MIN or days.max() > DAY_MAX):
        return None
    return days


def _arrow_days(values):
    """Fast path for an arrow column without blanks: timestamps, dates, and text in one form
    (:func:`_arrow_text_days`), without pandas' parser or a Python call per value. None when
    it does not apply (the general path then reads the column)."""
    arrow = _pyarrow()
    if arrow is None:
        return None
    pa, pc = arrow
    if not isinstance(values, (pa.Array, pa.ChunkedArray)) or values.null_count or not len(values):
        return None
    t = values.type
    try:
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return _arrow_text_days(values, pa, pc)
        if pa.types.is_timestamp(t) or pa.types.is_date(t):
            if pa.types.is_timestamp(t) and t.tz is not None:
                values = pc.local_timestamp(values)
            days = pc.cast(pc.cast(values, pa.date32()), pa.int32())
            return np.asarray(days.to_numpy(zero_copy_only=False), dtype=np.int64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    return None


# --- headers and tables -------------------------------------------------------------------

def canonical(name) -> str:
    """How a header is matched to a column: ``" Customer ID "`` is ``"customer_id"``.

    >>> canonical(" Customer ID "), canonical("avg-value"), canonical("ＴＶ")
    ('customer_id', 'avg_value', 'tv')
    """
    key = unicodedata.normalize("NFKC", str(name)).strip().lower()
    return re.sub(r"[\s\-]+", "_", key)


def column_name(header, known=()) -> str:
    """The name a header is read under: its canonical form when that is a column the caller
    reads (``known``, or a numbered column ``<known>_<n>`` of a block), else the header as typed
    (trimmed): ``Periods`` is ``periods`` at every door, a trait ``Age`` stays ``Age``.

    >>> column_name(" Periods ", {"periods"}), column_name("PV 2", {"pv"}), column_name("Age", {"periods"})
    ('periods', 'pv_2', 'Age')
    """
    text = str(header).strip()
    key = canonical(text)
    if key in known:
        return key
    block = re.fullmatch(r"(.+)_([0-9]+)", key)
    if block and block.group(1) in known:
        return key
    return text


def table(rows, name, known=()):
    """A range with its header row (2-D cells) as a pandas table: header text as column names.

    A header is read under :func:`column_name` (``known``: the columns the caller reads). Each
    column keeps its cells, except that a column of numbers (and blanks) is float64 with NaN
    for a blank and a column of TRUE/FALSE is boolean; an empty text (a formula's ``""``) is a
    blank. A column blank in every row is left out and listed in
    ``frame.attrs["blank_columns"]``: an optional column left empty is not given. Blank rows
    under the last row that holds something (a range selected larger than its data) are left
    out; a table with no row that holds something is refused.

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
        header.append(column_name(h, known))
    if len(set(header)) != len(header):
        twice = next(h for h in header if header.count(h) > 1)
        raise CustomerEquityError(name, "each column name may appear only once in the header row",
                                  row=1, value=twice)
    body = arr[1:]
    last = len(body)
    while last and all(map(is_blank, body[last - 1])):
        last -= 1
    if last == 0:
        raise CustomerEquityError(name, "has a header row but no rows below it that hold "
                                  "anything: there is nothing to read")
    body = body[:last]
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
