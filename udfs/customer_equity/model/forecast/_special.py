"""The one hypergeometric function the Pareto/NBD and sBG expressions need, evaluated where
scipy's general ``hyp2f1`` returns NaN or infinity (large parameters, ``z`` near 1).

Both models meet :math:`{}_2F_1(1, b; c; z)` with ``c > b``, ``z < 1`` (sBG's discounted
residual lifetime directly, Pareto/NBD's likelihood after Euler's transformation). Its
Gauss continued fraction converges in the whole cut plane and fast where the power series
crawls (about ``1/sqrt(1 - z)`` steps against ``1/(1 - z)``).
"""

from __future__ import annotations

import numpy as np

from ...errors import CustomerEquityError

#: Steps of the continued fraction before it is declared not to converge.
MAX_STEPS = 200_000

#: A step that changes the value by less than this (a few units in the last place) ends it.
TOLERANCE = 3e-16

_TINY = 1e-300


def hyp2f1_one(b, c, z):
    """:math:`{}_2F_1(1, b; c; z)` for ``c > 0``, ``z < 1``, elementwise.

    Notes
    -----
    Gauss's continued fraction for :math:`F(a, b+1; c+1; z)/F(a, b; c; z)` at ``b = 0``
    (DLMF 15.7.5), with ``a`` the function's ``b`` and ``c - 1`` its ``c``:

    .. math::

        {}_2F_1(1, b; c; z) = \\cfrac{1}{1 - \\cfrac{k_1 z}{1 - \\cfrac{k_2 z}{1 - \\cdots}}},\\quad
        k_{2i+1} = \\frac{(b+i)(c-1+i)}{(c-1+2i)(c+2i)},\\;
        k_{2i} = \\frac{i\\,(c-1-b+i)}{(c-2+2i)(c-1+2i)}

    evaluated by the modified Lentz method to full double precision.

    Examples
    --------
    ``2F1(1, 1; 2; z) = -ln(1 - z)/z``, to 15 digits at ``z = 0.5`` and 11 within 1e-6 of 1
    (where scipy's ``hyp2f1`` gives NaN for larger parameters):

    >>> z = np.array([0.5, 0.999999])
    >>> (np.abs(hyp2f1_one(1.0, 2.0, z) / (-np.log1p(-z) / z) - 1) < [1e-15, 1e-11]).all()
    np.True_
    """
    b, c, z = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (b, c, z)))
    shape = b.shape
    b, c, z = b.ravel(), c.ravel(), z.ravel()
    out = np.empty(b.size)
    todo = np.arange(b.size)
    f = np.ones(b.size)  # the continued fraction's value, 1 + K(a_m / 1), by Lentz
    C = np.ones(b.size)
    D = np.zeros(b.size)
    c1 = c - 1.0
    if b.size == 0:
        return out.reshape(shape)
    for m in range(1, MAX_STEPS + 1):
        i = m // 2
        if m % 2:
            k = (b + i) * (c1 + i) / ((c1 + m - 1) * (c1 + m))
        else:
            k = i * (c1 - b + i) / ((c1 + m - 1) * (c1 + m))
        a_m = -k * z
        D = 1.0 + a_m * D
        D = 1.0 / np.where(D == 0.0, _TINY, D)
        C = 1.0 + a_m / C
        C = np.where(C == 0.0, _TINY, C)
        delta = C * D
        f *= delta
        done = np.abs(delta - 1.0) <= TOLERANCE
        if done.any():
            out[todo[done]] = 1.0 / f[done]
            keep = ~done
            todo, f, C, D, b, c, c1, z = (x[keep] for x in (todo, f, C, D, b, c, c1, z))
            if todo.size == 0:
                return out.reshape(shape)
    raise CustomerEquityError("2F1", f"the continued fraction did not converge in {MAX_STEPS:,} steps "
                              f"(z = {float(z[0]):.12g}, too close to 1)")


def log_hyp2f1_a1(a, b, z):
    """:math:`\\ln {}_2F_1(a, b; a+1; z)` for ``a > 0``, ``z < 1`` (Pareto/NBD's form).

    Euler's transformation :math:`{}_2F_1(a, b; c; z) = (1-z)^{c-a-b} {}_2F_1(c-a, c-b; c; z)`
    with ``c = a + 1`` turns it into :func:`hyp2f1_one`; the factor ``(1-z)^(1-b)``, which
    overflows first, stays in logs.

    Examples
    --------
    ``2F1(a, 0; a+1; z) = 1`` and ``2F1(1, 1; 2; z) = -ln(1-z)/z``:

    >>> [round(float(v), 12) for v in log_hyp2f1_a1(np.array([3.0, 1.0]), np.array([0.0, 1.0]), 0.5)]
    [0.0, 0.326634259978]
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    return (1.0 - b) * np.log1p(-z) + np.log(hyp2f1_one(a + 1.0 - b, a + 1.0, z))
