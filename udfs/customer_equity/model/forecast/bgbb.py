"""The BG/BB model of discrete-opportunity repeat purchasing (Fader, Hardie & Shang 2010,
"Customer-base analysis in a discrete-time noncontractual setting", *Marketing Science*
29(6), 1086-1108).

Where a customer can buy only at discrete occasions (an annual donation drive, a yearly
event, a weekly market day), each of ``n`` opportunities is taken or not. While active,
a customer takes each opportunity with probability ``p``; before each opportunity an
active customer drops out for good with probability ``theta``. Across customers
``p ~ Beta(alpha, beta)`` and ``theta ~ Beta(gamma, delta)``. A customer is summarised
by ``x`` (opportunities taken, after the first purchase that made them a customer),
``t_x`` (the opportunity of the last purchase, 0 when ``x = 0``) and ``n`` (the
opportunities observed): lifetimes' ``frequency, recency, n_periods``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma, gammaln

from ...errors import CustomerEquityError
from .. import validate as v
from ._base import FittedModel, Params, horizon_layout, opportunity_arrays, parameters, weights_array
from ._mle import distinct_rows, group_rows, maximise

__all__ = [
    "bgbb_expected_purchases",
    "bgbb_log_likelihood",
    "bgbb_p_alive",
    "bgbb_pmf",
    "fit_bgbb",
]

#: Fewest customers with a purchase the model is fitted on.
MIN_BUYERS = 2

#: Cells of the rows x opportunities table evaluated at once (bounds temporary memory).
CHUNK_CELLS = 2_000_000

#: Within this distance of gamma = 1 the expectation is interpolated (a removable 0/0).
GAMMA_NEAR_ONE = 1e-4


def _loglik_rows(alpha, beta, gamma, delta, x, t_x, n, grad=False):
    """``ln L`` on (distinct) rows, and with ``grad`` its gradient in the parameters, (4, rows).

    ``ln L = logsumexp(A, B_0, ..., B_{n-t_x-1})``: the opportunities ``t_x + i`` after
    the last purchase at which the customer may have dropped out form the columns of a
    table, evaluated a chunk of rows at a time.
    """
    ln = np.empty(x.size)
    g = np.empty((4, x.size)) if grad else None
    beta_ab, beta_gd = betaln(alpha, beta), betaln(gamma, delta)
    psi_ab, psi_gd = digamma(alpha + beta), digamma(gamma + delta)
    psi_a, psi_b, psi_g, psi_d = digamma(alpha), digamma(beta), digamma(gamma), digamma(delta)
    gap = (n - t_x).astype(np.int64)
    width = max(int(gap.max()) if gap.size else 0, 1)
    step = max(CHUNK_CELLS // width, 1)
    i = np.arange(width, dtype=np.float64)[None, :]
    for lo in range(0, x.size, step):
        sl = slice(lo, lo + step)
        xs, ts, ns = x[sl, None], t_x[sl, None], n[sl, None]
        k = ts + i  # the opportunity the customer dropped out after
        valid = i < ns - ts
        a_term = (betaln(alpha + xs, beta + ns - xs) - beta_ab + betaln(gamma, delta + ns) - beta_gd)
        with np.errstate(all="ignore"):
            b_terms = np.where(valid, betaln(alpha + xs, beta + k - xs) - beta_ab
                               + betaln(gamma + 1, delta + k) - beta_gd, -np.inf)
        top = np.maximum(a_term, b_terms.max(axis=1, keepdims=True))
        wa = np.exp(a_term - top)
        wb = np.exp(b_terms - top)
        total = wa + wb.sum(axis=1, keepdims=True)
        ln[sl] = (top + np.log(total))[:, 0]
        if grad:
            wa, wb = wa / total, wb / total  # each term's share of L
            psi_ax = digamma(alpha + xs)
            kk = np.where(valid, k, ts)  # a harmless opportunity where the cell is empty
            g[0, sl] = psi_ax[:, 0] - psi_a + psi_ab - (
                wa * digamma(alpha + beta + ns) + (wb * digamma(alpha + beta + kk)).sum(1, keepdims=True))[:, 0]
            g[1, sl] = psi_ab - psi_b + (
                wa * (digamma(beta + ns - xs) - digamma(alpha + beta + ns))
                + (wb * (digamma(beta + kk - xs) - digamma(alpha + beta + kk))).sum(1, keepdims=True))[:, 0]
            g[2, sl] = psi_gd + (
                wa * (psi_g - digamma(gamma + delta + ns))
                + (wb * (digamma(gamma + 1) - digamma(gamma + delta + kk + 1))).sum(1, keepdims=True))[:, 0] \
                - psi_g
            g[3, sl] = psi_gd - psi_d + (
                wa * (digamma(delta + ns) - digamma(gamma + delta + ns))
                + (wb * (digamma(delta + kk) - digamma(gamma + delta + kk + 1))).sum(1, keepdims=True))[:, 0]
    return ln, g


def _loglik_grad(phi, x, t_x, n, w):
    theta = np.exp(phi)
    ln, g = _loglik_rows(*theta, x, t_x, n, grad=True)
    return float(w @ ln), (g @ w) * theta


def bgbb_log_likelihood(params: Params, frequency: ArrayLike, recency: ArrayLike,
                        n_periods: ArrayLike) -> np.ndarray:
    """Each customer's BG/BB log-likelihood.

    Parameters
    ----------
    params : FittedModel, mapping or sequence
        ``alpha, beta, gamma, delta`` (all > 0, pure numbers).
    frequency : array_like
        ``x``, opportunities taken (whole numbers, ``0 <= x <= n``).
    recency : array_like
        ``t_x``, the opportunity of the last purchase (``x <= t_x <= n``; 0 when ``x = 0``).
    n_periods : array_like
        ``n``, opportunities observed (whole numbers >= 0).

    Returns
    -------
    ndarray
        ``ln L`` per customer.

    Notes
    -----
    Fader, Hardie & Shang (2010), equation (5):

    .. math::

        L = \\frac{B(\\alpha+x, \\beta+n-x)}{B(\\alpha, \\beta)}
            \\frac{B(\\gamma, \\delta+n)}{B(\\gamma, \\delta)}
          + \\sum_{i=0}^{n-t_x-1} \\frac{B(\\alpha+x, \\beta+t_x-x+i)}{B(\\alpha, \\beta)}
            \\frac{B(\\gamma+1, \\delta+t_x+i)}{B(\\gamma, \\delta)}

    evaluated in logs (``betaln``, log-sum-exp).

    Examples
    --------
    With ``alpha = beta = gamma = delta = 1``, one opportunity not taken:
    ``L = B(1, 2) B(1, 2) + B(1, 1) B(2, 1) = 1/4 + 1/2``.

    >>> float(np.exp(bgbb_log_likelihood((1, 1, 1, 1), 0, 0, 1)[0]))
    0.75
    """
    alpha, beta, gamma, delta = parameters(params, "bgbb")
    x, t_x, n = opportunity_arrays(frequency, recency, n_periods)
    (ux, ut, un), inverse = group_rows(x, t_x, n)
    ln, _ = _loglik_rows(alpha, beta, gamma, delta, ux, ut, un)
    return ln[inverse]


def fit_bgbb(frequency: ArrayLike, recency: ArrayLike, n_periods: ArrayLike,
             weights: ArrayLike | None = None) -> FittedModel:
    """Fit the BG/BB model by maximum likelihood.

    Parameters
    ----------
    frequency, recency, n_periods : array_like
        The customers' summaries (see :func:`bgbb_log_likelihood`), or the distinct
        summaries with ``weights``, as the recency/frequency table of a cohort is
        usually given.
    weights : array_like, optional
        How many customers each row stands for (default 1 each).

    Returns
    -------
    FittedModel
        ``alpha, beta, gamma, delta`` with standard errors and the log-likelihood.

    Notes
    -----
    Maximises :math:`\\sum_n w_n \\ln L_n` over the log-parameters with BFGS and the
    analytic gradient (``d ln B(p, q)/dp = psi(p) - psi(p+q)``), then polishes with
    Newton steps, on the distinct ``(x, t_x, n)`` weighted by their counts; standard
    errors from the observed information. Fader, Hardie & Shang (2010), section 3.

    Raises
    ------
    CustomerEquityError
        Fewer than 2 customers with a purchase, or an estimate that diverges.

    Examples
    --------
    >>> fit = fit_bgbb([0, 1, 2, 3, 1, 2], [0, 1, 3, 5, 4, 2], 6, weights=[40, 10, 8, 9, 5, 6])
    >>> sorted(fit.params), fit.customers
    (['alpha', 'beta', 'delta', 'gamma'], 78)
    """
    x, t_x, n = opportunity_arrays(frequency, recency, n_periods)
    w = weights_array(weights, x.size)
    buyers = float(w[x > 0].sum())
    if buyers < MIN_BUYERS:
        raise CustomerEquityError("frequency", "too few buyers to fit the BG/BB model: "
                                  f"{buyers:g} customers with a purchase, at least {MIN_BUYERS} needed")
    keep = w > 0
    (x, t_x, n), w = distinct_rows(x[keep], t_x[keep], n[keep], weights=w[keep])
    return maximise("bgbb", lambda phi: _loglik_grad(phi, x, t_x, n, w), np.zeros(4), w.sum())


def _opportunities(m, name="m_periods"):
    """A number of future opportunities: a whole number >= 0 (an array broadcasts)."""
    arr = v.check_finite(v.as_float(m, name, blank_ok=False), name)
    v.check_range(arr, name, low=0, rule="must be a whole number of opportunities >= 0")
    if (arr != np.floor(arr)).any():
        v._fail(name, "must be a whole number of opportunities >= 0", arr, arr != np.floor(arr))
    return arr


def _log_alive_share(alpha, beta, gamma, delta, x, t_x, n):
    """``ln [B(alpha+x, beta+n-x)/B(alpha, beta) / L]``: the evidence of the purchases,
    were the customer alive throughout, over the likelihood."""
    (ux, ut, un), inverse = group_rows(x, t_x, n)
    ln, _ = _loglik_rows(alpha, beta, gamma, delta, ux, ut, un)
    return betaln(alpha + x, beta + n - x) - betaln(alpha, beta) - ln[inverse]


def bgbb_p_alive(params: Params, frequency: ArrayLike, recency: ArrayLike, n_periods: ArrayLike,
                 m_periods: ArrayLike = 1) -> np.ndarray:
    """Probability that each customer is still active at opportunity ``n + m_periods``.

    Parameters
    ----------
    params : FittedModel, mapping or sequence
        BG/BB ``alpha, beta, gamma, delta``.
    frequency, recency, n_periods : array_like
        The customers' summaries.
    m_periods : array_like, optional
        Opportunities ahead (whole, >= 0). The default 1 is Fader, Hardie & Shang's
        P(alive in period n+1); 0 gives P(alive) after the last observed opportunity.

    Returns
    -------
    ndarray
        ``P(alive at n + m)`` per customer.

    Notes
    -----
    Fader, Hardie & Shang (2010), equation (11), at ``n + m``:

    .. math::

        P(\\text{alive at } n+m \\mid x, t_x, n) = \\frac{B(\\alpha+x, \\beta+n-x)}{B(\\alpha, \\beta)}
            \\frac{B(\\gamma, \\delta+n+m)}{B(\\gamma, \\delta)} \\Big/ L(\\alpha, \\beta, \\gamma,
            \\delta \\mid x, t_x, n)

    Examples
    --------
    With all four parameters 1 and one opportunity not taken (``L = 3/4``):
    ``P(alive at 1) = B(1, 2) B(1, 2) / L = 1/3``; at 2, ``B(1, 3)`` for ``B(1, 2)``: 2/9.

    >>> bgbb_p_alive((1, 1, 1, 1), [0, 0], [0, 0], [1, 1], [0, 1]).round(6)
    array([0.333333, 0.222222])
    """
    alpha, beta, gamma, delta = parameters(params, "bgbb")
    x, t_x, n = opportunity_arrays(frequency, recency, n_periods)
    m = _opportunities(m_periods)
    if m.size not in (1, x.size):
        raise CustomerEquityError("m_periods", f"needs one number for all customers or one per "
                                  f"customer ({x.size}), got {m.size}")
    m = m.reshape(-1) if m.size > 1 else m.reshape(())  # a row or a column: one per customer
    share = _log_alive_share(alpha, beta, gamma, delta, x, t_x, n)
    return np.exp(share + betaln(gamma, delta + n + m) - betaln(gamma, delta))


def _alive_sum_raw(gamma, delta, n, m):
    log_front = np.log(delta) - np.log(abs(gamma - 1.0)) + gammaln(gamma + delta) - gammaln(1 + delta)
    u_now = gammaln(1 + delta + n) - gammaln(gamma + delta + n)
    u_then = gammaln(1 + delta + n + m) - gammaln(gamma + delta + n + m)
    return np.sign(gamma - 1.0) * np.exp(log_front + u_now) * -np.expm1(u_then - u_now)


def _alive_sum(gamma, delta, n, m):
    """``sum_{k=1..m} B(gamma, delta+n+k)/B(gamma, delta)``, the expected opportunities alive
    of the next ``m``, in the closed form of the telescoping sum (FHS 2010, eq. 13):
    ``delta/(gamma-1) Gamma(gamma+delta)/Gamma(1+delta) [Gamma(1+delta+n)/Gamma(gamma+delta+n)
    - Gamma(1+delta+n+m)/Gamma(gamma+delta+n+m)]``; 0/0 at ``gamma = 1``, interpolated
    within :data:`GAMMA_NEAR_ONE` of it."""
    if abs(gamma - 1.0) >= GAMMA_NEAR_ONE:
        return _alive_sum_raw(gamma, delta, n, m)
    lo = _alive_sum_raw(1.0 - GAMMA_NEAR_ONE, delta, n, m)
    hi = _alive_sum_raw(1.0 + GAMMA_NEAR_ONE, delta, n, m)
    return lo + (gamma - (1.0 - GAMMA_NEAR_ONE)) / (2 * GAMMA_NEAR_ONE) * (hi - lo)


def bgbb_expected_purchases(params: Params, m_periods: ArrayLike, frequency: ArrayLike,
                            recency: ArrayLike, n_periods: ArrayLike) -> np.ndarray:
    """Expected purchases of each customer over the next ``m_periods`` opportunities.

    Parameters
    ----------
    params : FittedModel, mapping or sequence
        BG/BB ``alpha, beta, gamma, delta``.
    m_periods : array_like
        Opportunities ahead (whole numbers >= 0): one for all customers, one per
        customer, or a column ``(K, 1)`` giving a ``(K, N)`` table.
    frequency, recency, n_periods : array_like
        The customers' summaries.

    Returns
    -------
    ndarray
        ``E[X(n, n+m) | x, t_x, n]`` per customer.

    Notes
    -----
    Fader, Hardie & Shang (2010), equation (13):

    .. math::

        E[X(n, n+m)] = \\frac{1}{L}\\frac{B(\\alpha+x+1, \\beta+n-x)}{B(\\alpha, \\beta)}
            \\frac{\\delta}{\\gamma-1}\\frac{\\Gamma(\\gamma+\\delta)}{\\Gamma(1+\\delta)}
            \\Bigl[\\frac{\\Gamma(1+\\delta+n)}{\\Gamma(\\gamma+\\delta+n)}
                 - \\frac{\\Gamma(1+\\delta+n+m)}{\\Gamma(\\gamma+\\delta+n+m)}\\Bigr]

    The last three factors are :math:`\\sum_{k=1}^{m} B(\\gamma, \\delta+n+k)/B(\\gamma, \\delta)`
    in closed form; at ``gamma = 1`` (0/0) the value is the limit, interpolated.

    Examples
    --------
    All four parameters 1, one opportunity not taken, the next one: ``E = (1/L) B(2, 2)
    B(1, 3)/B(1, 1) = (4/3)(1/6)(1/3) = 2/27`` (interpolated at gamma = 1: 8 digits).

    >>> round(float(bgbb_expected_purchases((1, 1, 1, 1), 1, 0, 0, 1)[0]), 8)
    0.07407407
    """
    alpha, beta, gamma, delta = parameters(params, "bgbb")
    x, t_x, n = opportunity_arrays(frequency, recency, n_periods)
    m = _opportunities(m_periods)
    layout = horizon_layout(m, x.size, "m_periods")
    mk = m.reshape(-1, 1) if layout == "grid" else m
    share = _log_alive_share(alpha, beta, gamma, delta, x, t_x, n)
    per_opportunity = np.exp(share + betaln(alpha + x + 1, beta + n - x) - betaln(alpha + x, beta + n - x))
    return per_opportunity * _alive_sum(gamma, delta, n, mk) + 0.0


def bgbb_pmf(params: Params, n_periods: ArrayLike, most: int) -> np.ndarray:
    """Probability of ``x`` purchases in the first ``n`` opportunities, for ``x = 0..most-1``
    and, last, of ``most`` or more: the distribution of a new customer's repeat purchases.

    Parameters
    ----------
    params : FittedModel, mapping or sequence
        BG/BB ``alpha, beta, gamma, delta``.
    n_periods : array_like
        Opportunities (whole numbers >= 0), one per row of the result.
    most : int
        The last, open class (``most`` or more purchases).

    Returns
    -------
    ndarray, shape (len(n_periods), most + 1)

    Notes
    -----
    Fader, Hardie & Shang (2010), equation (7): alive throughout the ``n`` opportunities, or
    last alive at opportunity ``i < n``:

    .. math::

        P(X(n) = x) = \\binom{n}{x}\\frac{B(\\alpha+x, \\beta+n-x)}{B(\\alpha, \\beta)}
            \\frac{B(\\gamma, \\delta+n)}{B(\\gamma, \\delta)}
          + \\sum_{i=x}^{n-1} \\binom{i}{x}\\frac{B(\\alpha+x, \\beta+i-x)}{B(\\alpha, \\beta)}
            \\frac{B(\\gamma+1, \\delta+i)}{B(\\gamma, \\delta)}

    The sums over ``i`` are prefix sums shared by every ``n``, so the cost is
    ``most x max(n)`` whatever the number of customers.

    Examples
    --------
    One opportunity: taken with probability ``E[p] P(alive at 1) = alpha/(alpha+beta)
    delta/(gamma+delta)``; with all parameters 1, ``1/2 x 1/2 = 1/4``:

    >>> bgbb_pmf((1, 1, 1, 1), [1, 0], 1).round(6)
    array([[0.75, 0.25],
           [1.  , 0.  ]])
    """
    alpha, beta, gamma, delta = parameters(params, "bgbb")
    n = opportunity_arrays(0, 0, np.atleast_1d(n_periods))[2].reshape(-1, 1)
    x = np.arange(most, dtype=np.float64)[None, :]
    top = int(n.max()) if n.size else 0
    i = np.arange(top, dtype=np.float64)[:, None]
    with np.errstate(invalid="ignore"):
        died = np.where(i >= x, np.exp(gammaln(i + 1) - gammaln(x + 1) - gammaln(np.maximum(i - x, 0) + 1)
                                       + betaln(alpha + x, beta + np.maximum(i - x, 0)) - betaln(alpha, beta)
                                       + betaln(gamma + 1, delta + i) - betaln(gamma, delta)), 0.0)
    died_before = np.vstack([np.zeros((1, most)), np.cumsum(died, axis=0)])[n[:, 0].astype(int)]
    with np.errstate(invalid="ignore"):
        alive = np.where(x <= n, np.exp(gammaln(n + 1) - gammaln(x + 1) - gammaln(np.maximum(n - x, 0) + 1)
                                        + betaln(alpha + x, beta + np.maximum(n - x, 0)) - betaln(alpha, beta)
                                        + betaln(gamma, delta + n) - betaln(gamma, delta)), 0.0)
    p = alive + died_before
    rest = np.clip(1.0 - p.sum(axis=1, keepdims=True), 0.0, 1.0)
    return np.hstack([p, rest])
