"""The cases of issue 24 through both xlwings paths: each refusal starts with an argument of the
function as the wizard shows it, then the table column and the row of the range (the header
is row 1), then the rule and the value; sizes are bounded and explained, not run out of memory.
"""

from __future__ import annotations

import datetime as dt

import pytest

from fuzz_all import (FIVE_TYPES, G3, M, P4, PEOPLE, PEOPLE_LTV, PROSPECTS, SETTINGS, SMALL, T, T_X, col,
                      officejs_view, row)
from xlwings_harness import OMITTED, CellError, Cells, grid

from customer_equity.excel.arguments import MAX_GRID_CELLS, MAX_PERIODS


def shown(com, ojs, func, *args):
    """The refusal's text on COM and on Office.js, without the prefix. Where Office.js sends a
    blank cell as 0 it sees other cells (Excel's difference): then COM is asked with those."""
    seen = officejs_view(list(args), ojs.empty_cell)
    texts = [com.call_cell(M, func, *args)]
    if [a.values if isinstance(a, Cells) else a for a in seen] != [
            a.values if isinstance(a, Cells) else a for a in args] and ojs.empty_cell is not None:
        return None  # the blank is a 0 there: no refusal to compare (test_fuzz_all compares them)
    for got in (texts.pop(), ojs.call_cell(M, func, *args)):
        if isinstance(got, CellError):
            texts.append(got.message)
        else:
            assert isinstance(got, str) and got.startswith("#VALUE! "), got
            texts.append(got[len("#VALUE! "):])
    assert texts[0] == texts[1], texts
    prefix = func.upper() + ": "
    assert texts[0].startswith(prefix), texts[0]
    return texts[0][len(prefix):]


def with_periods(periods, k=1):
    rows = [list(r) for r in SMALL.values]
    rows[k][2] = periods
    return Cells(rows)


CASES = [
    # shapes checked before any computation
    ("ce_structure", (col(["Lighthouse", "Rational"]), 0.1, 2, col([1.0, 2.0, 3.0]), 0, 0, 0, 0),
     "pv: has 3 rows, which do not match types (2 rows)"),
    ("ce_structure", (FIVE_TYPES, 0.1, 2, col([1.0, 2.0, 3.0]), 0, 0, 0, 0, row([10, 10])),
     "iv: one value for all rows, or one per row in a single column (got '1 x 2 cells')"),
    ("ce_composition", (FIVE_TYPES, 0.1, row([2, 3]), col([1.0, 2.0, 3.0]), 0, 0, 0, 0),
     "periods: one number of periods for all rows, or one per row in a single column"),
    ("ce_ltv_indirect", (0.1, col([1000, 500]), 0.4, 0.25, col([1.0, 1.0, 1.0]), 2),
     "indirect: has 3 rows, which do not match market_size (2 rows)"),
    ("ce_ltv_sow", (col([0.1] * 3), col([1000, 500]), 0.4, 0.25),
     "capacity: has 2 rows, which do not match rate (3 rows)"),
    ("ce_retention_watch", (SMALL, SETTINGS, col([0.9, 0.5]), col([3, 5])),
     "p_alive: needs one value per customer of customers (4), got 2"),
    ("ce_expected_purchases", (P4, col([1, 2, 3]), col([1, 2]), col([2, 3]), col([5, 6])),
     "horizon: has 3 horizons for 2 customers"),
    ("ce_prospect_weights", (PEOPLE, PEOPLE_LTV, col(["age", "income", "age"])),
     "traits: each trait only once (got 'age')"),
    # found by benchmarks/fuzz_excel.py at 10,000 cases per function (2026-12-04)
    ("ce_ltv_indirect", (0.1, 1000, 0.4, Cells([[0.25, 0.25, 0.25]]), Cells([[1.2, 1.2]]), 2),
     "indirect: has 2 columns, which do not match margin (3 columns)"),
    ("ce_log_summary", (col([None]), col([None]), col([None])), "customer, date, amount: no transactions"),
    ("ce_log_check", (col([None, None]), col([None, None]), col([None, None])),
     "customer, date, amount: no transactions"),
    # bounds on periods and horizons, explained
    ("ce_forecast_ltv", (P4, G3, 1, 2, 5, 20, 0.3, 0.01, 1e9), f"horizon: at most {MAX_PERIODS:,} periods (got 1000000000.0)"),
    ("ce_forecast_ltv", (P4, G3, 1, 2, 5, 20, 0.3, 0.01, 1e308), f"horizon: at most {MAX_PERIODS:,} periods"),
    ("ce_expected_purchases", (P4, 1e100, 1, 2, 5), f"horizon: at most {MAX_PERIODS:,} periods"),
    ("ce_ltv", (0.1, 100, 1e6), f"periods: at most {MAX_PERIODS:,} periods (got 1000000.0)"),
    ("ce_retention_watch", (with_periods(1e9, 2), SETTINGS),
     f"customers[periods], row 3: at most {MAX_PERIODS:,} periods (got 1000000000.0)"),
    ("ce_retention_watch", (with_periods(1e6), SETTINGS), f"customers[periods], row 2: at most {MAX_PERIODS:,}"),
    ("ce_whatif", (with_periods(1e200), Cells([["rate", 0.1], ["classify_by", "type"], ["transaction_income", 1000.0]]),
                   0.05), f"customers[periods], row 2: at most {MAX_PERIODS:,} periods (got 1e+200)"),
    ("ce_whatif_grid", (SMALL, SETTINGS, "rate", col([0.01 * k for k in range(11)]), "retention_change",
                        row([0.001 * k for k in range(11)])),
     f"row_values: a grid of at most {MAX_GRID_CELLS} cells (each is a what-if), got 11 x 11"),
    # an overflow names the input that made it
    ("ce_log_summary", (col([1, 1, 2]), col(["1997-01-01", "1997-01-02", "1997-01-03"]),
                        col([1.7e308, 1.7e308, 5.0])),
     "amount, row 1: the amounts add up beyond the largest number"),
    ("ce_pv", (col([5000, 1e300]), 0.4, 1e300), "capacity, row 2: the result overflows"),
    # the core's names for what the user never typed
    ("ce_gamma_gamma_fit", (col([1, 1, 1]), col([10, 10, 10])),
     "frequency, monetary_value: the maximum likelihood estimate diverged"),
    ("ce_bgnbd_fit", (Cells([[1e200]]), col(T_X), col(T)), "frequency, recency, T: "),
    ("ce_whatif_grid", (SMALL, SETTINGS, "retention_change", col([0.0, 1e6]), "rate", 0.1),
     "row_values: Lighthouse retention "),
    ("ce_whatif", (Cells([[c if c != "margin" else "NA" for c in SMALL.values[0]]] + SMALL.values[1:]), SETTINGS,
                   0.05), "customers[margin]: column missing"),
    ("ce_retention_watch", (Cells([["customer_id", "type"], ["A", "Lighthouse"]]), SETTINGS),
     "customers[periods]: column missing"),
    ("ce_whatif", (SMALL, SETTINGS, 0.05, OMITTED, -1.7e308), "margin_change: the result overflows"),
    ("ce_retention_watch", (SMALL, SETTINGS, col([0.9, 0.5, 0.8, 0.2]), col([3, 1e300, 2, 1])),
     f"age, row 2: at most {MAX_PERIODS:,} periods"),
    # an error shown in a cell is refused where it is, also a CE_ function's error as COM shows it
    ("ce_prospects", (Cells([["prospect_id", "income", "age"], ["p", 1.0, 50.0], [CellError("#N/A"), 5.0, 30.0]]),
                      PEOPLE, PEOPLE_LTV), "prospects[prospect_id], row 3: the cell holds the Excel error #N/A"),
    ("ce_log_summary", (col([1, "#VALUE! CE_LOG_SUMMARY: x"]), col(["1997-01-01", "1997-01-02"]), col([1.0, 2.0])),
     "customer, row 2: the cell holds the Excel error #VALUE!"),
    ("ce_prospect_weights", (Cells([[CellError("#N/A"), "age"], [5.0, 30.0], [1.0, 50.0]]), col([900.0, 50.0])),
     "customers, row 1, column 1: the header row needs a name in every column, not the Excel error #N/A"),
    ("ce_retention_watch", (SMALL, Cells([["rate", 0.0], ["classify_by", "type"], ["iv", 1.7e308]])),
     "config: iv: the result overflows (too large to compute)"),
    ("ce_whatif_grid", (SMALL, SETTINGS, "margin_change", 1.7e308, "rate", 0.1), "row_values: the result overflows"),
    # two tables with the same columns: each refusal names its table, and rows count the header
    ("ce_prospects", (Cells([["prospect_id", "income"], ["p", 1.0], ["q", None]]),
                      Cells([["income"], [5.0], [4.0], [2.0], [1.0]]), PEOPLE_LTV),
     "prospects[income], row 3: a value is required here, the cell is blank"),
    ("ce_prospects", (PROSPECTS, Cells([["income", "age"], [5.0, 30.0], [None, 50.0]]), col([900.0, 700.0])),
     "customers[income], row 3: a value is required here, the cell is blank"),
    ("ce_prospects", (Cells([["prospect_id", "income"], ["p", 1.0]]), PEOPLE, PEOPLE_LTV),
     "prospects: has no column for the trait (got 'age')"),
    ("ce_prospects", (PROSPECTS, PEOPLE, PEOPLE_LTV, OMITTED, OMITTED, Cells([["income", 1.0], ["age", "abc"]])),
     "weights, row 2, column 2: expected a number, got text (got 'abc')"),
    ("ce_prospect_weights", (PEOPLE, PEOPLE_LTV, row(["income", "parameter"])),
     "traits: no such column in customers (got 'parameter')"),
]


@pytest.mark.parametrize("func,args,message", CASES, ids=[f"{c[0]}-{k}" for k, c in enumerate(CASES)])
def test_refusal_names_the_argument_and_the_place(com, ojs, func, args, message):
    text = shown(com, ojs, func, *args)
    assert text is None or text.startswith(message), text


def test_an_id_keeps_its_type_and_a_date_cell_is_its_serial_on_both_paths(com, ojs):
    """Numbers come back as numbers and text as text, on both paths. Office.js hands a
    date-formatted cell over as Excel's serial number without its format, so a date in the id
    column cannot be told from a number there; COM reads it as the same serial (the one door
    reading of issue 20), so one workbook answers alike on Windows and on the web."""
    ids = col([17, "B7", 17])
    dates, amounts = col(["1997-01-01", "1997-01-08", "1997-01-15"]), col([10.0, 20.0, 5.0])
    for rt in (com, ojs):
        got = grid(rt.call(M, "ce_log_summary", col([17, 4, 17]), dates, amounts))
        assert [r[0] for r in got[1:]] == [4, 17] and all(type(r[0]) in (int, float) for r in got[1:])
        got = grid(rt.call(M, "ce_log_summary", ids, dates, amounts))
        assert sorted(r[0] for r in got[1:]) == ["17", "B7"]
    day = dt.datetime(1997, 2, 1)
    args = (col([1, day, 2]), col(["1997-01-01", "1997-01-08", "1997-01-15"]), col([10.0, 20.0, 5.0]))
    serial = (day - dt.datetime(1899, 12, 30)).days  # Excel's 1900 date system
    assert serial == 35462
    for rt in (com, ojs):
        assert [r[0] for r in grid(rt.call(M, "ce_log_summary", *args))[1:]] == [1, 2, serial]
