"""Discounting: rates per period, discount factors, annuities and present values.

All discounting here is end-of-period by default, as Excel's ``NPV``: the value of
period ``t`` is multiplied by ``(1+i)**-t``. ``timing="begin"`` moves every value
one period earlier (no discount on period 1).
"""

from __future__ import annotations

import numpy as np

from ..reading import timing_code
from .validate import (
    as_float,
    check_finite,
    matching,
    periods_array,
    rate_array,
    zero_blanks,
)

__all__ = ["per_period_rate", "discount_factors", "annuity_factor", "present_value"]


def per_period_rate(yearly_rate, periods_per_year):
    """Convert a yearly discount rate to the equivalent rate per period.

    Parameters
    ----------
    yearly_rate : array_like
        Discount rate per year (0.12 for 12 %), > -1.
    periods_per_year : array_like
        Periods in a year: 12 for monthly data, 4 for quarterly, 1 for yearly; > 0.

    Returns
    -------
    ndarray or float
        The per-period rate ``(1 + yearly_rate) ** (1 / periods_per_year) - 1``.

    Notes
    -----
    Compounding the per-period rate over a year gives back the yearly rate, so a
    monthly series discounted at the result has the same present value per year as
    the yearly series discounted at ``yearly_rate``. Applying a yearly rate to
    monthly data (or the reverse) is the most common wrong answer in lifetime value.

    Examples
    --------
    >>> round(float(per_period_rate(0.12, 12)), 6)
    0.009489
    >>> float((1 + per_period_rate(0.21, 2)) ** 2 - 1)
    0.21
    """
    i = rate_array(yearly_rate, "yearly_rate")
    k = check_finite(as_float(periods_per_year, "periods_per_year", blank_ok=False), "periods_per_year")
    if np.any(k <= 0):
        from .validate import _fail
        _fail("periods_per_year", "must be > 0", k, k <= 0)
    matching(("yearly_rate", i), ("periods_per_year", k))
    out = np.expm1(np.log1p(i) / k)
    return out.item() if out.ndim == 0 else out


def discount_factors(rate, periods, timing="end"):
    """Discount factors ``(1+i)**-t`` for ``t = 1..periods`` (``t-1`` with ``timing="begin"``).

    Parameters
    ----------
    rate : array_like
        Discount rate per period, > -1. An array of rates gives one row of factors each.
    periods : int
        Number of periods ``T``.
    timing : {"end", "begin"}
        End of period (Excel ``NPV``) or beginning.

    Returns
    -------
    ndarray
        Shape ``rate.shape + (T,)``.

    Examples
    --------
    >>> discount_factors(0.25, 3)
    array([0.8  , 0.64 , 0.512])
    >>> discount_factors(0.25, 3, timing="begin")
    array([1.  , 0.8 , 0.64])
    """
    i = rate_array(rate)
    T = int(periods_array(periods).max(initial=0))
    t = np.arange(1 - timing_code(timing), T + 1 - timing_code(timing), dtype=np.float64)
    return np.power(1.0 + i[..., None], -t)


def annuity_factor(rate, periods, timing="end"):
    """Present value of 1 per period for ``periods`` periods.

    Notes
    -----
    .. math:: \\sum_{t=1}^{T} (1+i)^{-t} = \\frac{1 - (1+i)^{-T}}{i}, \\qquad T \\text{ at } i = 0

    and ``(1+i)`` times that for beginning-of-period timing. Computed with
    ``expm1``/``log1p`` so that rates near 0 keep their precision.

    Parameters
    ----------
    rate : array_like
        Discount rate per period, > -1.
    periods : array_like
        Number of periods, a whole number >= 0.
    timing : {"end", "begin"}

    Examples
    --------
    >>> round(float(annuity_factor(0.10, 3)), 6)  # 1/1.1 + 1/1.21 + 1/1.331
    2.486852
    >>> float(annuity_factor(0.0, 5))
    5.0
    """
    i = rate_array(rate)
    p = periods_array(periods, allow_infinite=True)
    out = _annuity(i, p, timing_code(timing))
    return out.item() if np.ndim(out) == 0 else out


def _annuity(i, p, begin):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_growth = np.log1p(i)
        factor = np.where(i == 0, p, -np.expm1(-p * log_growth) / np.where(i == 0, 1.0, i))
        if begin:
            factor = factor * (1.0 + i)
    return factor


def present_value(rate, values, periods=None, timing="end", *, name="values"):
    """Present value of each row of per-period values (Excel ``NPV`` per row).

    Parameters
    ----------
    rate : array_like
        Discount rate per period, > -1; one for all, or one per row (shape ``(N,)``
        or a column ``(N, 1)``).
    values : array_like
        Values per period, the last axis is time: shape ``(..., W)``. With ``W == 1``
        (a column, or a scalar) the value is the same in each of ``periods`` periods;
        with ``W > 1`` each column is one period. Blanks (NaN) are 0.
    periods : array_like, optional
        Number of periods counted, per row or for all. Default: ``W`` (1 for a
        column). With a block of ``W`` columns, only the first ``periods`` count.
    timing : {"end", "begin"}
        End-of-period discounting (default, like ``NPV``) or beginning of period.

    Returns
    -------
    ndarray or float
        One present value per row.

    Examples
    --------
    >>> present_value(0.1, [[100, 100, 100], [50, None, 50]]).round(4)
    array([248.6852,  83.0203])
    >>> round(float(present_value(0.1, 100, periods=3)), 4)
    248.6852
    """
    i = rate_array(rate)
    begin = timing_code(timing)
    v = as_float(values, name)
    if v.ndim == 0:
        v = v.reshape(1)
    width = v.shape[-1]
    p = None if periods is None else _per_row(periods_array(periods), v.ndim)
    i = _per_row(i, v.ndim)
    matching(("rate", i), ("periods", () if p is None else p), (name, v.shape[:-1]))
    if width == 1:
        a = _constant_values(v[..., 0], name)
        out = a * _annuity(i, 1.0 if p is None else p, begin)
    elif i.ndim == 0 and p is None:
        out = _block_fast(v, float(i), begin, name)
    else:
        out = _block_general(v, i, p, begin, name)
    return out.item() if np.ndim(out) == 0 else out


def _per_row(x, ndim):
    """A per-row argument given as a column, shape ``(N, 1)``, is one value per row."""
    if x.ndim >= 1 and x.shape[-1] == 1 and (x.ndim == ndim or x.ndim >= 2):
        return x[..., 0]
    return x


def _constant_values(a, name):
    if np.isnan(a).any() or np.isinf(a).any():
        check_finite(a if a.ndim else a.reshape(1), name)
        a = np.nan_to_num(a, nan=0.0)
    return a


def _block_fast(v, i, begin, name):
    """One matrix-vector product; only rows with a blank (NaN) or inf are revisited."""
    width = v.shape[-1]
    d = np.power(1.0 + i, -np.arange(1 - begin, width + 1 - begin, dtype=np.float64))
    out = v @ d
    bad = ~np.isfinite(out)
    if bad.any():
        rows = np.nonzero(bad)
        sub = v[rows]
        inf = np.isinf(sub)
        if inf.any():
            k = np.argwhere(inf)[0]
            pos = tuple(int(r[k[0]]) for r in rows) + (int(k[-1]),)
            full = np.zeros(v.shape, dtype=bool)
            full[pos] = True
            check_finite(np.where(full, np.inf, 0.0), name)
        out[rows] = np.nan_to_num(sub, nan=0.0) @ d
    return out


def _block_general(v, i, p, begin, name):
    width = v.shape[-1]
    t = np.arange(1, width + 1, dtype=np.float64)
    if i.ndim == 0:
        if p is not None:
            v = np.where(t <= p[..., None], v, 0.0)
        return _block_fast(v, float(i), begin, name)
    v = zero_blanks(v, name)
    with np.errstate(over="ignore"):
        d = np.power(1.0 + i[..., None], -(t - begin))
    if p is not None:
        d = np.where(t <= p[..., None], d, 0.0)
    return np.sum(v * d, axis=-1)
