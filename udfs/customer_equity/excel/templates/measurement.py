"""Template 1: customer equity measurement, the three steps of SPEC section 5.

Sheets: Read me, Assumptions, Customers (the Excel table ``Customers``), Step 1
Classify, Step 2 Value, Step 3 Equity, Lists.

How the formulas reach the whole customer table
-----------------------------------------------
Every input column is a defined name on a structured reference of the table
(``ce_in_periods`` is ``=Customers[periods]``), so pasting more rows into the table
(Excel grows a table when rows are pasted into or right below it) grows every name.
Each per-customer calculation is one dynamic-array formula on a step sheet that spills
one row per customer, never one formula per row, and a name on its spill range
(:data:`~.measurement_contract.ANCHORS`) is what the other formulas read:

- ``ce_weighted_score`` and ``ce_types`` classify (CE_SCORE; CE_SEGMENT of the score,
  CE_SEGMENT_STAGE, or the given type),
- ``ce_pv_per_period``, ``ce_ppv_per_period`` and ``ce_tv`` (customers x periods) give the
  values per period,
- ``ce_customer_ltv`` is CE_LTV_TYPE over them.

So each CE_ calculation runs once per recalculation. The step 3 summaries read the
names: CE_EQUITY_TABLE(ce_types, ce_customer_ltv) and CE_COMPOSITION(...) have a fixed
size whatever the number of customers. The native cross-checks are named formulas
(``chk_code``, ``chk_ltv``, ...) made of PV, MMULT, SUMIF and SUMPRODUCT, which Excel 2016
and later, LibreOffice and the ``formulas`` engine all evaluate.

Python writes only ``ce_out_by_type`` and ``ce_out_stamp`` (see :func:`refresh`),
the same equity table from :func:`customer_equity.measure`, for checking and for Excel
without the CE_ functions (on a Mac the Refresh button works, the COM functions do not).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import CustomerEquityError
from ...model import labels
from ...model import (
    CAPABILITIES,
    TYPES,
    VALUE_KINDS,
    MeasureConfig,
    allocate_transaction_value,
    carriers_per_period,
    load_sample,
    measure,
    purchase_value,
    sample_config,
    weighted_score,
    word_of_mouth_value,
)
from . import _book as B
from . import measurement_text as T
from .measurement_contract import (  # noqa: F401 - the contract, re-exported for readers
    ANCHOR_FORMULAS,
    ANCHORS,
    EQ_ROW,
    FILENAME,
    NAMED,
    NAMED_FORMULAS,
    P0,
    S_ASSUME,
    S_CUST,
    S_LISTS,
    S_README,
    S_STEP1,
    S_STEP2,
    S_STEP3,
    TABLE,
    TEMPLATE_ID,
    TIER_FORMULA,
    TV_COL,
    stamp,
)
from .measurement_refresh import as_table, inputs_to_measurement, refresh  # noqa: F401


#: Columns of the customer table after the indicators: (name, description, number format).
VALUE_COLUMNS = (
    ("stage", "Life-cycle stage at first purchase (list)", None),
    ("type", "Type, only if classifying by type (list)", None),
    ("periods", "Retention time, periods", B.INT),
    ("capacity", "Spending capacity per period", B.MONEY),
    ("share", "Share of wallet (%)", B.PCT),
    ("margin", "Unit margin (%)", B.PCT),
    ("influence", "Word-of-mouth influence (< 0: complaints)", "0.0000"),
    ("reach", "People reached per period", B.INT),
    ("avg_value", "Purchase value of those influenced", B.MONEY),
    ("cv", "Contact information value per period (CV)", B.MONEY),
    ("kv", "Knowledge value per period (KV)", B.MONEY),
    ("tv", "Transaction value per period (TV), only without transaction income", B.MONEY),
    ("tv_carrier", "Carries transaction value (TRUE/FALSE)", None),
)


STAGE_LIST = ("introduction", "growth", "maturity", "late maturity", "decline")
def _with_product_prefix(name):
    """The papers write a stage as 产品介绍期 ("product introduction stage")."""
    return (name, "产品" + name, "產品" + name) if name.endswith("期") else (name,)


#: The worksheet's lookup lists (label, code 1-4), made from the one vocabulary in
#: :mod:`customer_equity.model.labels`. Excel compares the labels as they are (ignoring
#: case only), so the papers' 产品…期 wording is listed with its prefix too.
STAGE_ALIASES = tuple(
    (label, code + 1)
    for code, names in labels.STAGE_ALIASES.items()
    for name in names
    for label in _with_product_prefix(name)
) + ((1, 1), (2, 2), (3, 3), (4, 4))
TYPE_ALIASES = tuple((name, code + 1) for code, names in labels.TYPE_ALIASES.items() for name in names)



# --- inputs -------------------------------------------------------------------------


def _indicators(config):
    return list(config.weights)


def _check_layout(customers: pd.DataFrame, config: MeasureConfig):
    """Refuse layouts the workbook cannot hold, by name (the core accepts more)."""
    cols = set(customers.columns)
    for name in ("pv", "ppv"):
        if name in cols:
            raise CustomerEquityError(name, "the workbook computes it from its inputs; give "
                                      + ("capacity, share and margin" if name == "pv"
                                         else "influence, reach and avg_value") + " instead")
    for c in customers.columns:
        head, _, tail = str(c).rpartition("_")
        if tail.isdigit() and head in {"capacity", "share", "margin", "influence", "reach", "avg_value",
                                       "cv", "kv", "tv"}:
            raise CustomerEquityError(c, "the workbook takes one column per input (the same amount "
                                      "every period); per-period blocks are measured by the command "
                                      "line and Python only")
    reserved = {"rate", "timing", "iv", "classify_by", "weights", "weight_names", "cutoffs",
                "transaction_income", "tier_cutoffs", "customers", "indicators"}
    for ind in _indicators(config):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,40}", ind) or ind in reserved \
                or ind in {c for c, _, _ in VALUE_COLUMNS} or ind == "customer_id":
            raise CustomerEquityError("weights", "an indicator name must be a simple column name "
                                      "(letters, digits, _) other than the template's own columns",
                                      value=ind)
    if config.classify_by == "score":
        missing = [c for c in _indicators(config) if c not in cols]
        if missing:
            raise CustomerEquityError(missing[0], "indicator column missing (named in the weights)")


def table_rows(customers: pd.DataFrame, config: MeasureConfig):
    """The customer table's header and rows as the workbook holds them."""
    header = ["customer_id", *_indicators(config), *(c for c, _, _ in VALUE_COLUMNS)]
    n = len(customers)
    cols = {}
    for h in header:
        if h in customers.columns:
            cols[h] = customers[h].tolist()
        elif h == "customer_id":
            cols[h] = [f"C{k + 1:07d}" for k in range(n)]
        elif h == "tv_carrier":
            cols[h] = [True] * n  # no column: every customer whose type provides TV carries it
        else:
            cols[h] = [None] * n
    rows = []
    for k in range(n):
        row = []
        for h in header:
            v = cols[h][k]
            if hasattr(v, "item") and not isinstance(v, str):
                v = v.item()
            if isinstance(v, float) and math.isnan(v):
                v = None
            if h == "tv_carrier" and isinstance(v, (int, float)) and not isinstance(v, bool) and v in (0, 1):
                v = bool(v)
            row.append(v)
        rows.append(row)
    return header, rows


def _income(customers, config):
    income = config.transaction_income
    if income is None:
        return [None] * 20
    if isinstance(income, (list, tuple)):
        return [float(x) for x in income]
    horizon = max(1, int(carriers_per_period(customers, config).size))
    return [float(income)] * horizon


def _col(values):
    return [[v.item() if hasattr(v, "item") else v] for v in values]


# --- the native cross-checks, computed here as Excel computes them ------------------------


def _excel_number(v):
    """A cell as Excel's arithmetic reads it: blank 0, TRUE 1, text an error (NaN)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return 0.0
    if isinstance(v, (bool, np.bool_)):
        return float(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    return math.nan


def _sumif_codes(values, table):
    """SUMIF(labels, value, codes) per customer: case-insensitive text, numbers as numbers."""
    lookup = {}
    for label, code in table:
        key = label.lower() if isinstance(label, str) else float(label)
        lookup[key] = lookup.get(key, 0) + code
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(0)
        elif isinstance(v, str):
            out.append(lookup.get(v.lower(), 0))
        else:
            out.append(lookup.get(float(v), 0))
    return np.asarray(out, dtype=float)


def native_checks(customers, config, income):
    """The green cells' values: the ``chk_*`` names evaluated with numpy as Excel would.

    Independent of the core (no ``measure()``): the builder caches these in the check cells,
    and each OK cell caches the real comparison of the CE_ results with them.
    """
    from types import SimpleNamespace

    n = len(customers)

    def col(name):
        if name not in customers:
            return np.zeros(n)
        return np.asarray([_excel_number(v) for v in customers[name].tolist()], dtype=float)

    names = _indicators(config)
    score = None
    if all(c in customers for c in names):
        score = np.column_stack([col(c) for c in names]) @ np.asarray(
            [float(config.weights[c]) for c in names])
    if config.classify_by == "stage":
        code = _sumif_codes(table_col(customers, "stage"), STAGE_ALIASES)
    elif config.classify_by == "type":
        code = _sumif_codes(table_col(customers, "type"), TYPE_ALIASES)
    else:
        rounded = np.round(score if score is not None else np.zeros(n), 10)
        code = 1.0 + sum((rounded < float(c)).astype(float) for c in config.cutoffs[:3])
    types = [TYPES[int(k) - 1] if k in (1, 2, 3, 4) else "#VALUE!" for k in code]
    rate, periods = float(config.rate), col("periods")
    begin = 1.0 if config.timing == "begin" else 0.0
    with np.errstate(all="ignore"):
        annuity = periods.copy() if rate == 0 else (1 - (1 + rate) ** -periods) / rate * (1 + rate * begin)
    # the table holds TRUE for every customer when there is no tv_carrier column (table_rows)
    carrier = col("tv_carrier") if "tv_carrier" in customers else np.ones(n)
    t = np.arange(1, len(income) + 1, dtype=float)
    retained = (periods[:, None] >= t[None, :]).astype(float)
    carriers = ((code <= 2) * carrier) @ retained
    inc = np.asarray([0.0 if v is None else float(v) for v in income])
    per_carrier = np.divide(inc, carriers, out=np.zeros_like(inc), where=carriers > 0)
    factor = (1.0 + rate) ** -(t - begin)
    discounted = per_carrier * factor
    pv = annuity * col("capacity") * col("share") * col("margin")
    ppv = annuity * col("influence") * col("reach") * col("avg_value") * (code <= 3)
    cv = annuity * col("cv") * (code <= 3)
    kv = annuity * col("kv") * (code == 1)
    tv = (code <= 2) * (annuity * col("tv") + carrier * (retained @ discounted))
    ltv = pv + ppv + cv + kv + tv + float(config.iv)
    return SimpleNamespace(score=score, code=code, types=types, annuity=annuity, carriers=carriers,
                           income=inc, per_carrier=per_carrier, factor=factor, discounted=discounted,
                           pv=pv, ppv=ppv, cv=cv, kv=kv, tv=tv, ltv=ltv)


# --- the workbook -----------------------------------------------------------------


class _Layout:
    """Row and column positions shared between the sheets."""

    def __init__(self, n_customers, n_indicators, n_income):
        self.n = n_customers
        self.k = n_indicators
        self.t = n_income


def build(path, customers: pd.DataFrame | None = None, config: MeasureConfig | None = None):
    """Write the measurement workbook for ``customers`` and ``config`` to ``path``.

    Without arguments it is the template: the bundled sample customers
    (:func:`customer_equity.load_sample`) measured with :func:`customer_equity.sample_config`.
    Returns a :class:`~customer_equity.excel.templates._book.Built` whose ``result`` is the
    :class:`~customer_equity.Measurement` whose numbers the CE_ cells cache.
    """
    if customers is None:
        customers = load_sample()
    if config is None:
        config = sample_config()
    if not isinstance(customers, pd.DataFrame):
        raise CustomerEquityError("customers", "must be a pandas DataFrame, one row per customer")
    _check_layout(customers, config)
    header, rows = table_rows(customers, config)
    income = _income(customers, config)
    if config.transaction_income is not None and "tv" in customers.columns:
        raise CustomerEquityError("tv", "give either a tv column or the configuration's "
                                  "transaction_income to allocate, not both")
    m = measure(customers, config)
    if len(customers) == 0:
        raise CustomerEquityError("customers", "the table is empty")

    book = B.Book(path, "Customer equity measurement", TEMPLATE_ID,
                  "Customer equity in three steps: classify, value, add up")
    lay = _Layout(len(rows), len(_indicators(config)), len(income))
    lay.chk = native_checks(customers, config, income)
    sheets = {}
    for name, color in ((S_README, "#1F4E79"), (S_ASSUME, "#BF8F00"), (S_CUST, "#BF8F00"),
                        (S_STEP1, "#2E75B6"), (S_STEP2, "#2E75B6"), (S_STEP3, "#2E75B6"),
                        (S_LISTS, "#7F7F7F")):
        sheets[name] = book.sheet(name, color)

    _lists(book, sheets[S_LISTS])
    _assumptions(book, sheets[S_ASSUME], config, income, lay)
    _customers(book, sheets[S_CUST], header, rows, config, lay)
    lay.score_shown = config.classify_by == "score" and all(c in customers for c in _indicators(config))
    _names(book, config, lay)
    _step1(book, sheets[S_STEP1], customers, config, m, lay)
    _step2(book, sheets[S_STEP2], customers, config, m, income, lay)
    _step3(book, sheets[S_STEP3], config, m, lay)
    _readme(book, sheets[S_README], config, lay)
    sheets[S_README].ws.activate()
    return book.close(m)


def write_measurement_workbook(customers: pd.DataFrame, config: MeasureConfig, path):
    """Write a filled-in measurement workbook: ``customers`` measured with ``config``.

    The same workbook as the template, with this customer table and these
    assumptions; the CE_ cells carry the values :func:`customer_equity.measure`
    computes, so the file shows results without the add-in.

    Parameters
    ----------
    customers : pandas.DataFrame
        One row per customer, with the columns of the template's table:
        ``customer_id``, the indicator columns named by ``config.weights``, ``stage``,
        ``type``, ``periods``, ``capacity``, ``share``, ``margin``, ``influence``,
        ``reach``, ``avg_value``, ``cv``, ``kv``, ``tv``, ``tv_carrier``. Missing optional
        columns are left blank (0); other columns are not copied. Per-period blocks
        (``capacity_1, ...``) and direct ``pv``/``ppv`` columns are refused.
    config : MeasureConfig
        Rate, timing, Iv, classification, weights, cut-offs, transaction income,
        tier cut-offs.
    path : str or Path
        The ``.xlsx`` file to write.

    Returns
    -------
    Measurement
        The core's result the workbook shows.
    """
    return build(Path(path), customers, config).result


# --- sheets --------------------------------------------------------------------------


def _lists(book, sh):
    sh.widths([2, 18, 10, 4, 18, 10, 4, 18, 4, 18])
    sh.title(0, "Lists", "Reference lists for the drop-downs and for the native cross-checks. "
             "Not inputs.", 9)
    sh.header(3, 1, ["Customer type", "Type no."])
    for i, t in enumerate(TYPES):
        sh.value(4 + i, 1, t, "native")
        sh.value(4 + i, 2, i + 1, "native")
    sh.name_range("ce_type_list", 4, 1, 4 + len(TYPES) - 1, 1)
    sh.header(3, 4, ["Stage label", "Type no."])
    for i, (label, code) in enumerate(STAGE_ALIASES):
        sh.value(4 + i, 4, label, "native")
        sh.value(4 + i, 5, code, "native")
    sh.name_range("ce_stage_labels", 4, 4, 4 + len(STAGE_ALIASES) - 1, 4)
    sh.name_range("ce_stage_codes", 4, 5, 4 + len(STAGE_ALIASES) - 1, 5)
    sh.header(3, 7, ["Stage (drop-down)"])
    for i, s in enumerate(STAGE_LIST):
        sh.value(4 + i, 7, s, "native")
    sh.name_range("ce_stage_list", 4, 7, 4 + len(STAGE_LIST) - 1, 7)
    sh.header(3, 9, ["Type label", "Type no."])
    sh.widths([18, 10], 9)
    for i, (label, code) in enumerate(TYPE_ALIASES):
        sh.value(4 + i, 9, label, "native")
        sh.value(4 + i, 10, code, "native")
    sh.name_range("ce_type_aliases", 4, 9, 4 + len(TYPE_ALIASES) - 1, 9)
    sh.name_range("ce_type_alias_codes", 4, 10, 4 + len(TYPE_ALIASES) - 1, 10)
    sh.note(4 + len(STAGE_ALIASES) + 1, 1, "The CE_ functions accept more spellings (any case, "
            "'stage'/'phase' suffixes, 顾客/顧客 suffixes); the native checks look labels up here.", 10)
    sh.protect()
    sh.print_setup(0, 0, 4 + len(STAGE_ALIASES) + 2, 10, landscape=False)


def _assumptions(book, sh, config, income, lay):
    sh.widths([2, 34, 14, 62, 2, 20, 10, 10, 10, 10, 10, 10])
    sh.title(0, "Assumptions", "Everything the measurement depends on besides the customers. "
             "Yellow cells are inputs; every one has a name (Formulas > Name Manager).", 11)
    r = 3
    sh.section(r, 1, "Measurement", 3)
    rows = [
        ("Discount rate per period", config.rate, B.RATE, "ce_in_rate",
         "Per period of the data (a year in the sample). Monthly data from a yearly rate: "
         "=CE_RATE(yearly, 12), i.e. (1+yearly)^(1/12)-1."),
        ("Discounting", config.timing, None, "ce_in_timing",
         "end: like Excel's NPV, period 1 is discounted once. begin: period 1 is not discounted."),
        ("Profile information value Iv", config.iv, B.MONEY, "ce_in_iv",
         "Per customer, the same for all: added once, not discounted (Wang Tao et al.)."),
        ("Classify customers by", config.classify_by, None, "ce_in_classify_by",
         "score: weighted indicators against the cut-offs below; stage: life-cycle stage of the "
         "first purchase; type: the type column of the customer table."),
    ]
    for i, (label, value, nf, name, note) in enumerate(rows):
        sh.named_input(r + 1 + i, label, value, name, nf, note=note, height=30)
    sh.ws.data_validation(r + 2, 2, r + 2, 2, {"validate": "list", "source": ["end", "begin"]})
    sh.ws.data_validation(r + 4, 2, r + 4, 2, {"validate": "list", "source": ["score", "stage", "type"]})
    sh.ws.data_validation(r + 1, 2, r + 1, 2, {"validate": "decimal", "criteria": ">", "value": -1,
                                               "error_message": "A discount rate must be > -100 %."})

    r = 9
    sh.section(r, 1, "Step 1: indicator weights (classification by score)", 3)
    sh.header(r + 1, 1, ["Indicator (column of the table)", "Weight", "What a 5 means"])
    names = _indicators(config)
    for i, ind in enumerate(names):
        sh.value(r + 2 + i, 1, ind, "native")
        sh.value(r + 2 + i, 2, float(config.weights[ind]), "input", B.SCORE)
        sh.note(r + 2 + i, 3, T.INDICATOR_TEXT.get(ind, "rated like the others (1-5)"))
    last = r + 2 + len(names) - 1
    sh.name_range("ce_in_weight_names", r + 2, 1, last, 1)
    sh.name_range("ce_in_weights", r + 2, 2, last, 2)
    sh.text(last + 1, 1, "Sum of weights", "bold")
    sh.formula(last + 1, 2, "=SUM(ce_in_weights)", float(sum(config.weights.values())), "native", B.SCORE)
    sh.note(last + 1, 3, "Weights that add up to 1 keep the score on the 1-5 scale of the cut-offs.")

    r = last + 3
    lay.assume_cutoff_row = r
    sh.section(r, 1, "Step 1: score cut-offs (lowest score of each band)", 3)
    sh.header(r + 1, 1, ["Customer type", "From score", ""])
    for i, (t, c) in enumerate(zip(TYPES[:3], config.cutoffs)):
        sh.value(r + 2 + i, 1, t, "native")
        sh.value(r + 2 + i, 2, float(c), "input", B.SCORE)
    sh.name_range("ce_in_cutoffs", r + 2, 2, r + 4, 2)
    sh.value(r + 5, 1, TYPES[3], "native")
    sh.formula(r + 5, 2, '="below "&TEXT(INDEX(ce_in_cutoffs,3),"0.0#")',
               f"below {_num_text(config.cutoffs[2])}", "native", align="right")
    sh.note(r + 2, 3, "Highest band first. A score of exactly a cut-off belongs to the higher band.")

    r = r + 7
    sh.section(r, 1, "Step 2: transaction income from partner markets", 3)
    sh.header(r + 1, 1, ["Period", "Income", ""])
    for i, v in enumerate(income):
        sh.value(r + 2 + i, 1, i + 1, "native", B.INT, align="center")
        sh.value(r + 2 + i, 2, v, "input", B.MONEY)
    lay.income_first = r + 2
    end = r + 2 + len(income) - 1
    sh.name_range("ce_transaction_periods", r + 2, 1, end, 1)
    sh.name_range("ce_in_transaction_income", r + 2, 2, end, 2)
    sh.merged(r + 2, 3, r + 5, 3, "Income earned with partner markets on the strength of the customers' "
              "trust (joint selling, market access). Each period's income is split evenly over the customers "
              "who carry transaction value then: type Lighthouse or Follower, tv_carrier TRUE, still "
              "retained (Step 2 shows the allocation).", "note")
    sh.merged(r + 6, 3, r + 7, 3, "Leave the income blank to take a tv column from the customer table "
              "instead; do not give both.", "note")
    sh.formula(r + 8, 3, '=IF(AND(SUMPRODUCT(ABS(ce_in_transaction_income*1))>0,SUMPRODUCT(ABS(ce_in_tv*1))>0),'
               '"Both transaction income and a tv column are given: the workbook adds them, '
               'Python\'s measure() refuses. Keep one.","")', "", "label", font_color="#C00000", bold=True,
               text_wrap=True)
    lay.assume_end = end

    # right-hand side: what the colours mean, capabilities, tiers
    c = 5
    sh.section(3, c, "Reading this sheet", c + 6)
    sh.text(4, c, "0.10", "input", align="right", locked=True)
    sh.merged(4, c + 1, 4, c + 6, "an input: change it (the only cells you can edit here)", "text")
    sh.text(5, c, "✓", "ce", align="center")
    sh.merged(5, c + 1, 5, c + 6, "a CE_ function of the add-in (cached result)", "text")
    sh.text(6, c, "text", "native")
    sh.merged(6, c + 1, 6, c + 6, "a fixed label or an ordinary formula", "text")

    r = 9
    sh.section(r, c, "Which kinds of value each type provides", c + 6)
    sh.header(r + 1, c, ["Customer type", *VALUE_KINDS])
    for i, t in enumerate(TYPES):
        sh.value(r + 2 + i, c, t, "native")
    caps = CAPABILITIES.astype(int).tolist()
    sh.spill(r + 2, c + 1, "=CE_CAPABILITIES(ce_type_list)*1", caps, "ce", B.CHECKMARK, align="center")
    sh.merged(r + 6, c, r + 8, c + 6, "CE_CAPABILITIES: the paper's table (Wang Tao et al. 2002). A value "
              "kind a type does not provide is left out of its customers' lifetime value even when the "
              "table holds a number for it. Every type gives Iv.", "note")

    r = lay.assume_cutoff_row
    sh.section(r, c, "Value tiers (customer pyramid)", c + 6)
    sh.header(r + 1, c, ["Tier", "From LTV"])
    tiers = config.tier_cutoffs or (None, None, None)
    for i, (t, v) in enumerate(zip(("Platinum", "Gold", "Iron"), tiers)):
        sh.value(r + 2 + i, c, t, "native")
        sh.value(r + 2 + i, c + 1, v, "input", B.MONEY)
    sh.name_range("ce_in_tier_cutoffs", r + 2, c + 1, r + 4, c + 1)
    sh.value(r + 5, c, "Lead", "native")
    sh.text(r + 5, c + 1, "below Iron", "note")
    sh.merged(r + 1, c + 2, r + 5, c + 6, "Blank: the top 5 % of lifetime values are Platinum, the next "
              "15 % Gold, the next 30 % Iron, the rest Lead (Rust, Zeithaml & Lemon 2000), a contrast to "
              "the paper's four types. Step 2 shows each customer's tier (CE_TIER).", "note")

    sh.protect()
    sh.print_setup(0, 0, lay.assume_end + 1, 11)
    sh.ws.freeze_panes(3, 0)


def _num_text(x):
    s = f"{x:.2f}".rstrip("0")
    return s + "0" if s.endswith(".") else s


def _customers(book, sh, header, rows, config, lay):
    n_ind = lay.k
    widths = [12] + [11] * n_ind + [14, 13, 9, 11, 9, 9, 10, 9, 10, 9, 9, 11, 10]
    sh.widths([max(w, len(h) + 2) for w, h in zip(widths, header)])
    sh.ws.set_row(0, 24)
    sh.text(0, 0, "Customers", "title")
    sh.merged(0, 2, 0, 12, "One row per customer. Paste your own over the rows below (keep the header "
              "in row 3): the table grows with the paste, and every formula reads the whole table. "
              "A per-period amount is the same in each period the customer is retained. Money is in the "
              "currency of your data (one currency throughout; nothing is converted).", "note")
    descriptions = ["Customer ID"] + [f"{T.INDICATOR_TEXT.get(i, i)} (1-5)" for i in header[1:1 + n_ind]] \
        + [d for _, d, _ in VALUE_COLUMNS]
    sh.ws.set_row(1, 68)
    for j, d in enumerate(descriptions):
        sh.text(1, j, d, "subheader")
    formats = [None] + [B.INT] * n_ind + [nf for _, _, nf in VALUE_COLUMNS]
    first, last = 2, 2 + len(rows)
    head_fmt = book.fmt("header", bg_color="#1F4E79")
    columns = [{"header": h, "format": book.fmt("input", f), "header_format": head_fmt}
               for h, f in zip(header, formats)]
    sh.ws.add_table(first, 0, last, len(header) - 1, {
        "name": TABLE, "columns": columns, "data": rows, "style": "Table Style Medium 2",
        "autofilter": True})
    lay.table_first_row = first + 1
    lay.table_last_row = last
    lay.header = header
    col = {h: j for j, h in enumerate(header)}
    lay.col = col

    def dv(name, opts):
        j = col[name]
        sh.ws.data_validation(first + 1, j, last, j, opts)

    for ind in header[1:1 + n_ind]:
        dv(ind, {"validate": "integer", "criteria": "between", "minimum": 1, "maximum": 5,
                 "error_type": "warning", "error_title": "Indicator",
                 "error_message": "Indicators are rated 1-5 for the default cut-offs."})
    dv("stage", {"validate": "list", "source": "=ce_stage_list", "error_type": "warning",
                 "error_title": "Life-cycle stage",
                 "error_message": "introduction, growth, maturity, late maturity or decline; the CE_ "
                                  "functions also take 1-4 and 导入期, 成长期, 成熟期, 衰退期."})
    dv("type", {"validate": "list", "source": "=ce_type_list", "error_type": "warning",
                "error_title": "Customer type",
                "error_message": "Lighthouse, Follower, Rational or Profit-seeking."})
    dv("periods", {"validate": "integer", "criteria": ">=", "value": 0,
                   "error_message": "Retention time is a whole number of periods >= 0."})
    dv("capacity", {"validate": "decimal", "criteria": ">=", "value": 0,
                    "error_message": "Spending capacity is >= 0."})
    dv("share", {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1,
                 "error_message": "Share of wallet lies in [0, 1]."})
    dv("reach", {"validate": "decimal", "criteria": ">=", "value": 0,
                 "error_message": "Reach (people) is >= 0."})
    dv("tv_carrier", {"validate": "list", "source": ["TRUE", "FALSE"]})
    sh.ws.freeze_panes(first + 1, 1)
    sh.print_setup(0, 0, last, len(header) - 1, repeat=(first, first))
    for h in header:
        book.define(f"ce_in_{h}" if h != "customer_id" else "ce_in_customer_id", f"={TABLE}[{h}]")
    book.define("ce_in_indicators", f"={TABLE}[[{header[1]}]:[{header[n_ind]}]]")
    book.define("ce_in_customers", f"={TABLE}[#All]")


def customer_table(book, customers_sheet, lists_sheet, customers, config):
    """The ``Customers`` table of ``customers`` and the Lists sheet its drop-downs read.

    Writes the two sheets as the measurement template has them and defines
    ``ce_in_customers`` (``=Customers[#All]``) and ``ce_in_<column>`` on the table; the
    what-if template shares them. Returns the layout (rows of the table).
    """
    header, rows = table_rows(customers, config)
    lay = _Layout(len(rows), len(_indicators(config)), 0)
    _lists(book, lists_sheet)
    _customers(book, customers_sheet, header, rows, config, lay)
    return lay


def _names(book, config, lay):
    """The per-customer CE_ results by their spill ranges, and the native checks."""
    sizes = {"ce_weighted_score": (lay.n if lay.score_shown else 1, 1), "ce_tv": (lay.n, lay.t)}
    for name in ANCHOR_FORMULAS:
        book.define_spill(name, *ANCHORS[name], *sizes.get(name, (lay.n, 1)))
    for name, formula in NAMED.items():
        book.define(name, formula)


def _per_customer_header(sh, col, labels, roles):
    for j, (label, role) in enumerate(zip(labels, roles)):
        sh.text(P0 - 1, col + j, label, "header" if role != "check" else "header",
                bg_color={"ce": "#2E75B6", "check": "#548235", "native": "#1F4E79",
                          "input": "#BF8F00"}[role])
    sh.ws.set_row(P0 - 1, 45)


def _step1(book, sh, customers, config, m, lay):
    sh.widths([2, 12, 14, 10, 15, 10, 15, 9, 3, 16, 12, 12, 10])
    sh.title(0, "Step 1: classify the customers into the four types",
             "Each customer gets a type. By score: the weighted indicator score "
             "(CE_SCORE = Σ weight × rating) against the cut-offs (CE_SEGMENT). By stage: the product's "
             "life-cycle stage at the first purchase (CE_SEGMENT_STAGE): introduction → Lighthouse, "
             "growth → Follower, maturity → Rational, late maturity/decline → Profit-seeking.", 12)
    sh.ws.set_row(1, 45)
    sh.text(3, 1, "Classified by", "bold")
    sh.formula(3, 3, "=ce_in_classify_by", config.classify_by, "native", bold=True)
    sh.note(3, 4, "← set on Assumptions", 6)
    sh.text(4, 1, "Score", "bold")
    sh.merged(4, 2, 4, 7, "score = Σ_k weight_k × indicator_k   (MMULT(indicators, weights) in Excel)",
              "formula_text")
    sh.text(5, 1, "Types", "bold")
    sh.merged(5, 2, 5, 7, "Lighthouse from the first cut-off, Follower from the second, Rational from "
              "the third, Profit-seeking below", "formula_text")
    sh.note(8, 1, T.STEP1_NOTE, 7, 30)

    codes = pd.Categorical(m.customers["type"], categories=list(TYPES)).codes
    ids = table_col(customers, "customer_id")
    stages = table_col(customers, "stage")
    score = weighted_score(customers[_indicators(config)].to_numpy(), list(config.weights.values())) \
        if all(c in customers for c in _indicators(config)) else None
    labels = ["Customer", "Stage", "Score (CE_SCORE)", "Type (ce_types)", "Score (check: MMULT)",
              "Type (check)", "Same type?"]
    roles = ["native", "native", "ce", "ce", "check", "check", "native"]
    _per_customer_header(sh, 1, labels, roles)
    types = [[t] for t in m.customers["type"].astype(str)]
    sh.spill(P0, 1, "=ce_in_customer_id", _col(ids), "native")
    sh.spill(P0, 2, "=ce_in_stage", _col(stages), "native")
    if lay.score_shown:
        sh.spill(P0, 3, ANCHOR_FORMULAS["ce_weighted_score"], _col(score), "ce", B.SCORE)
        sh.spill(P0, 5, '=IF(ce_in_classify_by="score",chk_score,"")', _col(lay.chk.score), "check", B.SCORE)
    else:
        sh.formula(P0, 3, ANCHOR_FORMULAS["ce_weighted_score"], "", "ce")
        sh.formula(P0, 5, '=IF(ce_in_classify_by="score",chk_score,"")', "", "check")
    sh.spill(P0, 4, ANCHOR_FORMULAS["ce_types"], types, "ce")
    sh.spill(P0, 6, "=chk_types", [[t] for t in lay.chk.types], "check")
    same = [["✓" if a[0].lower() == b.lower() else "✗"] for a, b in zip(types, lay.chk.types)]
    sh.spill(P0, 7, '=IF(ce_types=chk_types,"✓","✗")', same, "native", align="center")
    last = P0 + lay.n - 1
    if lay.score_shown:
        sh.cross_check(B.area(P0, 5, last, 5), B.area(P0, 3, last, 3))
    sh.cross_check(B.area(P0, 6, last, 6), B.area(P0, 4, last, 4))

    # counts per type
    c = 9
    sh.section(3, c, "Customers per type", c + 3)
    sh.header(4, c, ["Type", "CE_ types", "Check types", "Same?"])
    counts = np.bincount(codes[codes >= 0], minlength=4)
    for i, t in enumerate(TYPES):
        chk_count = int(np.sum(lay.chk.code == i + 1))
        sh.value(5 + i, c, t, "native")
        sh.formula(5 + i, c + 1, f"=SUMPRODUCT((ce_types={B.cell(5 + i, c)})*1)", int(counts[i]), "native",
                   B.INT)
        sh.formula(5 + i, c + 2, f"=SUMPRODUCT((chk_code={i + 1})*1)", chk_count, "check", B.INT)
        sh.check_status(5 + i, c + 3, f"{B.cell(5 + i, c + 1)}-{B.cell(5 + i, c + 2)}",
                        int(counts[i]) - chk_count)
    sh.cross_check(B.area(5, c + 2, 8, c + 2), B.area(EQ_ROW + 1, 2, EQ_ROW + 4, 2), S_STEP3)
    sh.ws.freeze_panes(P0, 0)
    sh.protect()
    sh.print_setup(0, 0, P0 + lay.n - 1, 12, repeat=(P0 - 1, P0 - 1))


def table_col(customers, name):
    """A table column as the workbook shows it (blank for a missing column)."""
    if name not in customers:
        if name == "customer_id":
            return [f"C{k + 1:07d}" for k in range(len(customers))]
        return [None] * len(customers)
    out = []
    for v in customers[name].tolist():
        if isinstance(v, float) and math.isnan(v):
            v = None
        out.append(v)
    return out


def _step2(book, sh, customers, config, m, income, lay):
    sh.widths([2, 12, 14, 8, 11, 10, 11, 10, 9, 9, 10, 7, 11, 9, 11, 9, 3, 8, 11, 9, 11, 9, 11])
    sh.title(0, "Step 2: value each customer by the kinds of value its type provides",
             "Per period: PV = capacity × share × margin (CE_PV), PPV = influence × reach × purchase value "
             "of those influenced (CE_PPV), CV and KV from the table, TV from the allocation on the right. "
             "Discounted over the customer's retention time and restricted to the type's kinds (CE_LTV_TYPE).",
             15)
    sh.ws.set_row(1, 45)
    sh.text(3, 1, "Lifetime value", "bold")
    sh.merged(3, 3, 3, 12, "LTV = Σ_t (PV + PPV + CV + KV + TV)_t × (1 + i)^-t + Iv,  only the kinds the "
              "type provides", "formula_text")
    sh.text(4, 1, "Check", "bold")
    sh.merged(4, 3, 4, 12, "PV(i, periods, -1) × per-period value + allocated TV + Iv, with Excel's PV "
              "function (the annuity factor)", "formula_text")
    sh.text(5, 1, "Largest |difference|", "bold")
    ltv = m.customers["ltv"].to_numpy()
    worst = B.largest_difference(ltv, lay.chk.ltv)
    sh.formula(5, 3, "=MAX(ABS(ce_customer_ltv-chk_ltv))", worst, "native", B.DIFF)
    sh.check_status(5, 4, B.cell(5, 3), worst)
    sh.note(7, 1, "Blue: CE_ functions (one formula per column, spilling one row per customer). Each "
            "discounted column keeps only what the type provides: KV only for Lighthouse, TV for Lighthouse "
            "and Follower, PPV and CV for all but Profit-seeking.", 14, 30)

    pv = purchase_value(_num(customers, "capacity"), _num(customers, "share"), _num(customers, "margin"))
    ppv = word_of_mouth_value(_num(customers, "influence"), _num(customers, "reach"),
                              _num(customers, "avg_value"))
    mc = m.customers
    comp_formula = {
        "pv": "=CE_LTV_TYPE(ce_types,ce_in_rate,ce_in_periods,ce_pv_per_period,0,0,0,0,0,ce_in_timing)",
        "ppv": "=CE_LTV_TYPE(ce_types,ce_in_rate,ce_in_periods,0,ce_ppv_per_period,0,0,0,0,ce_in_timing)",
        "cv": "=CE_LTV_TYPE(ce_types,ce_in_rate,ce_in_periods,0,0,ce_in_cv,0,0,0,ce_in_timing)",
        "kv": "=CE_LTV_TYPE(ce_types,ce_in_rate,ce_in_periods,0,0,0,ce_in_kv,0,0,ce_in_timing)",
        "tv": "=CE_LTV_TYPE(ce_types,ce_in_rate,ce_in_periods,0,0,0,0,ce_tv,0,ce_in_timing)",
        "iv": "=CE_LTV_TYPE(ce_types,ce_in_rate,ce_in_periods,0,0,0,0,0,ce_in_iv,ce_in_timing)",
    }
    labels = ["Customer", "Type", "Periods", "PV per period", "PPV per period",
              "PV", "PPV", "CV", "KV", "TV", "Iv", "LTV", "Tier", "LTV (check)", "Difference"]
    roles = ["native", "ce", "native", "ce", "ce", "ce", "ce", "ce", "ce", "ce", "ce", "ce", "ce", "check",
             "native"]
    _per_customer_header(sh, 1, labels, roles)
    sh.ws.merge_range(P0 - 2, 6, P0 - 2, 11, "Discounted, restricted to the type (CE_LTV_TYPE)",
                      book.fmt("subheader", align="center"))
    sh.spill(P0, 1, "=ce_in_customer_id", _col(table_col(customers, "customer_id")), "native")
    sh.spill(P0, 2, "=ce_types", _col(mc["type"].astype(str)), "ce")
    sh.spill(P0, 3, "=ce_in_periods", _col(table_col(customers, "periods")), "native", B.INT)
    sh.spill(P0, 4, ANCHOR_FORMULAS["ce_pv_per_period"], _col(np.broadcast_to(pv, (lay.n,))), "ce", B.MONEY2)
    sh.spill(P0, 5, ANCHOR_FORMULAS["ce_ppv_per_period"], _col(np.broadcast_to(ppv, (lay.n,))), "ce", B.MONEY2)
    for j, k in enumerate(("pv", "ppv", "cv", "kv", "tv", "iv")):
        sh.spill(P0, 6 + j, comp_formula[k], _col(mc[k]), "ce", B.MONEY)
    sh.spill(P0, 12, ANCHOR_FORMULAS["ce_customer_ltv"], _col(ltv), "ce", B.MONEY)
    tier_formula = TIER_FORMULA
    sh.spill(P0, 13, tier_formula, _col(mc["tier"].astype(str)), "ce")
    sh.spill(P0, 14, "=chk_ltv", _col(lay.chk.ltv), "check", B.MONEY)
    # rounded: float noise between two ways of adding up would show as a red -0.00
    sh.spill(P0, 15, "=ROUND(ce_customer_ltv-chk_ltv,6)", _col(np.round(ltv - lay.chk.ltv, 6) + 0.0), "native",
             B.DIFF)
    sh.cross_check(B.area(P0, 14, P0 + lay.n - 1, 14), B.area(P0, 12, P0 + lay.n - 1, 12))

    # transaction value allocation (native)
    c = 17
    r = 3
    sh.section(r, c, "Transaction value: income split over its carriers", c + 5)
    sh.merged(r + 1, c, r + 3, c + 5, "Each period's income (Assumptions) is divided evenly among the "
              "customers who carry transaction value then (Lighthouse or Follower, tv_carrier TRUE, still "
              "retained). CE_TV_ALLOCATE does this inside ce_tv; the green table does it with SUMPRODUCT.",
              "note")
    labels = ["Period", "Income", "Carriers", "Per carrier", "Discount factor", "Discounted per carrier"]
    for j, label in enumerate(labels):
        sh.text(P0 - 1, c + j, label, "header", bg_color="#548235")
    chk = lay.chk
    for i in range(len(income)):
        row = P0 + i
        t = i + 1
        inc_v, n_car = float(chk.income[i]), float(chk.carriers[i])
        per, factor = float(chk.per_carrier[i]), float(chk.factor[i])
        sh.formula(row, c, f"=INDEX(ce_transaction_periods,{t})", t, "native", B.INT, align="center")
        sh.formula(row, c + 1, f"=INDEX(ce_in_transaction_income,{t})", inc_v, "native", B.MONEY)
        sh.formula(row, c + 2, f"=SUMPRODUCT((chk_code<=2)*(ce_in_tv_carrier*1)*(ce_in_periods>="
                               f"{B.cell(row, c)}))", n_car, "check", B.INT)
        sh.formula(row, c + 3, f"=IF({B.cell(row, c + 2)}>0,{B.cell(row, c + 1)}/{B.cell(row, c + 2)},0)",
                   per, "check", B.MONEY2)
        sh.formula(row, c + 4, f'=(1+ce_in_rate)^-({B.cell(row, c)}-(ce_in_timing="begin"))', factor,
                   "check", "0.0000")
        sh.formula(row, c + 5, f"={B.cell(row, c + 3)}*{B.cell(row, c + 4)}", per * factor, "check", B.MONEY2)
    sh.name_range("chk_tv_per_carrier", P0, c + 5, P0 + len(income) - 1, c + 5)

    # transaction value per customer and period (CE_): the name ce_tv, read by three formulas
    c = TV_COL
    sh.section(r, c, "Transaction value per customer and period (ce_tv)", c + 5)
    sh.merged(r + 1, c, r + 3, c + 5, "CE_TV_ALLOCATE: each period's income split over the carriers "
              "(Lighthouse or Follower, tv_carrier TRUE, still retained), plus the table's tv column. "
              "One formula, one row per customer, one column per period; the TV, LTV and composition "
              "formulas read it by its name, ce_tv.", "note")
    for t in range(lay.t):
        sh.text(P0 - 1, c + t, f"Period {t + 1}", "header", bg_color="#2E75B6")
    sh.widths([9] * lay.t, c)
    sh.spill(P0, c, ANCHOR_FORMULAS["ce_tv"], tv_per_period(customers, m, income).tolist(), "ce", B.MONEY2)
    sh.ws.freeze_panes(P0, 0)
    sh.protect()
    sh.print_setup(0, 0, P0 + lay.n - 1, c + 5, repeat=(P0 - 2, P0 - 1))


def tv_per_period(customers, m, income):
    """Transaction value per customer and period as ``ce_tv`` computes it (customers x periods):
    the income of each period split over its carriers, plus the table's tv column."""
    n = len(customers)
    codes = pd.Categorical(m.customers["type"], categories=list(TYPES)).codes
    provides = CAPABILITIES[:, 4].astype(bool)[codes]
    carrier = np.asarray([bool(_excel_number(v)) for v in table_col(customers, "tv_carrier")]) \
        if "tv_carrier" in customers else np.ones(n, dtype=bool)
    periods = _num(customers, "periods")
    t = np.arange(1, len(income) + 1, dtype=float)
    carriers = (carrier & provides)[:, None] & (periods[:, None] >= t[None, :])
    amounts = [0.0 if v is None else float(v) for v in income]
    return allocate_transaction_value(amounts, carriers) + _num(customers, "tv")[:, None]


def _num(customers, name):
    if name not in customers:
        return np.zeros(len(customers))
    return np.nan_to_num(np.asarray(customers[name], dtype=float), nan=0.0)


def _step3(book, sh, config, m, lay):
    sh.widths([2, 16, 16, 13, 12, 12, 13, 12, 10, 3, 12, 12, 12, 12, 12, 12, 12, 12])
    sh.title(0, "Step 3: customer equity, by type and by kind of value",
             "Customer equity is the sum of all customers' lifetime values; here split by customer type "
             "(CE_EQUITY_TABLE) and by value kind × type, the paper's two-dimensional model (CE_COMPOSITION). "
             "Money is in the currency of the customer table, discounted to today.", 16)
    sh.ws.set_row(1, 30)
    r = 3
    sh.text(r, 1, "Customer equity", "bold", font_size=12)
    sh.formula(r, 2, "=CE_EQUITY(ce_types,ce_customer_ltv)", m.equity, "big", B.MONEY)
    sh.ws.set_row(r, 28)
    sh.text(r, 3, "check", "note", align="right")
    chk_equity = float(np.sum(lay.chk.ltv))
    sh.formula(r, 4, "=SUMPRODUCT(chk_ltv)", chk_equity, "big_check", B.MONEY)
    sh.check_status(r, 5, f"{B.cell(r, 2)}-{B.cell(r, 4)}", m.equity - chk_equity)
    sh.cross_check(B.cell(r, 4, False, False), B.cell(r, 2, False, False))
    sh.name_range("ce_equity_total", r, 2)
    sh.formula(r + 1, 1, '=TEXT(ROWS(ce_in_periods),"#,##0")&" customers, "&TEXT(ce_in_rate,"0.0%")&'
                         '" per period, "&ce_in_timing&"-of-period discounting, classified by "&'
                         'ce_in_classify_by&", Iv "&TEXT(ce_in_iv,"#,##0")',
               f"{lay.n:,} customers, {config.rate * 100:.1f}% per period, {config.timing}-of-period "
               f"discounting, classified by {config.classify_by}, Iv {config.iv:,.0f}", "native",
               border=0, italic=True)

    # equity by type
    r = EQ_ROW - 1
    lay.eq_row = r + 1
    sh.section(r, 1, "Equity by customer type", 8)
    eq = as_table(m.by_type, "type")
    sh.spill(r + 1, 1, "=CE_EQUITY_TABLE(ce_types,ce_customer_ltv)", eq, "ce",
             [None, "#,##0", B.MONEY, B.PCT, B.MONEY], header={"bg_color": "#2E75B6"}, label_col=True)
    sh.text(r + 1, 6, "Equity (check)", "header", bg_color="#548235")
    sh.text(r + 1, 7, "Difference", "header")
    sh.text(r + 1, 8, "", "header")
    for i in range(5):
        row = r + 2 + i
        f = "=SUMPRODUCT(chk_ltv)" if i == 4 else f"=SUMPRODUCT((chk_code={i + 1})*chk_ltv)"
        chk = float(np.sum(lay.chk.ltv if i == 4 else lay.chk.ltv * (lay.chk.code == i + 1)))
        diff = float(m.by_type["equity"].iloc[i]) - chk
        sh.formula(row, 6, f, chk, "check", B.MONEY)
        sh.formula(row, 7, f"=ROUND({B.cell(row, 3)}-{B.cell(row, 6)},6)", round(diff, 6) + 0.0, "native",
                   B.DIFF)
        sh.check_status(row, 8, B.cell(row, 7), diff)
    sh.cross_check(B.area(r + 2, 6, r + 6, 6), B.area(r + 2, 3, r + 6, 3))
    sh.name_range("ce_equity_by_type", r + 1, 1, r + 6, 5)
    sh.note(r + 8, 1, "share = share of total equity; average = equity per customer. Check: "
            "SUMPRODUCT((type = k) × LTV) with Excel's own classification and PV.", 8, 30)

    # structure
    r = 16
    sh.section(r, 1, "Type structure", 8)
    sh.header(r + 1, 1, ["Type", "Customers", "Share of customers", "Equity", "Share of equity",
                         "Average value"])
    sh.ws.set_row(r + 1, 30)
    struct = m.structure
    eq_first = lay.eq_row + 1
    for i, t in enumerate(TYPES):
        row = r + 2 + i
        src = eq_first + i
        total = eq_first + 4
        sh.value(row, 1, t, "native")
        sh.formula(row, 2, f"={B.cell(src, 2, False)}", int(m.counts[i]), "native", "#,##0")
        sh.formula(row, 3, f"={B.cell(src, 2, False)}/{B.cell(total, 2)}",
                   float(struct["customer_share"].iloc[i]), "native", B.PCT)
        sh.formula(row, 4, f"={B.cell(src, 3, False)}", float(m.by_type["equity"].iloc[i]), "native", B.MONEY)
        sh.formula(row, 5, f"={B.cell(src, 4, False)}", float(struct["equity_share"].iloc[i]), "native", B.PCT)
        avg = m.by_type["average"].iloc[i]
        sh.formula(row, 6, f"={B.cell(src, 5, False)}", "" if np.isnan(avg) else float(avg), "native",
                   B.MONEY)
    lay.struct_row = r + 2
    sh.note(r + 6, 1, "Firms compare their structure over time and with competitors: a base rich in "
            "Lighthouse and Follower customers carries more kinds of value per customer.", 8, 30)

    # composition
    r = 24
    lay.comp_row = r + 1
    sh.section(r, 1, "Composition: value kind × customer type (discounted)", 8)
    comp = as_table(m.composition, "value kind")
    sh.spill(r + 1, 1, "=CE_COMPOSITION(ce_types,ce_in_rate,ce_in_periods,ce_pv_per_period,ce_ppv_per_period,ce_in_cv,ce_in_kv,"
             "ce_tv,ce_in_iv,ce_in_timing)", comp, "ce", B.MONEY, header={"bg_color": "#2E75B6"},
             label_col=True)
    sh.text(r + 1, 7, "Total (check)", "header", bg_color="#548235")
    sh.text(r + 1, 8, "", "header")
    kinds = ("chk_pv", "chk_ppv", "chk_cv", "chk_kv", "chk_tv")
    for i in range(7):
        row = r + 2 + i
        if i < 5:
            f = f"=SUMPRODUCT({kinds[i]})"
        elif i == 5:
            f = "=ce_in_iv*ROWS(ce_in_periods)"
        else:
            f = "=SUMPRODUCT(chk_ltv)"
        c = lay.chk
        chk = float([np.sum(c.pv), np.sum(c.ppv), np.sum(c.cv), np.sum(c.kv), np.sum(c.tv),
                     float(config.iv) * lay.n, np.sum(c.ltv)][i])
        sh.formula(row, 7, f, chk, "check", B.MONEY)
        sh.check_status(row, 8, f"{B.cell(row, 6)}-{B.cell(row, 7)}",
                        float(m.composition["Total"].iloc[i]) - chk)
    sh.cross_check(B.area(r + 2, 7, r + 8, 7), B.area(r + 2, 6, r + 8, 6))
    sh.name_range("ce_equity_composition", r + 1, 1, r + 8, 6)
    sh.note(r + 10, 1, "Rows: purchase (PV), word-of-mouth (PPV), contact information (CV), knowledge (KV), "
            "transaction (TV) value and profile information (Iv). A type's empty cells are the kinds it does "
            "not provide. The bottom-right cell is customer equity.", 8, 42)

    # python block
    r = 37
    sh.section(r, 1, "Check: the same table from Python's measure() (written by the Refresh button)", 8)
    py = as_table(m.by_type, "type")
    for j in range(5):
        sh.text(r + 1, 1 + j, py[0][j], "header", bg_color="#7030A0", locked=False)  # ce_out_: unlocked
    for i in range(1, 6):
        sh.value(r + 1 + i, 1, py[i][0], "python", bold=True)
        for j, nf in zip(range(1, 5), ["#,##0", B.MONEY, B.PCT, B.MONEY]):
            sh.value(r + 1 + i, 1 + j, py[i][j], "python", nf)
    sh.name_range("ce_out_by_type", r + 1, 1, r + 6, 5)
    sh.value(r + 7, 1, stamp(m), "python", italic=True)
    sh.name_range("ce_out_stamp", r + 7, 1)
    sh.text(r + 2, 6, "Same as CE_?", "note", align="right")
    same = m.equity - float(py[5][2])
    sh.formula(r + 2, 7, f"={B.cell(lay.eq_row + 5, 3)}-{B.cell(r + 6, 3)}", same, "native", B.DIFF)
    sh.check_status(r + 2, 8, B.cell(r + 2, 7), same)
    sh.merged(r + 3, 6, r + 6, 8, "Python writes this block only when you press Refresh; it does not "
              "need the CE_ functions (useful on a Mac, where only Refresh works).", "note")

    _charts(book, sh, lay)
    sh.protect()
    sh.print_setup(0, 0, r + 8, 17, fit_tall=1)


def _charts(book, sh, lay):
    wb = book.wb
    name = sh.name
    first = lay.eq_row + 1
    colors = ["#1F4E79", "#2E75B6", "#9DC3E6", "#BDD7EE"]
    chart = wb.add_chart({"type": "column"})
    chart.add_series({
        "name": "Customer equity",
        "categories": "=" + B.sheet_ref(name, B.area(first, 1, first + 3, 1)),
        "values": "=" + B.sheet_ref(name, B.area(first, 3, first + 3, 3)),
        "points": [{"fill": {"color": c}} for c in colors],
        "data_labels": {"value": True, "num_format": "#,##0"},
    })
    chart.set_title({"name": "Customer equity by type", "name_font": {"size": 11}})
    chart.set_legend({"none": True})
    chart.set_y_axis({"num_format": "#,##0", "major_gridlines": {"visible": True,
                                                                 "line": {"color": "#D9D9D9"}}})
    chart.set_size({"width": 560, "height": 290})
    sh.ws.insert_chart(B.cell(3, 10, False, False), chart, {"x_offset": 5, "y_offset": 5})

    comp = wb.add_chart({"type": "column", "subtype": "stacked"})
    kinds_colors = ["#1F4E79", "#2E75B6", "#70AD47", "#FFC000", "#ED7D31", "#A5A5A5"]
    top = lay.comp_row
    for i in range(6):
        row = top + 1 + i
        comp.add_series({
            "name": "=" + B.sheet_ref(name, B.cell(row, 1)),
            "categories": "=" + B.sheet_ref(name, B.area(top, 2, top, 5)),
            "values": "=" + B.sheet_ref(name, B.area(row, 2, row, 5)),
            "fill": {"color": kinds_colors[i]},
            "gap": 60,
        })
    comp.set_title({"name": "Composition: value kinds within each type", "name_font": {"size": 11}})
    comp.set_y_axis({"num_format": "#,##0", "major_gridlines": {"visible": True,
                                                               "line": {"color": "#D9D9D9"}}})
    comp.set_legend({"position": "right"})
    comp.set_size({"width": 560, "height": 290})
    sh.ws.insert_chart(B.cell(18, 10, False, False), comp, {"x_offset": 5, "y_offset": 5})

    st = wb.add_chart({"type": "bar"})
    srow = lay.struct_row
    for col, label, color in ((3, "Share of customers", "#A5A5A5"), (5, "Share of equity", "#1F4E79")):
        st.add_series({
            "name": label,
            "categories": "=" + B.sheet_ref(name, B.area(srow, 1, srow + 3, 1)),
            "values": "=" + B.sheet_ref(name, B.area(srow, col, srow + 3, col)),
            "fill": {"color": color},
            "data_labels": {"value": True, "num_format": "0%"},
        })
    st.set_title({"name": "Type structure: customers vs equity", "name_font": {"size": 11}})
    st.set_x_axis({"num_format": "0%", "max": 1})
    st.set_y_axis({"reverse": True})
    st.set_legend({"position": "bottom"})
    st.set_size({"width": 560, "height": 290})
    sh.ws.insert_chart(B.cell(33, 10, False, False), st, {"x_offset": 5, "y_offset": 5})


def _readme(book, sh, config, lay):
    sh.widths([2, 22, 16, 16, 16, 16, 16, 16, 16])
    sh.title(0, "Customer equity measurement",
             "Customer equity is the discounted lifetime value of all of a firm's customers. This workbook "
             "measures it in the three steps of Wang Tao et al. (2002), on 1,000 sample customers you can "
             "replace with your own.", 8)
    r = 3
    sh.section(r, 1, "The three steps", 8)
    steps = T.STEPS
    sh.header(r + 1, 1, ["Sheet", "What it does", "", "", "Formula", "", "", ""])
    sh.ws.merge_range(r + 1, 2, r + 1, 4, "What it does", book.fmt("header"))
    sh.ws.merge_range(r + 1, 5, r + 1, 8, "Formula", book.fmt("header"))
    for i, (s, what, f) in enumerate(steps):
        row = r + 2 + i
        sh.text(row, 1, s, "bold")
        sh.merged(row, 2, row, 4, what, "text")
        sh.merged(row, 5, row, 8, f, "formula_text")
        sh.ws.set_row(row, 32)
    r = r + 6
    sh.section(r, 1, "The five kinds of value and who provides them", 8)
    kinds = T.KINDS
    for i, (k, text) in enumerate(kinds):
        sh.text(r + 1 + i, 1, k, "bold")
        sh.merged(r + 1 + i, 2, r + 1 + i, 8, text, "text")
    sh.merged(r + 7, 1, r + 7, 8, "Lighthouse: all five. Follower: no KV. Rational: PV, PPV, CV. "
              "Profit-seeking: PV only. Everyone: Iv. (Assumptions shows the table.)", "note")
    r = r + 9
    r = B.legend(sh, r, 1)
    sh.section(r, 1, "Measure your own customers", 8)
    how = T.HOW
    sh.paragraphs(r, how, 30)
    r = r + 6
    sh.section(r, 1, "Good to know", 8)
    notes = T.NOTES
    sh.paragraphs(r, notes, 32)
    sh.protect()
    sh.print_setup(0, 0, r + 1 + len(notes), 8, landscape=False, fit_tall=1)


