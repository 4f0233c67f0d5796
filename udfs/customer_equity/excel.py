"""The Excel functions (``=CE_LTV(...)`` and friends): thin xlwings wrappers over the core.

Each function converts the cells it is given, lets the core validate and compute,
and returns a value or a spilled array. The same module serves the Windows add-in
(xlwings COM: "UDF Modules = customer_equity.excel") and xlwings Lite / xlwings
Server (Office.js: Excel on Mac, Windows and the web), because the decorators come
from the top-level ``xlwings`` package, which picks the runtime's implementation.

Arguments arrive as 2-D lists of cell values (``ndim=2``), never pre-converted, so
that the core sees blanks (None on COM, "" on Office.js), text and TRUE/FALSE as
they are and can name the argument and the cell's position when one is wrong.
"""

from __future__ import annotations

import functools

import numpy as np
import xlwings as xw

from . import __version__
from . import cells
from . import model as core
from .errors import CustomerEquityError
from .model import flags

CATEGORY = "Customer Equity"

#: What ``from customer_equity.excel import *`` brings into xlwings Lite's main.py.
__all__ = ["ce_pv", "ce_ppv", "ce_tv_allocate", "ce_ltv", "ce_ltv_sow", "ce_ltv_indirect",
           "ce_ltv_retention", "ce_ltv_values", "ce_ltv_type", "ce_excluded", "ce_capabilities", "ce_score",
           "ce_segment", "ce_segment_stage", "ce_tier", "ce_equity", "ce_equity_table",
           "ce_composition", "ce_links", "ce_rate", "ce_version"]

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

    @functools.wraps(f)
    def wrapper(*args):
        try:
            # an overflow is no warning here: cells.write refuses the non-finite result
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                return cells.write(f(*(cells.read(a, RUNTIME) for a in args)))
        except CustomerEquityError as err:
            return _error_result(f.__name__, err)

    return wrapper


def excel_function(**arg_docs):
    """The one decorator of a CE_ function: xlwings' ``func``, ``ret`` and one ``arg`` per
    parameter (raw values, with its help text), around :func:`_guard`.

    xlwings' ``raw`` converter hands over what the runtime delivers without a Python
    pass over every cell (on 100,000 rows xlwings' cleaning costs more than our whole
    calculation): a scalar for one cell, rows of values for a range;
    :func:`customer_equity.cells.read` does the rest.
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
    code = flags.type_code_of(label)
    return None if code is None else bool(core.CAPABILITIES[code, 4])


def _carrier_flags(carriers):
    try:
        return cells.flags(carriers, "carriers", other=_carries_tv)
    except CustomerEquityError as err:
        if err.rule == flags.FLAG_RULE:
            raise CustomerEquityError("carriers", flags.FLAG_RULE + " or a customer type",
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
    """Equity per type with headers: type, customers, equity, share, average, and a Total row. Python: equity_table."""
    return cells.table(core.equity_table(cells.column(types, "types"), ltv), "type")


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


@excel_function(yearly_rate="Discount rate per year (0.12 for 12 %).",
                periods_per_year="12 for months, 4 for quarters.")
def ce_rate(yearly_rate, periods_per_year):
    """Per-period rate equivalent to a yearly rate: (1 + yearly)^(1/k) - 1. Python: per_period_rate."""
    return core.per_period_rate(yearly_rate, periods_per_year)


@excel_function()
def ce_version():
    """Versions of customer-equity and xlwings, for support. Python: customer_equity.__version__."""
    return [[f"customer-equity {__version__}; xlwings {xw.__version__}"]]
