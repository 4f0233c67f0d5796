"""Dates of a transaction log: one vectorised parse in the form of the first date, and the
same days (or the same refusal, naming the same row, in the one reading's words) as reading
value by value (:func:`customer_equity.reading.date_days`).

Oracle: Python's ``datetime.date`` (days since 1970-01-01 counted by the standard library).
"""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from customer_equity import reading
from customer_equity.errors import CustomerEquityError
from customer_equity.model.forecast.data import date_format, to_days
from hypothesis import given, settings
from hypothesis import strategies as st

EPOCH = dt.date(1970, 1, 1)
FORMS = {"iso": "{:%Y-%m-%d}", "iso time": "{:%Y-%m-%d %H:%M}", "iso T seconds": "{:%Y-%m-%dT%H:%M:%S}",
         "compact": "{:%Y%m%d}", "slashes": "{:%Y/%m/%d}"}


def written(moments, form, pad=""):
    return [pad + FORMS[form].format(m) + pad for m in moments]


def days_by_hand(moments):
    return [(m.date() - EPOCH).days for m in moments]


@pytest.fixture(params=["pyarrow", "pandas only"])
def parser(request, monkeypatch):
    """to_days with pyarrow, and as in a base install without it (xlwings Lite)."""
    if request.param == "pandas only":
        monkeypatch.setattr(reading, "_pyarrow", lambda: None)
    return to_days


moments_lists = st.lists(st.datetimes(min_value=dt.datetime(1900, 1, 1),
                                      max_value=dt.datetime(2199, 12, 31)), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None)
@given(moments=moments_lists, form=st.sampled_from(sorted(FORMS)), pad=st.sampled_from(["", " "]))
def test_each_form_reads_as_the_standard_library_counts(moments, form, pad):
    text = written(moments, form, pad)
    expected = days_by_hand(moments)
    for values in (text, pd.Series(text), pd.Series(text, dtype=object), np.array(text, dtype=object)):
        assert to_days(values).tolist() == expected
    pa = pytest.importorskip("pyarrow")
    assert to_days(pa.array(text)).tolist() == expected


@pytest.mark.parametrize("form", sorted(FORMS))
def test_without_pyarrow_the_same_days(form, parser):
    moments = [dt.datetime(1997, 1, 1) + dt.timedelta(days=37 * k, minutes=k) for k in range(500)]
    assert parser(pd.Series(written(moments, form))).tolist() == days_by_hand(moments)


def test_the_fast_path_reads_the_column_in_one_pass(monkeypatch):
    """A clean column is read by Arrow in one pass: it never reaches the reading of one
    distinct value at a time."""
    pytest.importorskip("pyarrow")
    parsed = []
    one_pass = reading._arrow_text_days
    monkeypatch.setattr(reading, "_arrow_text_days",
                        lambda *a: parsed.append(one_pass(*a)) or parsed[-1])
    monkeypatch.setattr(pd, "factorize", lambda *a, **k: pytest.fail("value by value"))
    monkeypatch.setattr(reading, "date_days", lambda *a, **k: pytest.fail("value by value"))
    moments = [dt.datetime(2024, 1, 1) + dt.timedelta(hours=7 * k) for k in range(10_000)]
    for form in FORMS:
        assert to_days(pd.Series(written(moments, form))).tolist() == days_by_hand(moments)
    assert len(parsed) == len(FORMS) and all(p is not None for p in parsed)
    assert to_days(pd.Series([int(f"{m:%Y%m%d}") for m in moments])).tolist() == days_by_hand(moments)


@pytest.mark.parametrize("bad, row, message", [
    ("1997-02-30", 1001, f"{reading.DATE_RULE} (got '1997-02-30')"),
    ("  ", 1001, "expected a date, got a cell of spaces: clear the cell for a blank"),
    (None, 1001, "a date is required here, the cell is blank"),
    ("31/01/1997", 1001, f"{reading.DATE_RULE} (got '31/01/1997')"),
    ("1899-12-31", 1001, f"{reading.RANGE_RULE} (got '1899-12-31')"),
])
def test_a_bad_date_after_good_ones_is_named_by_its_row(bad, row, message, parser):
    values = pd.Series(["1997-01-01"] * 1000 + [bad] + ["1997-01-02"] * 10)
    with pytest.raises(CustomerEquityError) as err:
        parser(values, "date")
    assert str(err.value).startswith(f"date, row {row}: {message}")


def test_mixed_forms_are_still_read_value_by_value(parser):
    assert parser(pd.Series(["1997-01-31", "19970201", "1997/02/02", "1997-02-03 10:30"])).tolist() \
        == days_by_hand([dt.datetime(1997, 1, 31) + dt.timedelta(days=k) for k in range(4)])


def test_whole_numbers_yyyymmdd():
    assert to_days(np.array([19700101, 20240229, 19991231])).tolist() == [
        0, (dt.date(2024, 2, 29) - EPOCH).days, (dt.date(1999, 12, 31) - EPOCH).days]
    for bad, message in [(20230229, "not a date written YYYYMMDD"),
                         (19971301, "not a date written YYYYMMDD"),
                         (0.0, "a date is required here, the cell is blank or 0")]:
        with pytest.raises(CustomerEquityError, match=f"date, row 2: {message}"):
            to_days(np.array([19970101, bad]))
    # a number that is not YYYYMMDD is an Excel serial (1900 date system): 1997 is 1905-06-19
    serial = (dt.date(1899, 12, 30) + dt.timedelta(days=1997) - EPOCH).days
    assert to_days(np.array([19970101, 1997.5])).tolist() == [(dt.date(1997, 1, 1) - EPOCH).days,
                                                             serial]


def test_date_format_is_told_from_one_value():
    assert date_format("2024-01-31T10:00:00") == ("ISO8601", None)
    assert date_format("20240131") == ("%Y%m%d", 8)
    assert date_format("2024/01/31") == ("%Y/%m/%d", 10)
    assert date_format("31.01.2024") is None and date_format(20240131) is None
