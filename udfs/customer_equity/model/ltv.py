"""The four lifetime-value formula families (SPEC section 1).

Every function is array-in, array-out: a customer's values over time are a row
(last axis = period), many customers are many rows, and scalars broadcast.
Rates are per period; horizons are in periods of the same unit as the data.
"""

from __future__ import annotations

import numpy as np

from ..reading import timing_code
from .validate import (
    _fail,
    as_float,
    check_finite,
    check_range,
    matching,
    money_array,
    nonnegative_array,
    periods_array,
    rate_array,
    share_array,
)
from .discount import present_value

__all__ = ["ltv_contribution", "ltv_share_of_wallet", "ltv_indirect", "ltv_retention"]


def ltv_contribution(rate, values, periods=None, timing="end"):
    """Contribution lifetime value: the discounted margins of a retained customer.

    Parameters
    ----------
    rate : array_like
        Discount rate per period ``i``, > -1.
    values : array_like
        Margin ``a_t`` per period, shape ``(..., W)``: a column (``W == 1``) is the
        same margin every period for ``periods`` periods; a block has one column per
        period. Blanks are 0; margins may be negative.
    periods : array_like, optional
        Retention time ``T`` in periods. Default: the block width (1 for a column).
    timing : {"end", "begin"}
        End-of-period discounting (default, Excel ``NPV``) or beginning of period.

    Returns
    -------
    ndarray or float
        LTV per row.

    Notes
    -----
    .. math:: LTV = \\sum_{t=1}^{T} a_t (1+i)^{-t}

    With a constant margin this is the annuity ``a (1 - (1+i)**-T) / i`` (``a T`` at
    ``i = 0``). Row by row this equals Excel's ``NPV(i, a_1, ..., a_T)``.

    References
    ----------
    Reichheld, F. F. (1996). *The Loyalty Effect*. Harvard Business School Press.

    Examples
    --------
    A customer retained three years with margins 100, 120, 150 at 10 % a year:

    >>> round(float(ltv_contribution(0.10, [100, 120, 150])), 2)  # 100/1.1 + 120/1.21 + 150/1.331
    302.78

    Two customers with a constant margin, retained 5 and 2 periods:

    >>> ltv_contribution(0.10, [[100], [100]], periods=[5, 2]).round(2)
    array([379.08, 173.55])
    """
    return present_value(rate, values, periods, timing, name="values")


def ltv_share_of_wallet(rate, capacity, share, margin, periods=None, timing="end"):
    """Share-of-wallet lifetime value: discounted spending capacity x share x unit margin.

    Parameters
    ----------
    rate : array_like
        Discount rate per period, > -1.
    capacity : array_like
        ``R_t``, the customer's total spending in the category per period (money, >= 0).
    share : array_like
        ``S_t``, the firm's share of that spending (share of wallet), in [0, 1].
    margin : array_like
        ``M_t``, margin per unit of revenue (0.25 for 25 %); may be negative.
    periods : array_like, optional
        Retention time in periods (see :func:`ltv_contribution`).
    timing : {"end", "begin"}

    Notes
    -----
    .. math:: LTV = \\sum_{t=1}^{T} R_t S_t M_t (1+i)^{-t}

    The three inputs broadcast against each other: a block of capacities per period
    with one share and margin per customer is fine.

    References
    ----------
    Griffin, J. (1995). *Customer Loyalty: How to Earn It, How to Keep It*. Lexington Books.

    Examples
    --------
    Spending 1,000 a year, 40 % of it with the firm at a 25 % margin, for 2 years at 10 %:

    >>> round(float(ltv_share_of_wallet(0.10, 1000, 0.4, 0.25, periods=2)), 2)  # 100/1.1 + 100/1.21
    173.55
    """
    from .values import purchase_value

    return present_value(rate, purchase_value(capacity, share, margin), periods, timing,
                         name="capacity x share x margin")


def ltv_indirect(rate, market_size, share, margin, indirect, periods=None, timing="end"):
    """Indirect-contribution lifetime value: purchases times an indirect-effect multiplier.

    Parameters
    ----------
    rate : array_like
        Discount rate per period, > -1.
    market_size : array_like
        ``P``, the single customer's market size per period (money, >= 0).
    share : array_like
        ``S``, the firm's share of it, in [0, 1].
    margin : array_like
        ``M``, unit margin; may be negative.
    indirect : array_like
        ``A``, the indirect contribution as a multiplier >= 0: 1 means no indirect
        effect, 1.2 means word of mouth adds 20 %, 0.9 means complaints cost 10 %.
    periods : array_like, optional
        Retention time in periods (see :func:`ltv_contribution`).
    timing : {"end", "begin"}

    Notes
    -----
    The paper writes a triple integral over customers ``k``, products ``n`` and time:

    .. math:: LTV = \\int_k \\int_n \\int_t P S M A (1+i)^{-t}\\,dt\\,dn\\,dk

    computed discretely: each row is one customer-product line, this function sums
    over its periods, and the sum of the rows is the sum over products and customers.

    References
    ----------
    Hu Zuohao et al. (2001), cited in Wang Tao et al. (2002), *The composition and
    measurement of customer equity*.

    Examples
    --------
    >>> round(float(ltv_indirect(0.10, 1000, 0.4, 0.25, 1.2, periods=2)), 2)  # 120/1.1 + 120/1.21
    208.26
    """
    a = nonnegative_array(indirect, "indirect")
    from .values import purchase_value

    matching(("market_size", np.shape(market_size)), ("share", np.shape(share)),
             ("margin", np.shape(margin)), ("indirect", a))
    flows = purchase_value(market_size, share, margin, names=("market_size", "share", "margin")) * a
    return present_value(rate, flows, periods, timing, name="market_size x share x margin x indirect")


def ltv_retention(margin, retention, rate, periods=None, timing="end", growth=0.0,
                  acquisition_cost=0.0):
    """Retention-based lifetime value (Gupta & Lehmann), finite or infinite horizon.

    Parameters
    ----------
    margin : array_like
        ``m``, margin per period of a surviving customer (money; may be negative).
    retention : array_like
        ``r``, probability a customer is retained from one period to the next, in [0, 1].
    rate : array_like
        ``i``, discount rate per period, > -1.
    periods : array_like, optional
        Horizon ``T`` in periods; ``None`` or ``inf`` is an infinite horizon.
    timing : {"end", "begin"}
        ``"end"``: margin received at the end of each period survived (first margin
        is ``m r / (1+i)``); ``"begin"``: the first margin is received at once.
    growth : array_like, optional
        ``g``, margin growth per period (> -1). The infinite horizon needs
        ``r (1+g) < 1+i``.
    acquisition_cost : array_like, optional
        Subtracted once (money, >= 0).

    Returns
    -------
    ndarray or float
        All inputs broadcast: a row of retention rates against a column of discount
        rates gives the grid.

    Notes
    -----
    With ``q = r (1+g) / (1+i)``:

    .. math::
        LTV_{end} = \\sum_{t=1}^{T} m (1+g)^{t-1} r^t (1+i)^{-t}
                  = \\frac{m r}{1+i-r(1+g)} \\left[1 - q^T\\right]

    which is ``m r / (1+i-r)`` for ``T = inf`` and ``g = 0``. With ``timing="begin"``
    the margins move one period earlier: ``m (1 - q^T) / (1 - q)``, and
    ``m (1+i) / (1+i-r(1+g))`` for ``T = inf``.

    The retention rate is read as everywhere in the package: a customer survives
    each period with probability ``r``; with ``"end"`` it provides a period's margin
    at the period's end if it survived it (expected ``r/(1-r)`` margins), with
    ``"begin"`` the first margin comes at once (``1/(1-r)``). A customer table's
    retention (:func:`~customer_equity.model.whatif.implied_retention`, same timing)
    is the one whose expected number of margins is the table's mean retention time,
    so at rate 0 the round trip table -> ``r`` -> LTV returns the table's value:
    customers retained 4 periods give ``r = 0.8`` (end) or ``0.75`` (begin), and
    ``ltv_retention(100, 0.8, 0) = ltv_retention(100, 0.75, 0, timing="begin") = 400``.
    (At a rate above 0 a lifetime of mean 4 is worth more than 4 sure periods
    discounted when it may run long and less when it may stop early; the two agree
    only in expectation of the periods, not of their discount.)

    References
    ----------
    Gupta, S., & Lehmann, D. R. (2003). Customers as assets. *Journal of Interactive
    Marketing*, 17(1), 9-24.

    Examples
    --------
    Margin 100, retention 80 %, 10 % per period, infinite horizon: 100 x 0.8 / 0.3

    >>> round(float(ltv_retention(100, 0.8, 0.10)), 4)
    266.6667

    Three periods: 100 (0.8/1.1 + 0.8**2/1.1**2 + 0.8**3/1.1**3)

    >>> round(float(ltv_retention(100, 0.8, 0.10, periods=3)), 4)
    164.0872

    A sensitivity grid, retention across and rates down:

    >>> ltv_retention(100, [[0.7, 0.9]], [[0.05], [0.15]]).round(1)
    array([[200. , 600. ],
           [155.6, 360. ]])
    """
    m = money_array(margin, "margin")
    r = share_array(retention, "retention")
    i = rate_array(rate)
    g = check_finite(as_float(growth, "growth"), "growth")
    g = check_range(np.nan_to_num(g, nan=0.0), "growth", low=-1, low_open=True,
                    rule="margin growth per period must be > -1")
    cost = nonnegative_array(acquisition_cost, "acquisition_cost")
    begin = timing_code(timing)
    T = np.inf if periods is None else periods_array(periods, allow_infinite=True, blank=np.inf)

    matching(("margin", m), ("retention", r), ("rate", i), ("growth", g),
             ("acquisition_cost", cost), ("periods", T))
    m, r, i, g, cost, T = np.broadcast_arrays(m, r, i, g, cost, T)
    q = r * (1.0 + g) / (1.0 + i)
    infinite = np.isinf(T)
    diverges = infinite & (q >= 1.0)
    if diverges.any():
        _fail("retention", "the infinite-horizon value is defined only while "
              "retention x (1 + growth) < 1 + rate; give a finite number of periods",
              r, diverges)
    first = m if begin else m * r / (1.0 + i)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        near_one = np.abs(1.0 - q) < 1e-12
        q_pow = np.where(infinite, 0.0, np.power(q, np.where(infinite, 0.0, T)))
        series = np.where(near_one, T, (1.0 - q_pow) / np.where(near_one, 1.0, 1.0 - q))
    out = first * series - cost
    if not np.isfinite(out).all():
        _fail("periods", "the value overflows: use fewer periods", out, ~np.isfinite(out))
    return out.item() if out.ndim == 0 else out
