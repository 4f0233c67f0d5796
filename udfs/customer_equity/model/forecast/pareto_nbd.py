"""The Pareto/NBD model of repeat purchasing (Schmittlein, Morrison & Colombo 1987, "Counting
your customers: who are they and what will they do next?", *Management Science* 33(1), 1-24).

While active, a customer buys as a Poisson process with rate ``lambda``; the customer's
lifetime is exponential with rate ``mu``, unobserved. Across customers
``lambda ~ Gamma(r, alpha)`` and ``mu ~ Gamma(s, beta)``, independent. A customer is
summarised as for BG/NBD by ``x`` (repeat purchases), ``t_x`` (time of the last purchase)
and ``T`` (time observed), from the first purchase in the summary's unit; ``alpha``
and ``beta`` are in that unit too.

Unlike BG/NBD, a customer may drop out at any moment, not only just after a purchase;
the price is a Gauss hypergeometric function in the likelihood. The expressions are
Fader & Hardie's (2005), "A note on deriving the Pareto/NBD model and related
expressions", with the likelihood rearranged as a sum of two positive terms (no
difference of nearly equal hypergeometric terms; the form pymc-marketing uses).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

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
from ._special import log_hyp2f1_a1, step_budget
from ._mle import dot as _dot
from .bgnbd import MIN_REPEAT_BUYERS

__all__ = [
    "fit_pareto_nbd",
    "pareto_nbd_expected_purchases",
    "pareto_nbd_expected_purchases_new",
    "pareto_nbd_log_likelihood",
    "pareto_nbd_p_alive",
]

#: Continued-fraction steps a fit may spend (:func:`~._special.step_budget`): the CDNOW fit
#: takes about 1,500, generated logs of 10^4 to 10^6 customers in weeks 2,500 to 4,000, and
#: ten years of days up to 9,000 (rare dropout); an estimate running to infinity in s and
#: beta, 800,000 and more (minutes).
FIT_STEPS = 250_000

#: Relative step of the five-point differences of ln 2F1 (error about 1e-12).
STEP = 1e-3

#: The five-point stencil: offsets in steps and weights (over 12 steps).
_OFFSETS = np.array([-2.0, -1.0, 1.0, 2.0])
_WEIGHTS = np.array([1.0, -8.0, 8.0, -1.0]) / 12.0


def _log_f(a, b, z):
    """``ln 2F1(a, b; a+1; z)`` for ``0 <= z < 1`` (the c = a + 1 the likelihood has)."""
    with np.errstate(all="ignore"):
        return log_hyp2f1_a1(a, b, z)


def _log_f_grad(a, b, z):
    """``ln F`` with ``F = 2F1(a, b; a+1; z)`` and its partial derivatives in ``a``, ``b``, ``z``.

    The derivatives in the parameters have no closed form: five-point central
    differences in all three (steps relative to ``a``, ``1 + |b|`` and ``1 - z``),
    taken on the distinct pairs only and evaluated in one pass.
    """
    steps = [STEP * a, STEP * (1.0 + np.abs(b)), STEP * (1.0 - z)]
    shifted = [[a, b, z]]
    for k, h in enumerate(steps):
        for off in _OFFSETS:
            point = [a, b, z]
            point[k] = point[k] + off * h
            shifted.append(point)
    values = _log_f(*(np.concatenate([np.broadcast_to(p[k], a.shape) for p in shifted])
                      for k in range(3))).reshape(len(shifted), *a.shape)
    f = values[0]
    grads = [np.tensordot(_WEIGHTS, values[1 + 4 * k:5 + 4 * k], axes=1) / h
             for k, h in enumerate(steps)]
    return (f, *grads)


def _terms(r, alpha, s, beta, x, t_x, T):
    """``ln L = K + ln(e^T1 + e^T2)`` (Fader & Hardie 2005 rearranged; see the likelihood)."""
    a = r + s + x
    if alpha >= beta:
        m, d, b1, b2 = alpha, alpha - beta, s + 1.0, s
    else:
        m, d, b1, b2 = beta, beta - alpha, r + x, r + x + 1.0
    k = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) - np.log(a)
    t1 = np.log(s) + _log_f(a, b1, d / (m + t_x)) - a * np.log(m + t_x)
    t2 = np.log(r + x) + _log_f(a, b2, d / (m + T)) - a * np.log(m + T)
    return k, t1, t2


def _half(r, alpha, s, beta, x, tau, first):
    """One of the two terms on distinct ``(x, tau)`` pairs, with its gradient in
    ``(r, alpha, s, beta)``: ``T1`` (``first``, ``tau = t_x``) or ``T2`` (``tau = T``)."""
    a = r + s + x
    upper = alpha >= beta  # which rate is the larger: the form of the hypergeometric term
    m, d = (alpha, alpha - beta) if upper else (beta, beta - alpha)
    if first:
        b, lead, d_lead_r, d_lead_s = (s + 1.0 if upper else r + x), np.log(s), 0.0, 1.0 / s
    else:
        b, lead, d_lead_r, d_lead_s = (s if upper else r + x + 1.0), np.log(r + x), 1.0 / (r + x), 0.0
    mt = m + tau
    z = d / mt
    f, fa, fb, fz = _log_f_grad(a, b, z)
    log_mt = np.log(mt)
    value = lead + f - a * log_mt
    d_r = d_lead_r + fa + (0.0 if upper else fb) - log_mt
    d_s = d_lead_s + fa + (fb if upper else 0.0) - log_mt
    if upper:  # z = (alpha - beta)/(alpha + tau)
        d_alpha = fz * (beta + tau) / mt ** 2 - a / mt
        d_beta = -fz / mt
    else:  # z = (beta - alpha)/(beta + tau)
        d_alpha = -fz / mt
        d_beta = fz * (alpha + tau) / mt ** 2 - a / mt
    return value, np.stack([d_r, d_alpha, d_s, d_beta])


def _loglik_grad(phi, x, w, pairs):
    """Summed weighted log-likelihood and its gradient in log-parameters.

    Both terms depend on one time each (``T1`` on ``t_x``, ``T2`` on ``T``): the
    hypergeometric functions and their derivatives are evaluated once per distinct
    ``(x, t_x)`` and ``(x, T)`` pair and gathered, leaving a ``logaddexp`` per row.
    """
    r, alpha, s, beta = np.exp(phi)
    (ux, xi), ((px1, pt1), i1), ((px2, pt2), i2) = pairs
    t1_u, g1_u = _half(r, alpha, s, beta, px1, pt1, True)
    t2_u, g2_u = _half(r, alpha, s, beta, px2, pt2, False)
    k_u = gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) - np.log(r + s + ux)
    t1, t2 = t1_u[i1], t2_u[i2]
    lse = np.logaddexp(t1, t2)
    ll = _dot(w, k_u[xi] + lse)
    w1 = w * np.exp(t1 - lse)
    w2 = w * np.exp(t2 - lse)
    n_u = np.bincount(xi, weights=w, minlength=ux.size)
    inv_a = 1.0 / (r + s + ux)
    dk = np.array([_dot(n_u, digamma(r + ux) - digamma(r) - inv_a) + w.sum() * np.log(alpha),
                   r / alpha * w.sum(),
                   w.sum() * np.log(beta) - _dot(n_u, inv_a),
                   s / beta * w.sum()])
    grad = dk + g1_u @ np.bincount(i1, weights=w1, minlength=px1.size) \
        + g2_u @ np.bincount(i2, weights=w2, minlength=px2.size)
    return ll, grad * np.array([r, alpha, s, beta])


def pareto_nbd_log_likelihood(params: Params, frequency: ArrayLike, recency: ArrayLike,
                              T: ArrayLike) -> np.ndarray:
    """Each customer's Pareto/NBD log-likelihood.

    Parameters
    ----------
    params : FittedModel, mapping or sequence
        ``r, alpha, s, beta`` (all > 0; ``alpha`` and ``beta`` in the time unit).
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
    Fader & Hardie (2005), equation (18):

    .. math::

        L = \\frac{\\Gamma(r+x)\\,\\alpha^r\\beta^s}{\\Gamma(r)}\\Bigl[
            \\frac{1}{(\\alpha+T)^{r+x}(\\beta+T)^s}
            + s\\int_{t_x}^{T}\\frac{d\\tau}{(\\alpha+\\tau)^{r+x}(\\beta+\\tau)^{s+1}}\\Bigr]

    With :math:`a = r+s+x`, :math:`m = \\max(\\alpha, \\beta)`, :math:`d = |\\alpha-\\beta|`
    and :math:`F(b; \\tau) = {}_2F_1(a, b; a+1; d/(m+\\tau))`, the integral and the first
    term combine (a contiguous relation) into two positive terms:

    .. math::

        L = \\frac{\\Gamma(r+x)\\,\\alpha^r\\beta^s}{\\Gamma(r)\\,a}\\Bigl[
            \\frac{s\\,F(b_1; t_x)}{(m+t_x)^{a}} + \\frac{(r+x)\\,F(b_2; T)}{(m+T)^{a}}\\Bigr]

    with :math:`b_1 = s+1, b_2 = s` when :math:`\\alpha \\ge \\beta` and
    :math:`b_1 = r+x, b_2 = r+x+1` otherwise; evaluated in logs.

    Examples
    --------
    Nothing can be observed in no time: ``T = 0`` has likelihood 1 whatever the parameters.

    >>> float(np.exp(pareto_nbd_log_likelihood((0.5, 10, 0.6, 12), 0, 0, 0)[0]))
    1.0

    With ``alpha = beta`` the hypergeometric terms are 1: ``r = s = 1, alpha = beta = 1``,
    ``x = 0, T = 1``: ``L = (1/2) (1/1 + 1/4) = 0.625``.

    >>> float(np.exp(pareto_nbd_log_likelihood((1, 1, 1, 1), 0, 0, 1)[0]))
    0.625
    """
    r, alpha, s, beta = parameters(params, "pareto_nbd")
    x, t_x, T = summary_arrays(frequency, recency, T)
    k, t1, t2 = _terms(r, alpha, s, beta, x, t_x, T)
    return k + np.logaddexp(t1, t2)


def fit_pareto_nbd(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike,
                   weights: ArrayLike | None = None) -> FittedModel:
    """Fit the Pareto/NBD model by maximum likelihood.

    Parameters
    ----------
    frequency, recency, T : array_like
        The customers' summaries (see :func:`pareto_nbd_log_likelihood`).
    weights : array_like, optional
        How many customers each row stands for (default 1 each).

    Returns
    -------
    FittedModel
        ``r, alpha, s, beta`` with standard errors and the log-likelihood.

    Notes
    -----
    Maximises :math:`\\sum_n w_n \\ln L_n` over :math:`\\ln(r, \\alpha, s, \\beta)` with
    BFGS and the gradient, then polishes with Newton steps; standard errors from the
    observed information. Customers with the same ``(x, t_x, T)`` are fitted once with
    their count as weight, and the hypergeometric terms are evaluated once per
    distinct ``(x, t_x)`` and ``(x, T)``. The gradient is analytic but for the
    derivatives of :math:`\\ln {}_2F_1(a, b; a+1; z)` in ``a``, ``b`` and ``z``, which are
    five-point differences (relative error about 1e-12).

    Raises
    ------
    CustomerEquityError
        Fewer than 2 customers with a repeat purchase, or an estimate that diverges.

    Examples
    --------
    >>> fit = fit_pareto_nbd([0, 1, 6, 0, 4, 1, 0, 0, 9, 2], [0, 1, 9, 0, 3, 8, 0, 0, 9.5, 2],
    ...                      [10, 9, 9, 8, 9, 9, 10, 10, 10, 9])
    >>> sorted(fit.params), fit.customers
    (['alpha', 'beta', 'r', 's'], 10)

    A population that shows no spread in its rates has its estimate at infinity:

    >>> fit_pareto_nbd([0, 1, 2, 0, 4, 1, 3], [0, 3, 5, 0, 8, 1, 2],
    ...                [10, 9, 9, 8, 9, 6, 10])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    customer_equity.errors.CustomerEquityError: pareto_nbd: the maximum likelihood estimate diverged (r = ...): the data cannot identify the model (too few customers or repeat purchases, or no variation)
    """
    x, t_x, T = summary_arrays(frequency, recency, T)
    w = weights_array(weights, x.size)
    repeat_buyers = float(w[x > 0].sum())
    if repeat_buyers < MIN_REPEAT_BUYERS:
        raise CustomerEquityError("frequency", f"too few repeat buyers to fit the Pareto/NBD model: "
                                  f"{repeat_buyers:g} customers with a repeat purchase, at least "
                                  f"{MIN_REPEAT_BUYERS} needed")
    keep = w > 0
    (x, t_x, T), w = distinct_rows(x[keep], t_x[keep], T[keep], weights=w[keep])
    distinct = np.unique(x, return_inverse=True)
    pairs = ((distinct[0], distinct[1].reshape(-1)), group_rows(x, t_x), group_rows(x, T))
    mean_rate = _dot(w, x) / max(_dot(w, T), 1e-12)
    mean_T = _dot(w, T) / w.sum()
    phi0 = np.log([1.0, 1.0 / max(mean_rate, 1e-12), 1.0, max(mean_T, 1e-6)])
    try:
        with step_budget(FIT_STEPS):
            return maximise("pareto_nbd", lambda phi: _loglik_grad(phi, x, w, pairs), phi0, w.sum())
    except CustomerEquityError as err:
        if err.argument != "2F1" or "budget" not in err.rule:
            raise
        raise CustomerEquityError(
            "pareto_nbd", "the estimates run where the likelihood's hypergeometric terms take "
            f"more than {FIT_STEPS:,} steps to evaluate: s and beta grow without bound, as when "
            "every customer's dropout rate is the same; BG/NBD or MBG/NBD fit such customers") from None


def _log_alive(r, alpha, s, beta, x, t_x, T):
    """``ln P(alive)``: the first term of the likelihood over the whole."""
    _, t1, t2 = _terms(r, alpha, s, beta, x, t_x, T)
    log_first = np.log(r + s + x) - (r + x) * np.log(alpha + T) - s * np.log(beta + T)
    return np.minimum(log_first - np.logaddexp(t1, t2), 0.0)


def pareto_nbd_p_alive(params: Params, frequency: ArrayLike, recency: ArrayLike,
                       T: ArrayLike) -> np.ndarray:
    """Probability that each customer is still active at the calibration end.

    Parameters
    ----------
    params : FittedModel, mapping or sequence
        Pareto/NBD ``r, alpha, s, beta``.
    frequency, recency, T : array_like
        The customers' summaries.

    Returns
    -------
    ndarray
        ``P(alive)`` in ``[0, 1]`` per customer.

    Notes
    -----
    Fader & Hardie (2005), equation (36):

    .. math::

        P(\\text{alive} \\mid x, t_x, T) = \\frac{\\Gamma(r+x)\\,\\alpha^r\\beta^s}
            {\\Gamma(r)\\,(\\alpha+T)^{r+x}(\\beta+T)^s} \\Big/ L(r, \\alpha, s, \\beta \\mid x, t_x, T)

    Unlike BG/NBD's, it is below 1 for a customer with no repeat purchase.

    Examples
    --------
    A customer observed for no time is alive; of two customers with two repeat
    purchases in 30 weeks, the one whose last purchase was recent is likelier alive.

    >>> pareto_nbd_p_alive((0.55, 10.6, 0.61, 11.7), [0, 0, 2, 2], [0, 0, 25, 5],
    ...                    [0, 30, 30, 30]).round(4)
    array([1.    , 0.3562, 0.912 , 0.2214])
    """
    r, alpha, s, beta = parameters(params, "pareto_nbd")
    x, t_x, T = summary_arrays(frequency, recency, T)
    return np.exp(_log_alive(r, alpha, s, beta, x, t_x, T))


def _rate_integral(s, beta, T, t):
    """``(beta+T)/(s-1) [1 - ((beta+T)/(beta+T+t))^(s-1)]``: the expected time alive within
    the next ``t`` of a customer alive at ``T`` (``mu ~ Gamma(s, beta+T)``), exact at s = 1."""
    log_ratio = np.log(beta + T) - np.log(beta + T + t)
    if s == 1.0:
        return (beta + T) * -log_ratio
    return (beta + T) * -np.expm1((s - 1.0) * log_ratio) / (s - 1.0)


def pareto_nbd_expected_purchases(params: Params, t: ArrayLike, frequency: ArrayLike,
                                  recency: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Expected purchases of each customer in the next ``t`` time units.

    Parameters
    ----------
    params : FittedModel, mapping or sequence
        Pareto/NBD ``r, alpha, s, beta``.
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
    Fader & Hardie (2005), equation (41):

    .. math::

        E[Y(t) \\mid x, t_x, T] = P(\\text{alive} \\mid x, t_x, T)\\,
            \\frac{(r+x)(\\beta+T)}{(\\alpha+T)(s-1)}
            \\Bigl[1 - \\Bigl(\\frac{\\beta+T}{\\beta+T+t}\\Bigr)^{s-1}\\Bigr]

    At ``s = 1`` the bracket over ``s - 1`` is its limit
    :math:`\\ln((\\beta+T+t)/(\\beta+T))` (``expm1`` keeps it exact nearby).

    Examples
    --------
    >>> pareto_nbd_expected_purchases((0.55, 10.6, 0.61, 11.7), [[0], [39]], [0, 2], [0, 25],
    ...                               [30, 30]).round(6)
    array([[0.      , 0.      ],
           [0.151533, 1.798754]])
    """
    r, alpha, s, beta = parameters(params, "pareto_nbd")
    x, t_x, T = summary_arrays(frequency, recency, T)
    t = horizon_value(t)
    layout = horizon_layout(t, x.size)
    tk = t.reshape(-1, 1) if layout == "grid" else t
    alive = np.exp(_log_alive(r, alpha, s, beta, x, t_x, T))
    return alive * (r + x) / (alpha + T) * _rate_integral(s, beta, T, tk) + 0.0


def pareto_nbd_expected_purchases_new(params: Params, t: ArrayLike) -> np.ndarray | float:
    """Expected purchases of a customer just acquired, in the first ``t`` time units.

    Notes
    -----
    Fader & Hardie (2005), equation (27):

    .. math::

        E[X(t)] = \\frac{r\\beta}{\\alpha(s-1)}\\Bigl[1 - \\Bigl(\\frac{\\beta}{\\beta+t}\\Bigr)^{s-1}\\Bigr]

    Examples
    --------
    ``r = 2, alpha = 4, s = 2, beta = 1``: ``E[X(1)] = (2/4)(1 - 1/2) = 0.25``.

    >>> pareto_nbd_expected_purchases_new((2, 4, 2, 1), 1.0)
    0.25
    """
    r, alpha, s, beta = parameters(params, "pareto_nbd")
    t = horizon_value(t)
    out = r / alpha * _rate_integral(s, beta, 0.0, t)
    return out.item() if np.ndim(out) == 0 else out
