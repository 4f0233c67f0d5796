"""The shifted-beta-geometric (sBG) model of contract retention (Fader & Hardie 2007, "How to
project customer retention", *Journal of Interactive Marketing* 21(1), 76-90).

In a contractual business (subscriptions, memberships, contracts renewed each period)
who has left is observed. At the end of each period an active customer renews with
probability ``1 - theta`` or leaves for good; ``theta`` differs across customers as
``Beta(alpha, beta)``. The customers most likely to leave leave first, so a cohort's
retention rate rises with tenure, which a constant retention rate misses (Fader &
Hardie 2010, "Customer-base valuation in a contractual setting: the perils of ignoring
heterogeneity", *Marketing Science* 29(1), 85-93).

The data is a survivor table: for each cohort its size, then the customers still
active at the start of each later period (a blank after the last period observed).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma

from ...errors import CustomerEquityError
from ...reading import timing_code
from .. import validate as v
from ._base import FittedModel, Params, parameters
from ._mle import maximise
from ._special import hyp2f1_one

__all__ = ["fit_sbg", "sbg_derl", "sbg_log_likelihood", "sbg_ltv", "sbg_retention", "sbg_survival",
           "survivor_counts"]


def survivor_counts(survivors: ArrayLike):
    """The churn data of a survivor table: ``(lost, still, cohorts)``.

    ``lost[t-1]`` customers left at the end of period ``t`` (``t = 1..K``) and
    ``still[t-1]`` were last seen active after ``t`` periods (the survivors of each
    cohort's last observed period), summed over the cohorts.

    Parameters
    ----------
    survivors : array_like
        One cohort as a row (or a column), or a table with a cohort per row: the
        cohort's size first, then the customers still active at the start of each
        later period; blanks (None, NaN) only after a cohort's last observed period.

    Examples
    --------
    >>> lost, still, cohorts = survivor_counts([[1000, 631, 468], [800, 500, None]])
    >>> lost.tolist(), still.tolist(), cohorts
    ([669.0, 163.0], [500.0, 468.0], 2)
    >>> survivor_counts([[1000], [631], [700]])
    Traceback (most recent call last):
    ...
    customer_equity.errors.CustomerEquityError: survivors, row 3: must not exceed the period before (customers who left do not come back) (got 700.0)
    """
    name = "survivors"
    given = v.check_finite(v.as_float(survivors, name), name)
    if given.ndim == 0 or given.size < 2:
        raise CustomerEquityError(name, "give a cohort's size and then the customers still active "
                                  "at the start of each later period (at least two values)")
    if given.ndim > 2:
        raise CustomerEquityError(name, "must be a table: a row per cohort")
    down = given.ndim == 2 and given.shape[1] == 1  # one cohort written down a column
    table = given.T if down else np.atleast_2d(given)

    def fail(rule, mask, value=None):  # positions as the user laid the table out
        v._fail(name, rule, given, mask.T if down else mask.reshape(given.shape), value=value)

    blank = np.isnan(table)
    first = np.zeros_like(blank)
    first[:, 0] = True
    if blank[:, 0].any():
        fail("the cohort's size (its first value) is required, the cell is blank", first & blank, "")
    gap = np.zeros_like(blank)
    gap[:, :-1] = blank[:, :-1] & ~blank[:, 1:]
    if gap.any():
        fail("a blank before a later count: blanks may only follow a cohort's last observed "
             "period", gap, "")
    with np.errstate(invalid="ignore"):
        if (table < 0).any():
            fail("must be a number of customers >= 0", table < 0)
        if (table[:, 0] == 0).any():
            fail("the cohort's size (its first value) must be > 0", first & (table == 0))
        rise = np.zeros_like(blank)
        rise[:, 1:] = table[:, 1:] > table[:, :-1]
    if rise.any():
        fail("must not exceed the period before (customers who left do not come back)", rise)
    filled = np.where(blank, 0.0, table)
    last = (~blank).sum(axis=1) - 1  # the last observed period of each cohort
    periods = table.shape[1] - 1
    lost = np.zeros(periods)
    still = np.zeros(periods)
    drops = np.where(blank[:, 1:], 0.0, filled[:, :-1] - filled[:, 1:])
    lost += drops.sum(axis=0)
    observed = last > 0
    np.add.at(still, last[observed] - 1, filled[observed, last[observed]])
    return lost, still, int(table.shape[0])


def _loglik_grad(phi, lost, still):
    """``sum_t lost_t ln P(T=t) + still_t ln S(t)`` and its gradient in log-parameters."""
    alpha, beta = np.exp(phi)
    t = np.arange(1, lost.size + 1, dtype=np.float64)
    base = betaln(alpha, beta)
    log_p = betaln(alpha + 1, beta + t - 1) - base
    log_s = betaln(alpha, beta + t) - base
    ll = float(lost @ log_p + still @ log_s)
    psi_ab, psi_abt = digamma(alpha + beta), digamma(alpha + beta + t)
    d_alpha = lost @ (digamma(alpha + 1) - digamma(alpha) + psi_ab - psi_abt) \
        + still @ (psi_ab - psi_abt)
    d_beta = lost @ (digamma(beta + t - 1) - digamma(beta) + psi_ab - psi_abt) \
        + still @ (digamma(beta + t) - digamma(beta) + psi_ab - psi_abt)
    return ll, np.array([d_alpha * alpha, d_beta * beta])


def sbg_log_likelihood(params: Params, survivors: ArrayLike) -> float:
    """The sBG log-likelihood of a survivor table (all cohorts).

    Parameters
    ----------
    params : FittedModel, mapping or sequence
        ``alpha, beta`` (> 0).
    survivors : array_like
        The survivor table (see :func:`survivor_counts`).

    Returns
    -------
    float
        ``ln L``.

    Notes
    -----
    Fader & Hardie (2007), equation (7): with ``n_t`` customers lost at the end of
    period ``t`` and ``c_t`` still active after their cohort's last observed period ``t``,

    .. math::

        \\ln L = \\sum_t n_t \\ln P(T=t) + c_t \\ln S(t), \\quad
        P(T=t) = \\frac{B(\\alpha+1, \\beta+t-1)}{B(\\alpha, \\beta)}, \\quad
        S(t) = \\frac{B(\\alpha, \\beta+t)}{B(\\alpha, \\beta)}

    Examples
    --------
    ``alpha = beta = 1``: ``P(T=1) = 1/2``, ``S(1) = 1/2``; 10 customers, 4 lost in period 1:
    ``ln L = 4 ln(1/2) + 6 ln(1/2) = 10 ln(1/2)``.

    >>> round(sbg_log_likelihood((1, 1), [10, 6]), 6), round(10 * float(np.log(0.5)), 6)
    (-6.931472, -6.931472)
    """
    alpha, beta = parameters(params, "sbg")
    lost, still, _ = survivor_counts(survivors)
    return _loglik_grad(np.log([alpha, beta]), lost, still)[0]


def fit_sbg(survivors: ArrayLike) -> FittedModel:
    """Fit the shifted-beta-geometric retention model to one or more cohorts' survivors.

    Parameters
    ----------
    survivors : array_like
        One cohort (a row: its size, then the customers still active at the start of
        each later period) or a table of cohorts, one per row, each followed for as
        many periods as it has values (see :func:`survivor_counts`).

    Returns
    -------
    FittedModel
        ``alpha, beta`` with standard errors and the log-likelihood; ``customers`` is
        the cohorts' total size.

    Notes
    -----
    Maximum likelihood (:func:`sbg_log_likelihood`) over :math:`\\ln(\\alpha, \\beta)` with
    the analytic gradient; the table is first reduced to the customers lost and still
    active per period, so any number of customers fits at once. Fader & Hardie (2007).

    Raises
    ------
    CustomerEquityError
        No customer lost, fewer than two periods observed after the cohort's size, or
        an estimate that diverges.

    Examples
    --------
    Fader & Hardie's "regular" customers, years 0-7:

    >>> fit = fit_sbg([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> round(fit["alpha"], 3), round(fit["beta"], 3)
    (0.704, 1.182)
    """
    lost, still, _ = survivor_counts(survivors)
    if not lost.sum() > 0:
        raise CustomerEquityError("survivors", "no customer was lost in any period: the churn "
                                  "cannot be estimated")
    if lost.size < 2 or not (lost[1:].sum() + still[1:].sum()) > 0:
        raise CustomerEquityError("survivors", "follow a cohort for at least two periods after its "
                                  "size (three values): one period cannot tell churn from its "
                                  "spread across customers")
    total = lost.sum() + still.sum()
    return maximise("sbg", lambda phi: _loglik_grad(phi, lost, still), np.zeros(2), total)


def _periods(periods, name="periods"):
    p = v.periods_array(periods, name)
    if np.ndim(p) != 0:
        raise CustomerEquityError(name, "must be one whole number of periods")
    return int(p)


def sbg_retention(params: Params, periods: int) -> np.ndarray:
    """Retention rate of each of the first ``periods`` periods.

    Parameters
    ----------
    params : FittedModel, mapping or sequence
        sBG ``alpha, beta``.
    periods : int
        How many periods (>= 0).

    Returns
    -------
    ndarray
        ``r_t`` for ``t = 1..periods``: the share of the customers active in period
        ``t - 1`` who are still active in period ``t``.

    Notes
    -----
    Fader & Hardie (2007), equation (5): it rises with tenure toward 1.

    .. math::

        r_t = \\frac{S(t)}{S(t-1)} = \\frac{\\beta + t - 1}{\\alpha + \\beta + t - 1}

    Examples
    --------
    >>> sbg_retention((1, 3), 3).round(4)
    array([0.75  , 0.8   , 0.8333])
    """
    alpha, beta = parameters(params, "sbg")
    t = np.arange(1, _periods(periods) + 1, dtype=np.float64)
    return (beta + t - 1) / (alpha + beta + t - 1)


def sbg_survival(params: Params, periods: int) -> np.ndarray:
    """Share of a cohort still active at the start of periods ``0..periods``.

    Parameters
    ----------
    params : FittedModel, mapping or sequence
        sBG ``alpha, beta``.
    periods : int
        The last period (>= 0).

    Returns
    -------
    ndarray
        ``S(t)`` for ``t = 0..periods`` (``S(0) = 1``): multiplied by a cohort's size,
        its projected survivors in the layout of the survivor table.

    Notes
    -----
    Fader & Hardie (2007), equation (4):

    .. math::

        S(t) = \\frac{B(\\alpha, \\beta + t)}{B(\\alpha, \\beta)} = \\prod_{j=1}^{t} r_j

    Examples
    --------
    >>> sbg_survival((1, 3), 3)
    array([1. , 0.75, 0.6 , 0.5 ])
    """
    alpha, beta = parameters(params, "sbg")
    t = np.arange(0, _periods(periods) + 1, dtype=np.float64)
    return np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))


def sbg_derl(params: Params, rate: ArrayLike, renewals: ArrayLike = 0) -> np.ndarray | float:
    """Discounted expected residual lifetime of a customer who has renewed ``renewals`` times.

    Parameters
    ----------
    params : FittedModel, mapping or sequence
        sBG ``alpha, beta``.
    rate : array_like
        Discount rate per period (>= 0; 0 only when ``alpha > 1``).
    renewals : array_like, optional
        Renewals the customer has made (whole, >= 0); the customer is about to decide
        on the next. Broadcasts with ``rate``.

    Returns
    -------
    ndarray or float
        The expected number of future payments, each discounted by ``(1+d)^-j`` for the
        ``j`` periods after the coming renewal, whose payment is not discounted.
        Multiplied by the margin per period it is the customer's expected residual
        lifetime value.

    Notes
    -----
    Fader & Hardie (2010), equation (6), for a customer with ``n`` renewals:

    .. math::

        DERL(d \\mid \\alpha, \\beta, n) = \\sum_{j=0}^{\\infty}
            \\frac{S(n+1+j)}{S(n)}\\,(1+d)^{-j}
          = \\frac{\\beta+n}{\\alpha+\\beta+n}\\;
            {}_2F_1\\Bigl(1, \\beta+n+1; \\alpha+\\beta+n+1; \\frac{1}{1+d}\\Bigr)

    Every renewal makes the next likelier: DERL grows with ``n``. At ``d = 0`` it is the
    expected residual lifetime :math:`(\\beta+n)/(\\alpha-1)` (finite for ``alpha > 1``).
    The hypergeometric function by its continued fraction (:mod:`._special`).

    Examples
    --------
    ``alpha = 1, beta = 3`` at 10 %: the terms are ``S(1) = 0.75``, ``S(2)/1.1 = 0.6/1.1``, ...

    >>> round(sbg_derl((1, 3), 0.10), 6)
    3.624275
    """
    alpha, beta = parameters(params, "sbg")
    d = v.check_finite(v.as_float(rate, "rate", blank_ok=False), "rate")
    v.check_range(d, "rate", low=0, rule="a discount rate per period must be >= 0 (with a "
                  "negative rate the discounted lifetime is infinite)")
    n = v.periods_array(renewals, "renewals")
    v.matching(("rate", d), ("renewals", n))
    if alpha <= 1 and (d == 0).any():
        v._fail("rate", f"must be > 0 when alpha <= 1 (alpha = {alpha:.4g}): the undiscounted "
                "expected lifetime is infinite", d, d == 0)
    b = beta + n
    d, b = np.broadcast_arrays(d, b)
    out = np.empty(d.shape)
    limit = d == 0  # the undiscounted residual lifetime, Gauss's sum at z = 1
    out[limit] = b[limit] / (alpha - 1.0)
    try:
        out[~limit] = b[~limit] / (alpha + b[~limit]) * hyp2f1_one(
            b[~limit] + 1.0, alpha + b[~limit] + 1.0, 1.0 / (1.0 + d[~limit]))
    except CustomerEquityError:
        raise CustomerEquityError("rate", "too close to 0 for the discounted lifetime to be "
                                  "evaluated: give a larger rate per period") from None
    return out.item() if np.ndim(out) == 0 else out


def sbg_ltv(params: Params, margin: ArrayLike, rate: ArrayLike, periods: ArrayLike | None = None,
            renewals: ArrayLike = 0, timing: str = "end") -> np.ndarray | float:
    """Retention-based lifetime value with the sBG's rising retention (SPEC 1.4 with ``r_t``).

    Parameters
    ----------
    params : FittedModel, mapping or sequence
        sBG ``alpha, beta``.
    margin : array_like
        ``m``, margin per period of an active customer (money).
    rate : array_like
        ``i``, discount rate per period (>= 0).
    periods : array_like, optional
        Horizon ``T`` in periods (whole, >= 0); ``None`` or ``inf`` for no end.
    renewals : array_like, optional
        Renewals the customer has made (0: a customer just acquired).
    timing : {"end", "begin"}
        As :func:`~customer_equity.model.ltv_retention`: ``"end"`` receives each period's
        margin at its end if the customer is retained through it; ``"begin"`` receives the
        first margin at once.

    Returns
    -------
    ndarray or float

    Notes
    -----
    With ``n`` renewals and :math:`S(n+t)/S(n)` the chance of ``t`` more:

    .. math::

        LTV_{end} = \\sum_{t=1}^{T} m \\frac{S(n+t)}{S(n)} (1+i)^{-t}
                  \\;\\xrightarrow{T=\\infty}\\; \\frac{m\\,DERL(i \\mid n)}{1+i},
        \\qquad LTV_{begin} = m + \\sum_{t=1}^{T-1} m \\frac{S(n+t)}{S(n)} (1+i)^{-t}

    With a constant retention ``r`` (a cohort without spread, ``alpha, beta`` large) this
    is the papers' :math:`m r/(1+i-r)`; with the spread the sBG finds, it is larger,
    as each renewal makes the next likelier (Fader & Hardie 2010).

    Examples
    --------
    ``alpha = 1, beta = 3``, margin 100 at 10 %, two periods: ``100 (0.75/1.1 + 0.6/1.1**2)``.

    >>> round(sbg_ltv((1, 3), 100, 0.10, periods=2), 4)
    117.7686
    >>> round(sbg_ltv((1, 3), 100, 0.10), 4) == round(100 * sbg_derl((1, 3), 0.10) / 1.1, 4)
    True
    """
    alpha, beta = parameters(params, "sbg")
    m = v.money_array(margin, "margin")
    i = v.check_finite(v.as_float(rate, "rate", blank_ok=False), "rate")
    v.check_range(i, "rate", low=0, rule="a discount rate per period must be >= 0")
    n = v.periods_array(renewals, "renewals")
    T = np.inf if periods is None else v.periods_array(periods, allow_infinite=True, blank=np.inf)
    begin = timing_code(timing)
    v.matching(("margin", m), ("rate", i), ("periods", T), ("renewals", n))
    m, i, T, n = np.broadcast_arrays(m, i, T, n)
    out = np.empty(m.shape)
    infinite = np.isinf(T)
    if infinite.any():
        end = sbg_derl((alpha, beta), i[infinite], n[infinite]) / (1.0 + i[infinite])
        out[infinite] = m[infinite] * (end + begin)
    finite = np.flatnonzero(~infinite.ravel())
    if finite.size:  # the sum itself, once per distinct (rate, renewals, horizon)
        keys = np.c_[i.ravel()[finite], n.ravel()[finite], T.ravel()[finite]]
        distinct, inverse = np.unique(keys, axis=0, return_inverse=True)
        sums = np.empty(len(distinct))
        for k, (d, renewed, horizon) in enumerate(distinct):
            t = np.arange(0 if begin else 1, horizon + (0 if begin else 1))
            sums[k] = np.exp(betaln(alpha, beta + renewed + t) - betaln(alpha, beta + renewed)
                             - t * np.log1p(d)).sum()
        out.ravel()[finite] = m.ravel()[finite] * sums[inverse.reshape(-1)]
    return out.item() if out.ndim == 0 else out
