"""Template 4: from a transaction log to customer equity (BG/NBD and Gamma-Gamma, SPEC 7).

Sheets: Read me; Transactions (the Excel table ``Transactions``: customer_id, date,
amount, holding the CDNOW sample); Fit (settings, the two fitted models, calibration
vs holdout by frequency and expected purchases over time, each with Excel's own
chart); Summary (CE_LOG_SUMMARY spilled with its header); Forecasts (per customer:
P(alive), expected purchases, expected spend, forecast lifetime value, with native
closed-form checks of P(alive) and E[M]); E[Y] check (the expectation on a few
customers against a truncated 2F1 series written with Excel functions); Customers
(a generated customer table with the sample's ids and a type each); Equity (equity
by type of the forecast lifetime values).

Each CE_ quantity is computed once per recalculation: a dynamic-array formula spills
it, and every other cell reads it through a name on the spill range (Excel's ``A1#``;
the range it covered when the file was written where ``A1#`` is unknown, see
:func:`~._book.spill_ref`). The fits, the expensive calls, are read by the predictions
through those names, never called again. The native formulas are those of Excel 2016
and LibreOffice 7.4 (INDEX/MATCH, SUMPRODUCT, COUNTIF, ...): the summary's columns are
``INDEX(ce_summary_data, 0, j)``, the customer types a MATCH, equity by type SUMPRODUCT.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd
from scipy.special import gammaln

from .. import cells
from ...model import forecast as fc
from ...model.equity import table_from_sums
from ...model.forecast.purchases import purchase_pmf
from . import _book as B

TEMPLATE_ID = "transactions/1"
FILENAME = "customer-equity-from-transactions.xlsx"
S_README, S_LOG, S_FIT, S_SUMMARY, S_FORECASTS, S_EY, S_CUST, S_EQUITY = (
    "Read me", "Transactions", "Fit", "Summary", "Forecasts", "EY check", "Customers", "Equity")
LOG_TABLE = "Transactions"
CUSTOMER_TABLE = "Customers"

#: The sample's settings: FHL (2005)'s 39-week calibration and 39-week holdout on CDNOW.
SETTINGS = {"unit": "week", "calibration_end": _dt.date(1997, 9, 30),
            "observation_end": _dt.date(1998, 6, 30), "horizon": 52, "margin": 0.30,
            "yearly_rate": 0.10}
TIME_HORIZONS = list(range(4, 53, 4))
#: Terms of the 2F1 series the E[Y] check sums (k = 0 .. SERIES_TERMS - 1).
SERIES_TERMS = 300
HOLDOUT_GROUPS = 7
CUSTOMER_SEED = 13
TYPES = ("Lighthouse", "Follower", "Rational", "Profit-seeking")
DATE_FMT = "yyyy-mm-dd"

#: Where each spilled CE_ quantity is anchored (sheet, row, col; 0-indexed).
SUMMARY_AT = (S_SUMMARY, 4, 1)
BGNBD_AT = (S_FIT, 16, 1)
GG_AT = (S_FIT, 16, 6)
P0 = 5  # header row of the per-customer block on Forecasts (0-indexed); data from P0 + 1
FORECAST_COLS = {"customer": 1, "p_alive": 2, "p_alive_chk": 3, "p_alive_diff": 4, "expected": 5,
                 "holdout_pred": 6, "actual": 7, "spend": 8, "spend_chk": 9, "spend_diff": 10,
                 "ltv": 11, "type": 12, "grid": 14}




#: CE_LOG_SUMMARY's header with a holdout period (the template always has one).
SUMMARY_HEADER = ("customer_id", "frequency", "recency", "T", "monetary_value", "actual_purchases",
                  "actual_amount")
#: Names of the summary's columns: the spilled table without its header.
SUMMARY_COLUMNS = {"ce_customer": 1, "ce_frequency": 2, "ce_recency": 3, "ce_T": 4,
                   "ce_monetary_value": 5, "ce_actual_purchases": 6}
#: The names of the per-customer spills on the Forecasts sheet (key of FORECAST_COLS).
FORECAST_NAMES = {"ce_prob_alive": "p_alive", "ce_expected": "expected", "ce_holdout_pred": "holdout_pred",
                  "ce_spend": "spend", "ce_ltv_forecast": "ltv", "ce_grid": "grid", "ce_forecast_type": "type",
                  "chk_p_alive": "p_alive_chk", "chk_spend": "spend_chk"}
BGNBD_ROWS = {"ce_bg_r": 2, "ce_bg_alpha": 3, "ce_bg_a": 4, "ce_bg_b": 5}
GG_ROWS = {"ce_gg_p": 2, "ce_gg_q": 3, "ce_gg_v": 4}


# --- the core's results, the cached values -------------------------------------------------


def sample_customers(ids, seed=CUSTOMER_SEED):
    """The generated customer table shipped with the template: one row per id, a type drawn
    at random (Lighthouse 10 %, Follower 30 %, Rational 40 %, Profit-seeking 20 %)."""
    rng = np.random.default_rng(seed)
    types = rng.choice(TYPES, size=len(ids), p=[0.1, 0.3, 0.4, 0.2])
    return pd.DataFrame({"customer_id": list(ids), "type": types})


def unit_rate(yearly_rate, unit):
    """The discount rate per unit of time equivalent to a yearly rate."""
    return (1 + yearly_rate) ** (fc.UNITS[unit] / 365.25) - 1


def compute(log, customers, settings=SETTINGS, check_rows=None):
    """Everything the template shows, from the core: a dict of arrays and tables."""
    s = settings
    summary = fc.summary_data(log, unit=s["unit"], calibration_end=s["calibration_end"],
                              observation_end=s["observation_end"])
    c = summary.customers
    x, t_x, T, m = (c[k].to_numpy() for k in ("frequency", "recency", "T", "monetary_value"))
    bg = fc.fit_bgnbd(x, t_x, T)
    gg = fc.fit_gamma_gamma(x, m)
    corr = fc.frequency_spend_correlation(x, m)
    rate = unit_rate(s["yearly_rate"], s["unit"])
    holdout = summary.holdout_length
    out = {"summary": summary, "x": x, "t_x": t_x, "T": T, "m": m, "bgnbd": bg, "gamma_gamma": gg,
           "correlation": corr, "rate": rate, "holdout_length": holdout,
           "ids": c.index.to_numpy(), "actual": c["actual_purchases"].to_numpy()}
    out["p_alive"] = fc.p_alive(bg, x, t_x, T)
    out["expected"] = fc.expected_purchases(bg, float(s["horizon"]), x, t_x, T)
    out["holdout_pred"] = fc.expected_purchases(bg, holdout, x, t_x, T)
    out["spend"] = fc.expected_spend(gg, x, m)
    out["ltv"] = fc.forecast_ltv(fc.forecast_values(bg, gg, x, t_x, T, m, s["horizon"], s["margin"]),
                                 rate)
    out["grid"] = fc.expected_purchases(bg, np.array(TIME_HORIZONS, float)[:, None], x, t_x, T).T
    # the native checks, computed here as the worksheet formulas compute them
    r, alpha, a, b = bg.values
    odds = np.where(x > 0, a / (b + np.maximum(x, 1) - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0.0)
    out["p_alive_chk"] = 1 / (1 + odds)
    p, q, v = gg.values
    out["spend_chk"] = p * (v + x * m) / (p * x + q - 1)
    # equity by type
    key = {str(k): t for k, t in zip(customers["customer_id"].map(_id_text), customers["type"])}
    types = np.array([key.get(_id_text(i), "") for i in out["ids"]], dtype=object)
    out["types"] = types
    matched = types != ""
    # as the Equity sheet adds up: the type's label as written (any case), one of the four
    lower = np.array([str(t).lower() for t in types], dtype=object)
    masks = [lower == t.lower() for t in TYPES]
    out["equity_table"] = table_from_sums([int(k.sum()) for k in masks],
                                          [float(out["ltv"][k].sum()) for k in masks])
    out["equity"] = float(out["equity_table"]["equity"].iloc[-1])
    out["counts"] = {"matched": int(matched.sum()), "log_only": int((~matched).sum()),
                     "table_only": int(len(customers) - matched.sum()),
                     "other_type": int(matched.sum() - sum(int(k.sum()) for k in masks))}
    rows = check_rows or default_check_rows(x)
    out["check_rows"] = rows
    out["series"] = [expected_by_series(bg.values, s["horizon"], x[k - 1], t_x[k - 1], T[k - 1])
                     for k in rows]
    return out


def _id_text(v):
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        v = int(v)
    return str(v).strip()


def default_check_rows(x):
    """Rows of the E[Y] check: the first customers with 0, 1, 3 and 7 repeat purchases, and the
    most frequent buyer (1-based rows of the summary)."""
    rows = []
    for want in (0, 1, 3, 7):
        hit = np.flatnonzero(x == want)
        if hit.size:
            rows.append(int(hit[0]) + 1)
    rows.append(int(np.argmax(x)) + 1)
    return rows


def series_2f1(a, b, c, z, terms=SERIES_TERMS):
    """``2F1(a, b; c; z)`` as the worksheet sums it: ``sum_k exp(ln Gamma terms + k ln z)``."""
    k = np.arange(terms, dtype=float)
    return float(np.sum(np.exp(gammaln(a + k) - gammaln(a) + gammaln(b + k) - gammaln(b)
                               - gammaln(c + k) + gammaln(c) - gammaln(k + 1) + k * np.log(z))))


def expected_by_series(params, t, x, t_x, T):
    """E[Y(t)] (FHL 2005, eq. 10) with the 2F1 of :func:`series_2f1`: the check's figure."""
    r, alpha, a, b = params
    z = t / (alpha + T + t)
    f = series_2f1(r + x, b + x, a + b + x - 1, z)
    num = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * f)
    den = 1 + (a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x) if x > 0 else 0.0)
    return {"row": None, "x": x, "t_x": t_x, "T": T, "t": float(t), "z": z, "f": f, "value": num / den}


# --- cell writing ----------------------------------------------------------------------------


def _formula(sh, row, col, formula, cached, role="native", num_format=None, **extra):
    """A one-cell formula (a dynamic array, see :meth:`~._book.Sheet.formula`)."""
    sh.formula(row, col, formula, cached, role, num_format, **extra)


def _status(sh, row, col, diff_ref, difference):
    """OK / CHECK from the real cached difference (see :meth:`~._book.Sheet.check_status`)."""
    sh.check_status(row, col, diff_ref, difference)


def _col(values):
    return [[B._plain(v)] for v in np.asarray(values, dtype=object).tolist()]


def _gg_rows(res):
    """The Gamma-Gamma fit's table as CE_GAMMA_GAMMA_FIT spills it (with the correlation)."""
    corr = res["correlation"]
    return _fit_rows(res["gamma_gamma"], [("frequency-spend correlation", corr if np.isfinite(corr) else "")])


def _fit_rows(fit, extra=()):
    rows = [["parameter", "estimate", "standard error"]]
    for k in fc.PARAMETER_NAMES[fit.model]:
        se = fit.standard_errors[k]
        rows.append([k, fit.params[k], se if np.isfinite(se) else ""])
    rows += [["log-likelihood", fit.log_likelihood, ""], ["customers", fit.customers, ""]]
    rows += [[label, value, ""] for label, value in extra]
    return rows


# --- the workbook ------------------------------------------------------------------------------


def build(path, log=None, customers=None, settings=SETTINGS):
    """Write the template to ``path`` (the CDNOW sample by default); returns a :class:`~._book.Built`."""
    log = fc.load_cdnow() if log is None else log
    if customers is None:
        customers = sample_customers(sorted(pd.unique(log["customer_id"])))
    res = compute(log, customers, settings)
    book = B.Book(path, "From transactions to customer equity", TEMPLATE_ID,
                  "BG/NBD and Gamma-Gamma forecasts from a transaction log, and equity by type")
    readme = book.sheet(S_README, "#1F4E79")
    logsh = book.sheet(S_LOG, "#BF8F00")
    fit = book.sheet(S_FIT, "#2E75B6")
    summ = book.sheet(S_SUMMARY, "#2E75B6")
    fore = book.sheet(S_FORECASTS, "#2E75B6")
    eycheck = book.sheet(S_EY, "#548235")
    cust = book.sheet(S_CUST, "#BF8F00")
    equity = book.sheet(S_EQUITY, "#2E75B6")
    _names(book, res)
    _transactions(book, logsh, log)
    _fit(book, fit, res, settings)
    _summary(book, summ, res)
    _forecasts(book, fore, res)
    _ey_check(book, eycheck, res)
    _customers(book, cust, customers)
    _equity(book, equity, res)
    _readme(book, readme, log, res)
    readme.ws.activate()
    return book.close(res)


def _summary_data(at, n, width):
    """The definition of ``ce_summary_data``: the summary's spill below its header row.

    Excel 365 and 2021: ``INDEX(A1#,2,1):INDEX(A1#,ROWS(A1#),COLUMNS(A1#))``, a range that
    follows the spill; elsewhere the rows it covered when the file was written.
    """
    sheet, row, col = at
    spill = f"_xlfn.ANCHORARRAY({B.sheet_ref(sheet, B.cell(row, col))})"
    saved = B.sheet_ref(sheet, B.area(row + 1, col, row + max(n, 1), col + width - 1))
    rows = f"INDEX({spill},2,1):INDEX({spill},ROWS({spill}),COLUMNS({spill}))"
    return f"=IF(ISERROR(ROWS({spill})),{saved},{rows})"


def _names(book, res):
    n = len(res["x"])
    width = len(SUMMARY_HEADER)
    book.define_spill("ce_summary", *SUMMARY_AT, n + 1, width)
    book.define("ce_summary_data", _summary_data(SUMMARY_AT, n, width))
    for name, j in SUMMARY_COLUMNS.items():
        book.define(name, f"=INDEX(ce_summary_data,0,{j})")
    book.define_spill("ce_bgnbd", *BGNBD_AT, len(_fit_rows(res["bgnbd"])), 3)
    book.define_spill("ce_gamma_gamma", *GG_AT, len(_gg_rows(res)), 3)
    for name, i in BGNBD_ROWS.items():
        book.define(name, f"=INDEX(ce_bgnbd,{i},2)")
    for name, i in GG_ROWS.items():
        book.define(name, f"=INDEX(ce_gamma_gamma,{i},2)")
    for name, key in FORECAST_NAMES.items():
        width = len(TIME_HORIZONS) if key == "grid" else 1
        book.define_spill(name, S_FORECASTS, P0 + 1, FORECAST_COLS[key], n, width)
    book.define("ce_in_log_customer", f"={LOG_TABLE}[customer_id]")
    book.define("ce_in_log_date", f"={LOG_TABLE}[date]")
    book.define("ce_in_log_amount", f"={LOG_TABLE}[amount]")
    book.define("ce_in_customer_id", f"={CUSTOMER_TABLE}[customer_id]")
    book.define("ce_in_type", f"={CUSTOMER_TABLE}[type]")


def _transactions(book, sh, log):
    sh.widths([14, 12, 12, 3, 60])
    sh.ws.set_row(0, 24)
    sh.text(0, 0, "Transactions", "title")
    sh.merged(0, 4, 1, 4, "One row per transaction: customer id, date, amount. Paste your own log over "
              "the rows below (values only), keeping the header in row 3: the table grows with the paste and "
              "every formula reads the whole table. Dates as date cells (or text YYYY-MM-DD). Negative "
              "amounts (returns) are left out; several rows of one customer on one day are one purchase. "
              "The sample is the CDNOW 1/10 cohort (2,357 customers who first bought in the first quarter "
              "of 1997, followed to June 1998; Fader, Hardie & Lee 2005; as distributed in lifetimes, MIT).",
              "note")
    sh.ws.set_row(1, 120)
    first = 2
    rows = [[_id_value(c), d.to_pydatetime() if hasattr(d, "to_pydatetime") else d, float(a)]
            for c, d, a in zip(log["customer_id"], pd.to_datetime(log["date"]), log["amount"])]
    last = first + len(rows)
    head = book.fmt("header", bg_color="#1F4E79")
    columns = [{"header": "customer_id", "format": book.fmt("input", "0"), "header_format": head},
               {"header": "date", "format": book.fmt("input", DATE_FMT), "header_format": head},
               {"header": "amount", "format": book.fmt("input", B.MONEY2), "header_format": head}]
    sh.ws.add_table(first, 0, last, 2, {"name": LOG_TABLE, "columns": columns, "data": rows,
                                        "style": "Table Style Medium 2", "autofilter": True})
    sh.ws.data_validation(first + 1, 2, last, 2, {"validate": "decimal", "criteria": ">=",
                                                  "value": -1e12, "error_type": "warning",
                                                  "error_message": "An amount is a number."})
    sh.ws.freeze_panes(first + 1, 0)
    sh.print_setup(0, 0, last, 2, landscape=False, repeat=(first, first))


def _id_value(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return int(v)
    return v


def _fit(book, sh, res, s):
    sh.widths([2, 34, 14, 14, 14, 3, 28, 14, 14, 3, 10, 10, 10, 10])
    sh.title(0, "Fit: the purchase and spend models",
             "Settings in yellow. The two CE_ fits are computed once per recalculation; every prediction reads "
             "them by name (ce_bgnbd, ce_gamma_gamma). Below: how the fitted model predicts the holdout "
             "period it never saw, and the purchases it expects over the coming weeks.", 10)
    r = 3
    sh.section(r, 1, "Settings", 3)
    rows = [
        ("Time unit", s["unit"], "ce_in_unit", None, "day, week, month (365.25/12 days) or year"),
        ("Calibration end (models fitted up to here)", s["calibration_end"], "ce_in_calibration_end",
         DATE_FMT, "last day of the calibration period"),
        ("Observation end (holdout up to here)", s["observation_end"], "ce_in_observation_end", DATE_FMT,
         "after the calibration end: a holdout period to test the forecast"),
        ("Forecast horizon (units)", s["horizon"], "ce_in_horizon", B.INT,
         "expected purchases and lifetime value over this many units"),
        ("Margin on revenue", s["margin"], "ce_in_margin", B.PCT0, "share of each amount that is margin"),
        ("Discount rate per year", s["yearly_rate"], "ce_in_yearly_rate", B.PCT, "converted to the unit below"),
    ]
    for i, (label, value, name, nf, note) in enumerate(rows):
        sh.named_input(r + 1 + i, label, value, name, nf, note=note, note_to=8)
    sh.ws.data_validation(r + 1, 2, r + 1, 2, {"validate": "list", "source": list(fc.UNITS)})
    days = fc.UNITS[s["unit"]]
    r2 = r + 1 + len(rows)
    derived = [
        ("Days per unit", '=IF(ce_in_unit="day",1,IF(ce_in_unit="week",7,IF(ce_in_unit="month",365.25/12,'
                          '365.25)))', days, "ce_unit_days", "0.00"),
        ("Discount rate per unit", "=(1+ce_in_yearly_rate)^(ce_unit_days/365.25)-1", res["rate"], "ce_unit_rate",
         "0.0000%"),
        ("Holdout length (units)", "=(ce_in_observation_end-ce_in_calibration_end)/ce_unit_days",
         res["holdout_length"], "ce_holdout_length", "0.00"),
    ]
    for i, (label, formula, value, name, nf) in enumerate(derived):
        sh.text(r2 + i, 1, label, "label")
        _formula(sh, r2 + i, 2, formula, value, "native", nf)
        sh.name_range(name, r2 + i, 2)

    r = BGNBD_AT[1] - 1
    sh.section(r, 1, "Purchases: BG/NBD (CE_BGNBD_FIT)", 3)
    sh.spill(BGNBD_AT[1], BGNBD_AT[2], "=CE_BGNBD_FIT(ce_frequency,ce_recency,ce_T)",
             _fit_rows(res["bgnbd"]), "ce", [None, "0.0000", "0.0000"], header={}, label_col=True)
    sh.section(r, 6, "Spend: Gamma-Gamma (CE_GAMMA_GAMMA_FIT)", 8)
    sh.spill(GG_AT[1], GG_AT[2], "=CE_GAMMA_GAMMA_FIT(ce_frequency,ce_monetary_value)", _gg_rows(res), "ce", [None, "0.0000", "0.0000"], header={}, label_col=True)
    for at, fit in ((BGNBD_AT, res["bgnbd"]), (GG_AT, res["gamma_gamma"])):
        k = len(fc.PARAMETER_NAMES[fit.model])
        sh.value(at[1] + k + 1, at[2] + 1, fit.log_likelihood, "ce", "#,##0.00")
        sh.value(at[1] + k + 2, at[2] + 1, fit.customers, "ce", "#,##0")
    sh.note(GG_AT[1] + 9, 1, "r, alpha: purchase rates ~ Gamma(r, alpha), alpha in time units; a, b: drop-out "
            "probability ~ Beta(a, b). p, q, v: spend per purchase ~ Gamma(p, nu), nu ~ Gamma(q, v). Standard "
            "errors from the observed information. The spend model assumes spend independent of frequency: "
            "a correlation near 0 supports it.", 8, 45)

    # calibration vs holdout by frequency ---------------------------------------------------------
    r = 28
    r_counts = r + 2
    sh.section(r, 1, "Calibration vs holdout: purchases in the holdout by calibration frequency", 4)
    sh.header(r + 1, 1, ["Repeat purchases in calibration", "Customers", "Actual (mean)", "Predicted (mean)"])
    x, actual, pred = res["x"], res["actual"], res["holdout_pred"]
    for k in range(HOLDOUT_GROUPS + 1):
        row = r + 2 + k
        last = k == HOLDOUT_GROUPS
        sel = x >= k if last else x == k
        cond = f"(ce_frequency>={k})" if last else f"(ce_frequency={k})"
        sh.text(row, 1, f"{k}+" if last else str(k), "bold", align="center")
        n = int(sel.sum())
        _formula(sh, row, 2, f"=SUM({cond}*1)", n, "native", B.INT)
        _formula(sh, row, 3, f'=IF(SUM({cond}*1)=0,"",SUM({cond}*ce_actual_purchases)/SUM({cond}*1))',
                 float(actual[sel].mean()) if n else "", "native", "0.000")
        _formula(sh, row, 4, f'=IF(SUM({cond}*1)=0,"",SUM({cond}*ce_holdout_pred)/SUM({cond}*1))',
                 float(pred[sel].mean()) if n else "", "native", "0.000")
    tot = r + 3 + HOLDOUT_GROUPS
    sh.text(tot, 1, "All customers (total purchases)", "bold")
    _formula(sh, tot, 2, "=SUM((ce_frequency>=0)*1)", len(x), "native", B.INT, bold=True)
    _formula(sh, tot, 3, "=SUM(ce_actual_purchases)", float(actual.sum()), "native", "#,##0", bold=True)
    _formula(sh, tot, 4, "=SUM(ce_holdout_pred)", float(pred.sum()), "native", "#,##0", bold=True)
    sh.note(tot + 1, 1, "Holdout: the period from the calibration end to the observation end. Predicted: "
            "CE_EXPECTED_PURCHASES over the holdout length for each customer, averaged per group.", 4, 30)
    _two_bars_by_class(book, sh, r, r + 2, 3, ("Actual", "Predicted (BG/NBD)"),
                       "Holdout purchases by calibration frequency", "Mean purchases in the holdout", "0.0")

    # expected purchases over time -----------------------------------------------------------------
    r = tot + 4
    sh.section(r, 1, "Expected purchases of today's customers over the coming periods", 4)
    sh.header(r + 1, 1, ["Periods ahead (units)", "Expected purchases, all customers (cumulative)"])
    sh.ws.set_row(r + 1, 45)
    totals = res["grid"].sum(axis=0)
    for j, (h, v) in enumerate(zip(TIME_HORIZONS, totals)):
        sh.value(r + 2 + j, 1, h, "input", B.INT, align="center")
        _formula(sh, r + 2 + j, 2, f"=SUM(INDEX(ce_grid,0,{j + 1}))", float(v), "native", "#,##0")
    last = r + 1 + len(TIME_HORIZONS)
    sh.name_range("ce_in_time_horizons", r + 2, 1, last, 1)
    sh.note(last + 1, 1, "Sums of CE_EXPECTED_PURCHASES for a row of horizons (Forecasts sheet, right-hand "
            "block): what the customers of the summary are expected to buy, not new customers.", 4, 30)
    chart = book.wb.add_chart({"type": "line"})
    chart.add_series({"name": "Expected purchases (cumulative)",
                      "categories": "=" + B.sheet_ref(sh.name, B.area(r + 2, 1, last, 1)),
                      "values": "=" + B.sheet_ref(sh.name, B.area(r + 2, 2, last, 2)),
                      "line": {"color": "#2E75B6", "width": 2.25},
                      "marker": {"type": "circle", "size": 5, "fill": {"color": "#2E75B6"},
                                 "border": {"color": "#2E75B6"}}})
    chart.set_title({"name": "Expected purchases over time, all customers", "name_font": {"size": 10}})
    chart.set_x_axis({"name": "Periods ahead"})
    chart.set_y_axis({"name": "Purchases (cumulative)", "num_format": "#,##0",
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"none": True})
    chart.set_size({"width": 560, "height": 300})
    sh.ws.insert_chart(B.cell(r, 6, False, False), chart)
    last = _purchases_per_customer(book, sh, res, last + 4, counts_at=r_counts)
    sh.protect()
    sh.print_setup(0, 0, last + 2, 13, landscape=True)


def bgnbd_pmf_formula(k):
    """P(X(T) = k) under the fitted BG/NBD, summed over the customers' T (Fader, Hardie & Lee
    2005, eq. 8) in Excel 2016 functions: the negative binomial terms and beta ratios as
    EXP(GAMMALN(...)), the tail 1 - sum of the first k terms, written out for this k."""
    ratio_a = "(ce_bg_alpha/(ce_bg_alpha+ce_T))^ce_bg_r"
    z = "(ce_T/(ce_bg_alpha+ce_T))"

    def nb(j):  # Gamma(r+j) / (Gamma(r) j!) (t/(alpha+t))^j, without the alpha^r factor
        return "1" if j == 0 else f"EXP(GAMMALN(ce_bg_r+{j})-GAMMALN(ce_bg_r)-GAMMALN({j + 1}))*{z}^{j}"

    beta_ab = "GAMMALN(ce_bg_a+ce_bg_b)-GAMMALN(ce_bg_b)"
    alive = (f"EXP(GAMMALN(ce_bg_b+{k})+{beta_ab}-GAMMALN(ce_bg_a+ce_bg_b+{k}))*{nb(k)}*{ratio_a}"
             if k else ratio_a)
    if k == 0:
        return f"=SUMPRODUCT({alive})"
    died = (f"EXP(GAMMALN(ce_bg_a+1)+GAMMALN(ce_bg_b+{k - 1})-GAMMALN(ce_bg_a)+{beta_ab}"
            f"-GAMMALN(ce_bg_a+ce_bg_b+{k}))*(1-{ratio_a}*({'+'.join(nb(j) for j in range(k))}))")
    return f"=SUMPRODUCT({alive}+{died})"


def _purchases_per_customer(book, sh, res, r, counts_at):
    """Customers by repeat purchases in the calibration, observed and expected under the fitted
    BG/NBD, with a column chart: lifetimes' plot_period_transactions, the first picture of
    ``forecast --plots``. Returns the last row used."""
    sh.section(r, 1, "Customers by repeat purchases in the calibration: observed and BG/NBD", 4)
    sh.header(r + 1, 1, ["Repeat purchases in calibration", "Customers (observed)",
                         "Customers (BG/NBD)", "Difference"])
    sh.ws.set_row(r + 1, 30)
    pmf = purchase_pmf(res["bgnbd"], res["T"], HOLDOUT_GROUPS)
    model = pmf.sum(axis=0)
    observed = np.bincount(np.minimum(res["x"], HOLDOUT_GROUPS).astype(int), minlength=HOLDOUT_GROUPS + 1)
    first = r + 2
    for k in range(HOLDOUT_GROUPS + 1):
        row = first + k
        tail = k == HOLDOUT_GROUPS
        sh.text(row, 1, f"{k}+" if tail else str(k), "bold", align="center")
        _formula(sh, row, 2, f"={B.cell(counts_at + k, 2)}", int(observed[k]), "native", B.INT)
        formula = (f"={B.cell(counts_at + HOLDOUT_GROUPS + 1, 2)}-SUM({B.area(first, 3, row - 1, 3)})"
                   if tail else bgnbd_pmf_formula(k))
        _formula(sh, row, 3, formula, float(model[k]), "native", "#,##0.0")
        _formula(sh, row, 4, f"={B.cell(row, 3)}-{B.cell(row, 2)}", float(model[k] - observed[k]), "native",
                 "#,##0.0")
    last = first + HOLDOUT_GROUPS
    sh.note(last + 1, 1, "BG/NBD: the customers expected in each class given each customer's T, from the "
            "fitted r, alpha, a, b (Fader, Hardie & Lee 2005, eq. 8, written with GAMMALN). Bars close "
            "together: the model reproduces how often customers came back.", 4, 45)
    _two_bars_by_class(book, sh, r, first, 2, ("Observed", "BG/NBD"),
                       "Customers by repeat purchases: observed and BG/NBD", "Customers", "#,##0")
    return last + 2


def _two_bars_by_class(book, sh, at_row, first, col, labels, title, y_name, y_format):
    """Excel's column chart of two columns (``col``, ``col + 1``) over the frequency classes
    0 .. 7+ in column B from row ``first``, drawn beside the table from row ``at_row``."""
    last = first + HOLDOUT_GROUPS
    chart = book.wb.add_chart({"type": "column"})
    cats = "=" + B.sheet_ref(sh.name, B.area(first, 1, last, 1))
    for j, (label, color) in enumerate(zip(labels, ("#BF8F00", "#2E75B6"))):
        chart.add_series({"name": label, "categories": cats,
                          "values": "=" + B.sheet_ref(sh.name, B.area(first, col + j, last, col + j)),
                          "fill": {"color": color}, "border": {"color": color}})
    chart.set_title({"name": title, "name_font": {"size": 10}})
    chart.set_x_axis({"name": "Repeat purchases in the calibration period"})
    chart.set_y_axis({"name": y_name, "num_format": y_format,
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"position": "top"})
    chart.set_size({"width": 560, "height": 300})
    sh.ws.insert_chart(B.cell(at_row, 6, False, False), chart)


#: Where the data report spills beside the summary (CE_LOG_CHECK): sheet, row, column.
REPORT_AT = (S_SUMMARY, 4, 9)


def _summary(book, sh, res):
    sh.widths([2, 13, 11, 11, 11, 15, 15, 15, 3, 70, 9, 24])
    sh.title(0, "Summary: one row per customer (CE_LOG_SUMMARY)",
             "frequency = repeat purchase days; recency = time from the first to the last purchase; T = time from the "
             "first purchase to the calibration end (in the unit); monetary_value = mean amount of the repeat "
             "purchases; actual_* = the holdout period. Customers whose first purchase is after the calibration end "
             "are not in it.", 7)
    sh.ws.set_row(1, 45)
    c = res["summary"].customers
    header = list(SUMMARY_HEADER)
    rows = [header] + [[_id_value(i)] + [float(v) for v in vals]
                       for i, vals in zip(c.index, c[header[1:]].to_numpy())]
    _report(sh, res)
    sh.spill(SUMMARY_AT[1], SUMMARY_AT[2],
             "=CE_LOG_SUMMARY(ce_in_log_customer,ce_in_log_date,ce_in_log_amount,ce_in_unit,"
             "ce_in_calibration_end,ce_in_observation_end)", rows, "ce",
             ["0", "0", "0.00", "0.00", B.MONEY2, "0", B.MONEY2], header={})
    sh.ws.freeze_panes(SUMMARY_AT[1] + 1, 0)
    sh.protect()
    sh.print_setup(0, 0, SUMMARY_AT[1] + 40, 7, landscape=False, repeat=(SUMMARY_AT[1], SUMMARY_AT[1]))


def _report(sh, res):
    """The data report beside the summary: what CE_LOG_SUMMARY read, used and set aside."""
    sh.text(2, 1, "What the summary read of the log, used and set aside, and why: the report on the "
                  "right (CE_LOG_CHECK), recomputed with the log. Rows dated after today, returns, "
                  "blank rows and exact duplicates are listed there with their first rows.", "note")
    sh.text(REPORT_AT[1] - 1, REPORT_AT[2], "Data read (CE_LOG_CHECK)", "bold")
    sh.spill(REPORT_AT[1], REPORT_AT[2],
             "=CE_LOG_CHECK(ce_in_log_customer,ce_in_log_date,ce_in_log_amount,ce_in_unit,"
             "ce_in_calibration_end,ce_in_observation_end)", res["summary"].report.table(), "ce",
             [None, "#,##0", None], header={})


def _forecasts(book, sh, res):
    C = FORECAST_COLS
    sh.widths([2, 12, 10, 10, 9, 11, 11, 9, 10, 10, 9, 11, 14, 3] + [7] * len(TIME_HORIZONS))
    sh.title(0, "Forecasts per customer",
             "Blue: the CE_ predictions from the fitted models (read by name). Green: P(alive) and the expected "
             "spend again from their closed forms with Excel's own arithmetic. Lifetime value: the expected "
             "purchases of each period times the expected spend and the margin, discounted at the rate per unit.",
             12)
    sh.ws.set_row(1, 32)
    n = len(res["x"])
    pa_diff = float(np.max(np.abs(res["p_alive"] - res["p_alive_chk"]))) if n else 0.0
    sp_diff = float(np.max(np.abs(res["spend"] - res["spend_chk"]))) if n else 0.0
    sh.merged(2, 1, 2, 2, "P(alive): largest |difference|", "bold")
    _formula(sh, 2, 3, "=MAX(ABS(ce_prob_alive-chk_p_alive))", pa_diff, "native", "0.0E+00")
    _status(sh, 2, 4, B.cell(2, 3), pa_diff)
    sh.merged(2, 6, 2, 7, "E[M]: largest |difference|", "bold")
    _formula(sh, 2, 8, "=MAX(ABS(ce_spend-chk_spend))", sp_diff, "native", "0.0E+00")
    _status(sh, 2, 9, B.cell(2, 8), sp_diff)
    sh.merged(3, 1, 3, 4, "Customer equity: Σ forecast lifetime values, all customers", "bold")
    _formula(sh, 3, 5, "=SUM(ce_ltv_forecast)", float(res["ltv"].sum()), "native", B.MONEY, bold=True)
    colour = {"ce": "#2E75B6", "check": "#548235", "native": "#1F4E79"}
    heads = [("customer", "customer_id", "native"), ("p_alive", "P(alive)", "ce"),
             ("p_alive_chk", "P(alive) check", "check"), ("p_alive_diff", "difference", "native"),
             ("expected", "E[Y] over the horizon", "ce"), ("holdout_pred", "E[Y] over the holdout", "ce"),
             ("actual", "actual in holdout", "native"), ("spend", "E[M] per purchase", "ce"),
             ("spend_chk", "E[M] check", "check"), ("spend_diff", "difference", "native"),
             ("ltv", "forecast LTV", "ce"), ("type", "type (Customers)", "native")]
    for key, label, role in heads:
        sh.text(P0, C[key], label, "header", bg_color=colour[role])
    sh.ws.set_row(P0, 30)
    d = P0 + 1
    sh.spill(d, C["customer"], "=ce_customer", _col([_id_value(i) for i in res["ids"]]), "native", "0")
    sh.spill(d, C["p_alive"], "=CE_P_ALIVE(ce_bgnbd,ce_frequency,ce_recency,ce_T)", _col(res["p_alive"]), "ce",
             "0.0000")
    sh.spill(d, C["p_alive_chk"], "=1/(1+IF(ce_frequency>0,ce_bg_a/(ce_bg_b+ce_frequency-1)*((ce_bg_alpha+ce_T)"
             "/(ce_bg_alpha+ce_recency))^(ce_bg_r+ce_frequency),0))", _col(res["p_alive_chk"]), "check", "0.0000")
    sh.spill(d, C["p_alive_diff"], "=ce_prob_alive-chk_p_alive", _col(res["p_alive"] - res["p_alive_chk"]),
             "native", "0.0E+00")
    sh.cross_check(B.area(d, C["p_alive_chk"], d + n - 1, C["p_alive_chk"]),
                   B.area(d, C["p_alive"], d + n - 1, C["p_alive"]))
    sh.spill(d, C["expected"], "=CE_EXPECTED_PURCHASES(ce_bgnbd,ce_in_horizon,ce_frequency,ce_recency,ce_T)",
             _col(res["expected"]), "ce", "0.000")
    sh.spill(d, C["holdout_pred"], "=CE_EXPECTED_PURCHASES(ce_bgnbd,ce_holdout_length,ce_frequency,ce_recency,"
             "ce_T)", _col(res["holdout_pred"]), "ce", "0.000")
    sh.spill(d, C["actual"], "=ce_actual_purchases", _col(res["actual"]), "native", "0")
    sh.spill(d, C["spend"], "=CE_EXPECTED_SPEND(ce_gamma_gamma,ce_frequency,ce_monetary_value)",
             _col(res["spend"]), "ce", B.MONEY2)
    sh.spill(d, C["spend_chk"], "=ce_gg_p*(ce_gg_v+ce_frequency*ce_monetary_value)/(ce_gg_p*ce_frequency+ce_gg_q-1)",
             _col(res["spend_chk"]), "check", B.MONEY2)
    sh.spill(d, C["spend_diff"], "=ce_spend-chk_spend", _col(res["spend"] - res["spend_chk"]), "native",
             "0.0E+00")
    sh.cross_check(B.area(d, C["spend_chk"], d + n - 1, C["spend_chk"]),
                   B.area(d, C["spend"], d + n - 1, C["spend"]))
    sh.spill(d, C["ltv"], "=CE_FORECAST_LTV(ce_bgnbd,ce_gamma_gamma,ce_frequency,ce_recency,ce_T,"
             "ce_monetary_value,ce_in_margin,ce_unit_rate,ce_in_horizon)", _col(res["ltv"]), "ce", B.MONEY2)
    sh.spill(d, C["type"], '=IFERROR(INDEX(ce_in_type,MATCH(ce_customer,ce_in_customer_id,0)),"")',
             _col(res["types"]), "native")
    g = C["grid"]
    sh.merged(P0 - 1, g, P0 - 1, g + len(TIME_HORIZONS) - 1, "E[Y(t)]: expected purchases in the next t units "
              "(CE_EXPECTED_PURCHASES with a row of horizons)", "subheader")
    sh.spill(P0, g, "=TRANSPOSE(ce_in_time_horizons)", [TIME_HORIZONS], "native", B.INT, bold=True,
             align="center")
    sh.spill(d, g, "=CE_EXPECTED_PURCHASES(ce_bgnbd,TRANSPOSE(ce_in_time_horizons),ce_frequency,ce_recency,ce_T)",
             res["grid"].tolist(), "ce", "0.00")
    sh.ws.freeze_panes(d, 2)
    sh.protect()
    sh.print_setup(0, 0, d + 40, C["type"], landscape=True, repeat=(P0, P0))


def _ey_check(book, sh, res):
    sh.widths([2, 10, 11, 8, 8, 8, 7, 8, 16, 12, 12, 11, 8])
    sh.title(0, "E[Y] check: expected purchases from a series written with Excel's functions",
             "E[Y(t)] needs the hypergeometric function 2F1, which Excel lacks. Here it is summed as a series, "
             f"2F1(a, b; c; z) = Σ_k (a)_k (b)_k / ((c)_k k!) z^k for k = 0 … {SERIES_TERMS - 1}, each term "
             "EXP(GAMMALN(…) + k LN(z)), and E[Y] written out (Fader, Hardie & Lee 2005, eq. 10). Choose any rows "
             "of the summary in the yellow cells.", 12)
    sh.ws.set_row(1, 45)
    r = 3
    sh.merged(r, 1, r, 12, "E[Y(t)] = (a+b+x-1)/(a-1) × [1 - ((α+T)/(α+T+t))^(r+x) × 2F1(r+x, b+x; a+b+x-1; z)] "
              "/ (1 + [x>0] a/(b+x-1) ((α+T)/(α+t_x))^(r+x)),   z = t/(α+T+t)", "formula_text", bold=True)
    sh.ws.set_row(r, 32)
    head = ["Summary row", "customer_id", "x", "t_x", "T", "t", "z", "2F1 (series)", "E[Y] check",
            "E[Y] (CE_)", "difference", "status"]
    sh.header(r + 2, 1, head)
    sh.ws.set_row(r + 2, 30)
    rows = res["check_rows"]
    first = r + 3
    worst = 0.0
    for i, (row, s) in enumerate(zip(rows, res["series"])):
        y = first + i
        sh.value(y, 1, row, "input", B.INT, align="center")
        name_row = B.cell(y, 1)
        x, t_x, T = s["x"], s["t_x"], s["T"]
        ce_value = float(res["expected"][row - 1])
        _formula(sh, y, 2, f"=INDEX(ce_customer,{name_row})", _id_value(res["ids"][row - 1]), "native", "0")
        _formula(sh, y, 3, f"=INDEX(ce_frequency,{name_row})", x, "native", "0")
        _formula(sh, y, 4, f"=INDEX(ce_recency,{name_row})", t_x, "native", "0.00")
        _formula(sh, y, 5, f"=INDEX(ce_T,{name_row})", T, "native", "0.00")
        _formula(sh, y, 6, "=ce_in_horizon", s["t"], "native", B.INT)
        cx, ct_x, cT, ct, cz, cf = (B.cell(y, j) for j in (3, 4, 5, 6, 7, 8))
        _formula(sh, y, 7, f"={ct}/(ce_bg_alpha+{cT}+{ct})", s["z"], "native", "0.0000")
        a_, b_, c_ = f"(ce_bg_r+{cx})", f"(ce_bg_b+{cx})", f"(ce_bg_a+ce_bg_b+{cx}-1)"
        _formula(sh, y, 8, f"=SUMPRODUCT(EXP(GAMMALN({a_}+chk_k)-GAMMALN({a_})+GAMMALN({b_}+chk_k)-GAMMALN({b_})"
                 f"-GAMMALN({c_}+chk_k)+GAMMALN({c_})-GAMMALN(chk_k+1)+chk_k*LN({cz})))", s["f"], "check",
                 "0.000000")
        _formula(sh, y, 9, f"=({c_})/(ce_bg_a-1)*(1-((ce_bg_alpha+{cT})/(ce_bg_alpha+{cT}+{ct}))^(ce_bg_r+{cx})"
                 f"*{cf})/(1+IF({cx}>0,ce_bg_a/(ce_bg_b+{cx}-1)*((ce_bg_alpha+{cT})/(ce_bg_alpha+{ct_x}))"
                 f"^(ce_bg_r+{cx}),0))", s["value"], "check", "0.000000")
        _formula(sh, y, 10, f"=INDEX(ce_expected,{name_row})", ce_value, "ce", "0.000000")
        diff = ce_value - s["value"]
        worst = max(worst, abs(diff))
        _formula(sh, y, 11, f"={B.cell(y, 10)}-{B.cell(y, 9)}", diff, "native", "0.0E+00")
        _status(sh, y, 12, B.cell(y, 11), diff)
        sh.cross_check(B.cell(y, 9), B.cell(y, 10))
    sh.name_range("ce_in_check_rows", first, 1, first + len(rows) - 1, 1)
    k_row = first + len(rows) + 3
    sh.text(k_row - 1, 1, f"Series index k = 0 … {SERIES_TERMS - 1} (used by the 2F1 column)", "note")
    for k in range(SERIES_TERMS):
        sh.ws.write_number(k_row, 1 + k, k, book.fmt("native", B.INT))
    sh.name_range("chk_k", k_row, 1, k_row, SERIES_TERMS)
    sh.protect()
    sh.print_setup(0, 0, first + len(rows) + 1, 12, landscape=True)


def _customers(book, sh, customers):
    sh.widths([14, 16, 3, 60])
    sh.ws.set_row(0, 24)
    sh.text(0, 0, "Customers", "title")
    sh.merged(0, 3, 1, 3, "GENERATED for the example: the CDNOW sample's customer ids, each with a customer type "
              f"drawn at random (seed {CUSTOMER_SEED}; Lighthouse 10 %, Follower 30 %, Rational 40 %, "
              "Profit-seeking 20 %). CDNOW has no types. Paste your own customer table over it (values only): "
              "the Equity sheet joins it to the forecasts by customer_id.", "note")
    sh.ws.set_row(1, 90)
    first = 2
    rows = [[_id_value(i), str(t)] for i, t in zip(customers["customer_id"], customers["type"])]
    last = first + len(rows)
    head = book.fmt("header", bg_color="#1F4E79")
    sh.ws.add_table(first, 0, last, 1, {
        "name": CUSTOMER_TABLE, "style": "Table Style Medium 2", "autofilter": True, "data": rows,
        "columns": [{"header": "customer_id", "format": book.fmt("input", "0"), "header_format": head},
                    {"header": "type", "format": book.fmt("input"), "header_format": head}]})
    sh.ws.data_validation(first + 1, 1, last, 1, {"validate": "list", "source": list(TYPES),
                                                  "error_type": "warning"})
    sh.ws.freeze_panes(first + 1, 0)
    sh.print_setup(0, 0, last, 1, landscape=False, repeat=(first, first))


def _equity(book, sh, res):
    sh.widths([2, 36, 13, 15, 11, 13, 3, 12])
    sh.title(0, "Equity by type from the forecasts",
             "Each forecast customer's type comes from the Customers table (by customer_id); the forecast lifetime "
             "values (PV from purchases only) add up per type. Customers in the log but not in the table, or the "
             "other way round, are counted and left out.", 7)
    sh.ws.set_row(1, 32)
    r = 3
    sh.section(r, 1, "Matching the forecasts to the customer table", 5)
    counts = res["counts"]
    items = [("Forecast customers found in the table", '=SUM((ce_forecast_type<>"")*1)', counts["matched"]),
             ("Forecast customers not in the table (left out)", '=SUM((ce_forecast_type="")*1)', counts["log_only"]),
             ("Table customers without a forecast (left out)", '=ROWS(ce_in_customer_id)-SUM((ce_forecast_type<>"")*1)',
              counts["table_only"])]
    for i, (label, formula, value) in enumerate(items):
        sh.text(r + 1 + i, 1, label, "label")
        _formula(sh, r + 1 + i, 2, formula, value, "native", "#,##0")
    sh.text(r + 4, 1, "Of a type other than the four (left out)", "label")
    four = "+".join(f'SUMPRODUCT((ce_forecast_type="{t}")*1)' for t in TYPES)
    _formula(sh, r + 4, 2, f'=SUM((ce_forecast_type<>"")*1)-({four})', counts["other_type"], "native", "#,##0")
    r = 9
    sh.section(r, 1, "Equity by type", 5)
    rows = cells.table(res["equity_table"], "type", words_header=True)  # the layout of CE_EQUITY_TABLE
    head = r + 1
    sh.header(head, 1, rows[0])
    first, total = head + 1, head + 1 + len(TYPES)
    fmt = {2: "#,##0", 3: B.MONEY, 4: B.PCT, 5: B.MONEY2}
    for i, row in enumerate(rows[1:]):
        y = first + i
        sh.value(y, 1, row[0], "native", bold=True)
        label, customers, equity = B.cell(y, 1, False), B.cell(y, 2, False), B.cell(y, 3, False)
        if y < total:
            count_f = f"=SUMPRODUCT((ce_forecast_type={label})*1)"
            equity_f = f"=SUMPRODUCT((ce_forecast_type={label})*ce_ltv_forecast)"
        else:
            count_f = f"=SUM({B.area(first, 2, total - 1, 2)})"
            equity_f = f"=SUM({B.area(first, 3, total - 1, 3)})"
        _formula(sh, y, 2, count_f, row[1], "native", fmt[2])
        _formula(sh, y, 3, equity_f, row[2], "native", fmt[3])
        _formula(sh, y, 4, f'=IF({B.cell(total, 3)}=0,"",{equity}/{B.cell(total, 3)})', row[3], "native", fmt[4])
        _formula(sh, y, 5, f'=IF({customers}>0,{equity}/{customers},"")', row[4], "native", fmt[5])
    book.define("ce_equity_by_type", "=" + sh.ref(head, 1, total, 5))
    tot = total
    sh.text(tot + 1, 1, "Check: Σ forecast LTV of the customers in the table", "bold")
    check = float(np.sum(res["ltv"][res["types"] != ""]))
    _formula(sh, tot + 1, 3, "=SUMPRODUCT(COUNTIF(ce_in_customer_id,ce_customer)*ce_ltv_forecast)", check, "check", B.MONEY)
    total_ref = B.cell(total, 3)
    sh.cross_check(B.cell(tot + 1, 3), total_ref)
    # rounded: two orders of adding up differ by float noise, which would show as a red -0.00
    _formula(sh, tot + 1, 4, f"=ROUND({total_ref}-{B.cell(tot + 1, 3)},6)", round(res["equity"] - check, 6) + 0.0,
             "native", B.DIFF)
    _status(sh, tot + 1, 5, B.cell(tot + 1, 4), res["equity"] - check)
    sh.note(tot + 3, 1, "To add the other kinds of value of the typed model (word of mouth, information, "
            "knowledge, transaction value), use the measurement template, or the command line: "
            "customer-equity forecast LOG --customers TABLE.", 7, 30)
    sh.protect()
    sh.print_setup(0, 0, tot + 4, 7, landscape=False)


def _readme(book, sh, log, res):
    sh.widths([2, 22, 16, 16, 16, 16, 16, 16, 16])
    sh.title(0, "From transactions to customer equity",
             "A transaction log (customer, date, amount) becomes forecasts of each customer's purchases and spend "
             "(BG/NBD and Gamma-Gamma, the models of lifetimes, pymc-marketing and CLVTools), then forecast lifetime "
             "values and equity by customer type.", 8)
    sh.ws.set_row(1, 32)
    r = 3
    sh.section(r, 1, "Steps", 8)
    items = [
        ("Transactions", f"The log, as an Excel table: here the CDNOW sample ({len(log):,} transactions, "
                         f"{log['customer_id'].nunique():,} customers). Paste your own over it."),
        ("Fit", "Settings (unit, calibration end, holdout, horizon, margin, rate); the two models fitted by "
                "maximum likelihood (CE_BGNBD_FIT, CE_GAMMA_GAMMA_FIT); two charts: holdout by frequency, and "
                "expected purchases over time."),
        ("Summary", "CE_LOG_SUMMARY: frequency, recency, T and monetary value per customer."),
        ("Forecasts", "Per customer: P(alive), expected purchases, expected spend and forecast lifetime value, "
                      "with P(alive) and E[M] recomputed from their closed forms (green)."),
        ("EY check", "Expected purchases on a few customers from a 2F1 series written with Excel's functions."),
        ("Customers", "A GENERATED customer table with the sample's ids and a type each: replace it with yours."),
        ("Equity", "Equity by type: the forecast lifetime values joined to the customer table."),
    ]
    for i, (s, text) in enumerate(items):
        sh.text(r + 1 + i, 1, s, "bold")
        sh.merged(r + 1 + i, 2, r + 1 + i, 8, text, "text")
        sh.ws.set_row(r + 1 + i, 30)
    r = r + 2 + len(items)
    r = B.legend(sh, r, 1)
    sh.section(r, 1, "Conventions", 8)
    notes = [
        "Dates: date cells (Excel serial numbers), or text written YYYY-MM-DD; other text is refused, naming the "
        "row. A number 19970101 is read as a date written YYYYMMDD.",
        "Time is counted in days and expressed in the unit (week = 7 days, month = 365.25/12, year = 365.25). "
        "The horizon and the discount rate are per unit; the yearly rate is converted on the Fit sheet.",
        "The fits are computed once per recalculation: the CE_ fit tables spill once, and every prediction reads "
        "them by name (ce_bgnbd, ce_gamma_gamma). A params argument takes the fit's table as it spills.",
        B.WITHOUT_ADDIN,
        "Results match `customer-equity forecast LOG --unit week --calibration-end 1997-09-30 "
        "--observation-end 1998-06-30 --horizon 52 --margin 0.3` on the same log.",
    ]
    sh.paragraphs(r, notes, 30)
    sh.protect()
    sh.print_setup(0, 0, r + 1 + len(notes), 8, landscape=False, fit_tall=1)
