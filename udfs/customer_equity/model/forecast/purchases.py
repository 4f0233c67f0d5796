"""The three purchase models of a ``(frequency, recency, T)`` summary behind one interface:
BG/NBD, Pareto/NBD and MBG/NBD, for a forecast that may use any of them and for comparing
them on the same customers.

Each model's conditional expectation has the form ``E[Y(t)] = N(t; x, T) / (1 + odds(x, t_x, T))``
with ``P(alive) = 1 / (1 + odds)``: a numerator that depends on the customer only through
``(x, T)``, evaluated once per distinct pair and horizon, and the odds of having dropped out.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betainc, betaln, gammaln

from ...errors import CustomerEquityError
from ._base import FittedModel
from .bgnbd import _alive_odds, _expected_numerator, bgnbd_log_likelihood, fit_bgnbd
from .bgnbd import expected_purchases as bgnbd_expected_purchases
from .bgnbd import p_alive as bgnbd_p_alive
from .mbgnbd import (
    _dropout_odds,
    fit_mbgnbd,
    mbgnbd_expected_purchases,
    mbgnbd_log_likelihood,
    mbgnbd_p_alive,
)
from .pareto_nbd import (
    _log_alive,
    _rate_integral,
    fit_pareto_nbd,
    pareto_nbd_expected_purchases,
    pareto_nbd_log_likelihood,
    pareto_nbd_p_alive,
)

__all__ = ["MODEL_NAMES", "PURCHASE_MODELS", "purchase_model"]

#: The purchase models in the order they are compared, with the names the papers use.
PURCHASE_MODELS = {"bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD", "mbgnbd": "MBG/NBD"}

#: Command-line spellings of every model name (BG/BB's included: a log of opportunities).
MODEL_NAMES = {"bg-nbd": "bgnbd", "pareto-nbd": "pareto_nbd", "mbg-nbd": "mbgnbd", "bg-bb": "bgbb"}

_FITS = {"bgnbd": fit_bgnbd, "pareto_nbd": fit_pareto_nbd, "mbgnbd": fit_mbgnbd}
_LOGLIK = {"bgnbd": bgnbd_log_likelihood, "pareto_nbd": pareto_nbd_log_likelihood,
           "mbgnbd": mbgnbd_log_likelihood}
_EXPECTED = {"bgnbd": bgnbd_expected_purchases, "pareto_nbd": pareto_nbd_expected_purchases,
             "mbgnbd": mbgnbd_expected_purchases}
_ALIVE = {"bgnbd": bgnbd_p_alive, "pareto_nbd": pareto_nbd_p_alive, "mbgnbd": mbgnbd_p_alive}


def purchase_model(name: str) -> str:
    """The model key of ``name`` (``"bgnbd"`` or the command's ``"bg-nbd"``, ...), checked.

    >>> purchase_model("pareto-nbd"), purchase_model("mbgnbd")
    ('pareto_nbd', 'mbgnbd')
    """
    key = MODEL_NAMES.get(name, name)
    if key not in PURCHASE_MODELS:
        raise CustomerEquityError("model", "must be one of " + ", ".join(MODEL_NAMES)
                                  + (" (BG/BB needs a log of discrete opportunities)"
                                     if key == "bgbb" else ""), value=name)
    return key


def fit(model: str, x, t_x, T, weights=None) -> FittedModel:
    """Fit ``model`` to the summary (see each model's ``fit_*``)."""
    return _FITS[purchase_model(model)](x, t_x, T, weights=weights)


def log_likelihood(fit: FittedModel, x, t_x, T) -> np.ndarray:
    """Each customer's log-likelihood under the fitted purchase model."""
    return _LOGLIK[fit.model](fit, x, t_x, T)


def numerator(fit: FittedModel, k, x, T) -> np.ndarray:
    """``N(k; x, T)``: the expected purchases in the next ``k`` units times ``1 + odds``
    (``k`` broadcasts against ``x`` and ``T``, a column of horizons gives a table)."""
    p = fit.values
    if fit.model == "bgnbd":
        return _expected_numerator(*p, k, x, T)
    if fit.model == "mbgnbd":
        r, alpha, a, b = p
        return _expected_numerator(r, alpha, a, b + 1.0, k, x, T)
    r, alpha, s, beta = p
    return (r + x) / (alpha + T) * _rate_integral(s, beta, T, k)


def dropout_odds(fit: FittedModel, x, t_x, T) -> np.ndarray:
    """The odds of having dropped out: ``P(alive) = 1 / (1 + odds)``."""
    p = fit.values
    if fit.model == "bgnbd":
        return _alive_odds(*p, x, t_x, T)
    if fit.model == "mbgnbd":
        return _dropout_odds(*p, x, t_x, T)
    with np.errstate(over="ignore"):
        return np.expm1(-_log_alive(*p, x, t_x, T))


def expected_purchases(fit: FittedModel, t, x, t_x, T) -> np.ndarray:
    """``E[Y(t) | x, t_x, T]`` under the fitted purchase model (its own ``*_expected_purchases``)."""
    return _EXPECTED[fit.model](fit, t, x, t_x, T)


def p_alive(fit: FittedModel, x, t_x, T) -> np.ndarray:
    """``P(alive)`` at the calibration end under the fitted purchase model."""
    return _ALIVE[fit.model](fit, x, t_x, T)


def compare(fits, x, t_x, T, actual=None, holdout_length=None, unfitted=None) -> list[dict]:
    """The purchase models fitted on the same customers, side by side.

    Parameters
    ----------
    fits : iterable of FittedModel
        Purchase models fitted on the customers ``x, t_x, T``.
    actual : array_like, optional
        Each customer's purchases in a holdout period of ``holdout_length`` units after the
        calibration: the models' predictions for it are scored against them.
    unfitted : mapping, optional
        Models that could not be fitted on these customers (model key -> reason): listed last,
        with no estimate.

    Returns
    -------
    list of dict
        Per model: ``model``, ``name``, ``params``, ``log_likelihood``, ``bic`` (lower is
        better on the same customers) and with a holdout ``holdout`` {``predicted``,
        ``actual`` (total purchases), ``error`` (predicted / actual - 1), ``mae`` and
        ``rmse`` (per customer)}; ``holdout`` is None, and ``note`` says why, for a model
        whose predictions cannot be evaluated (an estimate from too few customers); a model
        in ``unfitted`` has ``params`` None, ``log_likelihood`` and ``bic`` None, and its
        ``note``.
    """
    rows = []
    for f in fits:
        row = {"model": f.model, "name": PURCHASE_MODELS[f.model], "params": dict(f.params),
               "log_likelihood": f.log_likelihood, "bic": f.bic}
        if actual is not None:
            try:
                predicted = expected_purchases(f, holdout_length, x, t_x, T)
            except CustomerEquityError as err:  # one model's failure does not hide the others
                rows.append({**row, "holdout": None, "note": str(err)})
                continue
            miss = predicted - actual
            total = float(np.sum(actual))
            row["holdout"] = {"length": float(holdout_length), "predicted": float(predicted.sum()),
                              "actual": total,
                              "error": float(predicted.sum() / total - 1) if total else None,
                              "mae": float(np.mean(np.abs(miss))),
                              "rmse": float(np.sqrt(np.mean(miss ** 2)))}
        rows.append(row)
    for model, reason in (unfitted or {}).items():
        rows.append({"model": model, "name": PURCHASE_MODELS[model], "params": None,
                     "log_likelihood": None, "bic": None,
                     **({"holdout": None} if actual is not None else {}), "note": reason})
    return rows


#: Gauss-Legendre nodes of the Pareto/NBD death-time integral in :func:`purchase_pmf`.
PMF_NODES = 256


def _log_nb(r, alpha, x, t):
    """``ln`` of the NBD probability of ``x`` purchases in ``t`` (Poisson rate ~ Gamma(r, alpha))."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (gammaln(r + x) - gammaln(r) - gammaln(x + 1) + r * (np.log(alpha) - np.log(alpha + t))
               + np.where(x > 0, x * (np.log(t) - np.log(alpha + t)), 0.0))
    return out


def purchase_pmf(fit: FittedModel, t, most: int) -> np.ndarray:
    """``P(X(t) = x)`` for ``x = 0..most-1`` and, last, ``P(X(t) >= most)``: the repeat purchases
    of a customer in the first ``t`` units after the first purchase, under the fitted model.

    Parameters
    ----------
    fit : FittedModel
        A BG/NBD, Pareto/NBD or MBG/NBD fit.
    t : array_like
        Times (>= 0), one per row of the result.
    most : int
        The last, open class (``most`` or more purchases).

    Returns
    -------
    ndarray, shape (len(t), most + 1)

    Notes
    -----
    With :math:`NB_x(t) = \\frac{\\Gamma(r+x)}{\\Gamma(r)x!}(\\frac{\\alpha}{\\alpha+t})^r
    (\\frac{t}{\\alpha+t})^x` and its upper tail :math:`\\bar N_x(t) = \\sum_{j \\ge x} NB_j(t)`
    (a regularised incomplete beta function):

    - BG/NBD (Fader, Hardie & Lee 2005, eq. 8): :math:`\\frac{B(a,b+x)}{B(a,b)} NB_x
      + [x>0] \\frac{B(a+1,b+x-1)}{B(a,b)} \\bar N_x`;
    - MBG/NBD (Batislam et al. 2007): :math:`\\frac{B(a,b+x+1)}{B(a,b)} NB_x
      + \\frac{B(a+1,b+x)}{B(a,b)} \\bar N_x` (with :math:`\\bar N_0 = 1`);
    - Pareto/NBD: alive at ``t`` or dead at :math:`\\tau < t` (Fader & Hardie 2006, "Deriving an
      expression for P(X(t) = x) under the Pareto/NBD model", before the hypergeometric
      closed form): :math:`NB_x(t) (\\frac{\\beta}{\\beta+t})^s + \\int_0^t \\frac{s\\beta^s}
      {(\\beta+\\tau)^{s+1}} NB_x(\\tau)\\,d\\tau`, by Gauss-Legendre quadrature.

    Examples
    --------
    Each row is a distribution:

    >>> fit = FittedModel("bgnbd", {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4}, {}, 0.0, 1, 1)
    >>> p = purchase_pmf(fit, [0.0, 39.0], 7)
    >>> p.sum(axis=1).round(12), p[0, 0]
    (array([1., 1.]), np.float64(1.0))
    """
    t = np.atleast_1d(np.asarray(t, dtype=np.float64)).reshape(-1, 1)
    x = np.arange(most, dtype=np.float64)[None, :]
    model = fit.model
    if model in ("bgnbd", "mbgnbd"):
        r, alpha, a, b = fit.values
        nb = np.exp(_log_nb(r, alpha, x, t))
        with np.errstate(invalid="ignore"):
            tail = np.where(x > 0, betainc(np.maximum(x, 1.0), r, t / (alpha + t)), 1.0)
        base = betaln(a, b)
        if model == "bgnbd":
            stays = np.exp(betaln(a, b + x) - base)
            leaves = np.where(x > 0, np.exp(betaln(a + 1, b + np.maximum(x, 1.0) - 1) - base), 0.0)
        else:
            stays = np.exp(betaln(a, b + x + 1) - base)
            leaves = np.exp(betaln(a + 1, b + x) - base)
        p = stays * nb + leaves * tail
    else:
        r, alpha, s, beta = fit.values
        nodes, weights = np.polynomial.legendre.leggauss(PMF_NODES)
        tau = (nodes[None, :] + 1.0) / 2.0 * t  # (len(t), nodes)
        w = weights[None, :] * t / 2.0
        death = s * beta ** s * (beta + tau) ** -(s + 1.0)
        nb_tau = np.exp(_log_nb(r, alpha, x[..., None], tau[:, None, :]))  # (len(t), most, nodes)
        died = (nb_tau * (death * w)[:, None, :]).sum(axis=2)
        p = np.exp(_log_nb(r, alpha, x, t)) * (beta / (beta + t)) ** s + died
    p = np.where(t == 0, (x == 0).astype(float), p)
    rest = np.clip(1.0 - p.sum(axis=1, keepdims=True), 0.0, 1.0)
    return np.hstack([p, rest])
