"""The Excel functions (``=CE_LTV(...)`` and friends): thin xlwings wrappers over the core.

Each function converts the cells it is given, lets the core validate and compute,
and returns a value or a spilled array. The same module serves the Windows add-in
(xlwings COM: "UDF Modules = customer_equity.excel.functions") and xlwings Lite / xlwings
Server (Office.js: Excel on Mac, Windows and the web), because the decorators come
from the top-level ``xlwings`` package, which picks the runtime's implementation.

Arguments arrive raw, never pre-converted by xlwings. Each is declared with its kind
(:mod:`customer_equity.excel.arguments`), which carries the wizard's help and reads it
(blanks, text, TRUE/FALSE, error values, dates, tables, settings) so that the core can name
the argument and the cell's position when one is wrong; a result kind writes the result back.

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
CE_LOG_CHECK        summary_data(...).report    the data report: what was read, used, set aside
CE_BGNBD_FIT        forecast.fit_bgnbd          Excel spills a labelled table
CE_P_ALIVE          forecast.p_alive
CE_EXPECTED_...     forecast.expected_purchases (CE_EXPECTED_PURCHASES; horizon second)
CE_GAMMA_GAMMA_FIT  forecast.fit_gamma_gamma    Excel spills a labelled table
CE_EXPECTED_SPEND   forecast.expected_spend
CE_FORECAST_LTV     forecast.forecast_ltv       of forecast_values: one call in Excel
CE_PARETO_NBD_...   forecast.fit_pareto_nbd,    (_FIT, _P_ALIVE, _EXPECTED_PURCHASES; the same
                    pareto_nbd_p_alive, ...     for CE_MBGNBD_... and CE_BGBB_...)
CE_SBG_FIT          forecast.fit_sbg            Excel spills a labelled table
CE_SBG_RETENTION    forecast.sbg_retention      a row of rates (and CE_SBG_SURVIVAL, a row)
CE_SBG_DERL         forecast.sbg_derl
CE_SBG_LTV          forecast.sbg_ltv
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

import numpy as np
import xlwings as xw

from .._version import __version__
from ..errors import CustomerEquityError
from .. import model as core
from ..model import forecast as _fc
from .arguments import (BaseRetention, Block, Column, Counts, Date, FitTable, Flags, GridSize,
                        Horizon, Lever, LeverGrid, LeverName, List, Moves, Number, Numbers, OnePerRow,
                        Params, Periods, Rows, SameRows, Settings, Single, Spilled, Structure, Table,
                        Text, Timing, TraitTables, Traits, Weights, WhatIfTable, excel_function,
                        log_frame)

#: What ``from customer_equity.excel.functions import *`` brings into xlwings Lite's main.py.
__all__ = ["ce_pv", "ce_ppv", "ce_tv_allocate", "ce_ltv", "ce_ltv_sow", "ce_ltv_indirect",
           "ce_ltv_retention", "ce_ltv_values", "ce_ltv_type", "ce_excluded", "ce_capabilities", "ce_score",
           "ce_segment", "ce_segment_stage", "ce_tier", "ce_equity", "ce_equity_table",
           "ce_composition", "ce_links", "ce_rate", "ce_version",
           # forecasts from a transaction log
           "ce_log_summary", "ce_log_check", "ce_bgnbd_fit", "ce_p_alive", "ce_expected_purchases",
           "ce_gamma_gamma_fit", "ce_expected_spend", "ce_forecast_ltv",
           # the models beyond BG/NBD
           "ce_pareto_nbd_fit", "ce_pareto_nbd_p_alive", "ce_pareto_nbd_expected_purchases",
           "ce_mbgnbd_fit", "ce_mbgnbd_p_alive", "ce_mbgnbd_expected_purchases",
           "ce_bgbb_fit", "ce_bgbb_p_alive", "ce_bgbb_expected_purchases",
           "ce_sbg_fit", "ce_sbg_retention", "ce_sbg_survival", "ce_sbg_derl", "ce_sbg_ltv",
           # decisions: structure, what-if, retention, prospects
           "ce_structure", "ce_structure_counts", "ce_structure_compare", "ce_whatif",
           "ce_whatif_grid", "ce_retention_watch", "ce_prospects", "ce_prospect_weights"]

_RATE = "Discount rate per period (0.1 for 10 %), > -1."
_PERIODS = ("Number of periods (retention time), a whole number >= 0; one per row or one for all. "
            "Default: the number of value columns.")
_TIMING = '"end" (default, like NPV: period 1 is discounted once) or "begin".'
_VALUES = "One column per period (a block), or one column = the same amount every period."


# --- values per period -----------------------------------------------------------


@excel_function(capacity=Block("Spending capacity in the category per period (money, >= 0)."),
                share=Block("The firm's share of that spending (share of wallet), 0 to 1."),
                margin=Block("Margin per unit of revenue (0.25 for 25 %)."))
def ce_pv(capacity, share, margin):
    """Purchase value per period: capacity x share of wallet x unit margin (element-wise). Python: purchase_value."""
    return core.purchase_value(capacity, share, margin)


@excel_function(influence=Block("Share of the people reached who act on the word, -1 to 1 (negative "
                                "for complaints)."),
                reach=Block("Number of people influenced per period (>= 0)."),
                avg_value=Block("Average purchase value of those influenced (money per period)."))
def ce_ppv(influence, reach, avg_value):
    """Word-of-mouth value per period: influence x reach x average purchase value (may be negative). Python: word_of_mouth_value."""
    return core.word_of_mouth_value(influence, reach, avg_value)


@excel_function(income=Block("Transaction income per period: one row, one cell per period."),
                carriers=Flags("Per customer: TRUE/1/yes/x if they carry transaction value, or their "
                               "type (types that provide TV carry it). One column, or one column per "
                               "period.", or_type=True))
def ce_tv_allocate(income, carriers):
    """Transaction value per customer and period: each period's income split evenly over its carriers. Python: allocate_transaction_value."""
    return core.allocate_transaction_value(income, carriers)


# --- lifetime value ----------------------------------------------------------------


@excel_function(rate=Block(_RATE), values=Block("Margin per period, one row per customer. " + _VALUES),
                periods=Periods(_PERIODS, optional=True), timing=Timing(_TIMING))
def ce_ltv(rate, values, periods=None, timing=None):
    """Contribution lifetime value per row: the discounted margins (Excel NPV per row). Python: ltv_contribution."""
    return core.ltv_contribution(rate, values, periods, timing)


@excel_function(rate=Block(_RATE), capacity=Block("Spending capacity per period. " + _VALUES),
                share=Block("Share of wallet, 0 to 1."), margin=Block("Unit margin (0.25 for 25 %)."),
                periods=Periods(_PERIODS, optional=True), timing=Timing(_TIMING),
                checks=[Rows("rate", "capacity", "share", "margin", "periods")],
                aliases={"capacity x share x margin": ("capacity", "share", "margin")})
def ce_ltv_sow(rate, capacity, share, margin, periods=None, timing=None):
    """Share-of-wallet lifetime value per row: sum of capacity x share x margin, discounted. Python: ltv_share_of_wallet."""
    return core.ltv_share_of_wallet(rate, capacity, share, margin, periods, timing)


@excel_function(rate=Block(_RATE),
                market_size=Block("The single customer's market size per period (money, >= 0). " + _VALUES),
                share=Block("The firm's share, 0 to 1."), margin=Block("Unit margin."),
                indirect=Block("Indirect contribution as a multiplier: 1 none, 1.2 word of mouth adds 20 %."),
                periods=Periods(_PERIODS, optional=True), timing=Timing(_TIMING),
                checks=[Rows("rate", "market_size", "share", "margin", "indirect", "periods")],
                aliases={"market_size x share x margin x indirect": ("market_size", "share", "margin",
                                                                    "indirect")})
def ce_ltv_indirect(rate, market_size, share, margin, indirect, periods=None, timing=None):
    """Indirect-contribution lifetime value per row (customer-product line): P x S x M x A, discounted. Python: ltv_indirect."""
    return core.ltv_indirect(rate, market_size, share, margin, indirect, periods, timing)


@excel_function(margin=Block("Margin per period of a retained customer (money)."),
                retention=Block("Retention rate per period, 0 to 1. A row of rates against a column "
                                "of discount rates spills the grid."),
                rate=Block(_RATE),
                periods=Periods("Horizon in periods; leave out for an infinite horizon.", optional=True),
                timing=Timing('"end" (default: first margin after one period) or "begin" (first margin '
                              'at once).'),
                growth=Block("Margin growth per period (default 0).", default=0.0),
                acquisition_cost=Block("Subtracted once (default 0).", default=0.0))
def ce_ltv_retention(margin, retention, rate, periods=None, timing=None, growth=None, acquisition_cost=None):
    """Retention-based lifetime value (Gupta & Lehmann): m r / (1 + i - r) for an infinite horizon. Python: ltv_retention."""
    return core.ltv_retention(margin, retention, rate, periods, timing, growth, acquisition_cost)


_KIND_DOCS = dict(
    pv=Block("Purchase value per period. " + _VALUES, default=0.0),
    ppv=Block("Word-of-mouth value per period (may be negative).", default=0.0),
    cv=Block("Information value from two-way contact per period.", default=0.0),
    kv=Block("Knowledge value per period.", default=0.0),
    tv=Block("Transaction value per period.", default=0.0))
_FIVE_VALUES = dict(
    rate=Block(_RATE),
    periods=Periods("Retention time in periods, one per row or one for all (required)."),
    **_KIND_DOCS,
    iv=Block("Profile information value: added once, not discounted (default 0).", default=0.0,
             column=True),
    timing=Timing(_TIMING))
_TYPES = Column("Customer type per row: Lighthouse, Follower, Rational or Profit-seeking.")


@excel_function(**_FIVE_VALUES)
def ce_ltv_values(rate, periods, pv, ppv, cv, kv, tv, iv=None, timing=None):
    """Five-value lifetime value per row: sum of (PV+PPV+CV+KV+TV) discounted, plus Iv. Python: ltv_values."""
    return core.ltv_values(rate, periods, pv, ppv, cv, kv, tv, iv=iv, timing=timing)


@excel_function(types=_TYPES, **_FIVE_VALUES)
def ce_ltv_type(types, rate, periods, pv, ppv, cv, kv, tv, iv=None, timing=None):
    """Lifetime value per row from only the kinds of value the customer's type provides (CE_EXCLUDED counts the rest). Python: ltv_type."""
    return core.ltv_type(types, rate, periods, pv, ppv, cv, kv, tv, iv=iv, timing=timing)


@excel_function(types=_TYPES, **_KIND_DOCS, returns=Counts())
def ce_excluded(types, pv, ppv, cv, kv, tv):
    """Non-zero value cells left out because the customer's type does not provide that kind: a header row PV..TV and the counts. Python: excluded_cells."""
    return core.excluded_cells(types, pv=pv, ppv=ppv, cv=cv, kv=kv, tv=tv)


@excel_function(type=Column("Customer type (or a column of types)."))
def ce_capabilities(type):
    """The type's row of the capability matrix: does it provide PV, PPV, CV, KV, TV, Iv (TRUE/FALSE)? Python: capabilities."""
    return core.CAPABILITIES[core.type_codes(type, "type")]


# --- classification ------------------------------------------------------------


@excel_function(indicators=Block("One row per customer, one column per indicator (e.g. rated 1-5)."),
                weights=List("One weight per indicator column (a row or a column)."))
def ce_score(indicators, weights):
    """Weighted indicator score per row: the sum of indicator x weight. Python: weighted_score."""
    return core.weighted_score(indicators, weights)


@excel_function(score=Block("Weighted score per customer."),
                cutoffs=List("Lowest score of the Lighthouse, Follower and Rational bands, highest "
                             "first. Default 4, 3, 2.", default=core.DEFAULT_SCORE_CUTOFFS))
def ce_segment(score, cutoffs=None):
    """Customer type per row from a score and three cut-offs (below the last: Profit-seeking). Python: segment_by_score."""
    return core.segment_by_score(score, cutoffs)


@excel_function(stage=Block("Life-cycle stage of the first purchase: introduction, growth, maturity, "
                            "late maturity / decline (or 1-4, or 产品介绍期, 产品成长期, 产品成熟期, "
                            "成熟后期或衰退期)."))
def ce_segment_stage(stage):
    """Customer type per row from the life-cycle stage of the first purchase. Python: segment_by_stage."""
    return core.segment_by_stage(np.asarray(stage, dtype=object))


@excel_function(ltv=Block("Lifetime value per customer."),
                cutoffs=List("Lowest value of Platinum, Gold and Iron, highest first. Default: by "
                             "mid-rank percentile, top 5 % Platinum, next 15 % Gold, next 30 % Iron.",
                             default=None))
def ce_tier(ltv, cutoffs=None):
    """Value tier of the customer pyramid per row: Platinum, Gold, Iron or Lead (equal values, equal tier). Python: value_tier."""
    return core.value_tier(ltv, cutoffs)


# --- customer equity -------------------------------------------------------------

_LTV = Block("Lifetime value per customer (one column).")


@excel_function(types=Column("Customer type per customer (one column)."), ltv=_LTV)
def ce_equity(types, ltv):
    """Total customer equity: the sum of the customers' lifetime values. Python: customer_equity."""
    return core.customer_equity(types, ltv)


@excel_function(types=Column("Customer type per customer (one column)."), ltv=_LTV,
                returns=Spilled("type", words=True))
def ce_equity_table(types, ltv):
    """Equity per type with headers: Type, Customers, Equity, Share, Average, and a Total row. Python: equity_table."""
    return core.equity_table(types, ltv)


@excel_function(types=_TYPES, **_FIVE_VALUES, returns=Spilled("value kind", words=True))
def ce_composition(types, rate, periods, pv, ppv, cv, kv, tv, iv=None, timing=None):
    """Composition matrix with headers: value kinds (PV ... Iv) x customer types, with totals. Python: composition_matrix."""
    return core.composition_matrix(types, rate, periods, pv, ppv, cv, kv, tv, iv=iv, timing=timing)


@excel_function(decision_makers=Block("Decision makers consulted and recorded, a whole number >= 0 "
                                      "(solid from 3)."),
                executive_link=Block("TRUE if an executive-to-executive link exists."),
                expert_link=Block("TRUE if an expert-to-expert link (R&D, finance) exists."))
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
_CUSTOMERS = Table("The customer table " + _TABLE + ".", periods=True)
_SETTINGS = Settings("Two columns, setting name and value: rate, timing, iv, classify_by, cutoffs, "
                     "transaction_income, weights.<column> (a list continues down rows with a blank "
                     "name). Default: the defaults of MeasureConfig.")
_STRUCTURE = ("A spilled CE_STRUCTURE or CE_STRUCTURE_COUNTS (with its header row), or 4 rows "
              "(Lighthouse .. Profit-seeking) x 2 columns: customers, average value.")
_PER_TYPE = "one for all types, or 4 cells (Lighthouse .. Profit-seeking)"
_LEVERS = dict(
    retention_change=Lever("Change of the retention rate per period (0.05 = five points): "
                           + _PER_TYPE + ".", per_type=True),
    rate=Lever("The new discount rate per period."),
    margin_change=Lever("Change of the unit margin (0.02 = two points): " + _PER_TYPE + ".",
                        per_type=True),
    transaction_income=Lever("The new transaction income per period (fixed totals): one cell, or "
                             "one cell per period."),
    moves=Moves("Customers moved between types, keeping their own values: rows of from type | to "
                "type | number of customers."),
    relabel_mix=Lever("A type mix reached by moving the fewest whole customers, who keep their own "
                      "values: 4 shares adding up to 1 (instead of moves)."),
    type_mix=Lever("The same number of customers in another structure, each type at its average "
                   "value: 4 shares adding up to 1."),
    share_change=Lever("Change of the share of wallet (0.05 = five points): " + _PER_TYPE + ".",
                       per_type=True),
    loyalty_change=Lever("More loyal: PPV, KV and TV move by this share of their size (0.1 = +10 %): "
                         + _PER_TYPE + ".", per_type=True),
    new_customers=Lever("New customers, each at its type's average value: " + _PER_TYPE + ".",
                        per_type=True),
    acquisition_cost=Lever("Cost per new customer, subtracted once: " + _PER_TYPE + ".",
                           per_type=True),
    base_retention=BaseRetention("The retention per period each type's change starts from (e.g. "
                                 "from P(alive)): 4 cells; blank or 0: from the table's retention "
                                 "times."))


@excel_function(types=_TYPES, **_FIVE_VALUES, returns=Spilled("type", words=True),
                checks=[Rows("types", "rate", "periods", "pv", "ppv", "cv", "kv", "tv", "iv")])
def ce_structure(types, rate, periods, pv, ppv, cv, kv, tv, iv=None, timing=None):
    """Structure of customer equity with headers: per type customers, shares, equity, average, value-kind mix. Python: structure_from_values."""
    return core.structure_from_values(types, rate, pv, ppv, cv, kv, tv, iv, periods, timing or "end")


@excel_function(customers=Block("Customers per type, 4 cells (Lighthouse, Follower, Rational, "
                                "Profit-seeking)."),
                average=Block("Average lifetime value per type, 4 cells (blank only for a type "
                              "without customers)."),
                value_mix=Block("Optional: share of each type's equity by value kind, 4 rows x 6 "
                                "columns (PV, PPV, CV, KV, TV, Iv), rows adding up to 1.", default=None),
                returns=Spilled("type", words=True))
def ce_structure_counts(customers, average, value_mix=None):
    """A (competitor's) structure from customers and average value per type, with headers. Python: structure_from_counts."""
    return core.structure_from_counts(customers, average, value_mix=value_mix)


_COMPARE_COLUMNS = ["customers_change", "customer_share_change", "equity_change",
                    "equity_share_change", "average_change", "volume_effect", "mix_effect",
                    "value_effect"] + [f"value_effect_{k.lower()}" for k in core.VALUE_KINDS]


@excel_function(structure_from=Structure(_STRUCTURE + " The earlier (or own) structure."),
                structure_to=Structure(_STRUCTURE + " The later (or competitor's) structure."),
                returns=Spilled("type", words=True))
def ce_structure_compare(structure_from, structure_to):
    """Change from one structure to another per type: differences (shares in share units) and volume, mix and value effects adding up to the change of equity. Python: compare_structures."""
    compared = core.compare_structures([structure_from, structure_to], ["from", "to"])
    return compared.set_index("type")[_COMPARE_COLUMNS]


@excel_function(customers=_CUSTOMERS, config=_SETTINGS, **_LEVERS, returns=WhatIfTable())
def ce_whatif(customers, config=None, retention_change=None, rate=None, margin_change=None,
              transaction_income=None, moves=None, relabel_mix=None, type_mix=None, share_change=None,
              loyalty_change=None, new_customers=None, acquisition_cost=None, base_retention=None):
    """Customer equity before and after a change of retention, rate, margin, income, structure, share of wallet, loyalty or acquisition, per type with headers. Python: what_if."""
    levers = dict(locals())  # the levers under what_if's own names: customers, config aside
    return core.what_if(levers.pop("customers"), levers.pop("config"), **levers)


@excel_function(customers=_CUSTOMERS, config=_SETTINGS,
                row_lever=LeverName("The lever down the rows, in words or by its name: Retention "
                                    "change (retention_change), Discount rate (rate), Unit margin "
                                    "change (margin_change), Share of wallet change (share_change), "
                                    "Loyalty change (loyalty_change) or Transaction income "
                                    "(transaction_income)."),
                row_values=Numbers("Its values (a column or a row)."),
                column_lever=LeverName("The lever across the columns (another one)."),
                column_values=Numbers("Its values (a row or a column)."),
                result=Text('"equity" (default) or "difference" from today\'s equity.', default="equity",
                            lower=True),
                returns=LeverGrid(), checks=[GridSize("row_values", "column_values")],
                aliases=lambda a: {a["row_lever"]: "row_values", a["column_lever"]: "column_values"})
def ce_whatif_grid(customers, config, row_lever, row_values, column_lever, column_values, result=None):
    """Customer equity over a grid of two levers (like the Sensitivity sheet): lever values as headers. Python: what_if_grid."""
    return core.what_if_grid(customers, config, row_lever, row_values, column_lever, column_values,
                             result=result)


@excel_function(customers=_CUSTOMERS, config=_SETTINGS,
                p_alive=Lever("Optional: P(alive) per customer from a forecast (one column)."),
                age=Lever("Optional, with p_alive: each customer's age in periods (one column).",
                          periods=True),
                point=Number("The fall in retention to price (default 0.01, one point).", default=0.01),
                returns=Spilled("type", words=True), checks=[OnePerRow("customers", "p_alive", "age")],
                aliases={"base_retention": "p_alive"})
def ce_retention_watch(customers, config=None, p_alive=None, age=None, point=None):
    """Per type: implied retention, equity, the equity at stake if retention falls a point, key customers at risk; with headers. Python: retention_watch."""
    return core.retention_watch(customers, config, p_alive=p_alive, age=age, point=point)


_TRAITS = ("with its header row: one column per trait (numbers, or text categories such as gender); "
           "an id column (prospect_id, customer_id or id) is carried along")
_TRAIT_NAMES = Traits("Optional: the trait columns to use (names in a row or a column). Default: "
                      "every column but an id.")
_BEST = Number("Share of current customers, by value, that are the best (default 0.2).", default=0.2)
_CUSTOMER_LTV = Column("Lifetime value per current customer (one column).")


@excel_function(prospects=Table("The prospects " + _TRAITS + ".", relocate=False),
                customers=Table("The current customers' traits, the same columns, " + _TRAITS + ".",
                                relocate=False),
                ltv=_CUSTOMER_LTV,
                types=Column("Optional: type per current customer (one column), for the expected type.",
                             default=None),
                traits=_TRAIT_NAMES,
                weights=Weights("Optional: the firm's weights, one per trait (a row), or 2 columns "
                                "trait | weight. Default: learned from the best customers "
                                "(CE_PROSPECT_WEIGHTS)."),
                best=_BEST,
                neighbours=Number("Current customers with the closest scores that give the expected "
                                  "type and value (default 10).", default=10, whole=True),
                cutoff=Number("Score below which a prospect is to avoid (default: that of the lowest "
                              "avoid_share of current customers)."),
                avoid_share=Number("Default 0.2.", default=0.2),
                returns=Spilled(words=True), checks=[TraitTables("prospects", "customers")])
def ce_prospects(prospects, customers, ltv, types=None, traits=None, weights=None, best=None,
                 neighbours=None, cutoff=None, avoid_share=None):
    """Prospects ranked by the traits of the best customers: rank, score, expected type, value estimate, avoid flag; with headers. Python: screen_prospects."""
    return core.screen_prospects(prospects, customers, ltv, types, traits=traits, weights=weights, best=best,
                                 neighbours=neighbours, cutoff=cutoff, avoid_share=avoid_share)


@excel_function(customers=Table("The current customers' traits " + _TRAITS + ".", relocate=False),
                ltv=_CUSTOMER_LTV, traits=_TRAIT_NAMES, best=_BEST, returns=Spilled("trait", words=True),
                checks=[TraitTables("customers")])
def ce_prospect_weights(customers, ltv, traits=None, best=None):
    """Weight of each trait that sets the best current customers apart (standardized difference of means), with headers. Python: prospect_weights."""
    return core.prospect_weights(customers, ltv, traits=traits, best=best).to_frame("weight")


@excel_function(yearly_rate=Block("Discount rate per year (0.12 for 12 %)."),
                periods_per_year=Block("12 for months, 4 for quarters."))
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


_LOG = dict(
    customer=Column("Customer id of each transaction (one column of the log). Rows blank in all "
                    "three columns are set aside."),
    date=Column("Date of each transaction: date cells, Excel serial numbers or text YYYY-MM-DD (one "
                "column). Rows dated after today are set aside (CE_LOG_CHECK lists them)."),
    amount=Column("Amount of each transaction (money, one column). Negative amounts (returns) are "
                  "set aside; 0 is a visit."),
    unit=Text('Time unit of recency and T: "day", "week" (default), "month" or "year".', default="week",
              lower=True),
    calibration_end=Date("Last day of the calibration period (a date, up to the log's last date). "
                         "Default: the observation end."),
    observation_end=Date("Last day observed (a date, up to the log's last date). Default: the last "
                         "date of the log. After the calibration end it opens a holdout period and "
                         "adds actual_purchases and actual_amount."))


@excel_function(**_LOG, checks=[SameRows("customer", "date", "amount")],
                returns=Spilled("customer_id", labels_as_text=False),
                aliases={"result": ("amount",), "log": "customer, date, amount"})
def ce_log_summary(customer, date, amount, unit=None, calibration_end=None, observation_end=None):
    """Per-customer summary of a transaction log, with a header row: customer_id, frequency, recency, T, monetary_value (and the holdout). Python: forecast.summary_data."""
    summary = _fc.summary_data(log_frame(customer, date, amount), unit=unit,
                               calibration_end=calibration_end, observation_end=observation_end)
    return summary.customers[_SUMMARY_HEADER[1:] + (_HOLDOUT_HEADER if summary.holdout else [])]


@excel_function(**_LOG, today=Date("The date after which a transaction is set aside as a typo. "
                                   "Default: the computer's date."),
                checks=[SameRows("customer", "date", "amount")],
                aliases={"log": "customer, date, amount"})
def ce_log_check(customer, date, amount, unit=None, calibration_end=None, observation_end=None,
                 today=None):
    """What CE_LOG_SUMMARY reads of a log: rows read, used and set aside by reason with their first rows, customers, dates, calibration and holdout. Python: forecast.summary_data(...).report."""
    return _fc.summary_data(log_frame(customer, date, amount), unit=unit, today=today,
                            calibration_end=calibration_end,
                            observation_end=observation_end).report.table()


_BGNBD = ("BG/NBD parameters: the table CE_BGNBD_FIT spills (rows r, alpha, a, b), or r, "
          "alpha, a, b in this order.")
_GG = ("Gamma-Gamma parameters: the table CE_GAMMA_GAMMA_FIT spills (rows p, q, v), or p, q, v "
       "in this order.")
_FREQ = Block("Repeat purchases x per customer (the summary's frequency column).")
_REC = Block("Recency t_x per customer: time from the first to the last purchase (summary's unit).")
_T = Block("T per customer: time from the first purchase to the calibration end (summary's unit).")
_MON = Block("Mean amount m_x of the repeat purchases per customer (0 when frequency is 0).")


@excel_function(frequency=_FREQ, recency=_REC, T=_T, returns=FitTable(),
                aliases={"bgnbd": "frequency, recency, T"})
def ce_bgnbd_fit(frequency, recency, T):
    """BG/NBD fit by maximum likelihood: r, alpha, a, b with standard errors, log-likelihood and customers (a labelled table). Python: forecast.fit_bgnbd."""
    return _fc.fit_bgnbd(frequency, recency, T)


@excel_function(params=Params(_BGNBD, "bgnbd"), frequency=_FREQ, recency=_REC, T=_T,
                aliases={"bgnbd": "params"})
def ce_p_alive(params, frequency, recency, T):
    """Probability each customer is still active at the calibration end (BG/NBD), per row. Python: forecast.p_alive."""
    return _fc.p_alive(params, frequency, recency, T)


@excel_function(params=Params(_BGNBD, "bgnbd"),
                horizon=Horizon("Forecast horizon t in the summary's unit (>= 0): one for all, one per "
                                "customer (a column), or a row of horizons (spills one column per "
                                "horizon)."),
                frequency=_FREQ, recency=_REC, T=_T, aliases={"bgnbd": "params", "t": "horizon"})
def ce_expected_purchases(params, horizon, frequency, recency, T):
    """Expected purchases of each customer in the next t units (BG/NBD E[Y(t)]), per row. Python: forecast.expected_purchases."""
    expected = _fc.expected_purchases(params, horizon, frequency, recency, T)
    return expected.T if np.ndim(horizon) == 2 else expected  # a row of horizons: (K, N) spilled N x K


@excel_function(frequency=_FREQ, monetary_value=_MON, returns=FitTable(),
                aliases={"gamma_gamma": "frequency, monetary_value"})
def ce_gamma_gamma_fit(frequency, monetary_value):
    """Gamma-Gamma spend fit on the repeat buyers: p, q, v with standard errors, log-likelihood, customers, frequency-spend correlation. Python: forecast.fit_gamma_gamma."""
    return _fc.fit_gamma_gamma(frequency, monetary_value), {
        "frequency-spend correlation": _fc.frequency_spend_correlation(frequency, monetary_value)}


@excel_function(params=Params(_GG, "gamma_gamma"), frequency=_FREQ, monetary_value=_MON,
                aliases={"gamma_gamma": "params"})
def ce_expected_spend(params, frequency, monetary_value):
    """Expected amount of each customer's future purchases (Gamma-Gamma E[M]), per row. Python: forecast.expected_spend."""
    return _fc.expected_spend(params, frequency, monetary_value)


@excel_function(bgnbd=Params(_BGNBD, "bgnbd"), gamma_gamma=Params(_GG, "gamma_gamma"),
                frequency=_FREQ, recency=_REC, T=_T, monetary_value=_MON,
                margin=Single("Margin per unit of revenue (0.3 for 30 %; 1 = revenue)."),
                rate=Single("Discount rate per period of the summary's unit (a weekly rate for weeks), "
                            "> -1."),
                horizon=Periods("Horizon: number of periods (summary units) to forecast, a whole number "
                                ">= 0.", single=True),
                timing=Timing(_TIMING, default="end"),
                aliases={"values": ("monetary_value", "margin", "frequency", "rate")})
def ce_forecast_ltv(bgnbd, gamma_gamma, frequency, recency, T, monetary_value, margin, rate, horizon,
                    timing=None):
    """Forecast lifetime value per row: sum over periods k of (E[Y(k)] - E[Y(k-1)]) x E[M] x margin, discounted. Python: forecast.forecast_ltv."""
    values = _fc.forecast_values(bgnbd, gamma_gamma, frequency, recency, T, monetary_value, horizon, margin)
    return _fc.forecast_ltv(values, rate, timing)


# =====================================================================================
# --- the models beyond BG/NBD (issue 22): Pareto/NBD, MBG/NBD, BG/BB, sBG retention ---
# =====================================================================================

_PNBD = ("Pareto/NBD parameters: the table CE_PARETO_NBD_FIT spills (rows r, alpha, s, beta), or "
         "r, alpha, s, beta in this order.")
_MBG = ("MBG/NBD parameters: the table CE_MBGNBD_FIT spills (rows r, alpha, a, b), or r, alpha, "
        "a, b in this order.")
_BGBB = ("BG/BB parameters: the table CE_BGBB_FIT spills (rows alpha, beta, gamma, delta), or "
         "alpha, beta, gamma, delta in this order.")
_SBG = ("sBG parameters: the table CE_SBG_FIT spills (rows alpha, beta), or alpha, beta in this "
        "order.")
_HORIZON = ("Forecast horizon t in the summary's unit (>= 0): one for all, one per customer (a "
            "column), or a row of horizons (spills one column per horizon).")
_OPP_FREQ = Block("Opportunities taken x per customer (whole numbers, 0 to n_periods).")
_OPP_REC = Block("Opportunity of the last purchase t_x per customer (whole, x <= t_x <= n_periods; "
                 "0 when x is 0).")
_OPP_N = Block("Opportunities n observed per customer (whole numbers >= 0), or one for all.")


def _per_horizon(expected, horizon):
    """A row of horizons gives the core's (K, N) table: spilled N x K, a column per horizon."""
    return expected.T if np.ndim(horizon) == 2 else expected


@excel_function(frequency=_FREQ, recency=_REC, T=_T, returns=FitTable(),
                aliases={"pareto_nbd": "frequency, recency, T", "2F1": "frequency, recency, T"})
def ce_pareto_nbd_fit(frequency, recency, T):
    """Pareto/NBD fit by maximum likelihood: r, alpha, s, beta with standard errors, log-likelihood and customers (a labelled table). Python: forecast.fit_pareto_nbd."""
    return _fc.fit_pareto_nbd(frequency, recency, T)


@excel_function(params=Params(_PNBD, "pareto_nbd"), frequency=_FREQ, recency=_REC, T=_T,
                aliases={"pareto_nbd": "params", "2F1": "params"})
def ce_pareto_nbd_p_alive(params, frequency, recency, T):
    """Probability each customer is still active at the calibration end (Pareto/NBD), per row. Python: forecast.pareto_nbd_p_alive."""
    return _fc.pareto_nbd_p_alive(params, frequency, recency, T)


@excel_function(params=Params(_PNBD, "pareto_nbd"), horizon=Horizon(_HORIZON), frequency=_FREQ,
                recency=_REC, T=_T,
                aliases={"pareto_nbd": "params", "t": "horizon", "2F1": "params"})
def ce_pareto_nbd_expected_purchases(params, horizon, frequency, recency, T):
    """Expected purchases of each customer in the next t units (Pareto/NBD E[Y(t)]), per row. Python: forecast.pareto_nbd_expected_purchases."""
    return _per_horizon(_fc.pareto_nbd_expected_purchases(params, horizon, frequency, recency, T),
                        horizon)


@excel_function(frequency=_FREQ, recency=_REC, T=_T, returns=FitTable(),
                aliases={"mbgnbd": "frequency, recency, T"})
def ce_mbgnbd_fit(frequency, recency, T):
    """MBG/NBD fit by maximum likelihood: r, alpha, a, b with standard errors, log-likelihood and customers (a labelled table). Python: forecast.fit_mbgnbd."""
    return _fc.fit_mbgnbd(frequency, recency, T)


@excel_function(params=Params(_MBG, "mbgnbd"), frequency=_FREQ, recency=_REC, T=_T,
                aliases={"mbgnbd": "params"})
def ce_mbgnbd_p_alive(params, frequency, recency, T):
    """Probability each customer is still active at the calibration end (MBG/NBD: below 1 without a repeat purchase), per row. Python: forecast.mbgnbd_p_alive."""
    return _fc.mbgnbd_p_alive(params, frequency, recency, T)


@excel_function(params=Params(_MBG, "mbgnbd"), horizon=Horizon(_HORIZON), frequency=_FREQ,
                recency=_REC, T=_T,
                aliases={"mbgnbd": "params", "t": "horizon"})
def ce_mbgnbd_expected_purchases(params, horizon, frequency, recency, T):
    """Expected purchases of each customer in the next t units (MBG/NBD E[Y(t)]), per row. Python: forecast.mbgnbd_expected_purchases."""
    return _per_horizon(_fc.mbgnbd_expected_purchases(params, horizon, frequency, recency, T), horizon)


@excel_function(frequency=_OPP_FREQ, recency=_OPP_REC, n_periods=_OPP_N,
                weights=Block("Customers each row stands for (a recency/frequency table's counts); "
                              "default 1 each.", default=None),
                returns=FitTable(),
                aliases={"bgbb": "frequency, recency, n_periods"})
def ce_bgbb_fit(frequency, recency, n_periods, weights=None):
    """BG/BB fit for discrete purchase opportunities: alpha, beta, gamma, delta with standard errors, log-likelihood and customers (a labelled table). Python: forecast.fit_bgbb."""
    return _fc.fit_bgbb(frequency, recency, n_periods, weights)


@excel_function(params=Params(_BGBB, "bgbb"), frequency=_OPP_FREQ, recency=_OPP_REC, n_periods=_OPP_N,
                m_periods=Block("Opportunities ahead (whole, >= 0): default 1, P(alive) at the next "
                                "opportunity; 0 at the last one observed.", default=1),
                aliases={"bgbb": "params"})
def ce_bgbb_p_alive(params, frequency, recency, n_periods, m_periods=None):
    """Probability each customer is still active at opportunity n + m (BG/BB), per row. Python: forecast.bgbb_p_alive."""
    return _fc.bgbb_p_alive(params, frequency, recency, n_periods, m_periods)


@excel_function(params=Params(_BGBB, "bgbb"),
                m_periods=Horizon("Opportunities ahead (whole, >= 0): one for all, one per customer "
                                  "(a column), or a row of them (spills one column each)."),
                frequency=_OPP_FREQ, recency=_OPP_REC, n_periods=_OPP_N,
                aliases={"bgbb": "params"})
def ce_bgbb_expected_purchases(params, m_periods, frequency, recency, n_periods):
    """Expected purchases of each customer over the next m opportunities (BG/BB), per row. Python: forecast.bgbb_expected_purchases."""
    return _per_horizon(_fc.bgbb_expected_purchases(params, m_periods, frequency, recency, n_periods),
                        m_periods)


@excel_function(survivors=Block("Survivor table: a row per cohort, its size then the customers still "
                                "active at the start of each later period; blank after a cohort's "
                                "last period."),
                returns=FitTable(),
                aliases={"sbg": "survivors"})
def ce_sbg_fit(survivors):
    """Shifted-beta-geometric retention fit to cohorts' survivors: alpha, beta with standard errors, log-likelihood, customers and cohorts (a labelled table). Python: forecast.fit_sbg."""
    _, _, cohorts = _fc.survivor_counts(survivors)
    return _fc.fit_sbg(survivors), {"cohorts": float(cohorts)}


@excel_function(params=Params(_SBG, "sbg"),
                periods=Periods("Periods: a whole number >= 1 (spills that many rates in a row).", single=True),
                aliases={"sbg": "params", "2F1": "params"})
def ce_sbg_retention(params, periods):
    """Retention rate of each period t = 1..periods, (beta + t - 1)/(alpha + beta + t - 1): a row, ready for CE_LTV_RETENTION. Python: forecast.sbg_retention."""
    rates = _fc.sbg_retention(params, periods)
    if rates.size == 0:
        raise CustomerEquityError("periods", "must be >= 1 for a row of retention rates", value=0)
    return rates.reshape(1, -1)


@excel_function(params=Params(_SBG, "sbg"),
                periods=Periods("The last period: a whole number >= 0 (spills S(0)..S(periods)).", single=True),
                aliases={"sbg": "params", "2F1": "params"})
def ce_sbg_survival(params, periods):
    """Share of a cohort still active at the start of periods 0..periods (S(0) = 1): a row; times the cohort's size, its projected survivors. Python: forecast.sbg_survival."""
    return _fc.sbg_survival(params, periods).reshape(1, -1)


@excel_function(params=Params(_SBG, "sbg"),
                rate=Block("Discount rate per period, >= 0 (a row or column broadcasts)."),
                renewals=Block("Renewals the customer has made (whole, >= 0); default 0.", default=0),
                aliases={"sbg": "params", "2F1": "params"})
def ce_sbg_derl(params, rate, renewals=None):
    """Discounted expected residual lifetime (Fader & Hardie): the expected future payments of a customer about to renew, discounted. Python: forecast.sbg_derl."""
    return _fc.sbg_derl(params, rate, renewals)


@excel_function(params=Params(_SBG, "sbg"),
                margin=Block("Margin per period of an active customer (money)."),
                rate=Block("Discount rate per period, >= 0."),
                periods=Periods("Horizon in periods; omitted or blank: no end.", optional=True),
                renewals=Block("Renewals the customer has made (whole, >= 0); default 0: just "
                               "acquired.", default=0),
                timing=Timing(_TIMING),
                aliases={"sbg": "params", "2F1": "params"})
def ce_sbg_ltv(params, margin, rate, periods=None, renewals=None, timing=None):
    """Retention-based lifetime value with the sBG's rising retention: sum of margin x S(n+t)/S(n) x (1+rate)^-t. Python: forecast.sbg_ltv."""
    return _fc.sbg_ltv(params, margin, rate, periods, renewals, timing)

