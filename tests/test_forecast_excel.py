"""The forecasting CE_ functions (issue 13) through xlwings' COM and Office.js paths.

Valid input is compared with the core (``customer_equity.model.forecast``) and with
numbers worked out by hand here; bad input must come back as a readable #VALUE!
naming the argument and the cell's row, on both runtimes.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from customer_equity.excel import functions as excel
from customer_equity.model import forecast as fc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from fuzz_all import officejs_view
from test_fuzz_excel import WILD, com_outcome, ojs_outcome
from xlwings_harness import (
    OMITTED,
    CellError,
    Cells,
    OfficeJsRuntime,
    grid,
)

M = "customer_equity.excel.functions"

#: The forecasting functions and their arguments (the wizard shows each with help).
CATALOGUE = {
    "ce_log_summary": ["customer", "date", "amount", "unit", "calibration_end", "observation_end"],
    "ce_log_check": ["customer", "date", "amount", "unit", "calibration_end", "observation_end",
                     "today"],
    "ce_bgnbd_fit": ["frequency", "recency", "T"],
    "ce_p_alive": ["params", "frequency", "recency", "T"],
    "ce_expected_purchases": ["params", "horizon", "frequency", "recency", "T"],
    "ce_gamma_gamma_fit": ["frequency", "monetary_value"],
    "ce_expected_spend": ["params", "frequency", "monetary_value"],
    "ce_forecast_ltv": ["bgnbd", "gamma_gamma", "frequency", "recency", "T", "monetary_value",
                        "margin", "rate", "horizon", "timing"],
}


def call(rt, func, *args):
    return grid(rt.call(M, func, *args))


def shown_error(rt, func, *args):
    """The readable text of the error a cell shows, on either runtime."""
    shown = rt.call_cell(M, func, *args)
    if isinstance(shown, CellError):
        assert shown.code == "#VALUE!"
        text = shown.message
    else:
        text = grid(shown)[0][0]
        assert isinstance(text, str) and text.startswith("#VALUE! "), text
        text = text[len("#VALUE! "):]
    assert text.startswith(func.upper() + ": "), text
    assert "Traceback" not in text and "File " not in text
    return text


def column(values):
    return Cells([[v] for v in values])


# --- shared data -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cdnow():
    """The CDNOW sample summarised over a 39-week calibration (as in FHL 2005)."""
    s = fc.summary_data(fc.load_cdnow(), unit="week", calibration_end="1997-09-30",
                        observation_end="1998-06-30")
    c = s.customers
    return {"x": c["frequency"].to_numpy(), "t_x": c["recency"].to_numpy(), "T": c["T"].to_numpy(),
            "m": c["monetary_value"].to_numpy(), "summary": s,
            "bgnbd": fc.fit_bgnbd(c["frequency"], c["recency"], c["T"]),
            "gg": fc.fit_gamma_gamma(c["frequency"], c["monetary_value"])}


def fit_table_cells(fit):
    """The labelled table a fit function spills, as the cells a params argument reads."""
    rows = [["parameter", "estimate", "standard error"]]
    rows += [[k, fit.params[k], fit.standard_errors[k]] for k in fc.PARAMETER_NAMES[fit.model]]
    rows += [["log-likelihood", fit.log_likelihood, None], ["customers", fit.customers, None]]
    return Cells(rows)


# --- 1. the summary of a log --------------------------------------------------------------------

# A log worked by hand (unit week, calibration end 1997-01-29, observation end 1997-02-12, the
# log's last date):
#   customer 1 buys on 01-01 (twice: one occasion of 15), 01-15 (20) and, in the holdout, 02-12 (30):
#       x = 1, t_x = 14/7 = 2, T = 28/7 = 4, m_x = 20; holdout 1 purchase of 30
#   customer "B7" buys on 01-08 only: x = 0, t_x = 0, T = 21/7 = 3, m_x = 0; holdout 0
#   customer 3 first buys on 02-05, after the calibration end: not in the calibration
LOG_IDS = [1, 1, 1, "B7", 1, 3]
LOG_DATES = [dt.date(1997, 1, 1), dt.date(1997, 1, 1), dt.date(1997, 1, 15), dt.date(1997, 1, 8),
             dt.date(1997, 2, 12), dt.date(1997, 2, 5)]
LOG_AMOUNTS = [10.0, 5.0, 20.0, 7.0, 30.0, 12.0]
HAND_SUMMARY = [
    ["customer_id", "frequency", "recency", "T", "monetary_value", "actual_purchases", "actual_amount"],
    ["1", 1.0, 2.0, 4.0, 20.0, 1.0, 30.0],
    ["B7", 0.0, 0.0, 3.0, 0.0, 0.0, 0.0],
]


def _serial(d):
    return (d - dt.date(1899, 12, 30)).days


DATE_FORMS = {
    "date cells": lambda d: d,  # COM: a datetime; Office.js: the serial number
    "serial numbers": _serial,
    "ISO text": lambda d: d.isoformat(),
    "YYYYMMDD numbers": lambda d: int(d.strftime("%Y%m%d")),
}


@pytest.mark.parametrize("form", DATE_FORMS)
def test_log_summary_by_hand_with_each_form_of_date(runtime, form):
    dates = column([DATE_FORMS[form](d) for d in LOG_DATES])
    end = Cells([[DATE_FORMS[form](dt.date(1997, 1, 29))]])
    obs = Cells([[DATE_FORMS[form](dt.date(1997, 2, 12))]])
    got = call(runtime, "ce_log_summary", column(LOG_IDS), dates, column(LOG_AMOUNTS), "week", end, obs)
    assert [[str(r[0])] + r[1:] for r in got] == HAND_SUMMARY


def test_log_summary_defaults_week_and_the_last_date(runtime):
    # no calibration end: it is the last date (1997-02-12); customer 3 is then in
    got = call(runtime, "ce_log_summary", column(LOG_IDS[:4] + [1, 3]),
               column([d.isoformat() for d in LOG_DATES]), column(LOG_AMOUNTS))
    assert got[0] == excel._SUMMARY_HEADER
    rows = {str(r[0]): r[1:] for r in got[1:]}
    assert rows["1"] == [2.0, 6.0, 6.0, 25.0]  # days 01-01, 01-15, 02-12; mean of 20 and 30
    assert rows["3"] == [0.0, 0.0, 1.0, 0.0]  # 02-05 to 02-12


def test_log_summary_equals_the_core_on_the_cdnow_sample(runtime):
    log = fc.load_cdnow()
    serials = [float(_serial(d.date())) for d in log["date"]]
    got = call(runtime, "ce_log_summary", column(log["customer_id"].tolist()), column(serials),
               column(log["amount"].tolist()), "week", "1997-09-30", "1998-06-30")
    core = fc.summary_data(log, unit="week", calibration_end="1997-09-30",
                           observation_end="1998-06-30").customers
    assert got[0] == excel._SUMMARY_HEADER + excel._HOLDOUT_HEADER
    assert len(got) - 1 == len(core) == 2357
    assert [int(r[0]) for r in got[1:]] == core.index.tolist()
    assert np.allclose([r[1:] for r in got[1:]], core.to_numpy(), rtol=1e-12, atol=1e-12)


# --- 2. BG/NBD ----------------------------------------------------------------------------------------


def test_bgnbd_fit_equals_the_core_and_the_paper(runtime, cdnow):
    got = call(runtime, "ce_bgnbd_fit", column(cdnow["x"]), column(cdnow["t_x"]), column(cdnow["T"]))
    fit = cdnow["bgnbd"]
    assert [r[0] for r in got] == ["parameter", "r", "alpha", "a", "b", "log-likelihood", "customers"]
    for row in got[1:5]:
        assert row[1] == pytest.approx(fit.params[row[0]], rel=1e-9)
        assert row[2] == pytest.approx(fit.standard_errors[row[0]], rel=1e-6)
    assert got[5][1] == pytest.approx(fit.log_likelihood, rel=1e-12)
    assert got[6][1] == 2357
    # Fader, Hardie & Lee (2005), table 1: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4
    assert [round(r[1], 3) for r in got[1:5]] == [0.243, 4.414, 0.793, 2.426]
    assert got[5][1] == pytest.approx(-9582.4, abs=0.05)


@pytest.mark.parametrize("params_form", ["fit table", "row of numbers"])
def test_p_alive_and_expected_purchases_equal_the_core(runtime, cdnow, params_form):
    fit = cdnow["bgnbd"]
    params = fit_table_cells(fit) if params_form == "fit table" else Cells([list(fit.values)])
    n = 60  # the first customers of the sample
    x, t_x, T = (column(cdnow[k][:n]) for k in ("x", "t_x", "T"))
    got = call(runtime, "ce_p_alive", params, x, t_x, T)
    assert np.allclose(np.array(got)[:, 0], fc.p_alive(fit, cdnow["x"][:n], cdnow["t_x"][:n],
                                                       cdnow["T"][:n]), rtol=1e-12)
    got = call(runtime, "ce_expected_purchases", params, 39, x, t_x, T)
    assert np.allclose(np.array(got)[:, 0], fc.expected_purchases(fit, 39.0, cdnow["x"][:n],
                                                                  cdnow["t_x"][:n], cdnow["T"][:n]),
                       rtol=1e-12)


def test_p_alive_and_expected_purchases_by_hand(runtime):
    # r = a = 1, alpha = 2, b = 2; x = 1 at t_x = 2 of T = 6: odds 1/2 * (8/4)^2 = 2, P = 1/3
    got = call(runtime, "ce_p_alive", Cells([[1], [2], [1], [2]]), Cells([[1], [0]]),
               Cells([[2], [0]]), Cells([[6], [6]]))
    assert got == [[pytest.approx(1 / 3, rel=1e-14)], [1.0]]
    # x = 0, T = 0, a = 3, b = 2, r = 1, alpha = 2: E[Y(t)] = (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r
    # 2F1(r, b; a+b-1; t/(alpha+t))]; with r = 1 the series sums to a closed value, here by terms
    t, r, alpha, a, b = 10.0, 1.0, 2.0, 3.0, 2.0
    z = t / (alpha + t)
    term, series = 1.0, 0.0
    for k in range(400):
        series += term
        term *= (r + k) * (b + k) / ((a + b - 1 + k) * (k + 1)) * z
    expected = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * series)
    got = call(runtime, "ce_expected_purchases", Cells([[r, alpha, a, b]]), t, 0, 0, 0)
    assert got == [[pytest.approx(expected, rel=1e-12)]]


def test_expected_purchases_per_row_horizons_and_a_row_of_horizons(runtime, cdnow):
    fit = cdnow["bgnbd"]
    n = 8
    args = [column(cdnow[k][:n]) for k in ("x", "t_x", "T")]
    horizons = np.arange(1, n + 1) * 4.0
    got = call(runtime, "ce_expected_purchases", fit_table_cells(fit), column(horizons), *args)
    exp = [fc.expected_purchases(fit, h, cdnow["x"][k], cdnow["t_x"][k], cdnow["T"][k])[0]
           for k, h in enumerate(horizons)]
    assert np.allclose(np.array(got)[:, 0], exp, rtol=1e-12)
    got = call(runtime, "ce_expected_purchases", fit_table_cells(fit), Cells([[13, 26, 39, 52]]), *args)
    assert np.array(got).shape == (n, 4)
    for j, h in enumerate((13, 26, 39, 52)):
        assert np.allclose(np.array(got)[:, j], fc.expected_purchases(
            fit, float(h), cdnow["x"][:n], cdnow["t_x"][:n], cdnow["T"][:n]), rtol=1e-12)


# --- 3. Gamma-Gamma and the forecast value --------------------------------------------------------------


def test_gamma_gamma_fit_equals_the_core_and_the_paper(runtime, cdnow):
    got = call(runtime, "ce_gamma_gamma_fit", column(cdnow["x"]), column(cdnow["m"]))
    fit = cdnow["gg"]
    assert [r[0] for r in got] == ["parameter", "p", "q", "v", "log-likelihood", "customers",
                                   "frequency-spend correlation"]
    for row in got[1:4]:
        assert row[1] == pytest.approx(fit.params[row[0]], rel=1e-9)
        assert row[2] == pytest.approx(fit.standard_errors[row[0]], rel=1e-6)
    assert got[4][1] == pytest.approx(fit.log_likelihood, rel=1e-12)
    assert got[5][1] == fit.customers == int(((cdnow["x"] > 0) & (cdnow["m"] > 0)).sum())
    assert got[6][1] == pytest.approx(np.corrcoef(cdnow["x"][cdnow["x"] > 0],
                                                  cdnow["m"][cdnow["x"] > 0])[0, 1], rel=1e-12)


def test_expected_spend_by_hand_and_against_the_core(runtime, cdnow):
    # p = 2, q = 3, v = 10: new customer p v / (q - 1) = 10; x = 2, m = 25: 2 (10 + 50) / (4 + 2) = 20
    got = call(runtime, "ce_expected_spend", Cells([[2], [3], [10]]), Cells([[0], [2]]), Cells([[0], [25]]))
    assert got == [[10.0], [20.0]]
    n = 50
    got = call(runtime, "ce_expected_spend", fit_table_cells(cdnow["gg"]), column(cdnow["x"][:n]),
               column(cdnow["m"][:n]))
    assert np.allclose(np.array(got)[:, 0], fc.expected_spend(cdnow["gg"], cdnow["x"][:n], cdnow["m"][:n]),
                       rtol=1e-12)


def test_forecast_ltv_equals_the_core_and_the_discounted_increments(runtime, cdnow):
    n = 30
    cols = [column(cdnow[k][:n]) for k in ("x", "t_x", "T", "m")]
    got = call(runtime, "ce_forecast_ltv", fit_table_cells(cdnow["bgnbd"]), fit_table_cells(cdnow["gg"]),
               *cols, 0.3, 0.002, 52)
    x, t_x, T, m = (cdnow[k][:n] for k in ("x", "t_x", "T", "m"))
    core = fc.forecast_ltv(fc.forecast_values(cdnow["bgnbd"], cdnow["gg"], x, t_x, T, m, 52, 0.3), 0.002)
    assert np.allclose(np.array(got)[:, 0], core, rtol=1e-12)
    # by hand from the two predictions: sum_k (E[Y(k)] - E[Y(k-1)]) E[M] margin / 1.002^k
    ey = np.array([fc.expected_purchases(cdnow["bgnbd"], float(k), x, t_x, T) for k in range(53)])
    by_hand = (np.diff(ey, axis=0).T / 1.002 ** np.arange(1, 53)).sum(axis=1) \
        * fc.expected_spend(cdnow["gg"], x, m) * 0.3
    assert np.allclose(np.array(got)[:, 0], by_hand, rtol=1e-10)
    begin = call(runtime, "ce_forecast_ltv", Cells([list(cdnow["bgnbd"].values)]),
                 Cells([list(cdnow["gg"].values)]), *cols, 0.3, 0.002, 52, "begin")
    assert np.allclose(np.array(begin)[:, 0], np.array(got)[:, 0] * 1.002, rtol=1e-12)


# --- 4. bad input: a readable #VALUE! naming the argument and the row ----------------------------------

P4 = Cells([[0.25], [4.4], [0.8], [2.4]])
G3 = Cells([[6.0], [4.0], [15.0]])
DATES3 = column(["1997-01-01", "1997-01-08", "1997-01-15"])
IDS3 = column([1, 1, 2])
AMOUNTS3 = column([10.0, 20.0, 5.0])

INVALID = [
    ("ce_log_summary", (IDS3, column(["1997-01-01", "31/01/1997", "1997-01-15"]), AMOUNTS3),
     "date, row 2: expected a date"),
    ("ce_log_summary", (IDS3, column(["1997-01-01", "soon", "1997-01-15"]), AMOUNTS3),
     "date, row 2: expected a date"),
    ("ce_log_summary", (IDS3, column(["1997-01-01", True, "1997-01-15"]), AMOUNTS3),
     "date, row 2: expected a date"),
    ("ce_log_summary", (IDS3, column(["1997-01-01", "1997-01-08", CellError("#N/A")]), AMOUNTS3),
     "date, row 3: the cell holds the Excel error #N/A"),
    ("ce_log_summary", (IDS3, column([35431, 35438, 60]), AMOUNTS3), "date, row 3: 29 February 1900"),
    ("ce_log_summary", (IDS3, column([35431, 35438, 3e6]), AMOUNTS3), "date, row 3: expected a date"),
    ("ce_log_summary", (IDS3, column([35431, 35438, 19971345]), AMOUNTS3),
     "date, row 3: not a date written YYYYMMDD"),
    ("ce_log_summary", (IDS3, DATES3, column([10.0, "ten", 5.0])), "amount, row 2: expected a number, got text"),
    ("ce_log_summary", (IDS3, DATES3, column([10.0, None, 5.0])), "amount, row 2: a value is required"),
    ("ce_log_summary", (column([1, None, 2]), DATES3, AMOUNTS3), "customer, row 2: a customer id is required"),
    ("ce_log_summary", (IDS3, column(["1997-01-01", "1997-01-08"]), AMOUNTS3),
     "date: has 2 rows where customer has 3"),
    ("ce_log_summary", (IDS3, DATES3, AMOUNTS3, "fortnight"), "unit: must be one of day, week, month, year"),
    ("ce_log_summary", (IDS3, DATES3, AMOUNTS3, "week", "someday"), "calibration_end: expected a date"),
    ("ce_log_check", (IDS3, column(["1997-01-01", "31/01/1997", "1997-01-15"]), AMOUNTS3),
     "CE_LOG_CHECK: date, row 2: expected a date"),
    ("ce_log_check", (IDS3, DATES3, column([10.0, "n/a", 5.0])),
     "amount, row 2: 'n/a' stands for a missing value and is never read as 0"),
    ("ce_log_check", (IDS3, DATES3, AMOUNTS3, "week", "1997-02-01"),
     "calibration_end: 1997-02-01 is after the last date of the log (1997-01-15)"),
    ("ce_log_summary", (IDS3, DATES3, AMOUNTS3, "week", "1997-01-15", "1997-03-01"),
     "observation_end: 1997-03-01 is after the last date of the log (1997-01-15)"),
    ("ce_log_summary", (IDS3, DATES3, AMOUNTS3, "week", "1996-12-01"),
     "calibration_end: is before the first transaction"),
    ("ce_log_summary", (IDS3, DATES3, AMOUNTS3, "week", "1997-01-15", "1997-01-10"),
     "observation_end: must not be before the calibration end"),
    ("ce_bgnbd_fit", (column([0, 1, 0]), column([0, 2, 0]), column([5, 6, 7])),
     "frequency: too few repeat buyers"),
    ("ce_bgnbd_fit", (column([1, 2, 1]), column([2, 9, 1]), column([5, 6, 7])), "recency, row 2: must be <= T"),
    ("ce_bgnbd_fit", (column([1, 2.5, 1]), column([2, 3, 1]), column([5, 6, 7])),
     "frequency, row 2: must be a whole number >= 0"),
    ("ce_p_alive", (Cells([["r", 0.25], ["alpha", 4.4], ["a", 0.8]]), 1, 2, 5), "params: no row named 'b'"),
    ("ce_p_alive", (Cells([[0.25], [-4.4], [0.8], [2.4]]), 1, 2, 5), "params: alpha: must be a finite number > 0"),
    ("ce_p_alive", (Cells([[0.25], [4.4], [0.8]]), 1, 2, 5), "params: bgnbd needs 4 parameters"),
    ("ce_p_alive", (Cells([["#VALUE! CE_BGNBD_FIT: frequency: too few repeat buyers"]]), 1, 2, 5),
     "params: the fitted parameters show an error"),
    ("ce_p_alive", (P4, column([1, "x"]), column([2, 3]), column([5, 6])),
     "frequency, row 2: expected a number, got text"),
    ("ce_expected_purchases", (P4, -1, 1, 2, 5), "horizon: must be >= 0"),
    ("ce_expected_purchases", (P4, column([1, 2, 3]), column([1, 2]), column([2, 3]), column([5, 6])),
     "horizon: has 3 horizons for 2 customers"),
    ("ce_gamma_gamma_fit", (column([1, 2, 1, 3]), column([10, -5, 7, 9])),
     "monetary_value, row 2: must be >= 0"),
    ("ce_gamma_gamma_fit", (column([1, 0, 0]), column([10, 0, 0])), "monetary_value: too few repeat buyers"),
    ("ce_expected_spend", (Cells([[6.0], [0.5], [15.0]]), 1, 10), "params: q: must be > 1"),
    ("ce_forecast_ltv", (P4, G3, 1, 2, 5, 20, 0.3, 0.01, 2.5), "horizon: a number of periods must be a whole number"),
    ("ce_forecast_ltv", (P4, G3, 1, 2, 5, 20, 0.3, -1, 52), "rate: a per-period rate must be > -1"),
    ("ce_forecast_ltv", (P4, Cells([[6.0], [4.0]]), 1, 2, 5, 20, 0.3, 0.01, 52),
     "gamma_gamma: gamma_gamma needs 3 parameters"),
    ("ce_forecast_ltv", (P4, G3, 1, 2, 5, 20, "lots", 0.01, 52), "margin: expected a number, got text"),
]


def test_the_tables_cover_every_forecasting_function():
    assert {c[0] for c in INVALID} == set(CATALOGUE)
    assert set(CATALOGUE) <= set(excel.__all__)


@pytest.mark.parametrize("func,args,message", INVALID, ids=[f"{c[0]}-{k}" for k, c in enumerate(INVALID)])
def test_bad_input_is_a_readable_value_error(runtime, func, args, message):
    assert message in shown_error(runtime, func, *args)


def test_office_js_blank_date_cells_sent_as_0_or_null(ojs):
    text = shown_error(ojs, "ce_log_summary", IDS3, column(["1997-01-01", None, "1997-01-15"]), AMOUNTS3)
    assert "date, row 2: a date is required here, the cell is blank" in text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=st.one_of(st.text(min_size=1, max_size=12).filter(
    lambda s: not s.strip() or not s.strip()[0].isdigit()), st.booleans(),
    st.floats(min_value=-1e9, max_value=0.5), st.floats(min_value=3e6, max_value=1e7),
    st.sampled_from(["1997-02-30", "1997-13-01", "01/02/1997", "2/3/97", "20241399", "1997-1-1x"])),
    row=st.integers(min_value=1, max_value=4))
def test_generated_bad_dates_name_the_row_on_both_runtimes(com, bad, row):
    dates = ["1997-01-01", "1997-01-08", "1997-01-15", "1997-01-20"]
    dates[row - 1] = bad
    args = (column([1, 1, 2, 2]), column(dates), column([10.0, 20.0, 5.0, 6.0]))
    with OfficeJsRuntime(empty_cell=0) as ojs_rt:
        for rt in (com, ojs_rt):
            text = shown_error(rt, "ce_log_summary", *args)
            assert f"date, row {row}: " in text


# --- 5. the function wizard ---------------------------------------------------------------------


OPTIONAL = {"ce_log_summary": 3, "ce_log_check": 4, "ce_forecast_ltv": 1}


def test_every_argument_has_wizard_help_in_the_category(com):
    with OfficeJsRuntime() as o:
        meta = {f["name"]: f for f in o.meta(M)["functions"]}
    vba = com.import_functions(M)
    for func, args in CATALOGUE.items():
        f = meta[func.upper()]
        assert [p["name"] for p in f["parameters"]] == args
        assert all(len(p["description"]) > 5 for p in f["parameters"]), func
        required = len(args) - OPTIONAL.get(func, 0)
        assert [p.get("optional", False) for p in f["parameters"]] == [False] * required + [True] * (
            len(args) - required)
        assert not f.get("options", {}).get("volatile", False)
        options = vba.macro_options_for(func)
        assert options["Category"] == "Customer Equity"
        assert 10 < len(options["Description"]) <= 255 and "\n" not in options["Description"]
        assert len(options["ArgumentDescriptions"]) == len(args)
        assert all(d and len(d) <= 255 and not d.startswith("Positional argument")
                   for d in options["ArgumentDescriptions"]), func


def test_optional_arguments_may_be_left_out(runtime):
    got = call(runtime, "ce_log_summary", IDS3, DATES3, AMOUNTS3, OMITTED, OMITTED, OMITTED)
    assert got[0] == excel._SUMMARY_HEADER and len(got) == 3


# --- 6. anything (the fuzz test's wild cells) through both runtimes ------------------------------


def _wild_outcomes(com, ojs, func, args):
    """COM's outcome and Office.js' for each blank convention, with what each must be."""
    outcome = com_outcome(com, func, args)
    assert outcome[0] != "crash", (func, args, outcome)
    if outcome[0] == "error":
        assert outcome[1].startswith(func.upper() + ": ") and "Traceback" not in outcome[1]
    else:
        _check_cells(func, outcome[1])
    for empty in (None, 0):
        seen = officejs_view(args, empty)
        same = com_outcome(com, func, seen) if seen is not args else outcome
        got = ojs_outcome(ojs, func, args, empty)
        assert got[0] != "crash", (func, args, empty, got)
        assert got[0] == same[0], (func, args, empty, got, same)
        if got[0] == "error":
            assert got[1] == same[1], (func, args, empty, got, same)


def _check_cells(func, rows):
    """A value is finite numbers, except the labels of a table (header, row names, ids)."""
    import math

    tables = {"ce_log_summary": (1, 1), "ce_bgnbd_fit": (1, 1), "ce_gamma_gamma_fit": (1, 1),
              "ce_log_check": (1, 1)}
    skip_rows, skip_cols = tables.get(func, (0, 0))
    for i, row in enumerate(rows):
        for j, c in enumerate(row):
            if i < skip_rows or j < skip_cols:
                continue
            if func == "ce_log_check" and (j == 2 or isinstance(c, str)):
                # the first rows of an item ("2, 5"); dates and periods are text ("1997-01-01")
                assert isinstance(c, str) and "nan" not in c.lower() and "inf" not in c.lower(), rows
                continue
            if c == "" and func in ("ce_bgnbd_fit", "ce_gamma_gamma_fit"):
                continue  # an undefined standard error, or the label rows' empty column
            assert isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c), (func, rows)


@st.composite
def _wild_forecast_args(draw, func):
    extra = st.sampled_from(["1997-01-31", "31/01/1997", 35431, 19970131, 60, 0.0, "r", "alpha",
                             "week", "#VALUE! CE_BGNBD_FIT: x", 1e6, -3.0])
    cell = st.one_of(WILD, extra)
    args = []
    for _ in CATALOGUE[func]:
        kind = draw(st.sampled_from(["omitted", "scalar", "range", "range"]))
        if kind == "omitted":
            args.append(OMITTED)
        elif kind == "scalar":
            v = draw(cell)
            # a blank is a referenced blank cell (a formula cannot hold a blank literal)
            args.append(v if isinstance(v, (str, bool, int, float)) else Cells([[v]]))
        else:
            rows, cols = draw(st.integers(1, 4)), draw(st.integers(1, 2))
            args.append(Cells([[draw(cell) for _ in range(cols)] for _ in range(rows)]))
    return args


@pytest.mark.parametrize("func", sorted(CATALOGUE))
@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_anything_is_a_value_or_a_readable_error_alike_on_both_runtimes(com, func, data):
    args = data.draw(_wild_forecast_args(func))
    declared = com.module(M).__dict__[func].__xlfunc__["args"]
    for k, a in enumerate(declared):  # a formula cannot leave a required argument out
        if args[k] is OMITTED and "optional" not in a:
            args[k] = Cells([[None]])
    with OfficeJsRuntime() as ojs:
        _wild_outcomes(com, ojs, func, args)
