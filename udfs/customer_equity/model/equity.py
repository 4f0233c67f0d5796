"""Steps 2 and 3: customer equity, its breakdown by type and its composition (SPEC section 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import CustomerEquityError
from .validate import as_float, check_finite, matching, money_array, per_row
from .types import CAPABILITIES, TYPES, VALUE_KINDS, discounted_components, type_codes
from .values import COMPONENTS

__all__ = ["customer_equity", "equity_table", "composition_matrix", "composition_from_discounted"]


def _types_and_ltv(types, ltv):
    codes = np.atleast_1d(type_codes(types, "types")).reshape(-1)
    v = np.nan_to_num(check_finite(as_float(ltv, "ltv"), "ltv"), nan=0.0).reshape(-1)
    if v.shape != codes.shape:
        raise CustomerEquityError("ltv", f"needs one value per customer type ({codes.size}), got {v.size}")
    return codes, v


def customer_equity(types, ltv):
    """Total customer equity: the sum of the lifetime values of all customers.

    Parameters
    ----------
    types : array_like
        Customer type per customer (checked, so that every customer is classified).
    ltv : array_like
        Lifetime value per customer (money, already type-restricted).

    Notes
    -----
    .. math:: CE = \\sum_{type} \\sum_{n \\in type} LTV_n

    Examples
    --------
    >>> customer_equity(["Lighthouse", "Rational", "Rational"], [1000, 250, -50])
    1200.0
    """
    _, v = _types_and_ltv(types, ltv)
    return float(v.sum())


def equity_table(types, ltv):
    """Equity by customer type: customers, equity, share of equity, average value, and a total.

    Returns
    -------
    pandas.DataFrame
        Index: the four types and ``Total``; columns ``customers``, ``equity``,
        ``share`` (of total equity; NaN when the total is 0, also when the values cancel to
        within rounding of 0) and ``average``.

    Examples
    --------
    >>> equity_table(["Lighthouse", "Rational", "Rational"], [1000, 250, -50])
                    customers  equity     share  average
    type
    Lighthouse              1  1000.0  0.833333   1000.0
    Follower                0     0.0  0.000000      NaN
    Rational                2   200.0  0.166667    100.0
    Profit-seeking          0     0.0  0.000000      NaN
    Total                   3  1200.0  1.000000    400.0
    """
    codes, v = _types_and_ltv(types, ltv)
    counts = np.bincount(codes, minlength=4)
    sums = np.bincount(codes, weights=v, minlength=4)
    return table_from_sums(counts, sums)


#: A sum no larger than this share of the magnitudes it adds is rounding left over from
#: amounts that cancel (6.19 - 6.19 summed in another order is -8.9e-16): it is 0.
ROUNDING = 64 * np.finfo(np.float64).eps


def cancelled_to_zero(total, magnitude):
    """``total``, or 0 where it is within rounding of the ``magnitude`` (the sum of the
    absolute values added), so that a share of a total that cancels out is undefined
    rather than a number like 7e15."""
    total = np.asarray(total, dtype=np.float64)
    return np.where(np.abs(total) <= ROUNDING * np.asarray(magnitude, dtype=np.float64), 0.0, total)


def table_from_sums(counts, sums):
    """The equity table from per-type customer counts and equity sums (exact under batching)."""
    counts = np.asarray(counts)
    counts = np.append(counts, counts.sum())
    if counts.dtype.kind != "f" or np.array_equal(counts, np.round(counts)):
        counts = counts.astype(np.int64)  # whole customers; a what-if at type averages may count parts
    sums = np.asarray(sums, dtype=np.float64)
    sums = np.append(sums, cancelled_to_zero(np.sum(sums), np.sum(np.abs(sums))))
    total = sums[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = sums / total if total != 0 else np.full(sums.shape, np.nan)
        average = np.where(counts > 0, sums / np.where(counts > 0, counts, 1), np.nan)
    index = pd.Index(list(TYPES) + ["Total"], name="type")
    return pd.DataFrame({"customers": counts, "equity": sums, "share": share, "average": average},
                        index=index)


def composition_matrix(types, rate, periods=None, pv=0.0, ppv=0.0, cv=0.0, kv=0.0, tv=0.0, iv=0.0,
                       timing="end"):
    """The two-dimensional composition of customer equity: value kind x customer type.

    Each cell is the discounted value of one kind (PV, PPV, CV, KV, TV, Iv) summed over
    the customers of one type, counting only the kinds the type provides.

    Returns
    -------
    pandas.DataFrame
        Index PV, PPV, CV, KV, TV, Iv and ``Total``; columns the four types and ``Total``.
        The bottom-right cell is total customer equity.

    Examples
    --------
    >>> m = composition_matrix(["Lighthouse", "Profit-seeking"], 0.0, pv=[[100], [100]],
    ...                        kv=[[50], [50]], iv=10, periods=2)
    >>> m.loc[["PV", "KV", "Iv", "Total"], ["Lighthouse", "Profit-seeking", "Total"]]
           Lighthouse  Profit-seeking  Total
    PV          200.0           200.0  400.0
    KV          100.0             0.0  100.0
    Iv           10.0            10.0   20.0
    Total       310.0           210.0  520.0
    """
    codes = np.atleast_1d(type_codes(types, "types")).reshape(-1)
    disc = discounted_components(rate, periods, timing, pv=pv, ppv=ppv, cv=cv, kv=kv, tv=tv)
    iv_arr = per_row(money_array(iv, "iv"))
    codes, iv_arr = per_customer(codes, disc, iv_arr)
    return composition_from_discounted(composition_sums(codes, disc, iv_arr))


def per_customer(codes, disc, iv):
    """Type codes and Iv, one per customer, checked against the discounted values: one type
    (or one Iv) stands for every customer."""
    shape = matching(("types", codes), *disc.items(), ("iv", iv))
    if len(shape) > 1:
        raise CustomerEquityError("iv", "one value per customer: a single value or a column")
    return np.broadcast_to(codes, shape), np.broadcast_to(iv, shape)


def composition_sums(codes, disc, iv):
    """Raw 6 x 4 sums (kind x type) of capability-restricted discounted values."""
    sums = np.zeros((len(VALUE_KINDS), len(TYPES)))
    for k, name in enumerate(COMPONENTS):
        values = np.broadcast_to(disc[name], codes.shape)
        sums[k] = np.bincount(codes, weights=np.where(CAPABILITIES[:, k][codes], values, 0.0),
                              minlength=4)
    sums[len(COMPONENTS)] = np.bincount(codes, weights=np.broadcast_to(iv, codes.shape), minlength=4)
    return sums


def composition_from_discounted(sums):
    """The labelled composition matrix, with totals, from the raw 6 x 4 sums."""
    m = pd.DataFrame(sums, index=list(VALUE_KINDS), columns=list(TYPES))
    m["Total"] = m.sum(axis=1)
    m.loc["Total"] = m.sum(axis=0)
    m.columns.name = None
    return m
