"""The Retention sheet of the LTV-models template (issue 22): survivors -> CE_SBG_FIT ->
CE_SBG_RETENTION -> projection -> CE_LTV_RETENTION and CE_SBG_LTV, computed by the ``formulas``
engine with the CE_ functions bound through xlwings' COM path (tests/templates_engine.py).

Oracles: Fader & Hardie's (2007) published estimates and later survivors, the core's sBG
functions on the sheet's own inputs, and the retention formula written out here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pytest
import templates_engine as E
import templates_files as F
from customer_equity.model import ltv_retention
from customer_equity.model import forecast as fc

LTV = Path(__file__).resolve().parents[1] / "workbooks" / "lifetime-value-models.xlsx"


@pytest.fixture(scope="module")
def computed():
    log = E.CallLog()
    cells, _ = E.compute(LTV, log=log)
    assert not log.errors()
    wb = openpyxl.load_workbook(LTV)
    values = openpyxl.load_workbook(LTV, data_only=True)

    def named(name):
        return [[cells[k] for k in row] for row in F.name_cells(wb, name)]

    return named, values


def test_the_sheet_fits_projects_and_values_as_the_core(computed):
    named, values = computed
    survivors = [v for v in F.name_values(values, "ce_in_sbg_survivors")[0]]
    later = [v for v in F.name_values(values, "ce_in_sbg_later")[0]]
    assert survivors == [1000, 631, 468, 382, 326, 289, 262, 241]
    fit = fc.fit_sbg(survivors)
    table = named("ce_sbg_params")
    assert [r[0] for r in table] == ["parameter", "alpha", "beta", "log-likelihood", "customers", "cohorts"]
    assert table[1][1] == pytest.approx(fit["alpha"], rel=1e-9)
    assert table[2][1] == pytest.approx(fit["beta"], rel=1e-9)
    assert (round(table[1][1], 3), round(table[2][1], 3)) == (0.704, 1.182)  # Fader & Hardie (2007)
    alpha, beta = table[1][1], table[2][1]
    retention = named("ce_sbg_rates")[0]
    assert retention == pytest.approx([(beta + t - 1) / (alpha + beta + t - 1) for t in range(1, 13)],
                                      rel=1e-12)
    assert named("chk_sbg_retention")[0] == pytest.approx(retention, rel=1e-12)
    projected = named("ce_sbg_projected")[0]
    assert projected == pytest.approx(list(1000 * fc.sbg_survival(fit, 12)), rel=1e-9)
    for t, actual in enumerate(later, start=8):  # the published survivors of years 8-12
        assert abs(projected[t] / actual - 1) < 0.02
    m = F.name_values(values, "ce_in_sbg_margin")[0][0]
    i = F.name_values(values, "ce_in_sbg_rate")[0][0]
    assert named("ce_sbg_constant_ltv")[0][0] == pytest.approx(m * retention[0] / (1 + i - retention[0]),
                                                               rel=1e-12)
    S = np.cumprod(retention)
    assert named("ce_sbg_ltv_finite")[0][0] == pytest.approx(m * (S / (1 + i) ** np.arange(1, 13)).sum(),
                                                             rel=1e-10)
    assert named("ce_sbg_ltv_forever")[0][0] == pytest.approx(fc.sbg_ltv(fit, m, i), rel=1e-9)
    for name in ("ce_sbg_constant_ltv", "ce_sbg_ltv_finite", "ce_sbg_ltv_forever"):
        assert named(name)[0][0] == pytest.approx(named(name.replace("ce_", "chk_", 1))[0][0], rel=1e-10)
    assert named("ce_sbg_ltv_forever")[0][0] > named("ce_sbg_constant_ltv")[0][0]
    row = ltv_retention(m, np.array([retention]), i)[0]
    assert row[0] == pytest.approx(named("ce_sbg_constant_ltv")[0][0], rel=1e-12)


def test_changing_a_survivor_changes_the_fit(tmp_path):
    # the engine recomputes from the inputs: a different cohort gives a different alpha
    wb = openpyxl.load_workbook(LTV)
    keys = F.name_cells(wb, "ce_in_sbg_survivors")[0]
    high_end = [1000, 869, 743, 653, 593, 551, 517, 491]
    log = E.CallLog()
    cells, _ = E.compute(LTV, log=log, inputs={(sheet.title(), ref): float(v) for (sheet, ref), v
                                               in zip(keys, high_end)})
    assert not log.errors()
    table = [[cells[k] for k in row] for row in F.name_cells(wb, "ce_sbg_params")]
    assert (round(table[1][1], 3), round(table[2][1], 3)) == (0.668, 3.806)  # the "high end" cohort
