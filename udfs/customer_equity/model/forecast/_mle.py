"""Maximum likelihood in log-parameter space, shared by the models.

Each model supplies the log-likelihood summed over customers and its analytic
gradient with respect to the log-parameters ``phi = ln(theta)``; here they are
maximised with scipy's BFGS, the estimate is polished with Newton steps on the
Hessian (central differences of the analytic gradient), and the standard errors
come from the observed information. At the optimum the gradient is zero, so the
Hessian in ``theta`` is ``H_theta = J^-1 H_phi J^-1`` with ``J = diag(theta)``
and ``se(theta_k) = theta_k se(phi_k)`` exactly (no delta-method approximation
beyond the one the information matrix makes anyway).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize

from ...errors import CustomerEquityError
from ._base import PARAMETER_NAMES, FittedModel

#: Log-parameters beyond this size mean the optimiser ran off to a boundary.
LOG_LIMIT = 25.0

#: An optimiser that stalls with a log-parameter beyond this size (a parameter above
#: 22,000 or below 1/22,000) is running off to a boundary too.
STALL_LIMIT = 10.0


def _hessian(grad, phi, step=1e-5):
    k = phi.size
    h = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = step
        h[:, j] = (grad(phi + e) - grad(phi - e)) / (2 * step)
    return (h + h.T) / 2


def maximise(model, loglik_grad, phi0, customers) -> FittedModel:
    """Fit ``model`` by maximising ``loglik_grad(phi) -> (loglik, gradient)`` over log-parameters.

    The objective is scaled by the customer count so that the optimiser's
    tolerances mean the same for ten customers or ten million.
    """
    names = PARAMETER_NAMES[model]
    scale = 1.0 / max(customers, 1)

    def objective(phi):
        if np.any(np.abs(phi) > 2 * LOG_LIMIT):
            return np.inf, np.zeros_like(phi)
        with np.errstate(all="ignore"):
            ll, g = loglik_grad(phi)
        if not np.isfinite(ll) or not np.all(np.isfinite(g)):
            return np.inf, np.zeros_like(phi)
        return -ll * scale, -g * scale

    def grad(phi):
        return objective(phi)[1]

    res = optimize.minimize(objective, np.asarray(phi0, dtype=float), jac=True, method="BFGS",
                            options={"gtol": 1e-9, "maxiter": 2000})
    phi = res.x
    iterations = int(res.nit)
    value = res.fun
    # Newton polish: BFGS stops on a gradient norm; a few Newton steps make the estimate
    # exact to the precision of the likelihood, so that fits agree to 1e-8 rather than 1e-5.
    # Newton polish: BFGS stops on a gradient norm; Newton steps on the Hessian make the
    # estimate exact to the precision of the gradient (near the optimum the likelihood
    # itself is flat to rounding, so a step is judged by the gradient it leaves).
    for _ in range(10):
        if not np.isfinite(value) or np.any(np.abs(phi) > LOG_LIMIT):
            break
        g = grad(phi)
        h = _hessian(grad, phi)
        try:
            step = np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or np.max(np.abs(step)) > 1.0:
            break
        trial = phi - step
        trial_value, trial_grad = objective(trial)
        if not (trial_value <= value + 1e-12 * max(1.0, abs(value))
                and np.max(np.abs(trial_grad)) < np.max(np.abs(g))):
            break
        phi, value = trial, trial_value
        iterations += 1
        if np.max(np.abs(step)) < 1e-13:
            break

    theta = np.exp(phi)
    g = grad(phi)
    stalled = np.max(np.abs(g)) > 1e-4
    # an estimate running off to a boundary (a parameter toward 0 or infinity) often stalls
    # before LOG_LIMIT, where the likelihood has gone flat to rounding: that is divergence too
    if not np.isfinite(value) or np.any(np.abs(phi) > LOG_LIMIT) or (
            stalled and np.any(np.abs(phi) > STALL_LIMIT)):
        shown = ", ".join(f"{n} = {t:.3g}" for n, t in zip(names, theta))
        raise CustomerEquityError(model, "the maximum likelihood estimate diverged "
                                  f"({shown}): the data cannot identify the model (too few "
                                  "customers or repeat purchases, or no variation)")
    if stalled:
        raise CustomerEquityError(model, "the optimiser did not converge (gradient "
                                  f"{np.max(np.abs(g)):.2g} at the last estimate): {res.message}")
    info = _hessian(grad, phi) / scale
    with np.errstate(all="ignore"):
        try:
            cov_phi = np.linalg.inv(info)
            se_phi = np.sqrt(np.diag(cov_phi))
        except np.linalg.LinAlgError:
            se_phi = np.full(phi.size, np.nan)
    se = np.where(np.isfinite(se_phi), theta * se_phi, np.nan)
    return FittedModel(model=model, params=dict(zip(names, map(float, theta))),
                       standard_errors=dict(zip(names, map(float, se))),
                       log_likelihood=float(-value / scale), customers=int(customers),
                       iterations=iterations)


def dot(a, b):
    """``sum(a * b)`` for 1-D arrays without BLAS: OpenBLAS threads a long ``ddot``, and on
    a busy machine its threads' spin-waits cost more than the arithmetic."""
    return float(np.multiply(a, b).sum()) if np.ndim(a) == 1 else np.multiply(a, b).sum(axis=-1)


def group_rows(*columns):
    """The distinct rows of equal-length columns: ``(distinct columns, inverse)`` with
    ``columns[k] == distinct[k][inverse]``.

    Each column is factorised (hashing, not sorting), the codes are combined into one
    integer key and the key is factorised: a few integer arrays of temporary memory,
    which matters for ten million customers.
    """
    n = len(columns[0])
    if n == 0:
        return [np.asarray(c)[:0] for c in columns], np.zeros(0, dtype=np.int64)
    key, size = None, 1
    for c in columns:
        codes, uniques = pd.factorize(np.asarray(c))
        if size * len(uniques) >= 2 ** 62:  # the combined key would overflow: group by pandas
            frame = pd.DataFrame({f"c{k}": np.asarray(c) for k, c in enumerate(columns)})
            key = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy()
            break
        key = codes.astype(np.int64) if key is None else key * len(uniques) + codes
        size *= len(uniques)
        del codes
    inverse, _ = pd.factorize(key)
    del key
    first = np.empty(int(inverse.max()) + 1, dtype=np.int64)
    first[inverse[::-1]] = np.arange(n - 1, -1, -1)
    return [np.ascontiguousarray(np.asarray(c)[first]) for c in columns], inverse


def distinct_rows(*columns, weights=None):
    """The distinct rows of the given columns with their total weights (fitting on them
    gives the same likelihood as fitting on every customer, in a fraction of the time)."""
    rows, inverse = group_rows(*columns)
    return rows, np.bincount(inverse, weights=weights, minlength=len(rows[0]))
