"""Template 3: what-if, how customer equity moves with retention, the discount rate and the type mix.

One meeting sheet. The baseline is equity by customer type from a measurement (the
bundled sample measured as in the measurement template). Each type is then described
by the retention model (Gupta & Lehmann): a retention rate per period ``r`` (from the
average retention time ``T``: ``r = 1 - 1/T``) and the margin per period that makes
``customers x (CE_LTV_RETENTION(margin, r, i) + Iv)`` reproduce the measured equity
exactly. The levers change ``r``, ``i`` and the number of customers of each type.
"""

from __future__ import annotations

import numpy as np

from ..model import TYPES, load_sample, ltv_retention, measure, sample_config
from . import _book as B

TEMPLATE_ID = "what-if/1"
FILENAME = "customer-equity-what-if.xlsx"
S_WHATIF = "What-if"
S_README = "Read me"

DELTA = [0.05, 0.05, 0.05, 0.05]  # retention change per type in the default scenario
NEW_RATE = 0.12  # discount rate of the default scenario
MIX = [0.12, 0.30, 0.36, 0.22]  # customer mix of the default scenario
SENS_DELTA = [-0.05, -0.025, 0.0, 0.025, 0.05, 0.075, 0.10]
SENS_RATES = [0.06, 0.08, 0.10, 0.12, 0.14]


def baseline():
    """Customers, equity and retention rate per type of the bundled sample, and its rate and Iv.

    Equity and customers per type come from :func:`customer_equity.measure` on
    :func:`customer_equity.load_sample` with :func:`customer_equity.sample_config`; the
    retention rate per period of a type is ``1 - 1 / (average retention time)``.
    """
    customers = load_sample()
    config = sample_config()
    m = measure(customers, config)
    types = m.customers["type"].astype(str).to_numpy()
    periods = customers["periods"].to_numpy(dtype=float)
    retention = [round(float(1.0 - 1.0 / periods[types == t].mean()), 4) for t in TYPES]
    return {
        "customers": [int(x) for x in m.counts],
        "equity": [float(x) for x in m.by_type["equity"].iloc[:4]],
        "retention": retention,
        "rate": config.rate,
        "iv": config.iv,
    }


def model(base, delta, new_rate, mix, total):
    """Everything the sheet computes, with the core's ltv_retention (the cached values)."""
    n = np.asarray(base["customers"], dtype=float)
    eq = np.asarray(base["equity"], dtype=float)
    r = np.asarray(base["retention"], dtype=float)
    i, iv = base["rate"], base["iv"]
    value = eq / n
    margin = (value - iv) * (1 + i - r) / r
    n2 = total * np.asarray(mix, dtype=float)
    r2 = r + np.asarray(delta, dtype=float)

    def ltv(rr, ii):
        return np.asarray(ltv_retention(margin, rr, ii), dtype=float) + iv

    out = {
        "value": value, "margin": margin, "lifetime": 1 / (1 - r), "rebuilt": n * ltv(r, i),
        "new_customers": n2, "new_retention": r2, "new_value": ltv(r2, new_rate),
        "new_value_closed": margin * r2 / (1 + new_rate - r2) + iv,  # the sheet's native check
        "new_equity": n2 * ltv(r2, new_rate),
        "levers": {
            "baseline": float(eq.sum()),
            "retention": float(np.sum(n * ltv(r2, i))),
            "rate": float(np.sum(n * ltv(r, new_rate))),
            "mix": float(np.sum(n2 * ltv(r, i))),
            "all": float(np.sum(n2 * ltv(r2, new_rate))),
        },
        "grid": [[float(np.sum(n * ltv(r + d, rate))) for rate in SENS_RATES] for d in SENS_DELTA],
    }
    return out


def build(path):
    """Write the what-if workbook to ``path``; returns a :class:`~._book.Built`."""
    base = baseline()
    total = sum(base["customers"])
    res = model(base, DELTA, NEW_RATE, MIX, total)
    book = B.Book(path, "Customer equity what-if", TEMPLATE_ID,
                  "How customer equity moves with retention, the discount rate and the type mix")
    readme = book.sheet(S_README, "#1F4E79")
    sh = book.sheet(S_WHATIF, "#2E75B6")
    _what_if(book, sh, base, total, res)
    _readme(book, readme)
    sh.ws.activate()
    return book.close(res)


def _what_if(book, sh, base, total, res):
    sh.widths([2, 26, 12, 13, 12, 12, 13, 14, 13, 8, 3] + [10] * 10)
    sh.title(0, "What moves customer equity: retention, the discount rate, the type mix",
             "Start from the measured equity by customer type, pull the yellow levers, and read what each is "
             "worth. Each type follows the retention model: LTV = m × r / (1 + i - r) + Iv (CE_LTV_RETENTION). "
             "Money in the currency of the measurement.", 18)
    sh.ws.set_row(1, 30)

    # baseline -----------------------------------------------------------------------------
    r = 3
    sh.section(r, 1, "1. Baseline: the measured customer base", 9)
    sh.text(r + 1, 1, "Discount rate per period", "label")
    sh.value(r + 1, 2, base["rate"], "input", B.RATE)
    sh.name_range("ce_in_wi_rate", r + 1, 2)
    sh.text(r + 2, 1, "Profile information value Iv", "label")
    sh.value(r + 2, 2, base["iv"], "input", B.MONEY)
    sh.name_range("ce_in_wi_iv", r + 2, 2)
    sh.merged(r + 1, 3, r + 2, 9, "Customers and equity per type: Step 3 of the measurement workbook (here "
              "the 1,000 sample customers). Retention per period from the average retention time T: "
              "r = 1 - 1/T.", "note")
    h = r + 4
    sh.header(h, 1, ["Customer type", "Customers", "Equity", "Retention per period", "Value per customer",
                     "Implied margin per period", "Average lifetime (periods)", "Rebuilt equity (CE_)",
                     "Status"])
    sh.ws.set_row(h, 32)
    for i, t in enumerate(TYPES):
        row = h + 1 + i
        sh.value(row, 1, t, "native", bold=True)
        sh.value(row, 2, base["customers"][i], "input", "#,##0")
        sh.value(row, 3, base["equity"][i], "input", B.MONEY)
        sh.value(row, 4, base["retention"][i], "input", B.PCT)
    first, last = h + 1, h + 4
    sh.name_range("ce_in_wi_customers", first, 2, last, 2)
    sh.name_range("ce_in_wi_equity", first, 3, last, 3)
    sh.name_range("ce_in_wi_retention", first, 4, last, 4)
    for i in range(4):
        row = first + i
        sh.formula(row, 5, f"={B.cell(row, 3, False)}/{B.cell(row, 2, False)}", res["value"][i], "native",
                   B.MONEY)
        sh.formula(row, 6, f"=({B.cell(row, 5, False)}-ce_in_wi_iv)*(1+ce_in_wi_rate-{B.cell(row, 4, False)})"
                           f"/{B.cell(row, 4, False)}", res["margin"][i], "native", B.MONEY2)
        sh.formula(row, 7, f"=1/(1-{B.cell(row, 4, False)})", res["lifetime"][i], "native", "0.0")
        sh.check_status(row, 9, f"{B.cell(row, 8, False)}-{B.cell(row, 3, False)}",
                        float(res["rebuilt"][i]) - float(base["equity"][i]))
    sh.name_range("ce_wi_margin", first, 6, last, 6)
    sh.spill(first, 8, "=ce_in_wi_customers*(CE_LTV_RETENTION(ce_wi_margin,ce_in_wi_retention,ce_in_wi_rate)"
                       "+ce_in_wi_iv)", [[v] for v in res["rebuilt"]], "ce", B.MONEY)
    sh.cross_check(B.area(first, 3, last, 3), B.area(first, 8, last, 8))
    sh.text(last + 1, 1, "Total", "bold")
    sh.formula(last + 1, 2, "=SUM(ce_in_wi_customers)", total, "native", "#,##0", bold=True)
    sh.formula(last + 1, 3, "=SUM(ce_in_wi_equity)", res["levers"]["baseline"], "native", B.MONEY, bold=True)
    sh.formula(last + 1, 8, f"=SUM({B.area(first, 8, last, 8)})", float(np.sum(res["rebuilt"])), "ce", B.MONEY,
               bold=True)

    # scenario ----------------------------------------------------------------------------
    r = last + 3
    sh.section(r, 1, "2. Scenario: pull the levers", 9)
    sh.text(r + 1, 1, "Discount rate in the scenario", "label")
    sh.value(r + 1, 2, NEW_RATE, "input", B.RATE)
    sh.name_range("ce_in_wi_new_rate", r + 1, 2)
    sh.text(r + 2, 1, "Customers in total", "label")
    sh.value(r + 2, 2, total, "input", "#,##0")
    sh.name_range("ce_in_wi_total", r + 2, 2)
    sh.merged(r + 1, 3, r + 2, 9, "Retention change in percentage points (0.05 = +5 pp: 80 % becomes 85 %). "
              "Customer mix: the share of each type among the customers; it must add up to 100 %.", "note")
    h = r + 4
    sh.header(h, 1, ["Customer type", "Retention change", "Customer mix", "Customers", "Retention per period",
                     "Value per customer (CE_)", "Equity", "Value per customer (check)", "Status"])
    sh.ws.set_row(h, 32)
    sfirst, slast = h + 1, h + 4
    closed_value = res["new_value_closed"]
    for i, t in enumerate(TYPES):
        row = sfirst + i
        sh.value(row, 1, t, "native", bold=True)
        sh.value(row, 2, DELTA[i], "input", "+0.0%;-0.0%;0.0%")
        sh.value(row, 3, MIX[i], "input", B.PCT)
        sh.formula(row, 4, f"=ce_in_wi_total*{B.cell(row, 3, False)}", res["new_customers"][i], "native", "#,##0")
        sh.formula(row, 5, f"=INDEX(ce_in_wi_retention,{i + 1})+{B.cell(row, 2, False)}",
                   res["new_retention"][i], "native", B.PCT)
        sh.formula(row, 7, f"={B.cell(row, 4, False)}*{B.cell(row, 6, False)}", res["new_equity"][i], "native",
                   B.MONEY)
        sh.check_status(row, 9, f"{B.cell(row, 6, False)}-{B.cell(row, 8, False)}",
                        float(res["new_value"][i]) - float(closed_value[i]))
    sh.name_range("ce_in_wi_delta", sfirst, 2, slast, 2)
    sh.name_range("ce_in_wi_mix", sfirst, 3, slast, 3)
    sh.name_range("ce_wi_new_customers", sfirst, 4, slast, 4)
    sh.name_range("ce_wi_new_retention", sfirst, 5, slast, 5)
    sh.spill(sfirst, 6, "=CE_LTV_RETENTION(ce_wi_margin,ce_wi_new_retention,ce_in_wi_new_rate)+ce_in_wi_iv",
             [[v] for v in res["new_value"]], "ce", B.MONEY)
    sh.name_range("ce_wi_new_equity", sfirst, 7, slast, 7)
    sh.spill(sfirst, 8, "=ce_wi_margin*ce_wi_new_retention/(1+ce_in_wi_new_rate-ce_wi_new_retention)+ce_in_wi_iv",
             [[v] for v in closed_value], "check", B.MONEY)
    sh.cross_check(B.area(sfirst, 8, slast, 8), B.area(sfirst, 6, slast, 6))
    sh.text(slast + 1, 1, "Total", "bold")
    sh.formula(slast + 1, 3, "=SUM(ce_in_wi_mix)", float(sum(MIX)), "native", B.PCT, bold=True)
    sh.formula(slast + 1, 4, "=SUM(ce_wi_new_customers)", float(total), "native", "#,##0", bold=True)
    sh.formula(slast + 1, 7, "=SUM(ce_wi_new_equity)", float(np.sum(res["new_equity"])), "native", B.MONEY,
               bold=True)
    sh.formula(slast + 1, 8, '=IF(ABS(SUM(ce_in_wi_mix)-1)>0.0001,"The mix must add up to 100 %","")', "",
               "label", font_color="#C00000", bold=True)

    # levers ------------------------------------------------------------------------------
    r = slast + 3
    sh.section(r, 1, "3. What each lever is worth (one at a time, then all together)", 9)
    h = r + 1
    sh.header(h, 1, ["Lever", "Customer equity", "Change", "Change %", "Check (closed form)", "Status"])
    sh.ws.set_row(h, 30)
    L = res["levers"]
    base_eq = L["baseline"]
    ltv = "CE_LTV_RETENTION(ce_wi_margin,{r},{i})+ce_in_wi_iv"
    closed = "ce_wi_margin*{r}/(1+{i}-{r})+ce_in_wi_iv"
    levers = [
        ("Baseline", None, "ce_in_wi_customers", "ce_in_wi_retention", "ce_in_wi_rate", L["baseline"]),
        ("Retention only", "retention", "ce_in_wi_customers", "ce_wi_new_retention", "ce_in_wi_rate",
         L["retention"]),
        ("Discount rate only", "rate", "ce_in_wi_customers", "ce_in_wi_retention", "ce_in_wi_new_rate", L["rate"]),
        ("Type mix only", "mix", "ce_wi_new_customers", "ce_in_wi_retention", "ce_in_wi_rate", L["mix"]),
        ("All levers together", "all", "ce_wi_new_customers", "ce_wi_new_retention", "ce_in_wi_new_rate",
         L["all"]),
    ]
    for k, (label, key, n, rr, ii, v) in enumerate(levers):
        row = h + 1 + k
        sh.value(row, 1, label, "native", bold=True)
        if key is None:
            sh.formula(row, 2, "=SUM(ce_in_wi_equity)", v, "native", B.MONEY)
        else:
            sh.formula(row, 2, f"=SUMPRODUCT({n},{ltv.format(r=rr, i=ii)})", v, "ce", B.MONEY)
        change = round(v - base_eq, 2)
        sh.formula(row, 3, f"=ROUND({B.cell(row, 2, False)}-{B.cell(h + 1, 2)},2)", change, "native",
                   "+#,##0;[Red]-#,##0;0")
        sh.formula(row, 4, f"={B.cell(row, 3, False)}/{B.cell(h + 1, 2)}", change / base_eq, "native",
                   "+0.0%;[Red]-0.0%;0.0%")
        sh.formula(row, 5, f"=SUMPRODUCT({n},{closed.format(r=rr, i=ii)})", v, "check", B.MONEY)
        sh.check_status(row, 6, f"{B.cell(row, 2, False)}-{B.cell(row, 5, False)}", 0.0)  # v both sides
    sh.cross_check(B.area(h + 2, 5, h + 5, 5), B.area(h + 2, 2, h + 5, 2))
    sh.name_range("ce_wi_levers", h + 1, 2, h + 5, 2)
    lever_rows = (h + 2, h + 5)
    sh.note(h + 7, 1, "One at a time: only that lever moves, the others stay at the baseline. Together the "
            "levers compound, so the total is not the sum of the parts.", 9, 30)

    # sensitivity ---------------------------------------------------------------------------
    r = h + 9
    sh.section(r, 1, "4. Customer equity by retention change and discount rate (today's customers and mix)", 9)
    top = r + 1
    sh.text(top, 1, "Retention change ↓  rate →", "subheader", align="right")
    for j, v in enumerate(SENS_RATES):
        sh.value(top, 2 + j, v, "input", B.PCT0, bold=True, align="center")
    for i, d in enumerate(SENS_DELTA):
        sh.value(top + 1 + i, 1, d, "input", "+0.0%;-0.0%;0.0%", bold=True, align="right")
    sh.name_range("ce_in_wi_sens_rates", top, 2, top, 1 + len(SENS_RATES))
    sh.name_range("ce_in_wi_sens_delta", top + 1, 1, top + len(SENS_DELTA), 1)
    for i in range(len(SENS_DELTA)):
        for j in range(len(SENS_RATES)):
            row, col = top + 1 + i, 2 + j
            sh.formula(row, col, f"=SUMPRODUCT(ce_in_wi_customers,CE_LTV_RETENTION(ce_wi_margin,ce_in_wi_retention+"
                                 f"{B.cell(row, 1, False, True)},{B.cell(top, col, True, False)})+ce_in_wi_iv)",
                       res["grid"][i][j], "ce", B.MONEY)
    last_grid = top + len(SENS_DELTA)
    sh.name_range("ce_wi_grid", top + 1, 2, last_grid, 1 + len(SENS_RATES))
    sh.ws.conditional_format(top + 1, 2, last_grid, 1 + len(SENS_RATES), {
        "type": "3_color_scale", "min_color": "#F8696B", "mid_color": "#FFEB84", "max_color": "#63BE7B"})
    sh.merged(top, 2 + len(SENS_RATES), last_grid, 9,
              "Each cell: SUMPRODUCT(customers, CE_LTV_RETENTION(margin, r + change, rate) + Iv). Retention "
              "moves equity far more than the discount rate: the paper's point that retention time is the "
              "most important driver of customer equity.", "note")

    _charts(book, sh, lever_rows, (sfirst, slast), first)
    sh.protect()
    sh.print_setup(0, 0, last_grid + 1, 19, fit_tall=1)
    sh.ws.freeze_panes(3, 0)


def _charts(book, sh, lever_rows, scenario_rows, base_first):
    wb = book.wb
    name = sh.name
    bar = wb.add_chart({"type": "bar"})
    bar.add_series({
        "name": "Change in customer equity",
        "categories": "=" + B.sheet_ref(name, B.area(lever_rows[0], 1, lever_rows[1], 1)),
        "values": "=" + B.sheet_ref(name, B.area(lever_rows[0], 3, lever_rows[1], 3)),
        "fill": {"color": "#2E75B6"}, "invert_if_negative": True,
        "data_labels": {"value": True, "num_format": "+#,##0;-#,##0"},
        "points": [{"fill": {"color": c}} for c in ("#2E75B6", "#A5A5A5", "#70AD47", "#1F4E79")],
    })
    bar.set_title({"name": "What each lever adds to customer equity", "name_font": {"size": 11}})
    bar.set_legend({"none": True})
    bar.set_y_axis({"reverse": True, "label_position": "low"})
    bar.set_x_axis({"num_format": "#,##0", "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    bar.set_size({"width": 560, "height": 300})
    sh.ws.insert_chart(B.cell(3, 11, False, False), bar, {"x_offset": 5})

    col = wb.add_chart({"type": "column"})
    col.add_series({
        "name": "Baseline",
        "categories": "=" + B.sheet_ref(name, B.area(base_first, 1, base_first + 3, 1)),
        "values": "=" + B.sheet_ref(name, B.area(base_first, 3, base_first + 3, 3)),
        "fill": {"color": "#A5A5A5"},
    })
    col.add_series({
        "name": "Scenario",
        "categories": "=" + B.sheet_ref(name, B.area(base_first, 1, base_first + 3, 1)),
        "values": "=" + B.sheet_ref(name, B.area(scenario_rows[0], 7, scenario_rows[1], 7)),
        "fill": {"color": "#1F4E79"},
    })
    col.set_title({"name": "Customer equity by type: baseline and scenario", "name_font": {"size": 11}})
    col.set_y_axis({"num_format": "#,##0", "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    col.set_legend({"position": "top"})
    col.set_size({"width": 560, "height": 300})
    sh.ws.insert_chart(B.cell(24, 11, False, False), col, {"x_offset": 5})


def _readme(book, sh):
    sh.widths([2, 22, 16, 16, 16, 16, 16, 16, 16])
    sh.title(0, "Customer equity what-if",
             "How much is a point of retention worth? What does a higher discount rate cost? What if the "
             "customer mix shifts toward Lighthouse and Follower customers? One sheet, for a meeting.", 8)
    sh.ws.set_row(1, 32)
    r = 3
    sh.section(r, 1, "How it works", 8)
    steps = [
        "1. Baseline: customers and equity per type from a measurement (Step 3 of the measurement workbook), "
        "the retention rate per period of each type, the discount rate and Iv.",
        "2. Each type is described by the retention model: LTV = m r / (1 + i - r) + Iv. The margin m is "
        "implied by the baseline, so the model rebuilds the measured equity exactly (the Rebuilt column).",
        "3. Scenario: change retention per type (percentage points), the discount rate, and the customer mix. "
        "The lever table shows each lever alone and all together; the grid shows equity over retention "
        "changes and discount rates.",
    ]
    sh.paragraphs(r, steps, 32)
    r = r + 5
    r = B.legend(sh, r, 1)
    sh.section(r, 1, "Good to know", 8)
    notes = [
        "A what-if is a model, not a measurement: the retention model assumes each type's customers stay with "
        "the same probability every period. Use the measurement workbook for the equity of real customers.",
        B.WITHOUT_ADDIN,
        "Formulas use names (Formulas > Name Manager): ce_in_wi_... are the inputs, ce_wi_... derived ranges.",
    ]
    sh.paragraphs(r, notes, 32)
    sh.protect()
    sh.print_setup(0, 0, r + 1 + len(notes), 8, landscape=False, fit_tall=1)
