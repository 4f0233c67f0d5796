"""The Excel functions (``=CE_LTV(...)`` and friends): thin xlwings wrappers over the core.

Each function converts the cells it is given, lets the core validate and compute,
and returns a value or a spilled array. The same module serves the Windows add-in
(xlwings COM: "UDF Modules = customer_equity.excel.functions") and xlwings Lite / xlwings
Server (Office.js: Excel on Mac, Windows and the web), because the decorators come
from the top-level ``xlwings`` package, which picks the runtime's implementation.

Arguments arrive raw, never pre-converted by xlwings; :mod:`customer_equity.excel.cells` reads
them (blanks, text, TRUE/FALSE, error values, dates) so that the core can name the
argument and the cell's position when one is wrong, and writes the results back.

Names
-----
Each function's docstring (the description Excel shows) ends with the Python function
of :mod:`customer_equity.model` behind it, which takes the same arguments in the same
order. The Excel names are short and follow the papers' abbreviations (PV, PPV, TV,
LTV); the Python names spell the formula out, numpy-financial style:

==================  ==========================  ==========================================
Excel               Python                      why the name differs
==================  ==========================  ==========================================
CE_PV               purchase_value              PV is the paper's purchase value
CE_PPV              word_of_mouth_value         PPV is the paper's word-of-mouth value
CE_TV_ALLOCATE      allocate_transaction_value  carriers may also be types in Excel
CE_LTV              ltv_contribution            the plain LTV (NPV of margins) in Excel
CE_LTV_SOW          ltv_share_of_wallet
CE_LTV_INDIRECT     ltv_indirect
CE_LTV_RETENTION    ltv_retention
CE_LTV_VALUES       ltv_values                  (periods second, required in Excel)
CE_LTV_TYPE         ltv_type
CE_EXCLUDED         excluded_cells              Excel adds a header row
CE_CAPABILITIES     capabilities                Excel takes a column of types
CE_SCORE            weighted_score
CE_SEGMENT          segment_by_score
CE_SEGMENT_STAGE    segment_by_stage
CE_TIER             value_tier
CE_EQUITY           customer_equity
CE_EQUITY_TABLE     equity_table
CE_COMPOSITION      composition_matrix
CE_LINKS            solid_links
CE_RATE             per_period_rate             Excel's RATE family is short
CE_LOG_SUMMARY      forecast.summary_data       Excel adds a header row, ids as they came
CE_BGNBD_FIT        forecast.fit_bgnbd          Excel spills a labelled table
CE_P_ALIVE          forecast.p_alive
CE_EXPECTED_...     forecast.expected_purchases (CE_EXPECTED_PURCHASES; horizon second)
CE_GAMMA_GAMMA_FIT  forecast.fit_gamma_gamma    Excel spills a labelled table
CE_EXPECTED_SPEND   forecast.expected_spend
CE_FORECAST_LTV     forecast.forecast_clv       of forecast_values: one call in Excel
CE_STRUCTURE        structure_from_values       the order of CE_COMPOSITION (periods third)
CE_STRUCTURE_COUNTS structure_from_counts
CE_STRUCTURE_COMPARE compare_structures         two ranges, from and to, instead of a list
CE_WHATIF           what_if                     config: a 2-column range of settings
CE_WHATIF_GRID      what_if_grid
CE_RETENTION_WATCH  retention_watch
CE_PROSPECTS        screen_prospects            tables with their header rows
CE_PROSPECT_WEIGHTS prospect_weights
==================  ==========================  ==========================================
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math

import numpy as np
import pandas as pd
import xlwings as xw

from .._version import __version__
from . import cells
from .. import model as core
from ..errors import CustomerEquityError
from .. import reading
from ..model import labels
from ..model import forecast as _fc
from ..model.forecast import data as _fc_data

CATEGORY = "Customer Equity"

#: What ``from customer_equity.excel.functions import *`` brings into xlwings Lite's main.py.
__all__ = ["ce_pv", "ce_ppv", "ce_tv_allocate", "ce_ltv", "ce_ltv_sow", "ce_ltv_indirect",
           "ce_ltv_retention", "ce_ltv_values", "ce_ltv_type", "ce_excluded", "ce_capabilities", "ce_score",
           "ce_segment", "ce_segment_stage", "ce_tier", "ce_equity", "ce_equity_table",
           "ce_composition", "ce_links", "ce_rate", "ce_version",
           # forecasts from a transaction log
           "ce_log_summary", "ce_bgnbd_fit", "ce_p_alive", "ce_expected_purchases",
           "ce_gamma_gamma_fit", "ce_expected_spend", "ce_forecast_ltv",
           # decisions: structure, what-if, retention, prospects
           "ce_structure", "ce_structure_counts", "ce_structure_compare", "ce_whatif",
           "ce_whatif_grid", "ce_retention_watch", "ce_prospects", "ce_prospect_weights"]

_RATE = "Discount rate per period (0.1 for 10 %), > -1."
_PERIODS = ("Number of periods (retention time), a whole number >= 0; one per row or one for all. "
            "Default: the number of value columns.")
_TIMING = '"end" (default, like NPV: period 1 is discounted once) or "begin".'
_VALUES = "One column per period (a block), or one column = the same amount every period."


def _runtime():
    """Which xlwings implementation decorates this module: "com", "officejs" or "python".

    Decided at import, like ``xlwings.func`` itself: ``xlwings.udfs`` on Windows (COM),
    ``xlwings.pro.udfs_officejs`` in xlwings Lite and xlwings Server (Office.js).
    """
    module = getattr(xw.func, "__module__", "")
    if module == "xlwings.udfs":
        return "com"
    if module.startswith("xlwings.pro") or module.startswith("xlwings.server"):
        return "officejs"
    return "python"


RUNTIME = _runtime()


def _error_result(func_name, err):
    """Office.js: #VALUE! with the message on the cell's error flag (XlwingsError is the
    exception xlwings shows in production). COM: xlwings cannot return a real error
    value (xlwings issue 776), so the cell shows the text "#VALUE! <message>" instead
    of a traceback. Plain Python: the exception itself."""
    message = f"{func_name.upper()}: {err}"
    if RUNTIME == "officejs":
        raise xw.XlwingsError(message) from None
    if RUNTIME == "com":
        return [[f"#VALUE! {message}"]]
    raise err


def _guard(f):
    """Read the raw cells, call, write the result as rows of cells, and turn our
    CustomerEquityError into a readable error in the cell on either runtime."""

    names = list(inspect.signature(f).parameters)

    @functools.wraps(f)
    def wrapper(*args):
        try:
            # an overflow is no warning here: cells.write refuses the non-finite result
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                return cells.write(f(*(cells.read(a, RUNTIME, n) for n, a in zip(names, args))))
        except CustomerEquityError as err:
            return _error_result(f.__name__, err)

    return wrapper


def excel_function(**arg_docs):
    """The one decorator of a CE_ function: xlwings' ``func``, ``ret`` and one ``arg`` per
    parameter (raw values, with its help text), around :func:`_guard`.

    xlwings' ``raw`` converter hands over what the runtime delivers without a Python
    pass over every cell (on 100,000 rows xlwings' cleaning costs more than our whole
    calculation): a scalar for one cell, rows of values for a range;
    :func:`customer_equity.excel.cells.read` does the rest.
    """

    def decorate(f):
        wrapped = _guard(f)
        for name, doc in reversed(arg_docs.items()):
            wrapped = xw.arg(name, "raw", doc=doc)(wrapped)
        return xw.func(category=CATEGORY)(xw.ret("raw")(wrapped))

    return decorate


def _optional(x):
    return None if cells.is_blank(x) else x


def _required_periods(periods):
    """``periods`` where the formula requires it: a blank cell is refused, not read as 1."""
    if cells.is_blank(periods):
        raise CustomerEquityError("periods", "a number of periods is required, the cell is blank",
                                  value="")
    return periods


# --- values per period -----------------------------------------------------------


@excel_function(capacity="Spending capacity in the category per period (money, >= 0).",
                share="The firm's share of that spending (share of wallet), 0 to 1.",
                margin="Margin per unit of revenue (0.25 for 25 %).")
def ce_pv(capacity, share, margin):
    """Purchase value per period: capacity x share of wallet x unit margin (element-wise). Python: purchase_value."""
    return core.purchase_value(capacity, share, margin)


@excel_function(influence="Share of the people reached who act on the word, -1 to 1 (negative for "
                          "complaints).",
                reach="Number of people influenced per period (>= 0).",
                avg_value="Average purchase value of those influenced (money per period).")
def ce_ppv(influence, reach, avg_value):
    """Word-of-mouth value per period: influence x reach x average purchase value (may be negative). Python: word_of_mouth_value."""
    return core.word_of_mouth_value(influence, reach, avg_value)


def _carries_tv(label):
    """A customer type standing for its carrier flag: the types that provide TV carry it."""
    code = labels.type_code_of(label)
    return None if code is None else bool(core.CAPABILITIES[code, 4])


def _carrier_flags(carriers):
    try:
        return cells.flags(carriers, "carriers", other=_carries_tv)
    except CustomerEquityError as err:
        if err.rule == reading.FLAG_RULE:
            raise CustomerEquityError("carriers", reading.FLAG_RULE + " or a customer type",
                                      row=err.row, column=err.column, value=err.value) from None
        raise


@excel_function(income="Transaction income per period: one row, one cell per period.",
                carriers="Per customer: TRUE/1/yes/x if they carry transaction value, or their type "
                         "(types that provide TV carry it). One column, or one column per period.")
def ce_tv_allocate(income, carriers):
    """Transaction value per customer and period: each period's income split evenly over its carriers. Python: allocate_transaction_value."""
    carrier = _carrier_flags(carriers)
    if carrier.ndim == 2 and carrier.shape[1] == 1:
        carrier = carrier[:, 0]
    return core.allocate_transaction_value(income, carrier)


# --- lifetime value ----------------------------------------------------------------


@excel_function(rate=_RATE, values="Margin per period, one row per customer. " + _VALUES,
                periods=_PERIODS, timing=_TIMING)
def ce_ltv(rate, values, periods=None, timing=None):
    """Contribution lifetime value per row: the discounted margins (Excel NPV per row). Python: ltv_contribution."""
    return core.ltv_contribution(rate, values, _optional(periods), cells.text_or_none(timing, "timing"))


@excel_function(rate=_RATE, capacity="Spending capacity per period. " + _VALUES,
                share="Share of wallet, 0 to 1.", margin="Unit margin (0.25 for 25 %).",
                periods=_PERIODS, timing=_TIMING)
def ce_ltv_sow(rate, capacity, share, margin, periods=None, timing=None):
    """Share-of-wallet lifetime value per row: sum of capacity x share x margin, discounted. Python: ltv_share_of_wallet."""
    return core.ltv_share_of_wallet(rate, capacity, share, margin, _optional(periods),
                                    cells.text_or_none(timing, "timing"))


@excel_function(rate=_RATE,
                market_size="The single customer's market size per period (money, >= 0). " + _VALUES,
                share="The firm's share, 0 to 1.", margin="Unit margin.",
                indirect="Indirect contribution as a multiplier: 1 none, 1.2 word of mouth adds 20 %.",
                periods=_PERIODS, timing=_TIMING)
def ce_ltv_indirect(rate, market_size, share, margin, indirect, periods=None, timing=None):
    """Indirect-contribution lifetime value per row (customer-product line): P x S x M x A, discounted. Python: ltv_indirect."""
    return core.ltv_indirect(rate, market_size, share, margin, indirect, _optional(periods),
                             cells.text_or_none(timing, "timing"))


@excel_function(margin="Margin per period of a retained customer (money).",
                retention="Retention rate per period, 0 to 1. A row of rates against a column of "
                          "discount rates spills the grid.",
                rate=_RATE, periods="Horizon in periods; leave out for an infinite horizon.",
                timing='"end" (default: first margin after one period) or "begin" (first margin at once).',
                growth="Margin growth per period (default 0).",
                acquisition_cost="Subtracted once (default 0).")
def ce_ltv_retention(margin, retention, rate, periods=None, timing=None, growth=None, acquisition_cost=None):
    """Retention-based lifetime value (Gupta & Lehmann): m r / (1 + i - r) for an infinite horizon. Python: ltv_retention."""
    return core.ltv_retention(
        margin, retention, rate, _optional(periods), cells.text_or_none(timing, "timing"),
        0.0 if cells.is_blank(growth) else growth,
        0.0 if cells.is_blank(acquisition_cost) else acquisition_cost)


def _components(pv, ppv, cv, kv, tv):
    return {k: (0.0 if cells.is_blank(x) else x) for k, x in
            (("pv", pv), ("ppv", ppv), ("cv", cv), ("kv", kv), ("tv", tv))}


_KIND_DOCS = dict(
    pv="Purchase value per period. " + _VALUES,
    ppv="Word-of-mouth value per period (may be negative).",
    cv="Information value from two-way contact per period.",
    kv="Knowledge value per period.",
    tv="Transaction value per period.")
_FIVE_VALUES = dict(
    rate=_RATE,
    periods="Retention time in periods, one per row or one for all (required).",
    **_KIND_DOCS,
    iv="Profile information value: added once, not discounted (default 0).",
    timing=_TIMING)
_TYPES = "Customer type per row: Lighthouse, Follower, Rational or Profit-seeking."


@excel_function(**_FIVE_VALUES)
def ce_ltv_values(rate, periods, pv, ppv, cv, kv, tv, iv=None, timing=None):
    """Five-value lifetime value per row: sum of (PV+PPV+CV+KV+TV) discounted, plus Iv. Python: ltv_values."""
    return core.ltv_values(rate, _required_periods(periods), iv=0.0 if cells.is_blank(iv) else iv,
                           timing=cells.text_or_none(timing, "timing"), **_components(pv, ppv, cv, kv, tv))


@excel_function(types=_TYPES, **_FIVE_VALUES)
def ce_ltv_type(types, rate, periods, pv, ppv, cv, kv, tv, iv=None, timing=None):
    """Lifetime value per row from only the kinds of value the customer's type provides (CE_EXCLUDED counts the rest). Python: ltv_type."""
    return core.ltv_type(cells.column(types, "types"), rate, _required_periods(periods),
                         iv=0.0 if cells.is_blank(iv) else iv, timing=cells.text_or_none(timing, "timing"),
                         **_components(pv, ppv, cv, kv, tv))


@excel_function(types=_TYPES, **_KIND_DOCS)
def ce_excluded(types, pv, ppv, cv, kv, tv):
    """Non-zero value cells left out because the customer's type does not provide that kind: a header row PV..TV and the counts. Python: excluded_cells."""
    counts = core.excluded_cells(cells.column(types, "types"), **_components(pv, ppv, cv, kv, tv))
    return [[k.upper() for k in counts], [counts[k] for k in counts]]


@excel_function(type="Customer type (or a column of types).")
def ce_capabilities(type):
    """The type's row of the capability matrix: does it provide PV, PPV, CV, KV, TV, Iv (TRUE/FALSE)? Python: capabilities."""
    return core.CAPABILITIES[core.type_codes(cells.column(type, "type"), "type")]


# --- classification ------------------------------------------------------------


@excel_function(indicators="One row per customer, one column per indicator (e.g. rated 1-5).",
                weights="One weight per indicator column (a row or a column).")
def ce_score(indicators, weights):
    """Weighted indicator score per row: the sum of indicator x weight. Python: weighted_score."""
    return core.weighted_score(indicators, cells.as_list(weights))


@excel_function(score="Weighted score per customer.",
                cutoffs="Lowest score of the Lighthouse, Follower and Rational bands, highest first. "
                        "Default 4, 3, 2.")
def ce_segment(score, cutoffs=None):
    """Customer type per row from a score and three cut-offs (below the last: Profit-seeking). Python: segment_by_score."""
    c = core.DEFAULT_SCORE_CUTOFFS if cells.is_blank(cutoffs) else cells.as_list(cutoffs)
    return core.segment_by_score(score, c)


@excel_function(stage="Life-cycle stage of the first purchase: introduction, growth, maturity, "
                      "late maturity / decline (or 1-4, or 产品介绍期, 产品成长期, 产品成熟期, 成熟后期或衰退期).")
def ce_segment_stage(stage):
    """Customer type per row from the life-cycle stage of the first purchase. Python: segment_by_stage."""
    return core.segment_by_stage(np.asarray(stage, dtype=object))


@excel_function(ltv="Lifetime value per customer.",
                cutoffs="Lowest value of Platinum, Gold and Iron, highest first. Default: by mid-rank "
                        "percentile, top 5 % Platinum, next 15 % Gold, next 30 % Iron.")
def ce_tier(ltv, cutoffs=None):
    """Value tier of the customer pyramid per row: Platinum, Gold, Iron or Lead (equal values, equal tier). Python: value_tier."""
    return core.value_tier(ltv, None if cells.is_blank(cutoffs) else cells.as_list(cutoffs))


# --- customer equity -------------------------------------------------------------


@excel_function(types="Customer type per customer (one column).",
                ltv="Lifetime value per customer (one column).")
def ce_equity(types, ltv):
    """Total customer equity: the sum of the customers' lifetime values. Python: customer_equity."""
    return core.customer_equity(cells.column(types, "types"), ltv)


@excel_function(types="Customer type per customer (one column).",
                ltv="Lifetime value per customer (one column).")
def ce_equity_table(types, ltv):
    """Equity per type with headers: Type, Customers, Equity, Share, Average, and a Total row. Python: equity_table."""
    return cells.table(core.equity_table(cells.column(types, "types"), ltv), "type", title_case=True)


@excel_function(types=_TYPES, **_FIVE_VALUES)
def ce_composition(types, rate, periods, pv, ppv, cv, kv, tv, iv=None, timing=None):
    """Composition matrix with headers: value kinds (PV ... Iv) x customer types, with totals. Python: composition_matrix."""
    frame = core.composition_matrix(cells.column(types, "types"), rate, _required_periods(periods),
                                    iv=0.0 if cells.is_blank(iv) else iv,
                                    timing=cells.text_or_none(timing, "timing"),
                                    **_components(pv, ppv, cv, kv, tv))
    return cells.table(frame, "kind")


@excel_function(decision_makers="Decision makers consulted and recorded, a whole number >= 0 (solid "
                                "from 3).",
                executive_link="TRUE if an executive-to-executive link exists.",
                expert_link="TRUE if an expert-to-expert link (R&D, finance) exists.")
def ce_links(decision_makers, executive_link, expert_link):
    """Solid relationship links (0-3) of a key customer; fewer than 3 means at risk. Python: solid_links."""
    return core.solid_links(decision_makers, executive_link, expert_link)


# =====================================================================================
# --- decisions (issue 14): structure and its comparison, what-if, retention, prospects
# =====================================================================================
#
# Readings chosen for the worksheet:
#   * a table argument (customers, prospects) is a range WITH its header row, such as
#     ``Customers[#All]``; its rows are customers, a blank cell is a blank value, a
#     column of numbers is read as numbers. An error in it names the column and the row
#     of the range (the header is row 1): ``customers[periods], row 5: ...``;
#   * config is a 2-column range of settings, name and value (rate, timing, iv, classify_by,
#     cutoffs, tier_cutoffs, transaction_income, ``weights.<column>``), the names of
#     :class:`~customer_equity.model.config.MeasureConfig`; a list (cutoffs, income per
#     period) continues down the rows whose name cell is blank; left out: the defaults;
#   * shares and their differences stay in share units (0.025 is 2.5 points: format the
#     cells as % to read points), as in the Python tables;
#   * every result spills with a header row; an undefined entry (the average of a type
#     without customers) is an empty cell.

_TABLE = ("with its header row, e.g. Customers[#All]: one row per customer, one column per "
          "field (as in the customer table of the measurement)")
_SETTINGS = ("Two columns, setting name and value: rate, timing, iv, classify_by, cutoffs, "
             "transaction_income, weights.<column> (a list continues down rows with a blank "
             "name). Default: the defaults of MeasureConfig.")
_STRUCTURE = ("A spilled CE_STRUCTURE or CE_STRUCTURE_COUNTS (with its header row), or 4 rows "
              "(Lighthouse .. Profit-seeking) x 2 columns: customers, average value.")
_LEVER_DOCS = dict(
    retention_change="Change of the retention rate per period (0.05 = five points): one for all "
                     "types, or 4 cells (Lighthouse .. Profit-seeking).",
    rate="The new discount rate per period.",
    margin_change="Change of the unit margin (0.02 = two points): one for all types, or 4 cells.",
    transaction_income="The new transaction income per period: one cell, or one cell per period.",
    moves="Customers moved between types: rows of from type | to type | number of customers.",
    mix="Target type mix: 4 shares (Lighthouse .. Profit-seeking) adding up to 1 (instead of moves).")


def _table_arg(x, name):
    """A range with a header row as a pandas table (:func:`customer_equity.reading.table`)."""
    return reading.table(x, name)


def _in_table(name, frame):
    """Run the core on a table argument, pointing its errors at the range's column and row."""

    @contextlib.contextmanager
    def relocated():
        try:
            yield
        except CustomerEquityError as err:
            if err.argument in frame.columns:
                raise err.relocated(argument=f"{name}[{err.argument}]",
                                    row_offset=1 if err.row is not None else 0) from None
            if err.argument in frame.attrs.get("blank_columns", ()):
                raise CustomerEquityError(f"{name}[{err.argument}]", "the column is blank in every "
                                          "row, and it is needed here") from None
            raise

    return relocated()


def _settings_arg(x):
    """A 2-column range of setting name and value as a MeasureConfig.

    A blank name continues the list setting above it (``cutoffs``: one value a row). A
    name is text, so a 0 in the name column is read as blank, and a row with no name and a
    value that is blank or 0 as an empty row: Office.js may send a blank cell as 0.
    """
    if cells.is_blank(x):
        return core.MeasureConfig()
    arr = np.asarray(x, dtype=object)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise CustomerEquityError("config", "needs two columns: the setting's name and its value")
    data, weights, last = {}, {}, None
    for r, (key, value) in enumerate(arr.tolist(), start=1):
        if cells.blank_or_zero(key):
            if cells.blank_or_zero(value):
                continue
            if last is None or last.startswith("weights."):
                raise CustomerEquityError("config", "a value without a setting name", row=r,
                                          value=value)
            data[last] = (data[last] if isinstance(data[last], list) else [data[last]]) + [value]
            continue
        if not isinstance(key, str):
            raise CustomerEquityError("config", "a setting name must be text", row=r, column=1,
                                      value=key)
        key = key.strip()
        if key.lower().startswith("weights."):
            weights[key[len("weights."):]] = value
        else:
            data[key] = None if cells.is_blank(value) else value
        last = key
    if weights:
        data["weights"] = weights
    for key in ("cutoffs", "tier_cutoffs"):
        if key in data and data[key] is not None and not isinstance(data[key], list):
            data[key] = [data[key]]
    data = {k: v for k, v in data.items() if v is not None}
    return core.MeasureConfig.from_dict(data, source="config")


def _lever(x, name, *, per_type=False):
    """An optional lever: None when blank, a number, or a list (per type, per period)."""
    if cells.is_blank(x):
        return None
    if isinstance(x, np.ndarray):
        flat = cells.as_list(x)
        if len(flat) == 1:
            return flat[0]
        if per_type and len(flat) != 4:
            raise CustomerEquityError(name, "one value for all types, or 4 (Lighthouse, Follower, "
                                      f"Rational, Profit-seeking), got {len(flat)}")
        return flat
    return x


def _moves_arg(x):
    """Rows of from type | to type | customers as the ``moves`` mapping of what_if."""
    if cells.is_blank(x):
        return None
    arr = np.asarray(x, dtype=object)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise CustomerEquityError("moves", "needs three columns: from type, to type, number of customers")
    moves = {}
    for r, (src, dst, n) in enumerate(arr.tolist(), start=1):
        if all(cells.blank_or_zero(v) for v in (src, dst, n)):  # an empty row (Office.js: 0s)
            continue
        for c, label in ((1, src), (2, dst)):
            if labels.type_code_of(label) is None:
                raise CustomerEquityError("moves", "unknown customer type", row=r, column=c, value=label)
        if isinstance(n, bool) or not isinstance(n, (int, float)):
            raise CustomerEquityError("moves", "expected a number of customers", row=r, column=3, value=n)
        pair = (core.TYPES[labels.type_code_of(src)], core.TYPES[labels.type_code_of(dst)])
        moves[pair] = moves.get(pair, 0) + n
    return moves


def _number_or(x, name, default):
    """An optional single number (best, point, ...): the default when blank."""
    x = cells.single(x, name)
    if cells.is_blank(x):
        return default
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise CustomerEquityError(name, "expected a number", value=x)
    return x


def _whole(x):
    """A count typed in a cell arrives as a float: 10.0 is the whole number 10."""
    return int(x) if isinstance(x, float) and x.is_integer() else x


@excel_function(types=_TYPES, **_FIVE_VALUES)
def ce_structure(types, rate, periods, pv, ppv, cv, kv, tv, iv=None, timing=None):
    """Structure of customer equity with headers: per type customers, shares, equity, average, value-kind mix. Python: structure_from_values."""
    frame = core.structure_from_values(cells.column(types, "types"), rate, iv=0.0 if cells.is_blank(iv) else iv,
                                       periods=_required_periods(periods),
                                       timing=cells.text_or_none(timing, "timing") or "end",
                                       **_components(pv, ppv, cv, kv, tv))
    return cells.table(frame, "type")


@excel_function(customers="Customers per type, 4 cells (Lighthouse, Follower, Rational, Profit-seeking).",
                average="Average lifetime value per type, 4 cells.",
                mix="Optional: share of each type's equity by value kind, 4 rows x 6 columns "
                    "(PV, PPV, CV, KV, TV, Iv), rows adding up to 1.")
def ce_structure_counts(customers, average, mix=None):
    """A (competitor's) structure from customers and average value per type, with headers. Python: structure_from_counts."""
    frame = core.structure_from_counts(customers, average, mix=None if cells.is_blank(mix) else mix)
    return cells.table(frame, "type")


def _structure_arg(x, name):
    arr = np.asarray(x, dtype=object)
    if arr.ndim == 2 and arr.shape[0] >= 2 and isinstance(arr[0, 0], str) \
            and arr[0, 0].strip().lower() == "type":
        frame = _table_arg(arr, name)
        with _in_table(name, frame):
            try:
                return core.structure_table(frame)
            except CustomerEquityError as err:
                if err.argument in ("structure", "type", "customers", "average", "equity", "mix"):
                    raise err.relocated(argument=f"{name}: {err.argument}") from None
                raise
    if arr.ndim == 2 and arr.shape == (4, 2):
        try:
            return core.structure_from_counts(arr[:, 0], arr[:, 1])
        except CustomerEquityError as err:
            raise err.relocated(argument=f"{name} ({err.argument})") from None
    raise CustomerEquityError(name, "give a spilled CE_STRUCTURE (with its header row 'type', "
                              "'customers', ...) or 4 rows x 2 columns: customers and average value "
                              "per type", value=f"{arr.shape[0]} x {arr.shape[1]}" if arr.ndim == 2 else x)


_COMPARE_COLUMNS = ("customers_change", "customer_share_change", "equity_change",
                    "equity_share_change", "average_change", "volume_effect", "mix_effect",
                    "value_effect") + tuple(f"value_effect_{k.lower()}" for k in core.VALUE_KINDS)


@excel_function(structure_from=_STRUCTURE + " The earlier (or own) structure.",
                structure_to=_STRUCTURE + " The later (or competitor's) structure.")
def ce_structure_compare(structure_from, structure_to):
    """Change from one structure to another per type: differences (shares in share units) and volume, mix and value effects adding up to the change of equity. Python: compare_structures."""
    frames = [_structure_arg(structure_from, "structure_from"), _structure_arg(structure_to, "structure_to")]
    out = core.compare_structures(frames, ["from", "to"])
    return cells.table(out.set_index("type")[list(_COMPARE_COLUMNS)], "type")


@excel_function(customers="The customer table " + _TABLE + ".", config=_SETTINGS, **_LEVER_DOCS)
def ce_whatif(customers, config=None, retention_change=None, rate=None, margin_change=None,
              transaction_income=None, moves=None, mix=None):
    """Customer equity before and after a change of retention, rate, margin, income or type mix, per type with headers. Python: what_if."""
    frame = _table_arg(customers, "customers")
    config = _settings_arg(config)
    with _in_table("customers", frame):
        w = core.what_if(frame, config,
                         retention_change=_lever(retention_change, "retention_change", per_type=True),
                         rate=_lever(rate, "rate"),
                         margin_change=_lever(margin_change, "margin_change", per_type=True),
                         transaction_income=_lever(transaction_income, "transaction_income"),
                         moves=_moves_arg(moves), mix=_lever(mix, "mix"))
    return cells.table(w.table, "type")


@excel_function(customers="The customer table " + _TABLE + ".", config=_SETTINGS,
                row_lever="The lever down the rows: retention_change, rate, margin_change or "
                          "transaction_income.",
                row_values="Its values (a column or a row).",
                column_lever="The lever across the columns (another one).",
                column_values="Its values (a row or a column).",
                result='"equity" (default) or "difference" from today\'s equity.')
def ce_whatif_grid(customers, config, row_lever, row_values, column_lever, column_values, result=None):
    """Customer equity over a grid of two levers (like the Sensitivity sheet): lever values as headers. Python: what_if_grid."""
    frame = _table_arg(customers, "customers")
    config = _settings_arg(config)
    rows, cols = (cells.as_list(v) if isinstance(v, np.ndarray) else [v]
                  for v in (row_values, column_values))
    for values, name in ((rows, "row_values"), (cols, "column_values")):
        bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, float))]
        if bad:
            raise CustomerEquityError(name, "expected numbers", value=bad[0])
    with _in_table("customers", frame):
        grid = core.what_if_grid(frame, config, cells.text_or_none(row_lever, "row_lever"), rows,
                                 cells.text_or_none(column_lever, "column_lever"), cols,
                                 result=cells.text_or_none(result, "result") or "equity")
    return cells.lever_grid(grid)


@excel_function(customers="The customer table " + _TABLE + ".", config=_SETTINGS,
                p_alive="Optional: P(alive) per customer from a forecast (one column).",
                age="Optional, with p_alive: each customer's age in periods (one column).",
                point="The fall in retention to price (default 0.01, one point).")
def ce_retention_watch(customers, config=None, p_alive=None, age=None, point=None):
    """Per type: implied retention, equity, the equity at stake if retention falls a point, key customers at risk; with headers. Python: retention_watch."""
    frame = _table_arg(customers, "customers")
    config = _settings_arg(config)
    with _in_table("customers", frame):
        out = core.retention_watch(frame, config, p_alive=_lever(p_alive, "p_alive"),
                                   age=_lever(age, "age"), point=_number_or(point, "point", 0.01))
    return cells.table(out, "type")


def _traits_arg(x):
    """Trait names in a row or a column; None (every column but an id) when blank."""
    if cells.is_blank(x):
        return None
    names = [v for v in cells.as_list(x) if not cells.is_blank(v)]
    bad = [v for v in names if not isinstance(v, str)]
    if bad:
        raise CustomerEquityError("traits", "expected the names of trait columns (text)", value=bad[0])
    return [v.strip() for v in names]


_TRAITS = ("with its header row: one column per trait (numbers, or text categories such as gender); "
           "an id column (prospect_id, customer_id or id) is carried along")


@excel_function(prospects="The prospects " + _TRAITS + ".",
                customers="The current customers' traits, the same columns, " + _TRAITS + ".",
                ltv="Lifetime value per current customer (one column).",
                types="Optional: type per current customer (one column), for the expected type.",
                traits="Optional: the trait columns to use (names in a row or a column). Default: "
                       "every column but an id.",
                weights="Optional: the firm's weights, one per trait (a row), or 2 columns trait | "
                        "weight. Default: learned from the best customers (CE_PROSPECT_WEIGHTS).",
                best="Share of current customers, by value, that are the best (default 0.2).",
                neighbours="Current customers with the closest scores that give the expected type "
                           "and value (default 10).",
                cutoff="Score below which a prospect is to avoid (default: that of the lowest "
                       "avoid_share of current customers).",
                avoid_share="Default 0.2.")
def ce_prospects(prospects, customers, ltv, types=None, traits=None, weights=None, best=None,
                 neighbours=None, cutoff=None, avoid_share=None):
    """Prospects ranked by the traits of the best customers: rank, score, expected type, value estimate, avoid flag; with headers. Python: screen_prospects."""
    pros = _table_arg(prospects, "prospects")
    cust = _table_arg(customers, "customers")
    w = None
    if not cells.is_blank(weights):
        arr = np.asarray(weights, dtype=object)
        if arr.ndim == 2 and arr.shape[1] == 2 and all(isinstance(v, str) for v in arr[:, 0]):
            w = {k.strip(): v for k, v in arr.tolist()}
        else:
            w = cells.as_list(weights)
    if cells.is_blank(types):
        kinds = None
    else:
        kinds = cells.column(types, "types")
    out = core.screen_prospects(pros, cust, cells.column(ltv, "ltv"), kinds, traits=_traits_arg(traits),
                                weights=w,
                                best=_number_or(best, "best", 0.2),
                                neighbours=_whole(_number_or(neighbours, "neighbours", 10)),
                                cutoff=_number_or(cutoff, "cutoff", None),
                                avoid_share=_number_or(avoid_share, "avoid_share", 0.2))
    return cells.table(out)


@excel_function(customers="The current customers' traits " + _TRAITS + ".",
                ltv="Lifetime value per current customer (one column).",
                traits="Optional: the trait columns to use (names in a row or a column). Default: "
                       "every column but an id.",
                best="Share of current customers, by value, that are the best (default 0.2).")
def ce_prospect_weights(customers, ltv, traits=None, best=None):
    """Weight of each trait that sets the best current customers apart (standardized difference of means), with headers. Python: prospect_weights."""
    cust = _table_arg(customers, "customers")
    weights = core.prospect_weights(cust, cells.column(ltv, "ltv"), traits=_traits_arg(traits),
                                    best=_number_or(best, "best", 0.2))
    return cells.table(weights.to_frame("weight"), "trait")


@excel_function(yearly_rate="Discount rate per year (0.12 for 12 %).",
                periods_per_year="12 for months, 4 for quarters.")
def ce_rate(yearly_rate, periods_per_year):
    """Per-period rate equivalent to a yearly rate: (1 + yearly)^(1/k) - 1. Python: per_period_rate."""
    return core.per_period_rate(yearly_rate, periods_per_year)


@excel_function()
def ce_version():
    """Versions of customer-equity and xlwings, for support. Python: customer_equity.__version__."""
    return [[f"customer-equity {__version__}; xlwings {xw.__version__}"]]


# =====================================================================================
# --- forecasts from a transaction log (issue 13): summary, BG/NBD, Gamma-Gamma --------
# =====================================================================================
#
# Dates are read as :mod:`customer_equity.reading` says (a date cell, an Excel serial number,
# ISO text or a whole number YYYYMMDD).

_SUMMARY_HEADER = ["customer_id", "frequency", "recency", "T", "monetary_value"]
_HOLDOUT_HEADER = ["actual_purchases", "actual_amount"]


def _date_column(x, name):
    """A column of dates as int64 days since 1970-01-01, each cell read by
    :func:`customer_equity.reading.date_days`."""
    column = cells.column(x, name)
    try:  # fast path: every cell a serial number (Office.js, unformatted cells)
        serials = np.asarray(column, dtype=np.float64)
    except (TypeError, ValueError):
        serials = None
    if serials is not None and column.dtype == object and any(
            isinstance(c, (bool, np.bool_, str)) or c is None for c in column):
        serials = None
    if serials is not None and np.isfinite(serials).all() and (serials >= 61).all() \
            and (serials <= reading.SERIAL_MAX).all():
        return np.floor(serials).astype(np.int64) - reading.SERIAL_1970
    many = column.size > 1
    return np.array([reading.date_days(c, name, k + 1 if many else None) for k, c in enumerate(column)],
                    dtype=np.int64)


def _date_cell(x, name):
    """A single date setting; None when omitted or blank."""
    v = cells.single(x, name)
    if v is None or (isinstance(v, str) and v.strip() == ""):
        return None
    return _fc_data.day_to_date(reading.date_days(v, name))


def _customer_ids(x, name):
    """Customer ids: numbers or text, one column; a blank is refused with its row."""
    ids = cells.column(x, name)
    out = np.empty(ids.size, dtype=object)
    for k, v in enumerate(ids):
        if v is None or (isinstance(v, str) and v.strip() == ""):
            raise CustomerEquityError(name, "a customer id is required here, the cell is blank",
                                      row=k + 1, value="")
        if isinstance(v, str) and reading.excel_error(v):
            raise CustomerEquityError(name, f"the cell holds the Excel error {v.strip()}", row=k + 1)
        if isinstance(v, (bool, np.bool_)):
            raise CustomerEquityError(name, "a customer id is a number or text, not TRUE/FALSE",
                                      row=k + 1, value=v)
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            v = int(v)  # 17 and 17.0 are one customer
        out[k] = v.strip() if isinstance(v, str) else v
    if len({type(v) is str for v in out}) > 1:  # numbers and text mixed: compare as text
        out = np.array([str(v) for v in out], dtype=object)
    return out


def _same_rows(arrays):
    sizes = {name: a.size for name, a in arrays}
    n = next(iter(sizes.values()))
    for name, size in sizes.items():
        if size != n:
            first = next(iter(sizes))
            raise CustomerEquityError(name, f"has {size} rows where {first} has {n}: give the "
                                      "log's columns over the same rows")


@excel_function(
    customer="Customer id of each transaction (one column of the log).",
    date="Date of each transaction: date cells, Excel serial numbers or text YYYY-MM-DD (one column).",
    amount="Amount of each transaction (money, one column). Negative amounts (returns) are left out; "
           "0 is a visit.",
    unit='Time unit of recency and T: "day", "week" (default), "month" or "year".',
    calibration_end="Last day of the calibration period (a date). Default: the observation end.",
    observation_end="Last day observed (a date). Default: the last date of the log. After the "
                    "calibration end it opens a holdout period and adds actual_purchases and actual_amount.")
def ce_log_summary(customer, date, amount, unit=None, calibration_end=None, observation_end=None):
    """Per-customer summary of a transaction log, with a header row: customer_id, frequency, recency, T, monetary_value (and the holdout). Python: forecast.summary_data."""
    ids = _customer_ids(customer, "customer")
    days = _date_column(date, "date")
    amounts = _amounts(amount)
    _same_rows((("customer", ids), ("date", days), ("amount", amounts)))
    unit = cells.text_or_none(unit, "unit") or "week"
    unit = str(unit).strip().lower() if isinstance(unit, str) else unit
    log = pd.DataFrame({"customer_id": ids, "date": days.astype("datetime64[D]"),
                         "amount": amounts})
    summary = _fc.summary_data(log, unit=unit, calibration_end=_date_cell(calibration_end, "calibration_end"),
                               observation_end=_date_cell(observation_end, "observation_end"))
    c = summary.customers
    header = _SUMMARY_HEADER + (_HOLDOUT_HEADER if summary.holdout else [])
    columns = [c[h].to_numpy(dtype=np.float64).tolist() for h in header[1:]]
    body = [[key] + [col[k] for col in columns] for k, key in enumerate(c.index.tolist())]
    return [header] + body


def _amounts(x):
    """Transaction amounts: numbers only (text and blanks refused with their row)."""
    from ..model import validate

    arr = validate.as_float(np.asarray(cells.column(x, "amount"), dtype=object), "amount",
                             blank_ok=False)
    return validate.check_finite(arr, "amount")


def _fit_params(x, model, name):
    """Model parameters from a cell range: the fit function's labelled table (rows
    named r, alpha, a, b or p, q, v with the estimate beside the name), or the
    parameters alone in the model's order (a row or a column)."""
    names = _fc.PARAMETER_NAMES[model]
    arr = np.asarray(x, dtype=object)
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    texts = [v for v in arr.ravel() if isinstance(v, str) and v.strip()]
    for t in texts:
        if t.startswith("#"):
            raise CustomerEquityError(name, "the fitted parameters show an error; correct the fit "
                                      f"first ({t[:120]})")
    if arr.ndim == 2 and arr.shape[1] >= 2 and any(
            isinstance(v, str) and v.strip().lower() in names for v in arr[:, 0]):
        found = {}
        for row in arr:
            label = row[0].strip().lower() if isinstance(row[0], str) else None
            if label in names and label not in found:
                found[label] = row[1]
        missing = [k for k in names if k not in found]
        if missing:
            raise CustomerEquityError(name, f"no row named {missing[0]!r}: give the fit's table "
                                      "or " + ", ".join(names) + " in this order")
        values = [found[k] for k in names]
    else:
        values = [v for v in arr.ravel() if not (v is None or v == "")]
    try:
        return _fc.parameters(values, model)
    except CustomerEquityError as err:
        raise CustomerEquityError(name if err.argument == "params" else
                                  err.argument.replace("params", name), err.rule,
                                  **({"value": err.value} if err.has_value else {})) from None


def _fit_table(fit, extra=()):
    """A fitted model as a labelled table: parameter, estimate, standard error, then the fit."""
    rows = [["parameter", "estimate", "standard error"]]
    for k in _fc.PARAMETER_NAMES[fit.model]:
        se = fit.standard_errors[k]
        rows.append([k, float(fit.params[k]), float(se) if math.isfinite(se) else ""])
    rows.append(["log-likelihood", float(fit.log_likelihood), ""])
    rows.append(["customers", float(fit.customers), ""])
    rows.extend([label, value, ""] for label, value in extra)
    return rows


_BGNBD = ("BG/NBD parameters: the table CE_BGNBD_FIT spills (rows r, alpha, a, b), or r, "
          "alpha, a, b in this order.")
_GG = ("Gamma-Gamma parameters: the table CE_GAMMA_GAMMA_FIT spills (rows p, q, v), or p, q, v "
       "in this order.")
_FREQ = "Repeat purchases x per customer (the summary's frequency column)."
_REC = "Recency t_x per customer: time from the first to the last purchase (summary's unit)."
_T = "T per customer: time from the first purchase to the calibration end (summary's unit)."
_MON = "Mean amount m_x of the repeat purchases per customer (0 when frequency is 0)."


@excel_function(frequency=_FREQ,
                recency=_REC,
                T=_T)
def ce_bgnbd_fit(frequency, recency, T):
    """BG/NBD fit by maximum likelihood: r, alpha, a, b with standard errors, log-likelihood and customers (a labelled table). Python: forecast.fit_bgnbd."""
    return _fit_table(_fc.fit_bgnbd(frequency, recency, T))


@excel_function(params=_BGNBD,
                frequency=_FREQ,
                recency=_REC,
                T=_T)
def ce_p_alive(params, frequency, recency, T):
    """Probability each customer is still active at the calibration end (BG/NBD), per row. Python: forecast.p_alive."""
    return _fc.p_alive(_fit_params(params, "bgnbd", "params"), frequency, recency, T)


@excel_function(params=_BGNBD,
                horizon="Forecast horizon t in the summary's unit (>= 0): one for all, one per "
                        "customer (a column), or a row of horizons (spills one column per horizon).",
                frequency=_FREQ,
                recency=_REC,
                T=_T)
def ce_expected_purchases(params, horizon, frequency, recency, T):
    """Expected purchases of each customer in the next t units (BG/NBD E[Y(t)]), per row. Python: forecast.expected_purchases."""
    p = _fit_params(params, "bgnbd", "params")
    h = np.asarray(horizon, dtype=object)
    if h.ndim == 2 and h.shape[0] == 1 and h.shape[1] > 1:  # a row of horizons: N x K
        t = np.asarray(_horizons(h.reshape(-1)), dtype=np.float64).reshape(-1, 1)
        return _fc.expected_purchases(p, t, frequency, recency, T).T
    if h.ndim == 2 and h.size > 1:
        return _fc.expected_purchases(p, _horizons(cells.column(h, "horizon")), frequency, recency, T)
    return _fc.expected_purchases(p, _horizons(cells.single(h, "horizon")), frequency, recency, T)


def _horizons(h):
    from ..model import validate

    arr = validate.as_float(np.asarray(h, dtype=object) if np.ndim(h) else h, "horizon",
                             blank_ok=False)
    return validate.check_range(validate.check_finite(arr, "horizon"), "horizon", low=0)


@excel_function(frequency=_FREQ,
                monetary_value=_MON)
def ce_gamma_gamma_fit(frequency, monetary_value):
    """Gamma-Gamma spend fit on the repeat buyers: p, q, v with standard errors, log-likelihood, customers, frequency-spend correlation. Python: forecast.fit_gamma_gamma."""
    fit = _fc.fit_gamma_gamma(frequency, monetary_value)
    corr = _fc.frequency_spend_correlation(frequency, monetary_value)
    return _fit_table(fit, [("frequency-spend correlation", corr if math.isfinite(corr) else "")])


@excel_function(params=_GG,
                frequency=_FREQ,
                monetary_value=_MON)
def ce_expected_spend(params, frequency, monetary_value):
    """Expected amount of each customer's future purchases (Gamma-Gamma E[M]), per row. Python: forecast.expected_spend."""
    return _fc.expected_spend(_fit_params(params, "gamma_gamma", "params"), frequency,
                              monetary_value)


@excel_function(bgnbd=_BGNBD,
                gamma_gamma=_GG,
                frequency=_FREQ,
                recency=_REC,
                T=_T,
                monetary_value=_MON,
                margin="Margin per unit of revenue (0.3 for 30 %; 1 = revenue).",
                rate="Discount rate per period of the summary's unit (a weekly rate for weeks), > -1.",
                periods="Horizon: number of periods (summary units) to forecast, a whole number >= 0.",
                timing=_TIMING)
def ce_forecast_ltv(bgnbd, gamma_gamma, frequency, recency, T, monetary_value, margin, rate, periods,
                    timing=None):
    """Forecast lifetime value per row: sum over periods k of (E[Y(k)] - E[Y(k-1)]) x E[M] x margin, discounted. Python: forecast.forecast_clv."""
    values = _fc.forecast_values(_fit_params(bgnbd, "bgnbd", "bgnbd"),
                                 _fit_params(gamma_gamma, "gamma_gamma", "gamma_gamma"),
                                 frequency, recency, T, monetary_value,
                                 cells.single(periods, "periods"), cells.single(margin, "margin"))
    return _fc.forecast_clv(values, cells.single(rate, "rate"), cells.text_or_none(timing, "timing") or "end")
