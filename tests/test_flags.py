"""One vocabulary for TRUE/FALSE cells and one for type and stage labels, wherever they are read.

Each word is sent through every door that reads a flag: the Excel function
CE_TV_ALLOCATE (xlwings' COM path), ``measure()``, the batch reader (a CSV file) and
CE_LINKS; the expected meaning is written out here, not taken from the module.
"""

import numpy as np
import pandas as pd
import pytest

import customer_equity as ce
from customer_equity import CustomerEquityError, MeasureConfig
from customer_equity.files import batch
from xlwings_harness import Cells, grid

M = "customer_equity.excel.functions"

TRUE_CELLS = [True, 1, 1.0, "TRUE", "true", "Yes", "y", "x", "X", " yes ", "是", "有", "√"]
FALSE_CELLS = [False, 0, 0.0, "FALSE", "no", "N", "否", "无", None, ""]
NOT_FLAGS = [2, 0.5, -1, "maybe", "   ", "2"]


def _table(flags):
    n = len(flags)
    return pd.DataFrame({"type": ["Lighthouse"] * n, "periods": [1] * n, "pv": [10.0] * n,
                         "tv_carrier": pd.Series(flags, dtype=object)})


@pytest.mark.parametrize("cell", TRUE_CELLS + FALSE_CELLS, ids=repr)
def test_measure_reads_every_word_of_the_vocabulary(cell):
    expected = cell in TRUE_CELLS and cell is not None
    # one carrier that is surely TRUE shares the income with the cell under test
    m = ce.measure(_table([True, cell]), MeasureConfig(rate=0.0, classify_by="type",
                                                       transaction_income=[100.0]))
    assert m.customers["tv"].tolist() == ([50.0, 50.0] if expected else [100.0, 0.0])


def test_a_flag_column_mixing_true_and_1_is_read_not_refused():
    m = ce.measure(_table([True, 1, "yes", None]), MeasureConfig(rate=0.0, classify_by="type",
                                                                 transaction_income=[90.0]))
    assert m.customers["tv"].tolist() == [30.0, 30.0, 30.0, 0.0]


@pytest.mark.parametrize("cell", NOT_FLAGS, ids=repr)
def test_measure_refuses_what_is_not_a_flag_naming_the_row(cell):
    with pytest.raises(CustomerEquityError) as err:
        ce.measure(_table([True, cell]), MeasureConfig(classify_by="type", transaction_income=[90.0]))
    assert "tv_carrier, row 2: must be TRUE/FALSE, 1/0, yes/no or x/blank" in str(err.value)


@pytest.mark.parametrize("cell", TRUE_CELLS + FALSE_CELLS + NOT_FLAGS, ids=repr)
def test_ce_tv_allocate_reads_the_same_vocabulary(com, cell):
    shown = com.call_cell(M, "ce_tv_allocate", Cells([[100.0]]), Cells([[True], [cell]]))
    if cell in NOT_FLAGS and not isinstance(cell, bool):
        assert isinstance(shown, str) and "carriers, row 2: must be TRUE/FALSE" in shown
    elif cell in TRUE_CELLS and cell is not None:
        assert grid(shown) == [[50.0], [50.0]]
    else:
        assert grid(shown) == [[100.0], [0.0]]


@pytest.mark.parametrize("cell", ["yes", "x", "是", "no", "否", "", "TRUE", "0"])
def test_the_batch_reader_reads_the_same_vocabulary(tmp_path, cell):
    path = tmp_path / "c.csv"
    path.write_text(f"type,periods,pv,tv_carrier\nLighthouse,1,10,TRUE\nLighthouse,1,10,{cell}\n",
                    encoding="utf-8")
    got = batch.measure_file(path, MeasureConfig(rate=0.0, classify_by="type",
                                                 transaction_income=[100.0]), keep_customers=True)
    carries = cell in ("yes", "x", "是", "TRUE")
    assert got.customers["tv"].tolist() == ([50.0, 50.0] if carries else [100.0, 0.0])


def test_ce_links_reads_the_same_vocabulary(com):
    got = com.call(M, "ce_links", Cells([[3], [3]]), Cells([["yes"], ["no"]]), Cells([["x"], [None]]))
    assert grid(got) == [[3], [1]]


def test_true_is_not_stage_1(com):
    shown = com.call_cell(M, "ce_segment_stage", Cells([[1], [True]]))
    assert isinstance(shown, str) and "stage, row 2: unknown life-cycle stage" in shown
    with pytest.raises(CustomerEquityError, match="row 1"):
        ce.segment_by_stage(np.array([True, 1], dtype=object))


@pytest.mark.parametrize("label,expected", [
    ("产品介绍期", "Lighthouse"), ("產品介紹期", "Lighthouse"), ("产品成长期", "Follower"),
    ("產品成長期", "Follower"), ("产品成熟期", "Rational"), ("成熟后期或衰退期", "Profit-seeking"),
    ("成熟後期或衰退期", "Profit-seeking"), ("产品成熟后期或衰退期", "Profit-seeking"),
    ("Late maturity or decline", "Profit-seeking"), ("introduction stage", "Lighthouse"),
])
def test_the_papers_own_stage_wording_reads_as_a_stage(com, label, expected):
    assert ce.segment_by_stage([label]).tolist() == [expected]
    assert com.call(M, "ce_segment_stage", Cells([[label]])) == expected
