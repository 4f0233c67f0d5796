"""What-if: customer equity under a change of retention, discount rate, type mix, margin or income.

Every lever changes the customer table or the configuration and measures again
with :func:`~customer_equity.model.measure.measure`, so a what-if is exactly the
measurement of a changed customer base (:attr:`WhatIf.changed` holds the table
that was measured): the capability matrix, the allocation of transaction income
and the discounting apply as in the measurement itself.

Retention, read on a customer table
-----------------------------------
The table holds each customer's retention time ``T_n`` (``periods``). A type's
retention rate per period is the one whose geometric lifetime has the type's mean
retention time, ``r = 1 - 1/mean(T)`` (a customer retained with probability ``r``
each period stays ``1/(1-r)`` periods on average; :func:`implied_retention`). A
change of retention from ``r`` to ``r + Δ`` stretches every retention time of the
type by the same factor, so that the type's mean becomes ``1/(1-r-Δ)``::

    T'_n = T_n (1 - r) / (1 - r - Δ)

``T'_n`` is generally not whole: the customer is retained ``floor(T'_n)`` full
periods and the next one for the fraction left, whose values count at that
fraction (the expected value when the customer stays that period with that
probability). Periods added at the end repeat the customer's last period's values.
In the changed table this is a block of per-period columns (``capacity_1, ...``,
``reach_1, ...``, ``cv_1, ...``) with ``periods = ceil(T'_n)``; the fraction scales
spending capacity (or ``pv``), reach (or ``ppv``), CV, KV and TV. With allocated
transaction income (the configuration's ``transaction_income``) a customer in a
partly retained period counts as a carrier of that period.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..errors import CustomerEquityError
from .validate import as_float, check_finite, rate_array
from .config import MeasureConfig
from .measure import Measurement, _periods, carriers_per_period, measure
from .types import TYPES, type_codes, type_labels

__all__ = [
    "LEVERS",
    "WhatIf",
    "implied_retention",
    "moves_to_mix",
    "what_if",
    "what_if_grid",
]

#: The levers :func:`what_if_grid` can vary (keywords of :func:`what_if`).
LEVERS = ("retention_change", "rate", "margin_change", "transaction_income")
_TABLE_LEVERS = ("retention_change", "margin_change")

# Per-period inputs of measure(), and the one of each product that carries a partial period.
_PRODUCTS = {"pv": (("capacity", "share", "margin"), "capacity"),
             "ppv": (("influence", "reach", "avg_value"), "reach")}
_SINGLE = ("cv", "kv", "tv")


def implied_retention(periods: ArrayLike, types: ArrayLike) -> np.ndarray:
    """Retention rate per period implied by the customers' retention times, per type.

    Parameters
    ----------
    periods : array_like, shape (N,)
        Retention time of each customer, in periods (whole numbers >= 0).
    types : array_like, shape (N,)
        Customer type of each customer (labels or codes 0-3).

    Returns
    -------
    ndarray, shape (4,)
        ``r`` per type (Lighthouse, Follower, Rational, Profit-seeking), in [0, 1);
        NaN for a type without customers. A type whose mean retention time is one
        period or less has ``r = 0`` (nobody is expected past the first period).

    Notes
    -----
    A customer retained from one period to the next with probability ``r`` stays
    ``1/(1-r)`` periods on average (geometric lifetime, first period counted), so

    .. math:: r_k = \\max\\left(0,\\; 1 - \\frac{1}{\\bar T_k}\\right)

    with ``\\bar T_k`` the mean retention time of type ``k``. This is the retention
    rate of the retention-based lifetime value (Gupta & Lehmann 2003).

    References
    ----------
    Reichheld, F. F. (1996). *The Loyalty Effect*; the expansion paper (seed 000):
    retention time is the most important driver of customer equity.

    Examples
    --------
    >>> implied_retention([4, 4, 2, 1, 1], ["Lighthouse", "Lighthouse", "Rational",
    ...                   "Profit-seeking", "Profit-seeking"]).tolist()
    [0.75, nan, 0.5, 0.0]
    """
    p = _periods(pd.DataFrame({"periods": np.asarray(periods).reshape(-1)}))
    codes = codes_of(types, "types")
    if codes.size != p.size:
        raise CustomerEquityError("types", f"needs one type per customer ({p.size}), got {codes.size}")
    n = np.bincount(codes, minlength=4)
    total = np.bincount(codes, weights=p, minlength=4)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, total / np.where(n > 0, n, 1), np.nan)
        r = np.where(mean > 0, np.maximum(0.0, 1.0 - 1.0 / mean), 0.0)
    return np.where(n > 0, r, np.nan)


@dataclasses.dataclass
class WhatIf:
    """The result of :func:`what_if`: the measurement before and after the change.

    Attributes
    ----------
    before, after : Measurement
        The baseline and the changed measurement.
    changed : pandas.DataFrame
        The customer table that was measured for ``after``.
    config : MeasureConfig
        The configuration that was measured for ``after``.
    dropped_income : float
        Transaction income (undiscounted, summed over periods) of the periods in
        which, after the change, no customer carries transaction value any more:
        it is not earned (the measurement would refuse it; see
        :func:`~customer_equity.model.values.allocate_transaction_value`).
    """

    before: Measurement
    after: Measurement
    changed: pd.DataFrame
    config: MeasureConfig
    dropped_income: float = 0.0

    @property
    def equity(self) -> float:
        """Customer equity after the change."""
        return self.after.equity

    @property
    def difference(self) -> float:
        """Customer equity after the change minus before."""
        return self.after.equity - self.before.equity

    @property
    def table(self) -> pd.DataFrame:
        """Per type and in total: customers and equity before and after, and the difference."""
        b, a = self.before.by_type, self.after.by_type
        return pd.DataFrame({"customers_before": b["customers"], "customers_after": a["customers"],
                             "equity_before": b["equity"], "equity_after": a["equity"],
                             "difference": a["equity"] - b["equity"]}, index=b.index)


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


def _per_type_change(change, name):
    """A change for all types (a number) or per type (mapping or 4 numbers), as shape (4,)."""
    if isinstance(change, Mapping):
        out = np.zeros(4)
        for label, value in change.items():
            code = int(type_codes([label], name)[0])
            out[code] = check_finite(as_float(value, name, blank_ok=False), name)
        return out
    arr = check_finite(as_float(change, name, blank_ok=False), name).reshape(-1)
    if arr.size == 1:
        return np.full(4, float(arr[0]))
    if arr.size != 4:
        raise CustomerEquityError(name, "one change for all types, or one per type (Lighthouse, "
                                  f"Follower, Rational, Profit-seeking): 4, got {arr.size}")
    return arr


def _field_block(df, name):
    """(N, W) float values of column ``name`` or block ``name_1..``, the column names; None if absent."""
    block = []
    while f"{name}_{len(block) + 1}" in df.columns:
        block.append(f"{name}_{len(block) + 1}")
    if name in df.columns and not block:
        return as_float(df[name].to_numpy(), name).reshape(-1, 1), [name], True
    if block:
        return as_float(df[block].to_numpy(), name), block, False
    return None


def _stretched(df, periods, new_periods):
    """The table with each customer retained ``new_periods`` (fractional) instead of ``periods``.

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
    # value multiplier per customer and period: 1 while retained, the fraction in a partial
    # last period, 0 afterwards
    weight = np.where(kept, 1.0, 0.0)
    partial = (t[None, :] == last[:, None]) & (frac[:, None] > 0)
    weight[partial] = np.broadcast_to(frac[:, None], weight.shape)[partial]
    scaled = {products[1] if any(c in df.columns or f"{c}_1" in df.columns for c in products[0])
              else result for result, products in _PRODUCTS.items()} | set(_SINGLE)
    names = [c for inputs, _ in _PRODUCTS.values() for c in inputs] + list(_PRODUCTS) + list(_SINGLE)
    # the last period a customer was retained (0: never); its values repeat afterwards
    source = np.minimum(t[None, :], np.maximum(periods.astype(np.int64), 1)[:, None]) - 1
    dropped, blocks = [], []
    for name in names:
        got = _field_block(df, name)
        if got is None:
            continue
        values, columns, is_column = got
        if is_column and name not in scaled:
            continue
        values = np.nan_to_num(values, nan=0.0)
        if is_column:
            block = values * weight
        else:
            w0 = values.shape[1]
            padded = np.concatenate([values, np.zeros((len(df), 1))], axis=1)
            # a period beyond the block holds nothing
            block = np.take_along_axis(padded, np.where(source < w0, source, w0), axis=1)
            block *= weight if name in scaled else kept
        dropped += columns
        blocks.append(pd.DataFrame(block, index=df.index, columns=[f"{name}_{k}" for k in t]))
    out = pd.concat([df.drop(columns=dropped), *blocks], axis=1)
    out["periods"] = last
    return out


def moves_to_mix(customers: ArrayLike, mix: ArrayLike) -> dict:
    """The moves of whole customers between types that turn today's counts into a target mix.

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
    to ``N``). The customers are lined up by type, lighthouse to profit-seeking,
    and the line is cut again at the target counts: a customer moves only as far
    as the new mix requires, to a neighbouring type where it can, and no more
    customers move than the change of mix needs. With :func:`what_if` the best of a
    type (by score, else value) are the ones that move up and the worst the ones
    that move down. The customer base keeps its size.

    Examples
    --------
    >>> moves_to_mix([100, 300, 350, 250], [0.12, 0.30, 0.36, 0.22])
    {('Follower', 'Lighthouse'): 20, ('Profit-seeking', 'Rational'): 30, ('Rational', 'Follower'): 20}
    """
    n = check_finite(as_float(customers, "customers", blank_ok=False), "customers").reshape(-1)
    m = check_finite(as_float(mix, "mix", blank_ok=False), "mix").reshape(-1)
    for arr, name in ((n, "customers"), (m, "mix")):
        if arr.size != 4:
            raise CustomerEquityError(name, f"needs one value per customer type: 4, got {arr.size}")
    if np.any(n < 0) or np.any(n != np.floor(n)):
        raise CustomerEquityError("customers", "numbers of customers must be whole numbers >= 0",
                                  value=n.tolist())
    if np.any((m < 0) | (m > 1)) or abs(m.sum() - 1.0) > 1e-9:
        raise CustomerEquityError("mix", "shares must lie in [0, 1] and add up to 1", value=m.tolist())
    total = int(n.sum())
    exact = m * total
    target = np.floor(exact).astype(np.int64)
    for k in np.argsort(-(exact - target), kind="stable")[: total - int(target.sum())]:
        target[k] += 1
    # customers lined up by type (best of each type first) and cut into the target counts:
    # type i holds places [start_i, end_i) today, type j's target places [lo_j, hi_j)
    end, hi = np.cumsum(n.astype(np.int64)), np.cumsum(target)
    start, lo = end - n.astype(np.int64), hi - target
    moves = {}
    for i in range(4):
        for j in range(4):
            overlap = int(min(end[i], hi[j]) - max(start[i], lo[j]))
            if i != j and overlap > 0:
                moves[(TYPES[i], TYPES[j])] = overlap
    return dict(sorted(moves.items()))


def _moved_types(base, moves):
    """New type codes after moving whole customers between types.

    ``moves`` maps (from, to) type pairs to numbers of customers. Moving up takes the
    customers closest to the higher type first (highest score, else highest lifetime
    value); moving down the ones closest to the lower type (lowest first).
    """
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
                                      f"{members.size}", value=wanted)
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
            moves: Mapping | None = None, mix: ArrayLike | None = None,
            new_types: ArrayLike | None = None,
            base_retention: ArrayLike | None = None,
            base: Measurement | None = None) -> WhatIf:
    """Customer equity under a change of retention, discount rate, type mix, margin or income.

    Parameters
    ----------
    customers : pandas.DataFrame
        The customer table, as :func:`~customer_equity.model.measure.measure` reads it.
    config : MeasureConfig, optional
        The measurement's configuration (default :class:`MeasureConfig`).
    retention_change : float, 4 floats or mapping of type to float, optional
        Change of the retention rate **per period**, in rate units (0.05 = five
        points), for all types or per type; ``r + change`` must stay in [0, 1).
        Stretches retention times as in this module's notes.
    rate : float, optional
        The new discount rate **per period** (> -1).
    margin_change : float, 4 floats or mapping, optional
        Change of the unit margin (the ``margin`` column, margin per unit of
        revenue; 0.02 = two points), for all types or per type.
    transaction_income : float or list of float, optional
        The new transaction income per period to allocate (see :class:`MeasureConfig`).
    moves : mapping of (from type, to type) to int, optional
        Whole customers moved between types, e.g. ``{("Rational", "Follower"): 50}``.
        Their values are re-read under the new type's capabilities (a rational
        customer who becomes a follower now provides TV; a lighthouse customer who
        becomes profit-seeking provides only PV and Iv). Moving up takes the
        customers with the highest classification score (else lifetime value)
        first; moving down, the lowest.
    mix : 4 floats, optional
        A target type mix (shares adding up to 1), reached by the moves of
        :func:`moves_to_mix` (instead of ``moves``).
    new_types : array_like, optional
        The type of every customer after the change, when the firm names them
        itself (instead of ``moves``).
    base_retention : 4 floats, optional
        The retention rate per period of each type that ``retention_change`` starts
        from, when known otherwise (e.g. from P(alive), see
        :func:`~customer_equity.model.retention.retention_from_p_alive`); NaN or
        omitted: :func:`implied_retention` of the ``periods`` column.
    base : Measurement, optional
        ``measure(customers, config)`` when already computed (saves a measurement).

    Returns
    -------
    WhatIf
        ``.equity`` after the change, ``.difference`` from the baseline, ``.table``
        per type, and ``.changed``, the customer table that was measured.

    Notes
    -----
    Levers combine in this order: types (``moves``/``new_types``), then
    retention (by the customer's new type, from the baseline retention rate of
    that type, :func:`implied_retention`), then margin; ``rate`` and
    ``transaction_income`` change the configuration. The what-if equity is

    .. math:: CE' = \\sum_n \\left[ \\sum_{t \\le T'_n} (PV+PPV+CV+KV+TV)'_{nt} (1+i')^{-t} + Iv \\right]

    restricted by each customer's (new) type, with ``T'_n = T_n (1-r)/(1-r-Δ)``.

    References
    ----------
    Wang Tao et al. (2002), *The composition and measurement of customer equity*;
    the expansion paper (seed 000) on retention time; Gupta, S., & Lehmann, D. R.
    (2003), Customers as assets (the retention rate).

    Examples
    --------
    Two lighthouse customers retained 3 and 5 periods (mean 4: r = 0.75), margin
    100 per period, no discounting. Retention + 5 points stretches their lifetimes
    by 0.25/0.20 = 1.25, to 3.75 and 6.25 periods:

    >>> table = pd.DataFrame({"type": ["Lighthouse", "Lighthouse"], "periods": [3, 5],
    ...                       "pv": [100.0, 100.0]})
    >>> cfg = MeasureConfig(rate=0.0, classify_by="type")
    >>> w = what_if(table, cfg, retention_change=0.05)
    >>> w.before.equity, w.equity, w.difference
    (800.0, 1000.0, 200.0)
    >>> round(what_if(table, cfg, rate=0.10).equity, 2)  # 100 x (2.486852 + 3.790787)
    627.76
    """
    config = config or MeasureConfig()
    base = measure(customers, config) if base is None else base
    if mix is not None:
        if moves is not None:
            raise CustomerEquityError("mix", "give either moves or mix, not both")
        moves = moves_to_mix(base.counts, mix)
    df, retyped = _changed_table(customers, base, retention_change=retention_change,
                                 margin_change=margin_change, moves=moves, new_types=new_types,
                                 base_retention=base_retention)
    given = [name for name, value in (("margin_change", margin_change), ("retention_change", retention_change),
                                      ("transaction_income", transaction_income), ("rate", rate))
             if value is not None]
    return _measured(df, retyped, config, base, rate=rate, transaction_income=transaction_income,
                     lever=given[0] if given else "what_if")


def _changed_table(customers, base, *, retention_change=None, margin_change=None, moves=None,
                   new_types=None, base_retention=None):
    """The customer table under the levers that change it; and whether types were reassigned."""
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
    if retention_change is not None:
        delta = _per_type_change(retention_change, "retention_change")
        if np.any(delta != 0):
            periods = _periods(customers)
            r = implied_retention(periods, codes)
            if base_retention is not None:
                given = check_finite(as_float(base_retention, "base_retention"),
                                     "base_retention").reshape(-1)
                if given.size != 4:
                    raise CustomerEquityError("base_retention", "needs one retention rate per type: "
                                              f"4, got {given.size}")
                if np.any((given < 0) | (given >= 1)):
                    raise CustomerEquityError("base_retention", "a retention rate must lie in [0, 1)",
                                              value=given.tolist())
                r = np.where(np.isnan(given), r, given)
            r_new = r + delta
            present = np.bincount(new_codes, minlength=4) > 0
            bad = present & ~((r_new >= 0) & (r_new < 1))
            if bad.any():
                k = int(np.flatnonzero(bad)[0])
                raise CustomerEquityError("retention_change", f"{TYPES[k]} retention "
                                          f"{r[k]:.4g} + change must stay in [0, 1)",
                                          value=float(delta[k]))
            with np.errstate(invalid="ignore", divide="ignore"):
                factor = np.where(present & (delta != 0), (1.0 - r) / (1.0 - r_new), 1.0)
            df = _stretched(df, periods, periods * np.nan_to_num(factor, nan=1.0)[new_codes])
    if margin_change is not None:
        delta = _per_type_change(margin_change, "margin_change")
        got = _field_block(df, "margin")
        if got is None:
            raise CustomerEquityError("margin_change", "the table has no margin column (it gives pv "
                                      "directly); change pv instead")
        values, columns, _ = got
        df = df.copy() if df is customers else df
        df[columns] = np.nan_to_num(values, nan=0.0) + delta[new_codes][:, None]
    return df, retyped


def _measured(df, retyped, config, base, *, rate=None, transaction_income=None, lever="what_if"):
    """Measure a changed table under the configuration levers: the WhatIf."""
    changes = {"classify_by": "type"} if retyped else {}
    if rate is not None:
        new_rate = np.asarray(rate_array(rate, "rate"))
        if new_rate.size != 1:
            raise CustomerEquityError("rate", "one discount rate per period, got "
                                      f"{new_rate.size} numbers")
        changes["rate"] = float(new_rate.reshape(-1)[0])
    if transaction_income is not None:
        income = check_finite(as_float(transaction_income, "transaction_income", blank_ok=False),
                              "transaction_income")
        changes["transaction_income"] = income.reshape(-1).tolist() if income.ndim else float(income)
    new_config = dataclasses.replace(config, **changes) if changes else config
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
        (change of unit margin for all types), ``"transaction_income"`` (new
        income per period).
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
    rate                 0.0     0.1
    retention_change
    0.00               800.0  627.76
    0.05              1000.0  748.27

    (748.27 = 100 x [annuity(3) + 0.75 x 1.1^-4 + annuity(6) + 0.25 x 1.1^-7] at 10 %.)
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
                tables[key] = _changed_table(customers, base, **on_table)
            on_config = {k: v for k, v in levers.items() if k not in _TABLE_LEVERS}
            w = _measured(*tables[key], config, base, **on_config,
                          lever=f"{row_lever} = {_plain([x])[0]}, {column_lever} = {_plain([y])[0]}")
            grid[a, b] = w.equity if result == "equity" else w.difference
    return pd.DataFrame(grid, index=pd.Index(_plain(rows), name=row_lever),
                        columns=pd.Index(_plain(cols), name=column_lever))


def _plain(values):
    return [float(v) if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) else v
            for v in values]
