"""Template 3: what-if, customer equity under a change of retention, margin, rate, income or type mix.

Sheets: Read me; What-if (the levers, the scenario, each lever alone, a grid of two
levers); Settings (the measurement's settings as a two-column range); Customers (the
Excel table ``Customers``, the bundled sample, as in the measurement template); Lists.

Every number comes from the Excel functions of the what-if API on the whole customer
table: the scenario is one ``CE_WHATIF(ce_wi_customers, ce_wi_config, levers...)``
spilled once (``ce_wi_result`` names its spill range, which the other cells read), each
lever alone is one ``CE_WHATIF`` with only that lever, and the grid is one spilled
``CE_WHATIF_GRID``. A what-if is the measurement of the changed customer table
(:func:`customer_equity.what_if`): the capability matrix, the allocation of transaction
income and the discounting apply as in the measurement itself. The cached values are
the core's :func:`~customer_equity.what_if` and :func:`~customer_equity.what_if_grid` on
the same table and settings, so the file opens with numbers.
"""

from __future__ import annotations

import dataclasses

from .. import cells
from ...model import LEVERS, TYPES, load_sample, sample_config, what_if, what_if_grid
from . import _book as B
from . import measurement

TEMPLATE_ID = "what-if/2"
FILENAME = "customer-equity-what-if.xlsx"
S_README, S_WHATIF, S_SETTINGS, S_CUST, S_LISTS = ("Read me", "What-if", "Settings", "Customers",
                                                    "Lists")


@dataclasses.dataclass(frozen=True)
class Scenario:
    """The levers of the default scenario, as the yellow cells hold them."""

    retention_change: tuple = (0.05, 0.05, 0.05, 0.05)  # per type, rate units (0.05 = 5 points)
    margin_change: tuple = (0.01, 0.01, 0.01, 0.01)  # per type, unit-margin points
    rate: float | None = 0.12  # new discount rate per period; None: unchanged
    income_change: float | None = 0.10  # relative change of every period's transaction income
    type_mix: tuple | None = (0.12, 0.30, 0.36, 0.22)  # target type mix at type averages; None: today's
    moves: tuple = ()  # ((from type, to type, customers), ...): named customers change type


#: The grid of two levers: (row lever, its values, column lever, its values, result).
GRID = ("retention_change", (-0.05, -0.025, 0.0, 0.025, 0.05, 0.075, 0.10),
        "rate", (0.06, 0.08, 0.10, 0.12, 0.14), "equity")
MOVE_ROWS = 3  # rows of the moves table


# --- the core's results: the cached values ------------------------------------------------


def new_income(config, change):
    """Transaction income per period after a relative change (the sheet's ``ce_wi_new_income``)."""
    if change is None:
        return None
    return [float(x) * (1 + change) for x in settings_income(config)]


def settings_income(config):
    """The transaction income per period the Settings sheet holds."""
    income = config.transaction_income
    if income is None:
        return []
    return [float(x) for x in (income if isinstance(income, (list, tuple)) else [income])]


def _moves(scenario):
    if not scenario.moves:
        return None
    moves = {}
    for src, dst, n in scenario.moves:
        moves[(src, dst)] = moves.get((src, dst), 0) + n
    return moves


def levers_alone(scenario, config):
    """Each lever of ``scenario`` on its own, as :func:`what_if` keywords (the lever table's rows)."""
    return {
        "Retention": {"retention_change": list(scenario.retention_change)},
        "Unit margin": {"margin_change": list(scenario.margin_change)},
        "Discount rate": {"rate": scenario.rate},
        "Transaction income": {"transaction_income": new_income(config, scenario.income_change)},
        "Type mix": {"moves": _moves(scenario),
                     "type_mix": None if scenario.type_mix is None else list(scenario.type_mix)},
    }


def scenario_levers(scenario, config):
    """All the levers of ``scenario`` together, as :func:`what_if` keywords."""
    out = {}
    for levers in levers_alone(scenario, config).values():
        out.update(levers)
    return out


def results(customers, config, scenario=Scenario(), grid=GRID):
    """Everything the CE_ cells show, from the core: the scenario, each lever alone, the grid."""
    base = what_if(customers, config).before
    scen = what_if(customers, config, base=base, **scenario_levers(scenario, config))
    alone = {label: what_if(customers, config, base=base, **levers)
             for label, levers in levers_alone(scenario, config).items()}
    row_lever, row_values, col_lever, col_values, result = grid
    table = what_if_grid(customers, config, row_lever, list(row_values), col_lever, list(col_values),
                         result=result, base=base)
    return {"base": base, "scenario": scen, "alone": alone, "grid": table}


def result_cells(w):
    """The cells CE_WHATIF spills for a :class:`~customer_equity.WhatIf`: header and rows."""
    return cells.table(w.table, "type", words_header=True)


def settings_rows(config):
    """The Settings sheet's rows: (setting name or "" for a list's continuation, value, format, note)."""
    rows = [("rate", config.rate, B.RATE, "Discount rate per period of the data (a year in the sample)."),
            ("timing", config.timing, None, "end: period 1 is discounted once (Excel's NPV); begin: not at all."),
            ("iv", config.iv, B.MONEY, "Profile information value Iv per customer: added once, not discounted."),
            ("classify_by", config.classify_by, None,
             "score: weighted indicators against the cut-offs; stage: life-cycle stage; type: the table's "
             "type column.")]
    for k, (name, weight) in enumerate(config.weights.items()):
        rows.append((f"weights.{name}", float(weight), B.SCORE,
                     "Weights of the indicator columns of the table (classification by score)." if k == 0
                     else ""))
    for k, c in enumerate(config.cutoffs):
        rows.append(("cutoffs" if k == 0 else "", float(c), B.SCORE,
                     "Lowest score of Lighthouse, Follower, Rational; a list continues down the rows "
                     "with a blank name." if k == 0 else ""))
    for k, x in enumerate(settings_income(config)):
        rows.append(("transaction_income" if k == 0 else "", x, B.MONEY,
                     "Transaction income per period from partner markets, allocated evenly over the "
                     "customers who carry transaction value; one row per period." if k == 0 else ""))
    return rows


# --- the workbook ---------------------------------------------------------------------------


def build(path, customers=None, config=None, scenario=Scenario(), grid=GRID):
    """Write the what-if workbook to ``path``; returns a :class:`~._book.Built`.

    Without arguments it is the template: the bundled sample customers
    (:func:`customer_equity.load_sample`) with :func:`customer_equity.sample_config`.
    ``result`` is the dict of the core's results the CE_ cells cache (:func:`results`).
    """
    customers = load_sample() if customers is None else customers
    config = sample_config() if config is None else config
    if len(scenario.moves) > MOVE_ROWS:
        raise ValueError(f"the sheet holds {MOVE_ROWS} moves, got {len(scenario.moves)}")
    res = results(customers, config, scenario, grid)
    book = B.Book(path, "Customer equity what-if", TEMPLATE_ID,
                  "Customer equity under a change of retention, margin, discount rate, income or type mix")
    sheets = {name: book.sheet(name, color) for name, color in (
        (S_README, "#1F4E79"), (S_WHATIF, "#2E75B6"), (S_SETTINGS, "#BF8F00"), (S_CUST, "#BF8F00"),
        (S_LISTS, "#7F7F7F"))}
    _settings(book, sheets[S_SETTINGS], config)
    measurement.customer_table(book, sheets[S_CUST], sheets[S_LISTS], customers, config)
    _what_if(book, sheets[S_WHATIF], len(customers), scenario, grid, res)
    _readme(book, sheets[S_README], len(customers))
    sheets[S_WHATIF].ws.activate()
    return book.close(res)


def _settings(book, sh, config):
    sh.widths([2, 20, 14, 110])
    sh.title(0, "Baseline settings",
             "The measurement's settings, read by CE_WHATIF and CE_WHATIF_GRID as a two-column range "
             "(ce_wi_settings): the setting's name and its value. Change the yellow values; the names are "
             "those of the measurement (MeasureConfig).", 3)
    sh.header(3, 1, ["Setting", "Value", "What it means"])
    rows = settings_rows(config)
    first = 4
    for k, (name, value, nf, note) in enumerate(rows):
        r = first + k
        sh.text(r, 1, name, "label" if name else "note")
        sh.value(r, 2, value, "input", nf)
        if note:
            sh.note(r, 3, note)
    last = first + len(rows) - 1
    book.define("ce_wi_settings", "=" + sh.ref(first, 1, last, 2))
    sh.name_range("ce_in_wi_setting_values", first, 2, last, 2)
    names = [name for name, *_ in rows]
    income_first = next((first + k for k, n in enumerate(names) if n == "transaction_income"), None)
    if income_first is not None:
        sh.name_range("ce_wi_income", income_first, 2, last, 2)
    sh.ws.data_validation(first + names.index("timing"), 2, first + names.index("timing"), 2,
                          {"validate": "list", "source": ["end", "begin"]})
    sh.ws.data_validation(first + names.index("classify_by"), 2, first + names.index("classify_by"), 2,
                          {"validate": "list", "source": ["score", "stage", "type"]})
    sh.ws.data_validation(first, 2, first, 2, {"validate": "decimal", "criteria": ">", "value": -1,
                                               "error_message": "A discount rate must be > -100 %."})
    sh.note(last + 2, 1, "The same settings as the measurement template's Assumptions sheet. The customers "
            "are the Customers sheet's table (paste your own there).", 3)
    sh.protect()
    sh.print_setup(0, 0, last + 2, 3, landscape=False)
    sh.ws.freeze_panes(4, 0)


#: What the CE_ functions are given: Excel for Mac and the web hand a blank cell in a range over
#: as 0, so every range that may hold blanks goes through IF(x="","",x) (blank read as blank
#: by every runtime), and a blank change per type counts as 0.
BLANK_SAFE = {
    "ce_wi_customers": '=IF(ce_in_customers="","",ce_in_customers)',
    "ce_wi_config": '=IF(ce_wi_settings="","",ce_wi_settings)',
    "ce_wi_retention_change": '=IF(ce_in_wi_retention_change="",0,ce_in_wi_retention_change)',
    "ce_wi_margin_change": '=IF(ce_in_wi_margin_change="",0,ce_in_wi_margin_change)',
    "ce_wi_rate": '=IF(ce_in_wi_rate="","",ce_in_wi_rate)',
    "ce_wi_new_income": '=IF(ce_in_wi_income_change="","",ce_wi_income*(1+ce_in_wi_income_change))',
    "ce_wi_moves": '=IF(ce_in_wi_moves="","",ce_in_wi_moves)',
    "ce_wi_mix": '=IF(ce_in_wi_mix="","",ce_in_wi_mix)',
    "ce_wi_grid_show": '=IF(ce_in_wi_grid_show="","",ce_in_wi_grid_show)',
}


def _blank_safe_names(book):
    for name, formula in BLANK_SAFE.items():
        book.define(name, formula)


PLUS = "+0.0%;-0.0%;0.0%"
CHANGE = "+#,##0;[Red]-#,##0;0"
CHANGE_PCT = "+0.0%;[Red]-0.0%;0.0%"


def _what_if(book, sh, n_customers, scenario, grid, res):
    sh.widths([2, 26] + [16] * 6 + [13, 10, 3])
    sh.title(0, "What-if: customer equity under a change of retention, margin, rate, income or type mix",
             "Pull the yellow levers and read the new customer equity. Each number is the measurement of the "
             f"changed customer table (CE_WHATIF, CE_WHATIF_GRID): the {n_customers:,} customers of the "
             "Customers sheet under the Settings sheet's settings. Money in the currency of the measurement.", 9)

    # 1. levers ------------------------------------------------------------------------------
    r = 3
    sh.section(r, 1, "1. The levers (yellow cells; 0 or blank: no change)", 9)
    h = r + 1
    sh.header(h, 1, ["Customer type", "Retention change", "Unit margin change", "Target mix", "Today's mix"])
    sh.ws.set_row(h, 30)
    first = h + 1
    last = first + 3
    base_counts = [float(x) for x in res["base"].counts]
    total = sum(base_counts)
    for i, t in enumerate(TYPES):
        row = first + i
        sh.value(row, 1, t, "native", bold=True)
        sh.value(row, 2, scenario.retention_change[i], "input", PLUS)
        sh.value(row, 3, scenario.margin_change[i], "input", PLUS)
        sh.value(row, 4, None if scenario.type_mix is None else scenario.type_mix[i], "input", B.PCT)
        sh.formula(row, 5, f"=INDEX(ce_wi_result,{i + 2},2)/INDEX(ce_wi_result,6,2)", base_counts[i] / total,
                   "native", B.PCT)
    sh.name_range("ce_in_wi_retention_change", first, 2, last, 2)
    sh.name_range("ce_in_wi_margin_change", first, 3, last, 3)
    sh.name_range("ce_in_wi_mix", first, 4, last, 4)
    sh.text(last + 1, 1, "Total", "bold")
    mix_sum = 0.0 if scenario.type_mix is None else float(sum(scenario.type_mix))
    sh.formula(last + 1, 4, "=SUM(ce_in_wi_mix)", mix_sum, "native", B.PCT, bold=True)
    sh.formula(last + 1, 5, "=SUM(" + B.area(first, 5, last, 5) + ")", 1.0, "native", B.PCT, bold=True)
    warn = '=IF(AND(COUNT(ce_in_wi_mix)>0,ABS(SUM(ce_in_wi_mix)-1)>0.0001),"The mix must add up to 100 %","")'
    sh.formula(last + 1, 6, warn, "" if scenario.type_mix is None or abs(mix_sum - 1) <= 1e-4
               else "The mix must add up to 100 %", "label", font_color="#C00000", bold=True)
    sh.merged(h, 6, last, 9,
              "Retention change: points of retention per period (0.05: 80 % becomes 85 %); each lifetime "
              "of the type changes as its expected lifetime r/(1 - r) does. Unit margin change: points of "
              "margin per unit of revenue (0.01: 16.5 % becomes 17.5 %). Target mix: the same number of "
              "customers in another structure, shares adding up to 100 %, each type at its average value "
              "(the papers' question: same number of customers, a different structure).", "note")

    r = last + 3
    single = [
        ("New discount rate per period", scenario.rate, B.RATE, "ce_in_wi_rate",
         "The rate the scenario discounts with. Blank: today's rate (Settings)."),
        ("Transaction income change", scenario.income_change, PLUS, "ce_in_wi_income_change",
         "Change of every period's transaction income from partner markets (+10 %: each period's income "
         "x 1.1), allocated over the carriers as in the measurement. Blank: today's income."),
    ]
    for k, (label, value, nf, name, note) in enumerate(single):
        sh.named_input(r + k, label, value, name, nf, note=note, note_to=9, height=30)
    _blank_safe_names(book)

    r = r + 3
    sh.text(r, 1, "Or move customers", "bold")
    sh.header(r, 2, ["From type", "To type", "Customers"])
    moves = list(scenario.moves) + [(None, None, None)] * (MOVE_ROWS - len(scenario.moves))
    for k, move in enumerate(moves):
        for j, v in enumerate(move):
            sh.value(r + 1 + k, 2 + j, v, "input", "#,##0" if j == 2 else None)
    sh.name_range("ce_in_wi_moves", r + 1, 2, r + MOVE_ROWS, 4)
    sh.ws.data_validation(r + 1, 2, r + MOVE_ROWS, 3, {"validate": "list", "source": "=ce_type_list"})
    sh.ws.data_validation(r + 1, 4, r + MOVE_ROWS, 4, {"validate": "integer", "criteria": ">=", "value": 0})
    sh.merged(r, 5, r + MOVE_ROWS, 9,
              "Named customers who change type, keeping their own values, e.g. 50 Rational customers who "
              "become Followers (they now also bring transaction value). With a target mix too, the mix "
              "is then taken at the averages of the moved types.", "note")

    # 2. the scenario ------------------------------------------------------------------------
    r = r + MOVE_ROWS + 2
    sh.section(r, 1, "2. The scenario: customer equity before and after, by type (CE_WHATIF)", 9)
    top = r + 1
    levers = 'ce_wi_retention_change,ce_wi_rate,ce_wi_margin_change,ce_wi_new_income,ce_wi_moves,"",ce_wi_mix'
    table = result_cells(res["scenario"])
    sh.spill(top, 1, f"=CE_WHATIF(ce_wi_customers,ce_wi_config,{levers})", table, "ce",
             [None, "#,##0", "#,##0", B.MONEY, B.MONEY, CHANGE], header={"bg_color": "#2E75B6"},
             label_col=True)
    book.define_spill("ce_wi_result", S_WHATIF, top, 1, len(table), len(table[0]))
    sh.ws.set_row(top, 30)
    sh.header(top, 7, ["Change %", "Check: before + difference", "Status"])
    for k in range(1, 6):
        row = top + k
        before, after, diff = table[k][3], table[k][4], table[k][5]
        sh.formula(row, 7, f"=INDEX(ce_wi_result,{k + 1},6)/INDEX(ce_wi_result,{k + 1},4)", diff / before,
                   "native", CHANGE_PCT)
        sh.formula(row, 8, f"=INDEX(ce_wi_result,{k + 1},4)+INDEX(ce_wi_result,{k + 1},6)", before + diff,
                   "check", B.MONEY)
        sh.check_status(row, 9, f"{B.cell(row, 8)}-INDEX(ce_wi_result,{k + 1},5)", before + diff - after)
    sh.cross_check(B.area(top + 1, 8, top + 5, 8), B.area(top + 1, 5, top + 5, 5))
    row = top + 7  # the row under the spill is left for CE_WHATIF's note on income not earned
    sh.text(row, 1, "Total of the four types", "label")
    type_sum = float(sum(table[k][4] for k in range(1, 5)))
    sh.formula(row, 8, "=" + "+".join(f"INDEX(ce_wi_result,{k},5)" for k in range(2, 6)), type_sum, "check",
               B.MONEY)
    sh.check_status(row, 9, f"{B.cell(row, 8)}-INDEX(ce_wi_result,6,5)", type_sum - table[5][4])
    sh.cross_check(B.area(row, 8, row, 8), B.area(top + 5, 5, top + 5, 5))
    sh.note(row, 2, "Customers before and after are the same base (a target mix counts the same "
            "customers in another structure; it adds none).", 7)
    result_top = top

    # 3. each lever alone ---------------------------------------------------------------------
    r = row + 2
    sh.section(r, 1, "3. What each lever is worth on its own, and all together", 9)
    h = r + 1
    sh.header(h, 1, ["Lever", "Customer equity", "Change", "Change %"])
    today = float(res["base"].equity)
    customers_args = "ce_wi_customers,ce_wi_config"
    alone = {
        "Retention": f"{customers_args},ce_wi_retention_change",
        "Unit margin": f'{customers_args},"","",ce_wi_margin_change',
        "Discount rate": f'{customers_args},"",ce_wi_rate',
        "Transaction income": f'{customers_args},"","","",ce_wi_new_income',
        "Type mix": f'{customers_args},"","","","",ce_wi_moves,"",ce_wi_mix',
    }
    rows = [("Today", "=INDEX(ce_wi_result,6,4)", today, "native")]
    rows += [(label, f"=INDEX(CE_WHATIF({args}),6,5)", float(res["alone"][label].equity), "ce")
             for label, args in alone.items()]
    rows.append(("All together", "=INDEX(ce_wi_result,6,5)", float(res["scenario"].equity), "native"))
    for k, (label, formula, value, role) in enumerate(rows):
        row = h + 1 + k
        sh.value(row, 1, label, "native", bold=True)
        sh.formula(row, 2, formula, value, role, B.MONEY)
        sh.formula(row, 3, f"={B.cell(row, 2)}-{B.cell(h + 1, 2)}", value - today, "native", CHANGE)
        sh.formula(row, 4, f"={B.cell(row, 3)}/{B.cell(h + 1, 2)}", (value - today) / today, "native",
                   CHANGE_PCT)
    lever_rows = (h + 2, h + len(rows))
    sh.merged(h, 5, h + 3, 9, "One at a time: only that lever moves, the others stay as today. Together the "
              "levers compound (more retention keeps more customers for the higher margin), so the total is "
              "not the sum of the parts.", "note")

    # 4. the grid -------------------------------------------------------------------------------
    r = h + len(rows) + 2
    sh.section(r, 1, "4. Customer equity over two levers (CE_WHATIF_GRID)", 9)
    row_lever, row_values, col_lever, col_values, result = grid
    g = r + 1
    sh.text(g, 1, "Down the rows: lever, values", "label")
    sh.value(g, 2, cells.LEVER_WORDS[row_lever], "input")
    sh.values(g, 3, [list(row_values)], "input", B.PCT)
    sh.text(g + 1, 1, "Across: lever, values", "label")
    sh.value(g + 1, 2, cells.LEVER_WORDS[col_lever], "input")
    sh.values(g + 1, 3, [list(col_values)], "input", B.PCT)
    sh.text(g + 2, 1, "Show", "label")
    sh.value(g + 2, 2, result, "input")
    sh.note(g + 2, 3, "equity, or the difference from today. Levers: Retention change, Discount rate, Unit "
            "margin change, Share of wallet change, Loyalty change (for all types), Transaction income "
            "(per period).", 9)
    sh.name_range("ce_in_wi_grid_row_lever", g, 2)
    sh.name_range("ce_in_wi_grid_rows", g, 3, g, 2 + len(row_values))
    sh.name_range("ce_in_wi_grid_col_lever", g + 1, 2)
    sh.name_range("ce_in_wi_grid_cols", g + 1, 3, g + 1, 2 + len(col_values))
    sh.name_range("ce_in_wi_grid_show", g + 2, 2)
    for rr in (g, g + 1):
        sh.ws.data_validation(rr, 2, rr, 2, {"validate": "list", "source": [cells.LEVER_WORDS[k] for k in LEVERS]})
    sh.ws.data_validation(g + 2, 2, g + 2, 2, {"validate": "list", "source": ["equity", "difference"]})
    top = g + 4
    gcells = cells.lever_grid(res["grid"])
    height, width = len(gcells), len(gcells[0])
    sh.spill(top, 1, "=CE_WHATIF_GRID(ce_wi_customers,ce_wi_config,ce_in_wi_grid_row_lever,ce_in_wi_grid_rows,"
                     "ce_in_wi_grid_col_lever,ce_in_wi_grid_cols,ce_wi_grid_show)", gcells, "ce",
             [B.PCT] + [B.MONEY] * (width - 1), header={"bg_color": "#2E75B6", "num_format": B.PCT},
             label_col=False)
    sh.ws.set_row(top, 30)  # the corner names both levers in words
    bottom = top + height - 1
    income = book.wb.add_format({"num_format": "#,##0"})
    sh.ws.conditional_format(top, 2, top, width, {
        "type": "formula", "criteria": '=OR(ce_in_wi_grid_col_lever="Transaction income",'
                                          'ce_in_wi_grid_col_lever="transaction_income")', "format": income})
    sh.ws.conditional_format(top + 1, 1, bottom, 1, {
        "type": "formula", "criteria": '=OR(ce_in_wi_grid_row_lever="Transaction income",'
                                          'ce_in_wi_grid_row_lever="transaction_income")', "format": income})
    sh.ws.conditional_format(top + 1, 2, bottom, width, {
        "type": "3_color_scale", "min_color": "#F8696B", "mid_color": "#FFEB84", "max_color": "#63BE7B"})
    sh.merged(top, width + 2, bottom, 9,
              "Each cell is CE_WHATIF with the two levers at the row's and the column's values, the others "
              "as today. Retention moves equity far more than the discount rate: the expansion paper's point "
              "that retention time is the most important driver of customer equity.", "note")

    _charts(book, sh, lever_rows, result_top)
    sh.protect()
    sh.print_setup(0, 0, bottom + 1, 19, fit_tall=1)
    sh.ws.freeze_panes(3, 0)


def _charts(book, sh, lever_rows, result_top):
    wb = book.wb
    name = sh.name
    bar = wb.add_chart({"type": "bar"})
    bar.add_series({
        "name": "Change in customer equity",
        "categories": "=" + B.sheet_ref(name, B.area(lever_rows[0], 1, lever_rows[1], 1)),
        "values": "=" + B.sheet_ref(name, B.area(lever_rows[0], 3, lever_rows[1], 3)),
        "fill": {"color": "#2E75B6"}, "invert_if_negative": True,
        "data_labels": {"value": True, "num_format": "+#,##0;-#,##0"},
        "points": [{"fill": {"color": c}} for c in
                   ("#2E75B6", "#5B9BD5", "#A5A5A5", "#FFC000", "#70AD47", "#1F4E79")],
    })
    bar.set_title({"name": "What each lever adds to customer equity", "name_font": {"size": 11}})
    bar.set_legend({"none": True})
    bar.set_y_axis({"reverse": True, "label_position": "low"})
    bar.set_x_axis({"num_format": "#,##0", "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    bar.set_size({"width": 560, "height": 320})
    sh.ws.insert_chart(B.cell(3, 11, False, False), bar, {"x_offset": 5})

    col = wb.add_chart({"type": "column"})
    categories = "=" + B.sheet_ref(name, B.area(result_top + 1, 1, result_top + 4, 1))
    for label, c, color in (("Before", 4, "#A5A5A5"), ("After", 5, "#1F4E79")):
        col.add_series({"name": label, "categories": categories,
                        "values": "=" + B.sheet_ref(name, B.area(result_top + 1, c, result_top + 4, c)),
                        "fill": {"color": color}})
    col.set_title({"name": "Customer equity by type: before and after", "name_font": {"size": 11}})
    col.set_y_axis({"num_format": "#,##0", "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    col.set_legend({"position": "top"})
    col.set_size({"width": 560, "height": 320})
    sh.ws.insert_chart(B.cell(21, 11, False, False), col, {"x_offset": 5})


def _readme(book, sh, n_customers):
    sh.widths([2, 22, 16, 16, 16, 16, 16, 16, 16])
    sh.title(0, "Customer equity what-if",
             "How much is a point of retention worth? A point of margin? What does a higher discount rate "
             "cost? What if the customer mix shifts toward Lighthouse and Follower customers?", 8)
    sh.ws.set_row(1, 32)
    r = 3
    sh.section(r, 1, "How it works", 8)
    steps = [
        f"1. The baseline is the measurement of the customer table (Customers sheet: {n_customers:,} sample "
        "customers, or your own pasted over them) with the settings of the Settings sheet, as in the "
        "measurement template.",
        "2. A what-if changes the table or the settings and measures again: retention stretches each "
        "customer's retention time, a margin change moves the margin column, moved customers change type "
        "(valued with their new type's kinds of value), the rate and the income change the settings; a "
        "target mix counts each type at its average value.",
        "3. What-if sheet: CE_WHATIF spills the scenario (equity before and after, by type); one CE_WHATIF "
        "per lever shows what each is worth alone; CE_WHATIF_GRID spills equity over two levers.",
    ]
    sh.paragraphs(r, steps, 44)
    r = r + 5
    r = B.legend(sh, r, 1)
    sh.section(r, 1, "Good to know", 8)
    notes = [
        "A what-if is a model of a change, not a measurement of one: the customers' values per period stay as "
        "they are, and added periods repeat each customer's last one. Partner income per carrier follows "
        "retention; a changed income is a fixed total per period. Python: customer_equity.what_if and "
        "what_if_grid give the same numbers (with more levers: share of wallet, loyalty, acquisition); the "
        "command line: customer-equity whatif.",
        B.WITHOUT_ADDIN,
        "Formulas use names (Formulas > Name Manager): ce_in_wi_... are the levers, ce_wi_settings the settings "
        "range, ce_in_customers the customer table, ce_wi_result the scenario's spilled table. The functions "
        "read them through ce_wi_... names that hand a blank cell over as blank on every Excel (Windows, Mac, "
        "the web).",
    ]
    sh.paragraphs(r, notes, 44)
    sh.protect()
    sh.print_setup(0, 0, r + 1 + len(notes), 8, landscape=False, fit_tall=1)
