"""From a transaction log to the per-customer summary the forecasting models read (SPEC 7).

A log has one row per transaction: customer, date, amount. Time is counted in
whole days and expressed in a unit: ``day``, ``week`` (7 days), ``month``
(365.25/12 days) or ``year`` (365.25 days). Transactions of one customer on one
day are one purchase occasion, their amounts added. For a calibration period
ending on day ``c`` (inclusive):

==================  ===============================================================
column              meaning
==================  ===============================================================
frequency           ``x``: repeat purchase days (all purchase days but the first)
recency             ``t_x``: time from the first purchase to the last one
T                   time from the first purchase to ``c``
monetary_value      ``m_x``: mean amount of the repeat purchase days (0 when x = 0)
actual_purchases    with a holdout ``(c, e]``: the purchase days in it
actual_amount       with a holdout: the amount spent in it
==================  ===============================================================

These are the definitions of lifetimes' ``summary_data_from_transaction_data``
and ``calibration_and_holdout_data`` (``freq="D"`` with ``freq_multiplier`` the
unit in days), pymc-marketing and CLVTools.

Rules where a log is untidy. Each row set aside, each customer left out is counted with
its first rows in :attr:`LogSummary.report` (a :class:`~customer_equity.model.report.DataReport`)
and :attr:`LogSummary.counts`; nothing is changed without a word:

* a blank row (customer, date and amount all blank) is set aside; a row with only some of
  them blank is refused with its row;
* a transaction dated after today is set aside (a typo in the year would otherwise become
  the observation end and shrink every forecast); ``strict=True`` refuses it instead;
* a negative amount is a return, not a purchase occasion: the row is set aside, and a
  customer whose only rows are returns is counted as such;
* a zero amount is a purchase occasion (a free item is still a visit), reported;
* a transaction after the observation end is set aside;
* a calibration or observation end after the log's last date is refused, naming both dates
  (every customer's ``T`` would grow with the days nobody observed);
* exact duplicate rows (same customer, day and amount: an export run twice?) are reported
  and kept, as lifetimes keeps them; ``duplicates="drop"`` sets them aside;
* a customer whose first purchase is after the calibration end is not in the
  calibration (a new customer of the holdout period): the rows are set aside, counted;
* amounts whose sum overflows are refused naming the amount column and the row.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import re

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ...errors import CustomerEquityError
from ...reading import DATE_FORMS, RowMap, date_array, date_days, date_format, not_a_number
from .. import validate as v
from ..report import DataReport

__all__ = [
    "DATE_FORMS",
    "UNITS",
    "LogSummary",
    "date_format",
    "date_to_day",
    "day_to_date",
    "summarise_days",
    "summary_data",
    "to_amounts",
    "to_days",
]

#: Days per unit of time.
UNITS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12, "year": 365.25}

#: Counts reported with a summary.
COUNT_NAMES = ("transactions", "returns", "zero_amounts", "after_observation_end",
               "first_purchase_after_calibration", "future", "duplicates", "blank_rows")

#: What ``duplicates=`` may say: keep exact duplicate rows (reported) or set them aside.
DUPLICATES = ("keep", "drop")

_EPOCH = _dt.date(1970, 1, 1)


def date_to_day(value: object, name: str = "date") -> int:
    """A date (``YYYY-MM-DD``, ``YYYYMMDD``, an Excel serial, a ``date`` or a ``Timestamp``) as
    days since 1970-01-01, read by :func:`customer_equity.reading.date_days`.

    >>> date_to_day("1970-01-11"), date_to_day("19700102")
    (10, 1)
    """
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())  # 19970131 written on the command line
    return date_days(value, name)


def day_to_date(day: int) -> _dt.date:
    """Days since 1970-01-01 as a date.

    >>> day_to_date(10)
    datetime.date(1970, 1, 11)
    """
    return _EPOCH + _dt.timedelta(days=int(day))


def unit_days(unit: str) -> float:
    """Days in one ``unit``; the unit names are the keys of :data:`UNITS`."""
    if unit not in UNITS:
        raise CustomerEquityError("unit", "must be one of " + ", ".join(UNITS), value=unit)
    return UNITS[unit]


def _first_bad(mask, values, name, rule):
    row = int(np.flatnonzero(mask)[0])
    shown = values[row]
    if isinstance(shown, np.generic):
        shown = shown.item()
    raise CustomerEquityError(name, rule, row=row + 1, value=shown)


def to_days(values: ArrayLike, name: str = "date") -> np.ndarray:
    """Dates as whole days since 1970-01-01 (int64); times of day are dropped.

    The one reading of :func:`customer_equity.reading.date_array`: datetimes, ``date``
    objects, ISO 8601 text (``1997-01-31``, ``1997-01-31 14:05``, ``19970131``,
    ``1997/01/31``), whole numbers ``YYYYMMDD`` and Excel serial numbers, from 1900-01-01
    to 9999-12-31. A blank or unreadable date is refused with its row (1-based).

    Text in the form of its first date (:func:`date_format`) is parsed in one vectorised
    pass where pyarrow is installed; a column that does not all read that way (blanks,
    mixed forms, bad dates) is read one distinct value at a time, which names the first bad
    row.

    >>> to_days(["1970-01-02", "19700103", "1970/01/04 10:30"]).tolist()
    [1, 2, 3]
    >>> to_days(["1997-01-01", "01/02/1997"])
    Traceback (most recent call last):
    ...
    customer_equity.errors.CustomerEquityError: date, row 2: expected a date: a date cell, an Excel serial number, or text written YYYY-MM-DD (got '01/02/1997')
    """
    return date_array(values, name)


def to_amounts(values: ArrayLike, name: str = "amount") -> np.ndarray:
    """Transaction amounts as float64: numbers, blanks refused, text refused by row.

    >>> to_amounts(["12.5", 3]).tolist()
    [12.5, 3.0]
    """
    if isinstance(values, pd.Series):
        values = values.to_numpy()
    elif hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
        values = values.to_numpy(zero_copy_only=False)  # an arrow column
    elif isinstance(values, (list, tuple)):
        values = np.array(values, dtype=object)
    if isinstance(values, np.ndarray) and values.dtype.kind in "OUS":
        raw = np.asarray(values, dtype=object)
        text = np.array([isinstance(x, str) and x != "" for x in raw], dtype=bool)
        values = np.where(raw == "", None, raw)
        if text.any():  # numbers written as text (a CSV read as text, a text column)
            parsed = pd.to_numeric(pd.Series(raw[text]).str.strip(), errors="coerce").to_numpy()
            if np.isnan(parsed).any():
                row = int(np.flatnonzero(text)[np.flatnonzero(np.isnan(parsed))[0]])
                raise not_a_number(raw[row], name, row=row + 1)
            values = values.copy()
            values[text] = parsed
    out = v.as_float(values, name)
    out = np.atleast_1d(out)
    blank = np.isnan(out)
    if blank.any():
        _first_bad(blank, out, name, "an amount is required here, the cell is blank")
    v.check_finite(out, name)
    return out


@dataclasses.dataclass
class LogSummary:
    """The per-customer summary of a transaction log and what was left out of it.

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per customer in the calibration, indexed by customer id (sorted):
        ``frequency, recency, T, monetary_value`` and, with a holdout,
        ``actual_purchases, actual_amount``.
    unit : str
        The time unit of ``recency`` and ``T``.
    calibration_end, observation_end : datetime.date
        ``observation_end`` equals ``calibration_end`` when there is no holdout.
    counts : dict
        ``transactions`` read, ``returns`` (negative amounts, left out),
        ``zero_amounts`` (kept), ``after_observation_end`` (left out),
        ``first_purchase_after_calibration`` (customers left out), ``future`` (rows dated
        after today, left out), ``duplicates`` (exact duplicate rows), ``blank_rows``.
    report : DataReport or None
        Rows read, used and set aside by reason with their first rows, customers, dates
        and windows (:class:`customer_equity.model.report.DataReport`).
    """

    customers: pd.DataFrame
    unit: str
    calibration_end: _dt.date
    observation_end: _dt.date
    counts: dict
    report: DataReport | None = None

    @property
    def holdout(self) -> bool:
        """Whether there is a holdout period after the calibration end."""
        return self.observation_end > self.calibration_end

    @property
    def holdout_length(self) -> float:
        """Length of the holdout period in the unit."""
        return (self.observation_end - self.calibration_end).days / UNITS[self.unit]


def _overflow(row):
    return CustomerEquityError("amount", "the amounts add up beyond the largest number a computer "
                               "holds (about 1.8e308): check this column for a wrong amount",
                               row=row)


def _repeats(key, amounts, order):
    """Positions (in the key-sorted arrays) of the rows that repeat an earlier row: same key
    (customer and day) and same amount. Only rows whose key occurs twice are sorted again."""
    same = key[1:] == key[:-1]
    if not same.any():
        return np.zeros(0, dtype=np.int64)
    multi = np.zeros(key.size, dtype=bool)
    multi[1:] |= same
    multi[:-1] |= same
    pos = np.flatnonzero(multi)
    pos = pos[np.lexsort((order[pos], amounts[pos], key[pos]))]
    again = (key[pos[1:]] == key[pos[:-1]]) & (amounts[pos[1:]] == amounts[pos[:-1]])
    return np.sort(pos[1:][again])


def summarise_days(codes: ArrayLike, days: ArrayLike, amounts: ArrayLike, calibration_end: int,
                   observation_end: int, unit: str = "week", n_codes: int | None = None,
                   duplicates: str | None = None) -> dict:
    """The summary of customers numbered ``0..n_codes-1`` from their transaction days.

    ``days`` and the two ends are days since 1970-01-01; transactions must already
    be within the observation end and have amounts >= 0. Returns arrays over the
    codes: ``first`` (day), ``in_calibration`` (bool) and the summary columns.
    With ``duplicates`` ("keep" or "drop"), also ``duplicate_rows``: the positions (0-based,
    ascending) of the rows that repeat an earlier row's customer, day and amount, which
    "drop" leaves out. An amount sum that overflows is refused with ``row`` the 1-based
    position of the customer's first row. The building block of :func:`summary_data` and of
    the streamed summaries, which call it once per part of the customers.
    """
    codes = np.asarray(codes, dtype=np.int64)
    days = np.asarray(days, dtype=np.int64)
    amounts = np.asarray(amounts, dtype=np.float64)
    n = int(codes.max(initial=-1)) + 1 if n_codes is None else int(n_codes)
    u = unit_days(unit)
    repeated = np.zeros(0, dtype=np.int64)
    if days.size:
        lo = int(days.min())
        span = int(days.max()) - lo + 1
        key = codes * span + (days - lo)
        order = np.argsort(key, kind="stable")
        key = key[order]
        amounts = amounts[order]
        if duplicates is not None:
            at = _repeats(key, amounts, order)
            repeated = np.sort(order[at])
            if duplicates == "drop" and at.size:
                kept = np.ones(key.size, dtype=bool)
                kept[at] = False
                key, amounts, order = key[kept], amounts[kept], order[kept]
        new = np.empty(key.size, dtype=bool)
        new[:1] = True
        np.not_equal(key[1:], key[:-1], out=new[1:])
        starts_at = np.flatnonzero(new)
        with np.errstate(over="ignore", invalid="ignore"):
            pair_amount = np.add.reduceat(amounts, starts_at) if key.size else np.zeros(0)
        if not np.isfinite(pair_amount).all():
            raise _overflow(int(order[starts_at[np.flatnonzero(~np.isfinite(pair_amount))[0]]]) + 1)
        pair_key = key[new]
        pair_code = pair_key // span
        pair_day = pair_key % span + lo
    else:
        pair_code = pair_day = np.zeros(0, dtype=np.int64)
        pair_amount = np.zeros(0)
        order = starts_at = np.zeros(0, dtype=np.int64)
    first = np.full(n, np.iinfo(np.int64).max)
    first_amount = np.zeros(n)
    if pair_code.size:
        starts = np.empty(pair_code.size, dtype=bool)
        starts[0] = True
        np.not_equal(pair_code[1:], pair_code[:-1], out=starts[1:])
        first[pair_code[starts]] = pair_day[starts]
        first_amount[pair_code[starts]] = pair_amount[starts]
    cal = pair_day <= calibration_end
    cal_code, cal_day = pair_code[cal], pair_day[cal]
    n_days = np.bincount(cal_code, minlength=n)
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.bincount(cal_code, weights=pair_amount[cal], minlength=n)
    if not np.isfinite(total).all():
        code = int(np.flatnonzero(~np.isfinite(total))[0])
        raise _overflow(int(order[starts_at[np.flatnonzero(pair_code == code)[0]]]) + 1)
    last = np.full(n, np.iinfo(np.int64).min)
    if cal_code.size:  # sorted by code then day: the last calibration pair of each code
        ends = np.empty(cal_code.size, dtype=bool)
        ends[-1] = True
        np.not_equal(cal_code[1:], cal_code[:-1], out=ends[:-1])
        last[cal_code[ends]] = cal_day[ends]
    in_cal = n_days > 0
    frequency = np.where(in_cal, n_days - 1, 0).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        recency = np.where(in_cal, (last - first) / u, 0.0)
        T = np.where(in_cal, (calibration_end - first) / u, 0.0)
        monetary = np.where(frequency > 0, (total - first_amount) / np.maximum(frequency, 1), 0.0)
    out = {"first": first, "in_calibration": in_cal, "frequency": frequency, "recency": recency,
           "T": T, "monetary_value": monetary}
    if observation_end > calibration_end:
        hold = (pair_day > calibration_end) & (pair_day <= observation_end)
        out["actual_purchases"] = np.bincount(pair_code[hold], minlength=n).astype(np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            out["actual_amount"] = np.bincount(pair_code[hold], weights=pair_amount[hold], minlength=n)
    if duplicates is not None:
        out["duplicate_rows"] = repeated
    return out


def resolve_ends(first_day, last_day, calibration_end, observation_end, grace=None):
    """The calibration and observation ends as days; defaults from the log's dates.

    ``first_day`` and ``last_day`` are the first and last dates of the log (rows dated after
    today already set aside). An end after the last date is refused naming both dates: the
    days after it were not observed, and counting them would make every customer look
    longer gone than the data says.

    ``grace``: a unit (``"year"``) by which the ends may pass the last date, for discrete
    opportunities (BG/BB), whose last period is counted only once it is whole: a log of yearly
    donations exported at the year's end rarely holds a donation on its last day.
    """
    limit = last_day
    if grace is not None and last_day is not None:
        limit = last_day + int(math.floor(unit_days(grace)))
    e = None if observation_end is None else date_to_day(observation_end, "observation_end")
    c = None if calibration_end is None else date_to_day(calibration_end, "calibration_end")
    for name, day in (("calibration_end", c), ("observation_end", e)):
        if day is not None and last_day is not None and day > limit:
            past = "" if grace is None else f" by more than one {grace}"
            raise CustomerEquityError(
                name, f"{day_to_date(day)} is after the last date of the log{past} "
                f"({day_to_date(last_day)}): the days after it were not observed; give a date up "
                f"to {day_to_date(limit)}", value=str(day_to_date(day)))
    if c is None:
        c = e if e is not None else last_day
    if e is None:
        e = max(c, last_day)
    if e < c:
        raise CustomerEquityError("observation_end", "must not be before the calibration end "
                                  f"({day_to_date(c)})", value=str(day_to_date(e)))
    if first_day is not None and c < first_day:
        raise CustomerEquityError("calibration_end", "is before the first transaction of the log "
                                  f"({day_to_date(first_day)}): there is nothing to calibrate on",
                                  value=str(day_to_date(c)))
    return c, e


_resolve_ends = resolve_ends  # the file job's name for it until it moves


def _column_of(log, name, what):
    if name in log.columns:
        return name
    key = re.sub(r"[\s\-]+", "_", str(name).strip().lower())
    for c in log.columns:
        if re.sub(r"[\s\-]+", "_", str(c).strip().lower()) == key:
            return c
    raise CustomerEquityError(str(name), f"column missing: the {what} column of the log; the "
                              "log has " + ", ".join(map(str, log.columns)))


def _blank_cells(col: pd.Series) -> np.ndarray:
    """The blank cells of a column (:func:`customer_equity.reading.is_blank`)."""
    blank = col.isna().to_numpy()
    if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
        blank = blank | (col.to_numpy(dtype=object) == "")
    return blank


def today_day(today=None) -> int:
    """Today (or ``today``) as days since 1970-01-01."""
    return date_to_day(_dt.date.today() if today is None else today, "today")


def summary_data(log: pd.DataFrame, customer: str = "customer_id", date: str = "date",
                 amount: str = "amount", *, unit: str = "week", calibration_end: object = None,
                 observation_end: object = None, today: object = None, strict: bool = False,
                 duplicates: str = "keep", rows: RowMap | None = None,
                 source: str = "log") -> LogSummary:
    """Summarise a transaction log per customer (SPEC 7; lifetimes' definitions).

    Parameters
    ----------
    log : pandas.DataFrame
        One row per transaction.
    customer, date, amount : str
        The log's columns (matched ignoring case, spaces and hyphens).
    unit : {"day", "week", "month", "year"}
        Unit of ``recency`` and ``T`` (days / 1, 7, 365.25/12, 365.25).
    calibration_end : date or str, optional
        Last day of the calibration period (inclusive), up to the log's last date. Default:
        the observation end.
    observation_end : date or str, optional
        Last day observed, up to the log's last date; later transactions are set aside
        (counted). Default: the last date in the log. After ``calibration_end`` it opens a
        holdout period.
    today : date or str, optional
        Transactions dated after it are set aside (counted, with their rows). Default: the
        computer's date.
    strict : bool
        Refuse a transaction dated after today instead of setting it aside.
    duplicates : {"keep", "drop"}
        Exact duplicate rows (same customer, day and amount) are kept and reported (the
        default, as lifetimes), or set aside.
    rows : RowMap, optional
        The rows a user sees for the log's rows, for messages and the report (default: row
        1 is the first row of ``log``).
    source : str
        What the log is, for the report.

    Returns
    -------
    LogSummary
        With :attr:`LogSummary.report`, the data report.

    Notes
    -----
    With ``c`` the calibration end, ``d_1 < ... < d_k`` a customer's purchase days
    up to ``c`` and ``s_j`` the amount of day ``d_j``:
    ``x = k - 1``, ``t_x = (d_k - d_1)/u``, ``T = (c - d_1)/u``,
    ``m_x = (s_2 + ... + s_k)/x``. Fader, Hardie & Lee (2005), section 5.

    Examples
    --------
    >>> log = pd.DataFrame({"customer_id": [1, 1, 1, 2], "amount": [10.0, 5.0, 20.0, 7.0],
    ...                     "date": ["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-08"]})
    >>> s = summary_data(log, unit="week", calibration_end="2024-01-29", today="2024-02-01")
    Traceback (most recent call last):
    ...
    customer_equity.errors.CustomerEquityError: calibration_end: 2024-01-29 is after the last date of the log (2024-01-15): the days after it were not observed; give a date up to 2024-01-15 (got '2024-01-29')
    >>> s = summary_data(log, unit="week", calibration_end="2024-01-15", today="2024-02-01")
    >>> s.customers
                 frequency  recency    T  monetary_value
    customer_id
    1                  1.0      2.0  2.0            20.0
    2                  0.0      0.0  1.0             0.0
    >>> print("\\n".join(s.report.lines()))
    Data read from log: 4 rows, 4 used
      set aside: none
      customers: 2 read, 2 used
      dates used: 2024-01-01 to 2024-01-15
      calibration: 2024-01-01 to 2024-01-15
      no row is dated after today (2024-02-01)
    """
    if not isinstance(log, pd.DataFrame):
        raise CustomerEquityError("log", "must be a pandas DataFrame, one row per transaction")
    unit_days(unit)
    if duplicates not in DUPLICATES:
        raise CustomerEquityError("duplicates", 'must be "keep" or "drop"', value=duplicates)
    rows = rows or RowMap()
    cust_col = _column_of(log, customer, "customer")
    date_col = _column_of(log, date, "date")
    amount_col = _column_of(log, amount, "amount")
    blanks = [_blank_cells(log[c]) for c in (cust_col, date_col, amount_col)]
    blank_row = blanks[0] & blanks[1] & blanks[2]
    at = np.flatnonzero(~blank_row)  # positions of the rows read
    numbers = np.asarray(rows.rows(at + 1), dtype=np.int64) if len(at) else np.zeros(0, np.int64)

    def located(err, name):
        row = None if err.row is None else int(numbers[err.row - 1])
        return CustomerEquityError(name, err.rule, row=row,
                                   **({"value": err.value} if err.has_value else {}))

    whole = len(at) == len(log)  # no blank row: the columns as they are, no copies

    def read(column):
        return log[column] if whole else log[column].iloc[at]

    ids = read(cust_col).to_numpy()
    missing = blanks[0][at]
    if missing.any():
        raise located(CustomerEquityError(str(cust_col), "a customer id is required here, the "
                                          "cell is blank", row=int(np.flatnonzero(missing)[0]) + 1,
                                          value=""), str(cust_col))
    try:
        days = to_days(read(date_col), str(date))
    except CustomerEquityError as err:
        raise located(err, str(date)) from None
    try:
        amounts = to_amounts(read(amount_col).to_numpy(), str(amount))
    except CustomerEquityError as err:
        raise located(err, str(amount)) from None
    codes, uniques = pd.factorize(ids, sort=True)
    report = DataReport(source=source, rows_read=int(len(log)), duplicates=duplicates)
    if blank_row.any():
        report.set_aside_rows("blank_rows", rows.rows(np.flatnonzero(blank_row)[:5] + 1),
                              count=int(blank_row.sum()))
    return summary_from_codes(codes, uniques, days, amounts, unit=unit,
                              calibration_end=calibration_end, observation_end=observation_end,
                              index_name=str(cust_col), today=today, strict=strict,
                              duplicates=duplicates, row_numbers=numbers, report=report,
                              names=(str(cust_col), str(date), str(amount)))


def summary_from_codes(codes, uniques, days, amounts, *, unit, calibration_end, observation_end,
                       index_name, first_day=None, last_day=None, counts=None, today=None,
                       strict=False, duplicates="keep", row_numbers=None, report=None,
                       names=("customer_id", "date", "amount")) -> LogSummary:
    """:func:`summary_data` from customers already numbered (``uniques[code]`` is the id).

    ``row_numbers`` are the rows a user sees for the rows given (default 1, 2, ...);
    ``report`` a :class:`DataReport` to complete (default: a new one).
    """
    counts = dict(counts or {})
    counts.setdefault("transactions", int(codes.size))

    def user(at):  # the user's rows of positions in the rows given
        at = np.asarray(at, dtype=np.int64)
        return at + 1 if row_numbers is None else np.asarray(row_numbers)[at]

    def first_rows(mask):
        return user(np.flatnonzero(mask)[:5])

    report = report or DataReport(source="log", rows_read=int(codes.size), duplicates=duplicates)
    t = today_day(today)
    report.today = day_to_date(t)
    future = days > t
    if strict and future.any():
        k = int(np.flatnonzero(future)[0])
        raise CustomerEquityError(names[1], f"dated {day_to_date(days[k])}, after today "
                                  f"({day_to_date(t)}): a typo in the year? Correct the date, or "
                                  "leave out the strict check to set such rows aside",
                                  row=int(user(k)), value=str(day_to_date(days[k])))
    any_future = bool(future.any())
    present = ~future
    if first_day is None and present.any():
        if any_future:
            first_day, last_day = int(days[present].min()), int(days[present].max())
        else:
            first_day, last_day = int(days.min()), int(days.max())
    if last_day is None:
        if any_future:
            raise CustomerEquityError(names[1], f"every transaction is dated after today "
                                      f"({day_to_date(t)}): nothing was observed yet",
                                      row=int(user(0)), value=str(day_to_date(days[0])))
        raise CustomerEquityError("log", "no transactions")
    c, e = resolve_ends(first_day, last_day, calibration_end, observation_end)
    report.observation_end = day_to_date(e)
    returns = (amounts < 0) & present
    late = present & ~returns & (days > e)
    keep = present & ~returns & ~late
    for reason, mask in (("future", future), ("returns", returns), ("after_observation_end", late)):
        n = int(mask.sum())
        counts[reason] = counts.get(reason, 0) + n
        if n:
            report.set_aside_rows(reason, first_rows(mask), count=n)
    zero = keep & (amounts == 0)
    counts["zero_amounts"] = counts.get("zero_amounts", 0) + int(zero.sum())
    if zero.any():
        report.report_rows("zero_amounts", first_rows(zero), count=int(zero.sum()))
    n = len(uniques)
    rows_of = np.bincount(codes, minlength=n)
    everything = bool(keep.all())
    kept_at = None if everything else np.flatnonzero(keep)  # positions of the rows kept
    kept_codes = codes if everything else codes[kept_at]
    kept_days = days if everything else days[kept_at]

    def kept_user(at):
        return user(at if kept_at is None else kept_at[np.asarray(at, dtype=np.int64)])

    try:
        parts = summarise_days(kept_codes, kept_days, amounts if everything else amounts[kept_at],
                               c, e, unit, n_codes=n, duplicates=duplicates)
    except CustomerEquityError as err:
        raise CustomerEquityError(names[2], err.rule, row=int(kept_user(err.row - 1))) from None
    repeated = parts.pop("duplicate_rows")
    counts["duplicates"] = counts.get("duplicates", 0) + int(repeated.size)
    if repeated.size:
        (report.set_aside_rows if duplicates == "drop" else report.report_rows)(
            "duplicates", kept_user(repeated[:5]), count=int(repeated.size))
    kept_of = np.bincount(kept_codes, minlength=n)
    newcomers = (kept_of > 0) & ~parts["in_calibration"]
    used = None  # all kept rows, unless duplicates are dropped or newcomers set aside
    if duplicates == "drop" and repeated.size:
        used = np.ones(kept_codes.size, dtype=bool)
        used[repeated] = False
    if newcomers.any():
        mask = newcomers[kept_codes] & (True if used is None else used)
        report.set_aside_rows("first_purchase_after_calibration", kept_user(np.flatnonzero(mask)[:5]),
                              count=int(mask.sum()))
        used = ~mask if used is None else used & ~mask
    all_returns = np.bincount(codes[returns], minlength=n) == rows_of
    gone = (rows_of > 0) & (kept_of == 0)
    report.customers = {"read": int((rows_of > 0).sum()), "used": int(parts["in_calibration"].sum()),
                        "returns_only": int((gone & all_returns).sum()),
                        "set_aside_only": int((gone & ~all_returns).sum())}
    report.rows_used = int(kept_codes.size if used is None else used.sum())
    if report.rows_used:
        lo, hi = np.iinfo(np.int64).min, np.iinfo(np.int64).max
        report.first_date = day_to_date(int(np.min(kept_days, where=used, initial=hi)
                                             if used is not None else kept_days.min()))
        report.last_date = day_to_date(int(np.max(kept_days, where=used, initial=lo)
                                            if used is not None else kept_days.max()))
        report.calibration = (report.first_date, day_to_date(c))
        if e > c:
            report.holdout = (day_to_date(c + 1), day_to_date(e))
    return assemble([(uniques, parts)], unit, c, e, index_name, counts, report=report)


def id_order(ids: ArrayLike) -> np.ndarray:
    """The order of customer ids: numbers as numbers, text of digits only as numbers
    (a CSV's ids), other text as text.

    >>> id_order(np.array(["10", "9", "100"], dtype=object)).tolist()
    [1, 0, 2]
    """
    values = np.asarray(ids, dtype=object) if not isinstance(ids, np.ndarray) else ids
    if values.dtype.kind in "iuf":
        return np.argsort(values, kind="stable")
    text = pd.Series(values, dtype=object)
    if len(text) and text.str.isdigit().all():
        return np.lexsort((values, text.str.len().to_numpy()))
    return np.argsort(values, kind="stable")


def _concat_ids(ids):
    if len(ids) == 1:
        return ids[0]
    if all(isinstance(i, np.ndarray) for i in ids):
        return np.concatenate(ids)
    return pd.Index(ids[0]).append([pd.Index(i) for i in ids[1:]]).array


def assemble(parts, unit, c, e, index_name, counts, sort=False, with_order=False, report=None):
    """One :class:`LogSummary` from the summaries of disjoint groups of customers.

    A part is ``(ids, columns)``: the arrays of :func:`summarise_days` (then only its
    calibration customers are taken, the others counted), or only the summary columns
    of calibration customers. With ``sort``, the customers are put in id order
    (:func:`id_order`). The parts' arrays are released column by column as they are
    copied in: the peak is one summary and a column or two, not two summaries. With
    ``with_order``, returns ``(summary, order)``: row ``i`` of the summary is row
    ``order[i]`` of the parts' calibration customers taken one after the other (``order``
    is None when no sorting was needed).
    """
    late = 0
    columns = ["frequency", "recency", "T", "monetary_value"]
    if e > c:
        columns += ["actual_purchases", "actual_amount"]
    parts = [[uniques, p] for uniques, p in parts]
    keeps = []
    for _, p in parts:
        keep = p.pop("in_calibration", None)
        first = p.pop("first", None)
        if keep is not None and first is not None:
            late += int(((first != np.iinfo(np.int64).max) & ~keep).sum())
        keeps.append(None if keep is None or keep.all() else keep)
        del first
    sizes = [len(uniques) if keep is None else int(keep.sum())
             for (uniques, _), keep in zip(parts, keeps)]
    n = sum(sizes)
    ids = []
    for part, keep in zip(parts, keeps):
        ids.append(part[0] if keep is None else part[0][keep])
        part[0] = None
    index = _concat_ids(ids) if ids else np.zeros(0)
    del ids
    order = rank = None
    if sort and len(sizes) > 1:
        order = id_order(index)
        index = index[order]
        # where each row goes: the columns are written in place, with no sorted copy
        rank = np.empty(n, dtype=np.int32 if n < 2 ** 31 else np.int64)
        rank[order] = np.arange(n, dtype=rank.dtype)
        if not with_order:
            order = None
    customers = {}
    for k in columns:
        column, at = np.empty(n), 0
        for (_, p), keep, m in zip(parts, keeps, sizes):
            values = p.pop(k)
            if keep is not None:
                values = values[keep]
            if rank is None:
                column[at:at + m] = values
            else:
                column[rank[at:at + m]] = values
            del values  # the part's copy goes as this one fills
            at += m
        customers[k] = column
    del parts, keeps, rank
    customers = pd.DataFrame(customers, index=pd.Index(index, name=index_name), columns=columns,
                             copy=False)
    counts = dict(counts)
    counts["first_purchase_after_calibration"] = counts.get("first_purchase_after_calibration", 0) + late
    for k in COUNT_NAMES:
        counts.setdefault(k, 0)
    if report is not None:
        report.customers["first_purchase_after_calibration"] = late
    summary = LogSummary(customers=customers, unit=unit, calibration_end=day_to_date(c),
                         observation_end=day_to_date(e), counts=counts, report=report)
    return (summary, order) if with_order else summary
