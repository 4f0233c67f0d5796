"""The what-if template (workbooks/customer-equity-what-if.xlsx) on CE_WHATIF and CE_WHATIF_GRID.

What is checked, and against what:

- the ``formulas`` engine computes every formula cell, the CE_ functions called through
  xlwings' COM code path (tests/templates_engine.py): each equals the value cached in the
  file, and the scenario, each lever alone and the grid equal the core's ``what_if`` /
  ``what_if_grid`` run on the customer table and the settings read from the file here
  (independently of the Excel functions' own reading);
- the same with other levers typed in (a blank mix, moves, another grid): the cells follow;
- LibreOffice (UNO) opens the file with the CE_ cells held as their cached values, computes
  every native formula with no error, and the green checks equal the CE_ results;
- each CE_ quantity is evaluated once per recalculation; Refresh recalculates the template;
- ``customer-equity templates`` writes the committed file again, byte for byte.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from customer_equity.excel import cells, refresh
from customer_equity import cli
from customer_equity.model import MeasureConfig, load_sample, sample_config, what_if, what_if_grid
from customer_equity.excel.templates import recalculate_only
from customer_equity.excel.templates import what_if as W
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

import templates_engine as E
import templates_files as F

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "workbooks" / W.FILENAME
SCENARIO = "=CE_WHATIF(ce_wi_customers,ce_wi_config,ce_wi_retention_change"
GRID = "=CE_WHATIF_GRID("


# --- reading the workbook (openpyxl), independently of the Excel functions -------------------


def customer_table(path):
    """The ``Customers`` table as a DataFrame: header names, values; an all-blank column left out."""
    wb = openpyxl.load_workbook(path)
    ws = wb[W.S_CUST]
    table = ws.tables["Customers"]
    c1, r1, c2, r2 = range_boundaries(table.ref)
    header = [ws.cell(r1, c).value for c in range(c1, c2 + 1)]
    rows = [[ws.cell(r, c).value for c in range(c1, c2 + 1)] for r in range(r1 + 1, r2 + 1)]
    df = pd.DataFrame(rows, columns=header)
    return df[[c for c in df.columns if df[c].notna().any()]]


def settings(path):
    """The Settings range (name | value) as a MeasureConfig: a blank name continues a list."""
    wb = openpyxl.load_workbook(path, data_only=True)
    data, weights, last = {}, {}, None
    for name, value in F.name_values(wb, "ce_wi_settings"):
        if name in (None, ""):
            data[last] = (data[last] if isinstance(data[last], list) else [data[last]]) + [value]
            continue
        if name.startswith("weights."):
            weights[name[len("weights."):]] = value
        else:
            data[name] = value
        last = name
    return MeasureConfig(rate=data["rate"], timing=data["timing"], iv=data["iv"],
                         classify_by=data["classify_by"], weights=weights, cutoffs=tuple(data["cutoffs"]),
                         transaction_income=data["transaction_income"])


def named(path, name, values=None):
    """The cells of a named range (cached, or as ``values`` overrides them): a flat list."""
    wb = openpyxl.load_workbook(path, data_only=True)
    keys = [k for row in F.name_cells(openpyxl.load_workbook(path), name) for k in row]
    cached = [v for row in F.name_values(wb, name) for v in row]
    values = values or {}
    return [values.get(k, v) for k, v in zip(keys, cached)]


def levers(path, typed=None):
    """The what_if keywords the yellow cells describe (``typed``: cells typed over the file's)."""
    typed = typed or {}

    def one(name):
        (v,) = named(path, name, typed)
        return None if v in (None, "") else v

    def per_type(name):
        v = named(path, name, typed)
        return None if all(x in (None, "") for x in v) else v

    income_change = one("ce_in_wi_income_change")
    income = named(path, "ce_wi_income")
    moves = {}
    cells = named(path, "ce_in_wi_moves", typed)
    for k in range(0, len(cells), 3):
        src, dst, n = cells[k:k + 3]
        if src:
            moves[(src, dst)] = moves.get((src, dst), 0) + n
    return {"retention_change": per_type("ce_in_wi_retention_change"), "rate": one("ce_in_wi_rate"),
            "margin_change": per_type("ce_in_wi_margin_change"),
            "transaction_income": None if income_change is None else [x * (1 + income_change) for x in income],
            "moves": moves or None, "type_mix": per_type("ce_in_wi_mix")}


def grid_levers(path, typed=None):
    def get(name):
        return named(path, name, typed)

    # the levers are typed in words ("Discount rate") or by their names ("rate")
    return (cells.lever_key(get("ce_in_wi_grid_row_lever")[0]), get("ce_in_wi_grid_rows"),
            cells.lever_key(get("ce_in_wi_grid_col_lever")[0]), get("ce_in_wi_grid_cols"),
            get("ce_in_wi_grid_show")[0])


def anchor(path, prefix):
    """(sheet, row, col) 1-based of the one formula cell starting with ``prefix``."""
    wb = openpyxl.load_workbook(path)
    found = [(ws.title, c.row, c.column) for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, ArrayFormula) and c.value.text.startswith(prefix)]
    assert len(found) == 1, (prefix, found)
    return found[0]


def spill(path, values, at):
    """The values over the spill range of the formula at ``at`` (``values``: {(SHEET, A1): v})."""
    sheet, row, col = at
    f = openpyxl.load_workbook(path)[sheet].cell(row, col).value
    c1, r1, c2, r2 = range_boundaries(f.ref)
    return [[values.get((sheet.upper(), f"{get_column_letter(c)}{r}")) for c in range(c1, c2 + 1)]
            for r in range(r1, r2 + 1)]


def lever_table(path, values):
    """``{label: customer equity}`` of the table of each lever alone (values: {(SHEET, A1): v})."""
    ws = openpyxl.load_workbook(path)[W.S_WHATIF]
    header = next(c.row for c in ws["B"] if c.value == "Lever")
    out = {}
    for r in range(header + 1, header + 8):
        out[ws.cell(r, 2).value] = values.get((W.S_WHATIF.upper(), f"C{r}"))
    return out


def same_table(got, expected):
    """Cell by cell: text equal, numbers within 1e-9 relative (blank and "" alike)."""
    assert len(got) == len(expected) and all(len(a) == len(b) for a, b in zip(got, expected))
    bad = [(i, j, g, e) for i, (a, b) in enumerate(zip(got, expected)) for j, (g, e) in enumerate(zip(a, b))
           if not E.same(g, e, rel=1e-9, abs_tol=1e-6)]
    assert bad == []


def core_cells(table, config, lv, grid):
    """The scenario table, each lever alone and the grid, as the core computes them."""
    base = what_if(table, config).before
    scenario = what_if(table, config, base=base, **lv)
    alone = {"Today": base.equity}
    for label, keys in (("Retention", ["retention_change"]), ("Unit margin", ["margin_change"]),
                        ("Discount rate", ["rate"]), ("Transaction income", ["transaction_income"]),
                        ("Type mix", ["moves", "type_mix"])):
        alone[label] = what_if(table, config, base=base, **{k: lv[k] for k in keys}).equity
    alone["All together"] = scenario.equity
    row_lever, rows, col_lever, cols, show = grid
    g = what_if_grid(table, config, row_lever, rows, col_lever, cols, result=show, base=base)
    return W.result_cells(scenario), alone, cells.lever_grid(g)


# --- 1. the formulas engine ----------------------------------------------------------------


@pytest.fixture(scope="module")
def engine():
    log = E.CallLog()
    cells, names = E.compute(BOOK, log=log)
    return cells, names, log


def test_the_workbook_carries_the_sample_and_its_settings():
    table = customer_table(BOOK)
    sample = load_sample()
    assert len(table) == len(sample) == 1000
    for c in ("customer_id", "periods", "capacity", "share", "margin", "influence", "reach", "avg_value",
              "cv", "kv", "tv_carrier", *sample_config().weights):
        assert table[c].tolist() == sample[c].tolist(), c
    assert settings(BOOK) == sample_config()


def test_engine_reproduces_every_cached_cell_with_the_ce_functions(engine):
    cells, _, log = engine
    assert log.errors() == []
    calls = sorted(c[0] for c in log.calls)
    assert calls == ["CE_WHATIF"] * 6 + ["CE_WHATIF_GRID"]
    cached = F.cached_values(BOOK)
    formulas = F.formula_cells(BOOK)
    bad = [(k, f, cells.get(k, "<not computed>"), cached.get(k)) for k, f in formulas.items()
           if not E.same(cells.get(k, "<not computed>"), cached.get(k))]
    assert bad == []
    assert sum("CE_WHATIF" in f for f in formulas.values()) >= 6 * 6 + 8 * 6  # the spills


def test_engine_and_cached_numbers_equal_what_if_and_what_if_grid(engine):
    cells, _, _ = engine
    table, config = customer_table(BOOK), settings(BOOK)
    lv, grid = levers(BOOK), grid_levers(BOOK)
    # the default scenario pulls every lever
    assert lv["retention_change"] and lv["rate"] and lv["margin_change"] and lv["transaction_income"] \
        and lv["type_mix"] and lv["moves"] is None
    scenario, alone, grid_table = core_cells(table, config, lv, grid)
    cached = F.cached_values(BOOK)
    for values in (cells, cached):
        same_table(spill(BOOK, values, anchor(BOOK, SCENARIO)), scenario)
        same_table(spill(BOOK, values, anchor(BOOK, GRID)), grid_table)
        got = lever_table(BOOK, values)
        assert list(got) == list(alone)
        assert np.allclose(list(got.values()), list(alone.values()), rtol=1e-12)
    # the core on the bundled sample itself gives the same (the table read back is the sample)
    direct = what_if(load_sample(), sample_config(), **lv)
    assert spill(BOOK, cells, anchor(BOOK, SCENARIO))[-1][4] == pytest.approx(direct.equity, rel=1e-12)
    assert direct.difference == pytest.approx(scenario[-1][5], rel=1e-12)


def _input_keys(name):
    return [k for row in F.name_cells(openpyxl.load_workbook(BOOK), name) for k in row]


def test_other_levers_typed_in_move_the_cells_with_the_core(tmp_path):
    typed = {}
    for key, v in zip(_input_keys("ce_in_wi_retention_change"), (0.0, 0.10, 0.0, -0.02)):
        typed[key] = v
    for key in _input_keys("ce_in_wi_margin_change"):
        typed[key] = 0.0
    for key in _input_keys("ce_in_wi_mix") + _input_keys("ce_in_wi_rate"):
        typed[key] = None  # blank: no new mix, today's rate
    typed[_input_keys("ce_in_wi_income_change")[0]] = -0.5
    for key, v in zip(_input_keys("ce_in_wi_moves"), ("Rational", "Follower", 50.0, "Follower", "Lighthouse",
                                                     10.0)):
        typed[key] = v
    typed[_input_keys("ce_in_wi_grid_row_lever")[0]] = "margin_change"
    for key, v in zip(_input_keys("ce_in_wi_grid_rows"), (-0.02, -0.01, 0.0, 0.01, 0.02, 0.03, 0.04)):
        typed[key] = v
    typed[_input_keys("ce_in_wi_grid_col_lever")[0]] = "transaction_income"
    for key, v in zip(_input_keys("ce_in_wi_grid_cols"), (0.0, 50000.0, 100000.0, 150000.0, 200000.0)):
        typed[key] = v
    typed[_input_keys("ce_in_wi_grid_show")[0]] = "difference"
    typed_copy = tmp_path / "typed.xlsx"
    wb = openpyxl.load_workbook(BOOK)
    for (sheet, coord), v in typed.items():  # as typed in Excel: a value, or the cell cleared
        wb[next(n for n in wb.sheetnames if n.upper() == sheet)][coord].value = v
    wb.save(typed_copy)
    log = E.CallLog()
    cells, _ = E.compute(typed_copy, log=log)
    assert log.errors() == []
    lv, grid = levers(typed_copy), grid_levers(typed_copy)
    assert lv["type_mix"] is None and lv["rate"] is None
    assert lv["moves"] == {("Rational", "Follower"): 50.0, ("Follower", "Lighthouse"): 10.0}
    scenario, alone, grid_table = core_cells(customer_table(typed_copy), settings(typed_copy), lv, grid)
    got = spill(typed_copy, cells, anchor(typed_copy, SCENARIO))
    same_table(got, scenario)
    assert [r[2] for r in got[1:5]] == [120.0, 330.0, 299.0, 251.0]  # 10 up to Lighthouse, 50 up to Follower
    same_table(spill(typed_copy, cells, anchor(typed_copy, GRID)), grid_table)
    assert grid_table[0][0] == "Unit margin change \\ Transaction income"
    got = lever_table(typed_copy, cells)
    assert np.allclose(list(got.values()), list(alone.values()), rtol=1e-12)
    assert got["Discount rate"] == pytest.approx(got["Today"], rel=1e-12)  # blank rate: no change
    # the today's-mix column reads the spill (ce_wi_result), not a CE_ call of its own
    ws = openpyxl.load_workbook(BOOK)[W.S_WHATIF]
    mix_col = [ws.cell(r, 6).value.text for r in range(1, 20) if isinstance(ws.cell(r, 6).value, ArrayFormula)
               and "ce_wi_result" in ws.cell(r, 6).value.text]
    assert len(mix_col) == 4


def test_each_ce_quantity_is_evaluated_once_per_recalculation():
    total, per_cell = F.ce_evaluations(BOOK)
    assert total == 7, per_cell  # the scenario, five levers alone, the grid
    assert F.repeated_ce_calls(BOOK) == {}
    wb = openpyxl.load_workbook(BOOK)
    sheet, row, col = anchor(BOOK, SCENARIO)
    spill = f"_xlfn.ANCHORARRAY('{sheet}'!${get_column_letter(col)}${row})"
    saved = f"'{sheet}'!${get_column_letter(col)}${row}:${get_column_letter(col + 5)}${row + 5}"
    assert wb.defined_names["ce_wi_result"].attr_text == f"IF(ISERROR(ROWS({spill})),{saved},{spill})"
    formulas = F.formula_cells(BOOK)
    readers = [f for f in formulas.values() if "ce_wi_result" in f]
    assert len(readers) >= 20 and not any("CE_" in f for f in readers)


# --- 2. LibreOffice ---------------------------------------------------------------------------


def test_libreoffice_computes_the_native_cells_from_the_held_ce_results(libreoffice, tmp_path):
    built = W.build(tmp_path / "built.xlsx")
    assert len(built.checks) == 2
    cached = openpyxl.load_workbook(BOOK, data_only=True)
    with libreoffice.opened(BOOK) as book:
        book.recalculate()
        for sheet in book.doc.Sheets.ElementNames:
            assert book.errors(sheet) == [], sheet
        compared = 0
        for check_sheet, check_range, ce_sheet, ce_range in built.checks:
            got = book.sheet(check_sheet).getCellRangeByName(check_range.replace("$", "")).getDataArray()
            exp = [[c.value for c in row] for row in cached[ce_sheet][ce_range.replace("$", "")]]
            for g_row, e_row in zip(got, exp):
                for g, e in zip(g_row, e_row):
                    assert isinstance(g, float) and math.isclose(g, e, rel_tol=1e-12), (check_range, g, e)
                    compared += 1
        assert compared == 6
        # LibreOffice's own results of the native cells equal what the file caches
        ws = book.sheet(W.S_WHATIF)
        statuses = []
        for r in range(60):
            for c in range(10):
                cell = ws.getCellByPosition(c, r)
                if '"OK";"CHECK"' in cell.getFormula():
                    statuses.append(cell.getString())
        assert statuses and set(statuses) == {"OK"}
        sheet, row, col = anchor(BOOK, "=INDEX(ce_wi_result,2,2)/INDEX(ce_wi_result,6,2)")
        assert ws.getCellByPosition(col - 1, row - 1).getValue() == pytest.approx(
            cached[sheet].cell(row, col).value, rel=1e-12)


# --- 3. Refresh and regeneration ----------------------------------------------------------------


def test_refresh_checks_the_inputs_and_recalculates_the_what_if_template():
    from customer_equity.excel.templates import WHAT_IF_INPUTS, check_what_if

    assert refresh.template_id(F.TablesBook.open(BOOK)) == W.TEMPLATE_ID == "what-if/2"
    assert refresh.find_refresher("what-if/2") is check_what_if  # issue 20: inputs checked
    assert refresh.find_refresher("what-if/1") is recalculate_only  # copies from before the what-if API
    assert refresh.required_inputs("what-if/2") == WHAT_IF_INPUTS


def test_the_command_writes_the_committed_workbook_byte_for_byte(tmp_path):
    assert cli.main(["templates", "--out-dir", str(tmp_path)]) == 0
    assert (tmp_path / W.FILENAME).read_bytes() == BOOK.read_bytes()



# --- 4. blank cells on Excel for Mac and the web -------------------------------------------------


def _cells(value):
    from xlwings_harness import Cells

    arr = np.asarray(value, dtype=object)
    arr = arr.reshape(1, -1) if arr.ndim < 2 else arr
    return Cells([[E._cell(v) for v in row] for row in arr])


def test_blank_cells_reach_the_functions_as_blank_on_every_runtime(engine):
    """Excel for Mac and the web hand a blank cell in a range over as 0 (xlwings' docs): the
    template gives the functions its ranges through IF(x="","",x), so the empty tv and type
    columns, the settings' list rows and the blank moves stay blank there too."""
    from xlwings_harness import OfficeJsRuntime, grid

    _, names, _ = engine
    assert names["CE_WI_CONFIG"][12, 0] == ""  # the cutoffs list continues: a blank name
    header = list(names["CE_WI_CUSTOMERS"][0])
    assert set(names["CE_WI_CUSTOMERS"][1:, header.index("tv")]) == {""}
    args = [_cells(names[n]) for n in ("CE_WI_CUSTOMERS", "CE_WI_CONFIG", "CE_WI_RETENTION_CHANGE",
                                       "CE_WI_RATE", "CE_WI_MARGIN_CHANGE", "CE_WI_NEW_INCOME",
                                       "CE_WI_MOVES")] + ["", _cells(names["CE_WI_MIX"])]
    expected = spill(BOOK, F.cached_values(BOOK), anchor(BOOK, SCENARIO))
    with OfficeJsRuntime(empty_cell=0) as mac:
        same_table(grid(mac.call("customer_equity.excel.functions", "ce_whatif", *args)), expected)
        # the ranges as they are would reach the function with 0 for every blank: refused
        raw = [_cells(names["CE_IN_CUSTOMERS"]), _cells(names["CE_WI_SETTINGS"])] + args[2:]
        shown = mac.call_cell("customer_equity.excel.functions", "ce_whatif", *raw)
    assert "setting name must be text" in str(shown) or "tv" in str(shown)


def test_every_lever_and_setting_can_be_typed_on_the_protected_sheets_in_libreoffice(libreoffice):
    """What the analyst types goes into named yellow cells on protected sheets: LibreOffice,
    which refuses a write to a locked cell of a protected sheet as Excel does, takes a write
    to every ce_in_wi_* range, and refuses one to the label beside it."""
    with libreoffice.opened(BOOK) as book:
        inputs = sorted(n for n in book.names() if n.lower().startswith("ce_in_wi_"))
        assert len(inputs) >= 10, inputs
        for name in inputs:
            sheet_name, r1, c1, r2, c2 = book.area(name)
            sheet = book.sheet(sheet_name)
            assert sheet.isProtected(), name
            book.write(name, book.read(name))  # raises on a locked cell
            label = sheet.getCellByPosition(0, r1 - 1)  # column A: locked, outside every input
            assert label.CellProtection.IsLocked, name
            with pytest.raises(Exception):  # noqa: B017 - com.sun.star.uno.RuntimeException
                label.setDataArray((("x",),))
        book.recalculate()
        for sheet in book.doc.Sheets.ElementNames:
            assert book.errors(sheet) == [], sheet
