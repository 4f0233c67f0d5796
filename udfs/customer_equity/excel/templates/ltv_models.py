"""Template 2: the four lifetime-value formula families on worked examples, and a sensitivity grid.

Sheets: Read me, LTV models (a side-by-side summary, then one block per family with
its formula written out, inputs, the CE_ result and Excel's own calculation beside
it), Sensitivity (retention-based LTV over retention x discount rate, one spilled
CE_LTV_RETENTION formula with a colour scale, its closed form beside it), Retention
(a cohort's survivors to shifted-beta-geometric retention, its projection, and the
papers' retention LTV beside the value with the retention rising with tenure).
"""

from __future__ import annotations

import numpy as np

from ...model import ltv_contribution, ltv_indirect, ltv_retention, ltv_share_of_wallet
from ...model import forecast as fc
from . import _book as B

TEMPLATE_ID = "ltv-models/1"
FILENAME = "lifetime-value-models.xlsx"
S_README, S_MODELS, S_SENS, S_SBG = "Read me", "LTV models", "Sensitivity", "Retention"

PERIODS = 6
CONTRIB = {"rate": 0.10, "margins": [100.0, 120.0, 150.0, 150.0, 150.0, 150.0], "margin": 100.0, "periods": 5}
SOW = {"rate": 0.10, "capacity": [1000.0, 1050.0, 1100.0, 1150.0, 1200.0, 1250.0],
       "share": [0.40, 0.42, 0.44, 0.45, 0.45, 0.45], "margin": [0.25] * PERIODS}
INDIRECT = {"rate": 0.10, "market": [2000.0] * PERIODS, "share": [0.30] * PERIODS, "margin": [0.20] * PERIODS,
            "indirect": [1.0, 1.1, 1.2, 1.2, 1.2, 1.2]}
RETENTION = {"margin": 100.0, "retention": 0.80, "rate": 0.10, "periods": 10, "growth": 0.02, "cost": 50.0}
SENS = {"margin": 100.0, "periods": None,
        "retention": [0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95],
        "rates": [0.04, 0.06, 0.08, 0.10, 0.12, 0.14, 0.16, 0.18, 0.20]}
#: Fader & Hardie (2007), "regular" customers: survivors of 1,000 at the start of years 0-12;
#: the model is fitted on years 0-7 and projected to year 12.
SBG = {"survivors": [1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0],
       "later": [223.0, 207.0, 194.0, 183.0, 173.0], "margin": 100.0, "rate": 0.10, "horizon": 12}


def build(path):
    """Write the LTV-models workbook to ``path``; returns a :class:`~._book.Built`."""
    book = B.Book(path, "Lifetime value models", TEMPLATE_ID,
                  "The four lifetime value formula families and a retention x rate sensitivity grid")
    readme = book.sheet(S_README, "#1F4E79")
    models = book.sheet(S_MODELS, "#2E75B6")
    sens = book.sheet(S_SENS, "#2E75B6")
    sbg = book.sheet(S_SBG, "#2E75B6")
    results = _models(book, models)
    _sensitivity(book, sens)
    results["sbg"] = _retention(book, sbg)
    _readme(book, readme)
    readme.ws.activate()
    return book.close(results)


def _period_header(sh, row, label="Period t"):
    sh.text(row, 1, label, "subheader")
    for t in range(PERIODS):
        sh.text(row, 2 + t, f"{t + 1}", "subheader", align="center")


def _row_inputs(sh, row, label, values, name, nf):
    sh.text(row, 1, label, "label")
    for t, v in enumerate(values):
        sh.value(row, 2 + t, v, "input", nf)
    sh.name_range(name, row, 2, row, 1 + len(values))


def _result(sh, row, ce_label, ce_formula, ce_value, ce_name, chk_label, chk_formula, chk_name,
            chk_value=None, register=True):
    """LTV row: label | CE_ result | "check" | native result | status | what the check computes.

    ``chk_value`` is what the native formula gives (the core's value when omitted: the
    formulas-engine test checks that every cached value is what the formula computes).
    ``register=False`` for a check computed from other CE_ results (a spreadsheet without
    the add-in cannot recompute it from the inputs alone): it keeps its status cell.
    """
    chk_value = ce_value if chk_value is None else chk_value
    sh.text(row, 1, ce_label, "bold")
    sh.formula(row, 2, ce_formula, ce_value, "ce", B.MONEY2, bold=True)
    sh.name_range(ce_name, row, 2)
    sh.text(row, 3, "check", "note", align="right")
    sh.formula(row, 4, chk_formula, chk_value, "check", B.MONEY2)
    sh.name_range(chk_name, row, 4)
    sh.check_status(row, 5, f"{B.cell(row, 2)}-{B.cell(row, 4)}", B.largest_difference(ce_value, chk_value))
    sh.merged(row, 6, row, 10, "← Excel: " + chk_label, "note", text_wrap=False)
    if register:
        sh.cross_check(B.cell(row, 4), B.cell(row, 2))


def _block_title(sh, row, title, formula, note):
    sh.section(row, 1, title, 10)
    sh.merged(row + 1, 1, row + 1, 10, formula, "formula_text", font_size=11, bold=True)
    sh.ws.set_row(row + 1, 20)
    sh.merged(row + 2, 1, row + 2, 10, note, "note")
    sh.ws.set_row(row + 2, 30)


def _models(book, sh):
    sh.widths([2, 36, 11, 11, 11, 11, 11, 11, 11, 11, 11])
    sh.title(0, "Lifetime value: four formula families side by side",
             "Each block writes its formula out, takes yellow inputs, computes the lifetime value with the "
             "add-in's CE_ function (blue) and again with Excel's own functions (green). Rates and horizons "
             "are per period (years here); money in any one currency.", 10)
    values = {}
    # 1 contribution -----------------------------------------------------------------
    r = 12
    _block_title(sh, r, "1. Contribution LTV (Reichheld 1996)",
                 "LTV = Σ_t a_t × (1 + i)^-t,   t = 1 … T",
                 "a_t is the margin the customer contributes in period t, for the T periods it is retained. "
                 "End-of-period discounting, like Excel's NPV. With one margin a for T periods this is the "
                 "annuity a × (1 - (1+i)^-T) / i, Excel's PV.")
    sh.named_input(r + 3, "Discount rate i per period", CONTRIB["rate"], "ce_in_contrib_rate", B.RATE)
    _period_header(sh, r + 4)
    _row_inputs(sh, r + 5, "Margin a_t", CONTRIB["margins"], "ce_in_contrib_margins", B.MONEY)
    v1 = float(ltv_contribution(CONTRIB["rate"], CONTRIB["margins"]))
    _result(sh, r + 6, "LTV: CE_LTV(i, margins)", "=CE_LTV(ce_in_contrib_rate,ce_in_contrib_margins)", v1,
            "ce_contrib_ltv", "NPV(i, margins)", "=NPV(ce_in_contrib_rate,ce_in_contrib_margins)",
            "chk_contrib_ltv")
    sh.merged(r + 8, 1, r + 8, 7, "The same margin every period", "subheader")
    sh.named_input(r + 9, "Margin a per period", CONTRIB["margin"], "ce_in_contrib_margin", B.MONEY)
    sh.named_input(r + 10, "Periods T", CONTRIB["periods"], "ce_in_contrib_periods", B.INT)
    v1b = float(ltv_contribution(CONTRIB["rate"], [[CONTRIB["margin"]]], periods=CONTRIB["periods"])[0])
    _result(sh, r + 11, "LTV: CE_LTV(i, a, T)",
            "=CE_LTV(ce_in_contrib_rate,ce_in_contrib_margin,ce_in_contrib_periods)", v1b,
            "ce_contrib_annuity", "PV(i, T, -a), the annuity",
            "=PV(ce_in_contrib_rate,ce_in_contrib_periods,-ce_in_contrib_margin)", "chk_contrib_annuity")
    values["contribution"] = v1

    # 2 share of wallet ------------------------------------------------------------------
    r = 26
    _block_title(sh, r, "2. Share-of-wallet LTV (Griffin 1995)",
                 "LTV = Σ_t R_t × S_t × M_t × (1 + i)^-t",
                 "R_t is the customer's total spending in the category, S_t the firm's share of it (share of "
                 "wallet), M_t the margin per unit of revenue. Growing the share of wallet grows the value "
                 "without a single new customer.")
    sh.named_input(r + 3, "Discount rate i per period", SOW["rate"], "ce_in_sow_rate", B.RATE)
    _period_header(sh, r + 4)
    _row_inputs(sh, r + 5, "Spending capacity R_t", SOW["capacity"], "ce_in_sow_capacity", B.MONEY)
    _row_inputs(sh, r + 6, "Share of wallet S_t", SOW["share"], "ce_in_sow_share", B.PCT0)
    _row_inputs(sh, r + 7, "Unit margin M_t", SOW["margin"], "ce_in_sow_margin", B.PCT0)
    flows = np.multiply(np.multiply(SOW["capacity"], SOW["share"]), SOW["margin"])
    _native_row(sh, r + 8, "R × S × M (margin per period)",
                lambda t: f"=INDEX(ce_in_sow_capacity,{t})*INDEX(ce_in_sow_share,{t})*INDEX(ce_in_sow_margin,{t})",
                flows, B.MONEY2)
    dfs = [(1 + SOW["rate"]) ** -(t + 1) for t in range(PERIODS)]
    _native_row(sh, r + 9, "Discount factor (1+i)^-t", lambda t: f"=(1+ce_in_sow_rate)^-{t}", dfs, "0.0000")
    sh.name_range("chk_sow_factors", r + 9, 2, r + 9, 1 + PERIODS)
    v2 = float(ltv_share_of_wallet(SOW["rate"], SOW["capacity"], SOW["share"], SOW["margin"]))
    _result(sh, r + 10, "LTV: CE_LTV_SOW(i, R, S, M)",
            "=CE_LTV_SOW(ce_in_sow_rate,ce_in_sow_capacity,ce_in_sow_share,ce_in_sow_margin)", v2,
            "ce_sow_ltv", "SUMPRODUCT(R, S, M, discount factors)",
            "=SUMPRODUCT(ce_in_sow_capacity,ce_in_sow_share,ce_in_sow_margin,chk_sow_factors)", "chk_sow_ltv")
    values["share_of_wallet"] = v2

    # 3 indirect contribution ----------------------------------------------------------------
    r = 39
    _block_title(sh, r, "3. Indirect-contribution LTV (Hu Zuohao et al. 2001)",
                 "LTV = ∫_k ∫_n ∫_t P × S × M × A × (1 + i)^-t dt dn dk   →   Σ_t P_t × S_t × M_t × A_t × (1 + i)^-t",
                 "P is the single customer's market size, S the firm's share, M the unit margin, A the indirect "
                 "contribution as a multiplier: 1 = none, 1.2 = word of mouth adds 20 %. The paper's integral over "
                 "customers k, products n and time t is a sum: one row per customer-product line, then add rows.")
    sh.named_input(r + 3, "Discount rate i per period", INDIRECT["rate"], "ce_in_indirect_rate", B.RATE)
    _period_header(sh, r + 4)
    _row_inputs(sh, r + 5, "Market size P_t", INDIRECT["market"], "ce_in_indirect_market", B.MONEY)
    _row_inputs(sh, r + 6, "Share S_t", INDIRECT["share"], "ce_in_indirect_share", B.PCT0)
    _row_inputs(sh, r + 7, "Unit margin M_t", INDIRECT["margin"], "ce_in_indirect_margin", B.PCT0)
    _row_inputs(sh, r + 8, "Indirect contribution A_t (× )", INDIRECT["indirect"], "ce_in_indirect_factor",
                "0.00")
    dfs3 = [(1 + INDIRECT["rate"]) ** -(t + 1) for t in range(PERIODS)]
    _native_row(sh, r + 9, "Discount factor (1+i)^-t", lambda t: f"=(1+ce_in_indirect_rate)^-{t}", dfs3,
                "0.0000")
    sh.name_range("chk_indirect_factors", r + 9, 2, r + 9, 1 + PERIODS)
    v3 = float(ltv_indirect(INDIRECT["rate"], INDIRECT["market"], INDIRECT["share"], INDIRECT["margin"],
                            INDIRECT["indirect"]))
    _result(sh, r + 10, "LTV: CE_LTV_INDIRECT(i, P, S, M, A)",
            "=CE_LTV_INDIRECT(ce_in_indirect_rate,ce_in_indirect_market,ce_in_indirect_share,"
            "ce_in_indirect_margin,ce_in_indirect_factor)", v3, "ce_indirect_ltv",
            "SUMPRODUCT(P, S, M, A, discount factors)",
            "=SUMPRODUCT(ce_in_indirect_market,ce_in_indirect_share,ce_in_indirect_margin,"
            "ce_in_indirect_factor,chk_indirect_factors)", "chk_indirect_ltv")
    values["indirect"] = v3

    # 4 retention -------------------------------------------------------------------------
    r = 52
    _block_title(sh, r, "4. Retention-based LTV (Gupta & Lehmann 2003)",
                 "LTV = Σ_t m × r^t × (1 + i)^-t = m × r / (1 + i - r)   (infinite horizon)",
                 "m is the margin per period of a retained customer, r the retention rate per period: a "
                 "customer still there after t periods with probability r^t pays m at the end of the period. "
                 "Retention time is the strongest driver of customer equity (see the Sensitivity sheet).")
    R = RETENTION
    sh.named_input(r + 3, "Margin m per period", R["margin"], "ce_in_ret_margin", B.MONEY)
    sh.named_input(r + 4, "Retention rate r per period", R["retention"], "ce_in_ret_retention", B.PCT0)
    sh.text(r + 4, 3, "lifetime", "note", align="right")
    sh.formula(r + 4, 4, "=1/(1-ce_in_ret_retention)", 1 / (1 - R["retention"]), "native", "0.0")
    sh.merged(r + 4, 5, r + 4, 10, "periods on average: 1 / (1 - r)", "note", text_wrap=False)
    sh.named_input(r + 5, "Discount rate i per period", R["rate"], "ce_in_ret_rate", B.RATE)
    v4 = float(ltv_retention(R["margin"], R["retention"], R["rate"]))
    _result(sh, r + 6, "LTV: CE_LTV_RETENTION(m, r, i)",
            "=CE_LTV_RETENTION(ce_in_ret_margin,ce_in_ret_retention,ce_in_ret_rate)", v4, "ce_ret_ltv",
            "m × r / (1 + i - r)",
            "=ce_in_ret_margin*ce_in_ret_retention/(1+ce_in_ret_rate-ce_in_ret_retention)", "chk_ret_ltv")
    sh.merged(r + 8, 1, r + 8, 7, "Finite horizon, margin growth, acquisition cost", "subheader")
    sh.named_input(r + 9, "Horizon T (periods)", R["periods"], "ce_in_ret_periods", B.INT)
    sh.named_input(r + 10, "Margin growth g per period", R["growth"], "ce_in_ret_growth", B.PCT)
    sh.named_input(r + 11, "Acquisition cost (subtracted once)", R["cost"], "ce_in_ret_cost", B.MONEY)
    sh.merged(r + 12, 1, r + 12, 10, "LTV = m × r / (1 + i - r(1+g)) × [1 - (r(1+g) / (1+i))^T] - cost",
              "formula_text", bold=True)
    v4b = float(ltv_retention(R["margin"], R["retention"], R["rate"], R["periods"], "end", R["growth"],
                              R["cost"]))
    _result(sh, r + 13, "LTV: CE_LTV_RETENTION(…, T, \"end\", g, cost)",
            '=CE_LTV_RETENTION(ce_in_ret_margin,ce_in_ret_retention,ce_in_ret_rate,ce_in_ret_periods,"end",'
            'ce_in_ret_growth,ce_in_ret_cost)', v4b, "ce_ret_ltv_finite",
            "the closed form above",
            "=ce_in_ret_margin*ce_in_ret_retention/(1+ce_in_ret_rate-ce_in_ret_retention*(1+ce_in_ret_growth))"
            "*(1-(ce_in_ret_retention*(1+ce_in_ret_growth)/(1+ce_in_ret_rate))^ce_in_ret_periods)"
            "-ce_in_ret_cost", "chk_ret_ltv_finite")
    values["retention"] = v4
    values["retention_finite"] = v4b
    values["contribution_annuity"] = v1b

    # summary at the top --------------------------------------------------------------
    r = 3
    sh.section(r, 1, "Side by side", 10)
    sh.header(r + 1, 1, ["Family (source)", "LTV (CE_)", "Check", "Status", "", "", "What it needs", "", ""])
    sh.ws.merge_range(r + 1, 5, r + 1, 10, "What it needs", book.fmt("header"))
    rows = [
        ("Contribution (Reichheld 1996)", "ce_contrib_ltv", "chk_contrib_ltv", v1,
         "margin per period"),
        ("Share of wallet (Griffin 1995)", "ce_sow_ltv", "chk_sow_ltv", v2,
         "category spending, share of wallet, unit margin"),
        ("Indirect contribution (Hu Zuohao et al. 2001)", "ce_indirect_ltv", "chk_indirect_ltv", v3,
         "market size, share, margin, word-of-mouth multiplier"),
        ("Retention (Gupta & Lehmann 2003)", "ce_ret_ltv", "chk_ret_ltv", v4,
         "margin and retention rate: no horizon needed"),
    ]
    for i, (label, ce_name, chk_name, v, needs) in enumerate(rows):
        row = r + 2 + i
        sh.text(row, 1, label, "bold")
        sh.formula(row, 2, f"={ce_name}", v, "ce", B.MONEY2)
        sh.formula(row, 3, f"={chk_name}", v, "check", B.MONEY2)
        sh.check_status(row, 4, f"{B.cell(row, 2)}-{B.cell(row, 3)}", 0.0)  # one value, shown twice
        sh.merged(row, 5, row, 10, needs, "text")
    sh.note(r + 6, 1, "The examples are not the same customer: each family answers with the data it needs. "
            "Change any yellow cell; blue and green must stay equal.", 10, 30)

    sh.protect()
    sh.print_setup(0, 0, 66, 10, landscape=False)
    return values


def _native_row(sh, row, label, formula_of_t, values, nf):
    sh.text(row, 1, label, "label")
    for t, v in enumerate(values):
        sh.formula(row, 2 + t, formula_of_t(t + 1), float(v), "native", nf)


def _sensitivity(book, sh):
    S = SENS
    nr, nc = len(S["rates"]), len(S["retention"])
    sh.widths([2, 24] + [9] * nc + [3, 9])
    sh.title(0, "Sensitivity: retention-based LTV by retention rate and discount rate",
             "One CE_LTV_RETENTION formula fills the whole grid (a row of retention rates against a column of "
             "discount rates). Green is high, red low: move right (keep customers longer) or up (cheaper "
             "money) and the value of a customer rises, steeply as retention approaches 100 %.", nc + 1)
    sh.ws.set_row(1, 30)
    sh.named_input(3, "Margin m per period", S["margin"], "ce_in_sens_margin", B.MONEY)
    sh.named_input(4, "Horizon T (blank = infinite)", S["periods"], "ce_in_sens_periods", B.INT)
    top = 7
    sh.section(top - 1, 1, "Lifetime value of one customer (CE_LTV_RETENTION)", nc + 1)
    sh.text(top, 1, "Discount rate ↓   Retention →", "subheader", align="right")
    for j, v in enumerate(S["retention"]):
        sh.value(top, 2 + j, v, "input", B.PCT0, bold=True, align="center")
    sh.name_range("ce_in_sens_retention", top, 2, top, 1 + nc)
    for i, v in enumerate(S["rates"]):
        sh.value(top + 1 + i, 1, v, "input", B.PCT0, bold=True, align="right")
    sh.name_range("ce_in_sens_rates", top + 1, 1, top + nr, 1)
    grid = ltv_retention(S["margin"], np.array([S["retention"]]), np.array([S["rates"]]).T,
                         None if S["periods"] is None else S["periods"])
    # blank horizon = infinite: passed as "" (omitted in both runtimes), never as a blank cell,
    # which Excel for Mac and the web would hand over as 0
    sh.spill(top + 1, 2, "=CE_LTV_RETENTION(ce_in_sens_margin,ce_in_sens_retention,ce_in_sens_rates,"
                         'IF(ce_in_sens_periods="","",ce_in_sens_periods))', grid.tolist(), "ce", B.MONEY)
    sh.name_range("ce_sens_grid", top + 1, 2, top + nr, 1 + nc)
    sh.ws.conditional_format(top + 1, 2, top + nr, 1 + nc, {
        "type": "3_color_scale", "min_color": "#F8696B", "mid_color": "#FFEB84", "max_color": "#63BE7B"})
    sh.ws.set_row(top, 18)
    sh.note(top + nr + 1, 1, "Read a row: at 10 % a year, raising retention from 80 % to 90 % raises the value "
            "of a customer by about 70 % (infinite horizon: m r / (1 + i - r)). Read a column: the discount rate "
            "moves it far less.", nc + 1, 30)

    chk = top + nr + 4
    sh.section(chk - 1, 1, "Check: the closed form with Excel's own arithmetic", nc + 1)
    sh.text(chk, 1, "Discount rate ↓   Retention →", "subheader", align="right")
    for j, v in enumerate(S["retention"]):
        sh.formula(chk, 2 + j, f"=INDEX(ce_in_sens_retention,{j + 1})", v, "native", B.PCT0, align="center")
    for i, v in enumerate(S["rates"]):
        sh.formula(chk + 1 + i, 1, f"=INDEX(ce_in_sens_rates,{i + 1})", v, "native", B.PCT0, align="right")
    m_, r_, i_ = S["margin"], np.array([S["retention"]]), np.array([S["rates"]]).T
    closed = m_ * r_ / (1 + i_ - r_) if S["periods"] is None else \
        m_ * r_ / (1 + i_ - r_) * (1 - (r_ / (1 + i_)) ** S["periods"])
    formula = ('=IF(ce_in_sens_periods="",ce_in_sens_margin*ce_in_sens_retention/(1+ce_in_sens_rates-'
               'ce_in_sens_retention),ce_in_sens_margin*ce_in_sens_retention/(1+ce_in_sens_rates-'
               'ce_in_sens_retention)*(1-(ce_in_sens_retention/(1+ce_in_sens_rates))^ce_in_sens_periods))')
    sh.spill(chk + 1, 2, formula, closed.tolist(), "check", B.MONEY)
    sh.cross_check(B.area(chk + 1, 2, chk + nr, 1 + nc), B.area(top + 1, 2, top + nr, 1 + nc))
    sh.text(chk + nr + 1, 1, "Largest |difference|", "bold")
    worst = B.largest_difference(grid, closed)
    sh.formula(chk + nr + 1, 2, "=MAX(ABS(ce_sens_grid-" + B.area(chk + 1, 2, chk + nr, 1 + nc) + "))", worst,
               "native", B.DIFF)
    sh.check_status(chk + nr + 1, 3, B.cell(chk + nr + 1, 2), worst)

    chart = book.wb.add_chart({"type": "line"})
    colors = ["#63BE7B", "#2E75B6", "#F8696B"]
    for k, i in enumerate((1, 3, 6)):  # 6 %, 10 %, 16 %
        row = top + 1 + i
        chart.add_series({
            "name": "=" + B.sheet_ref(sh.name, B.cell(row, 1)),
            "categories": "=" + B.sheet_ref(sh.name, B.area(top, 2, top, 1 + nc)),
            "values": "=" + B.sheet_ref(sh.name, B.area(row, 2, row, 1 + nc)),
            "line": {"color": colors[k], "width": 2.25}, "marker": {"type": "circle", "size": 5,
                                                                    "fill": {"color": colors[k]},
                                                                    "border": {"color": colors[k]}},
        })
    chart.set_title({"name": "LTV of one customer by retention rate, at three discount rates",
                     "name_font": {"size": 10}})
    chart.set_x_axis({"name": "Retention rate per period", "num_format": "0%"})
    chart.set_y_axis({"name": "Lifetime value", "num_format": "#,##0",
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"position": "top"})
    chart.set_size({"width": 760, "height": 300})
    sh.ws.insert_chart(B.cell(chk + nr + 3, 1, False, False), chart)
    sh.protect()
    sh.print_setup(0, 0, chk + nr + 24, 1 + nc)


def _readme(book, sh):
    sh.widths([2, 22, 16, 16, 16, 16, 16, 16, 16])
    sh.title(0, "Lifetime value models",
             "A customer's lifetime value (LTV) is the discounted value of what the customer brings the firm over "
             "the relationship. Customer equity adds it up over all customers. Four formula families answer with "
             "different data; this workbook computes each on a worked example.", 8)
    sh.ws.set_row(1, 32)
    r = 3
    sh.section(r, 1, "Sheets", 8)
    items = [
        ("LTV models", "The four families side by side, then one block each: the formula, the inputs, the "
                       "CE_ result and Excel's own calculation (NPV, PV, SUMPRODUCT, the closed form)."),
        ("Sensitivity", "Retention-based LTV over retention rate × discount rate, one spilled formula with a "
                        "colour scale; the same grid from the closed form as a check, and a chart."),
        ("Retention", "From a cohort's survivors to its retention (shifted-beta-geometric, CE_SBG_FIT), the "
                      "projection to year 12 against what happened, and the papers' retention LTV beside the "
                      "value with retention rising with tenure (CE_SBG_LTV)."),
    ]
    for i, (s, text) in enumerate(items):
        sh.text(r + 1 + i, 1, s, "bold")
        sh.merged(r + 1 + i, 2, r + 1 + i, 8, text, "text")
        sh.ws.set_row(r + 1 + i, 30)
    r = r + 5
    r = B.legend(sh, r, 1)
    sh.section(r, 1, "Conventions", 8)
    notes = [
        "Rates and horizons are per period. For monthly data use the monthly rate: =CE_RATE(yearly, 12).",
        "End-of-period discounting, like Excel's NPV: the first period's margin is discounted once.",
        B.WITHOUT_ADDIN,
        "Formulas use names (Formulas > Name Manager): ce_in_... are the inputs, ce_... the CE_ results, "
        "chk_... Excel's own checks.",
    ]
    sh.paragraphs(r, notes, 30)
    sh.protect()
    sh.print_setup(0, 0, r + 1 + len(notes), 8, landscape=False, fit_tall=1)


def _retention(book, sh):
    """Survivors -> CE_SBG_FIT -> CE_SBG_RETENTION -> projection -> CE_LTV_RETENTION and CE_SBG_LTV."""
    S = SBG
    n_fit, n_all = len(S["survivors"]), len(S["survivors"]) + len(S["later"])
    H = S["horizon"]
    fit = fc.fit_sbg(S["survivors"])
    alpha, beta = fit.values
    rates = fc.sbg_retention(fit, H)
    survival = fc.sbg_survival(fit, H)
    m, i = S["margin"], S["rate"]
    sh.widths([2, 44] + [9] * (H + 1))
    last = 1 + H + 1
    sh.title(0, "Retention from a cohort: survivors → shifted-beta-geometric retention → lifetime value",
             "Fader & Hardie (2007): customers differ in their chance of leaving, so the likeliest leave first and "
             "a cohort's retention rises with tenure. The model is fitted on years 0-7 (yellow) and projected to "
             "year 12, against what happened (the second row). Blue: the add-in's CE_ functions; green: "
             "Excel's own.", last)
    sh.ws.set_row(1, 44)

    r = 3
    sh.section(r, 1, "1. A cohort's survivors: customers still active at the start of each year", last)
    sh.text(r + 1, 1, "Year t", "subheader")
    for t in range(n_all):
        sh.text(r + 1, 2 + t, f"{t}", "subheader", align="center")
    _row_inputs(sh, r + 2, "Still active (fitted)", S["survivors"], "ce_in_sbg_survivors", B.INT)
    sh.text(r + 3, 1, "What happened next (not fitted)", "label")
    for k, v in enumerate(S["later"]):
        sh.value(r + 3, 2 + n_fit + k, v, "input", B.INT)
    sh.name_range("ce_in_sbg_later", r + 3, 2 + n_fit, r + 3, 1 + n_all)

    r = 9
    sh.section(r, 1, "2. The fit (CE_SBG_FIT): θ, the chance of leaving each year, ~ Beta(alpha, beta)", last)
    table = [["parameter", "estimate", "standard error"]]
    table += [[k, fit.params[k], fit.standard_errors[k]] for k in ("alpha", "beta")]
    table += [["log-likelihood", fit.log_likelihood, ""], ["customers", float(fit.customers), ""],
              ["cohorts", 1.0, ""]]
    sh.spill(r + 1, 1, "=CE_SBG_FIT(ce_in_sbg_survivors)", table, "ce", [None, "0.0000", "0.0000"],
             header={}, label_col=True)
    for k, nf in ((3, B.MONEY2), (4, B.INT), (5, B.INT)):  # the fit's rows below the parameters
        sh._value_fmt(r + 1 + k, 2, table[k][1], book.fmt("ce", nf))
    sh.ws.set_row(r + 1, 30)
    sh.name_range("ce_sbg_params", r + 1, 1, r + len(table), 3)
    sh.name_range("ce_sbg_alpha", r + 2, 2)
    sh.name_range("ce_sbg_beta", r + 3, 2)
    sh.merged(r + 2, 4, r + 3, last, "Fader & Hardie (2007) report alpha = 0.704, beta = 1.182 for these "
              "customers. The mean chance of leaving is alpha / (alpha + beta); a small alpha + beta means "
              "customers differ a lot.", "note")

    r = 17
    sh.section(r, 1, "3. Retention per year, rising with tenure (CE_SBG_RETENTION)", last)
    sh.text(r + 1, 1, "Year t", "subheader")
    for t in range(H):
        sh.text(r + 1, 2 + t, f"{t + 1}", "subheader", align="center")
    sh.text(r + 2, 1, "r_t: CE_SBG_RETENTION(fit, 12)", "bold")
    sh.spill(r + 2, 2, f"=CE_SBG_RETENTION(ce_sbg_params,{H})", [rates.tolist()], "ce", B.PCT)
    sh.name_range("ce_sbg_rates", r + 2, 2, r + 2, 1 + H)
    check = [(beta + t) / (alpha + beta + t) for t in range(H)]
    _native_row(sh, r + 3, "check: (beta + t - 1) / (alpha + beta + t - 1)",
                lambda t: f"=(ce_sbg_beta+{t}-1)/(ce_sbg_alpha+ce_sbg_beta+{t}-1)", check, B.PCT)
    sh.name_range("chk_sbg_retention", r + 3, 2, r + 3, 1 + H)
    worst = B.largest_difference(rates, check)
    sh.text(r + 4, 1, "Largest |difference|", "bold")
    sh.formula(r + 4, 2, "=MAX(ABS(ce_sbg_rates-chk_sbg_retention))", worst, "native", B.DIFF)
    sh.check_status(r + 4, 3, B.cell(r + 4, 2), worst)

    r = 23
    sh.section(r, 1, "4. Projected survivors: cohort size × CE_SBG_SURVIVAL, against what happened", last)
    sh.text(r + 1, 1, "Year t", "subheader")
    for t in range(H + 1):
        sh.text(r + 1, 2 + t, f"{t}", "subheader", align="center")
    projected = S["survivors"][0] * survival
    sh.text(r + 2, 1, "Projected: size × CE_SBG_SURVIVAL(fit, 12)", "bold")
    sh.spill(r + 2, 2, f"=INDEX(ce_in_sbg_survivors,1)*CE_SBG_SURVIVAL(ce_sbg_params,{H})", [projected.tolist()],
             "ce", B.MONEY)
    sh.name_range("ce_sbg_projected", r + 2, 2, r + 2, 2 + H)
    actual = S["survivors"] + S["later"]
    sh.text(r + 3, 1, "Actual", "label")
    for t, v in enumerate(actual):
        ref = (f"=INDEX(ce_in_sbg_survivors,{t + 1})" if t < n_fit
               else f"=INDEX(ce_in_sbg_later,{t + 1 - n_fit})")
        sh.formula(r + 3, 2 + t, ref, v, "native", B.INT)
    sh.text(r + 4, 1, "Projected / actual - 1", "label")
    for t, v in enumerate(actual):
        sh.formula(r + 4, 2 + t, f"={B.cell(r + 2, 2 + t)}/{B.cell(r + 3, 2 + t)}-1",
                   projected[t] / v - 1, "native", B.PCT)
    err = max(abs(projected[t] / actual[t] - 1) for t in range(n_fit, n_all))
    sh.merged(r + 5, 1, r + 5, last, f"Five years past the data the projection is within {err:.1%} of what "
              "happened; a constant retention rate fitted to the same years drifts further every year.", "note")

    r = 30
    sh.section(r, 1, "5. Lifetime value: the papers' constant retention against retention rising with tenure",
               last)
    sh.named_input(r + 1, "Margin m per year of an active customer", m, "ce_in_sbg_margin", B.MONEY)
    sh.named_input(r + 2, "Discount rate i per year", i, "ce_in_sbg_rate", B.RATE)
    constant = float(ltv_retention(m, rates[0], i))
    _result(sh, r + 4, "Papers' LTV: CE_LTV_RETENTION(m, r_1, i)",
            "=CE_LTV_RETENTION(ce_in_sbg_margin,INDEX(ce_sbg_rates,1),ce_in_sbg_rate)", constant,
            "ce_sbg_constant_ltv", "m × r_1 / (1 + i - r_1)",
            "=ce_in_sbg_margin*INDEX(ce_sbg_rates,1)/(1+ce_in_sbg_rate-INDEX(ce_sbg_rates,1))",
            "chk_sbg_constant_ltv", register=False)
    finite = float(fc.sbg_ltv(fit, m, i, periods=H))
    factors = [(1 + i) ** -(t + 1) for t in range(H)]
    _result(sh, r + 5, f"sBG, {H} years: CE_SBG_LTV(fit, m, i, {H})",
            f"=CE_SBG_LTV(ce_sbg_params,ce_in_sbg_margin,ce_in_sbg_rate,{H})", finite, "ce_sbg_ltv_finite",
            "m × Σ S(t) (1+i)^-t over the projected survivors",
            f"=ce_in_sbg_margin*SUMPRODUCT({B.area(r - 5, 3, r - 5, 2 + H)}/INDEX(ce_sbg_projected,1),"
            "1/(1+ce_in_sbg_rate)^{" + ",".join(str(t) for t in range(1, H + 1)) + "})",
            "chk_sbg_ltv_finite", chk_value=float(m * np.dot(survival[1:], factors)), register=False)
    infinite = float(fc.sbg_ltv(fit, m, i))
    derl = float(fc.sbg_derl(fit, i))
    _result(sh, r + 6, "sBG, no end: CE_SBG_LTV(fit, m, i)",
            "=CE_SBG_LTV(ce_sbg_params,ce_in_sbg_margin,ce_in_sbg_rate)", infinite, "ce_sbg_ltv_forever",
            "m × DERL / (1 + i), Fader & Hardie (2010)",
            "=ce_in_sbg_margin*CE_SBG_DERL(ce_sbg_params,ce_in_sbg_rate)/(1+ce_in_sbg_rate)", "chk_sbg_ltv_forever",
            chk_value=m * derl / (1 + i), register=False)
    sh.text(r + 8, 1, "CE_LTV_RETENTION at each year's rate", "bold")
    each = ltv_retention(m, np.array([rates]), i)
    sh.spill(r + 8, 2, "=CE_LTV_RETENTION(ce_in_sbg_margin,ce_sbg_rates,ce_in_sbg_rate)", each.tolist(),
             "ce", B.MONEY)
    sh.note(r + 9, 1, f"At year 1's retention ({rates[0]:.1%}) the papers' formula values a new customer at "
            f"{constant:,.0f}; with retention rising as the cohort ages the same customer is worth "
            f"{infinite:,.0f}. The row above is the papers' value of a customer retained at each year's "
            "rate for ever: a customer who has stayed is worth more (Fader & Hardie 2010, \"the perils of "
            "ignoring heterogeneity\").", last, 44)
    sh.protect()
    sh.print_setup(0, 0, r + 10, last)
    return {"alpha": alpha, "beta": beta, "retention": rates.tolist(), "projected": projected.tolist(),
            "constant_ltv": constant, "ltv_finite": finite, "ltv": infinite}
