"""The MBG/NBD model of repeat purchasing (Batislam, Denizel & Filiztekin 2007, "Empirical
validation and comparison of models for customer base analysis", *International Journal of
Research in Marketing* 24(3), 201-209; Wagner & Hoppe 2008, "Erratum on the MBG/NBD model").

BG/NBD with one change: a customer may also drop out right after the first purchase,
with the same probability ``p`` as after each repeat purchase. A customer with no
repeat purchase is then not certainly alive (BG/NBD gives them P(alive) = 1), which
suits businesses where many customers buy once and never return. While active a
customer buys as a Poisson process with rate ``lambda``; ``lambda ~ Gamma(r, alpha)``,
``p ~ Beta(a, b)``. The summary ``x, t_x, T`` and the time unit are BG/NBD's.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma, gammaln

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
from .bgnbd import MIN_REPEAT_BUYERS, _expected_numerator

__all__ = [
    "fit_mbgnbd",
    "mbgnbd_expected_purchases",
    "mbgnbd_expected_purchases_new",
    "mbgnbd_log_likelihood",
    "mbgnbd_p_alive",
]


def _loglik_grad(phi, x, t_x, T, w, distinct):
    """Summed weighted log-likelihood and its gradient in log-parameters (analytic); the
    special functions once per distinct ``x``."""
    r, alpha, a, b = np.exp(phi)
    ux, xi = distinct
    psi_abx1 = digamma(a + b + ux + 1)
    c_u = gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + betaln(a, b + ux + 1) - betaln(a, b)
    dr_u = digamma(r + ux) - digamma(r) + np.log(alpha)
    da_u = digamma(a + b) - psi_abx1
    db_u = digamma(b + ux + 1) - psi_abx1 - digamma(b) + digamma(a + b)
    log_odds_u = np.log(a) - np.log(b + ux)
    rx = r + x
    log_T = np.log(alpha + T)
    log_tx = np.log(alpha + t_x)
    a2 = -rx * log_T
    a3 = log_odds_u[xi] - rx * log_tx
    lse = np.logaddexp(a2, a3)
    ll = _dot(w, c_u[xi] + lse)
    ww2 = w * np.exp(a2 - lse)
    ww3 = w * np.exp(a3 - lse)
    n_u = np.bincount(xi, weights=w, minlength=ux.size)
    n3 = np.bincount(xi, weights=ww3, minlength=ux.size)
    d_r = _dot(n_u, dr_u) - _dot(ww2, log_T) - _dot(ww3, log_tx)
    d_alpha = r / alpha * w.sum() - _dot(ww2, rx / (alpha + T)) - _dot(ww3, rx / (alpha + t_x))
    d_a = _dot(n_u, da_u) + n3.sum() / a
    d_b = _dot(n_u, db_u) - _dot(n3, 1.0 / (b + ux))
    return ll, np.array([d_r, d_alpha, d_a, d_b]) * np.array([r, alpha, a, b])


def mbgnbd_log_likelihood(params: Params, frequency: ArrayLike, recency: ArrayLike,
                          T: ArrayLike) -> np.ndarray:
    """Each customer's MBG/NBD log-likelihood.

    Parameters
    ----------
    params : FittedModel, mapping or sequence
        ``r, alpha, a, b`` (all > 0; ``alpha`` in the time unit of ``recency`` and ``T``).
    frequency, recency, T : array_like
        The customers' summaries (as for BG/NBD).

    Returns
    -------
    ndarray
        ``ln L`` per customer.

    Notes
    -----
    Batislam, Denizel & Filiztekin (2007), appendix:

    .. math::

        L = \\frac{\\Gamma(r+x)\\,\\alpha^r}{\\Gamma(r)}\\frac{B(a, b+x+1)}{B(a, b)}
            \\Bigl[\\frac{1}{(\\alpha+T)^{r+x}} + \\frac{a}{b+x}\\frac{1}{(\\alpha+t_x)^{r+x}}\\Bigr]

    (the second term for every customer, ``x = 0`` included); evaluated in logs.

    Examples
    --------
    ``r = a = b = 1, alpha = 2``, no repeat purchase in ``T = 2``:
    ``L = B(1, 2)/B(1, 1) (1/2 + 1) = 0.75``.

    >>> float(np.exp(mbgnbd_log_likelihood((1, 2, 1, 1), 0, 0, 2)[0]))
    0.75
    """
    r, alpha, a, b = parameters(params, "mbgnbd")
    x, t_x, T = summary_arrays(frequency, recency, T)
    c = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x + 1) - betaln(a, b)
    return c + np.logaddexp(-(r + x) * np.log(alpha + T),
                            np.log(a) - np.log(b + x) - (r + x) * np.log(alpha + t_x))


def fit_mbgnbd(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike,
               weights: ArrayLike | None = None) -> FittedModel:
    """Fit the MBG/NBD model by maximum likelihood.

    Parameters
    ----------
    frequency, recency, T : array_like
        The customers' summaries (see :func:`mbgnbd_log_likelihood`).
    weights : array_like, optional
        How many customers each row stands for (default 1 each).

    Returns
    -------
    FittedModel
        ``r, alpha, a, b`` with standard errors and the log-likelihood.

    Notes
    -----
    As :func:`~customer_equity.model.forecast.fit_bgnbd`: BFGS on the log-parameters
    with the analytic gradient, Newton polish, distinct ``(x, t_x, T)`` weighted by
    their counts, standard errors from the observed information.

    Raises
    ------
    CustomerEquityError
        Fewer than 2 customers with a repeat purchase, or an estimate that diverges.

    Examples
    --------
    >>> fit = fit_mbgnbd([0, 1, 2, 0, 4, 1], [0, 3, 5, 0, 8, 1], [10, 9, 9, 8, 9, 6])
    >>> sorted(fit.params), fit.customers
    (['a', 'alpha', 'b', 'r'], 6)
    """
    x, t_x, T = summary_arrays(frequency, recency, T)
    w = weights_array(weights, x.size)
    repeat_buyers = float(w[x > 0].sum())
    if repeat_buyers < MIN_REPEAT_BUYERS:
        raise CustomerEquityError("frequency", f"too few repeat buyers to fit the MBG/NBD model: "
                                  f"{repeat_buyers:g} customers with a repeat purchase, at least "
                                  f"{MIN_REPEAT_BUYERS} needed")
    (x, t_x, T), w = distinct_rows(x, t_x, T, weights=w)
    mean_rate = _dot(w, x) / max(_dot(w, T), 1e-12)
    phi0 = np.log([1.0, 1.0 / max(mean_rate, 1e-12), 1.0, 1.0])
    ux, xi = np.unique(x, return_inverse=True)
    distinct = (ux, xi.reshape(-1))
    return maximise("mbgnbd", lambda phi: _loglik_grad(phi, x, t_x, T, w, distinct), phi0, w.sum())


def _dropout_odds(r, alpha, a, b, x, t_x, T):
    """``a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)``: the odds of having dropped out."""
    with np.errstate(over="ignore"):
        return np.exp(np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))


def mbgnbd_p_alive(params: Params, frequency: ArrayLike, recency: ArrayLike,
                   T: ArrayLike) -> np.ndarray:
    """Probability that each customer is still active at the calibration end.

    Parameters
    ----------
    params : FittedModel, mapping or sequence
        MBG/NBD ``r, alpha, a, b``.
    frequency, recency, T : array_like
        The customers' summaries.

    Returns
    -------
    ndarray
        ``P(alive)`` in ``[0, 1]`` per customer.

    Notes
    -----
    Batislam, Denizel & Filiztekin (2007), appendix equation (5):

    .. math::

        P(\\text{alive} \\mid x, t_x, T) = \\Bigl(1 + \\frac{a}{b+x}
            \\Bigl(\\frac{\\alpha+T}{\\alpha+t_x}\\Bigr)^{r+x}\\Bigr)^{-1}

    Examples
    --------
    No repeat purchase in ``T = 2`` with ``r = a = b = 1``, ``alpha = 2``: odds
    ``1 * (4/2)^1 = 2``, ``P = 1/3`` (BG/NBD would say 1).

    >>> mbgnbd_p_alive((1, 2, 1, 1), [0, 1], [0, 2], [2, 2]).round(6)
    array([0.333333, 0.666667])
    """
    r, alpha, a, b = parameters(params, "mbgnbd")
    x, t_x, T = summary_arrays(frequency, recency, T)
    return 1.0 / (1.0 + _dropout_odds(r, alpha, a, b, x, t_x, T))


def mbgnbd_expected_purchases(params: Params, t: ArrayLike, frequency: ArrayLike,
                              recency: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Expected purchases of each customer in the next ``t`` time units.

    Parameters
    ----------
    params : FittedModel, mapping or sequence
        MBG/NBD ``r, alpha, a, b``.
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
    Batislam, Denizel & Filiztekin (2007), with Wagner & Hoppe's (2008) correction:

    .. math::

        E[Y(t) \\mid x, t_x, T] = \\frac{\\frac{a+b+x}{a-1}\\Bigl[1 -
            \\bigl(\\frac{\\alpha+T}{\\alpha+T+t}\\bigr)^{r+x}
            {}_2F_1\\bigl(r+x, b+x+1; a+b+x; \\frac{t}{\\alpha+T+t}\\bigr)\\Bigr]}
          {1 + \\frac{a}{b+x}\\bigl(\\frac{\\alpha+T}{\\alpha+t_x}\\bigr)^{r+x}}

    which is BG/NBD's numerator with ``b + 1`` for ``b`` (evaluated the same way,
    the limit at ``a = 1`` included).

    Examples
    --------
    >>> mbgnbd_expected_purchases((1, 2, 3, 2), [[0], [10]], [2, 0], [1, 0], [4, 0]).round(6)
    array([[0.      , 0.      ],
           [0.313902, 0.622464]])
    """
    r, alpha, a, b = parameters(params, "mbgnbd")
    x, t_x, T = summary_arrays(frequency, recency, T)
    t = horizon_value(t)
    layout = horizon_layout(t, x.size)
    if layout == "each":
        x, t_x, T, t = np.broadcast_arrays(x, t_x, T, t)
        (ux, uT, ut), inverse = group_rows(x, T, t)
        num = _expected_numerator(r, alpha, a, b + 1.0, ut, ux, uT)
    else:
        tk = t.reshape(-1, 1) if layout == "grid" else t.reshape(())
        (ux, uT), inverse = group_rows(x, T)
        num = _expected_numerator(r, alpha, a, b + 1.0, tk, ux, uT)
    out = np.take(num, inverse, axis=-1) / (1.0 + _dropout_odds(r, alpha, a, b, x, t_x, T)) + 0.0
    bad = ~np.isfinite(out)
    if bad.any():
        row = int(np.flatnonzero(bad.reshape(-1, x.size).any(axis=0))[0]) + 1
        raise CustomerEquityError("mbgnbd", f"the expected purchases cannot be evaluated at r = "
                                  f"{r:.3g}, alpha = {alpha:.3g}, a = {a:.3g}, b = {b:.3g} (the "
                                  "hypergeometric term overflows); such an estimate comes from "
                                  f"too few customers to fit the model (first at customer {row})")
    return out


def mbgnbd_expected_purchases_new(params: Params, t: ArrayLike) -> np.ndarray | float:
    """Expected purchases of a customer just acquired, in the first ``t`` time units.

    Notes
    -----
    Batislam, Denizel & Filiztekin (2007):

    .. math::

        E[X(t)] = \\frac{b}{a-1}\\Bigl[1 - \\bigl(\\frac{\\alpha}{\\alpha+t}\\bigr)^r
            {}_2F_1\\bigl(r, b+1; a+b; \\frac{t}{\\alpha+t}\\bigr)\\Bigr]

    Examples
    --------
    >>> float(mbgnbd_expected_purchases_new((1, 2, 3, 2), 0.0))
    0.0
    """
    r, alpha, a, b = parameters(params, "mbgnbd")
    t = horizon_value(t)
    out = b / (a + b) * _expected_numerator(r, alpha, a, b + 1.0, t, 0.0, 0.0)
    return out.item() if np.ndim(out) == 0 else out
