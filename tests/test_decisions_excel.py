"""The decisions in Excel (CE_STRUCTURE ... CE_PROSPECT_WEIGHTS) through both xlwings paths.

The catalogue and the VALID/INVALID cases below also run in tests/test_excel.py (its
catalogue, metadata and VBA-wrapper checks, COM and Office.js with a blank as 0 and as
null). Expected numbers: the structures and their comparison worked out by hand here;
what-if, the grid and the retention watch equal the core run on the same table (whose
own tests hand-work them); the prospect ranking is small enough to rank by hand.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import customer_equity as ce
from customer_equity.excel import cells
from fuzz_all import officejs_view
from xlwings_harness import OMITTED, CellError, Cells, assert_grid_equal, grid

M = "customer_equity.excel.functions"
TYPES = ["Lighthouse", "Follower", "Rational", "Profit-seeking"]

CATALOGUE = {
    "ce_structure": ["types", "rate", "periods", "pv", "ppv", "cv", "kv", "tv", "iv", "timing"],
    "ce_structure_counts": ["customers", "average", "value_mix"],
    "ce_structure_compare": ["structure_from", "structure_to"],
    "ce_whatif": ["customers", "config", "retention_change", "rate", "margin_change",
                  "transaction_income", "moves", "relabel_mix", "type_mix", "share_change",
                  "loyalty_change", "new_customers", "acquisition_cost", "base_retention"],
    "ce_whatif_grid": ["customers", "config", "row_lever", "row_values", "column_lever",
                       "column_values", "result"],
    "ce_retention_watch": ["customers", "config", "p_alive", "age", "point"],
    "ce_prospects": ["prospects", "customers", "ltv", "types", "traits", "weights", "best",
                     "neighbours", "cutoff", "avoid_share"],
    "ce_prospect_weights": ["customers", "ltv", "traits", "best"],
}
OPTIONAL = {"ce_structure": 2, "ce_structure_counts": 1, "ce_whatif": 13, "ce_whatif_grid": 1,
            "ce_retention_watch": 4, "ce_prospects": 7, "ce_prospect_weights": 2}
#: CE_ function -> the Python function its docstring names (test_excel.py checks both)
PYTHON_NAMES = {"ce_structure": "structure_from_values", "ce_structure_counts": "structure_from_counts",
                "ce_structure_compare": "compare_structures", "ce_whatif": "what_if",
                "ce_whatif_grid": "what_if_grid", "ce_retention_watch": "retention_watch",
                "ce_prospects": "screen_prospects", "ce_prospect_weights": "prospect_weights"}
#: arguments that differ from the Python function's, for the reason in excel.py's names table
DIFFERENT_ARGUMENTS = {"ce_structure", "ce_structure_compare"}

# the spilled headers are words (the core's column names, as an analyst reads them)
STRUCTURE_HEADER = ["Type", "Customers", "Customer share", "Equity", "Equity share", "Average",
                    "PV share", "PPV share", "CV share", "KV share", "TV share", "Iv share"]
COMPARE_COLUMNS = ["customers_change", "customer_share_change", "equity_change",
                   "equity_share_change", "average_change", "volume_effect", "mix_effect",
                   "value_effect", "value_effect_pv", "value_effect_ppv", "value_effect_cv",
                   "value_effect_kv", "value_effect_tv", "value_effect_iv"]
COMPARE_HEADER = ["Type", "Customers change", "Customer share change", "Equity change",
                  "Equity share change", "Average change", "Volume effect", "Mix effect",
                  "Value effect", "Value effect PV", "Value effect PPV", "Value effect CV",
                  "Value effect KV", "Value effect TV", "Value effect Iv"]
_ = ""  # an undefined entry spills as an empty cell


def col(values):
    return Cells([[v] for v in values])


# --- a small customer table, as a worksheet holds it (header row first) -----------------

SMALL = pd.DataFrame({
    "customer_id": ["A", "B", "C", "D"],
    "type": ["Lighthouse", "Lighthouse", "Rational", "Profit-seeking"],
    "periods": [3.0, 5.0, 2.0, 1.0],
    "capacity": [1000.0, 800.0, 400.0, 300.0],
    "share": [0.5, 0.5, 0.5, 1.0],
    "margin": [0.2, 0.25, 0.2, 0.1],
})
SMALL_SETTINGS = [["rate", 0.0], ["classify_by", "type"], ["iv", None]]


def sheet_rows(frame):
    return [list(frame.columns)] + [[v for v in row] for row in frame.astype(object).values.tolist()]


def small_cells():
    return Cells(sheet_rows(SMALL))


def settings_cells(rows=SMALL_SETTINGS):
    return Cells([list(r) for r in rows])


FLAT = ce.MeasureConfig(rate=0.0, classify_by="type")


def table_cells(frame, first):
    """A core table as the spill must show it: its column names in words."""
    out = [[cells.words(first)] + [cells.words(c) for c in frame.columns]]
    for label, row in zip(frame.index, frame.itertuples(index=False)):
        out.append([label if isinstance(label, str) else float(label)]
                   + ["" if isinstance(v, float) and math.isnan(v) else
                      (v if isinstance(v, (bool, np.bool_, str)) else float(v)) for v in row])
    return out


# By hand (rate 0): A 100 x 3 = 300, B 100 x 5 = 500, C 40 x 2 = 80, D 30. End-of-period timing:
# a type retained T periods on average has r = T/(1+T) (expected lifetime r/(1-r) = T).
# Lighthouse r = 4/5 -> 0.85: lifetime 0.85/0.15 = 17/3 instead of 4, x 17/12: 800 x 17/12;
# Rational r = 2/3 -> 43/60: lifetime 43/17 instead of 2, x 43/34: 80 x 43/34;
# Profit-seeking r = 1/2 -> 0.55: lifetime 11/9 instead of 1: 30 x 11/9.
L, R, P = 800 * 17 / 12, 80 * 43 / 34, 30 * 11 / 9
WHATIF_BY_HAND = [
    ["Type", "Customers before", "Customers after", "Equity before", "Equity after", "Difference"],
    ["Lighthouse", 2.0, 2.0, 800.0, L, L - 800],
    ["Follower", 0.0, 0.0, 0.0, 0.0, 0.0],
    ["Rational", 1.0, 1.0, 80.0, R, R - 80],
    ["Profit-seeking", 1.0, 1.0, 30.0, P, P - 30],
    ["Total", 4.0, 4.0, 910.0, L + R + P, L + R + P - 910],
]

# rate 10 % instead of 0: A 100 x annuity(3), B 100 x annuity(5), C 40 x annuity(2), D 30 / 1.1
def annuity(n, i=0.1):
    return sum((1 + i) ** -t for t in range(1, n + 1))


GRID_BY_HAND = [
    ["Retention change \\ Discount rate", 0.0, 0.1],
    [0.0, 910.0, 100 * (annuity(3) + annuity(5)) + 40 * annuity(2) + 30 / 1.1],
]

PEOPLE = Cells([["income"], [5.0], [4.0], [2.0], [1.0]])
PEOPLE_LTV = col([900.0, 700.0, 100.0, 50.0])
PROSPECTS = Cells([["prospect_id", "income"], ["p", 1.0], ["q", 5.0], ["r", 3.0]])
# Income mean 3, sd sqrt(2.5) (sample) or sqrt(2) (population) -- the ranking does not depend
# on it: one trait, weight 1 (the best half has the higher income), so q (5) > r (3) > p (1).
# Neighbours (2 closest scores): q -> 5, 4: Lighthouse (nearest), (900 + 700)/2 = 800; r -> 4 and
# 2 (tie, the higher first): Follower, 400; p -> 1, 2: Profit-seeking, 75. The avoid cut-off is
# the score that 20 % of customers fall below (income 1.6): only p is below.
Z = 2 / float(np.std([5.0, 4.0, 2.0, 1.0], ddof=0))

VALID = [
    # Lighthouse 100 x 2 + KV 50 x 2 + Iv 10; Rational 40 x 2 + 10 and 20 x 2 + 10
    ("ce_structure", (col(["Lighthouse", "Rational", "Rational"]), 0.0, 2, col([100.0, 40.0, 20.0]),
                      OMITTED, OMITTED, col([50.0, 0.0, 0.0]), OMITTED, 10),
     [STRUCTURE_HEADER,
      ["Lighthouse", 1.0, 1 / 3, 310.0, 310 / 450, 310.0, 200 / 310, 0.0, 0.0, 100 / 310, 0.0, 10 / 310],
      ["Follower", 0.0, 0.0, 0.0, 0.0, _, _, _, _, _, _, _],
      ["Rational", 2.0, 2 / 3, 140.0, 140 / 450, 70.0, 120 / 140, 0.0, 0.0, 0.0, 0.0, 20 / 140],
      ["Profit-seeking", 0.0, 0.0, 0.0, 0.0, _, _, _, _, _, _, _],
      ["Total", 3.0, 1.0, 450.0, 1.0, 150.0, 320 / 450, 0.0, 0.0, 100 / 450, 0.0, 30 / 450]]),
    ("ce_structure_counts", (col([200.0, 0.0, 800.0, 0.0]), col([5000.0, 0.0, 1000.0, 0.0])),
     [STRUCTURE_HEADER,
      ["Lighthouse", 200.0, 0.2, 1e6, 1 / 1.8, 5000.0, _, _, _, _, _, _],
      ["Follower", 0.0, 0.0, 0.0, 0.0, _, _, _, _, _, _, _],
      ["Rational", 800.0, 0.8, 8e5, 0.8 / 1.8, 1000.0, _, _, _, _, _, _],
      ["Profit-seeking", 0.0, 0.0, 0.0, 0.0, _, _, _, _, _, _, _],
      ["Total", 1000.0, 1.0, 1.8e6, 1.0, 1800.0, _, _, _, _, _, _]]),
    # same 100 customers; 10 move from rational (100) to lighthouse (1,000), which become worth
    # 1,100: mix (0.1 x 100 x 1050 = 10,500 and -0.1 x 100 x 100), value (100 x 15/100 avg share);
    # no split by kind for the types with customers (counts and averages carry none), nothing
    # to split (0) for the types without
    ("ce_structure_compare", (Cells([[10.0, 1000.0], [0.0, 0.0], [90.0, 100.0], [0.0, 0.0]]),
                              Cells([[20.0, 1100.0], [0.0, 0.0], [80.0, 100.0], [0.0, 0.0]])),
     [COMPARE_HEADER,
      ["Lighthouse", 10.0, 0.1, 12000.0, 22000 / 30000 - 10000 / 19000, 100.0, 0.0, 10500.0, 1500.0,
       _, _, _, _, _, _],
      ["Follower", 0.0, 0.0, 0.0, 0.0, _, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
      ["Rational", -10.0, -0.1, -1000.0, 8000 / 30000 - 9000 / 19000, 0.0, 0.0, -1000.0, 0.0,
       _, _, _, _, _, _],
      ["Profit-seeking", 0.0, 0.0, 0.0, 0.0, _, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
      ["Total", 0.0, 0.0, 11000.0, 0.0, 110.0, 0.0, 9500.0, 1500.0, _, _, _, _, _, _]]),
    ("ce_whatif", (small_cells(), settings_cells(), 0.05), WHATIF_BY_HAND),
    ("ce_whatif_grid", (small_cells(), settings_cells(), "retention_change", 0.0, "rate",
                        Cells([[0.0, 0.1]])), GRID_BY_HAND),
    # one point less: Lighthouse 0.8 -> 0.79, lifetime 79/21 instead of 4: x 79/84, 800 x 5/84
    # at stake; Rational 2/3 -> 197/300, lifetime 197/103 instead of 2: x 197/206, 80 x 9/206;
    # Profit-seeking 1/2 -> 0.49, lifetime 49/51 instead of 1: 30 x 2/51
    ("ce_retention_watch", (small_cells(), settings_cells()),
     [["Type", "Customers", "Mean periods", "Retention", "Retention P(alive)", "Equity", "At stake",
       "At stake share", "At risk", "At risk equity"],
      ["Lighthouse", 2.0, 4.0, 0.8, _, 800.0, 800 * 5 / 84, 5 / 84, _, _],
      ["Follower", 0.0, _, _, _, 0.0, 0.0, _, _, _],
      ["Rational", 1.0, 2.0, 2 / 3, _, 80.0, 80 * 9 / 206, 9 / 206, _, _],
      ["Profit-seeking", 1.0, 1.0, 0.5, _, 30.0, 30 * 2 / 51, 2 / 51, _, _],
      ["Total", 4.0, 11 / 4, _, _, 910.0, 800 * 5 / 84 + 80 * 9 / 206 + 60 / 51,
       (800 * 5 / 84 + 80 * 9 / 206 + 60 / 51) / 910, _, _]]),
    ("ce_prospects", (PROSPECTS, PEOPLE, PEOPLE_LTV, col(TYPES), OMITTED, OMITTED, 0.5, 2),
     [["Rank", "Row", "Prospect id", "Score", "Expected type", "Value estimate", "Avoid"],
      [1.0, 2.0, "q", Z, "Lighthouse", 800.0, False],
      [2.0, 3.0, "r", 0.0, "Follower", 400.0, False],
      [3.0, 1.0, "p", -Z, "Profit-seeking", 75.0, True]]),
    ("ce_prospect_weights", (Cells([["income", "age"], [5.0, 40.0], [4.0, 40.0], [2.0, 40.0],
                                    [1.0, 40.0]]), PEOPLE_LTV, OMITTED, 0.5),
     [["Trait", "Weight"], ["income", 1.0], ["age", 0.0]]),
]

INVALID = [
    ("ce_structure", (col(["Lighthouse", "VIP"]), 0.1, 2, col([1.0, 2.0]), 0, 0, 0, 0),
     "types, row 2: unknown customer type"),
    ("ce_structure_counts", (col([-1.0, 0.0, 0.0, 0.0]), col([1.0, 1.0, 1.0, 1.0])),
     "customers, row 1: a number of customers must be >= 0"),
    ("ce_structure_compare", (Cells([[1.0, 2.0, 3.0]] * 3), Cells([[1.0, 2.0]] * 4)),
     "structure_from: give a spilled CE_STRUCTURE"),
    ("ce_whatif", (Cells(sheet_rows(SMALL)[:2] + [["C", "Rational", "two", 400.0, 0.5, 0.2]]),
                   settings_cells(), 0.05),
     "customers[periods], row 3: expected a number, got text (got 'two')"),
    ("ce_whatif_grid", (small_cells(), settings_cells(), "colour", 0.0, "rate", 0.1),
     "row_lever: must be one of retention_change, rate"),
    ("ce_retention_watch", (small_cells(), settings_cells(), OMITTED, OMITTED, 2),
     "point: the fall in retention must lie in (0, 1)"),
    ("ce_prospects", (PROSPECTS, PEOPLE, col([900.0, 700.0, 100.0])),
     "ltv: needs one lifetime value per current customer (4), got 3"),
    ("ce_prospect_weights", (PEOPLE, PEOPLE_LTV, OMITTED, 1.5),
     "best: the share of best customers must lie strictly between 0 and 1"),
]


def both(com, ojs, func, *args):
    return grid(com.call(M, func, *args)), grid(ojs.call(M, func, *args))


# --- against the core on the sample ------------------------------------------------------

SAMPLE = ce.load_sample().head(60)
SAMPLE_CONFIG = ce.MeasureConfig(rate=0.1, iv=50.0)  # the sample's scores, no allocated income
SAMPLE_SETTINGS = Cells([["rate", 0.1], ["iv", 50.0], ["cutoffs", 4.0], [None, 3.0], [None, 2.0],
                         ["weights.income", 0.2], ["weights.education", 0.15],
                         ["weights.innovativeness", 0.25], ["weights.opinion_leadership", 0.2],
                         ["weights.brand_loyalty", 0.1], ["weights.price_tolerance", 0.1]])


def sample_cells():
    rows = sheet_rows(SAMPLE)
    return Cells([rows[0]] + [[float(v) if isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                               else v for v in r] for r in rows[1:]])


@pytest.mark.parametrize("levers,core_levers", [
    ((0.05,), {"retention_change": 0.05}),
    ((col([0.02, 0.0, 0.05, 0.0]), 0.08), {"retention_change": [0.02, 0.0, 0.05, 0.0], "rate": 0.08}),
    ((OMITTED, OMITTED, 0.02), {"margin_change": 0.02}),
    ((OMITTED, OMITTED, OMITTED, OMITTED, OMITTED, Cells([[0.1, 0.3, 0.4, 0.2]])),
     {"relabel_mix": [0.1, 0.3, 0.4, 0.2]}),
    ((OMITTED,) * 6 + (col([0.1, 0.3, 0.4, 0.2]), 0.02),
     {"type_mix": [0.1, 0.3, 0.4, 0.2], "share_change": 0.02}),
    ((OMITTED,) * 8 + (col([0.1, 0.0, 0.05, 0.0]), Cells([[2.0, 3.0, 0.0, 0.0]]), 250.0),
     {"loyalty_change": [0.1, 0.0, 0.05, 0.0], "new_customers": [2, 3, 0, 0], "acquisition_cost": 250}),
    ((-0.01,) + (OMITTED,) * 10 + (col([0.9, None, 0.85, None]),),
     {"retention_change": -0.01, "base_retention": [0.9, np.nan, 0.85, np.nan]}),
    ((OMITTED, OMITTED, OMITTED, OMITTED, Cells([["Rational", "Follower", 5.0], ["follower", "Lighthouse", 2.0],
                                               [None, None, None]])),
     {"moves": {("Rational", "Follower"): 5, ("Follower", "Lighthouse"): 2}}),
])
def test_whatif_on_the_sample_equals_the_core(com, ojs, levers, core_levers):
    expected = table_cells(ce.what_if(SAMPLE, SAMPLE_CONFIG, **core_levers).table, "type")
    for got in both(com, ojs, "ce_whatif", sample_cells(), SAMPLE_SETTINGS, *levers):
        assert_grid_equal(got, expected)


def test_a_settings_range_selected_with_empty_rows_below_reads_as_without_them(com, ojs):
    """Cutoffs continue on rows without a name, and empty rows close the range: on xlwings
    Lite with blank sent as 0 those rows arrive as 0s and must read the same."""
    expected = table_cells(ce.what_if(SAMPLE, SAMPLE_CONFIG, retention_change=0.05).table, "type")
    settings = Cells(SAMPLE_SETTINGS.values + [[None, None]] * 3)
    for got in both(com, ojs, "ce_whatif", sample_cells(), settings, 0.05):
        assert_grid_equal(got, expected)


def test_transaction_income_per_period_from_the_settings_and_as_a_lever(com, ojs):
    config = ce.MeasureConfig(rate=0.1, iv=50.0, transaction_income=[1000.0, 800.0, 500.0])
    settings = Cells(SAMPLE_SETTINGS.values + [["transaction_income", 1000.0], [None, 800.0], [None, 500.0]])
    expected = table_cells(ce.what_if(SAMPLE, config, transaction_income=[1200.0, 900.0, 600.0]).table, "type")
    for got in both(com, ojs, "ce_whatif", sample_cells(), settings, OMITTED, OMITTED, OMITTED,
                    Cells([[1200.0, 900.0, 600.0]])):
        assert_grid_equal(got, expected)


def test_whatif_reports_income_not_earned_as_the_command_line_does(com, ojs):
    """A lighthouse customer (3 periods) carries the partner income, the rational one does
    not. Lighthouse retention 3/4 -> 2/3 shortens its life to 2 periods; of fixed totals of
    100 a period (the transaction_income lever), period 3's finds no carrier: a note row under
    the table says so, as the command line prints a note."""
    table = Cells([["type", "periods", "pv"], ["Lighthouse", 3.0, 0.0], ["Rational", 5.0, 0.0]])
    settings = Cells([["rate", 0.0], ["classify_by", "type"], ["transaction_income", 100.0], [None, 100.0],
                      [None, 100.0]])
    change = col([2 / 3 - 3 / 4, 0.0, 0.0, 0.0])
    for got in both(com, ojs, "ce_whatif", table, settings, change, OMITTED, OMITTED,
                    Cells([[100.0, 100.0, 100.0]])):
        assert got[5][:5] == ["Total", 2.0, 2.0, 300.0, 200.0]
        assert got[6] == ["Note", "100 of transaction income falls in periods without carriers after "
                          "the change and is not earned", "", "", "", ""]
    # without the lever, income per carrier follows the carrier: nothing is dropped, no note
    for got in both(com, ojs, "ce_whatif", table, settings, change):
        assert len(got) == 6 and got[5][4] == 200.0


def test_whatif_grid_on_the_sample_equals_the_core(com, ojs):
    core_grid = ce.what_if_grid(SAMPLE, SAMPLE_CONFIG, "rate", [0.08, 0.12], "retention_change",
                                [0.0, 0.05, 0.1], result="difference")
    expected = [["Discount rate \\ Retention change", 0.0, 0.05, 0.1]] + [
        [x] + core_grid.loc[x].tolist() for x in (0.08, 0.12)]
    for got in both(com, ojs, "ce_whatif_grid", sample_cells(), SAMPLE_SETTINGS, "rate",
                    col([0.08, 0.12]), "retention_change", Cells([[0.0, 0.05, 0.1]]), "difference"):
        assert_grid_equal(got, expected)


def test_retention_watch_on_the_sample_equals_the_core(com, ojs):
    expected = table_cells(ce.retention_watch(SAMPLE, SAMPLE_CONFIG, point=0.02), "type")
    for got in both(com, ojs, "ce_retention_watch", sample_cells(), SAMPLE_SETTINGS, OMITTED,
                    OMITTED, 0.02):
        assert_grid_equal(got, expected)


def test_a_spilled_structure_is_the_input_of_the_comparison(com, ojs):
    """CE_STRUCTURE_COMPARE(CE_STRUCTURE(...), CE_STRUCTURE_COUNTS(...)) = compare_structures."""
    m = ce.measure(SAMPLE, SAMPLE_CONFIG)
    types = col(m.customers["type"].tolist())
    ltv = m.customers["ltv"].tolist()
    mine = com.call(M, "ce_structure", types, 0.0, 1, col(ltv), 0, 0, 0, 0)
    theirs = com.call(M, "ce_structure_counts", col([10.0, 20.0, 20.0, 10.0]),
                      col([3000.0, 2000.0, 1000.0, 300.0]))
    core = ce.compare_structures([ce.structure_table(m),
                                  ce.structure_from_counts([10, 20, 20, 10], [3000, 2000, 1000, 300])])
    expected = table_cells(core.set_index("type")[COMPARE_COLUMNS], "type")
    for got in both(com, ojs, "ce_structure_compare", Cells(grid(mine)), Cells(grid(theirs))):
        assert_grid_equal(got, expected)
    total = grid(com.call(M, "ce_structure_compare", Cells(grid(mine)), Cells(grid(theirs))))[-1]
    volume, mix, value = total[6:9]
    assert volume + mix + value == pytest.approx(total[3], rel=1e-12)  # the split adds up


def test_prospects_with_chosen_traits(com, ojs):
    people = Cells([["id", "income", "age"], ["a", 5.0, 30.0], ["b", 4.0, 50.0], ["c", 2.0, 30.0],
                    ["d", 1.0, 50.0]])
    pros = Cells([["id", "income", "age"], ["p", 1.0, 50.0], ["q", 5.0, 30.0]])
    for got in both(com, ojs, "ce_prospects", pros, people, PEOPLE_LTV, OMITTED, Cells([["income"]])):
        assert [row[2] for row in got[1:]] == ["q", "p"]
    for got in both(com, ojs, "ce_prospect_weights", people, PEOPLE_LTV, Cells([["age", "income"]]), 0.5):
        assert got == [["Trait", "Weight"], ["age", 0.0], ["income", 1.0]]


def test_prospects_with_the_firms_weights_in_two_columns(com, ojs):
    people = Cells([["income", "age"], [5.0, 30.0], [4.0, 50.0], [2.0, 30.0], [1.0, 50.0]])
    pros = Cells([["id", "income", "age"], ["p", 3.0, 30.0], ["q", 3.0, 50.0]])
    weights = Cells([["income", 0.0], ["age", 1.0]])  # only age counts: q (50) before p (30)
    for got in both(com, ojs, "ce_prospects", pros, people, PEOPLE_LTV, OMITTED, OMITTED, weights):
        assert [row[2] for row in got[1:]] == ["q", "p"]
        assert got[1][3] == pytest.approx(1.0)  # (50 - 40) / 10


@pytest.mark.parametrize("func,args,message", [
    ("ce_whatif", (Cells([["type", "type"], ["Rational", "Rational"]]), OMITTED),
     "customers, row 1: each column name may appear only once in the header row (got 'type')"),
    ("ce_whatif", (Cells([["Lighthouse", 3.0, 100.0]]), OMITTED),
     "customers: needs a header row and at least one row below it"),
    ("ce_whatif", (small_cells(), settings_cells([["rate", 0.1], ["colour", "red"]])),
     "config: unknown setting; known settings are"),
    ("ce_whatif", (small_cells(), settings_cells([["rate", -2.0]])),
     "config: rate: a per-period rate must be a number > -1"),
    ("ce_whatif", (small_cells(), settings_cells(), Cells([[0.1, 0.2]])),
     "retention_change: one value for all types, or 4"),
    ("ce_whatif", (small_cells(), settings_cells(), OMITTED, OMITTED, OMITTED, OMITTED,
                   Cells([["Rational", "VIP", 1.0]])), "moves, row 1, column 2: unknown customer type (got 'VIP')"),
    ("ce_whatif", (small_cells(), settings_cells(), OMITTED, OMITTED, OMITTED, OMITTED,
                   Cells([["Rational", "Follower", 3.0]])), "moves: moves 3 Rational customers; there are 1"),
    ("ce_whatif", (small_cells(), settings_cells(), 0.5),
     "retention_change: Lighthouse retention 0.8 + 0.5 = 1.3 must stay in [0, 1)"),
    ("ce_whatif", (small_cells(), settings_cells()) + (OMITTED,) * 6 + (Cells([[0.25, 0.25, 0.25, 0.25]]),),
     "type_mix: Follower: no customers, so no average value to count its share at"),
    ("ce_whatif_grid", (small_cells(), settings_cells(), "rate", Cells([[0.1, "x"]]), "retention_change", 0.0),
     "row_values: expected numbers (got 'x')"),
    ("ce_structure_compare", (Cells([STRUCTURE_HEADER[:3], ["Lighthouse", 1.0, 0.5]]), Cells([[1.0, 2.0]] * 4)),
     "structure_from: structure: a structure table needs a 'customers' column and an 'average'"),
    ("ce_structure_compare", (Cells([[1.0, 2.0]] * 4), Cells([[1.0, 2.0]] * 3 + [[-1.0, 2.0]])),
     "structure_to (customers), row 4: a number of customers must be >= 0"),
])
def test_bad_tables_and_settings_are_named(com, ojs, func, args, message):
    shown = com.call_cell(M, func, *args)
    assert shown.startswith(f"#VALUE! {func.upper()}: ") and message in shown, shown
    lite = ojs.call_cell(M, func, *args)
    assert isinstance(lite, CellError) and message in lite.message


@pytest.mark.parametrize("func,args,message", [
    ("ce_whatif", (small_cells(), settings_cells(), col([0.05, None, 0.0, 0.0])),
     "retention_change, row 2: a value is required here, the cell is blank"),
    ("ce_structure_counts", (col([200.0, 0.0, 800.0, 0.0]), col([None, None, 1000.0, None])),
     "average, row 1: Lighthouse has customers and no average value (blank)"),
])
def test_a_blank_in_a_decision_is_refused_not_read_as_0(com, ojs, func, args, message):
    """Where a runtime hands the blank over (COM, Office.js with blanks as null) it is refused
    by name; Excel for Mac and the web send it as 0, which no function can tell from a typed 0
    (cells.py)."""
    shown = com.call_cell(M, func, *args)
    assert shown.startswith(f"#VALUE! {func.upper()}: ") and message in shown, shown
    lite = ojs.call_cell(M, func, *args)
    if ojs.empty_cell is None:
        assert isinstance(lite, CellError) and message in lite.message


def test_a_required_column_left_blank_is_named_as_blank_not_missing(com, ojs):
    """An all-blank column counts as not given (an empty tv column is no transaction value),
    but a required one is then named as blank. Office.js may send the blanks as 0s, which
    no function can tell from typed 0s (cells.py): then each customer is retained 0 periods."""
    args = (Cells(sheet_rows(SMALL.assign(periods=None))), settings_cells())
    blank = "CE_WHATIF: customers[periods]: the column is blank in every row, and it is needed here"
    assert com.call_cell(M, "ce_whatif", *args) == "#VALUE! " + blank
    lite = ojs.call_cell(M, "ce_whatif", *args)
    if ojs.empty_cell is None:
        assert isinstance(lite, CellError) and lite.message == blank
    else:
        assert [row[3:] for row in lite[1:]] == [[0.0, 0.0, 0.0]] * 5


# --- any input: a table or a readable error, alike on both runtimes -------------------------

WILD = st.sampled_from([
    None, "", "   ", "abc", True, False, 0, 1, -1, 2.5, 0.5, 0.05, 3, 100.0, 1e300, -1e300,
    dt.datetime(2024, 1, 2), CellError("#N/A"), "Lighthouse", "Rational", "type", "customers",
    "average", "periods", "pv", "rate", "retention_change", "income", "x",
])


@st.composite
def wild_args(draw, func):
    args = []
    for _name in CATALOGUE[func]:
        kind = draw(st.sampled_from(["omitted", "scalar", "range", "range", "table"]))
        if kind == "omitted":
            args.append(OMITTED)
        elif kind == "scalar":
            v = draw(WILD)
            args.append(Cells([[v]]) if isinstance(v, (dt.datetime, CellError)) else v)
        elif kind == "table":
            table = draw(st.sampled_from([small_cells(), Cells(sample_cells().values[:6])]))
            rows = [list(r) for r in table.values]
            r, c = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, len(rows[0]) - 1))
            rows[r][c] = draw(WILD)
            args.append(Cells(rows))
        else:
            rows, cols = draw(st.integers(1, 5)), draw(st.integers(1, 3))
            args.append(Cells([[draw(WILD) for _ in range(cols)] for _ in range(rows)]))
    return args


@pytest.mark.parametrize("func", sorted(CATALOGUE))
@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_input_is_a_table_or_a_readable_error_alike_on_both_runtimes(com, ojs, func, data):
    args = data.draw(wild_args(func))
    declared = com.module(M).__dict__[func].__xlfunc__["args"]
    for k, a in enumerate(declared):
        if args[k] is OMITTED and "optional" not in a:
            args[k] = Cells([[None]])  # Excel refuses a formula without its required arguments
    shown = com.call_cell(M, func, *args)
    if isinstance(shown, str):
        assert shown.startswith(f"#VALUE! {func.upper()}: "), (args, shown)
        assert "Traceback" not in shown
        outcome = ("error", shown[len("#VALUE! "):])
    else:
        cells_ = grid(shown)
        assert all(isinstance(h, str) for h in cells_[0]) or func == "ce_whatif_grid", cells_
        for row in cells_[1:]:
            for c in row:
                assert isinstance(c, (str, bool)) or math.isfinite(c), cells_
        outcome = ("value", cells_)
    seen = officejs_view(args, ojs.empty_cell)
    same = outcome if seen is args else None
    lite = ojs.call_cell(M, func, *args)
    if same is None:
        again = com.call_cell(M, func, *seen)
        same = (("error", again[len("#VALUE! "):]) if isinstance(again, str) else ("value", grid(again)))
    if isinstance(lite, CellError):
        assert lite.message.startswith(f"{func.upper()}: "), (args, lite)
        assert same == ("error", lite.message), (args, same, lite)
    else:
        assert same[0] == "value", (args, same, lite)
        assert_grid_equal(lite, same[1])


def test_spilled_headers_in_words_and_as_column_names_read_alike(com, ojs):
    """A structure spilled in words (this version) or with column names (copies made before it)
    is read the same by CE_STRUCTURE_COMPARE; the grid takes a lever in words or by its name."""
    words = com.call(M, "ce_structure_counts", col([10.0, 20.0, 20.0, 10.0]), col([3000.0, 2000.0, 1000.0, 300.0]))
    rows = grid(words)
    assert rows[0][:3] == ["Type", "Customers", "Customer share"]
    old = [[cells.header_key(h) for h in rows[0]]] + rows[1:]
    assert old[0][:3] == ["type", "customers", "customer_share"]
    same = Cells([[10.0, 3000.0], [20.0, 2000.0], [20.0, 1000.0], [10.0, 300.0]])
    for got in (grid(com.call(M, "ce_structure_compare", Cells(rows), same)),
                grid(com.call(M, "ce_structure_compare", Cells(old), same))):
        assert got[0][0] == "Type" and all(v in (0.0, "") for row in got[1:] for v in row[1:])
    for spelled in (("Retention change", "Discount rate"), ("retention_change", "rate")):
        for got in both(com, ojs, "ce_whatif_grid", small_cells(), settings_cells(), spelled[0], 0.0, spelled[1],
                        Cells([[0.0, 0.1]])):
            assert_grid_equal(got, GRID_BY_HAND)
