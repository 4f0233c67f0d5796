"""The measurement template's contract: its id, sheets, where each result lives, its names.

Shared by the sheet builders (:mod:`.measurement`) and the Refresh button's refresher
(:mod:`.measurement_refresh`); imports neither XlsxWriter nor the builders.

One CE_ evaluation per quantity
-------------------------------
Excel evaluates a named formula afresh at every reference. So each per-customer CE_
quantity is computed once, by the dynamic-array formula of one cell of a step sheet, and
its name refers to that cell's spill range (``A1#`` in Excel 365 and 2021, the range the
result covered when the file was written elsewhere): ``ce_weighted_score``,
``ce_types``, ``ce_pv_per_period``, ``ce_ppv_per_period``, ``ce_tv`` (transaction value
per customer and period, a customers x periods block) and ``ce_customer_ltv``. No name is
a CE_ formula. The native cross-checks (``chk_*``) are named formulas of Excel's own
functions, which cost no CE_ call.

No name equals a function's name in any case (``ce_pv`` would be CE_PV to Excel, which
compares names without case, and LibreOffice refuses it).
"""

from __future__ import annotations

TEMPLATE_ID = "measurement/1"
FILENAME = "customer-equity-measurement.xlsx"
TABLE = "Customers"

S_README, S_ASSUME, S_CUST, S_STEP1, S_STEP2, S_STEP3, S_LISTS = (
    "Read me", "Assumptions", "Customers", "Step 1 Classify", "Step 2 Value", "Step 3 Equity", "Lists")

P0 = 11  # first data row (0-indexed) of the per-customer blocks on the step sheets
EQ_ROW = 7  # header row (0-indexed) of the equity table on Step 3

#: Column of the Step 2 sheet where the transaction value per customer and period spills.
TV_COL = 24

#: Where each per-customer CE_ quantity is computed: (sheet, 0-indexed row, column).
ANCHORS = {
    "ce_weighted_score": (S_STEP1, P0, 3),
    "ce_types": (S_STEP1, P0, 4),
    "ce_pv_per_period": (S_STEP2, P0, 4),
    "ce_ppv_per_period": (S_STEP2, P0, 5),
    "ce_tv": (S_STEP2, P0, TV_COL),
    "ce_customer_ltv": (S_STEP2, P0, 12),
}

#: Names of the per-customer outputs a test or a reader may look for.
NAMED_FORMULAS = ("ce_types", "ce_pv_per_period", "ce_ppv_per_period", "ce_tv", "ce_customer_ltv")

#: The CE_ formula of each anchor cell (the names refer to their spill ranges). The score
#: column is blank unless the customers are classified by score.
ANCHOR_FORMULAS = {
    "ce_weighted_score": '=IF(ce_in_classify_by="score",CE_SCORE(ce_in_indicators,ce_in_weights),"")',
    "ce_types": '=IF(ce_in_classify_by="stage",CE_SEGMENT_STAGE(ce_in_stage),'
                'IF(ce_in_classify_by="type",ce_in_type,CE_SEGMENT(ce_weighted_score,ce_in_cutoffs)))',
    "ce_pv_per_period": "=CE_PV(ce_in_capacity,ce_in_share,ce_in_margin)",
    "ce_ppv_per_period": "=CE_PPV(ce_in_influence,ce_in_reach,ce_in_avg_value)",
    "ce_tv": "=CE_TV_ALLOCATE(ce_in_transaction_income,IF((ce_in_tv_carrier*1)*(ce_in_periods>=TRANSPOSE("
             "ce_transaction_periods)),ce_types,FALSE))+ce_in_tv",
    "ce_customer_ltv": "=CE_LTV_TYPE(ce_types,ce_in_rate,ce_in_periods,ce_pv_per_period,ce_ppv_per_period,"
                       "ce_in_cv,ce_in_kv,ce_tv,ce_in_iv,ce_in_timing)",
}

#: Named formulas: the native cross-checks (Excel alone, from the inputs).
NAMED = {
    "chk_score": "=MMULT(ce_in_indicators,ce_in_weights)",
    "chk_score_code": "=1+(ROUND(chk_score,10)<INDEX(ce_in_cutoffs,1))+(ROUND(chk_score,10)<INDEX("
                      "ce_in_cutoffs,2))+(ROUND(chk_score,10)<INDEX(ce_in_cutoffs,3))",
    "chk_code": '=IF(ce_in_classify_by="stage",SUMIF(ce_stage_labels,ce_in_stage,ce_stage_codes),'
                'IF(ce_in_classify_by="type",SUMIF(ce_type_aliases,ce_in_type,ce_type_alias_codes),'
                'chk_score_code))',
    "chk_types": '=CHOOSE(chk_code,"Lighthouse","Follower","Rational","Profit-seeking")',
    "chk_annuity": '=PV(ce_in_rate,ce_in_periods,-1,0,(ce_in_timing="begin")*1)',
    "chk_pv": "=chk_annuity*ce_in_capacity*ce_in_share*ce_in_margin",
    "chk_ppv": "=chk_annuity*ce_in_influence*ce_in_reach*ce_in_avg_value*(chk_code<=3)",
    "chk_cv": "=chk_annuity*ce_in_cv*(chk_code<=3)",
    "chk_kv": "=chk_annuity*ce_in_kv*(chk_code=1)",
    "chk_tv": "=(chk_code<=2)*(chk_annuity*ce_in_tv+(ce_in_tv_carrier*1)*MMULT((ce_in_periods>="
              "TRANSPOSE(ce_transaction_periods))*1,chk_tv_per_carrier))",
    "chk_ltv": "=chk_pv+chk_ppv+chk_cv+chk_kv+chk_tv+ce_in_iv",
}

#: Tier cut-offs: blank means "by quantiles". Excel for Mac and the web hand a blank in a
#: range over as 0, so the formula passes "" (read as omitted by both runtimes) instead.
TIER_FORMULA = '=CE_TIER(ce_customer_ltv,IF(ce_in_tier_cutoffs="","",ce_in_tier_cutoffs))'

#: The inputs Refresh needs (a workbook that lost one is refused, naming it).
REQUIRED_INPUTS = (
    "ce_in_customers", "ce_in_rate", "ce_in_timing", "ce_in_iv", "ce_in_classify_by",
    "ce_in_weight_names", "ce_in_weights", "ce_in_cutoffs", "ce_in_transaction_income",
    "ce_in_tier_cutoffs",
)

#: What Refresh writes.
OUTPUTS = ("ce_out_by_type", "ce_out_stamp")


def stamp(m):
    """The text Python writes under its table: what it measured (no clock time: reproducible)."""
    from ..._version import __version__

    return f"measure() on {int(m.counts.sum()):,} customers; customer-equity {__version__}"
