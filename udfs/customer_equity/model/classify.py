"""Step 1: classifying customers (SPEC section 4).

Three ways: weighted indicator scores against cut-offs, the life-cycle stage of
the first purchase, and value tiers (the customer pyramid). The papers give no
numbers for weights or cut-offs: every default below is explicit and overridable.
"""

from __future__ import annotations

import bisect
from fractions import Fraction

import numpy as np

from ..errors import CustomerEquityError
from .validate import as_float, check_finite, label_codes
from .labels import stage_code_of
from .types import TYPES, type_labels

__all__ = [
    "DEFAULT_SCORE_CUTOFFS",
    "DEFAULT_TIER_QUANTILES",
    "TIERS",
    "weighted_score",
    "segment_by_score",
    "segment_by_stage",
    "value_tier",
    "tier_cutoffs",
    "mid_rank_percentile",
    "score_codes",
    "stage_codes",
]

#: Lowest score of the lighthouse, follower and rational bands, for indicators rated
#: 1-5 with weights that sum to 1 (so the score is on the same 1-5 scale).
DEFAULT_SCORE_CUTOFFS = (4.0, 3.0, 2.0)

#: Value tiers of the customer pyramid (Rust, Zeithaml & Lemon 2000), top first.
TIERS = ("Platinum", "Gold", "Iron", "Lead")

#: Default tier bounds as mid-rank percentiles of lifetime value: the top 5 % platinum,
#: the next 15 % gold, the next 30 % iron, the bottom half lead (see :func:`value_tier`).
DEFAULT_TIER_QUANTILES = (0.95, 0.80, 0.50)

def weighted_score(indicators, weights):
    """Weighted indicator score per customer: ``sum_k w_k x_k``.

    Parameters
    ----------
    indicators : array_like
        Shape ``(N, K)``: one row per customer, one column per indicator (income,
        education, innovativeness, opinion leadership, ...), each rated on the
        firm's scale (1-5 for the default cut-offs). Blanks are refused: a missing
        indicator would silently lower the score.
    weights : array_like
        Shape ``(K,)``, the firm's weight for each indicator; may be negative for a
        trait that marks a less valuable customer (price sensitivity).

    Examples
    --------
    >>> weighted_score([[5, 4], [2, 1]], [0.6, 0.4])
    array([4.6, 1.6])
    >>> weighted_score(5, 0.5)
    array([2.5])
    """
    x = check_finite(as_float(indicators, "indicators", blank_ok=False), "indicators")
    w = check_finite(as_float(weights, "weights", blank_ok=False), "weights").reshape(-1)
    if x.ndim <= 1:
        x = x.reshape(1, -1)  # one customer (a single cell is one indicator)
    if x.shape[-1] != w.shape[0]:
        raise CustomerEquityError("weights", f"needs one weight per indicator column "
                                  f"({x.shape[-1]}), got {w.shape[0]}")
    return x @ w


def _cutoffs(cutoffs, name, count=3):
    c = check_finite(as_float(cutoffs, name, blank_ok=False), name).reshape(-1)
    if c.shape[0] != count:
        raise CustomerEquityError(name, f"needs {count} cut-offs, highest band first, got {c.shape[0]}")
    if np.any(np.diff(c) > 0):
        raise CustomerEquityError(name, "cut-offs must be in descending order (highest band first)",
                                  value=c.tolist())
    return c


def score_codes(score, cutoffs=DEFAULT_SCORE_CUTOFFS):
    """Type codes from scores: ``score >= cutoffs[0]`` is lighthouse (0), ... below the last 3."""
    s = check_finite(as_float(score, "score", blank_ok=False), "score")
    # a score of exactly 3.0 on paper may come out as 2.9999999999999996 depending on
    # the order of the weighted sum; it must still reach the band that starts at 3
    s = np.round(s, 10)
    c = _cutoffs(cutoffs, "cutoffs")
    return (3 - np.searchsorted(c[::-1], s, side="right")).astype(np.int8)


def segment_by_score(score, cutoffs=DEFAULT_SCORE_CUTOFFS):
    """Customer type from a weighted score and three cut-offs.

    Parameters
    ----------
    score : array_like
        Weighted indicator score per customer (see :func:`weighted_score`).
    cutoffs : sequence of 3 numbers
        Lowest score of the lighthouse, follower and rational bands, descending.
        Default ``(4.0, 3.0, 2.0)`` for a 1-5 scale. Below the last: profit-seeking.

    Examples
    --------
    >>> segment_by_score([4.6, 3.0, 2.5, 1.6]).tolist()
    ['Lighthouse', 'Follower', 'Rational', 'Profit-seeking']
    """
    return type_labels(score_codes(score, cutoffs))


def stage_codes(stage, name="stage"):
    """Type codes from the life-cycle stage of the first purchase (see :func:`segment_by_stage`)."""
    return label_codes(np.asarray(stage, dtype=object), name, stage_code_of,
                       "unknown life-cycle stage; use introduction, growth, maturity, late "
                       "maturity/decline (or 1-4, or 产品介绍期, 产品成长期, 产品成熟期, 成熟后期或衰退期)",
                       "a life-cycle stage is required, the cell is blank")


def segment_by_stage(stage):
    """Customer type from the life-cycle stage of the product at the first purchase.

    Customers who buy in the introduction stage are lighthouse customers; in the
    growth stage followers; in maturity rational; in late maturity or decline
    profit-seeking.

    Parameters
    ----------
    stage : array_like
        English labels (introduction, growth, maturity, late maturity, decline),
        Chinese ones, including the paper's own wording (产品介绍期 or 导入期,
        产品成长期, 产品成熟期, 成熟后期或衰退期, simplified or traditional), or
        stage numbers 1-4 (TRUE/FALSE are refused, not read as 1/0). The one list is
        :data:`customer_equity.model.labels.STAGE_ALIASES`.

    References
    ----------
    Wang Tao et al. (2002), *The composition and measurement of customer equity*.

    Examples
    --------
    >>> segment_by_stage(["growth", 1, "成熟期", "Decline"]).tolist()
    ['Follower', 'Lighthouse', 'Rational', 'Profit-seeking']
    >>> segment_by_stage(["产品介绍期", "產品成長期", "成熟后期或衰退期"]).tolist()
    ['Lighthouse', 'Follower', 'Profit-seeking']
    """
    return type_labels(stage_codes(stage))


def mid_rank_percentile(ltv):
    """Each value's mid-rank percentile: customers below it plus half of those tied, over N.

    Examples
    --------
    >>> mid_rank_percentile([10, 20, 20, 40]).tolist()
    [0.125, 0.5, 0.5, 0.875]
    """
    v = check_finite(as_float(ltv, "ltv", blank_ok=False), "ltv").reshape(-1)
    return _twice_mid_rank(np.sort(v), v) / (2.0 * max(v.size, 1))


def _twice_mid_rank(s, v):
    """Twice the mid-rank of each ``v`` among the sorted values ``s`` (customers below, plus
    half of those tied, doubled): a whole number, so percentiles compare without rounding."""
    return np.searchsorted(s, v, side="left") + np.searchsorted(s, v, side="right")


def _reaches(twice_mid, n, q):
    """Whether a mid-rank percentile, ``twice_mid / 2n``, is at least ``q``, in whole numbers
    (no rounding at 95 %)."""
    f = Fraction(q).limit_denominator(10_000)
    return twice_mid * f.denominator >= 2 * n * f.numerator


def _tier_index(v, quantiles):
    """Tier codes 0-3 by mid-rank percentile."""
    twice_mid = _twice_mid_rank(np.sort(v), v)
    codes = np.full(v.shape, 3, dtype=np.int64)
    for tier, q in reversed(list(enumerate(quantiles))):
        codes[_reaches(twice_mid, v.size, q)] = tier
    return codes


def tier_cutoffs(ltv, quantiles=DEFAULT_TIER_QUANTILES):
    """The lowest lifetime value of the platinum, gold and iron tiers under the default rule.

    Given as ``cutoffs`` to :func:`value_tier`, these reproduce the default tiers exactly,
    so that a customer base measured in batches is tiered as a whole. A tier nobody
    reaches gets a cut-off just above the largest value.

    Examples
    --------
    >>> tier_cutoffs([float(x) for x in range(1, 21)])
    (20.0, 17.0, 11.0)
    """
    v = check_finite(as_float(ltv, "ltv", blank_ok=False), "ltv").reshape(-1)
    if v.size == 0:
        return (0.0, 0.0, 0.0)
    # On the sorted values the mid-rank percentile never falls, so each tier's first customer
    # is found by bisection: one sorted copy, no per-customer ranks (10^7 customers in batches).
    s = np.sort(v)
    n = s.size

    def first_reaching(q):
        return bisect.bisect_left(range(n), True,
                                  key=lambda k: _reaches(int(_twice_mid_rank(s, s[k])), n, q))

    firsts = [first_reaching(q) for q in quantiles]
    above_all = float(np.nextafter(s[-1], np.inf))
    return tuple(float(s[k]) if (k := min(firsts[: tier + 1])) < n else above_all
                 for tier in range(3))


def value_tier(ltv, cutoffs=None):
    """Value tier of the customer pyramid: Platinum, Gold, Iron or Lead.

    Parameters
    ----------
    ltv : array_like
        Lifetime value per customer (money).
    cutoffs : sequence of 3 numbers, optional
        Lowest lifetime value of the platinum, gold and iron tiers, descending.
        Default: by mid-rank percentile.

    Notes
    -----
    The default rule ranks the customers by lifetime value and gives each its
    mid-rank percentile ``p = (customers below + half of those tied) / N``:
    ``p >= 0.95`` is Platinum, ``p >= 0.80`` Gold, ``p >= 0.50`` Iron, the rest
    Lead. With distinct values that is the top 5 % Platinum, the next 15 % Gold,
    the next 30 % Iron and the bottom half Lead; equal values always share a tier
    (ten equal values sit at the 50th percentile: all Iron).

    References
    ----------
    Rust, R. T., Zeithaml, V. A., & Lemon, K. N. (2000). *Driving Customer Equity*.
    Free Press. (The paper contrasts this pyramid with its own four types.)

    Examples
    --------
    >>> value_tier([5000, 1200, 300, -40], cutoffs=[2000, 1000, 0]).tolist()
    ['Platinum', 'Gold', 'Iron', 'Lead']
    >>> sorted(set(value_tier([100.0] * 10)))
    ['Iron']
    >>> value_tier([0.0] * 12 + [100.0] * 8).tolist()[10:14]
    ['Lead', 'Lead', 'Gold', 'Gold']
    """
    v = check_finite(as_float(ltv, "ltv", blank_ok=False), "ltv")
    if cutoffs is None:
        codes = _tier_index(v.reshape(-1), DEFAULT_TIER_QUANTILES).reshape(v.shape)
    else:
        c = _cutoffs(cutoffs, "cutoffs")
        codes = 3 - np.searchsorted(c[::-1], v, side="right")
    return np.asarray(TIERS, dtype=object)[codes]


assert len(TYPES) == 4
