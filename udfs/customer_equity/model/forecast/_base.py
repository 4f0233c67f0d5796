"""Input validation for the forecasting models, done once and shared by every public function.

The models read a per-customer summary (``frequency``, ``recency``, ``T``,
``monetary_value``; see :mod:`.data`) and parameters given as a fitted result, a
mapping of names or a sequence in the model's order. Bad input is refused with
a :class:`~customer_equity.errors.CustomerEquityError` naming the argument and
the customer's row (1-based).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np

from ...errors import CustomerEquityError
from .. import validate as v

#: Parameters of each model, in their conventional order.
PARAMETER_NAMES = {"bgnbd": ("r", "alpha", "a", "b"), "gamma_gamma": ("p", "q", "v"),
                   "pareto_nbd": ("r", "alpha", "s", "beta"), "mbgnbd": ("r", "alpha", "a", "b"),
                   "bgbb": ("alpha", "beta", "gamma", "delta"), "sbg": ("alpha", "beta")}


@dataclasses.dataclass(frozen=True)
class FittedModel:
    """A model fitted by maximum likelihood.

    Attributes
    ----------
    model : {"bgnbd", "gamma_gamma", "pareto_nbd", "mbgnbd", "bgbb", "sbg"}
    params : dict of str to float
        The estimates in the order of :data:`PARAMETER_NAMES` (``alpha`` of BG/NBD,
        MBG/NBD and Pareto/NBD and ``beta`` of Pareto/NBD in the summary's time unit,
        ``v`` in money; BG/BB and sBG parameters are pure numbers).
    standard_errors : dict of str to float
        From the observed information: the inverse Hessian of the negative
        log-likelihood at the estimate. ``nan`` where the Hessian is singular.
    log_likelihood : float
        The maximised log-likelihood, summed over customers.
    customers : int
        Customers the model was fitted on.
    iterations : int
        Optimiser iterations.

    Examples
    --------
    >>> fit = FittedModel("gamma_gamma", {"p": 6.0, "q": 4.0, "v": 15.0},
    ...                   {"p": 0.1, "q": 0.2, "v": 1.0}, -10.0, 5, 12)
    >>> fit["q"], fit.values
    (4.0, (6.0, 4.0, 15.0))
    >>> round(fit.bic, 4)  # 3 ln 5 + 20
    24.8283
    """

    model: str
    params: dict
    standard_errors: dict
    log_likelihood: float
    customers: int
    iterations: int

    def __getitem__(self, name: str) -> float:
        return self.params[name]

    @property
    def values(self) -> tuple:
        """The parameters in the model's order."""
        return tuple(self.params[k] for k in PARAMETER_NAMES[self.model])

    @property
    def bic(self) -> float:
        """Bayesian information criterion ``k ln(N) - 2 ln L`` (``k`` parameters, ``N``
        customers): lower is better when models are compared on the same customers."""
        return len(self.params) * math.log(max(self.customers, 1)) - 2.0 * self.log_likelihood

    def to_dict(self) -> dict:
        """Plain data (JSON-ready): parameters, standard errors (None when undefined), fit."""
        return {"params": dict(self.params),
                "standard_errors": {k: (None if not math.isfinite(s) else s)
                                    for k, s in self.standard_errors.items()},
                "log_likelihood": self.log_likelihood, "bic": self.bic,
                "customers": self.customers, "iterations": self.iterations}


Params = FittedModel | Mapping | Sequence


def parameters(params: Params, model: str) -> tuple:
    """The parameters of ``model`` as floats in order, each a finite number > 0."""
    names = PARAMETER_NAMES[model]
    if isinstance(params, FittedModel):
        if params.model != model:
            raise CustomerEquityError("params", f"expected {model} parameters, got a fitted "
                                      f"{params.model} model")
        values = params.values
    elif isinstance(params, Mapping):
        missing = [k for k in names if k not in params]
        if missing:
            raise CustomerEquityError("params", f"missing {missing[0]!r}; {model} needs "
                                      + ", ".join(names))
        values = tuple(params[k] for k in names)
    else:
        values = tuple(np.ravel(np.asarray(params, dtype=object)))
        if len(values) != len(names):
            raise CustomerEquityError("params", f"{model} needs {len(names)} parameters "
                                      f"({', '.join(names)}), got {len(values)}")
    out = []
    for name, value in zip(names, values):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                or not math.isfinite(float(value)) or not float(value) > 0:
            raise CustomerEquityError(f"params: {name}", "must be a finite number > 0",
                                      value=value)
        out.append(float(value))
    return tuple(out)


def _column(x, name):
    arr = v.as_float(x, name, blank_ok=False)
    arr = np.atleast_1d(v.per_row(arr))
    if arr.ndim != 1:
        raise CustomerEquityError(name, "must be one value per customer (a single column)")
    return v.check_finite(arr, name)


def _same_length(arrays, names):
    n = max(a.size for a in arrays)
    out = []
    for a, name in zip(arrays, names):
        if a.size == 1 and n > 1:
            a = np.broadcast_to(a, (n,))
        elif a.size != n:
            raise CustomerEquityError(name, f"has {a.size} values where the other columns have {n}")
        out.append(a)
    return out


def summary_arrays(frequency, recency, T):
    """``(x, t_x, T)`` as float arrays of one length, checked against the definitions.

    ``frequency`` is a whole number >= 0, ``0 <= recency <= T``, and ``recency = 0``
    when ``frequency = 0`` (no repeat purchase, no time between purchases).

    >>> summary_arrays([0, 2], [0, 5.5], 10)[2]
    array([10., 10.])
    >>> summary_arrays([0, 1], [0, 12], [10, 10])
    Traceback (most recent call last):
    ...
    customer_equity.errors.CustomerEquityError: recency, row 2: must be <= T (the time from the first purchase to the calibration end) (got 12.0)
    """
    x, t_x, T = _same_length([_column(frequency, "frequency"), _column(recency, "recency"),
                              _column(T, "T")], ("frequency", "recency", "T"))
    v.check_range(x, "frequency", low=0, rule="must be a whole number >= 0")
    if (x != np.floor(x)).any():
        v._fail("frequency", "must be a whole number >= 0", x, x != np.floor(x))
    v.check_range(t_x, "recency", low=0)
    v.check_range(T, "T", low=0)
    late = t_x > T * (1 + 1e-12)
    if late.any():
        v._fail("recency", "must be <= T (the time from the first purchase to the calibration end)",
                t_x, late)
    lone = (x == 0) & (t_x != 0)
    if lone.any():
        v._fail("recency", "must be 0 when frequency is 0 (no repeat purchase)", t_x, lone)
    return x, t_x, T


def spend_arrays(frequency, monetary_value):
    """``(x, m_x)`` as float arrays: ``x`` whole >= 0, ``m_x`` >= 0 (0 when ``x = 0``)."""
    x, m = _same_length([_column(frequency, "frequency"), _column(monetary_value, "monetary_value")],
                        ("frequency", "monetary_value"))
    if (x < 0).any() or (x != np.floor(x)).any():
        v._fail("frequency", "must be a whole number >= 0", x, (x < 0) | (x != np.floor(x)))
    v.check_range(m, "monetary_value", low=0,
                  rule="must be >= 0 (the mean amount of the repeat purchases)")
    return x, m


def horizon_value(t, name="t"):
    """A forecast horizon in the summary's time unit: a number >= 0 (an array broadcasts)."""
    arr = v.check_finite(v.as_float(t, name, blank_ok=False), name)
    return v.check_range(arr, name, low=0)


def horizon_layout(t, customers, name="t"):
    """How horizons meet customers: ``"one"`` horizon for all, ``"each"`` customer its own,
    or a ``"grid"`` (a column of horizons against every customer); else a refusal."""
    if t.ndim == 2 and t.shape[1] == 1:
        return "grid"
    if t.ndim == 1 and t.size > 1:
        if customers not in (1, t.size):
            raise CustomerEquityError(name, f"has {t.size} horizons for {customers} customers: give "
                                      "one horizon, one per customer, or a column of horizons")
        return "each"
    return "one"


def whole_column(x, name, low=0):
    """A column of whole numbers >= ``low`` (counts of periods or purchases)."""
    arr = _column(x, name)
    v.check_range(arr, name, low=low, rule=f"must be a whole number >= {low}")
    if (arr != np.floor(arr)).any():
        v._fail(name, f"must be a whole number >= {low}", arr, arr != np.floor(arr))
    return arr


def opportunity_arrays(frequency, recency, n_periods):
    """``(x, t_x, n)`` of a discrete-opportunity summary (BG/BB), checked.

    ``n`` opportunities to buy (whole >= 0), ``x`` of them taken and the last taken
    at opportunity ``t_x``: whole numbers with ``x <= t_x <= n``, and ``t_x = 0``
    exactly when ``x = 0``.

    >>> opportunity_arrays([0, 2], [0, 5], 6)[2]
    array([6., 6.])
    >>> opportunity_arrays([0, 3], [0, 2], 6)
    Traceback (most recent call last):
    ...
    customer_equity.errors.CustomerEquityError: recency, row 2: must be >= frequency (the last of x purchase opportunities taken is at least the x-th) (got 2.0)
    """
    x, t_x, n = _same_length([whole_column(frequency, "frequency"), whole_column(recency, "recency"),
                              whole_column(n_periods, "n_periods")],
                             ("frequency", "recency", "n_periods"))
    late = t_x > n
    if late.any():
        v._fail("recency", "must be <= n_periods (the last purchase is one of the opportunities)",
                t_x, late)
    early = t_x < x
    if early.any():
        v._fail("recency", "must be >= frequency (the last of x purchase opportunities taken is at "
                "least the x-th)", t_x, early)
    lone = (x == 0) & (t_x != 0)
    if lone.any():
        v._fail("recency", "must be 0 when frequency is 0 (no purchase)", t_x, lone)
    return x, t_x, n


def weights_array(weights, n):
    """Customer weights (counts of identical summaries): numbers >= 0, default all 1."""
    if weights is None:
        return np.ones(n)
    (w,) = _same_length([_column(weights, "weights")], ("weights",))
    if w.size != n:
        raise CustomerEquityError("weights", f"has {w.size} values for {n} customers")
    return v.check_range(w, "weights", low=0)
