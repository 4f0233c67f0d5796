"""Generated input for every CE_ function through both xlwings paths (issue 24).

Each case starts from a valid call of the function (its bases below, built from the
examples of docs/functions.md, docs/decisions.md and docs/forecast.md) and changes zero to
three things: one cell, every cell, an argument's shape or size, an argument left out or
replaced by anything, a header of a table. The case is sent through xlwings' COM path and
its Office.js path with a blank cell as null and as 0 (tests/xlwings_harness.py), and its
outcome is judged:

============  ==========================================================================
crash         an exception other than our readable refusal (a traceback on COM, "An error
              ocurred." on Office.js), or an error text where cells belong
non-finite    a result cell that is inf or NaN (or None where a number belongs)
nameless      a refusal that does not start with the name of one of the function's
              arguments as the wizard shows it (``values``, ``customers[periods]``)
disagreement  Office.js decides otherwise than COM does on the cells Office.js sees (a date
              cell is its serial number there, a blank may be 0): Excel's difference, not ours
slow          a call that takes longer than :data:`SLOW_SECONDS`
============  ==========================================================================

:func:`problems` judges one case; tests/test_fuzz_all.py runs a few hundred cases in the
default test run, and ``python benchmarks/fuzz_excel.py`` runs >= 10^4 per function, each
function in a worker process watched for hangs.
"""

from __future__ import annotations

import datetime as dt
import decimal
import inspect
import math
import re
import time

from hypothesis import strategies as st

from xlwings_harness import OMITTED, CellError, Cells, grid

M = "customer_equity.excel.functions"
SLOW_SECONDS = 10.0
TYPES = ["Lighthouse", "Follower", "Rational", "Profit-seeking"]
#: Functions whose value cells are labels (text, or TRUE/FALSE for CE_CAPABILITIES).
LABEL_RESULTS = {"ce_segment", "ce_segment_stage", "ce_tier", "ce_version", "ce_capabilities"}


def col(values):
    return Cells([[v] for v in values])


def row(values):
    return Cells([list(values)])


# --- valid bases ---------------------------------------------------------------------------

# The CDNOW sample's first 24 customers summarised over a 39-week calibration (FHL 2005).
X = [2.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 7.0, 1.0, 0.0, 2.0, 0.0, 5.0, 0.0, 0.0, 3.0, 0.0, 0.0,
     0.0, 0.0, 3.0, 10.0, 1.0, 0.0]
T_X = [30.4286, 0.0, 1.7143, 0.0, 0.0, 0.0, 0.0, 29.4286, 5.0, 0.0, 35.7143, 0.0, 24.4286, 0.0,
       0.0, 20.8571, 0.0, 0.0, 0.0, 0.0, 28.2857, 34.1429, 4.8571, 0.0]
T = [38.8571, 38.4286, 38.8571, 38.8571, 34.4286, 38.8571, 38.8571, 38.8571, 38.8571, 38.8571,
     38.8571, 38.8571, 38.8571, 38.8571, 38.8571, 36.2857, 38.8571, 38.8571, 37.4286, 38.8571,
     38.7143, 38.8571, 38.8571, 38.7143]
M_X = [22.35, 0.0, 11.77, 0.0, 0.0, 0.0, 0.0, 73.74, 11.77, 0.0, 25.55, 0.0, 29.44, 0.0, 0.0,
       17.89, 0.0, 0.0, 0.0, 0.0, 25.08, 24.24, 9.99, 0.0]
P4 = col([0.25, 6.7, 0.06, 0.14])
P4_TABLE = Cells([["parameter", "estimate", "standard error"], ["r", 0.25, 0.1], ["alpha", 6.7, 2.0],
                  ["a", 0.06, 0.05], ["b", 0.14, 0.1], ["log-likelihood", -150.0, ""],
                  ["customers", 24.0, ""]])
G3 = col([4.7, 3.0, 17.7])
G3_TABLE = Cells([["parameter", "estimate", "standard error"], ["p", 4.7, 1.0], ["q", 3.0, 1.0],
                  ["v", 17.7, 5.0]])

SMALL = Cells([["customer_id", "type", "periods", "capacity", "share", "margin"],
               ["A", "Lighthouse", 3.0, 1000.0, 0.5, 0.2], ["B", "Lighthouse", 5.0, 800.0, 0.5, 0.25],
               ["C", "Rational", 2.0, 400.0, 0.5, 0.2], ["D", "Profit-seeking", 1.0, 300.0, 1.0, 0.1]])
SETTINGS = Cells([["rate", 0.0], ["classify_by", "type"], ["iv", None]])
SETTINGS_10 = Cells([["rate", 0.1], ["classify_by", "type"], ["cutoffs", 4.0], [None, 3.0], [None, 2.0]])
PEOPLE = Cells([["income", "age"], [5.0, 30.0], [4.0, 50.0], [2.0, 30.0], [1.0, 50.0]])
PEOPLE_LTV = col([900.0, 700.0, 100.0, 50.0])
PROSPECTS = Cells([["prospect_id", "income", "age"], ["p", 1.0, 50.0], ["q", 5.0, 30.0], ["r", 3.0, 40.0]])
STRUCTURE = Cells([
    ["type", "customers", "customer_share", "equity", "equity_share", "average", "pv_share",
     "ppv_share", "cv_share", "kv_share", "tv_share", "iv_share"],
    ["Lighthouse", 1.0, 1 / 3, 310.0, 310 / 450, 310.0, 200 / 310, 0.0, 0.0, 100 / 310, 0.0, 10 / 310],
    ["Follower", 0.0, 0.0, 0.0, 0.0, "", "", "", "", "", "", ""],
    ["Rational", 2.0, 2 / 3, 140.0, 140 / 450, 70.0, 120 / 140, 0.0, 0.0, 0.0, 0.0, 20 / 140],
    ["Profit-seeking", 0.0, 0.0, 0.0, 0.0, "", "", "", "", "", "", ""],
    ["Total", 3.0, 1.0, 450.0, 1.0, 150.0, 320 / 450, 0.0, 0.0, 100 / 450, 0.0, 30 / 450]])
COUNTS_4X2 = Cells([[10.0, 1000.0], [0.0, 0.0], [90.0, 100.0], [0.0, 0.0]])
#: Parameters near the published CDNOW, donations and regular-cohort estimates (issue 22).
PNBD = col([0.55, 10.6, 0.61, 11.7])
MBG = col([0.5, 6.0, 0.8, 2.5])
BGBB = col([1.2, 0.75, 0.66, 2.78])
SBG = col([0.704, 1.182])
BB_X = [0, 1, 2, 3, 4, 5, 6]
BB_TX = [0, 1, 3, 4, 5, 5, 6]
BB_W = [300, 120, 80, 60, 50, 40, 90]
SURVIVORS = [1000, 631, 468, 382, 326, 289, 262, 241]
LOG_IDS = col([1, 1, 1, "B7", 1, 3])
LOG_DATES = col([dt.datetime(1997, 1, 1), dt.datetime(1997, 1, 1), dt.datetime(1997, 1, 15),
                 dt.datetime(1997, 1, 8), dt.datetime(1997, 2, 12), dt.datetime(1997, 2, 5)])
LOG_TEXT_DATES = col(["1997-01-01", "1997-01-01", "1997-01-15", "1997-01-08", "1997-02-12", "1997-02-05"])
LOG_AMOUNTS = col([10.0, 5.0, 20.0, 7.0, 30.0, 12.0])
FIVE_TYPES = col(["Lighthouse", "Rational", "Rational"])

BASES = {
    "ce_pv": [(5000, 0.4, 0.25), (col([5000, 2000]), col([0.4, 0.5]), 0.25)],
    "ce_ppv": [(-0.03, 50, 200), (col([0.1, -0.2]), col([10, 20]), 100)],
    "ce_tv_allocate": [(row([900, 600]), col([True, "Rational", "yes", None, "Follower"])),
                       (row([500]), col([1, 0, "x"]))],
    "ce_ltv": [(0.1, row([100, 120, 150])), (0.1, col([100, 100]), col([3, 1]), "begin"),
               (0.05, Cells([[100, 120], [50, None]]), 2)],
    "ce_ltv_sow": [(0.1, 1000, 0.4, 0.25, 2),
                   (0.1, Cells([[1000, 900], [500, 400]]), col([0.4, 0.5]), 0.25, OMITTED, "end")],
    "ce_ltv_indirect": [(0.1, 1000, 0.4, 0.25, 1.2, 2), (0.1, col([1000, 500]), 0.4, 0.25, 1.0, col([2, 3]))],
    "ce_ltv_retention": [(100, 0.8, 0.1), (100, row([0.7, 0.9]), col([0.05, 0.15])),
                         (100, 0.8, 0.1, 2, "begin", 0.05, 30)],
    "ce_ltv_values": [(0.1, 2, 100, -10, 5, 20, 15, 30),
                      (0.1, col([2, 3]), col([100, 50]), 0, 0, col([20, 0]), 0, col([30, 10]), "begin")],
    "ce_ltv_type": [("Profit-seeking", 0.1, 2, 100, -10, 5, 20, 15, 30),
                    (FIVE_TYPES, 0.1, 2, col([100, 40, 20]), 0, 0, col([50, 0, 0]), 0, 10)],
    "ce_excluded": [(col(["Rational", "Profit-seeking", "Lighthouse"]), OMITTED, col([0, 7, 7]),
                     col([0, 3, 0]), col([5, 5, 5]), col([2, 0, 2]))],
    "ce_capabilities": [("Follower",), (col(TYPES),)],
    "ce_score": [(Cells([[5, 4], [2, 1]]), row([0.6, 0.4])), (5, 0.5)],
    "ce_segment": [(3.4,), (col([4.6, 3.0, 2.5, 1.6]), row([80, 50, 30]))],
    "ce_segment_stage": [("成长期",), (col(["growth", 1, "成熟期", "衰退期"]),)],
    "ce_tier": [(col([5000, 1200, 300, -40]), row([2000, 1000, 0])), (col([float(k) for k in range(10)]),)],
    "ce_equity": [(FIVE_TYPES, col([1000, 250, -50]))],
    "ce_equity_table": [(FIVE_TYPES, col([1000, 250, -50]))],
    "ce_composition": [(col(["Lighthouse", "Profit-seeking"]), 0, 2, col([100, 100]), OMITTED, OMITTED,
                        col([50, 50]), OMITTED, 10)],
    "ce_links": [(4, True, False), (col([4, 2]), col([True, True]), col([False, 1]))],
    "ce_rate": [(0.12, 12)],
    "ce_version": [()],
    "ce_structure": [(FIVE_TYPES, 0.0, 2, col([100.0, 40.0, 20.0]), OMITTED, OMITTED, col([50.0, 0.0, 0.0]),
                      OMITTED, 10)],
    "ce_structure_counts": [(col([200.0, 0.0, 800.0, 0.0]), col([5000.0, 0.0, 1000.0, 0.0])),
                            (col([1.0, 1.0, 1.0, 1.0]), col([10.0, 20.0, 30.0, 40.0]),
                             Cells([[0.5, 0.5, 0.0, 0.0, 0.0, 0.0]] * 4))],
    "ce_structure_compare": [(COUNTS_4X2, Cells([[20.0, 1100.0], [0.0, 0.0], [80.0, 100.0], [0.0, 0.0]])),
                             (STRUCTURE, COUNTS_4X2)],
    "ce_whatif": [(SMALL, SETTINGS, 0.05), (SMALL, SETTINGS_10, OMITTED, 0.08, 0.02),
                  (SMALL, SETTINGS, OMITTED, OMITTED, OMITTED, OMITTED, Cells([["Rational", "Follower", 1.0]])),
                  (SMALL, SETTINGS, OMITTED, OMITTED, OMITTED, OMITTED, OMITTED, row([0.1, 0.3, 0.4, 0.2])),
                  (SMALL, SETTINGS, col([0.02, 0.0, 0.05, 0.0]), OMITTED, OMITTED, row([100.0, 80.0])),
                  (SMALL, SETTINGS, OMITTED, OMITTED, OMITTED, OMITTED, OMITTED, OMITTED,
                   row([0.5, 0.0, 0.25, 0.25]), -0.05, 0.1, col([1.0, 0.0, 2.0, 0.0]), 50.0,
                   col([0.8, None, 0.5, None]))],
    "ce_whatif_grid": [(SMALL, SETTINGS, "retention_change", col([0.0, 0.05]), "rate", row([0.0, 0.1])),
                       (SMALL, SETTINGS_10, "margin_change", 0.01, "rate", 0.05, "difference")],
    "ce_retention_watch": [(SMALL, SETTINGS), (SMALL, SETTINGS, col([0.9, 0.5, 0.8, 0.2]), col([3, 5, 2, 1]), 0.02)],
    "ce_prospects": [(PROSPECTS, PEOPLE, PEOPLE_LTV, col(TYPES), OMITTED, OMITTED, 0.5, 2),
                     (PROSPECTS, PEOPLE, PEOPLE_LTV, OMITTED, row(["income"])),
                     (PROSPECTS, PEOPLE, PEOPLE_LTV, OMITTED, OMITTED, Cells([["income", 0.0], ["age", 1.0]]))],
    "ce_prospect_weights": [(PEOPLE, PEOPLE_LTV, OMITTED, 0.5), (PEOPLE, PEOPLE_LTV, row(["age", "income"]))],
    "ce_log_summary": [(LOG_IDS, LOG_DATES, LOG_AMOUNTS, "week", Cells([[dt.datetime(1997, 1, 29)]]),
                        Cells([[dt.datetime(1997, 2, 12)]])),
                       (LOG_IDS, LOG_TEXT_DATES, LOG_AMOUNTS)],
    "ce_log_check": [(LOG_IDS, LOG_DATES, LOG_AMOUNTS),
                     (LOG_IDS, LOG_TEXT_DATES, LOG_AMOUNTS, "day", Cells([[dt.datetime(1997, 1, 29)]]),
                      OMITTED, Cells([[dt.datetime(1997, 2, 10)]]))],
    "ce_bgnbd_fit": [(col(X), col(T_X), col(T))],
    "ce_p_alive": [(P4, col(X[:6]), col(T_X[:6]), col(T[:6])), (P4_TABLE, 1, 2, 5)],
    "ce_expected_purchases": [(P4, 39, col(X[:6]), col(T_X[:6]), col(T[:6])),
                              (P4_TABLE, row([13, 26]), col(X[:4]), col(T_X[:4]), col(T[:4]))],
    "ce_gamma_gamma_fit": [(col(X), col(M_X))],
    "ce_expected_spend": [(G3, col(X[:6]), col(M_X[:6])), (G3_TABLE, 2, 25)],
    "ce_forecast_ltv": [(P4, G3, col(X[:5]), col(T_X[:5]), col(T[:5]), col(M_X[:5]), 0.3, 0.002, 52),
                        (P4_TABLE, G3_TABLE, 1, 2, 5, 20, 0.3, 0.01, 12, "begin")],
    # the models of issue 22
    "ce_pareto_nbd_fit": [(col(X), col(T_X), col(T))],
    "ce_pareto_nbd_p_alive": [(PNBD, col(X[:6]), col(T_X[:6]), col(T[:6])), (PNBD, 1, 2, 5)],
    "ce_pareto_nbd_expected_purchases": [(PNBD, 39, col(X[:6]), col(T_X[:6]), col(T[:6])),
                                         (PNBD, row([13, 26]), col(X[:4]), col(T_X[:4]), col(T[:4]))],
    "ce_mbgnbd_fit": [(col(X), col(T_X), col(T))],
    "ce_mbgnbd_p_alive": [(MBG, col(X[:6]), col(T_X[:6]), col(T[:6])), (MBG, 1, 2, 5)],
    "ce_mbgnbd_expected_purchases": [(MBG, 39, col(X[:6]), col(T_X[:6]), col(T[:6])),
                                     (MBG, row([13, 26]), col(X[:4]), col(T_X[:4]), col(T[:4]))],
    "ce_bgbb_fit": [(col(BB_X), col(BB_TX), 6, col(BB_W)), (col(BB_X), col(BB_TX), col([6] * 7))],
    "ce_bgbb_p_alive": [(BGBB, col(BB_X[:4]), col(BB_TX[:4]), 6), (BGBB, 2, 4, 6, 0)],
    "ce_bgbb_expected_purchases": [(BGBB, 5, col(BB_X[:4]), col(BB_TX[:4]), 6),
                                   (BGBB, row([1, 10]), 2, 4, 6)],
    "ce_sbg_fit": [(row(SURVIVORS),), (Cells([SURVIVORS, [1000, 869, 743, 653, 593, 551, 517, 491]]),)],
    "ce_sbg_retention": [(SBG, 5)],
    "ce_sbg_survival": [(SBG, 7), (SBG, 0)],
    "ce_sbg_derl": [(SBG, 0.1), (SBG, row([0.05, 0.1]), 3)],
    "ce_sbg_ltv": [(SBG, 100, 0.1), (SBG, 100, 0.1, 12, 2, "begin")],
}


# --- what a case changes -------------------------------------------------------------------

WILD = [
    None, "", "   ", "abc", "12%", "n/a", "NA", "-", "null", True, False, 0, 1, -1, 2, 2.5, 0.5, -0.5,
    3, 4, 12, 52, 100.0, -0.9999999, 1e6, 1e9, 1e15, 1e100, 1e200, 1e300, -1e300, 1.7e308, -1.7e308,
    1e-300, 5e-324, decimal.Decimal("12.5"), dt.datetime(2024, 1, 2), dt.datetime(1997, 1, 31),
    CellError("#N/A"), CellError("#VALUE!"), CellError("#DIV/0!"), "Lighthouse", "Rational", "Follower",
    "Profit-seeking", "VIP", "growth", "yes", "x", "end", "begin", "week", "day", "产品介绍期",
    "1997-01-31", "31/01/1997", 35431, 19970131, 60, "r", "alpha", "a", "b", "p", "q", "v", "type",
    "customers", "average", "periods", "pv", "income", "age", "rate", "retention_change",
    "margin_change", "equity", "difference", "customer_id", "id", "parameter", "#VALUE! CE_X: y",
]
BIG = [1e6, 1e9, 1e12, 1e15, 2.0 ** 53, 1e100, 1e200, 1e300, 1.7e308, -1e300, -1.7e308]
CELL = st.sampled_from(WILD)


def _literal(v):
    """A cell as a formula can hold it: dates, currency and errors only in a referenced cell."""
    return Cells([[v]]) if v is None or isinstance(v, (dt.date, decimal.Decimal, CellError)) else v


def _values(arg):
    if isinstance(arg, Cells):
        return [list(r) for r in arg.values]
    return [[arg]]


@st.composite
def changed(draw, arg):
    """``arg`` with one thing changed."""
    how = draw(st.sampled_from(["cell", "cell", "big", "cells", "shape", "shape", "grow", "anything",
                                "omit"]))
    values = _values(arg) if arg is not OMITTED else [[None]]
    rows, cols = len(values), len(values[0])
    if how in ("cell", "big"):
        r, c = draw(st.integers(0, rows - 1)), draw(st.integers(0, cols - 1))
        values[r][c] = draw(CELL if how == "cell" else st.sampled_from(BIG))
        return Cells(values) if isinstance(arg, Cells) else _literal(values[0][0])
    if how == "cells":
        return Cells([[draw(CELL) for _ in range(cols)] for _ in range(rows)])
    if how == "omit":
        return OMITTED
    if how == "anything":
        if draw(st.booleans()):
            return _literal(draw(CELL))
        n, k = draw(st.integers(1, 5)), draw(st.integers(1, 4))
        return Cells([[draw(CELL) for _ in range(k)] for _ in range(n)])
    if how == "grow":
        n = draw(st.sampled_from([20, 100, 400]))
        return Cells([list(values[k % rows]) for k in range(n)])
    shape = draw(st.sampled_from(["add row", "drop row", "add column", "drop column", "transpose",
                                  "first row", "first column", "one cell", "1x2", "2x1"]))
    if shape == "add row":
        values.append(draw(st.sampled_from([list(values[-1]), [draw(CELL) for _ in range(cols)]])))
    elif shape == "drop row" and rows > 1:
        values.pop(draw(st.integers(0, rows - 1)))
    elif shape == "add column":
        for r in values:
            r.append(draw(st.sampled_from([r[-1], draw(CELL)])))
    elif shape == "drop column" and cols > 1:
        k = draw(st.integers(0, cols - 1))
        for r in values:
            r.pop(k)
    elif shape == "transpose":
        values = [list(c) for c in zip(*values)]
    elif shape == "first row":
        values = values[:1]
    elif shape == "first column":
        values = [[r[0]] for r in values]
    elif shape == "one cell":
        return _literal(values[0][0])
    elif shape == "1x2":
        values = [[values[0][0], values[-1][-1]]]
    else:
        values = [[values[0][0]], [values[-1][-1]]]
    return Cells(values)


def argument_names(func):
    import customer_equity.excel.functions as functions

    return list(inspect.signature(getattr(functions, func)).parameters)


@st.composite
def cases(draw, func, declared):
    """A valid base with 0 to 3 changes; ``declared``: xlwings' argument list (optional flags)."""
    base = list(draw(st.sampled_from(BASES[func])))
    names = argument_names(func)
    args = base + [OMITTED] * (len(names) - len(base))
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2, 2, 3])) if names else 0):
        k = draw(st.integers(0, len(args) - 1))
        args[k] = draw(changed(args[k]))
    for k, a in enumerate(declared):  # a formula cannot leave a required argument out
        if args[k] is OMITTED and "optional" not in a:
            args[k] = Cells([[None]])
    while args and args[-1] is OMITTED:
        args.pop()
    return args


# --- judging a case ------------------------------------------------------------------------


def officejs_view(args, empty_cell):
    """The cells COM would have to see to match what Office.js delivers (``args`` itself
    when they are the same)."""
    from xlwings.utils import datetime_to_xlserial

    def cell(v):
        if isinstance(v, dt.datetime):
            return float(datetime_to_xlserial(v))
        if isinstance(v, decimal.Decimal):
            return float(v)
        if v is None:
            return empty_cell
        return v

    out, changed = [], False
    for a in args:
        if isinstance(a, Cells):
            values = [[cell(v) for v in row] for row in a.values]
            changed |= values != a.values
            out.append(Cells(values))
        elif a is None and empty_cell is not None:
            out.append(empty_cell)  # Office.js sends a blank scalar as a 1x1 range, blank = 0
            changed = True
        else:
            out.append(a)
    return out if changed else args


def _timed(call):
    start = time.perf_counter()
    try:
        return call(), time.perf_counter() - start
    except Exception as exc:  # noqa: BLE001 - a harness failure is the case's crash
        return ("crash", f"{type(exc).__name__}: {exc}"), time.perf_counter() - start


def com_outcome(com, func, args):
    def call():
        shown = com.call_cell(M, func, *args)
        if isinstance(shown, str) and shown.startswith("#VALUE! "):
            return ("error", shown[len("#VALUE! "):])
        if isinstance(shown, str) and (func not in LABEL_RESULTS or "Traceback" in shown
                                       or "Error" in shown):
            return ("crash", " | ".join(shown.splitlines()[:3])[:400])  # the exception line first
        return ("value", grid(shown))

    return _timed(call)


def ojs_outcome(ojs, func, args, empty_cell):
    def call():
        ojs.empty_cell = empty_cell
        shown = ojs.call_cell(M, func, *args, environment="dev")
        if isinstance(shown, CellError):
            if shown.message and shown.message.startswith(func.upper() + ": "):
                return ("error", shown.message)
            return ("crash", shown.message)
        return ("value", grid(shown))

    return _timed(call)


def _number(c):
    return isinstance(c, (int, float)) and not isinstance(c, bool)


def bad_cells(func, cells):
    """Why a value result is wrong, or None: a non-finite number, a None cell, error text."""
    for r in cells:
        for c in r:
            if c is None:
                return "a cell is None"
            if _number(c) and not math.isfinite(c):
                return f"a cell is {c}"
            if isinstance(c, str) and (c.startswith("#") or "Traceback" in c):
                return f"a cell shows {c[:80]!r}"
    if func not in LABEL_RESULTS and len(cells) == 1 and len(cells[0]) == 1 and not _number(cells[0][0]):
        return f"a single result that is no number: {cells[0][0]!r}"
    return None


def names_an_argument(func, message, names):
    """The refusal (after "CE_X: ") starts with an argument's name as the wizard shows it."""
    text = message[len(func.upper()) + 2:]
    pattern = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.match(rf"(?:{pattern})(?:\[[^\]]*\])?(?:[,:]| \()", text) is not None


def same_value(a, b):
    if len(a) != len(b) or any(len(x) != len(y) for x, y in zip(a, b)):
        return False
    for x, y in ((u, v) for ra, rb in zip(a, b) for u, v in zip(ra, rb)):
        if _number(x) and _number(y):
            if not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9):
                return False
        elif x != y or type(x) is not type(y) and not (_number(x) and _number(y)):
            return False
    return True


def _plain(args):
    return [a.values if isinstance(a, Cells) else a for a in args]


def problems(com, ojs, func, args, names, empties=(None, 0), on_call=None, slow=SLOW_SECONDS):
    """What is wrong with one case on either path: a list of ``(kind, detail)``.

    ``on_call(path)`` is told before each call (the hang watch of benchmarks/fuzz_excel.py);
    a call longer than ``slow`` seconds is a finding.
    """
    found = []

    def judge(path, outcome, seconds):
        if seconds > slow:
            found.append(("slow", f"{path}: {seconds:.1f} s"))
        kind, detail = outcome
        if kind == "crash":
            found.append(("crash", f"{path}: {detail}"))
        elif kind == "error" and not names_an_argument(func, detail, names):
            found.append(("nameless", f"{path}: {detail}"))
        elif kind == "value":
            why = bad_cells(func, detail)
            if why:
                found.append(("non-finite" if "inf" in why or "nan" in why or "None" in why else "crash",
                              f"{path}: {why}"))

    on_call and on_call("com")
    com_seen, seconds = com_outcome(com, func, args)
    judge("com", com_seen, seconds)
    for empty in empties:
        view = officejs_view(args, empty)
        if _plain(view) != _plain(args):
            on_call and on_call(f"com(office.js view, blank={empty})")
            same, seconds = com_outcome(com, func, view)
            judge(f"com(office.js view, blank={empty})", same, seconds)
        else:
            same = com_seen
        on_call and on_call(f"office.js(blank={empty})")
        got, seconds = ojs_outcome(ojs, func, args, empty)
        judge(f"office.js(blank={empty})", got, seconds)
        if "crash" in (got[0], same[0]):
            continue
        if got[0] != same[0] or (got[0] == "error" and got[1] != same[1]) or (
                got[0] == "value" and not same_value(got[1], same[1])):
            found.append(("disagreement", f"blank={empty}: office.js {str(got)[:300]} / com {str(same)[:300]}"))
    return found
