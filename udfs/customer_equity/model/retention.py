"""Retention watch: the retention each type shows, what a point of it is worth, whom not to lose.

The expansion paper (seed 000): retention time is the most important driver of
customer equity (Reichheld 1996); firms grow it by managing the life cycle and
slowing the decline of core customers; each key customer should be held by at
least three solid links, or it is at risk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..errors import CustomerEquityError
from .validate import as_float, check_finite, check_range
from .config import MeasureConfig
from .measure import Measurement, _periods, measure
from .types import TYPES
from .whatif import codes_of, implied_retention, what_if

__all__ = ["customers_at_stake", "retention_from_p_alive", "retention_watch"]


def retention_from_p_alive(p_alive: ArrayLike, age: ArrayLike, types: ArrayLike) -> np.ndarray:
    """Retention rate per period of each type implied by the customers' P(alive).

    Parameters
    ----------
    p_alive : array_like, shape (N,)
        Probability that each customer is still active (from a forecast model such
        as BG/NBD), in [0, 1]; a blank is refused.
    age : array_like, shape (N,)
        Time since each customer's first purchase, **in the measurement's periods**
        (convert a forecast's days or weeks first; >= 0).
    types : array_like, shape (N,)
        Customer type of each customer.

    Returns
    -------
    ndarray, shape (4,)
        ``r`` per type in [0, 1]; NaN for a type without customers or whose
        customers all have age 0.

    Notes
    -----
    The retention of :func:`~customer_equity.model.whatif.implied_retention`: a
    customer survives each period with probability ``r``, so after ``a`` periods it
    is still a customer with probability ``r^a``. ``r_k`` is the constant retention
    under which the expected number of the type's customers still active equals the
    sum of their P(alive):

    .. math:: \\sum_{n \\in k,\\, a_n > 0} r_k^{\\,a_n} = \\sum_{n \\in k,\\, a_n > 0} P(alive)_n

    The left side grows with ``r``, so the root is unique; it is found by
    bisection (to 1e-12). With one age ``a`` for all, ``r = (mean P(alive))^(1/a)``.

    **Age 0.** A customer of age 0 has survived no period yet: ``r^0 = 1`` whatever
    ``r`` is, so it says nothing about retention and is left out of both sides
    (counting it would read its P(alive) below 1 as customers lost and pull ``r``
    down). A type whose customers all have age 0 has no retention here (NaN).
    A type whose P(alive) is 1 for every customer of age > 0 has ``r = 1``: no
    customer ever leaves (BG/NBD gives 1 to every customer without a repeat
    purchase), from which no fall can be priced.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers"
    the easy way: an alternative to the Pareto/NBD model. *Marketing Science*,
    24(2), 275-284 (P(alive)); the expansion paper (seed 000): retention time.

    Examples
    --------
    Two lighthouse customers of age 2 with P(alive) 0.7 and 0.5: r = 0.6 ** 0.5; a
    third of age 0 changes nothing:

    >>> retention_from_p_alive([0.7, 0.5, 0.9], [2, 2, 0], ["Lighthouse"] * 3).round(6).tolist()
    [0.774597, nan, nan, nan]
    """
    p = check_finite(as_float(p_alive, "p_alive", blank_ok=False), "p_alive").reshape(-1)
    check_range(p, "p_alive", low=0, high=1, rule="a probability must lie in [0, 1]")
    a = check_finite(as_float(age, "age", blank_ok=False), "age").reshape(-1)
    check_range(a, "age", low=0, rule="an age in periods must be >= 0")
    codes = codes_of(types, "types")
    for arr, name in ((a, "age"), (codes, "types")):
        if arr.size != p.size:
            raise CustomerEquityError(name, f"needs one value per customer ({p.size}), got {arr.size}")
    aged = a > 0
    target = np.bincount(codes[aged], weights=p[aged], minlength=4)
    counted = np.bincount(codes[aged], minlength=4)
    lo, hi = np.zeros(4), np.ones(4)
    for _ in range(60):
        mid = (lo + hi) / 2
        expected = np.bincount(codes[aged], weights=mid[codes[aged]] ** a[aged], minlength=4)
        low_side = expected < target
        lo = np.where(low_side, mid, lo)
        hi = np.where(low_side, hi, mid)
    r = (lo + hi) / 2
    r = np.where(target >= counted, 1.0, r)  # every aged customer certainly alive
    return np.where(counted > 0, r, np.nan)


def retention_watch(customers: pd.DataFrame, config: MeasureConfig | None = None, *,
                    p_alive: ArrayLike | None = None, age: ArrayLike | None = None,
                    point: float = 0.01,
                    base: Measurement | None = None) -> pd.DataFrame:
    """Per type: the retention the data implies and the equity at stake if it falls by a point.

    Parameters
    ----------
    customers : pandas.DataFrame
        The customer table (as :func:`~customer_equity.model.measure.measure` reads it).
    config : MeasureConfig, optional
    p_alive, age : array_like, optional
        P(alive) of each customer from a forecast and its age in the measurement's
        periods (see :func:`retention_from_p_alive`). When given, the at-stake
        figures start from this retention (``base_retention`` of
        :func:`~customer_equity.model.whatif.what_if`) rather than the one of
        ``periods``; a type whose customers all have age 0 starts from ``periods``.
    point : float
        The fall in retention per period to price (default 0.01, one point).
    base : Measurement, optional
        ``measure(customers, config)`` when already computed.

    Returns
    -------
    pandas.DataFrame
        Index: the four types and ``Total``. Columns:

        - ``customers``; ``mean_periods``, the mean retention time (periods);
        - ``retention``: implied by retention times (:func:`~customer_equity.model.whatif.implied_retention`:
          ``mean_periods / (1 + mean_periods)`` with end-of-period timing,
          ``1 - 1/mean_periods`` with ``timing="begin"``);
        - ``retention_p_alive``: implied by P(alive) (NaN when not given);
        - ``equity``: the type's customer equity;
        - ``at_stake``: equity lost if the type's retention falls by ``point``
          (``Total``: if every type's does), money >= 0 for value-making types;
        - ``at_stake_share``: ``at_stake / equity``;
        - ``at_risk``: key customers with fewer than three solid links;
        - ``at_risk_equity``: their lifetime value.

    Notes
    -----
    ``at_stake_k = CE - CE'`` where ``CE'`` is :func:`~customer_equity.model.whatif.what_if`
    with ``retention_change = -point`` for type ``k``: every retention time of the
    type shrinks by the change of the expected lifetime, ``E[T | r-point] / E[T | r]``
    (``(r - point)(1 - r) / (r (1 - r + point))`` with end-of-period timing; a type
    already at ``r = 0`` cannot fall further: 0). Starting from P(alive), the fall
    from ``r_b`` to ``r_b - point`` is a factor ``(r_b - point)/r_b`` on the chance
    of staying each period, which the table's lifetimes (retention ``r``) take too,
    so a table and a P(alive) that describe the same customers give the same figure.

    References
    ----------
    The expansion paper (seed 000): retention time is the most important driver of
    customer equity; slow the decline of core customers; three links per key
    customer. Reichheld, F. F. (1996). *The Loyalty Effect*.

    Examples
    --------
    Two lighthouse customers retained 3 and 5 periods (mean 4: r = 4/5 = 0.8), 100 a
    period, no discounting. One point less retention: expected lifetime 0.79/0.21 =
    3.7619 periods instead of 4, 800 x 3.7619/4 = 752.38 left:

    >>> table = pd.DataFrame({"type": ["Lighthouse", "Lighthouse"], "periods": [3, 5],
    ...                       "pv": [100.0, 100.0]})
    >>> w = retention_watch(table, MeasureConfig(rate=0.0, classify_by="type"))
    >>> w.loc["Lighthouse", ["retention", "equity", "at_stake"]].round(4).tolist()
    [0.8, 800.0, 47.619]
    """
    config = config or MeasureConfig()
    base = measure(customers, config) if base is None else base
    if not (isinstance(point, (int, float)) and not isinstance(point, bool) and 0 < point < 1):
        raise CustomerEquityError("point", "the fall in retention must lie in (0, 1)", value=point)
    periods = _periods(customers)
    codes = codes_of(base.customers["type"], "type")
    n = np.bincount(codes, minlength=4)
    r = implied_retention(periods, codes, config.timing)
    r_alive = np.full(4, np.nan)
    if p_alive is not None or age is not None:
        if p_alive is None or age is None:
            raise CustomerEquityError("age" if age is None else "p_alive",
                                      "P(alive) needs each customer's age, and age needs P(alive)")
        r_alive = retention_from_p_alive(p_alive, age, codes)
        certain = r_alive >= 1
        if certain.any():
            k = int(np.flatnonzero(certain)[0])
            raise CustomerEquityError("p_alive", f"is 1 for every {TYPES[k]} customer older than 0 "
                                      "periods: no customer ever leaves, so a fall in retention "
                                      "has no start (BG/NBD gives 1 to every customer without a "
                                      "repeat purchase); leave P(alive) out, or give it from a "
                                      "model fitted on repeat purchases")
    start = np.where(np.isnan(r_alive), r, r_alive)
    fall = np.where(n > 0, np.minimum(point, np.nan_to_num(start, nan=0.0)), 0.0)
    at_stake = np.zeros(5)
    for k in range(4):
        if fall[k] > 0:
            change = np.zeros(4)
            change[k] = -fall[k]
            at_stake[k] = -what_if(customers, config, retention_change=change,
                                   base_retention=r_alive, base=base).difference
    if fall.any():
        at_stake[4] = -what_if(customers, config, retention_change=-fall, base_retention=r_alive,
                               base=base).difference
    equity = base.by_type["equity"].to_numpy()
    ltv = base.customers["ltv"].to_numpy()
    if "at_risk" in base.customers:
        risky = base.customers["at_risk"].to_numpy(dtype=bool)
        at_risk = np.append(np.bincount(codes[risky], minlength=4), risky.sum()).astype(float)
        at_risk_eq = np.bincount(codes[risky], weights=ltv[risky], minlength=4)
        at_risk_eq = np.append(at_risk_eq, at_risk_eq.sum())
    else:
        at_risk = at_risk_eq = np.full(5, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_periods = np.bincount(codes, weights=periods, minlength=4) / np.where(n > 0, n, 1)
        total_mean = periods.mean() if periods.size else np.nan
    out = pd.DataFrame({
        "customers": np.append(n, n.sum()),
        "mean_periods": np.append(np.where(n > 0, mean_periods, np.nan), total_mean),
        "retention": np.append(r, np.nan),
        "retention_p_alive": np.append(r_alive, np.nan),
        "equity": equity,
        "at_stake": at_stake,
        "at_stake_share": np.divide(at_stake, equity, out=np.full(5, np.nan), where=equity != 0),
        "at_risk": at_risk,
        "at_risk_equity": at_risk_eq,
    }, index=pd.Index(list(TYPES) + ["Total"], name="type"))
    return out


def customers_at_stake(measurement: Measurement, *, top: int | None = None) -> pd.DataFrame:
    """The customers whose loss costs most: key customers with fewer than three links first.

    Parameters
    ----------
    measurement : Measurement
        The measurement of the customer base (with the link columns
        ``key_customer``, ``decision_makers``, ``executive_link``, ``expert_link``
        in its table, the at-risk customers come first).
    top : int, optional
        How many customers to return (default all).

    Returns
    -------
    pandas.DataFrame
        One row per customer, in order: ``rank``, ``row`` (1-based position in the
        customer table), ``customer_id`` if given, ``type``, ``ltv``, ``loss``,
        ``links`` and ``at_risk`` when the data has them.

    Notes
    -----
    The cost of losing a customer now is the discounted value it would still
    provide:

    .. math:: loss_n = LTV_n - Iv - TV^{alloc}_n

    Iv stays with the firm (the profile is in the firm's database, which owns the
    customer relationship); transaction income allocated over carriers
    (``transaction_income`` in the configuration) is not lost but spread over the
    remaining carriers. A TV column given per customer is lost with the customer.
    Order: customers at risk (a key customer with fewer than three solid links)
    first, each group by ``loss``, largest first.

    References
    ----------
    The expansion paper (seed 000): customer equity belongs to the firm; three
    solid links per key customer; slow the decline of core customers.

    Examples
    --------
    >>> table = pd.DataFrame({"customer_id": ["a", "b", "c"], "type": "Lighthouse",
    ...                       "periods": 1, "pv": [500.0, 900.0, 100.0],
    ...                       "key_customer": [True, False, True], "decision_makers": [3, 0, 1],
    ...                       "executive_link": [True, False, False], "expert_link": [True, False, True]})
    >>> m = measure(table, MeasureConfig(rate=0.0, classify_by="type", iv=10))
    >>> print(customers_at_stake(m)[["rank", "customer_id", "loss", "links", "at_risk"]].to_string())
       rank customer_id   loss  links  at_risk
    0     1           c  100.0      1     True
    1     2           b  900.0      0    False
    2     3           a  500.0      3    False
    """
    if not isinstance(measurement, Measurement):
        raise CustomerEquityError("measurement", "must be the result of measure()")
    c = measurement.customers
    loss = c["ltv"].to_numpy() - c["iv"].to_numpy()
    if measurement.config.transaction_income is not None:
        loss = loss - c["tv"].to_numpy()
    out = pd.DataFrame({"row": np.arange(1, len(c) + 1)})
    if "customer_id" in c:
        out["customer_id"] = c["customer_id"].to_numpy()
    out["type"] = c["type"].astype(str).to_numpy()
    out["ltv"] = c["ltv"].to_numpy()
    out["loss"] = loss
    risky = np.zeros(len(c), dtype=bool)
    if "at_risk" in c:
        out["links"] = c["links"].to_numpy()
        risky = c["at_risk"].to_numpy(dtype=bool)
        out["at_risk"] = risky
    order = np.lexsort((-loss, ~risky))
    if top is not None:
        if not isinstance(top, (int, np.integer)) or isinstance(top, bool) or top < 0:
            raise CustomerEquityError("top", "must be a whole number >= 0", value=top)
        order = order[: int(top)]
    out = out.iloc[order].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out
