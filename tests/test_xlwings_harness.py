"""The harness calls UDFs through xlwings' own COM and Office.js code paths.

These tests pin down the Excel contract as xlwings 0.37.8 implements it, using the
toy module ``toy_udfs``; product tests use the same harness on the product module.
"""

import datetime as dt
import decimal
import math
import os
import sys

import pytest

import xlwings
from xlwings_harness import (
    COM_ERROR_CODES,
    COM_MISSING_ARG,
    OFFICEJS_EMPTY_CELLS,
    OFFICEJS_ERROR_TYPES,
    OMITTED,
    CellError,
    Cells,
    ComRuntime,
    OfficeJsRuntime,
    call_com,
    call_officejs,
    com_error_text,
    grid,
    officejs_error,
    runtime_of,
    vba_for_module,
)

TOY = "toy_udfs"

# A 3x2 range with a blank cell (and one of each other kind of cell)
RANGE_3X2 = Cells(
    [
        [1, None],
        ["a", True],
        [dt.datetime(2024, 1, 2), CellError("#N/A")],
    ]
)


@pytest.fixture
def com():
    with ComRuntime() as runtime:
        yield runtime


@pytest.fixture(params=OFFICEJS_EMPTY_CELLS, ids=["empty=0", "empty=null"])
def ojs(request):
    with OfficeJsRuntime(empty_cell=request.param) as runtime:
        yield runtime


@pytest.fixture
def ojs0():
    with OfficeJsRuntime(empty_cell=0) as runtime:
        yield runtime


# --------------------------------------------------------------------------------------
# The harness itself
# --------------------------------------------------------------------------------------


def test_runtimes_leave_no_trace():
    import toy_udfs

    func_before = xlwings.func
    with ComRuntime() as com:
        with com.decorators():
            assert runtime_of(xlwings.func) == "com"
        assert "pywintypes" in sys.modules
        assert hasattr(com.module(TOY).toy_add, "__xlfunc__")
        assert com.module(TOY)._runtime() == "python"  # bound only during the import
    assert "pywintypes" not in sys.modules
    assert "xlwings._xlwindows" not in sys.modules
    assert "excel" not in [e.name for e in xlwings.engines]
    assert xlwings.func is func_before
    assert sys.modules[TOY] is toy_udfs
    with OfficeJsRuntime() as ojs:
        with ojs.decorators():
            assert runtime_of(xlwings.func) == "officejs"
        assert ojs.module(TOY) is not toy_udfs
    assert xlwings.func is func_before
    assert sys.modules[TOY] is toy_udfs


def test_license_key_only_set_inside_the_officejs_runtime():
    before = os.environ.get("XLWINGS_LICENSE_KEY")
    with OfficeJsRuntime():
        assert os.environ["XLWINGS_LICENSE_KEY"] in ("noncommercial", before)
    assert os.environ.get("XLWINGS_LICENSE_KEY") == before


def test_plain_import_on_linux_has_no_excel_metadata():
    import toy_udfs

    assert runtime_of(xlwings.func) == "none"
    assert not hasattr(toy_udfs.toy_add, "__xlfunc__")


def test_one_module_two_decorator_implementations(com, ojs0):
    com_info = com.module(TOY).toy_add.__xlfunc__
    ojs_info = ojs0.module(TOY).toy_add.__xlfunc__
    assert com_info["category"] == "Toy"  # classic only
    assert "category" not in ojs_info
    assert ojs_info["namespace"] is None and "help_url" in ojs_info  # Office.js only
    assert com_info["args"][0]["doc"] == ojs_info["args"][0]["doc"] == "A number"


def test_error_codes_match_xlwings(com):
    assert com.xlwindows.cell_errors == {v: k for k, v in COM_ERROR_CODES.items()}
    from xlwings.pro import _xlofficejs

    for code, error_type in OFFICEJS_ERROR_TYPES.items():
        assert _xlofficejs.errorstr_to_errortype(code, "1.4")["errorType"] == error_type


# --------------------------------------------------------------------------------------
# COM: arguments
# --------------------------------------------------------------------------------------


def test_com_range_types(com):
    # Blank -> None, numbers -> float, dates -> datetime, error cells -> None
    assert com.call(TOY, "toy_types", RANGE_3X2) == [
        ["float", "NoneType"],
        ["str", "bool"],
        ["datetime", "NoneType"],
    ]
    assert com.call(TOY, "toy_echo", RANGE_3X2) == [
        ["1.0", "None"],
        ["'a'", "True"],
        ["datetime.datetime(2024, 1, 2, 0, 0)", "None"],
    ]


def test_com_currency_cells_arrive_as_decimal(com):
    # xlwings reads Range.Value (not Value2): Currency-formatted cells are VT_CY.
    assert com.call(TOY, "toy_echo", Cells([[decimal.Decimal("1.5")]])) == "Decimal('1.5')"


def test_com_literal_and_reference_are_both_floats(com):
    assert com.call(TOY, "toy_scalar", 5) == "5.0"
    assert com.call(TOY, "toy_scalar", Cells([[5]])) == "5.0"
    assert com.call(TOY, "toy_scalar", Cells([[None]])) == "None"
    # "" (a literal or a cell with ="") is cleaned to None like a blank cell
    assert com.call(TOY, "toy_scalar", "") == "None"
    assert com.call(TOY, "toy_echo", Cells([["", None]])) == ["None", "None"]


def test_com_ndim2_single_cell_is_2d(com):
    assert com.call(TOY, "toy_types", Cells([[7]])) == "float"  # 1x1 result unwrapped
    assert com.call(TOY, "toy_echo", 7) == "7.0"


def test_com_numpy_argument(com):
    # blank -> nan, TRUE -> 1.0, any text turns the whole array into strings
    assert com.call(TOY, "toy_array_echo", Cells([[1, True], [3, None]])) == [
        "float64",
        "[[1.0, 1.0], [3.0, nan]]",
    ]
    assert com.call(TOY, "toy_array_echo", Cells([[1, "a"], [3, None]])) == [
        "<U32",
        "[['1.0', 'a'], ['3.0', 'nan']]",
    ]


def test_com_dataframe_argument(com):
    assert com.call(TOY, "toy_frame_echo", Cells([["a", "b"], [1, "x"], [None, True]])) == [
        "{'a': 'float64', 'b': 'object'}",
        "[[1.0, 'x'], [nan, True]]",
    ]


def test_com_optional_arguments(com):
    assert com.call(TOY, "toy_optional", 1) == "1.0|0.1|'none'"
    assert com.call(TOY, "toy_optional", 1, OMITTED, "z") == "1.0|0.1|'z'"
    # An empty *cell* is not an omitted argument on COM:
    assert com.call(TOY, "toy_optional", 1, Cells([[None]])) == "1.0|None|'none'"
    assert COM_MISSING_ARG == -2147352572


# --------------------------------------------------------------------------------------
# COM: results
# --------------------------------------------------------------------------------------


def test_com_result_shapes(com):
    assert com.call(TOY, "toy_add", 1, 2) == 3.0  # 1x1 -> scalar
    row = com.call(TOY, "toy_specials")  # 1 row -> 1-D list
    assert isinstance(row, list) and not isinstance(row[0], list)
    doubled = com.call(TOY, "toy_double", Cells([[1, 2], [3, None]]))
    assert doubled == [[2.0, 4.0], [6.0, ""]]  # spills natively; NaN -> ""
    assert grid(com.call(TOY, "toy_add", 1, 2)) == [[3.0]]


def test_com_cannot_return_error_values(com):
    # Error strings stay text, NaN and None become "" (empty text), an error code int
    # stays a number: a COM UDF has no way to produce #VALUE!/#NUM! in xlwings 0.37.8.
    assert com.call(TOY, "toy_specials") == [
        "#N/A",
        "#VALUE!",
        "#NUM! too big",
        "",
        "",
        COM_ERROR_CODES["#VALUE!"],
    ]


def test_com_dataframe_result(com):
    assert com.call(TOY, "toy_frame") == [["a", "b"], [1.0, "x"], ["", ""]]


def test_com_legacy_expand_resizes_via_array_formula(tmp_path, monkeypatch):
    (tmp_path / "legacy_udfs.py").write_text(
        "import xlwings as xw\n"
        "@xw.func\n"
        "@xw.ret(expand='table')\n"
        "def legacy(n):\n"
        "    return [[i * 10 + j for j in range(2)] for i in range(int(n))]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with ComRuntime() as com:
        value = com.call("legacy_udfs", "legacy", 3, formula="=legacy(3)")
        assert value == [[0, 1], [10, 11], [20, 21]]
        # call_udf schedules a resize on the COM server's event loop: Excel gets the
        # formula re-entered as an array formula over the result's size.
        assert com.run_background() == [("FormulaArray", "$J$1:$K$3", "=legacy(3)")]
        # ...which calls again with the bigger caller and hits the cache.
        assert com.call("legacy_udfs", "legacy", 3, caller_shape=(3, 2)) == value
        assert com.udfs.cache == {}


# --------------------------------------------------------------------------------------
# COM: errors
# --------------------------------------------------------------------------------------


def test_com_exception_text_is_reversed_traceback(com):
    text = com.call_cell(TOY, "toy_fail", 2)
    lines = text.split("\n")
    assert lines[0] == "ValueError: bad x: 2.0"
    assert lines[1].strip() == 'raise ValueError(f"bad x: {x}")'
    assert "in toy_fail" in lines[2]
    assert lines[-1].strip().startswith('File "') and lines[-1].endswith("in CallUDF")
    assert "Traceback (most recent call last)" not in text
    with pytest.raises(ValueError):
        com.call(TOY, "toy_fail", 2)


def test_com_exception_text_for_com_exception(com):
    exc = sys.modules["win32com.server.exception"].COMException(description="plain text")
    assert com_error_text(exc) == "plain text"


def test_com_readable_errors_decorator(com):
    assert com.call_cell(TOY, "toy_checked_rate", 2) == "#VALUE! rate must be in [0, 1), got 2.0"
    assert com.call(TOY, "toy_checked_rate", 0.5) == 0.5


def test_call_com_one_shot():
    assert call_com(TOY, "toy_add", 1, Cells([[2]])) == 3.0


# --------------------------------------------------------------------------------------
# COM: "Import Functions" (VBA wrappers and MacroOptions)
# --------------------------------------------------------------------------------------


def test_vba_wrappers(com):
    imported = com.import_functions(TOY)
    assert imported.vba.startswith('Attribute VB_Name = "xlwings_udfs"\n')
    block = imported.function_block("toy_optional")
    assert block.splitlines()[0] == "Function toy_optional(x, Optional rate, Optional label)"
    assert "If TypeOf Application.Caller Is Range Then On Error GoTo failed" in block
    assert (
        'toy_optional = XLPy.CallUDF("toy_udfs", "toy_optional", '
        "Array(x, rate, label), ThisWorkbook, Application.Caller)" in block
    )
    assert block.splitlines()[-3:] == [
        "failed:",
        "    toy_optional = Err.Description",
        "End Function",
    ]
    assert "Application.Volatile" in imported.function_block("toy_volatile")
    assert "Application.Volatile" not in imported.function_block("toy_add")
    names = [
        line.split()[1].split("(")[0]
        for line in imported.vba.splitlines()
        if line.startswith("Function ")
    ]
    assert names == sorted(names) and "toy_add" in names and "_runtime" not in names


def test_macro_options(com):
    imported = com.import_functions(TOY)
    add = imported.macro_options_for("toy_add")
    assert add["Macro"] == "'Book1.xlsm'!toy_add"
    assert add["Description"] == "Adds two numbers."
    assert add["Category"] == "Toy"
    assert add["ArgumentDescriptions"] == ["A number", "Another number"]
    echo = imported.macro_options_for("toy_array_echo")
    assert echo["Category"] == "xlwings"  # default category
    assert echo["ArgumentDescriptions"] == ["Positional argument 1"]  # no doc=


def test_vba_for_addin_uses_active_workbook():
    imported = vba_for_module(TOY, workbook_name="customer_equity.xlam")
    assert "Array(x, y), ActiveWorkbook, Application.Caller)" in imported.vba


def test_generate_vba_wrapper_alone(com):
    vba = com.vba_wrapper(TOY)
    assert vba.startswith("Function toy_add(x, y)\n")


# --------------------------------------------------------------------------------------
# Office.js: metadata and request body
# --------------------------------------------------------------------------------------


def test_officejs_meta(ojs0):
    meta = ojs0.meta(TOY)
    assert meta["allowErrorForDataTypeAny"] is True
    funcs = {f["id"]: f for f in meta["functions"]}
    add = funcs["TOY_ADD"]
    assert add["name"] == "TOY_ADD"
    assert add["description"] == "Adds two numbers."
    assert [p["description"] for p in add["parameters"]] == ["A number", "Another number"]
    assert all(p["dimensionality"] == "matrix" and p["type"] == "any" for p in add["parameters"])
    assert add["result"] == {"dimensionality": "matrix", "type": "any"}
    assert "category" not in add  # @xw.func(category=...) is classic-only
    optional = funcs["TOY_OPTIONAL"]["parameters"]
    assert [p.get("optional", False) for p in optional] == [False, True, True]
    assert funcs["TOY_VOLATILE"]["options"]["volatile"] is True
    assert "_RUNTIME" not in funcs and "READABLE_ERRORS" not in funcs


def test_officejs_body_shape(ojs0):
    body = ojs0.body(TOY, "toy_optional", 1.0, Cells([[2.5, None]]))
    assert body == {
        "func_name": "toy_optional",
        "args": [[[1]], [[2.5, 0]], None],  # matrix params; omitted -> null
        "caller_address": "[Book1.xlsx]Sheet1!J1",
        "content_language": "en-US",
        "version": xlwings.__version__,
        "runtime": "1.4",
    }


# --------------------------------------------------------------------------------------
# Office.js: arguments
# --------------------------------------------------------------------------------------


def test_officejs_range_types(ojs):
    blank = "int" if ojs.empty_cell == 0 else "NoneType"
    assert ojs.call(TOY, "toy_types", RANGE_3X2) == [
        ["int", blank],  # integers stay int
        ["str", "bool"],
        ["int", "NoneType"],  # a date is its serial number; errors -> None
    ]


def test_officejs_numpy_argument(ojs):
    if ojs.empty_cell == 0:
        assert ojs.call(TOY, "toy_array_echo", Cells([[1, True], [3, None]])) == [
            ["int64", "[[1, 1], [3, 0]]"]
        ]
    else:
        # JSON null arrives as Python None, which the officejs engine doesn't map to
        # the `empty` option (it only maps "" and Pyodide's JsNull): object array.
        assert ojs.call(TOY, "toy_array_echo", Cells([[1, True], [3, None]])) == [
            ["object", "[[1, True], [3, None]]"]
        ]


def test_officejs_optional_arguments(ojs):
    assert ojs.call(TOY, "toy_optional", 1) == [["1|0.1|'none'"]]
    assert ojs.call(TOY, "toy_optional", 1, OMITTED, "z") == [["1|0.1|'z'"]]
    got = ojs.call(TOY, "toy_optional", 1, Cells([[None]]))
    if ojs.empty_cell is None:
        # A single empty cell that arrives as null is indistinguishable from an
        # omitted argument: the default is used.
        assert got == [["1|0.1|'none'"]]
    else:
        assert got == [["1|0|'none'"]]


def test_officejs_empty_string_cell_is_none(ojs0):
    assert ojs0.call(TOY, "toy_echo", Cells([["", 1.5]])) == [["None", "1.5"]]


# --------------------------------------------------------------------------------------
# Office.js: results and errors
# --------------------------------------------------------------------------------------


def test_officejs_results_are_2d_and_spill(ojs0):
    assert ojs0.call(TOY, "toy_add", 1, 2) == [[3]]
    assert ojs0.call(TOY, "toy_double", Cells([[1, 2], [3, 4]])) == [[2, 4], [6, 8]]


def test_officejs_error_values(ojs0):
    value_error = {"type": "Error", "errorType": "Value"}
    num_error = {"type": "Error", "errorType": "Num"}
    assert ojs0.call(TOY, "toy_specials") == [
        [
            {"type": "Error", "errorType": "NotAvailable"},
            value_error,
            "#NUM! too big",  # only the exact error strings become errors
            num_error,  # NaN -> #NUM!
            "",  # None -> empty text
            COM_ERROR_CODES["#VALUE!"],
        ]
    ]
    assert ojs0.call(TOY, "toy_frame") == [["a", "b"], [1.0, "x"], [num_error, num_error]]


def test_officejs_old_runtime_has_no_error_values():
    got = call_officejs(TOY, "toy_specials", runtime="1.3")
    assert got[0][:4] == ["#N/A", "#VALUE!", "#NUM! too big", "#NUM!"]


def test_officejs_exceptions(ojs0):
    with pytest.raises(ValueError):
        ojs0.call(TOY, "toy_fail", 2)
    assert ojs0.call_cell(TOY, "toy_fail", 2) == CellError("#VALUE!", "An error ocurred.")
    assert ojs0.call_cell(TOY, "toy_fail", 2, environment="dev") == CellError(
        "#VALUE!", "ValueError('bad x: 2')"
    )
    assert ojs0.call_cell(TOY, "toy_fail", 2, host="lite") == CellError("#VALUE!", "bad x: 2")
    assert ojs0.call_cell(TOY, "toy_fail_xlwings", 2) == CellError("#VALUE!", "bad x: 2")
    assert ojs0.call_cell(TOY, "toy_checked_rate", 2) == CellError(
        "#VALUE!", "rate must be in [0, 1), got 2"
    )
    assert ojs0.call(TOY, "toy_checked_rate", 0.5) == [[0.5]]


def test_officejs_error_before_runtime_1_2_is_text():
    assert officejs_error(xlwings.XlwingsError("boom"), runtime="1.1") == "boom"


def test_call_officejs_one_shot():
    assert call_officejs(TOY, "toy_add", 1, Cells([[2]])) == [[3]]


def test_same_inputs_both_runtimes():
    """The headline difference: a blank cell in a referenced range."""
    com = call_com(TOY, "toy_echo", RANGE_3X2)
    ojs = call_officejs(TOY, "toy_echo", RANGE_3X2, empty_cell=0)
    assert com[0] == ["1.0", "None"]
    assert ojs[0] == ["1", "0"]
    assert math.isclose(float(ojs[2][0]), 45293)  # 2024-01-02 as a serial
