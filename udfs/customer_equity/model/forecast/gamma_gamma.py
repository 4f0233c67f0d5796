"""The Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV:
using iso-value curves for customer base analysis", *Journal of Marketing Research* 42(4),
415-430; Colombo & Jiang 1999).

Each of a customer's purchase amounts is ``Gamma(p, nu)``; across customers
``nu ~ Gamma(q, gamma)`` (``gamma`` is called ``v`` here, as in lifetimes). A
customer is summarised by ``x`` (repeat purchases) and ``m_x`` (their mean
amount); the model is fitted on customers with ``x > 0`` and ``m_x > 0`` and
assumes spend independent of frequency (:func:`frequency_spend_correlation`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from ...errors import CustomerEquityError
from ._base import FittedModel, Params, parameters, spend_arrays, weights_array
from ._mle import distinct_rows, maximise
from ._mle import dot as _dot

__all__ = [
    "expected_spend",
    "fit_gamma_gamma",
    "frequency_spend_correlation",
    "gamma_gamma_log_likelihood",
]

#: Fewest customers with a positive repeat spend the model is fitted on.
MIN_SPENDERS = 3


def _loglik(p, q, v, x, m):
    px = p * x
    return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v) + (px - 1) * np.log(m)
            + px * np.log(x) - (px + q) * np.log(v + x * m))


def _loglik_grad(phi, x, m, w, distinct=None):
    """Summed weighted log-likelihood and gradient in log-parameters; the special
    functions once per distinct ``x``, one logarithm per row."""
    p, q, v = np.exp(phi)
    ux, xi = distinct if distinct is not None else np.unique(x, return_inverse=True)
    xi = xi.reshape(-1)
    pu = p * ux
    psi_u = digamma(pu + q)
    const_u = gammaln(pu + q) - gammaln(pu) - gammaln(q) + q * np.log(v) + pu * np.log(ux)
    px = p * x
    log_m = np.log(m)
    vxm = v + x * m
    log_vxm = np.log(vxm)
    ll = _dot(w, const_u[xi] + (px - 1) * log_m - (px + q) * log_vxm)
    n_u = np.bincount(xi, weights=w, minlength=ux.size)
    d_p = _dot(n_u, ux * (psi_u - digamma(pu) + np.log(ux))) + _dot(w, x * (log_m - log_vxm))
    d_q = _dot(n_u, psi_u) - w.sum() * digamma(q) + w.sum() * np.log(v) - _dot(w, log_vxm)
    d_v = q / v * w.sum() - _dot(w, (px + q) / vxm)
    grad = np.array([d_p, d_q, d_v]) * np.array([p, q, v])
    return ll, grad


def spenders(x, m):
    """The customers the spend model is fitted on: repeat buyers (``x > 0``) who spent (``m_x > 0``).

    >>> spenders(np.array([0, 2, 3]), np.array([0.0, 10.0, 0.0])).tolist()
    [False, True, False]
    """
    return (x > 0) & (m > 0)


def gamma_gamma_log_likelihood(params: Params, frequency: ArrayLike,
                               monetary_value: ArrayLike) -> np.ndarray:
    """Each repeat buyer's Gamma-Gamma log-likelihood (NaN for ``x = 0`` or ``m_x = 0``).

    Parameters
    ----------
    params : FittedModel, mapping or sequence
        ``p, q, v`` (all > 0; ``v`` in money units).
    frequency : array_like
        Repeat purchases ``x``.
    monetary_value : array_like
        Mean amount of the repeat purchases ``m_x`` (money per purchase).

    Notes
    -----
    Fader, Hardie & Lee (2005, JMR), the likelihood of the mean of ``x`` amounts:

    .. math::

        L(p, q, \\gamma \\mid m_x, x) = \\frac{\\Gamma(px+q)}{\\Gamma(px)\\,\\Gamma(q)}
            \\frac{\\gamma^q\\, m_x^{px-1}\\, x^{px}}{(\\gamma + m_x x)^{px+q}}

    Examples
    --------
    With ``p = q = v = 1`` and one purchase of 1: ``L = Gamma(2)/(Gamma(1)^2) / 2^2 = 0.25``.

    >>> float(np.exp(gamma_gamma_log_likelihood((1, 1, 1), 1, 1.0)[0]))
    0.25
    """
    p, q, v = parameters(params, "gamma_gamma")
    x, m = spend_arrays(frequency, monetary_value)
    ok = spenders(x, m)
    with np.errstate(all="ignore"):
        return np.where(ok, _loglik(p, q, v, np.where(ok, x, 1.0), np.where(ok, m, 1.0)), np.nan)


def fit_gamma_gamma(frequency: ArrayLike, monetary_value: ArrayLike,
                    weights: ArrayLike | None = None) -> FittedModel:
    """Fit the Gamma-Gamma spend model by maximum likelihood on the repeat buyers.

    Parameters
    ----------
    frequency, monetary_value : array_like
        Repeat purchases and their mean amount per customer; customers with
        ``x = 0`` or ``m_x = 0`` are left out of the fit.
    weights : array_like, optional
        How many customers each row stands for.

    Returns
    -------
    FittedModel
        ``p, q, v`` with standard errors and the log-likelihood; ``customers``
        counts the repeat buyers fitted on.

    Notes
    -----
    Maximises :math:`\\sum_n w_n \\ln L_n` over :math:`\\ln(p, q, \\gamma)` with the
    analytic gradient. Fader, Hardie & Lee (2005, JMR), appendix.

    Examples
    --------
    >>> fit = fit_gamma_gamma([1, 2, 3, 1, 5, 0], [20.0, 35.0, 15.0, 60.0, 25.0, 0.0])
    >>> fit.customers
    5
    """
    x, m = spend_arrays(frequency, monetary_value)
    if weights is None:  # one each
        ok = spenders(x, m)
        x, m, w = x[ok], m[ok], None
    else:
        w = weights_array(weights, x.size)
        ok = spenders(x, m) & (w > 0)
        x, m, w = x[ok], m[ok], w[ok]
    counted = x.size if w is None else w.sum()
    if counted < MIN_SPENDERS:
        raise CustomerEquityError("monetary_value", "too few repeat buyers with a positive spend "
                                  f"to fit the Gamma-Gamma model: {counted:g}, at least "
                                  f"{MIN_SPENDERS} needed")
    (x, m), w = distinct_rows(x, m, weights=w)
    mean = _dot(w, m) / w.sum()
    phi0 = np.log([1.0, 2.0, mean])
    distinct = np.unique(x, return_inverse=True)
    return maximise("gamma_gamma", lambda phi: _loglik_grad(phi, x, m, w, distinct), phi0,
                    w.sum())


def expected_spend(params: Params, frequency: ArrayLike, monetary_value: ArrayLike) -> np.ndarray:
    """Expected amount of each customer's future purchases.

    Parameters
    ----------
    params : FittedModel, mapping or sequence
        Gamma-Gamma ``p, q, v``; ``q`` must be > 1.
    frequency, monetary_value : array_like
        Repeat purchases and their mean amount (0 and 0 for a customer without a
        repeat purchase, who gets the population mean ``p v / (q - 1)``).

    Returns
    -------
    ndarray
        ``E[M | x, m_x]`` per customer, money per purchase.

    Notes
    -----
    A weighted mean of the population mean and the customer's own mean:

    .. math::

        E[M \\mid p, q, \\gamma, m_x, x] = \\frac{p(\\gamma + x\\,m_x)}{px + q - 1}

    Fader, Hardie & Lee (2005, JMR), equation (5).

    Examples
    --------
    ``p = 2, q = 3, v = 10``: a new customer ``2*10/2 = 10``; two purchases of mean
    25: ``2*(10+50)/(4+2) = 20``.

    >>> expected_spend((2, 3, 10), [0, 2], [0, 25.0])
    array([10., 20.])
    """
    p, q, v = parameters(params, "gamma_gamma")
    if not q > 1:
        raise CustomerEquityError("gamma_gamma: q", "must be > 1 for the expected spend to be "
                                  "finite", value=q)
    x, m = spend_arrays(frequency, monetary_value)
    return p * (v + x * m) / (p * x + q - 1)


def frequency_spend_correlation(frequency: ArrayLike, monetary_value: ArrayLike) -> float:
    """Pearson correlation of frequency and mean spend among the repeat buyers.

    The Gamma-Gamma model assumes a customer's spend per purchase independent of
    how often the customer buys; a correlation near 0 supports it (Fader, Hardie &
    Lee 2005, JMR, report 0.11 on CDNOW). ``nan`` with fewer than 2 repeat buyers
    or no variation.

    Examples
    --------
    >>> round(frequency_spend_correlation([1, 2, 3, 0], [10.0, 20.0, 30.0, 0.0]), 6)
    1.0
    """
    x, m = spend_arrays(frequency, monetary_value)
    ok = spenders(x, m)
    if ok.sum() < 2 or np.ptp(x[ok]) == 0 or np.ptp(m[ok]) == 0:
        return float("nan")
    return float(np.corrcoef(x[ok], m[ok])[0, 1])
