"""The measurement's configuration: a small typed object with documented defaults."""

from __future__ import annotations

import dataclasses
import math
from typing import Mapping

from ..errors import CustomerEquityError
from ..reading import TIMING_RULE, timing_word
from .classify import DEFAULT_SCORE_CUTOFFS

__all__ = ["MeasureConfig", "DEFAULT_WEIGHTS"]

#: Default indicator weights (sum 1), for indicators rated 1-5 where 5 is the trait
#: of a lighthouse customer: high income and education, early adoption of new
#: things, opinion leadership, brand loyalty, and tolerance of price (5 = price-insensitive).
DEFAULT_WEIGHTS = {
    "income": 0.20,
    "education": 0.15,
    "innovativeness": 0.25,
    "opinion_leadership": 0.20,
    "brand_loyalty": 0.10,
    "price_tolerance": 0.10,
}

CLASSIFY_METHODS = ("score", "stage", "type")


@dataclasses.dataclass(frozen=True)
class MeasureConfig:
    """How to measure customer equity.

    Parameters
    ----------
    rate : float
        Discount rate **per period** (the unit of the ``periods`` column), > -1.
        Default 0.10. Use :func:`customer_equity.per_period_rate` for monthly data.
    timing : {"end", "begin"}
        End-of-period discounting (default, Excel ``NPV``) or beginning of period; the
        words of :func:`customer_equity.reading.timing_code` ("b", 1, "start", ...) are read
        as one of these two.
    iv : float
        Profile information value, the same for every customer, added once and not
        discounted. Default 0.
    classify_by : {"score", "stage", "type"}
        Step 1: weighted indicators against ``cutoffs`` (default), the life-cycle
        ``stage`` column, or a ``type`` column already in the data.
    weights : mapping of column name to weight
        Indicator weights for ``classify_by="score"``; default :data:`DEFAULT_WEIGHTS`.
    cutoffs : 3 numbers
        Lowest score of the lighthouse, follower and rational bands; default (4, 3, 2).
    transaction_income : float or list of float, optional
        The firm's transaction income per period (one number for every period, or
        one per period), allocated evenly across the customers who carry transaction
        value in that period. Leave out to take a ``tv`` column from the data.
    tier_cutoffs : 3 numbers, optional
        Lowest lifetime value of the platinum, gold and iron tiers; default: the
        95th, 80th and 50th percentiles of the measured lifetime values.

    Examples
    --------
    >>> MeasureConfig(rate=0.08, iv=25).rate
    0.08
    >>> MeasureConfig.from_dict({"rate": 0.05, "classify_by": "stage"}).classify_by
    'stage'
    """

    rate: float = 0.10
    timing: str = "end"
    iv: float = 0.0
    classify_by: str = "score"
    weights: Mapping[str, float] = dataclasses.field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    cutoffs: tuple = DEFAULT_SCORE_CUTOFFS
    transaction_income: object = None
    tier_cutoffs: object = None

    def __post_init__(self):
        self._check()

    def _check(self, source="config"):
        def bad(key, rule, value):
            raise CustomerEquityError(f"{source}: {key}", rule, value=value)

        if not _is_number(self.rate) or not self.rate > -1:
            bad("rate", "a per-period rate must be a number > -1", self.rate)
        try:  # the one vocabulary of timing words: "begin", "b", 1, ... kept as "end"/"begin"
            object.__setattr__(self, "timing", timing_word(self.timing))
        except CustomerEquityError:
            bad("timing", TIMING_RULE, self.timing)
        if not _is_number(self.iv):
            bad("iv", "must be a number", self.iv)
        if self.classify_by not in CLASSIFY_METHODS:
            bad("classify_by", "must be one of " + ", ".join(CLASSIFY_METHODS), self.classify_by)
        if not isinstance(self.weights, Mapping) or not self.weights or not all(
                _is_number(w) for w in self.weights.values()):
            bad("weights", "must map indicator columns to numbers", self.weights)
        for key in ("cutoffs", "tier_cutoffs"):
            value = getattr(self, key)
            if value is None and key == "tier_cutoffs":
                continue
            if (not isinstance(value, (list, tuple)) or len(value) != 3
                    or not all(_is_number(v) for v in value)
                    or list(value) != sorted(value, reverse=True)):
                bad(key, "must be 3 numbers, highest band first", value)
        income = self.transaction_income
        if income is not None and not _is_number(income) and not (
                isinstance(income, (list, tuple)) and all(_is_number(v) for v in income)):
            bad("transaction_income", "must be a number or a list of numbers per period", income)

    @classmethod
    def from_dict(cls, data: Mapping, source="config"):
        """A configuration from a mapping; unknown keys are refused by name."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise CustomerEquityError(source, "unknown setting; known settings are "
                                      + ", ".join(sorted(names)), value=unknown[0])
        data = dict(data)
        for key in ("cutoffs", "tier_cutoffs"):
            if isinstance(data.get(key), list):
                data[key] = tuple(data[key])
        try:
            return cls(**data)
        except CustomerEquityError as err:
            raise CustomerEquityError(err.argument.replace("config", source, 1), err.rule,
                                      value=err.value) from None

    def to_dict(self):
        """Plain data (JSON-ready)."""
        out = dataclasses.asdict(self)
        out["weights"] = dict(self.weights)
        for key in ("cutoffs", "tier_cutoffs"):
            if out[key] is not None:
                out[key] = list(out[key])
        return out


def _is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
