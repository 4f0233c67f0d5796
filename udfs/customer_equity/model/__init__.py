"""The calculation core: numpy/pandas only, never xlwings.

One function per formula, array-in/array-out, as in numpy-financial.
"""

from .classify import (
    DEFAULT_SCORE_CUTOFFS,
    DEFAULT_TIER_QUANTILES,
    TIERS,
    mid_rank_percentile,
    segment_by_score,
    segment_by_stage,
    tier_cutoffs,
    value_tier,
    weighted_score,
)
from .config import DEFAULT_WEIGHTS, MeasureConfig
from .discount import annuity_factor, discount_factors, per_period_rate, present_value
from .equity import composition_matrix, customer_equity, equity_table
from .links import REQUIRED_LINKS, solid_links
from .ltv import ltv_contribution, ltv_indirect, ltv_retention, ltv_share_of_wallet
from .measure import INPUT_COLUMNS, Measurement, carriers_per_period, measure
from ..reading import FALSE_WORDS, TRUE_WORDS, flag_array, flag_value
from .labels import STAGE_ALIASES, TYPE_ALIASES
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
from .prospects import encode_traits, prospect_weights, screen_prospects
from .whatif import (
    LEVERS,
    WhatIf,
    expected_lifetime,
    implied_retention,
    moves_to_mix,
    what_if,
    what_if_grid,
)

#: The public functions, classes and constants (the submodules are not part of it).
__all__ = [
    # values per period and lifetime value
    "purchase_value", "word_of_mouth_value", "allocate_transaction_value", "ltv_values",
    "ltv_contribution", "ltv_share_of_wallet", "ltv_indirect", "ltv_retention",
    "per_period_rate", "discount_factors", "annuity_factor", "present_value",
    # customer types
    "TYPES", "VALUE_KINDS", "CAPABILITIES", "capabilities", "type_codes", "type_labels",
    "ltv_type", "excluded_cells",
    # classification
    "DEFAULT_SCORE_CUTOFFS", "DEFAULT_TIER_QUANTILES", "TIERS", "weighted_score",
    "segment_by_score", "segment_by_stage", "value_tier", "tier_cutoffs", "mid_rank_percentile",
    # equity
    "customer_equity", "equity_table", "composition_matrix",
    # relationship links
    "REQUIRED_LINKS", "solid_links",
    # the one vocabulary of flags, types and stages
    "TRUE_WORDS", "FALSE_WORDS", "TYPE_ALIASES", "STAGE_ALIASES", "flag_value", "flag_array",
    # the whole measurement
    "DEFAULT_WEIGHTS", "MeasureConfig", "INPUT_COLUMNS", "Measurement", "carriers_per_period",
    "measure",
    # the sample
    "generate_customers", "load_sample", "sample_config",
    # decisions: structure and its comparison, what-if, prospects, retention watch
    "MIX_COLUMNS",
    "STRUCTURE_COLUMNS",
    "compare_structures",
    "decompose_change",
    "structure_from_counts",
    "structure_from_values",
    "structure_table",
    "LEVERS",
    "WhatIf",
    "expected_lifetime",
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
