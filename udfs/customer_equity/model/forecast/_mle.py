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


#: Rows grouped at a time: the grouping holds a few arrays of this many numbers, whatever
#: the number of customers.
GROUP_CHUNK = 1 << 20


def _groups(columns):
    """The distinct rows of (short) columns in order of first appearance, and the inverse.

    Each column is factorised (hashing, not sorting), the codes are combined into one
    integer key and the key is factorised."""
    n = len(columns[0])
    key, size = None, 1
    for c in columns:
        codes, uniques = pd.factorize(c)
        if size * len(uniques) >= 2 ** 62:  # the combined key would overflow: group by pandas
            frame = pd.DataFrame({f"c{k}": col for k, col in enumerate(columns)})
            key = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy()
            break
        if key is None:
            key = codes.astype(np.int64, copy=False)
        else:  # in place: two integer arrays at a time, not four
            key *= len(uniques)
            key += codes
        size *= len(uniques)
        del codes
    inverse, _ = pd.factorize(key)
    del key
    first = np.empty(int(inverse.max()) + 1, dtype=np.int64)
    first[inverse[::-1]] = np.arange(n - 1, -1, -1)
    return [c[first] for c in columns], inverse


def _grouped(columns, weights=None, with_inverse=True):
    """Distinct rows sorted (by the first column, then the next...), their weights, and
    the inverse, a chunk of :data:`GROUP_CHUNK` rows at a time: each chunk is grouped
    (:func:`_groups`), then the chunks' distinct rows are; the inverse is written chunk by
    chunk and mapped at the end. The sorted order makes any chunking give the same groups."""
    columns = [np.asarray(c) for c in columns]
    n = len(columns[0])
    if n == 0:
        return [c[:0] for c in columns], np.zeros(0), np.zeros(0, dtype=np.int64)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    parts, totals = [], []
    # int32 when every group number fits: 40 MB for ten million customers, not 80
    inverse = np.empty(n, dtype=np.int32 if n < 2 ** 31 else np.int64) if with_inverse else None
    for start in range(0, n, GROUP_CHUNK):
        s = slice(start, min(start + GROUP_CHUNK, n))
        rows, local = _groups([c[s] for c in columns])
        parts.append(rows)
        totals.append(np.bincount(local, weights=None if w is None else w[s],
                                  minlength=len(rows[0])))
        if with_inverse:
            inverse[s] = local
        del local
    union = [np.concatenate([rows[k] for rows in parts]) for k in range(len(columns))]
    rows, union_inverse = _groups(union)
    order = np.lexsort(rows[::-1])
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    union_inverse = rank[union_inverse]
    weights_out = np.bincount(union_inverse, weights=np.concatenate(totals).astype(np.float64),
                              minlength=order.size)
    if with_inverse:
        at = 0
        for start, rows_of_chunk in zip(range(0, n, GROUP_CHUNK), parts):
            s = slice(start, min(start + GROUP_CHUNK, n))
            m = len(rows_of_chunk[0])
            inverse[s] = union_inverse[at:at + m][inverse[s]]
            at += m
    return [np.ascontiguousarray(c[order]) for c in rows], weights_out, inverse


def group_rows(*columns):
    """The distinct rows of equal-length columns: ``(distinct columns, inverse)`` with
    ``columns[k] == distinct[k][inverse]``; the distinct rows sorted (by the first column,
    then the next...).

    Grouped :data:`GROUP_CHUNK` rows at a time: besides the inverse (int32 below 2^31
    groups), a few arrays of a chunk's size, which matters for ten million customers.

    >>> (x, t), inverse = group_rows([2, 0, 2, 1], [5.0, 3.0, 5.0, 3.0])
    >>> x.tolist(), t.tolist(), inverse.tolist()
    ([0, 1, 2], [3.0, 3.0, 5.0], [2, 0, 2, 1])
    """
    rows, _, inverse = _grouped(columns)
    return rows, inverse


def distinct_rows(*columns, weights=None):
    """The distinct rows of the given columns with their total weights (fitting on them
    gives the same likelihood as fitting on every customer, in a fraction of the time).

    As :func:`group_rows`, a chunk of rows at a time; no array of all the rows is made.

    >>> (x, t), w = distinct_rows([2, 0, 2, 1], [5.0, 3.0, 5.0, 3.0])
    >>> x.tolist(), w.tolist()
    ([0, 1, 2], [1.0, 1.0, 2.0])
    """
    rows, w, _ = _grouped(columns, weights, with_inverse=False)
    return rows, w
