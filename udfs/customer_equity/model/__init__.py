"""The calculation core: numpy/pandas only, never xlwings.

One function per formula, array-in/array-out, as in numpy-financial.
"""

from .classify import (
    DEFAULT_SCORE_CUTOFFS,
    DEFAULT_TIER_QUANTILES,
    TIERS,
    segment_by_score,
    segment_by_stage,
    value_tier,
    weighted_score,
)
from .config import DEFAULT_WEIGHTS, MeasureConfig
from .discount import annuity_factor, discount_factors, per_period_rate, present_value
from .equity import composition_matrix, customer_equity, equity_table
from .links import REQUIRED_LINKS, solid_links
from .ltv import ltv_contribution, ltv_indirect, ltv_retention, ltv_share_of_wallet
from .measure import INPUT_COLUMNS, Measurement, carriers_per_period, measure
from .sample import generate_customers, load_sample, sample_config
from .types import (
    CAPABILITIES,
    TYPES,
    VALUE_KINDS,
    capabilities,
    excluded_cells,
    ltv_type,
    type_codes,
    type_labels,
)
from .values import allocate_transaction_value, ltv_values, purchase_value, word_of_mouth_value

# --- issue 14: the papers' decisions (structure, what-if, prospects, retention) -----------
# An explicit __all__ takes these names with `*_DECISIONS`.
from .prospects import encode_traits, prospect_weights, screen_prospects
from .retention import customers_at_stake, retention_from_p_alive, retention_watch
from .structure import (
    MIX_COLUMNS,
    STRUCTURE_COLUMNS,
    compare_structures,
    decompose_change,
    structure_from_counts,
    structure_from_values,
    structure_table,
)
from .whatif import LEVERS, WhatIf, implied_retention, moves_to_mix, what_if, what_if_grid

_DECISIONS = [
    "MIX_COLUMNS",
    "STRUCTURE_COLUMNS",
    "compare_structures",
    "decompose_change",
    "structure_from_counts",
    "structure_from_values",
    "structure_table",
    "LEVERS",
    "WhatIf",
    "implied_retention",
    "moves_to_mix",
    "what_if",
    "what_if_grid",
    "encode_traits",
    "prospect_weights",
    "screen_prospects",
    "customers_at_stake",
    "retention_from_p_alive",
    "retention_watch",
]
# --- end issue 14 ---------------------------------------------------------------------------

__all__ = [name for name in dir() if not name.startswith("_")]
