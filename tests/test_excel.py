"""Every CE_ function through xlwings' own machinery, as Excel calls it.

COM (Windows): xlwings.com_server -> udfs.call_udf -> conversion, with pywin32's
value conventions; Office.js (xlwings Lite / Server): custom_functions_call with
both conventions for a blank cell (0 and null). Expected numbers are worked out
by hand here, independently of the core.
"""

import re

import numpy as np
import pytest

import customer_equity
from xlwings_harness import (
    OMITTED,
    CellError,
    Cells,
    ComRuntime,
    OfficeJsRuntime,
    assert_grid_equal,
    grid,
)

M = "customer_equity.excel.functions"
CATALOGUE = {
    "ce_pv": ["capacity", "share", "margin"],
    "ce_ppv": ["influence", "reach", "avg_value"],
    "ce_tv_allocate": ["income", "carriers"],
    "ce_ltv": ["rate", "values", "periods", "timing"],
    "ce_ltv_sow": ["rate", "capacity", "share", "margin", "periods", "timing"],
    "ce_ltv_indirect": ["rate", "market_size", "share", "margin", "indirect", "periods", "timing"],
    "ce_ltv_retention": ["margin", "retention", "rate", "periods", "timing", "growth", "acquisition_cost"],
    "ce_ltv_values": ["rate", "periods", "pv", "ppv", "cv", "kv", "tv", "iv", "timing"],
    "ce_ltv_type": ["types", "rate", "periods", "pv", "ppv", "cv", "kv", "tv", "iv", "timing"],
    "ce_excluded": ["types", "pv", "ppv", "cv", "kv", "tv"],
    "ce_capabilities": ["type"],
    "ce_score": ["indicators", "weights"],
    "ce_segment": ["score", "cutoffs"],
    "ce_segment_stage": ["stage"],
    "ce_tier": ["ltv", "cutoffs"],
    "ce_equity": ["types", "ltv"],
    "ce_equity_table": ["types", "ltv"],
    "ce_composition": ["types", "rate", "periods", "pv", "ppv", "cv", "kv", "tv", "iv", "timing"],
    "ce_links": ["decision_makers", "executive_link", "expert_link"],
    "ce_rate": ["yearly_rate", "periods_per_year"],
    "ce_version": [],
}
OPTIONAL = {"ce_ltv": 2, "ce_ltv_sow": 2, "ce_ltv_indirect": 2, "ce_ltv_retention": 4,
            "ce_ltv_values": 2, "ce_ltv_type": 2, "ce_composition": 2, "ce_segment": 1, "ce_tier": 1}

d1, d2, d3 = 1 / 1.1, 1 / 1.1**2, 1 / 1.1**3  # end-of-period discount factors at 10 %

# (function, args, expected as a 2-D grid)
VALID = [
    ("ce_pv", (Cells([[5000], [2000]]), Cells([[0.4], [0.5]]), 0.25), [[500.0], [250.0]]),
    ("ce_ppv", (-0.03, 50, 200), [[-300.0]]),
    ("ce_tv_allocate", (Cells([[900, 600]]), Cells([[True], ["Rational"], ["yes"], [None], ["Follower"]])),
     [[300.0, 200.0], [0.0, 0.0], [300.0, 200.0], [0.0, 0.0], [300.0, 200.0]]),
    ("ce_ltv", (0.1, Cells([[100, 120, 150], [50, None, 50]])),
     [[100 * d1 + 120 * d2 + 150 * d3], [50 * d1 + 50 * d3]]),
    ("ce_ltv", (0.1, Cells([[100], [100]]), Cells([[3], [1]])), [[100 * (d1 + d2 + d3)], [100 * d1]]),
    ("ce_ltv", (0.1, Cells([[100, 120, 150]]), OMITTED, "begin"), [[100 + 120 * d1 + 150 * d2]]),
    ("ce_ltv_sow", (0.1, 1000, 0.4, 0.25, 2), [[100 * (d1 + d2)]]),
    ("ce_ltv_indirect", (0.1, 1000, 0.4, 0.25, 1.2, 2), [[120 * (d1 + d2)]]),
    ("ce_ltv_retention", (100, Cells([[0.7, 0.9]]), Cells([[0.05], [0.15]])),
     [[100 * 0.7 / (1.05 - 0.7), 100 * 0.9 / (1.05 - 0.9)],
      [100 * 0.7 / (1.15 - 0.7), 100 * 0.9 / (1.15 - 0.9)]]),
    ("ce_ltv_retention", (100, 0.8, 0.1, 2), [[100 * (0.8 * d1 + 0.64 * d2)]]),
    ("ce_ltv_retention", (100, 0.8, 0.1, OMITTED, "begin", 0.05, 30),
     [[100 * 1.1 / (1.1 - 0.8 * 1.05) - 30]]),
    ("ce_ltv_values", (0.1, 2, 100, -10, 5, 20, 15, 30), [[130 * (d1 + d2) + 30]]),
    ("ce_ltv_type", (Cells([["Lighthouse"], ["profit-seeking"], ["理性"]]), 0.1, 2,
                     Cells([[100], [100], [100]]), -10, 5, 20, 15, 30),
     [[130 * (d1 + d2) + 30], [100 * (d1 + d2) + 30], [95 * (d1 + d2) + 30]]),
    # Rational provides no KV and no TV; Profit-seeking only PV: 2 KV cells, 1 TV, 1 PPV, 1 CV left out
    ("ce_excluded", (Cells([["Rational"], ["Profit-seeking"], ["Lighthouse"]]), OMITTED,
                     Cells([[0], [7], [7]]), Cells([[0], [3], [0]]), Cells([[5], [5], [5]]),
                     Cells([[2], [0], [2]])),
     [["PV", "PPV", "CV", "KV", "TV"], [0, 1, 1, 2, 1]]),
    # one type for every row (the fuzz test found this crashing): Profit-seeking gives no PPV
    ("ce_excluded", ("Profit-seeking", OMITTED, Cells([[3], [0], [2]]), 0, 0, 0),
     [["PV", "PPV", "CV", "KV", "TV"], [0, 2, 0, 0, 0]]),
    ("ce_capabilities", ("Follower",), [[True, True, True, False, True, True]]),
    ("ce_score", (Cells([[5, 4], [2, 1]]), Cells([[0.6, 0.4]])), [[0.6 * 5 + 0.4 * 4], [0.6 * 2 + 0.4 * 1]]),
    ("ce_segment", (Cells([[4.6], [3.0], [2.5], [1.6]]),),
     [["Lighthouse"], ["Follower"], ["Rational"], ["Profit-seeking"]]),
    ("ce_segment", (Cells([[55], [20]]), Cells([[80, 50, 30]])), [["Follower"], ["Profit-seeking"]]),
    ("ce_segment_stage", (Cells([["growth"], [1], ["成熟期"], ["衰退期"]]),),
     [["Follower"], ["Lighthouse"], ["Rational"], ["Profit-seeking"]]),
    ("ce_tier", (Cells([[5000], [1200], [300], [-40]]), Cells([[2000, 1000, 0]])),
     [["Platinum"], ["Gold"], ["Iron"], ["Lead"]]),
    ("ce_equity", (Cells([["Lighthouse"], ["Rational"], ["Rational"]]), Cells([[1000], [250], [-50]])), [[1200.0]]),
    ("ce_equity_table", (Cells([["Lighthouse"], ["Rational"], ["Rational"]]), Cells([[1000], [250], [-50]])),
     [["Type", "Customers", "Equity", "Share", "Average"],
      ["Lighthouse", 1, 1000.0, 1000 / 1200, 1000.0],
      ["Follower", 0, 0.0, 0.0, ""],
      ["Rational", 2, 200.0, 200 / 1200, 100.0],
      ["Profit-seeking", 0, 0.0, 0.0, ""],
      ["Total", 3, 1200.0, 1.0, 400.0]]),
    ("ce_composition", (Cells([["Lighthouse"], ["Profit-seeking"]]), 0, 2, Cells([[100], [100]]),
                        OMITTED, OMITTED, Cells([[50], [50]]), OMITTED, 10),
     [["Value kind", "Lighthouse", "Follower", "Rational", "Profit-seeking", "Total"],
      ["PV", 200.0, 0.0, 0.0, 200.0, 400.0],
      ["PPV", 0.0, 0.0, 0.0, 0.0, 0.0],
      ["CV", 0.0, 0.0, 0.0, 0.0, 0.0],
      ["KV", 100.0, 0.0, 0.0, 0.0, 100.0],
      ["TV", 0.0, 0.0, 0.0, 0.0, 0.0],
      ["Iv", 10.0, 0.0, 0.0, 10.0, 20.0],
      ["Total", 310.0, 0.0, 0.0, 210.0, 520.0]]),
    ("ce_links", (Cells([[4], [2]]), Cells([[True], [True]]), Cells([[False], [1]])), [[2], [2]]),
    ("ce_rate", (0.12, 12), [[1.12 ** (1 / 12) - 1]]),
]

# (function, args, argument and position the message must name)
INVALID = [
    ("ce_pv", (Cells([[5000], [2000]]), Cells([[0.4], [1.5]]), 0.25), "share, row 2: must lie in [0, 1]"),
    ("ce_ppv", (0.1, -5, 200), "reach: must be >= 0"),
    ("ce_tv_allocate", (Cells([[900]]), Cells([["maybe"]])), "carriers: must be TRUE/FALSE, 1/0, yes/no or x/blank or a customer type"),
    ("ce_ltv", (0.1, Cells([[100, "n/a", 150]])), "values, row 1, column 2: 'n/a' stands for a missing value and is never read as 0"),
    ("ce_ltv", (0.1, Cells([[100, CellError("#DIV/0!"), 150]])), "values, row 1, column 2: the cell holds the Excel error #DIV/0!"),
    ("ce_ltv", (-1, Cells([[100]])), "rate: a per-period rate must be > -1"),
    ("ce_ltv", (0.1, Cells([[100]]), 2.5), "periods: a number of periods must be a whole number"),
    ("ce_ltv", (0.1, Cells([[100]]), OMITTED, "middle"), 'timing: must be "end"'),
    ("ce_ltv_sow", (0.1, 1000, 1.4, 0.25, 2), "share: must lie in [0, 1]"),
    ("ce_ltv_indirect", (0.1, 1000, 0.4, 0.25, -1, 2), "indirect: must be >= 0"),
    ("ce_ltv_retention", (100, Cells([[0.7, 1.2]]), 0.1), "retention, row 1, column 2: must lie in [0, 1]"),
    ("ce_ltv_retention", (100, 1.0, 0.0), "retention: the infinite-horizon value is defined only while"),
    ("ce_ltv_values", (0.1, -2, 100, 0, 0, 0, 0), "periods: a number of periods must be >= 0"),
    ("ce_ltv_type", (Cells([["Lighthouse"], ["VIP"]]), 0.1, 2, 100, 0, 0, 0, 0), "types, row 2: unknown customer type"),
    ("ce_excluded", (Cells([["Rational"], ["Lighthouse"]]), 0, 0, 0, Cells([[1], [2], [3]]), 0),
     "kv: has 3 rows, which do not match types (2 rows)"),
    ("ce_capabilities", ("Gold",), "type: unknown customer type"),
    ("ce_score", (Cells([[5, 4], [2, 1]]), Cells([[0.6, 0.3, 0.1]])), "weights: needs one weight per indicator column"),
    ("ce_segment", (Cells([[3.0]]), Cells([[2, 3, 4]])), "cutoffs: cut-offs must be in descending order"),
    ("ce_segment_stage", (Cells([["growth"], ["adolescence"]]),), "stage, row 2: unknown life-cycle stage"),
    ("ce_tier", (Cells([[100], ["lots"]]),), "ltv, row 2: expected a number, got text"),
    ("ce_equity", (Cells([["Lighthouse"], ["Rational"]]), Cells([[1], [2], [3]])), "ltv: needs one value per customer type"),
    ("ce_equity_table", (Cells([["Lighthouse"], ["Boss"]]), Cells([[1], [2]])), "types, row 2: unknown customer type"),
    ("ce_composition", (Cells([["Lighthouse"]]), 0.1, 2, Cells([["x"]]), 0, 0, 0, 0), "pv: expected a number, got text"),
    ("ce_links", (Cells([[4]]), Cells([[2]]), Cells([[0]])), "executive_link: must be TRUE/FALSE, 1/0, yes/no or x/blank"),
    ("ce_rate", (0.12, 0), "periods_per_year: must be > 0"),
]


# issue 14's decisions (tables in, tables out): their cases live in test_decisions_excel.py
from test_decisions_excel import CATALOGUE as _DECISIONS, INVALID as _DECISIONS_INVALID  # noqa: E402
from test_decisions_excel import OPTIONAL as _DECISIONS_OPTIONAL, VALID as _DECISIONS_VALID  # noqa: E402

CATALOGUE.update(_DECISIONS)
OPTIONAL.update(_DECISIONS_OPTIONAL)
VALID += _DECISIONS_VALID
INVALID += _DECISIONS_INVALID


def test_catalogue_is_complete():
    """The test tables cover every function the module exposes to Excel, and no more."""
    import inspect

    import customer_equity.excel.functions as excel

    from test_forecast_excel import CATALOGUE as FORECASTING  # issue 13's block, tested there
    from test_forecast_models_excel import CATALOGUE as MODELS  # issue 22's block, tested there

    exposed = {n for n, f in inspect.getmembers(excel, inspect.isfunction)
               if n.startswith("ce_") and f.__module__ == excel.__name__} - set(FORECASTING) - set(MODELS)
    assert exposed == set(CATALOGUE)
    assert {c[0] for c in VALID} | {"ce_version"} == set(CATALOGUE)
    assert {c[0] for c in INVALID} | {"ce_version"} == set(CATALOGUE)


@pytest.mark.parametrize("func,args,expected", VALID, ids=[c[0] for c in VALID])
def test_valid_inputs_on_com(com, func, args, expected):
    assert_grid_equal(com.call(M, func, *args), expected)


@pytest.mark.parametrize("func,args,expected", VALID, ids=[c[0] for c in VALID])
def test_valid_inputs_on_officejs(ojs, func, args, expected):
    assert_grid_equal(ojs.call(M, func, *args), expected)


@pytest.mark.parametrize("func,args,message", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_inputs_on_com_show_a_readable_value_error(com, func, args, message):
    shown = com.call_cell(M, func, *args)
    assert isinstance(shown, str)
    assert shown.startswith(f"#VALUE! {func.upper()}: ")
    assert message in shown
    assert "Traceback" not in shown and "File " not in shown


@pytest.mark.parametrize("func,args,message", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_inputs_on_officejs_are_value_errors_with_the_message(ojs, func, args, message):
    shown = ojs.call_cell(M, func, *args)
    assert isinstance(shown, CellError) and shown.code == "#VALUE!"
    assert shown.message.startswith(f"{func.upper()}: ")
    assert message in shown.message
    lite = ojs.call_cell(M, func, *args, host="lite")
    assert message in lite.message


def test_version_names_both_packages(com, ojs):
    import xlwings

    for shown in (grid(com.call(M, "ce_version"))[0][0], grid(ojs.call(M, "ce_version"))[0][0]):
        assert customer_equity.__version__ in shown and xlwings.__version__ in shown


def test_blank_periods_cell_in_a_block_counts_as_zero_on_both_runtimes(com, ojs):
    values = Cells([[100, None, 100]])
    expected = [[100 * d1 + 100 * d3]]
    assert_grid_equal(com.call(M, "ce_ltv", 0.1, values), expected)
    assert_grid_equal(ojs.call(M, "ce_ltv", 0.1, values), expected)


def test_a_blank_range_of_values_keeps_one_answer_per_row(com, ojs):
    """=CE_LTV_VALUES(0.1, 1, 100, 0, 0, 0, E1:E2) with E1:E2 blank: tv is 0 in each row, so
    two customers of 100 / 1.1 each; only an omitted tv (or one blank cell) is one answer."""
    args = (0.1, 1, 100, 0, 0, 0, Cells([[None], [None]]))
    expected = [[100 / 1.1], [100 / 1.1]]
    assert_grid_equal(com.call(M, "ce_ltv_values", *args), expected)
    assert_grid_equal(ojs.call(M, "ce_ltv_values", *args), expected)
    assert_grid_equal(com.call(M, "ce_ltv_values", *args[:6], Cells([[None]])), [[100 / 1.1]])


def test_equity_that_cancels_out_shows_no_share_in_the_cell(com, ojs):
    """=CE_EQUITY_TABLE(types, ltv) with Lighthouse 0, -1.12, -2.52, 9.83 and Follower -6.19:
    the total is 0 on paper, so the Share column is blank and the Total row shows 0, not the
    share of -8.9e-16 (-6,969,320,423,355,842) that summing by type in floating point left."""
    args = (Cells([["Lighthouse"], ["Lighthouse"], ["Lighthouse"], ["Follower"], ["Lighthouse"]]),
            Cells([[0.0], [-1.12], [-2.52], [-6.19], [9.83]]))
    for shown in (grid(com.call(M, "ce_equity_table", *args)), grid(ojs.call(M, "ce_equity_table", *args))):
        header, rows = shown[0], {r[0]: r for r in shown[1:]}
        share = header.index("Share")
        assert [rows[t][share] for t in rows] == [""] * 5
        assert rows["Total"][1:3] == [5, 0] and rows["Lighthouse"][2] == pytest.approx(6.19)


def test_import_functions_writes_a_vba_wrapper_per_function():
    with ComRuntime(workbook_name="customer_equity.xlam") as com:
        imported = com.import_functions(M)
    for func, params in CATALOGUE.items():
        block = imported.function_block(func)
        required = len(params) - OPTIONAL.get(func, 0)
        signature = ", ".join(params[:required] + [f"Optional {p}" for p in params[required:]])
        assert block.splitlines()[0] == f"Function {func}({signature})"
        assert "On Error GoTo failed" in block
        assert f'XLPy.CallUDF("{M}", "{func}", Array({", ".join(params)}), ActiveWorkbook' in block
        assert "Application.Volatile" not in block  # results depend on inputs only
        options = imported.macro_options_for(func)
        assert options["Category"] == "Customer Equity"
        assert 10 < len(options["Description"]) <= 255 and "\n" not in options["Description"]
        docs = options.get("ArgumentDescriptions") or []
        assert len(docs) == len(params)
        assert not any(d.startswith("Positional argument") for d in docs)


def test_officejs_metadata_names_descriptions_and_optional_flags():
    with OfficeJsRuntime() as ojs:
        meta = ojs.meta(M)
    funcs = {f["name"]: f for f in meta["functions"]}
    from test_forecast_excel import CATALOGUE as FORECASTING  # issue 13's block, tested there
    from test_forecast_models_excel import CATALOGUE as MODELS  # issue 22's block, tested there

    assert set(funcs) - {f.upper() for f in {**FORECASTING, **MODELS}} == {f.upper() for f in CATALOGUE}
    for func, params in CATALOGUE.items():
        f = funcs[func.upper()]
        assert len(f["description"]) > 10
        assert [p["name"] for p in f["parameters"]] == params
        required = len(params) - OPTIONAL.get(func, 0)
        assert [p.get("optional", False) for p in f["parameters"]] == [False] * required + [True] * (len(params) - required)
        assert all(len(p["description"]) > 5 for p in f["parameters"])
        assert not f.get("options", {}).get("volatile", False)


def test_large_column_is_one_vectorised_call(com, monkeypatch):
    """100,000 customers in one call: the core runs once over the whole column."""
    import customer_equity.model.discount as discount

    calls = []
    real = discount.present_value
    monkeypatch.setattr(discount, "present_value", lambda *a, **k: calls.append(1) or real(*a, **k))
    import customer_equity.model.ltv as ltv

    monkeypatch.setattr(ltv, "present_value", discount.present_value)
    n = 100_000
    got = grid(com.call(M, "ce_ltv", 0.1, Cells([[100.0, 100.0]] * n)))
    assert len(got) == n and got[-1][0] == pytest.approx(100 * (d1 + d2))
    assert calls == [1]


def test_error_message_names_function_argument_and_position_in_words():
    with ComRuntime() as com:
        shown = com.call_cell(M, "ce_ltv", 0.1, Cells([[1, 2], [3, "x"]]))
    assert re.fullmatch(r"#VALUE! CE_LTV: values, row 2, column 2: expected a number, got text \(got 'x'\)", shown)


def test_currency_formatted_cells_are_money_on_com(com):
    """pywin32 hands Currency-formatted cells over as decimal.Decimal."""
    import decimal

    got = com.call(M, "ce_ltv", 0.1, Cells([[decimal.Decimal("100.50"), decimal.Decimal("200")]]))
    assert grid(got)[0][0] == pytest.approx(100.5 * d1 + 200 * d2)


@pytest.mark.parametrize("code", ["#N/A", "#DIV/0!", "#REF!"])
def test_an_error_cell_in_an_input_gives_an_error_out_on_both_runtimes(com, ojs, code):
    args = (0.1, Cells([[100.0, 120.0], [50.0, CellError(code)]]))
    expected = f"values, row 2, column 2: the cell holds the Excel error {code}"
    assert expected in com.call_cell(M, "ce_ltv", *args)
    assert expected in ojs.call_cell(M, "ce_ltv", *args).message


def test_integers_from_officejs_are_numbers_not_error_codes(ojs):
    assert_grid_equal(ojs.call(M, "ce_pv", 5000, Cells([[1]]), 2), [[10000.0]])


def test_xlwings_lite_main_py_with_the_readme_import_line(monkeypatch):
    """Lite registers the functions of its main.py: the README's one import line is enough."""
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).parent / "lite_project"))
    with OfficeJsRuntime() as ojs:
        ojs.module(M)  # imported under Lite's decorators, as main.py's import does there
        meta = ojs.meta("main")
        from test_forecast_excel import CATALOGUE as FORECASTING  # issue 13's block
        from test_forecast_models_excel import CATALOGUE as MODELS  # issue 22's block

        assert {f["name"] for f in meta["functions"]} == {f.upper() for f in {**CATALOGUE, **FORECASTING, **MODELS}}
        assert_grid_equal(ojs.call("main", "ce_ltv_retention", 100, 0.8, 0.1), [[100 * 0.8 / 0.3]])


# --- the cases of issue 11 -------------------------------------------------------------


def both(com, ojs, func, *args):
    """What the cell shows on COM and on Office.js (blank as null)."""
    ojs_shown = ojs.call_cell(M, func, *args)
    return com.call_cell(M, func, *args), (ojs_shown.message if isinstance(ojs_shown, CellError)
                                           else ojs_shown)


@pytest.mark.parametrize("func,args,message", [
    ("ce_pv", (Cells([[1], [2], [3]]), Cells([[0.1], [0.2]]), 1),
     "CE_PV: share: has 2 rows, which do not match capacity (3 rows)"),
    ("ce_ltv", (Cells([[0.1], [0.2]]), Cells([[1, 2], [3, 4], [5, 6]])),
     "CE_LTV: values: has 3 rows, which do not match rate (2 rows)"),
    ("ce_ltv_values", (0.1, Cells([[1], [2]]), Cells([[1], [2]]), Cells([[1], [2], [3]]), 0, 0, 0),
     "CE_LTV_VALUES: ppv: has 3 rows, which do not match periods (2 rows)"),
    ("ce_links", (Cells([[3], [3]]), Cells([[True]]), Cells([[True], [False], [True]])),
     "CE_LINKS: expert_link: has 3 rows, which do not match decision_makers (2 rows)"),
    ("ce_ltv_retention", (Cells([[1, 2]]), Cells([[0.5, 0.6, 0.7]]), 0.1),
     "CE_LTV_RETENTION: retention: has 3 columns, which do not match margin (2 columns)"),
])
def test_mismatched_shapes_are_refused_naming_the_argument(com, ojs, func, args, message):
    shown_com, shown_ojs = both(com, ojs, func, *args)
    assert shown_com == "#VALUE! " + message
    assert shown_ojs == message


def test_score_of_one_cell_and_one_weight(com, ojs):
    assert grid(com.call(M, "ce_score", 5, 0.5)) == [[2.5]]
    assert grid(ojs.call(M, "ce_score", 5, 0.5)) == [[2.5]]


@pytest.mark.parametrize("func,args,named", [
    ("ce_pv", (1e300, 1, 1e300), "capacity: the result overflows (too large to compute)"),
    ("ce_ltv", (-0.9999999, Cells([[0.0] * 60])), "rate: discounting at this rate overflows"),
    ("ce_ppv", (1, 1e308, 10), "reach: the result overflows"),
    ("ce_ltv_values", (0.0, 2, 1e308, 1e308, 0, 0, 0), "pv: the result overflows"),
    ("ce_score", (Cells([[5, 4], [2, 1]]), Cells([[1.0, -1.7e308]])), "weights: the result overflows"),
])
def test_no_function_returns_inf_nan_or_a_blank_for_a_number(com, ojs, func, args, named):
    """An overflow is refused naming the input that made it (issue 24), not "result"."""
    shown_com, shown_ojs = both(com, ojs, func, *args)
    assert shown_com.startswith(f"#VALUE! {func.upper()}: {named}"), shown_com
    assert shown_ojs.startswith(f"{func.upper()}: {named}"), shown_ojs


def test_ppv_refuses_an_influence_above_100_percent(com, ojs):
    shown_com, shown_ojs = both(com, ojs, "ce_ppv", 5, 10, 100)
    assert "influence: an influence (a share of the people reached) must lie in [-1, 1] (got 5" in shown_com
    assert "must lie in [-1, 1]" in shown_ojs


@pytest.mark.parametrize("cell", ["   ", " "])
def test_a_cell_of_spaces_is_text_not_a_blank(com, ojs, cell):
    for shown in both(com, ojs, "ce_ltv", 0.1, Cells([[100, cell, 100]])):
        assert "values, row 1, column 2: expected a number, got a cell of spaces: clear the cell " \
            "for a blank" in shown


@pytest.mark.parametrize("func,args", [
    ("ce_ltv_values", (0.1, Cells([[None]]), 100, 0, 0, 0, 0)),
    ("ce_ltv_type", ("Lighthouse", 0.1, Cells([[None]]), 100, 0, 0, 0, 0)),
    ("ce_composition", ("Lighthouse", 0.1, Cells([[None]]), 100, 0, 0, 0, 0)),
])
def test_a_blank_required_periods_is_refused(com, ojs, func, args):
    """COM and Office.js with a blank as null refuse; Office.js with a blank as 0 cannot tell
    the blank from a typed 0 (Excel's convention there): 0 periods, only Iv."""
    shown_com, shown_ojs = both(com, ojs, func, *args)
    if ojs.empty_cell is None:
        assert "periods: a number of periods is required, the cell is blank" in shown_ojs
    assert "periods: a number of periods is required, the cell is blank" in shown_com


def test_a_date_where_a_number_belongs_is_its_serial_number_on_both_paths(com, ojs):
    """Excel's own =A1+1 reads a date as its serial number; Office.js can only send that
    number, so COM reads the date cell as the same number (2024-01-02 is serial 45293)."""
    import datetime as dt

    by_hand = 100.0 / 1.1 + 45293.0 / 1.1 ** 2
    for shown in both(com, ojs, "ce_ltv", 0.1, Cells([[100.0, dt.datetime(2024, 1, 2)]])):
        assert np.ravel(shown).tolist() == [pytest.approx(by_hand, rel=1e-12)]
    noon = com.call_cell(M, "ce_ltv", 0, Cells([[dt.datetime(2024, 1, 2, 12)]]))
    assert np.ravel(noon).tolist() == [pytest.approx(45293.5, rel=1e-15)]


def test_single_cell_messages_show_the_value_as_typed(com, ojs):
    for shown in both(com, ojs, "ce_ltv", "12%", 100):
        assert "rate: expected a number, got text (got '12%')" in shown
        assert "np.str_" not in shown
    for shown in both(com, ojs, "ce_pv", True, 0.5, 0.2):
        assert "capacity: expected a number, got a TRUE/FALSE value (got TRUE)" in shown


def test_fractional_decision_makers_are_refused(com, ojs):
    for shown in both(com, ojs, "ce_links", Cells([[2.5], [3]]), Cells([[True], [True]]),
                      Cells([[False], [False]])):
        assert "decision_makers, row 1: a number of people must be a whole number (got 2.5)" in shown


def test_type_excluded_cells_are_counted_for_the_excel_user(com, ojs):
    """measure() counts data a type does not provide; CE_EXCLUDED gives Excel the same count."""
    import pandas as pd

    types = ["Rational", "Profit-seeking", "Follower"]
    kv, ppv = [[10.0, 0.0], [5.0, 5.0], [0.0, 7.0]], [[1.0], [2.0], [0.0]]
    m = customer_equity.measure(pd.DataFrame({"type": types, "periods": [2, 2, 2], "pv": [1.0] * 3,
                                              "ppv": [1.0, 2.0, 0.0], "kv_1": [10.0, 5.0, 0.0],
                                              "kv_2": [0.0, 5.0, 7.0]}),
                                customer_equity.MeasureConfig(classify_by="type"))
    want = [["PV", "PPV", "CV", "KV", "TV"], [0, m.excluded["ppv"], 0, m.excluded["kv"], 0]]
    assert want == [["PV", "PPV", "CV", "KV", "TV"], [0, 1, 0, 4, 0]]
    args = (Cells([[t] for t in types]), 0, Cells(ppv), 0, Cells(kv), 0)
    assert grid(com.call(M, "ce_excluded", *args)) == want
    assert grid(ojs.call(M, "ce_excluded", *args)) == want


@pytest.mark.parametrize("ltv,tiers", [
    ([100.0] * 10, ["Iron"] * 10),
    ([0.0] * 12 + [100.0] * 8, ["Lead"] * 12 + ["Gold"] * 8),
    ([float(k) for k in range(20)], ["Lead"] * 10 + ["Iron"] * 6 + ["Gold"] * 3 + ["Platinum"]),
])
def test_default_tiers_give_equal_values_one_tier_by_mid_rank_percentile(com, ojs, ltv, tiers):
    args = (Cells([[v] for v in ltv]),)
    assert grid(com.call(M, "ce_tier", *args)) == [[t] for t in tiers]
    assert grid(ojs.call(M, "ce_tier", *args)) == [[t] for t in tiers]


# --- names ----------------------------------------------------------------------------

#: CE_ function -> the Python function its docstring names; arguments agree unless listed
#: here with the reason (stated in customer_equity.excel.functions's module docstring).
PYTHON_NAMES = {
    "ce_pv": "purchase_value", "ce_ppv": "word_of_mouth_value",
    "ce_tv_allocate": "allocate_transaction_value", "ce_ltv": "ltv_contribution",
    "ce_ltv_sow": "ltv_share_of_wallet", "ce_ltv_indirect": "ltv_indirect",
    "ce_ltv_retention": "ltv_retention", "ce_ltv_values": "ltv_values", "ce_ltv_type": "ltv_type",
    "ce_excluded": "excluded_cells", "ce_capabilities": "capabilities", "ce_score": "weighted_score",
    "ce_segment": "segment_by_score", "ce_segment_stage": "segment_by_stage", "ce_tier": "value_tier",
    "ce_equity": "customer_equity", "ce_equity_table": "equity_table",
    "ce_composition": "composition_matrix", "ce_links": "solid_links", "ce_rate": "per_period_rate",
}
DIFFERENT_ARGUMENTS = {"ce_excluded", "ce_capabilities", "ce_version"}

# issue 14's decisions: their names are listed in test_decisions_excel.py
from test_decisions_excel import DIFFERENT_ARGUMENTS as _DECISIONS_DIFFERENT  # noqa: E402
from test_decisions_excel import PYTHON_NAMES as _DECISIONS_NAMES  # noqa: E402

PYTHON_NAMES.update(_DECISIONS_NAMES)
DIFFERENT_ARGUMENTS |= _DECISIONS_DIFFERENT


def test_each_function_names_its_python_function_with_the_same_arguments():
    import inspect

    import customer_equity.excel.functions as excel
    import customer_equity.model as model

    for func, python in PYTHON_NAMES.items():
        doc = getattr(excel, func).__doc__
        assert doc.rstrip().endswith(f"Python: {python}."), func
        target = getattr(model, python)
        assert python in model.__all__
        if func in DIFFERENT_ARGUMENTS:
            continue
        excel_args = list(inspect.signature(getattr(excel, func)).parameters)
        python_args = list(inspect.signature(target).parameters)
        assert python_args[: len(excel_args)] == excel_args, (func, excel_args, python_args)


def test_model_all_lists_functions_not_submodules():
    import types

    import customer_equity.model as model

    assert not [n for n in model.__all__ if isinstance(getattr(model, n), types.ModuleType)]
    assert {"ltv_contribution", "measure", "value_tier", "flag_value"} <= set(model.__all__)
    assert not {"ltv", "values", "types", "discount", "sample", "flags"} & set(model.__all__)


def test_ragged_rows_from_a_hand_made_office_js_call_are_refused(ojs):
    """No worksheet range is ragged, but a hand-made xlwings Server request can be."""
    import asyncio

    data = ojs.body(M, "ce_ltv", 0.1, Cells([[1.0, 2.0]]))
    data["args"][1] = [[1.0, 2.0], [3.0]]
    with pytest.raises(Exception) as err:
        asyncio.run(ojs.server.custom_functions_call(data, ojs.module(M)))
    assert str(err.value) == "CE_LTV: values: rows of different lengths: give a rectangular range"
