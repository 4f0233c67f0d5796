"""What-if: customer equity under the levers the papers name.

Each lever answers one question an analyst asks (docs/decisions.md quotes the
papers' sentence for each):

============================  ==============================================================
lever                         question
============================  ==============================================================
``retention_change``          customers stay longer (the expansion paper: retention time is
                              the most important driver of customer equity)
``share_change``              the firm wins a larger share of each customer's spending
                              (Griffin's share of wallet)
``loyalty_change``            a type grows more loyal: the values it provides grow, its
                              kinds do not (PPV, KV and TV; Wang Tao et al.)
``margin_change``, ``rate``   the unit margin, the discount rate (the paper: marketing
                              hardly moves these; they are here for sensitivity)
``transaction_income``        the partner income to allocate changes
``type_mix``                  the same number of customers in another structure, each type
                              at its average value (the papers' "same number of customers,
                              a different customer structure")
``new_customers``             acquisition: new customers per type at the type's average
                              value, less ``acquisition_cost`` each
``moves``, ``relabel_mix``,   named customers change type, keeping their own values (re-read
``new_types``                 under the new type's capabilities)
============================  ==============================================================

Every lever that changes customers changes the customer table or the
configuration and measures again with :func:`~customer_equity.model.measure.measure`
(:attr:`WhatIf.changed` holds the table that was measured); ``type_mix`` and
``new_customers`` then count each type's measured customers more or fewer times.

Retention, one convention
-------------------------
A customer survives each period with probability ``r`` (the retention rate per
period) and provides the period's values if it is a customer in it. With the
measurement's end-of-period timing (the default, SPEC section 1) the values of a
period come at its end, for the customers who survived it: a customer provides
values in ``T`` periods, ``P(T >= t) = r^t``, so ``E[T] = r / (1 - r)`` and the
retention-based lifetime value is Gupta & Lehmann's ``m r / (1 + i - r)``. With
``timing="begin"`` the first period's values come at once, from every customer:
``E[T] = 1 / (1 - r)`` and ``LTV = m (1 + i) / (1 + i - r)``. The retention of a
customer table is the one whose expected lifetime is the table's mean retention
time (:func:`implied_retention`), so that the table's value at rate 0 and the
retention LTV at that rate agree (a round trip, tested); :func:`expected_lifetime`
is the inverse. :func:`~customer_equity.model.ltv.ltv_retention`, this module and
:func:`~customer_equity.model.retention.retention_watch` read ``r`` this way.

A change of retention from ``r`` to ``r'`` changes every lifetime of the type by
the same factor, the change of the expected lifetime::

    T'_n = T_n E[T | r'] / E[T | r]

``T'_n`` is generally not whole: the customer is retained ``floor(T'_n)`` full
periods and the next one for the fraction left, whose values count at that
fraction (the expected value when it stays that period with that probability).
Periods added after a customer's last one take the table's values for them where
a block of per-period columns holds any, and repeat the customer's last period
otherwise. In the changed table this is a block of per-period columns
(``capacity_1, ...``, ``reach_1, ...``, ``cv_1, ...``) with ``periods = ceil(T'_n)``;
the fraction scales spending capacity (or ``pv``), reach (or ``ppv``), CV, KV and TV.

A retention rate known otherwise (``base_retention``, e.g. from P(alive)) is read
as the firm's measure of the same survival: a change from ``r_b`` to ``r_b + Δ``
multiplies the chance of staying each period by ``(r_b + Δ) / r_b``, and the
table's lifetimes, whose own retention is ``r`` (:func:`implied_retention`), take
the same factor, ``r' = r (r_b + Δ) / r_b``. Without it, ``r' = r + Δ``.

Transaction value follows its carriers
--------------------------------------
The paper ties transaction value to the customers' trust and loyalty. With
allocated transaction income (the configuration's ``transaction_income``), a
what-if that changes who carries transaction value, or for how long, keeps each
period's income **per carrier** as measured: a carrier earns that income in every
period it is expected to be a customer, a partly retained period at its fraction
(expected income per expected period). Periods after the measured horizon (the
longest retention time) take its last period's income per carrier; a list of income
that ends earlier gives nothing after its end, as in the measurement. In the changed table this is a ``tv_1, ...``
block and the configuration allocates nothing. A firm whose partner income is a
fixed total whatever its customers do says so with the ``transaction_income``
lever: the totals are then allocated over the expected carriers of the changed
table (income in a period with none is not earned: :attr:`WhatIf.dropped_income`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..errors import CustomerEquityError
from ..reading import timing_code
from .validate import as_float, check_finite, rate_array
from .config import MeasureConfig
from .measure import Measurement, _carrier_mask, _income, _periods, carriers_per_period, measure
from .types import TYPES, type_codes, type_labels

__all__ = [
    "LEVERS",
    "WhatIf",
    "expected_lifetime",
    "implied_retention",
    "moves_to_mix",
    "what_if",
    "what_if_grid",
]

#: The levers :func:`what_if_grid` can vary (keywords of :func:`what_if` taking one number).
LEVERS = ("retention_change", "rate", "margin_change", "share_change", "loyalty_change",
          "transaction_income")
_TABLE_LEVERS = ("retention_change", "margin_change", "share_change", "loyalty_change")

# Per-period inputs of measure(), and the one of each product that carries a partial period.
_PRODUCTS = {"pv": (("capacity", "share", "margin"), "capacity"),
             "ppv": (("influence", "reach", "avg_value"), "reach")}
_SINGLE = ("cv", "kv", "tv")


def expected_lifetime(retention: ArrayLike, timing: str = "end") -> np.ndarray | float:
    """Expected number of periods a customer provides values, at retention ``r`` per period.

    Parameters
    ----------
    retention : array_like
        ``r``, the probability of staying a customer from one period to the next, in [0, 1).
    timing : {"end", "begin"}
        ``"end"`` (default, the measurement's): a period's values come at its end, from
        the customers who survived it; ``"begin"``: the first period's values come at
        once, from every customer.

    Returns
    -------
    ndarray or float
        ``E[T]`` in periods.

    Notes
    -----
    .. math:: E[T]_{end} = \\sum_{t \\ge 1} r^t = \\frac{r}{1-r}, \\qquad
              E[T]_{begin} = \\sum_{t \\ge 0} r^t = \\frac{1}{1-r}

    The retention-based lifetime value at rate 0 is the margin times this
    (:func:`~customer_equity.model.ltv.ltv_retention`); :func:`implied_retention`
    is its inverse on a customer table.

    References
    ----------
    Gupta, S., & Lehmann, D. R. (2003). Customers as assets. *Journal of Interactive
    Marketing*, 17(1), 9-24.

    Examples
    --------
    >>> float(expected_lifetime(0.8)), float(expected_lifetime(0.75, "begin"))
    (4.0, 4.0)
    """
    r = check_finite(as_float(retention, "retention", blank_ok=False), "retention")
    if np.any((r < 0) | (r >= 1)):
        bad = r[(r < 0) | (r >= 1)].reshape(-1)[0]
        raise CustomerEquityError("retention", "a retention rate per period must lie in [0, 1)",
                                  value=float(bad))
    out = (1.0 if timing_code(timing) else r) / (1.0 - r)
    return out.item() if np.ndim(out) == 0 else out


def implied_retention(periods: ArrayLike, types: ArrayLike, timing: str = "end") -> np.ndarray:
    """Retention rate per period implied by the customers' retention times, per type.

    Parameters
    ----------
    periods : array_like, shape (N,)
        Retention time of each customer, in periods (whole numbers >= 0).
    types : array_like, shape (N,)
        Customer type of each customer (labels or codes 0-3).
    timing : {"end", "begin"}
        The measurement's timing (see :func:`expected_lifetime`).

    Returns
    -------
    ndarray, shape (4,)
        ``r`` per type (Lighthouse, Follower, Rational, Profit-seeking), in [0, 1);
        NaN for a type without customers.

    Notes
    -----
    The retention whose expected lifetime (:func:`expected_lifetime`) is the type's
    mean retention time ``\\bar T_k``:

    .. math:: r_k^{end} = \\frac{\\bar T_k}{1 + \\bar T_k}, \\qquad
              r_k^{begin} = \\max\\left(0,\\; 1 - \\frac{1}{\\bar T_k}\\right)

    (with ``timing="begin"`` every customer provides its first period, so a mean
    below one period is outside the model: ``r = 0``). A round trip returns the
    table's value: at rate 0 a type's customers are worth ``m \\bar T_k`` each, and
    ``ltv_retention(m, r_k, 0, timing=timing)`` is the same.

    References
    ----------
    Gupta, S., & Lehmann, D. R. (2003). Customers as assets (the retention rate);
    Reichheld, F. F. (1996). *The Loyalty Effect*; the expansion paper (seed 000):
    retention time is the most important driver of customer equity.

    Examples
    --------
    Two lighthouse customers retained 4 periods each, a rational one 2, two
    profit-seeking ones 1:

    >>> types = ["Lighthouse", "Lighthouse", "Rational", "Profit-seeking", "Profit-seeking"]
    >>> implied_retention([4, 4, 2, 1, 1], types).round(4).tolist()  # 4/5, 2/3, 1/2
    [0.8, nan, 0.6667, 0.5]
    >>> implied_retention([4, 4, 2, 1, 1], types, timing="begin").tolist()  # 1 - 1/4, 1 - 1/2
    [0.75, nan, 0.5, 0.0]
    >>> from customer_equity.model.ltv import ltv_retention
    >>> float(ltv_retention(100, 0.8, 0.0))  # the lighthouse customers' 100 x 4 periods
    400.0
    """
    p = _periods(pd.DataFrame({"periods": np.asarray(periods).reshape(-1)}))
    codes = codes_of(types, "types")
    if codes.size != p.size:
        raise CustomerEquityError("types", f"needs one type per customer ({p.size}), got {codes.size}")
    begin = timing_code(timing)
    n = np.bincount(codes, minlength=4)
    total = np.bincount(codes, weights=p, minlength=4)
    mean = np.divide(total, n, out=np.full(4, np.nan), where=n > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(mean > 0, np.maximum(0.0, 1.0 - 1.0 / mean), 0.0) if begin else mean / (1.0 + mean)
    return np.where(n > 0, r, np.nan)


@dataclasses.dataclass
class WhatIf:
    """The result of :func:`what_if`: the measurement before and after the change.

    Attributes
    ----------
    before, after : Measurement
        The baseline and the changed measurement. With ``type_mix`` or
        ``new_customers``, ``after`` counts each type's measured customers
        ``after.customers["weight"]`` times (its ``counts`` and ``sums``), and is
        gross of acquisition cost.
    changed : pandas.DataFrame
        The customer table that was measured for ``after`` (before any weighting).
    config : MeasureConfig
        The configuration that was measured for ``after``.
    dropped_income : float
        Transaction income (undiscounted, summed over periods) that the
        ``transaction_income`` lever gives to periods in which, after the change, no
        customer carries transaction value: it is not earned (the measurement would
        refuse it; see :func:`~customer_equity.model.values.allocate_transaction_value`).
    acquisition_cost : ndarray, shape (4,), or None
        The cost of the new customers per type (``new_customers`` x
        ``acquisition_cost``), subtracted from the equity after; None without
        ``new_customers``.
    """

    before: Measurement
    after: Measurement
    changed: pd.DataFrame
    config: MeasureConfig
    dropped_income: float = 0.0
    acquisition_cost: np.ndarray | None = None

    @property
    def equity(self) -> float:
        """Customer equity after the change (net of the new customers' acquisition cost)."""
        cost = 0.0 if self.acquisition_cost is None else float(self.acquisition_cost.sum())
        return self.after.equity - cost

    @property
    def difference(self) -> float:
        """Customer equity after the change minus before."""
        return self.equity - self.before.equity

    @property
    def table(self) -> pd.DataFrame:
        """Per type and in total: customers and equity before and after, and the difference.

        With ``new_customers``, an ``acquisition_cost`` column, and ``equity_after``
        net of it.
        """
        b, a = self.before.by_type, self.after.by_type
        out = pd.DataFrame({"customers_before": b["customers"], "customers_after": a["customers"],
                            "equity_before": b["equity"], "equity_after": a["equity"]}, index=b.index)
        if self.acquisition_cost is not None:
            cost = np.append(self.acquisition_cost, self.acquisition_cost.sum())
            out["equity_after"] = out["equity_after"] - cost
            out["acquisition_cost"] = cost
        out["difference"] = out["equity_after"] - out["equity_before"]
        return out


def codes_of(types: ArrayLike, name: str) -> np.ndarray:
    """Type codes (int64, shape (N,)) from labels, codes or a measured ``type`` column.

    Examples
    --------
    >>> codes_of(["Rational", "燈塔"], "types").tolist(), codes_of(np.array([3, 1]), "types").tolist()
    ([2, 0], [3, 1])
    """
    if isinstance(types, pd.Series) and isinstance(types.dtype, pd.CategoricalDtype) \
            and list(types.cat.categories) == list(TYPES):
        return types.cat.codes.to_numpy().astype(np.int64)
    arr = np.asarray(types)
    if not np.issubdtype(arr.dtype, np.integer):
        arr = np.asarray(types, dtype=object)
    return np.atleast_1d(type_codes(arr.reshape(-1), name)).astype(np.int64)


def _per_type_change(change, name, *, low=None, high=None, rule=None):
    """A number for all types or one per type (mapping or 4 numbers), as shape (4,); blanks refused."""
    if isinstance(change, Mapping):
        out = np.zeros(4)
        for label, value in change.items():
            code = int(type_codes([label], name)[0])
            out[code] = check_finite(as_float(value, name, blank_ok=False), name)
    else:
        arr = check_finite(as_float(change, name, blank_ok=False), name).reshape(-1)
        if arr.size == 1:
            out = np.full(4, float(arr[0]))
        elif arr.size != 4:
            raise CustomerEquityError(name, "one value for all types, or one per type (Lighthouse, "
                                      f"Follower, Rational, Profit-seeking): 4, got {arr.size}")
        else:
            out = arr
    bad = np.zeros(4, dtype=bool)
    if low is not None:
        bad |= out < low
    if high is not None:
        bad |= out > high
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise CustomerEquityError(name, f"{TYPES[k]}: {rule}", value=float(out[k]))
    return out


def _field_block(df, name):
    """(N, W) float values of column ``name`` or block ``name_1..`` (blanks NaN), the column
    names, and whether it is one column; None if absent."""
    block = []
    while f"{name}_{len(block) + 1}" in df.columns:
        block.append(f"{name}_{len(block) + 1}")
    if name in df.columns and not block:
        return as_float(df[name].to_numpy(), name).reshape(-1, 1), [name], True
    if block:
        return as_float(df[block].to_numpy(), name), block, False
    return None


def _with_block(df, columns, name, values):
    """``df`` with ``columns`` replaced by ``values``: one column ``name`` or a block ``name_1..``."""
    out = df.drop(columns=columns)
    if values.shape[1] == 1 and columns == [name]:
        out[name] = values[:, 0]
        return out
    block = pd.DataFrame(values, index=df.index,
                         columns=[f"{name}_{k}" for k in range(1, values.shape[1] + 1)])
    return pd.concat([out, block], axis=1)


def _stretched(df, periods, new_periods):
    """The table with each customer retained ``new_periods`` (fractional) instead of ``periods``,
    and each customer's presence per period (1 retained, the fraction in a partial last period).

    Only what must change becomes a block of per-period columns: the input that
    carries the partial last period, and blocks that need more periods. A column
    that is not scaled stays a column (the same amount in every period retained).
    """
    whole = np.round(new_periods)
    new_periods = np.where(np.abs(new_periods - whole) < 1e-9, whole, new_periods)
    full = np.floor(new_periods)
    frac = new_periods - full
    last = np.ceil(new_periods).astype(np.int64)
    width = int(last.max(initial=0))
    t = np.arange(1, width + 1)
    kept = t[None, :] <= last[:, None]
    presence = np.where(kept, 1.0, 0.0)
    partial = (t[None, :] == last[:, None]) & (frac[:, None] > 0)
    presence[partial] = np.broadcast_to(frac[:, None], presence.shape)[partial]
    scaled = {products[1] if any(c in df.columns or f"{c}_1" in df.columns for c in products[0])
              else result for result, products in _PRODUCTS.items()} | set(_SINGLE)
    names = [c for inputs, _ in _PRODUCTS.values() for c in inputs] + list(_PRODUCTS) + list(_SINGLE)
    p = periods.astype(np.int64)
    dropped, blocks = [], []
    for name in names:
        got = _field_block(df, name)
        if got is None:
            continue
        values, columns, is_column = got
        if is_column and name not in scaled:
            continue
        if is_column:
            block = np.nan_to_num(values, nan=0.0) * presence
        else:
            w0 = values.shape[1]
            padded = np.concatenate([values, np.full((len(df), max(width - w0, 0) + 1), np.nan)], axis=1)
            own = padded[:, :width]
            # the customer's last retained period (its values repeat where the block has none);
            # a customer retained beyond the block has nothing after it, as in the measurement
            last_own = np.take_along_axis(padded, (np.clip(p, 1, None) - 1)[:, None].clip(0, w0), axis=1)
            last_own = np.where((p >= 1)[:, None] & (p <= w0)[:, None], last_own, 0.0)
            later = t[None, :] > p[:, None]
            block = np.where(later & np.isnan(own), last_own, own)
            block = np.nan_to_num(block, nan=0.0)
            block *= presence if name in scaled else kept
        dropped += columns
        blocks.append(pd.DataFrame(block, index=df.index, columns=[f"{name}_{k}" for k in t]))
    out = pd.concat([df.drop(columns=dropped), *blocks], axis=1)
    out["periods"] = last
    return out, presence


def moves_to_mix(customers: ArrayLike, mix: ArrayLike) -> dict:
    """The fewest moves of whole customers between types that turn today's counts into a mix.

    Parameters
    ----------
    customers : array_like, shape (4,)
        Customers per type today (whole numbers >= 0).
    mix : array_like, shape (4,)
        Target share of each type, in [0, 1], adding up to 1.

    Returns
    -------
    dict
        ``{(from type, to type): customers}`` for :func:`what_if`'s ``moves``.

    Notes
    -----
    Target counts are ``mix x N`` rounded by largest remainder (so that they add up
    to ``N``). Only the types with more customers than their target give any up,
    and only to types with fewer, so the number of customers moved is the smallest
    possible, ``sum_k max(0, n_k - target_k)`` (each missing customer needs one
    move). Among those moves, the surpluses are matched to the shortfalls in type
    order (lighthouse to profit-seeking, a matching that never crosses), which
    makes the moves as short as they can be. With :func:`what_if` the best of a
    type (by score, else value) are the ones that move up and the worst the ones
    that move down. The customer base keeps its size.

    Examples
    --------
    Lighthouse short by 20, rational by 10, profit-seeking 30 over: 30 customers move.

    >>> moves_to_mix([100, 300, 350, 250], [0.12, 0.30, 0.36, 0.22])
    {('Profit-seeking', 'Lighthouse'): 20, ('Profit-seeking', 'Rational'): 10}
    """
    n = check_finite(as_float(customers, "customers", blank_ok=False), "customers").reshape(-1)
    m = _shares(mix, "mix")
    if n.size != 4:
        raise CustomerEquityError("customers", f"needs one value per customer type: 4, got {n.size}")
    if np.any(n < 0) or np.any(n != np.floor(n)):
        raise CustomerEquityError("customers", "numbers of customers must be whole numbers >= 0",
                                  value=n.tolist())
    counts = n.astype(np.int64)
    total = int(counts.sum())
    exact = m * total
    target = np.floor(exact).astype(np.int64)
    for k in np.argsort(-(exact - target), kind="stable")[: total - int(target.sum())]:
        target[k] += 1
    surplus = [[k, int(x)] for k, x in enumerate(counts - target) if x > 0]
    short = [[k, int(-x)] for k, x in enumerate(counts - target) if x < 0]
    moves, a, b = {}, 0, 0
    while a < len(surplus) and b < len(short):  # both lists in type order: a non-crossing matching
        n_moved = min(surplus[a][1], short[b][1])
        pair = (TYPES[surplus[a][0]], TYPES[short[b][0]])
        moves[pair] = moves.get(pair, 0) + n_moved
        surplus[a][1] -= n_moved
        short[b][1] -= n_moved
        a += surplus[a][1] == 0
        b += short[b][1] == 0
    return dict(sorted(moves.items()))


def _shares(mix, name):
    """4 type shares in [0, 1] adding up to 1; blanks refused."""
    m = check_finite(as_float(mix, name, blank_ok=False), name).reshape(-1)
    if m.size != 4:
        raise CustomerEquityError(name, "needs one share per customer type (Lighthouse, Follower, "
                                  f"Rational, Profit-seeking): 4, got {m.size}")
    if np.any((m < 0) | (m > 1)) or abs(m.sum() - 1.0) > 1e-9:
        raise CustomerEquityError(name, "shares must lie in [0, 1] and add up to 1", value=m.tolist())
    return m


def _moved_types(base, moves):
    """New type codes after moving whole customers between types.

    ``moves`` maps (from, to) type pairs to numbers of customers. Moving up takes the
    customers closest to the higher type first (highest score, else highest lifetime
    value); moving down the ones closest to the lower type (lowest first).
    """
    if not isinstance(moves, Mapping):
        raise CustomerEquityError("moves", "must map (from type, to type) pairs to numbers of customers")
    codes = codes_of(base.customers["type"], "type")
    key = base.customers["score" if "score" in base.customers else "ltv"].to_numpy(dtype=np.float64)
    # a weighted score is a sum of products: equal scores differ in the last bits by build of
    # numpy/pandas, which would reorder them; rounded, ties fall back to the table's order
    key = np.round(key, 9)
    new = codes.copy()
    plan = {}
    for pair, count in moves.items():
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise CustomerEquityError("moves", "keys must be (from type, to type) pairs", value=pair)
        src, dst = (int(type_codes([x], "moves")[0]) for x in pair)
        n = check_finite(as_float(count, "moves", blank_ok=False), "moves").item()
        if n < 0 or n != int(n):
            raise CustomerEquityError("moves", "a number of customers to move must be a whole "
                                      "number >= 0", value=count)
        if src != dst and n:
            plan.setdefault(src, []).append((dst, int(n)))
    for src, targets in plan.items():
        members = np.flatnonzero(codes == src)
        wanted = sum(n for _, n in targets)
        if wanted > members.size:
            raise CustomerEquityError("moves", f"moves {wanted} {TYPES[src]} customers; there are "
                                      f"{members.size}")
        order = members[np.argsort(-key[members], kind="stable")]  # closest to a higher type first
        top, bottom = 0, members.size
        for dst, n in sorted(t for t in targets if t[0] < src):  # highest target takes the best
            new[order[top: top + n]] = dst
            top += n
        for dst, n in sorted((t for t in targets if t[0] > src), reverse=True):  # lowest the worst
            new[order[bottom - n: bottom]] = dst
            bottom -= n
    return new


def what_if(customers: pd.DataFrame, config: MeasureConfig | None = None, *,
            retention_change: float | ArrayLike | Mapping | None = None, rate: float | None = None,
            margin_change: float | ArrayLike | Mapping | None = None,
            transaction_income: float | Sequence[float] | None = None,
            moves: Mapping | None = None, relabel_mix: ArrayLike | None = None,
            type_mix: ArrayLike | None = None,
            share_change: float | ArrayLike | Mapping | None = None,
            loyalty_change: float | ArrayLike | Mapping | None = None,
            new_customers: float | ArrayLike | Mapping | None = None,
            acquisition_cost: float | ArrayLike | Mapping | None = None,
            base_retention: ArrayLike | None = None,
            new_types: ArrayLike | None = None,
            base: Measurement | None = None, mix: object = None) -> WhatIf:
    """Customer equity under a change of retention, share of wallet, loyalty, structure, acquisition, ...

    Parameters
    ----------
    customers : pandas.DataFrame
        The customer table, as :func:`~customer_equity.model.measure.measure` reads it.
    config : MeasureConfig, optional
        The measurement's configuration (default :class:`MeasureConfig`).
    retention_change : float, 4 floats or mapping of type to float, optional
        Change of the retention rate **per period**, in rate units (0.05 = five
        points), for all types or per type; the new rate must stay in [0, 1).
        Stretches retention times as in this module's notes.
    rate : float, optional
        The new discount rate **per period** (> -1).
    margin_change : float, 4 floats or mapping, optional
        Change of the unit margin (the ``margin`` column, margin per unit of
        revenue; 0.02 = two points), for all types or per type.
    transaction_income : float or list of float, optional
        The new transaction income per period to allocate (see :class:`MeasureConfig`):
        fixed totals, allocated over the carriers expected in each period after the
        other levers (without it, income per carrier stays as measured; see notes).
    moves : mapping of (from type, to type) to int, optional
        Whole customers moved between types, e.g. ``{("Rational", "Follower"): 50}``.
        They keep their own values, re-read under the new type's capabilities (a
        rational customer who becomes a follower now provides TV; a lighthouse
        customer who becomes profit-seeking provides only PV and Iv). Moving up takes
        the customers with the highest classification score (else lifetime value)
        first; moving down, the lowest.
    relabel_mix : 4 floats, optional
        A target type mix reached by relabelling whole customers who keep their own
        values: the fewest moves of :func:`moves_to_mix` (instead of ``moves``). This
        was ``mix`` before the papers' question got its own lever, ``type_mix``.
    type_mix : 4 floats, optional
        The same number of customers in another structure: shares of Lighthouse,
        Follower, Rational and Profit-seeking adding up to 1, each type at its
        average value (its measured customers counted ``share x N / n_k`` times).
    share_change : float, 4 floats or mapping, optional
        Change of the share of wallet (the ``share`` column; 0.05 = five points), for
        all types or per type; every share must stay in [0, 1].
    loyalty_change : float, 4 floats or mapping, optional
        A type grows more (or less) loyal: each PPV, KV and TV value it provides
        moves by this share of its size, ``v + c |v|`` (0.1: +10 %; a complaint's
        harm shrinks by 10 %), in [-1, 1]. The kinds a type provides do not change.
    new_customers : float, 4 floats or mapping, optional
        Customers acquired per type (>= 0), each worth the type's average value.
    acquisition_cost : float, 4 floats or mapping, optional
        Cost per new customer (money >= 0, per type or one for all), subtracted once.
    base_retention : 4 floats, optional
        The retention rate per period of each type that ``retention_change`` starts
        from, when known otherwise (e.g. from P(alive), see
        :func:`~customer_equity.model.retention.retention_from_p_alive`); NaN or
        omitted: :func:`implied_retention` of the ``periods`` column. See this
        module's notes for how it meets the table's lifetimes.
    new_types : array_like, optional
        The type of every customer after the change, when the firm names them
        itself (instead of ``moves``).
    base : Measurement, optional
        ``measure(customers, config)`` when already computed (saves a measurement).
    mix : optional
        Refused: say which mix is meant, ``type_mix`` or ``relabel_mix``.

    Returns
    -------
    WhatIf
        ``.equity`` after the change, ``.difference`` from the baseline, ``.table``
        per type, and ``.changed``, the customer table that was measured.

    Notes
    -----
    Levers combine in this order: types (``moves``/``relabel_mix``/``new_types``),
    then retention (by the customer's new type), margin and share of wallet,
    loyalty; ``rate`` and ``transaction_income`` change the configuration; then
    ``type_mix`` and ``new_customers`` reweigh the types of the changed
    measurement. The what-if equity is

    .. math:: CE' = \\sum_k w_k \\sum_{n \\in k} \\left[ \\sum_{t \\le T'_n}
              (PV+PPV+CV+KV+TV)'_{nt} (1+i')^{-t} + Iv \\right] - c_k a_k

    restricted by each customer's (new) type, with ``T'_n`` as in the notes, ``w_k =
    (mix_k N + a_k) / n_k`` (1 without ``type_mix`` and ``new_customers``), ``a_k``
    new customers of type ``k`` and ``c_k`` their acquisition cost each.

    References
    ----------
    Wang Tao et al. (2002), *The composition and measurement of customer equity*
    (structure, loyalty, transaction value); the expansion paper (seed 000) on
    retention time and acquisition; Griffin, J. (1995), share of wallet; Gupta, S.,
    & Lehmann, D. R. (2003), Customers as assets (the retention rate).

    Examples
    --------
    Two lighthouse customers retained 3 and 5 periods (mean 4: r = 4/5 = 0.8),
    margin 100 per period, no discounting. Retention + 5 points: expected lifetime
    0.85/0.15 = 5.667 periods instead of 4, every lifetime x 1.4167:

    >>> table = pd.DataFrame({"type": ["Lighthouse", "Lighthouse"], "periods": [3, 5],
    ...                       "pv": [100.0, 100.0]})
    >>> cfg = MeasureConfig(rate=0.0, classify_by="type")
    >>> w = what_if(table, cfg, retention_change=0.05)
    >>> w.before.equity, round(w.equity, 4), round(w.difference, 4)  # 800 x 1.4167
    (800.0, 1133.3333, 333.3333)
    >>> round(what_if(table, cfg, rate=0.10).equity, 2)  # 100 x (2.486852 + 3.790787)
    627.76
    >>> what_if(table, cfg, new_customers={"Lighthouse": 2}, acquisition_cost=150).equity
    1300.0

    (Two new lighthouse customers at the type's average value, 400, less 150 each.)
    """
    config = config or MeasureConfig()
    if mix is not None:
        raise CustomerEquityError("mix", "a type mix is read two ways: give type_mix (the same "
                                  "number of customers in another structure, each type at its "
                                  "average value) or relabel_mix (whole customers moved between "
                                  "types, keeping their own values)")
    base = measure(customers, config) if base is None else base
    if relabel_mix is not None:
        if moves is not None:
            raise CustomerEquityError("relabel_mix", "give either moves or relabel_mix, not both")
        if type_mix is not None:
            raise CustomerEquityError("type_mix", "give either type_mix or relabel_mix, not both")
        moves = moves_to_mix(base.counts, _shares(relabel_mix, "relabel_mix"))
    changed = _changed_table(customers, base, config, retention_change=retention_change,
                             margin_change=margin_change, share_change=share_change,
                             loyalty_change=loyalty_change, moves=moves, new_types=new_types,
                             base_retention=base_retention)
    given = [name for name, value in (("margin_change", margin_change), ("share_change", share_change),
                                      ("loyalty_change", loyalty_change),
                                      ("retention_change", retention_change),
                                      ("transaction_income", transaction_income), ("rate", rate))
             if value is not None]
    w = _measured(customers, changed, config, base, rate=rate, transaction_income=transaction_income,
                  lever=given[0] if given else "what_if")
    if type_mix is not None or new_customers is not None or acquisition_cost is not None:
        after, cost = _reweighted(w.after, type_mix, new_customers, acquisition_cost)
        w = dataclasses.replace(w, after=after, acquisition_cost=cost)
    return w


@dataclasses.dataclass
class _Changed:
    """A customer table changed by the table levers, with what the allocation of income needs."""

    table: pd.DataFrame
    codes: np.ndarray             # type codes after the change
    retyped: bool
    presence: np.ndarray | None   # (N, W) share of each period each customer is expected to be
                                  # retained; None: whole periods as in `table["periods"]`
    loyalty: np.ndarray           # (4,) loyalty change per type
    with_tv: dict = dataclasses.field(default_factory=dict)  # income lever -> (table + tv block,
                                                              # income not earned), for a grid


def _changed_table(customers, base, config, *, retention_change=None, margin_change=None,
                   share_change=None, loyalty_change=None, moves=None, new_types=None,
                   base_retention=None):
    """The customer table under the levers that change it."""
    df = customers
    retyped = False
    codes = codes_of(base.customers["type"], "type")
    if moves is not None and new_types is not None:
        raise CustomerEquityError("moves", "give either moves or new_types, not both")
    if moves is not None or new_types is not None:
        if moves is not None:
            new_codes = _moved_types(base, moves)
        else:
            new_codes = codes_of(new_types, "new_types")
            if new_codes.size != len(df):
                raise CustomerEquityError("new_types", f"needs one type per customer ({len(df)}), "
                                          f"got {new_codes.size}")
        df = df.copy()
        df["type"] = type_labels(new_codes)
        retyped = True
    else:
        new_codes = codes
    presence = None
    if retention_change is not None:
        delta = _per_type_change(retention_change, "retention_change")
        if np.any(delta != 0):
            periods = _periods(customers)
            factor = _lifetime_factor(periods, codes, new_codes, delta, base_retention, config.timing)
            df, presence = _stretched(df, periods, periods * factor[new_codes])
    for lever, name, value in (("margin_change", "margin", margin_change),
                               ("share_change", "share", share_change)):
        if value is None:
            continue
        share = name == "share"
        delta = _per_type_change(value, lever, low=-1 if share else None, high=1 if share else None,
                                 rule="a change of share of wallet must lie in [-1, 1]")
        got = _field_block(df, name)
        if got is None:
            raise CustomerEquityError(lever, f"the table has no {name} column (it gives pv "
                                      "directly); change pv instead")
        values, columns, _ = got
        new = np.nan_to_num(values, nan=0.0) + delta[new_codes][:, None]
        if share:
            bad = (new < -1e-12) | (new > 1 + 1e-12)
            if bad.any():
                row, col = (int(x) for x in np.argwhere(bad)[0])
                k = new_codes[row]
                raise CustomerEquityError(lever, f"{TYPES[k]} customer in row {row + 1}: share of "
                                          f"wallet {np.nan_to_num(values[row, col]):g} + "
                                          f"{delta[k]:g} leaves [0, 1]", value=float(delta[k]))
            new = np.clip(new, 0.0, 1.0)
        df = df.copy() if df is customers else df
        df[columns] = new
    loyalty = np.zeros(4)
    if loyalty_change is not None:
        loyalty = _per_type_change(loyalty_change, "loyalty_change", low=-1, high=1,
                                   rule="a change of loyalty must lie in [-1, 1] (a share of each "
                                        "value's size)")
        if np.any(loyalty != 0):
            df = _more_loyal(df if df is not customers else df.copy(), loyalty[new_codes])
    return _Changed(df, new_codes, retyped, presence, loyalty)


def _lifetime_factor(periods, codes, new_codes, delta, base_retention, timing):
    """Per type, the factor on retention times of a change ``delta`` of retention (see notes)."""
    present = np.bincount(new_codes, minlength=4) > 0
    r = implied_retention(periods, codes, timing)
    absent = np.isnan(r) & present  # a type that only customers moved into have: their own
    if absent.any():
        r = np.where(absent, implied_retention(periods, new_codes, timing), r)
    start, given = r.copy(), np.zeros(4, dtype=bool)
    if base_retention is not None:
        b = check_finite(as_float(base_retention, "base_retention"), "base_retention").reshape(-1)
        if b.size != 4:
            raise CustomerEquityError("base_retention", "needs one retention rate per type: "
                                      f"4, got {b.size}")
        if np.any((b < 0) | (b >= 1)):
            k = int(np.flatnonzero((b < 0) | (b >= 1))[0])
            raise CustomerEquityError("base_retention", "a retention rate must lie in [0, 1)",
                                      row=k + 1, value=float(b[k]))
        given = ~np.isnan(b)
        start = np.where(given, b, r)
    factor = np.ones(4)
    for k in np.flatnonzero(present & (delta != 0)):
        target = start[k] + delta[k]
        if not 0 <= target < 1:
            raise CustomerEquityError("retention_change", f"{TYPES[k]} retention {start[k]:.4g} "
                                      f"{'+' if delta[k] >= 0 else '-'} {abs(delta[k]):.4g} = "
                                      f"{target:.4g} must stay in [0, 1)", value=float(delta[k]))
        if given[k]:
            if start[k] == 0:
                raise CustomerEquityError("base_retention", f"{TYPES[k]}: a retention of 0 (nobody "
                                          "stays) cannot be changed by a share of those who stay; "
                                          "leave it blank to start from the table's",
                                          row=k + 1, value=0.0)
            new = r[k] * target / start[k]
            if new >= 1:
                raise CustomerEquityError("retention_change", f"{TYPES[k]} retention {start[k]:.4g} -> "
                                          f"{target:.4g} multiplies the chance of staying each period "
                                          f"by {target / start[k]:.4g}; the table's lifetimes "
                                          f"(retention {r[k]:.4g}) would never end",
                                          value=float(delta[k]))
        else:
            new = target
        now = expected_lifetime(r[k], timing)
        if now == 0:
            if new > r[k]:
                raise CustomerEquityError("retention_change", f"every {TYPES[k]} customer is "
                                          "retained 0 periods: there is no retention time to "
                                          "stretch", value=float(delta[k]))
            continue
        factor[k] = expected_lifetime(new, timing) / now
    return factor


def _more_loyal(df, change):
    """PPV, KV and TV of each customer moved by ``change`` (per customer) of their size."""
    c = change[:, None]
    for name in ("ppv", "kv", "tv"):
        got = _field_block(df, name)
        if got is not None:
            values, columns, _ = got
            v = np.nan_to_num(values, nan=0.0)
            df = _with_block(df, columns, name, v + c * np.abs(v))
    parts = [_field_block(df, x) for x in ("influence", "reach", "avg_value")]
    if all(p is not None for p in parts):
        (infl, _, _), (reach, columns, _), (avg, _, _) = parts
        try:
            sign = np.sign(np.nan_to_num(infl, nan=0.0) * np.nan_to_num(avg, nan=0.0))
            new_reach = np.nan_to_num(reach, nan=0.0) * (1.0 + c * sign)
        except ValueError:
            return df  # blocks of different widths: the measurement names them
        df = _with_block(df, columns, "reach", new_reach)
    return df


def _measured(customers, changed, config, base, *, rate=None, transaction_income=None,
              lever="what_if"):
    """Measure a changed table under the configuration levers: the WhatIf."""
    df = changed.table
    changes = {"classify_by": "type"} if changed.retyped else {}
    if rate is not None:
        new_rate = np.asarray(rate_array(rate, "rate"))
        if new_rate.size != 1:
            raise CustomerEquityError("rate", "one discount rate per period, got "
                                      f"{new_rate.size} numbers")
        changes["rate"] = float(new_rate.reshape(-1)[0])
    income = None
    if transaction_income is not None:
        income = check_finite(as_float(transaction_income, "transaction_income", blank_ok=False),
                              "transaction_income")
        changes["transaction_income"] = income.reshape(-1).tolist() if income.ndim else float(income)
    new_config = dataclasses.replace(config, **changes) if changes else config
    follows = config.transaction_income is not None and (
        changed.presence is not None or changed.retyped or changed.loyalty.any())
    if follows:
        key = None if income is None else tuple(np.atleast_1d(income).tolist())
        if key not in changed.with_tv:
            tv, dropped = _expected_tv(customers, config, base, changed, income)
            block = pd.DataFrame(tv, index=df.index, columns=[f"tv_{k}" for k in range(1, tv.shape[1] + 1)])
            changed.with_tv[key] = (pd.concat([df, block], axis=1), dropped)
        df, dropped = changed.with_tv[key]
        new_config = dataclasses.replace(new_config, transaction_income=None)
    else:
        new_config, dropped = _income_without_carriers(df, new_config)
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            after = measure(df, new_config)
    except CustomerEquityError as err:
        if err.argument != "ltv":  # a per-customer value made infinite by the change
            raise
        after = None
    if after is None or not np.isfinite(after.sums).all() or not np.isfinite(after.equity):
        raise CustomerEquityError(lever, "the changed values overflow (too large to compute); "
                                  "check the size of the change")
    return WhatIf(before=base, after=after, changed=df, config=new_config, dropped_income=dropped)


def _expected_tv(customers, config, base, changed, income):
    """(N, W) transaction value per customer and period of the changed table, and the income
    not earned: income per carrier as measured (or the ``income`` lever's totals over the
    expected carriers), at each period's expected presence; loyalty on top."""
    df = changed.table
    if changed.presence is not None:
        presence = changed.presence
    else:
        p = _periods(df)
        presence = (np.arange(1, int(p.max(initial=0)) + 1)[None, :] <= p[:, None]).astype(float)
    carrying = presence * _carrier_mask(df, changed.codes)[:, None]
    width = carrying.shape[1]
    expected = carrying.sum(axis=0)
    dropped = 0.0
    if income is not None:
        given = np.full(width, float(income)) if income.ndim == 0 else income.reshape(-1)
        per = np.zeros(width)
        n = min(width, given.size)
        per[:n] = np.divide(given[:n], expected[:n], out=np.zeros(n), where=expected[:n] > 0)
        orphan = np.concatenate([(expected[:n] == 0) & (given[:n] != 0), given[n:] != 0])
        dropped = float(np.concatenate([given[:n], given[n:]])[orphan].sum())
    else:
        # carriers in every period of the measured horizon (the longest retention), and the
        # income of each: a list of income ends where it ends (0 after, as in the measurement)
        carrier = _carrier_mask(customers, codes_of(base.customers["type"], "type"))
        held = _periods(customers)[carrier].astype(np.int64)
        counts = np.bincount(held, minlength=int(_periods(customers).max(initial=0)) + 1)[::-1].cumsum()[::-1][1:]
        measured = _income(config, counts.size)
        horizon = max(counts.size, measured.size)
        counts = np.concatenate([counts, np.zeros(horizon - counts.size)])
        measured = np.concatenate([measured, np.zeros(horizon - measured.size)])
        rate = np.divide(measured, counts, out=np.zeros(horizon), where=counts > 0)
        if rate.size < width:  # after the measured horizon: the last period's income per carrier
            rate = np.concatenate([rate, np.full(width - rate.size, rate[-1] if rate.size else 0.0)])
        per = rate[:width]
    tv = carrying * per[None, :]
    c = changed.loyalty[changed.codes][:, None]
    return tv + c * np.abs(tv), dropped


def _income_without_carriers(df, config):
    """Per-period transaction income in periods that no customer carries any more is not earned."""
    income = config.transaction_income
    if not isinstance(income, (list, tuple)):
        return config, 0.0
    counts = carriers_per_period(df, config)
    orphan = (counts == 0) & (np.asarray(income) != 0)
    if not orphan.any():
        return config, 0.0
    kept = [0.0 if o else float(x) for x, o in zip(income, orphan)]
    return dataclasses.replace(config, transaction_income=kept), float(np.sum(np.asarray(income)[orphan]))


def _reweighted(after, type_mix, new_customers, acquisition_cost):
    """The measurement with each type's customers counted to the target mix plus the new
    customers (at the type's average value), and the acquisition cost per type."""
    n = np.asarray(after.counts, dtype=np.float64)
    target = n.copy()
    if type_mix is not None:
        target = _shares(type_mix, "type_mix") * n.sum()
        missing = (target > 0) & (n == 0)
        if missing.any():
            k = int(np.flatnonzero(missing)[0])
            raise CustomerEquityError("type_mix", f"{TYPES[k]}: no customers, so no average value "
                                      "to count its share at; give it a share of 0 or name "
                                      "customers who become "
                                      f"{TYPES[k]} (moves)", value=float(target[k] / n.sum()))
    cost = None
    if new_customers is not None:
        added = _per_type_change(new_customers, "new_customers", low=0,
                                 rule="a number of new customers must be >= 0")
        missing = (added > 0) & (target == 0)
        if missing.any():
            k = int(np.flatnonzero(missing)[0])
            raise CustomerEquityError("new_customers", f"{TYPES[k]}: no customers, so no average "
                                      "value to count new ones at", value=float(added[k]))
        target = target + added
        each = np.zeros(4) if acquisition_cost is None else _per_type_change(
            acquisition_cost, "acquisition_cost", low=0, rule="a cost per new customer must be >= 0")
        cost = added * each
    elif acquisition_cost is not None:
        raise CustomerEquityError("acquisition_cost", "a cost per new customer needs the new "
                                  "customers (new_customers)")
    weight = np.divide(target, n, out=np.zeros(4), where=n > 0)
    codes = codes_of(after.customers["type"], "type")
    customers = after.customers.copy()
    customers["weight"] = weight[codes]
    counts = np.where(n > 0, target, 0.0)
    return dataclasses.replace(after, customers=customers, counts=counts,
                               sums=after.sums * weight[None, :]), cost


def what_if_grid(customers: pd.DataFrame, config: MeasureConfig | None, row_lever: str,
                 row_values: Sequence, column_lever: str, column_values: Sequence, *,
                 result: str = "equity", base: Measurement | None = None) -> pd.DataFrame:
    """Customer equity over a grid of two levers (the Sensitivity table).

    Parameters
    ----------
    customers, config
        As in :func:`what_if`.
    row_lever, column_lever : str
        One of :data:`LEVERS`: ``"retention_change"`` (change in points for all
        types), ``"rate"`` (new discount rate per period), ``"margin_change"``
        (change of unit margin for all types), ``"share_change"`` (change of share of
        wallet for all types), ``"loyalty_change"`` (for all types),
        ``"transaction_income"`` (new income per period).
    row_values, column_values : sequence of float
        The values of each lever down the rows and across the columns.
    result : {"equity", "difference"}
        Customer equity in each cell, or its difference from the baseline.

    Returns
    -------
    pandas.DataFrame
        Index ``row_values`` (named ``row_lever``), columns ``column_values``
        (named ``column_lever``); cell ``(x, y)`` is ``what_if(..., row_lever=x,
        column_lever=y).equity`` (or ``.difference``).

    Examples
    --------
    >>> table = pd.DataFrame({"type": ["Lighthouse", "Lighthouse"], "periods": [3, 5],
    ...                       "pv": [100.0, 100.0]})
    >>> print(what_if_grid(table, MeasureConfig(rate=0.0, classify_by="type"),
    ...                    "retention_change", [0.0, 0.05], "rate", [0.0, 0.1]).round(2))
    rate                  0.0     0.1
    retention_change
    0.00               800.00  627.76
    0.05              1133.33  823.24

    (823.24 = 100 x [3.169865 + 0.25 x 0.620921 + 4.868419 + 0.083333 x 0.466507]: annuities
    of 4 and 7 periods and the partial fifth and eighth at 10 %, the lifetimes 3 and 5 x
    0.85/0.15 / 4 = 4.25 and 7.083 periods.)
    """
    config = config or MeasureConfig()
    for lever, name in ((row_lever, "row_lever"), (column_lever, "column_lever")):
        if lever not in LEVERS:
            raise CustomerEquityError(name, "must be one of " + ", ".join(LEVERS), value=lever)
    if row_lever == column_lever:
        raise CustomerEquityError("column_lever", "must differ from row_lever", value=column_lever)
    if result not in ("equity", "difference"):
        raise CustomerEquityError("result", 'must be "equity" or "difference"', value=result)
    base = measure(customers, config) if base is None else base
    rows = list(np.asarray(row_values, dtype=object).reshape(-1))
    cols = list(np.asarray(column_values, dtype=object).reshape(-1))
    grid = np.empty((len(rows), len(cols)))
    tables = {}  # a changed table serves every value of a lever that changes only the configuration
    for a, x in enumerate(rows):
        for b, y in enumerate(cols):
            levers = {row_lever: x, column_lever: y}
            on_table = {k: v for k, v in levers.items() if k in _TABLE_LEVERS}
            key = tuple(sorted((k, repr(v)) for k, v in on_table.items()))
            if key not in tables:
                tables[key] = _changed_table(customers, base, config, **on_table)
            on_config = {k: v for k, v in levers.items() if k not in _TABLE_LEVERS}
            w = _measured(customers, tables[key], config, base, **on_config,
                          lever=f"{row_lever} = {_plain([x])[0]}, {column_lever} = {_plain([y])[0]}")
            grid[a, b] = w.equity if result == "equity" else w.difference
    return pd.DataFrame(grid, index=pd.Index(_plain(rows), name=row_lever),
                        columns=pd.Index(_plain(cols), name=column_lever))


def _plain(values):
    return [float(v) if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) else v
            for v in values]
