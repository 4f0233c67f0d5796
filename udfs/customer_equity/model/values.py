"""The five kinds of value a customer provides (SPEC section 2; Wang Tao et al. 2002).

PV purchase value, PPV word-of-mouth value, CV ongoing information value, KV
knowledge value, TV transaction value, plus Iv, the constant profile information
value added once per customer and not discounted.
"""

from __future__ import annotations

import numpy as np

from ..errors import CustomerEquityError
from .validate import (
    describe_shape,
    influence_array,
    matching,
    money_array,
    nonnegative_array,
    per_row,
    share_array,
)
from .discount import present_value

__all__ = [
    "purchase_value",
    "word_of_mouth_value",
    "allocate_transaction_value",
    "ltv_values",
    "COMPONENTS",
]

#: The discounted, per-period value kinds in the order of the paper's formula.
COMPONENTS = ("pv", "ppv", "cv", "kv", "tv")


def purchase_value(capacity, share, margin, *, names=("capacity", "share", "margin")):
    """Purchase value per period: ``PV = R x S x M``.

    Parameters
    ----------
    capacity : array_like
        ``R``, the customer's spending capacity in the category per period (money, >= 0).
    share : array_like
        ``S``, the firm's share of that spending (share of wallet), in [0, 1].
    margin : array_like
        ``M``, margin per unit of revenue; may be negative.

    Returns
    -------
    ndarray or float
        Element-wise product (inputs broadcast); blanks count as 0.

    References
    ----------
    Wang Tao et al. (2002), *The composition and measurement of customer equity*.

    Examples
    --------
    >>> float(purchase_value(2000, 0.5, 0.2))
    200.0
    >>> purchase_value([[1000], [3000]], [[0.5], [0.1]], 0.2)
    array([[100.],
           [ 60.]])
    """
    c, s, m = (nonnegative_array(capacity, names[0]), share_array(share, names[1]),
               money_array(margin, names[2]))
    matching((names[0], c), (names[1], s), (names[2], m))
    out = c * s * m
    return out.item() if np.ndim(out) == 0 else out


def word_of_mouth_value(influence, reach, avg_value):
    """Word-of-mouth value per period: ``PPV = influence x reach x average purchase value``.

    Parameters
    ----------
    influence : array_like
        The share of the people reached who act on the customer's word, in
        [-1, 1]; negative for complaints that drive prospects and customers to
        competitors (-1: everyone reached is driven away). A share above 100 % is
        refused (a reading of the paper: influence is a share of the people reached).
    reach : array_like
        Number of people influenced per period, >= 0.
    avg_value : array_like
        Average purchase value (money per period) of those influenced.

    References
    ----------
    Wang Tao et al. (2002), *The composition and measurement of customer equity*.

    Examples
    --------
    >>> float(word_of_mouth_value(0.05, 40, 150))
    300.0
    >>> float(word_of_mouth_value(-0.02, 100, 150))  # complaints cost the firm
    -300.0
    """
    f = influence_array(influence, "influence")
    n, a = nonnegative_array(reach, "reach"), money_array(avg_value, "avg_value")
    matching(("influence", f), ("reach", n), ("avg_value", a))
    out = f * n * a
    return out.item() if np.ndim(out) == 0 else out


def allocate_transaction_value(income, carriers):
    """Spread each period's transaction income evenly over the customers who carry it.

    Parameters
    ----------
    income : array_like
        Transaction income per period (money), shape ``(T,)`` or a scalar for one period.
    carriers : array_like of bool
        Shape ``(N,)`` (the same customers carry it every period) or ``(N, T)``.

    Returns
    -------
    ndarray
        Shape ``(N, T)``: ``income_t / (number of carriers in t)`` for carriers, 0 for
        the others.

    Notes
    -----
    The accrual principle of the paper: income earned with partner markets on the
    strength of the customers' trust is allocated evenly across the customers who
    carry transaction value in that period. A period with income and no carrier is
    refused: the income would otherwise vanish from customer equity.

    Examples
    --------
    >>> allocate_transaction_value([300, 600], [True, False, True])
    array([[150., 300.],
           [  0.,   0.],
           [150., 300.]])
    """
    inc = money_array(income, "income")
    if inc.ndim == 2 and min(inc.shape) > 1:
        raise CustomerEquityError("income", f"must be one row (one cell per period), got "
                                  f"{describe_shape(inc.shape)}")
    inc = inc.reshape(-1)
    c = np.asarray(carriers, dtype=bool)
    if c.ndim == 1:
        c = np.broadcast_to(c[:, None], (c.shape[0], inc.shape[0]))
    if c.ndim != 2 or c.shape[1] != inc.shape[0]:
        raise CustomerEquityError(
            "carriers", f"needs one row per customer and one column per period of income "
            f"({inc.shape[0]}), got shape {c.shape}")
    return np.where(c, income_per_carrier(inc, c.sum(axis=0)), 0.0)


def income_per_carrier(income, carriers, name="income"):
    """Each period's income divided by its number of carriers (0 where there is none).

    Income in a period with no carrier is refused: it would vanish from customer equity.

    Examples
    --------
    >>> income_per_carrier(np.array([300.0, 0.0]), np.array([3, 0]))
    array([100.,   0.])
    """
    orphan = (carriers == 0) & (income != 0)
    if orphan.any():
        t = int(np.flatnonzero(orphan)[0])
        raise CustomerEquityError(name, "transaction income in a period in which no customer "
                                  "carries transaction value", column=t + 1, value=float(income[t]))
    return np.divide(income, carriers, out=np.zeros_like(income, dtype=np.float64), where=carriers > 0)


def ltv_values(rate, periods=None, pv=0.0, ppv=0.0, cv=0.0, kv=0.0, tv=0.0, iv=0.0, timing="end"):
    """Five-value lifetime value: all five discounted components plus the constant Iv.

    Parameters
    ----------
    rate : array_like
        Discount rate per period, > -1.
    periods : array_like, optional
        Retention time in periods (see :func:`ltv_contribution`); required in
        CE_LTV_VALUES, whose arguments come in this same order.
    pv, ppv, cv, kv, tv : array_like
        Purchase, word-of-mouth, information (contact), knowledge and transaction
        value per period: each a column (same every period for ``periods`` periods)
        or a block (one column per period). Blanks are 0. Their rows must match.
    iv : array_like
        Profile information value, added once per customer, not discounted.
    timing : {"end", "begin"}

    Notes
    -----
    .. math:: LTV = \\sum_t (PV_t + PPV_t + CV_t + KV_t + TV_t)(1+i)^{-t} + Iv

    References
    ----------
    Wang Tao et al. (2002), *The composition and measurement of customer equity*.

    Examples
    --------
    >>> round(float(ltv_values(0.10, pv=100, ppv=10, cv=5, kv=0, tv=5, iv=20, periods=2)), 2)
    228.26
    """
    parts = [(n, present_value(rate, x, periods, timing, name=n)) for n, x in
             zip(COMPONENTS, (pv, ppv, cv, kv, tv))]
    parts.append(("iv", per_row(money_array(iv, "iv"))))
    matching(*parts)
    out = sum(p for _, p in parts)
    return out.item() if np.ndim(out) == 0 else out
