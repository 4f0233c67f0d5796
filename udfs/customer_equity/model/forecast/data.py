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

Readings chosen where a log is untidy (each counted in :attr:`LogSummary.counts`):

* a negative amount is a return, not a purchase occasion: the row is left out;
* a zero amount is a purchase occasion (a free item is still a visit);
* a transaction after the observation end is left out;
* a customer whose first purchase is after the calibration end is not in the
  calibration (a new customer of the holdout period) and is left out.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ...errors import CustomerEquityError
from .. import validate as v

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
               "first_purchase_after_calibration")

_EPOCH = _dt.date(1970, 1, 1)


def date_to_day(value: object, name: str = "date") -> int:
    """A date (``YYYY-MM-DD``, ``YYYYMMDD``, a ``date`` or a ``Timestamp``) as days since 1970-01-01.

    >>> date_to_day("1970-01-11"), date_to_day("19700102")
    (10, 1)
    """
    if value is None:
        raise CustomerEquityError(name, "a date is required")
    try:
        return int(to_days(np.array([value], dtype=object), name)[0])
    except CustomerEquityError as err:  # one value: no row to name
        raise CustomerEquityError(name, err.rule, value=value) from None


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


def to_days(values: ArrayLike, name: str = "date") -> np.ndarray:
    """Dates as whole days since 1970-01-01 (int64); times of day are dropped.

    Accepts datetimes, ``date`` objects, text in ISO 8601 (``1997-01-31``,
    ``1997-01-31 14:05``), ``YYYYMMDD`` or ``YYYY/MM/DD``, and whole numbers
    ``YYYYMMDD``. A blank or unreadable date is refused with its row (1-based).

    Text is parsed in one vectorised pass in the form of its first date
    (:func:`date_format`; Arrow's parser where pyarrow is installed, else pandas');
    a column that does not all read that way (blanks, mixed forms, bad dates) is read
    value by value form after form, which names the first bad row.

    >>> to_days(["1970-01-02", "19700103", "1970/01/04 10:30"]).tolist()
    [1, 2, 3]
    >>> to_days(["1997-01-01", "01/02/1997"])
    Traceback (most recent call last):
    ...
    customer_equity.errors.CustomerEquityError: date, row 2: expected a date as YYYY-MM-DD (or YYYYMMDD) (got '01/02/1997')
    """
    fast = _arrow_days(values)
    if fast is None:
        fast = _text_days(values)
    if fast is None and isinstance(values, (pd.Series, np.ndarray)) and values.dtype.kind in "iuf":
        raw = values.to_numpy() if isinstance(values, pd.Series) else values
        numbers = raw.astype(np.float64)
        if not np.isnan(numbers).any():  # a blank is named as such by the general path
            fast = _yyyymmdd(numbers, raw, name)
    if fast is not None:
        return fast
    return _days_value_by_value(values, name)


def _pyarrow():
    """``(pyarrow, pyarrow.compute)``, or None in a base install (xlwings Lite)."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        return None
    return pa, pc


def _text_days(values):
    """One vectorised parse of a column of text dates in the form of its first value, or
    None (not all text, blanks, another form, a bad date: the general path decides)."""
    if isinstance(values, pd.Series):
        s = values
    elif isinstance(values, (np.ndarray, list, tuple)):
        s = pd.Series(np.asarray(values, dtype=object) if not isinstance(values, np.ndarray)
                      else values)
    else:
        return None
    if not len(s) or not (pd.api.types.is_string_dtype(s.dtype)
                          and pd.api.types.infer_dtype(s, skipna=False) == "string"):
        return None
    arrow = _pyarrow()
    if arrow is None:
        form = date_format(s.iloc[0])
        if form is None:
            return None
        text = s.str.strip()
        if form[1] is not None and not (text.str.len() == form[1]).all():
            return None
        with np.errstate(all="ignore"):
            dt = pd.to_datetime(text, format=form[0], errors="coerce")
        if dt.isna().any() or isinstance(dt.dtype, pd.DatetimeTZDtype):
            return None
        return dt.to_numpy().astype("datetime64[D]").astype(np.int64)
    pa = arrow[0]
    try:
        strings = pa.array(s, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return _arrow_days(strings)


def _days_value_by_value(values, name):
    """The general path of :func:`to_days`: mixed forms, and the first bad row named."""
    s = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=object)
                                                              if not hasattr(values, "dtype") else values)
    s = s.reset_index(drop=True)
    raw = s.to_numpy()
    blank = s.isna().to_numpy().copy()
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        text = s.map(lambda x: x.strip() if isinstance(x, str) else x)
        blank |= (text == "").to_numpy()
        s = text.where(~blank, None)
    if blank.any():
        _first_bad(blank, raw, name, "a date is required here, the cell is blank")
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.to_numpy().astype("datetime64[D]").astype(np.int64)
    if pd.api.types.is_bool_dtype(s.dtype):
        _first_bad(np.ones(len(s), bool), raw, name, "expected a date, got a TRUE/FALSE value")
    if pd.api.types.is_numeric_dtype(s.dtype):
        return _yyyymmdd(s.to_numpy(dtype=np.float64), raw, name)
    obj = s.map(lambda x: str(int(x)) if isinstance(x, (int, np.integer)) else x)
    best = None
    for fmt in ("ISO8601", "%Y%m%d", "%Y/%m/%d"):
        with np.errstate(all="ignore"):
            try:
                dt = pd.to_datetime(obj, format=fmt, errors="coerce")
            except (ValueError, TypeError, OverflowError):
                continue
        if best is None or dt.isna().sum() < best.isna().sum():
            best = dt
        if not dt.isna().any():
            break
    dt = best
    if dt is None or dt.isna().any():
        bad = np.ones(len(s), bool) if dt is None else dt.isna().to_numpy()
        _first_bad(bad, raw, name, "expected a date as YYYY-MM-DD (or YYYYMMDD)")
    return dt.to_numpy().astype("datetime64[D]").astype(np.int64)


def _yyyymmdd(numbers, raw, name):
    """Whole numbers ``YYYYMMDD`` as days, in integer arithmetic (no text)."""
    whole = np.isfinite(numbers) & (numbers == np.floor(numbers)) & (numbers >= 10000101) \
        & (numbers <= 99991231)
    if not whole.all():
        _first_bad(~whole, raw, name, "expected a date; a number must be a date written YYYYMMDD")
    n = numbers.astype(np.int64)
    year, rest = np.divmod(n, 10000)
    month, day = np.divmod(rest, 100)
    ok = (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
    months = ((year - 1970) * 12 + np.clip(month, 1, 12) - 1).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + (np.clip(day, 1, 31) - 1).astype("timedelta64[D]")
    ok &= days.astype("datetime64[M]") == months  # not 30 February
    if not ok.all():
        _first_bad(~ok, raw, name, "expected a date written YYYYMMDD")
    return days.astype(np.int64)


def _arrow_days(values):
    """An arrow column of dates, timestamps or text in one form (:func:`date_format`), parsed
    by Arrow; None where the general path must decide."""
    arrow = _pyarrow()
    if arrow is None:
        return None
    pa, pc = arrow
    if not isinstance(values, (pa.Array, pa.ChunkedArray)):
        return None
    if values.null_count or not len(values):
        return None  # the general path names the blank row
    t = values.type
    try:
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            text = pc.utf8_trim_whitespace(values)
            form = date_format(text[0].as_py())
            if form is None:
                return None
            fmt, length = form
            if length is not None and pc.min(pc.utf8_length(text)).as_py() != length \
                    or length is not None and pc.max(pc.utf8_length(text)).as_py() != length:
                return None
            if fmt == "ISO8601":
                values = pc.cast(text, pa.timestamp("s"))
            else:
                values = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
                if values.null_count:
                    return None
            t = values.type
        if pa.types.is_timestamp(t) or pa.types.is_date(t):
            if pa.types.is_timestamp(t) and t.tz is not None:
                values = pc.local_timestamp(values)
            days = pc.cast(pc.cast(values, pa.date32()), pa.int32())
            return np.asarray(days.to_numpy(zero_copy_only=False), dtype=np.int64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    return None


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
        values = np.array([x.strip() if isinstance(x, str) else x for x in values], dtype=object)
        values = np.where(values == "", None, values)
        text = np.array([isinstance(x, str) for x in values])
        if text.any():  # numbers written as text (a CSV read as text, a text column)
            parsed = pd.to_numeric(pd.Series(values[text]), errors="coerce").to_numpy()
            if np.isnan(parsed).any():
                row = int(np.flatnonzero(text)[np.flatnonzero(np.isnan(parsed))[0]])
                raise CustomerEquityError(name, "expected a number, got text", row=row + 1,
                                          value=values[row])
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
        ``first_purchase_after_calibration`` (customers left out).
    """

    customers: pd.DataFrame
    unit: str
    calibration_end: _dt.date
    observation_end: _dt.date
    counts: dict

    @property
    def holdout(self) -> bool:
        """Whether there is a holdout period after the calibration end."""
        return self.observation_end > self.calibration_end

    @property
    def holdout_length(self) -> float:
        """Length of the holdout period in the unit."""
        return (self.observation_end - self.calibration_end).days / UNITS[self.unit]


def summarise_days(codes: ArrayLike, days: ArrayLike, amounts: ArrayLike, calibration_end: int,
                   observation_end: int, unit: str = "week", n_codes: int | None = None) -> dict:
    """The summary of customers numbered ``0..n_codes-1`` from their transaction days.

    ``days`` and the two ends are days since 1970-01-01; transactions must already
    be within the observation end and have amounts >= 0. Returns arrays over the
    codes: ``first`` (day), ``in_calibration`` (bool) and the summary columns.
    The building block of :func:`summary_data` and of the streamed summaries,
    which call it once per part of the customers.
    """
    codes = np.asarray(codes, dtype=np.int64)
    days = np.asarray(days, dtype=np.int64)
    amounts = np.asarray(amounts, dtype=np.float64)
    n = int(codes.max(initial=-1)) + 1 if n_codes is None else int(n_codes)
    u = unit_days(unit)
    if days.size:
        lo = int(days.min())
        span = int(days.max()) - lo + 1
        key = codes * span + (days - lo)
        order = np.argsort(key, kind="stable")
        key = key[order]
        amounts = amounts[order]
        new = np.empty(key.size, dtype=bool)
        new[0] = True
        np.not_equal(key[1:], key[:-1], out=new[1:])
        pair_key = key[new]
        pair_amount = np.add.reduceat(amounts, np.flatnonzero(new))
        pair_code = pair_key // span
        pair_day = pair_key % span + lo
    else:
        pair_code = pair_day = np.zeros(0, dtype=np.int64)
        pair_amount = np.zeros(0)
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
    total = np.bincount(cal_code, weights=pair_amount[cal], minlength=n)
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
        out["actual_amount"] = np.bincount(pair_code[hold], weights=pair_amount[hold], minlength=n)
    return out


def resolve_ends(first_day, last_day, calibration_end, observation_end):
    """The calibration and observation ends as days; defaults from the log's dates."""
    e = None if observation_end is None else date_to_day(observation_end, "observation_end")
    c = None if calibration_end is None else date_to_day(calibration_end, "calibration_end")
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


def _column_of(log, name, what):
    if name in log.columns:
        return name
    key = re.sub(r"[\s\-]+", "_", str(name).strip().lower())
    for c in log.columns:
        if re.sub(r"[\s\-]+", "_", str(c).strip().lower()) == key:
            return c
    raise CustomerEquityError(str(name), f"column missing: the {what} column of the log; the "
                              "log has " + ", ".join(map(str, log.columns)))


def summary_data(log: pd.DataFrame, customer: str = "customer_id", date: str = "date",
                 amount: str = "amount", *, unit: str = "week", calibration_end: object = None,
                 observation_end: object = None) -> LogSummary:
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
        Last day of the calibration period (inclusive). Default: the observation end.
    observation_end : date or str, optional
        Last day observed; later transactions are left out (counted). Default: the
        last date in the log. After ``calibration_end`` it opens a holdout period.

    Returns
    -------
    LogSummary

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
    >>> s = summary_data(log, unit="week", calibration_end="2024-01-29")
    >>> s.customers
                 frequency  recency    T  monetary_value
    customer_id
    1                  1.0      2.0  4.0            20.0
    2                  0.0      0.0  3.0             0.0
    """
    if not isinstance(log, pd.DataFrame):
        raise CustomerEquityError("log", "must be a pandas DataFrame, one row per transaction")
    unit_days(unit)
    cust_col = _column_of(log, customer, "customer")
    ids = log[cust_col].to_numpy()
    missing = pd.isna(log[cust_col]).to_numpy()
    if missing.any():
        _first_bad(missing, ids, str(cust_col), "a customer id is required here, the cell is blank")
    days = to_days(log[_column_of(log, date, "date")], str(date))
    amounts = to_amounts(log[_column_of(log, amount, "amount")].to_numpy(), str(amount))
    codes, uniques = pd.factorize(ids, sort=True)
    return summary_from_codes(codes, uniques, days, amounts, unit=unit,
                              calibration_end=calibration_end, observation_end=observation_end,
                              index_name=str(cust_col))


def summary_from_codes(codes, uniques, days, amounts, *, unit, calibration_end, observation_end,
                       index_name, first_day=None, last_day=None, counts=None) -> LogSummary:
    """:func:`summary_data` from customers already numbered (``uniques[code]`` is the id)."""
    counts = dict(counts or {})
    counts.setdefault("transactions", int(codes.size))
    if first_day is None and days.size:
        first_day, last_day = int(days.min()), int(days.max())
    if last_day is None:
        raise CustomerEquityError("log", "no transactions")
    c, e = resolve_ends(first_day, last_day, calibration_end, observation_end)
    returns = amounts < 0
    late = days > e
    counts["returns"] = counts.get("returns", 0) + int(returns.sum())
    counts["zero_amounts"] = counts.get("zero_amounts", 0) + int((amounts == 0).sum())
    counts["after_observation_end"] = counts.get("after_observation_end", 0) + int((late & ~returns).sum())
    keep = ~(returns | late)
    if not keep.all():
        codes, days, amounts = codes[keep], days[keep], amounts[keep]
    parts = summarise_days(codes, days, amounts, c, e, unit, n_codes=len(uniques))
    return assemble([(uniques, parts)], unit, c, e, index_name, counts)


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


def assemble(parts, unit, c, e, index_name, counts, sort=False, with_order=False):
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
    summary = LogSummary(customers=customers, unit=unit, calibration_end=day_to_date(c),
                         observation_end=day_to_date(e), counts=counts)
    return (summary, order) if with_order else summary
