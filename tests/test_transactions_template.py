"""The fourth template: from a transaction log to customer equity (workbooks/customer-equity-from-transactions.xlsx).

- the ``formulas`` engine, with the CE_ functions called through xlwings' COM path, computes
  every formula cell of the committed workbook: each equals the value cached in the file,
  and the results equal the core's (summary, fits, predictions, equity by type), the fits
  computed once per recalculation;
- LibreOffice recalculates the native cross-checks (P(alive) and E[M] closed forms, E[Y]
  from a 2F1 series, the equity total) with the CE_ cells held as values;
- a generated log of 20,000 customers pasted into the Transactions table gives the core's
  (and the command line's) numbers (slow);
- ``customer-equity templates`` writes the committed file again, byte for byte.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from customer_equity import cli
from customer_equity.model import equity_table
from customer_equity.model import forecast as fc
from customer_equity.excel.templates import transactions as T
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

import templates_engine as E
import templates_files as F

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "workbooks" / T.FILENAME


@pytest.fixture(scope="module")
def engine():
    """The committed workbook computed by the engine: (cells, names, call log)."""
    log = E.CallLog()
    cells, names = E.compute(BOOK, log=log)
    return cells, names, log


@pytest.fixture(scope="module")
def core():
    """The core's forecast of the CDNOW sample with the template's settings."""
    s = T.SETTINGS
    summary = fc.summary_data(fc.load_cdnow(), unit=s["unit"], calibration_end=s["calibration_end"],
                              observation_end=s["observation_end"])
    return summary, fc.fit_forecast(summary)


def spill_values(cells, wb, sheet, row, col):
    """The engine's values over the spill range of the dynamic-array formula at (row, col), 1-based."""
    f = wb[sheet].cell(row, col).value
    assert isinstance(f, ArrayFormula), (sheet, row, col)
    c1, r1, c2, r2 = range_boundaries(f.ref)
    return [[cells.get((sheet.upper(), f"{get_column_letter(c)}{r}")) for c in range(c1, c2 + 1)]
            for r in range(r1, r2 + 1)]


def engine_vs_cached(path, cells):
    cached = F.cached_values(path)
    bad = []
    for key, formula in F.formula_cells(path).items():
        got, exp = cells.get(key, "<not computed>"), cached.get(key)
        if not E.same(got, exp):
            bad.append(f"{key[0]}!{key[1]} {formula!r}: engine {got!r}, cached {exp!r}")
    return bad


def at(anchor):
    sheet, row, col = anchor
    return sheet, row + 1, col + 1


def results(cells, names, path):
    """The workbook's key results as computed by the engine: each spilled quantity read through
    its name (the whole spill, however far a pasted log makes it reach), the fixed-size equity
    table through its cells."""
    def rows(name):
        return np.asarray(names[name.upper()], dtype=object).tolist()

    def column(name):
        return [r[0] for r in rows(name)]

    out = {"summary": rows("ce_summary"), "bgnbd": rows("ce_bgnbd"), "gamma_gamma": rows("ce_gamma_gamma"),
           "customer": column("ce_customer"), "type": column("ce_forecast_type"), "grid": rows("ce_grid")}
    for name, key in T.FORECAST_NAMES.items():
        if key in ("p_alive", "expected", "holdout_pred", "spend", "ltv"):
            out[key] = column(name)
    wb = openpyxl.load_workbook(path)
    out["equity_table"] = [[cells.get(k) for k in row] for row in F.name_cells(wb, "ce_equity_by_type")]
    return out


def assert_equals_core(got, summary, forecast, settings, customers):
    """Every per-customer and fitted figure of the workbook against the core's."""
    c = summary.customers
    n = len(c)
    assert got["summary"][0] == ["customer_id", "frequency", "recency", "T", "monetary_value",
                                 "actual_purchases", "actual_amount"]
    body = np.array([r[1:] for r in got["summary"][1:]], dtype=float)
    assert body.shape == (n, 6)
    assert [T._id_text(r[0]) for r in got["summary"][1:]] == [T._id_text(i) for i in c.index]
    assert np.allclose(body, c[["frequency", "recency", "T", "monetary_value", "actual_purchases",
                                "actual_amount"]].to_numpy(), rtol=1e-12, atol=1e-12)
    for table, fit in ((got["bgnbd"], forecast.bgnbd), (got["gamma_gamma"], forecast.gamma_gamma)):
        rows = {r[0]: r[1:] for r in table[1:]}
        for k, v in fit.params.items():
            assert rows[k][0] == pytest.approx(v, rel=1e-9), k
            assert rows[k][1] == pytest.approx(fit.standard_errors[k], rel=1e-6), k
        assert rows["log-likelihood"][0] == pytest.approx(fit.log_likelihood, rel=1e-12)
        assert rows["customers"][0] == fit.customers
    rate = T.unit_rate(settings["yearly_rate"], settings["unit"])
    # what `customer-equity forecast --out` writes per customer: CustomerForecast.predict
    pred = forecast.predict(settings["horizon"], rate=rate, margin=settings["margin"])
    for key, col in (("p_alive", "p_alive"), ("expected", "expected_purchases"), ("spend", "expected_spend"),
                     ("ltv", "ltv")):
        assert np.allclose(np.array(got[key], dtype=float), pred[col].to_numpy(), rtol=1e-9, atol=1e-9), key
    x, t_x, T_, _ = forecast._columns()
    assert np.allclose(np.array(got["holdout_pred"], dtype=float),
                       fc.expected_purchases(forecast.bgnbd, summary.holdout_length, x, t_x, T_), rtol=1e-12)
    assert np.allclose(np.array(got["grid"], dtype=float),
                       fc.expected_purchases(forecast.bgnbd, np.array(T.TIME_HORIZONS, float)[:, None],
                                             x, t_x, T_).T, rtol=1e-12)
    # equity by type: the forecast values of the customers the table types, summed per type
    types = dict(zip(customers["customer_id"].map(T._id_text), customers["type"]))
    typed = np.array([types.get(T._id_text(i), "") for i in c.index], dtype=object)
    assert list(got["type"]) == list(typed)
    matched = typed != ""
    exp = equity_table(typed[matched], pred["ltv"].to_numpy()[matched])
    table = got["equity_table"]
    assert [r[0] for r in table[1:]] == list(exp.index)
    assert np.allclose([float(r[2]) for r in table[1:]], exp["equity"].to_numpy(), rtol=1e-9)
    assert [int(r[1]) for r in table[1:]] == list(exp["customers"])


# --- 1. the engine ------------------------------------------------------------------------------


def test_engine_reproduces_every_cached_cell(engine):
    cells, _, log = engine
    assert not log.errors()
    assert engine_vs_cached(BOOK, cells) == []


def test_engine_equals_the_core_and_the_command_lines_numbers(engine, core):
    cells, names, _ = engine
    summary, forecast = core
    customers = T.sample_customers(sorted(fc.load_cdnow()["customer_id"].unique()))
    assert_equals_core(results(cells, names, BOOK), summary, forecast, T.SETTINGS, customers)


def test_purchases_per_customer_observed_and_bgnbd_as_the_plots_draw_them(engine, core):
    """The Fit sheet's native table (FHL 2005 eq. 8 written with GAMMALN, computed by the engine)
    holds the numbers of `forecast --plots`' first picture, the core's purchase_counts: observed
    customers per class and the BG/NBD expectation, which adds up to every customer."""
    cells, _, _ = engine
    _, forecast = core
    want = forecast.purchase_counts(T.HOLDOUT_GROUPS)
    wb = openpyxl.load_workbook(BOOK)
    ws = wb[T.S_FIT]
    top = next(c.row for c in ws["B"] if c.value == "Customers by repeat purchases in the calibration: "
               "observed and BG/NBD")
    rows = range(top + 2, top + 3 + T.HOLDOUT_GROUPS)
    assert [ws.cell(r, 2).value for r in rows] == list(want.index)
    got = {k: [cells[(T.S_FIT.upper(), f"{col}{r}")] for r in rows] for k, col in (("observed", "C"),
                                                                                      ("model", "D"))}
    assert got["observed"] == want["observed"].tolist()
    assert np.allclose(got["model"], want["model"].to_numpy(), rtol=1e-9)
    assert sum(got["model"]) == pytest.approx(len(core[0].customers), rel=1e-12)
    with zipfile.ZipFile(BOOK) as z:
        charts = [z.read(p).decode() for p in z.namelist() if p.startswith("xl/charts/chart")]
    ref = f"{T.S_FIT}!$D${top + 2}:$D${top + 2 + T.HOLDOUT_GROUPS}"
    assert sum(ref in c and "Customers by repeat purchases" in c for c in charts) == 1, ref


def test_the_command_line_gives_the_workbooks_numbers(engine, tmp_path):
    """`customer-equity forecast` on the sample with the template's settings and customer table:
    the same forecasts per customer, and the same equity by type (measure() on the joined PV)."""
    cells, names, _ = engine
    got = results(cells, names, BOOK)
    log = fc.load_cdnow()
    log.assign(date=log["date"].dt.strftime("%Y-%m-%d")).to_csv(tmp_path / "log.csv", index=False)
    T.sample_customers(sorted(log["customer_id"].unique())).to_csv(tmp_path / "customers.csv", index=False)
    (tmp_path / "config.json").write_text('{"classify_by": "type"}', encoding="utf-8")
    s = T.SETTINGS
    out = tmp_path / "out.csv"
    assert cli.main(["forecast", str(tmp_path / "log.csv"), "--unit", s["unit"],
                     "--calibration-end", str(s["calibration_end"]), "--observation-end", str(s["observation_end"]),
                     "--horizon", str(s["horizon"]), "--rate", repr(T.unit_rate(s["yearly_rate"], s["unit"])),
                     "--margin", str(s["margin"]), "--customers", str(tmp_path / "customers.csv"),
                     "--config", str(tmp_path / "config.json"), "--out", str(out), "--no-progress"]) == 0
    table = pd.read_csv(out)
    table.index = [T._id_text(i) for i in table["customer_id"]]
    table = table.loc[[T._id_text(i) for i in got["customer"]]]
    for key, col in (("p_alive", "p_alive"), ("expected", "expected_purchases"), ("spend", "expected_spend"),
                     ("ltv", "ltv")):
        assert np.allclose(np.array(got[key], dtype=float), table[col].to_numpy(), rtol=1e-7), key
    assert list(table["type"]) == list(got["type"])
    by_type = table.groupby("type")["equity"].sum()
    for row in got["equity_table"][1:-1]:
        assert row[2] == pytest.approx(by_type.get(row[0], 0.0), rel=1e-7), row[0]
    assert got["equity_table"][-1][2] == pytest.approx(table["equity"].sum(), rel=1e-7)


def test_each_fit_runs_once_per_recalculation(engine):
    _, _, log = engine
    calls = [c[0] for c in log.calls]
    assert calls.count("CE_BGNBD_FIT") == 1
    assert calls.count("CE_GAMMA_GAMMA_FIT") == 1
    assert calls.count("CE_LOG_SUMMARY") == 1
    assert calls.count("CE_LOG_CHECK") == 1  # the data report beside the summary (issue 20)
    # three distinct quantities: over the horizon, over the holdout, over the row of horizons
    assert calls.count("CE_EXPECTED_PURCHASES") == 3
    for name in ("CE_P_ALIVE", "CE_EXPECTED_SPEND", "CE_FORECAST_LTV"):
        assert calls.count(name) == 1, name
    # Excel makes the same calls: no name is a CE_ formula, each distinct call is made once
    total, _ = F.ce_evaluations(BOOK)
    assert total == len(calls) == 10 and F.repeated_ce_calls(BOOK) == {}
    # and the predictions read the fits by name, never call them
    formulas = F.formula_cells(BOOK).values()
    assert sum("CE_BGNBD_FIT(" in f for f in set(formulas)) == 1


@pytest.mark.skipif(os.environ.get("CE_RUN_SLOW") != "1", reason="slow: set CE_RUN_SLOW=1")
def test_a_setting_changed_moves_the_results(core):
    """Calibration end four weeks earlier: the engine follows it through the summary and the fits."""
    wb = openpyxl.load_workbook(BOOK)
    (key,), = F.name_cells(wb, "ce_in_calibration_end")
    import datetime as dt

    serial = (dt.date(1997, 9, 2) - dt.date(1899, 12, 30)).days
    log = E.CallLog()
    cells, names = E.compute(BOOK, inputs={key: serial}, log=log)
    assert not log.errors()
    got = results(cells, names, BOOK)
    settings = dict(T.SETTINGS, calibration_end=dt.date(1997, 9, 2))
    summary = fc.summary_data(fc.load_cdnow(), unit="week", calibration_end="1997-09-02",
                              observation_end=settings["observation_end"])
    forecast = fc.fit_forecast(summary)
    assert forecast.bgnbd["r"] != pytest.approx(core[1].bgnbd["r"], rel=1e-3)
    customers = T.sample_customers(sorted(fc.load_cdnow()["customer_id"].unique()))
    assert_equals_core(got, summary, forecast, settings, customers)


# --- 2. LibreOffice: the native checks with the CE_ cells held as values ------------------------------


def test_libreoffice_computes_every_native_cell_from_the_held_ce_results(libreoffice, tmp_path):
    """LibreOffice 7.4 over UNO, the CE_ cells held at the values the file caches (it has no
    add-in): a full recalculation leaves no error cell (no DROP, CHOOSECOLS, XLOOKUP or FILTER,
    names on spill ranges read as the ranges saved), the native checks equal the CE_ results,
    every OK says OK, and every native cell equals the value Excel saved."""
    built = T.build(tmp_path / "built.xlsx")
    assert len(built.checks) >= 8  # P(alive), E[M], five E[Y] rows, the equity total
    cached = openpyxl.load_workbook(BOOK, data_only=True)
    with libreoffice.opened(BOOK) as book:
        book.recalculate()
        for sheet in book.doc.Sheets.ElementNames:
            assert book.errors(sheet) == [], sheet
        compared = 0
        for check_sheet, check_range, ce_sheet, ce_range in built.checks:
            got = [v for row in book.sheet(check_sheet).getCellRangeByName(check_range.replace("$", ""))
                   .getDataArray() for v in row]
            exp = [c.value for row in _rows(cached[ce_sheet], ce_range) for c in row]
            assert len(got) == len(exp)
            for g, e in zip(got, exp):
                assert isinstance(g, float), f"{check_sheet}!{check_range}: {g!r}"
                assert g == pytest.approx(e, rel=1e-9, abs=1e-9), f"{check_sheet}!{check_range}"
                compared += 1
        assert compared > 2 * 2357
        assert F.ok_statuses(book, BOOK) == {"OK"}
        assert F.native_cells_differing(book, BOOK) == []


def _rows(ws, ref):
    cells = ws[ref.replace("$", "")]
    if not isinstance(cells, tuple):
        return [[cells]]
    if not isinstance(cells[0], tuple):
        return [list(cells)]
    return [list(r) for r in cells]


# --- 3. a 20,000-customer log pasted into the table ----------------------------------------------------


def generated_log(n, seed=2024, weeks=78, params=(0.25, 4.0, 0.8, 2.5)):
    """A BG/NBD customer base: first purchases in the first 12 weeks, Poisson purchases while
    active, a coin of p after each purchase, Gamma amounts (dates from 2024-01-01)."""
    r, alpha, a, b = params
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)  # purchases per week while active
    drop = rng.beta(a, b, n)
    first = rng.integers(0, 84, n)
    spend = rng.gamma(6.0, 1 / rng.gamma(4.0, 1 / 15.0, n))
    ids, days, amounts = [], [], []
    end = weeks * 7
    for i in range(n):
        t = int(first[i])
        while True:
            ids.append(i + 1)
            days.append(t)
            amounts.append(round(float(rng.gamma(6.0, spend[i] / 6.0)), 2))
            if rng.random() < drop[i]:
                break
            t += int(np.ceil(rng.exponential(7 / max(lam[i], 1e-9))))
            if t >= end:
                break
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D")
    return pd.DataFrame({"customer_id": ids, "date": dates, "amount": amounts})


def paste_log(template, dst, log, settings, customers_after):
    """Paste a log into the Transactions table (values, as Excel pastes them) and type the settings.

    Excel re-spills each per-customer dynamic array to the new number of customers when it
    recalculates (and saves that range); the formulas engine keeps the saved one, so the saved
    ranges are set here as Excel would write them (``customers_after`` rows, the summary's
    header besides), as tests/templates_files.paste_customers does for the measurement template.
    """
    wb = openpyxl.load_workbook(template)
    ws = wb[T.S_LOG]
    t = ws.tables[T.LOG_TABLE]
    c1, r1, c2, r2 = range_boundaries(t.ref)
    for row in ws.iter_rows(min_row=r1 + 1, max_row=r2):
        for c in row:
            c.value = None
    for k, (i, d, amount) in enumerate(zip(log["customer_id"], log["date"], log["amount"])):
        ws.cell(r1 + 1 + k, c1).value = int(i)
        ws.cell(r1 + 1 + k, c1 + 1).value = pd.Timestamp(d).to_pydatetime()
        ws.cell(r1 + 1 + k, c1 + 2).value = float(amount)
    t.ref = f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r1 + len(log)}"
    if t.autoFilter is not None:
        t.autoFilter.ref = t.ref
    for name in ("calibration_end", "observation_end"):
        sheet, r, c, _, _ = F.name_area(wb, f"ce_in_{name}")
        wb[sheet].cell(r, c).value = pd.Timestamp(settings[name]).to_pydatetime()
    sheet, r1, c1 = at(T.SUMMARY_AT)
    c1_, r1_, c2_, r2_ = range_boundaries(wb[sheet].cell(r1, c1).value.ref)
    before = r2_ - r1_  # customers in the template's summary
    for sh in wb.worksheets:
        for row in sh.iter_rows():
            for cell in row:
                v = cell.value
                if isinstance(v, ArrayFormula) and ":" in v.ref:
                    a1 = v.ref.split(":")[0]
                    ac1, ar1, ac2, ar2 = range_boundaries(v.ref)
                    height = ar2 - ar1 + 1
                    if height in (before, before + 1):
                        v.ref = f"{a1}:{get_column_letter(ac2)}{ar1 + customers_after + height - before - 1}"
    wb.save(dst)
    return dst


LAST_DAY = "2025-06-29"  # generated_log's 78 weeks from 2024-01-01 end the day before


@pytest.mark.skipif(os.environ.get("CE_RUN_SLOW") != "1", reason="slow: set CE_RUN_SLOW=1")
def test_a_20000_customer_log_pasted_gives_the_command_lines_numbers(tmp_path):
    log = generated_log(20_000)
    settings = dict(T.SETTINGS, calibration_end=pd.Timestamp("2024-09-30").date(),
                    observation_end=pd.Timestamp(LAST_DAY).date())
    summary = fc.summary_data(log, unit="week", calibration_end="2024-09-30", observation_end=LAST_DAY)
    pasted = paste_log(BOOK, tmp_path / "pasted.xlsx", log, settings, len(summary.customers))
    calls = E.CallLog()
    cells, names = E.compute(pasted, log=calls)
    assert not calls.errors()
    got = results(cells, names, pasted)
    assert len(got["summary"]) - 1 == 20_000
    forecast = fc.fit_forecast(summary)
    customers = T.sample_customers(sorted(fc.load_cdnow()["customer_id"].unique()))
    assert_equals_core(got, summary, forecast, settings, customers)
    # the command line on the same log
    csv = tmp_path / "log.csv"
    log.assign(date=log["date"].dt.strftime("%Y-%m-%d")).to_csv(csv, index=False)
    out = tmp_path / "forecast.csv"
    code = cli.main(["forecast", str(csv), "--unit", "week", "--calibration-end", "2024-09-30",
                     "--observation-end", LAST_DAY, "--horizon", str(settings["horizon"]),
                     "--rate", repr(T.unit_rate(settings["yearly_rate"], "week")),
                     "--margin", str(settings["margin"]), "--out", str(out), "--no-progress"])
    assert code == 0
    table = pd.read_csv(out)
    table.index = [T._id_text(i) for i in table["customer_id"]]
    table = table.loc[[T._id_text(i) for i in got["customer"]]]
    assert np.allclose(np.array(got["ltv"], dtype=float), table["ltv"].to_numpy(), rtol=1e-6)
    assert np.allclose(np.array(got["p_alive"], dtype=float), table["p_alive"].to_numpy(), rtol=1e-7)


# --- 4. the file -----------------------------------------------------------------------------------


def test_the_command_writes_the_committed_workbook(tmp_path):
    assert cli.main(["templates", "--out", str(tmp_path)]) == 0
    assert (tmp_path / T.FILENAME).read_bytes() == BOOK.read_bytes()


def test_conventions_of_the_workbook():
    with zipfile.ZipFile(BOOK) as z:
        assert not any("vbaProject" in p for p in z.namelist())
        assert len([p for p in z.namelist() if p.startswith("xl/charts/chart")]) == 3
    wb = openpyxl.load_workbook(BOOK)
    assert wb[T.S_LOG].tables[T.LOG_TABLE].ref == "A3:C6922"
    assert not wb[T.S_LOG].protection.sheet and not wb[T.S_CUST].protection.sheet
    note = " ".join(str(c.value) for row in wb[T.S_CUST].iter_rows(max_row=2) for c in row if c.value)
    assert "GENERATED" in note
    # every formula a dynamic array, CE_ functions stored as plain calls
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f" and not isinstance(c.value, ArrayFormula):
                    pytest.fail(f"{ws.title}!{c.coordinate} is not a dynamic-array formula: {c.value}")
    texts = [f for f in F.formula_cells(BOOK).values()]
    assert not any("_xludf" in f or "_xlfn.CE_" in f for f in texts)
