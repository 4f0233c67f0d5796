"""The BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005, "Counting your customers
the easy way: an alternative to the Pareto/NBD model", *Marketing Science* 24(2), 275-284).

While active, a customer buys as a Poisson process with rate ``lambda``; after each
purchase the customer drops out with probability ``p``. Across customers
``lambda ~ Gamma(r, alpha)`` and ``p ~ Beta(a, b)``. A customer is summarised by
``x`` (repeat purchases), ``t_x`` (time of the last purchase) and ``T`` (time
observed), all times measured from the first purchase in the summary's unit
(:mod:`.data`); ``alpha`` is in that unit too.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, gammaln, hyp2f1

from ...errors import CustomerEquityError
from ._base import (
    FittedModel,
    Params,
    horizon_value,
    parameters,
    summary_arrays,
    weights_array,
)
from ._mle import distinct_rows, maximise

__all__ = [
    "bgnbd_log_likelihood",
    "expected_purchases",
    "expected_purchases_new",
    "fit_bgnbd",
    "p_alive",
]

#: Fewest customers with a repeat purchase the model is fitted on.
MIN_REPEAT_BUYERS = 2


def _terms(r, alpha, a, b, x, t_x, T):
    """The log-likelihood's pieces: ln L = A1 + ln(e^A2 + e^A3) (A3 only when x > 0)."""
    repeat = x > 0
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    beta_ab = betaln(a, b)
    a2 = betaln(a, b + x) - beta_ab - (r + x) * np.log(alpha + T)
    x1 = np.where(repeat, x, 1.0)  # keeps betaln(a+1, b-1) away from a negative argument
    a3 = np.where(repeat, betaln(a + 1, b + x1 - 1) - beta_ab - (r + x) * np.log(alpha + t_x),
                  -np.inf)
    return a1, a2, a3, repeat, x1


def _loglik_grad(phi, x, t_x, T, w):
    """Summed weighted log-likelihood and its gradient in log-parameters (analytic)."""
    r, alpha, a, b = np.exp(phi)
    a1, a2, a3, repeat, x1 = _terms(r, alpha, a, b, x, t_x, T)
    lse = np.logaddexp(a2, a3)
    ll = np.dot(w, a1 + lse)
    w2 = np.exp(a2 - lse)
    w3 = np.where(repeat, np.exp(a3 - lse), 0.0)
    psi_ab, psi_abx = digamma(a + b), digamma(a + b + x)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w2 * np.log(alpha + T) \
        - w3 * np.log(alpha + t_x)
    d_alpha = r / alpha - w2 * (r + x) / (alpha + T) - w3 * (r + x) / (alpha + t_x)
    d_a = w2 * (psi_ab - psi_abx) + w3 * (digamma(a + 1) - digamma(a) + psi_ab - psi_abx)
    d_b = w2 * (digamma(b + x) - psi_abx - digamma(b) + psi_ab) \
        + w3 * (digamma(b + x1 - 1) - psi_abx - digamma(b) + psi_ab)
    grad = np.array([np.dot(w, d) for d in (d_r, d_alpha, d_a, d_b)]) * np.array([r, alpha, a, b])
    return ll, grad


def bgnbd_log_likelihood(params: Params, frequency, recency, T) -> np.ndarray:
    """Each customer's BG/NBD log-likelihood.

    Parameters
    ----------
    params : FittedModel, mapping or sequence
        ``r, alpha, a, b`` (all > 0; ``alpha`` in the time unit of ``recency`` and ``T``).
    frequency : array_like
        Repeat purchases ``x`` (whole numbers >= 0).
    recency : array_like
        ``t_x``, time from the first to the last purchase, in the time unit.
    T : array_like
        Time from the first purchase to the calibration end, in the time unit.

    Returns
    -------
    ndarray
        ``ln L`` per customer.

    Notes
    -----
    Fader, Hardie & Lee (2005), equation (6):

    .. math::

        L(r, \\alpha, a, b \\mid x, t_x, T) =
            \\frac{B(a, b+x)}{B(a, b)} \\frac{\\Gamma(r+x)\\,\\alpha^r}{\\Gamma(r)(\\alpha+T)^{r+x}}
          + [x>0]\\,\\frac{B(a+1, b+x-1)}{B(a, b)}
            \\frac{\\Gamma(r+x)\\,\\alpha^r}{\\Gamma(r)(\\alpha+t_x)^{r+x}}

    evaluated in logs (``gammaln``, ``betaln``, ``logaddexp``).

    Examples
    --------
    A customer with no repeat purchase observed for ``T = 2`` with ``r = a = b = 1``,
    ``alpha = 2``: ``L = (2 / 4)^1 = 0.5``.

    >>> float(np.exp(bgnbd_log_likelihood((1, 2, 1, 1), 0, 0, 2)[0]))
    0.5
    """
    r, alpha, a, b = parameters(params, "bgnbd")
    x, t_x, T = summary_arrays(frequency, recency, T)
    a1, a2, a3, _, _ = _terms(r, alpha, a, b, x, t_x, T)
    return a1 + np.logaddexp(a2, a3)


def fit_bgnbd(frequency, recency, T, weights=None) -> FittedModel:
    """Fit the BG/NBD model by maximum likelihood.

    Parameters
    ----------
    frequency, recency, T : array_like
        The customers' summaries (see :func:`bgnbd_log_likelihood`).
    weights : array_like, optional
        How many customers each row stands for (default 1 each).

    Returns
    -------
    FittedModel
        ``r, alpha, a, b`` with standard errors and the log-likelihood.

    Notes
    -----
    Maximises :math:`\\sum_n w_n \\ln L_n` over :math:`\\ln(r, \\alpha, a, b)` with BFGS
    and the analytic gradient, then polishes with Newton steps. Customers with the
    same ``(x, t_x, T)`` are fitted once with their count as weight. Standard
    errors: square roots of the diagonal of the inverse observed information.
    Fader, Hardie & Lee (2005), section 4.

    Raises
    ------
    CustomerEquityError
        Fewer than 2 customers with a repeat purchase, or an estimate that diverges.

    Examples
    --------
    >>> fit = fit_bgnbd([0, 1, 2, 0, 4, 1], [0, 3, 5, 0, 8, 1], [10, 9, 9, 8, 9, 6])
    >>> sorted(fit.params), fit.customers
    (['a', 'alpha', 'b', 'r'], 6)
    """
    x, t_x, T = summary_arrays(frequency, recency, T)
    w = weights_array(weights, x.size)
    repeat_buyers = float(w[x > 0].sum())
    if repeat_buyers < MIN_REPEAT_BUYERS:
        raise CustomerEquityError("frequency", f"too few repeat buyers to fit the BG/NBD model: "
                                  f"{repeat_buyers:g} customers with a repeat purchase, at least "
                                  f"{MIN_REPEAT_BUYERS} needed")
    (x, t_x, T), w = distinct_rows(x, t_x, T, weights=w)
    mean_rate = np.dot(w, x) / max(np.dot(w, T), 1e-12)
    phi0 = np.log([1.0, 1.0 / max(mean_rate, 1e-12), 1.0, 1.0])
    return maximise("bgnbd", lambda phi: _loglik_grad(phi, x, t_x, T, w), phi0, w.sum())


def _alive_odds(r, alpha, a, b, x, t_x, T):
    """``[x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)``: the odds of having dropped out."""
    repeat = x > 0
    x1 = np.where(repeat, x, 1.0)
    with np.errstate(over="ignore"):
        log_odds = np.log(a) - np.log(b + x1 - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return np.where(repeat, np.exp(log_odds), 0.0)


def p_alive(params: Params, frequency, recency, T) -> np.ndarray:
    """Probability that each customer is still active at the calibration end.

    Parameters
    ----------
    params : FittedModel, mapping or sequence
        BG/NBD ``r, alpha, a, b``.
    frequency, recency, T : array_like
        The customers' summaries.

    Returns
    -------
    ndarray
        ``P(alive)`` in ``[0, 1]`` per customer (1 for a customer with no repeat purchase).

    Notes
    -----
    .. math::

        P(\\text{alive} \\mid x, t_x, T) = \\Bigl(1 + [x>0]\\,\\frac{a}{b+x-1}
            \\Bigl(\\frac{\\alpha+T}{\\alpha+t_x}\\Bigr)^{r+x}\\Bigr)^{-1}

    Fader, Hardie & Lee (2005), equation (11).

    Examples
    --------
    One repeat purchase at ``t_x = 2`` of ``T = 6`` with ``r = a = 1``, ``alpha = 2``,
    ``b = 2``: odds ``1/2 * (8/4)^2 = 2``, so ``P = 1/3``.

    >>> p_alive((1, 2, 1, 2), [1, 0], [2, 0], [6, 6])
    array([0.33333333, 1.        ])
    """
    r, alpha, a, b = parameters(params, "bgnbd")
    x, t_x, T = summary_arrays(frequency, recency, T)
    return 1.0 / (1.0 + _alive_odds(r, alpha, a, b, x, t_x, T))


def _log_hyp2f1(a, b, c, z):
    """``ln 2F1(a, b; c; z)`` for ``0 <= z < 1``; Euler's transformation where 2F1 overflows."""
    with np.errstate(all="ignore"):
        direct = np.log(hyp2f1(a, b, c, z))
        euler = np.log(hyp2f1(c - a, c - b, c, z)) + (c - a - b) * np.log1p(-z)
    return np.where(np.isfinite(direct), direct, euler)


#: Within this distance of a = 1 the expectation is interpolated (see _expected_numerator).
A_NEAR_ONE = 1e-4


def _numerator_raw(r, alpha, a, b, t, x, T):
    z = t / (alpha + T + t)
    log_term = _log_hyp2f1(r + x, b + x, a + b + x - 1, z) + (r + x) * (
        np.log(alpha + T) - np.log(alpha + T + t))
    return (a + b + x - 1) / (a - 1) * -np.expm1(log_term)


def _expected_numerator(r, alpha, a, b, t, x, T):
    """``(a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]``.

    At ``a = 1`` both factors are 0/0 (a removable singularity: the expectation
    is smooth in ``a``); within :data:`A_NEAR_ONE` of it the value is interpolated
    between ``a = 1 -+ A_NEAR_ONE``, where the formula still has 12 digits.
    """
    if abs(a - 1) >= A_NEAR_ONE:
        return _numerator_raw(r, alpha, a, b, t, x, T)
    lo = _numerator_raw(r, alpha, 1 - A_NEAR_ONE, b, t, x, T)
    hi = _numerator_raw(r, alpha, 1 + A_NEAR_ONE, b, t, x, T)
    return lo + (a - (1 - A_NEAR_ONE)) / (2 * A_NEAR_ONE) * (hi - lo)


def expected_purchases(params: Params, t, frequency, recency, T) -> np.ndarray:
    """Expected purchases of each customer in the next ``t`` time units.

    Parameters
    ----------
    params : FittedModel, mapping or sequence
        BG/NBD ``r, alpha, a, b``.
    t : array_like
        Horizon in the summary's time unit (>= 0): one for all customers, one per
        customer, or a column of horizons ``(K, 1)`` giving a ``(K, N)`` table.
    frequency, recency, T : array_like
        The customers' summaries.

    Returns
    -------
    ndarray
        ``E[Y(t) | x, t_x, T]`` per customer.

    Notes
    -----
    Fader, Hardie & Lee (2005), equation (10):

    .. math::

        E[Y(t) \\mid x, t_x, T] = \\frac{\\frac{a+b+x-1}{a-1}\\Bigl[1 -
            \\bigl(\\frac{\\alpha+T}{\\alpha+T+t}\\bigr)^{r+x}
            {}_2F_1\\bigl(r+x, b+x; a+b+x-1; \\frac{t}{\\alpha+T+t}\\bigr)\\Bigr]}
          {1 + [x>0]\\,\\frac{a}{b+x-1}\\bigl(\\frac{\\alpha+t_x}{\\alpha+T}\\bigr)^{-(r+x)}}

    The hypergeometric term is evaluated once per distinct ``(x, T, t)``; where
    it overflows, through Euler's transformation
    :math:`{}_2F_1(a, b; c; z) = (1-z)^{c-a-b} {}_2F_1(c-a, c-b; c; z)`. At ``a = 1``
    the formula is 0/0; the expectation there is its limit (interpolated).

    Examples
    --------
    At ``t = 0`` nothing is expected; with ``x = 0``, ``T = 0`` the customer is a
    new one (:func:`expected_purchases_new`).

    >>> expected_purchases((1, 2, 3, 2), [[0], [10]], [2, 0], [1, 0], [4, 0]).round(6)
    array([[0.      , 0.      ],
           [0.224215, 1.352053]])
    """
    r, alpha, a, b = parameters(params, "bgnbd")
    x, t_x, T = summary_arrays(frequency, recency, T)
    t = horizon_value(t)
    grid = t.ndim == 2 and t.shape[1] == 1
    if t.ndim == 1 and t.size > 1:  # one horizon per customer
        (x, t_x, T, t), = [np.broadcast_arrays(x, t_x, T, t)] if x.size in (1, t.size) else \
            [_mismatch(t.size, x.size)]
        keys, inverse = np.unique(np.column_stack([x, T, t]), axis=0, return_inverse=True)
        num = _expected_numerator(r, alpha, a, b, keys[:, 2], keys[:, 0], keys[:, 1])
    else:
        tk = t.reshape(-1, 1) if grid else t.reshape(())
        keys, inverse = np.unique(np.column_stack([x, T]), axis=0, return_inverse=True)
        num = _expected_numerator(r, alpha, a, b, tk, keys[:, 0], keys[:, 1])
    num = np.take(num, inverse.reshape(-1), axis=-1)
    return num / (1.0 + _alive_odds(r, alpha, a, b, x, t_x, T)) + 0.0


def _mismatch(horizons, customers):
    raise CustomerEquityError("t", f"has {horizons} horizons for {customers} customers: give one "
                              "horizon, one per customer, or a column of horizons")


def expected_purchases_new(params: Params, t) -> np.ndarray:
    """Expected purchases of a customer just acquired, in the first ``t`` time units.

    Notes
    -----
    Fader, Hardie & Lee (2005), equation (9):

    .. math::

        E[X(t)] = \\frac{a+b-1}{a-1}\\Bigl[1 - \\bigl(\\frac{\\alpha}{\\alpha+t}\\bigr)^r
            {}_2F_1\\bigl(r, b; a+b-1; \\frac{t}{\\alpha+t}\\bigr)\\Bigr]

    Examples
    --------
    >>> float(expected_purchases_new((1, 2, 3, 2), 0.0))
    0.0
    """
    r, alpha, a, b = parameters(params, "bgnbd")
    t = horizon_value(t)
    out = _expected_numerator(r, alpha, a, b, t, 0.0, 0.0)
    return out.item() if np.ndim(out) == 0 else out
