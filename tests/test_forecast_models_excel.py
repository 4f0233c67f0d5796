"""The CE_ functions of the models beyond BG/NBD (issue 22) through xlwings' COM and Office.js
paths: Pareto/NBD, MBG/NBD, BG/BB and shifted-beta-geometric retention.

Valid input is compared with the core (``customer_equity.model.forecast``, itself tested against
the papers and lifetimes in test_forecast_models.py), with the published estimates and with
numbers worked out by hand here; bad input must come back as a readable #VALUE! naming the
argument and the cell's position, on both runtimes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from customer_equity.excel import functions as excel
from customer_equity.model import forecast as fc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from fuzz_all import officejs_view
from test_forecast_excel import call, shown_error
from test_fuzz_excel import WILD, com_outcome, ojs_outcome
from xlwings_harness import OMITTED, CellError, Cells, OfficeJsRuntime

M = "customer_equity.excel.functions"

#: The functions of this block and their arguments (the wizard shows each with help).
CATALOGUE = {
    "ce_pareto_nbd_fit": ["frequency", "recency", "T"],
    "ce_pareto_nbd_p_alive": ["params", "frequency", "recency", "T"],
    "ce_pareto_nbd_expected_purchases": ["params", "horizon", "frequency", "recency", "T"],
    "ce_mbgnbd_fit": ["frequency", "recency", "T"],
    "ce_mbgnbd_p_alive": ["params", "frequency", "recency", "T"],
    "ce_mbgnbd_expected_purchases": ["params", "horizon", "frequency", "recency", "T"],
    "ce_bgbb_fit": ["frequency", "recency", "n_periods", "weights"],
    "ce_bgbb_p_alive": ["params", "frequency", "recency", "n_periods", "m_periods"],
    "ce_bgbb_expected_purchases": ["params", "m_periods", "frequency", "recency", "n_periods"],
    "ce_sbg_fit": ["survivors"],
    "ce_sbg_retention": ["params", "periods"],
    "ce_sbg_survival": ["params", "periods"],
    "ce_sbg_derl": ["params", "rate", "renewals"],
    "ce_sbg_ltv": ["params", "margin", "rate", "periods", "renewals", "timing"],
}
OPTIONAL = {"ce_bgbb_fit": 1, "ce_bgbb_p_alive": 1, "ce_sbg_derl": 1, "ce_sbg_ltv": 3}
FITS = {"ce_pareto_nbd_fit", "ce_mbgnbd_fit", "ce_bgbb_fit", "ce_sbg_fit"}

REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]


def column(values):
    return Cells([[float(v) if isinstance(v, (int, float, np.number)) else v] for v in values])


def table_cells(fit):
    """The labelled table a fit function spills, as a params argument reads it."""
    rows = [["parameter", "estimate", "standard error"]]
    rows += [[k, fit.params[k], fit.standard_errors[k]] for k in fc.PARAMETER_NAMES[fit.model]]
    rows += [["log-likelihood", fit.log_likelihood, None], ["customers", fit.customers, None]]
    return Cells(rows)


@pytest.fixture(scope="module")
def cdnow():
    s = fc.summary_data(fc.load_cdnow(), unit="week", calibration_end="1997-09-30").customers
    x, t_x, T = (s[k].to_numpy() for k in ("frequency", "recency", "T"))
    return {"x": x, "t_x": t_x, "T": T, "pareto_nbd": fc.fit_pareto_nbd(x, t_x, T),
            "mbgnbd": fc.fit_mbgnbd(x, t_x, T)}


@pytest.fixture(scope="module")
def donations():
    pytest.importorskip("lifetimes")
    from lifetimes.datasets import load_donations

    d = load_donations()
    x, t_x, n, w = (d[k].to_numpy().astype(float) for k in ("frequency", "recency", "periods", "weights"))
    return {"x": x, "t_x": t_x, "n": n, "w": w, "fit": fc.fit_bgbb(x, t_x, n, weights=w)}


# --- 1. Pareto/NBD and MBG/NBD ------------------------------------------------------------------

@pytest.mark.parametrize("model, published", [("pareto_nbd", (0.553, 10.578, 0.606, 11.669)),
                                              ("mbgnbd", None)])
def test_fits_equal_the_core_and_the_paper(runtime, cdnow, model, published):
    name = "ce_pareto_nbd_fit" if model == "pareto_nbd" else "ce_mbgnbd_fit"
    got = call(runtime, name, column(cdnow["x"]), column(cdnow["t_x"]), column(cdnow["T"]))
    fit = cdnow[model]
    names = list(fc.PARAMETER_NAMES[model])
    assert [r[0] for r in got] == ["parameter", *names, "log-likelihood", "customers"]
    for row in got[1:5]:
        assert row[1] == pytest.approx(fit.params[row[0]], rel=1e-9)
        assert row[2] == pytest.approx(fit.standard_errors[row[0]], rel=1e-6)
    assert got[5][1] == pytest.approx(fit.log_likelihood, rel=1e-12) and got[6][1] == 2357
    if published:  # Fader, Hardie & Lee (2005): CDNOW in weeks
        assert [float(f"{r[1]:.3g}") for r in got[1:5]] == [float(f"{p:.3g}") for p in published]


@pytest.mark.parametrize("model", ["pareto_nbd", "mbgnbd"])
@pytest.mark.parametrize("params_form", ["fit table", "row of numbers"])
def test_p_alive_and_expected_purchases_equal_the_core(runtime, cdnow, model, params_form):
    fit = cdnow[model]
    prefix = "ce_pareto_nbd" if model == "pareto_nbd" else "ce_mbgnbd"
    alive = fc.pareto_nbd_p_alive if model == "pareto_nbd" else fc.mbgnbd_p_alive
    expected = (fc.pareto_nbd_expected_purchases if model == "pareto_nbd"
                else fc.mbgnbd_expected_purchases)
    params = table_cells(fit) if params_form == "fit table" else Cells([list(fit.values)])
    n = 40
    x, t_x, T = (cdnow[k][:n] for k in ("x", "t_x", "T"))
    cols = [column(v) for v in (x, t_x, T)]
    got = call(runtime, f"{prefix}_p_alive", params, *cols)
    np.testing.assert_allclose(np.array(got)[:, 0], alive(fit, x, t_x, T), rtol=1e-12)
    got = call(runtime, f"{prefix}_expected_purchases", params, 39, *cols)
    np.testing.assert_allclose(np.array(got)[:, 0], expected(fit, 39.0, x, t_x, T), rtol=1e-12)
    got = call(runtime, f"{prefix}_expected_purchases", params, Cells([[13, 26, 52]]), *cols)
    assert np.array(got).shape == (n, 3)
    for j, h in enumerate((13, 26, 52)):
        np.testing.assert_allclose(np.array(got)[:, j], expected(fit, float(h), x, t_x, T), rtol=1e-12)
    horizons = np.arange(1, n + 1, dtype=float)
    got = call(runtime, f"{prefix}_expected_purchases", params, column(horizons), *cols)
    np.testing.assert_allclose(np.array(got)[:, 0], expected(fit, horizons, x, t_x, T), rtol=1e-12)


def test_pareto_nbd_by_hand(runtime):
    # alpha = beta: the hypergeometric terms are 1. r = s = 2, alpha = beta = 1, x = 1, t_x = 1,
    # T = 2, a = r + s + x = 5: L = G(3)/G(2) / 5 [2 / 2^5 + 3 / 3^5], P(alive) = G(3)/G(2) 3^-3 3^-2 / L
    L = 2 / 5 * (2 / 2 ** 5 + 3 / 3 ** 5)
    p = 2 * 3 ** -3 * 3 ** -2 / L
    got = call(runtime, "ce_pareto_nbd_p_alive", Cells([[2, 1, 2, 1]]), 1, 1, 2)
    assert got == [[pytest.approx(p, rel=1e-13)]]
    # E[Y(t)] = P (r+x)(beta+T)/((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)], t = 3
    e = p * 3 * 3 / (3 * 1) * (1 - 3 / 6)
    got = call(runtime, "ce_pareto_nbd_expected_purchases", Cells([[2], [1], [2], [1]]), 3, 1, 1, 2)
    assert got == [[pytest.approx(e, rel=1e-13)]]


def test_mbgnbd_by_hand(runtime):
    # r = a = b = 1, alpha = 2, no repeat purchase in T = 2: odds 1/(1+0) (4/2)^1 = 2, P = 1/3
    got = call(runtime, "ce_mbgnbd_p_alive", Cells([[1, 2, 1, 1]]), Cells([[0], [1]]),
               Cells([[0], [2]]), Cells([[2], [2]]))
    assert got == [[pytest.approx(1 / 3, rel=1e-14)], [pytest.approx(2 / 3, rel=1e-14)]]


# --- 2. BG/BB ---------------------------------------------------------------------------------------

def test_bgbb_fit_on_the_donations_table(runtime, donations):
    d = donations
    got = call(runtime, "ce_bgbb_fit", column(d["x"]), column(d["t_x"]), column(d["n"]), column(d["w"]))
    assert [r[0] for r in got] == ["parameter", "alpha", "beta", "gamma", "delta", "log-likelihood",
                                   "customers"]
    # Fader, Hardie & Shang (2010): alpha 1.204, beta 0.750, gamma 0.657, delta 2.783, LL -33,225.6
    assert [round(r[1], 3) for r in got[1:5]] == [1.204, 0.750, 0.657, 2.783]
    assert got[5][1] == pytest.approx(-33225.6, abs=0.05) and got[6][1] == 11104
    for row in got[1:5]:
        assert row[2] == pytest.approx(d["fit"].standard_errors[row[0]], rel=1e-6)


def test_bgbb_p_alive_and_expected_purchases(runtime, donations):
    d = donations
    fit = d["fit"]
    cols = [column(d[k]) for k in ("x", "t_x", "n")]
    got = call(runtime, "ce_bgbb_p_alive", table_cells(fit), *cols)  # m omitted: the next opportunity
    np.testing.assert_allclose(np.array(got)[:, 0], fc.bgbb_p_alive(fit, d["x"], d["t_x"], d["n"], 1),
                               rtol=1e-12)
    got = call(runtime, "ce_bgbb_p_alive", Cells([list(fit.values)]), *cols, 0)
    np.testing.assert_allclose(np.array(got)[:, 0], fc.bgbb_p_alive(fit, d["x"], d["t_x"], d["n"], 0),
                               rtol=1e-12)
    got = call(runtime, "ce_bgbb_expected_purchases", table_cells(fit), Cells([[1, 5]]), *cols)
    for j, m in enumerate((1, 5)):
        np.testing.assert_allclose(np.array(got)[:, j],
                                   fc.bgbb_expected_purchases(fit, m, d["x"], d["t_x"], d["n"]), rtol=1e-12)
    # by hand, alpha = beta = gamma = delta = 1, one opportunity not taken: L = 3/4,
    # P(alive at 1) = B(1,2)^2 / L = 1/3, at the next (2) B(1,2) B(1,3) / L = 2/9;
    # E over the next one = (4/3) B(2,2) B(1,3) = 2/27
    assert call(runtime, "ce_bgbb_p_alive", Cells([[1, 1, 1, 1]]), 0, 0, 1, 0) == \
        [[pytest.approx(1 / 3, rel=1e-13)]]
    assert call(runtime, "ce_bgbb_p_alive", Cells([[1, 1, 1, 1]]), 0, 0, 1) == \
        [[pytest.approx(2 / 9, rel=1e-13)]]
    assert call(runtime, "ce_bgbb_expected_purchases", Cells([[1, 1, 1, 1]]), 1, 0, 0, 1) == \
        [[pytest.approx(2 / 27, rel=1e-7)]]


# --- 3. sBG retention -------------------------------------------------------------------------------

def test_sbg_fit_reproduces_fader_hardie_from_a_row_and_a_column(runtime):
    for cells in (Cells([REGULAR]), column(REGULAR)):
        got = call(runtime, "ce_sbg_fit", cells)
        assert [r[0] for r in got] == ["parameter", "alpha", "beta", "log-likelihood", "customers",
                                       "cohorts"]
        assert [round(r[1], 3) for r in got[1:3]] == [0.704, 1.182]
        assert got[4][1] == 1000 and got[5][1] == 1


def test_sbg_fit_of_a_triangle_of_cohorts(runtime):
    table = [[1000, 631, 468, 382], [800, 520, 400, None], [900, 600, None, None]]
    got = call(runtime, "ce_sbg_fit", Cells(table))
    fit = fc.fit_sbg(np.array(table, dtype=float))
    assert got[1][1] == pytest.approx(fit["alpha"], rel=1e-9)
    assert got[2][1] == pytest.approx(fit["beta"], rel=1e-9)
    assert got[4][1] == 2700 and got[5][1] == 3


def test_sbg_retention_survival_derl_and_ltv_by_hand(runtime):
    alpha, beta = 0.704, 1.182
    params = Cells([[alpha], [beta]])
    rates = [(beta + t - 1) / (alpha + beta + t - 1) for t in range(1, 6)]
    got = call(runtime, "ce_sbg_retention", params, 5)
    assert got == [[pytest.approx(r, rel=1e-14) for r in rates]]
    S = [1.0]
    for r in rates:
        S.append(S[-1] * r)
    assert call(runtime, "ce_sbg_survival", params, 5) == [[pytest.approx(v, rel=1e-13) for v in S]]
    # DERL and LTV: the series, summed far enough that the tail is below 1e-12
    Sx = [1.0]
    for t in range(1, 4000):
        Sx.append(Sx[-1] * (beta + t - 1) / (alpha + beta + t - 1))
    derl_0 = sum(Sx[1 + j] / 1.1 ** j for j in range(3000))
    derl_2 = sum(Sx[3 + j] / Sx[2] / 1.1 ** j for j in range(3000))
    got = call(runtime, "ce_sbg_derl", params, 0.1)
    assert got == [[pytest.approx(derl_0, rel=1e-11)]]
    got = call(runtime, "ce_sbg_derl", params, 0.1, Cells([[0, 2]]))
    assert got == [[pytest.approx(derl_0, rel=1e-11), pytest.approx(derl_2, rel=1e-11)]]
    got = call(runtime, "ce_sbg_ltv", params, 100, 0.1)
    assert got == [[pytest.approx(100 * derl_0 / 1.1, rel=1e-11)]]
    got = call(runtime, "ce_sbg_ltv", params, 100, 0.1, 3, OMITTED, "begin")
    assert got == [[pytest.approx(100 * (1 + S[1] / 1.1 + S[2] / 1.1 ** 2), rel=1e-13)]]


def test_sbg_retention_row_feeds_ce_ltv_retention(runtime):
    rates = call(runtime, "ce_sbg_retention", Cells([[0.704, 1.182]]), 4)
    got = call(runtime, "ce_ltv_retention", 100, Cells(rates), 0.1)
    assert got == [[pytest.approx(100 * r / (1.1 - r), rel=1e-13) for r in rates[0]]]


# --- 4. bad input ------------------------------------------------------------------------------------

P4 = Cells([[0.55], [10.6], [0.61], [11.7]])
B4 = Cells([[1.2], [0.75], [0.66], [2.78]])
S2 = Cells([[0.7], [1.2]])

INVALID = [
    ("ce_pareto_nbd_fit", (column([0, 1, 0]), column([0, 2, 0]), column([5, 6, 7])),
     "frequency: too few repeat buyers to fit the Pareto/NBD model"),
    ("ce_pareto_nbd_fit", (column([1, 2, 1]), column([2, 9, 1]), column([5, 6, 7])), "recency, row 2: must be <= T"),
    ("ce_pareto_nbd_p_alive", (Cells([["r", 0.5], ["alpha", 10], ["s", 0.6]]), 1, 2, 5),
     "params: no row named 'beta'"),
    ("ce_pareto_nbd_p_alive", (P4, column([1, "x"]), column([2, 3]), column([5, 6])),
     "frequency, row 2: expected a number, got text"),
    ("ce_pareto_nbd_expected_purchases", (P4, -1, 1, 2, 5), "horizon: must be >= 0"),
    ("ce_mbgnbd_fit", (column([0, 1.5, 0]), column([0, 2, 0]), column([5, 6, 7])),
     "frequency, row 2: must be a whole number >= 0"),
    ("ce_mbgnbd_p_alive", (Cells([[0.5], [-6], [0.9], [1.6]]), 1, 2, 5),
     "params: alpha: must be a finite number > 0"),
    ("ce_mbgnbd_expected_purchases", (P4, column([1, 2, 3]), column([1, 2]), column([2, 3]), column([5, 6])),
     "horizon: has 3 horizons for 2 customers"),
    ("ce_bgbb_fit", (column([1, 7]), column([1, 6]), column([6, 6])), "recency, row 2: must be >= frequency"),
    ("ce_bgbb_fit", (column([0, 0, 1]), column([0, 0, 1]), 6), "frequency: too few buyers to fit the BG/BB"),
    ("ce_bgbb_fit", (column([1, 2]), column([1, 3]), 6, column([1, -2])), "weights, row 2: must be >= 0"),
    ("ce_bgbb_p_alive", (B4, 1, 1, 6, 1.5), "m_periods: must be a whole number of opportunities"),
    ("ce_bgbb_p_alive", (B4, 1, 7, 6), "recency: must be <= n_periods"),
    ("ce_bgbb_p_alive", (B4, column([0, 1, 2, 3]), column([0, 1, 3, 4]), 6, Cells([[0, 0]])),
     "m_periods: needs one number for all customers or one per customer (4), got 2"),
    ("ce_bgbb_expected_purchases", (B4, -1, 1, 1, 6), "m_periods: must be >= 0"),
    ("ce_bgbb_expected_purchases", (B4, 1.5, 1, 1, 6), "m_periods: must be a whole number of opportunities"),
    ("ce_sbg_fit", (Cells([[1000, 600, 700]]),), "survivors, row 1, column 3: must not exceed the period before"),
    ("ce_sbg_fit", (Cells([[1000, 600, 400], [800, None, 300]]),), "survivors, row 2, column 2: a blank before"),
    ("ce_sbg_fit", (Cells([[1000, 600, "x"]]),), "survivors, row 1, column 3: expected a number, got text"),
    ("ce_sbg_fit", (Cells([[1000, 1000, 1000]]),), "survivors: no customer was lost"),
    ("ce_sbg_fit", (Cells([[1000, CellError("#N/A"), 400]]),), "survivors, row 1, column 2: the cell holds the Excel error #N/A"),
    ("ce_sbg_retention", (S2, 2.5), "periods: a number of periods must be a whole number"),
    ("ce_sbg_retention", (S2, 0), "periods: must be >= 1 for a row of retention rates"),
    ("ce_sbg_retention", (Cells([[0.7, 1.2, 3]]), 2), "params: sbg needs 2 parameters"),
    ("ce_sbg_survival", (S2, -1), "periods: a number of periods must be >= 0"),
    ("ce_sbg_derl", (S2, -0.1), "rate: a discount rate per period must be >= 0"),
    ("ce_sbg_derl", (S2, 0), "rate: must be > 0 when alpha <= 1"),
    ("ce_sbg_ltv", (S2, "lots", 0.1), "margin: expected a number, got text"),
    ("ce_sbg_ltv", (S2, 100, 0.1, 3, 0, "later"), 'timing: must be "end"'),
]


def test_the_tables_cover_every_function_of_the_block():
    assert {c[0] for c in INVALID} == set(CATALOGUE)
    assert set(CATALOGUE) <= set(excel.__all__)


@pytest.mark.parametrize("func,args,message", INVALID, ids=[f"{c[0]}-{k}" for k, c in enumerate(INVALID)])
def test_bad_input_is_a_readable_value_error(runtime, func, args, message):
    assert message in shown_error(runtime, func, *args)


# --- 5. the function wizard -------------------------------------------------------------------------

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
            len(args) - required), func
        options = vba.macro_options_for(func)
        assert options["Category"] == "Customer Equity"
        assert 10 < len(options["Description"]) <= 255 and "\n" not in options["Description"], func
        assert len(options["ArgumentDescriptions"]) == len(args)
        assert all(d and len(d) <= 255 for d in options["ArgumentDescriptions"]), func


# --- 6. anything through both runtimes: a value or the same readable error --------------------------

def _check_cells(func, rows):
    for i, row in enumerate(rows):
        for j, c in enumerate(row):
            if func in FITS and (i == 0 or j == 0 or (c == "" and j == 2)):
                continue  # the table's labels, an undefined standard error, the fit rows' blank
            assert isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c), (func, rows)


@st.composite
def _wild_args(draw, func):
    extra = st.sampled_from([0.0, 1.0, 2.0, 6.0, 1000.0, 631.0, "r", "alpha", "beta", -3.0, 1e6,
                             "#VALUE! CE_SBG_FIT: x"])
    cell = st.one_of(WILD, extra)
    args = []
    for _ in CATALOGUE[func]:
        kind = draw(st.sampled_from(["omitted", "scalar", "range", "range"]))
        if kind == "omitted":
            args.append(OMITTED)
        elif kind == "scalar":
            v = draw(cell)
            args.append(v if isinstance(v, (str, bool, int, float)) else Cells([[v]]))
        else:
            rows, cols = draw(st.integers(1, 4)), draw(st.integers(1, 3))
            args.append(Cells([[draw(cell) for _ in range(cols)] for _ in range(rows)]))
    return args


@pytest.mark.parametrize("func", sorted(CATALOGUE))
@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_anything_is_a_value_or_a_readable_error_alike_on_both_runtimes(com, func, data):
    args = data.draw(_wild_args(func))
    declared = com.module(M).__dict__[func].__xlfunc__["args"]
    for k, a in enumerate(declared):  # a formula cannot leave a required argument out
        if args[k] is OMITTED and "optional" not in a:
            args[k] = Cells([[None]])
    outcome = com_outcome(com, func, args)
    assert outcome[0] != "crash", (func, args, outcome)
    if outcome[0] == "error":
        assert outcome[1].startswith(func.upper() + ": ") and "Traceback" not in outcome[1]
    else:
        _check_cells(func, outcome[1])
    with OfficeJsRuntime() as ojs:
        for empty in (None, 0):
            seen = officejs_view(args, empty)
            same = com_outcome(com, func, seen) if seen is not args else outcome
            got = ojs_outcome(ojs, func, args, empty)
            assert got[0] != "crash", (func, args, empty, got)
            assert got[0] == same[0], (func, args, empty, got, same)
            if got[0] == "error":
                assert got[1] == same[1], (func, args, empty, got, same)


def test_bgbb_p_alive_takes_one_m_per_customer(runtime):
    """A column of m_periods is one per customer (the fuzz found a 4 x 4 table for 4 customers):
    each value equals the call with that customer's m alone."""
    x, t_x = column([0, 1, 2, 3]), column([0, 1, 3, 4])
    got = call(runtime, "ce_bgbb_p_alive", B4, x, t_x, 6, column([0, 1, 2, 3]))
    alone = [call(runtime, "ce_bgbb_p_alive", B4, x, t_x, 6, m) for m in range(4)]
    assert [r[0] for r in got] == [alone[k][k][0] for k in range(4)]
    assert len({r[0] for r in got}) == 4

