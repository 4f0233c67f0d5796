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
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma, gammaln, gammasgn, hyp2f1

from ...errors import CustomerEquityError
from ._base import (
    FittedModel,
    Params,
    horizon_layout,
    horizon_value,
    parameters,
    summary_arrays,
    weights_array,
)
from ._mle import distinct_rows, group_rows, maximise
from ._mle import dot as _dot

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


def _loglik_grad(phi, x, t_x, T, w, distinct=None):
    """Summed weighted log-likelihood and its gradient in log-parameters (analytic).

    The special functions depend on the parameters and ``x`` only: they are
    evaluated once per distinct ``x`` (``distinct = np.unique(x, return_inverse=True)``)
    and gathered, leaving two logarithms and an exponential per row.
    """
    r, alpha, a, b = np.exp(phi)
    ux, xi = distinct if distinct is not None else np.unique(x, return_inverse=True)
    xi = xi.reshape(-1)
    rep_u = ux > 0
    ux1 = np.where(rep_u, ux, 1.0)
    beta_ab = betaln(a, b)
    psi_ab = digamma(a + b)
    psi_abx = digamma(a + b + ux)
    a1_u = gammaln(r + ux) - gammaln(r) + r * np.log(alpha)
    b2_u = betaln(a, b + ux) - beta_ab
    b3_u = np.where(rep_u, betaln(a + 1, b + ux1 - 1) - beta_ab, -np.inf)
    dr_u = digamma(r + ux) - digamma(r) + np.log(alpha)
    da2_u = psi_ab - psi_abx
    da3_u = digamma(a + 1) - digamma(a) + psi_ab - psi_abx
    db2_u = digamma(b + ux) - psi_abx - digamma(b) + psi_ab
    db3_u = digamma(b + ux1 - 1) - psi_abx - digamma(b) + psi_ab

    rx = r + x
    log_T = np.log(alpha + T)
    log_tx = np.log(alpha + t_x)
    a2 = b2_u[xi] - rx * log_T
    a3 = b3_u[xi] - rx * log_tx
    lse = np.logaddexp(a2, a3)
    ll = _dot(w, a1_u[xi] + lse)
    w2 = np.exp(a2 - lse)
    w3 = np.exp(a3 - lse)  # 0 where x = 0 (a3 = -inf)
    ww2, ww3 = w * w2, w * w3
    d_r = _dot(w, dr_u[xi]) - _dot(ww2, log_T) - _dot(ww3, log_tx)
    d_alpha = r / alpha * w.sum() - _dot(ww2, rx / (alpha + T)) - _dot(ww3, rx / (alpha + t_x))
    n2 = np.bincount(xi, weights=ww2, minlength=ux.size)
    n3 = np.bincount(xi, weights=ww3, minlength=ux.size)
    d_a = _dot(n2, da2_u) + _dot(n3, np.where(rep_u, da3_u, 0.0))
    d_b = _dot(n2, db2_u) + _dot(n3, np.where(rep_u, db3_u, 0.0))
    grad = np.array([d_r, d_alpha, d_a, d_b]) * np.array([r, alpha, a, b])
    return ll, grad


def bgnbd_log_likelihood(params: Params, frequency: ArrayLike, recency: ArrayLike,
                         T: ArrayLike) -> np.ndarray:
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


def fit_bgnbd(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike,
              weights: ArrayLike | None = None) -> FittedModel:
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
    w = None if weights is None else weights_array(weights, x.size)  # None: one each
    repeat_buyers = float(np.count_nonzero(x) if w is None else w[x > 0].sum())
    if repeat_buyers < MIN_REPEAT_BUYERS:
        raise CustomerEquityError("frequency", f"too few repeat buyers to fit the BG/NBD model: "
                                  f"{repeat_buyers:g} customers with a repeat purchase, at least "
                                  f"{MIN_REPEAT_BUYERS} needed")
    (x, t_x, T), w = distinct_rows(x, t_x, T, weights=w)
    mean_rate = _dot(w, x) / max(_dot(w, T), 1e-12)
    phi0 = np.log([1.0, 1.0 / max(mean_rate, 1e-12), 1.0, 1.0])
    distinct = np.unique(x, return_inverse=True)
    return maximise("bgnbd", lambda phi: _loglik_grad(phi, x, t_x, T, w, distinct), phi0, w.sum())


def _alive_odds(r, alpha, a, b, x, t_x, T):
    """``[x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)``: the odds of having dropped out."""
    repeat = x > 0
    x1 = np.where(repeat, x, 1.0)
    with np.errstate(over="ignore"):
        log_odds = np.log(a) - np.log(b + x1 - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return np.where(repeat, np.exp(log_odds), 0.0)


def p_alive(params: Params, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
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
    a, b, c, z = (np.array(v, dtype=np.float64) for v in np.broadcast_arrays(a, b, c, z))
    with np.errstate(all="ignore"):
        out = np.log(hyp2f1(a, b, c, z))
        over = ~np.isfinite(out)
        if over.any():  # only there: it costs as much again
            a, b, c, z = a[over], b[over], c[over], z[over]
            out[over] = np.log(hyp2f1(c - a, c - b, c, z)) + (c - a - b) * np.log1p(-z)
    return out


#: From this ``z = t/(alpha+T+t)`` on, the hypergeometric term is computed through
#: ``w = 1 - z`` (:func:`_log_term_near_one`): its power series in ``z`` needs about
#: ``36/(1-z)`` terms there, and scipy sums up to 10,000 of them before it transforms,
#: so that a term of a long horizon cost up to 80 times one of a short horizon.
Z_NEAR_ONE = 0.9
#: The transformed value is used where its estimated relative error is below this;
#: elsewhere (parameters where its two terms cancel) scipy's own evaluation is.
NEAR_ONE_TOLERANCE = 1e-13
#: Terms of a power series in ``w <= 1 - Z_NEAR_ONE`` summed at most; a series that needs
#: more (many repeat purchases, where scipy's evaluation is quick) is left to scipy.
SERIES_TERMS = 64
_EPS = np.finfo(np.float64).eps


def _series_coefficients(a, b, c, w_max):
    """Coefficients ``(a)_n (b)_n / ((c)_n n!)`` of ``2F1(a, b; c; w)`` for each parameter
    triple (columns), to the term below rounding at ``w = w_max``; a column is zero past
    its last term. Also whether each settled within :data:`SERIES_TERMS` terms and past any
    pole of ``(c)_n``."""
    coefficients = [np.ones(a.size)]
    total = np.ones(a.size)
    settled = np.zeros(a.size, dtype=bool)
    n = 0
    while not settled.all() and n < SERIES_TERMS:
        ratio = (a + n) * (b + n) / ((c + n) * (n + 1))
        coefficient = np.where(settled, 0.0, coefficients[-1] * ratio)
        coefficients.append(coefficient)
        term = coefficient * w_max ** (n + 1)
        total += term
        n += 1
        settled |= (np.abs(term) <= _EPS / 8 * np.minimum(1.0, np.abs(total))) \
            & (np.abs(ratio * w_max) < 0.5) & (c + n > 0)
    return np.array(coefficients), settled


def _series(coefficients, codes, w):
    """Horner's rule on each element's column of coefficients: the series' value, and its
    condition ``sum |term| / |sum|`` (the relative error is about eps times it)."""
    size = np.abs(coefficients)
    value = np.take(coefficients[-1], codes)
    absolute = np.abs(value)
    for n in range(coefficients.shape[0] - 2, -1, -1):
        value *= w
        value += np.take(coefficients[n], codes)
        absolute *= w
        absolute += np.take(size[n], codes)
    with np.errstate(divide="ignore", invalid="ignore"):
        return value, absolute / np.abs(value)


def _log_term_near_one(r, a, b, x, w):
    """``ln(w^A 2F1(A, B; C; 1 - w))`` with ``A = r+x``, ``B = b+x``, ``C = a+b+x-1`` for
    ``0 < w <= 1 - Z_NEAR_ONE`` (1-D arrays ``x``, ``w``), and the estimated relative error
    of ``1 - w^A 2F1`` (the factor the expectation takes; inf where not computed).

    Abramowitz & Stegun (1964) 15.3.6, with ``d = C - A - B``:

    .. math::

        w^A\\,{}_2F_1(A, B; C; 1-w) = \\frac{\\Gamma(C)\\Gamma(d)}{\\Gamma(C-A)\\Gamma(C-B)}
            w^A\\,{}_2F_1(A, B; 1-d; w)
          + \\frac{\\Gamma(C)\\Gamma(-d)}{\\Gamma(A)\\Gamma(B)} w^{C-B}\\,{}_2F_1(C-A, C-B; 1+d; w)

    Both series in ``w`` settle within a few dozen terms whatever the horizon; their
    coefficients and the prefactors (in logs: ``gammaln``, ``gammasgn``) depend on ``x``
    only and are computed once per distinct ``x``. Where ``d`` is near a whole number the
    two terms nearly cancel: the estimate reports it, and the caller then uses scipy's
    evaluation instead.
    """
    codes, xs = pd.factorize(x)
    xs = np.asarray(xs, dtype=np.float64)
    A, B, C = r + xs, b + xs, a + b + xs - 1
    d = C - A - B
    w_max = float(w.max())
    with np.errstate(all="ignore"):
        c1, settled1 = _series_coefficients(A, B, 1 - d, w_max)
        c2, settled2 = _series_coefficients(C - A, C - B, 1 + d, w_max)
        f1, cond1 = _series(c1, codes, w)
        f2, cond2 = _series(c2, codes, w)
        logs = [gammaln(v) for v in (C, d, C - A, C - B, -d, A, B)]
        g_c, g_d, g_ca, g_cb, g_md, g_a, g_b = logs
        s1 = gammasgn(C) * gammasgn(d) * gammasgn(C - A) * gammasgn(C - B)
        s2 = gammasgn(C) * gammasgn(-d) * gammasgn(A) * gammasgn(B)
        usable = np.take(settled1 & settled2 & np.isfinite(g_d + g_md), codes)
        lw = np.log(w)
        a_lw = np.take(A, codes) * lw
        cb_lw = np.take(C - B, codes) * lw
        l1 = np.take(g_c + g_d - g_ca - g_cb, codes) + a_lw
        l2 = np.take(g_c + g_md - g_a - g_b, codes) + cb_lw
        top = np.maximum(l1, l2)
        e1 = np.take(s1, codes) * f1 * np.exp(l1 - top)
        e2 = np.take(s2, codes) * f2 * np.exp(l2 - top)
        total = e1 + e2
        out = np.log(total) + top
        # rounding: of the logs (eps times their size), of the two series, of their sum,
        # and of 1 - w^A 2F1, which the expectation takes
        size = np.take(sum(np.abs(v) for v in logs), codes) + np.abs(a_lw) + np.abs(cb_lw)
        error = _EPS * ((np.abs(e1) + np.abs(e2)) * (1 + size) + np.abs(e1) * cond1
                        + np.abs(e2) * cond2) / np.abs(total)
        error *= np.abs(np.exp(out) / np.expm1(out))
        error[~(usable & np.isfinite(error) & (total > 0))] = np.inf
    return out, error


#: Within this distance of a = 1 the expectation is interpolated (see _expected_numerator).
A_NEAR_ONE = 1e-4


def _numerator_raw(r, alpha, a, b, t, x, T):
    t, x, T = np.broadcast_arrays(t, x, T)
    shape = t.shape
    t, x, T = (np.array(v, dtype=np.float64).ravel() for v in (t, x, T))
    z = t / (alpha + T + t)
    log_term = np.empty(z.shape)
    scipy_side = ~(z > Z_NEAR_ONE)
    far = ~scipy_side
    if far.any():
        w = (alpha + T[far]) / (alpha + T[far] + t[far])
        near_one, error = _log_term_near_one(r, a, b, x[far], w)
        log_term[far] = near_one
        scipy_side[far] = ~(error <= NEAR_ONE_TOLERANCE)
    s = scipy_side
    if s.any():
        A = r + x[s]
        log_term[s] = _log_hyp2f1(A, b + x[s], a + b + x[s] - 1, z[s]) + A * (
            np.log(alpha + T[s]) - np.log(alpha + T[s] + t[s]))
    return ((a + b + x - 1) / (a - 1) * -np.expm1(log_term)).reshape(shape)


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


def expected_purchases(params: Params, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike,
                       T: ArrayLike) -> np.ndarray:
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
    layout = horizon_layout(t, x.size)
    if layout == "each":
        x, t_x, T, t = np.broadcast_arrays(x, t_x, T, t)
        (ux, uT, ut), inverse = group_rows(x, T, t)
        num = _expected_numerator(r, alpha, a, b, ut, ux, uT)
    else:
        tk = t.reshape(-1, 1) if layout == "grid" else t.reshape(())
        (ux, uT), inverse = group_rows(x, T)
        num = _expected_numerator(r, alpha, a, b, tk, ux, uT)
    num = np.take(num, inverse, axis=-1)
    out = num / (1.0 + _alive_odds(r, alpha, a, b, x, t_x, T)) + 0.0
    bad = ~np.isfinite(out)
    if bad.any():
        row = int(np.flatnonzero(bad.reshape(-1, x.size).any(axis=0))[0]) + 1
        raise CustomerEquityError("bgnbd", f"the expected purchases cannot be evaluated at r = "
                                  f"{r:.3g}, alpha = {alpha:.3g}, a = {a:.3g}, b = {b:.3g} (the "
                                  "hypergeometric term overflows); such an estimate comes from "
                                  f"too few customers to fit the model (first at customer {row})")
    return out


def expected_purchases_new(params: Params, t: ArrayLike) -> np.ndarray | float:
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
