"""Forecast purchase value per period, and the forecast joined to the customer table.

The expected purchase value of period ``k`` (``k = 1..K`` in the summary's unit)
is SPEC 7's PV_k, the purchase value of the typed model (SPEC 2):

    PV_k = (E[Y(k)] - E[Y(k-1)]) * E[M] * margin

Discounted and summed it is the customer's forecast lifetime value; as a block
``pv_1 .. pv_K`` joined by customer id to a customer table it feeds
:func:`customer_equity.measure` unchanged.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ...errors import CustomerEquityError
from .. import validate as v
from ..discount import discount_factors, present_value
from . import purchases as _purchases
from ._base import FittedModel, Params, parameters, summary_arrays
from ._mle import group_rows
from .bgnbd import expected_purchases
from .gamma_gamma import expected_spend

__all__ = ["PV_INPUTS", "CHUNK_ROWS", "ForecastJoin", "HorizonSums", "check_horizon",
           "customer_lifetime_value", "forecast_ltv", "forecast_values", "horizon_sums",
           "join_forecast"]

#: Customer-table columns the forecast replaces (PV comes from the forecast).
PV_INPUTS = ("pv", "capacity", "share", "margin", "periods")
#: Cells (periods x distinct customers) of the expected-purchases table held at a time.
PERIOD_BLOCK_CELLS = 1 << 18

#: Customers whose forecast is held in memory at once by a job that values a base in chunks.
CHUNK_ROWS = 50_000
#: What one customer-period of a forecast costs, measured on forecast_values (2 shared cores,
#: 2026: 24 bytes held at once and 110-130 ns a cell), with room for slower machines.
BYTES_PER_CELL = 32
SECONDS_PER_CELL = 2.5e-7
#: The longest computation a forecast starts; a longer one is refused before it begins (a
#: horizon that long is most often a unit mistake: days meant as weeks).
MAX_SECONDS = 600.0
#: Memory assumed free where the system does not say (xlwings Lite's Pyodide has 2 GB).
DEFAULT_MEMORY = 2 << 30


def available_memory() -> int:
    """Bytes of memory free for a computation (Linux: MemAvailable; elsewhere psutil, or 2 GB)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001 - no psutil, or no answer from the system
        return DEFAULT_MEMORY


def _size(n_bytes):
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n_bytes < 1000 or unit == "PB":
            return f"{n_bytes:,.0f} {unit}" if unit == "bytes" else f"{n_bytes:,.1f} {unit}"
        n_bytes /= 1000


def _duration(seconds):
    if seconds < 120:
        return f"{seconds:,.0f} seconds"
    if seconds < 7200:
        return f"{seconds / 60:,.0f} minutes"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:,.1f} hours"
    return f"{seconds / 86400:,.0f} days"


def check_horizon(horizon, customers, rows_at_once=None, name="horizon", memory=None,
                  grid_rows=0, grid_cost=0.0, summed=False):
    """Refuse, before any allocation, a forecast horizon whose memory or time is out of reach.

    A per-period forecast (:func:`forecast_values`) holds ``(periods + 1) x rows_at_once``
    numbers at once (all ``customers`` by default) and computes ``(periods + 1) x customers``
    of them, estimated at :data:`BYTES_PER_CELL` and :data:`SECONDS_PER_CELL`, plus, when
    given, a grid of expected purchases over ``grid_rows`` distinct customers at ``grid_cost``
    seconds a cell (measured: the series behind E[Y(t)] slows down as t grows).

    With ``summed``, the forecast is the expected purchases summed over the horizon
    (:func:`horizon_sums`, what :meth:`CustomerForecast.ltv` and ``predict`` use): nothing of
    size periods x customers exists. It holds a block of periods of the grid (about
    :data:`PERIOD_BLOCK_CELLS` numbers), three numbers per distinct customer and the values of
    ``rows_at_once`` customers, whatever the horizon; it computes ``(periods + 1) x grid_rows``
    cells (at ``grid_cost``, :data:`SECONDS_PER_CELL` when not measured).

    It must fit in half the free memory (``memory``: default :func:`available_memory`) and take
    at most :data:`MAX_SECONDS`.

    >>> check_horizon(52, 1_000_000)
    >>> check_horizon(100_000_000, 1_500, memory=8 << 30)
    Traceback (most recent call last):
    ...
    customer_equity.errors.CustomerEquityError: horizon: a horizon of 100,000,000 periods for 1,500 customers needs about 4.8 TB of memory at once (4.3 GB free for it) and about 10.4 hours: give at most 89,477 periods (got 100000000)
    >>> check_horizon(100_000_000, 1_500, grid_rows=1_500, summed=True, memory=8 << 30)
    Traceback (most recent call last):
    ...
    customer_equity.errors.CustomerEquityError: horizon: a horizon of 100,000,000 periods for 1,500 customers needs about 8.5 MB of memory at once (4.3 GB free for it) and about 10.4 hours: give at most 1,599,999 periods (got 100000000)
    """
    horizon, customers = int(horizon), max(1, int(customers))
    at_once = customers if rows_at_once is None else max(1, min(int(rows_at_once), customers))
    budget = (available_memory() if memory is None else int(memory)) / 2
    if summed:
        grid = max(1, int(grid_rows))
        block = min(horizon + 1, max(1, PERIOD_BLOCK_CELLS // grid)) * grid
        need_bytes = (block + 3 * grid + at_once) * BYTES_PER_CELL
        per_period = grid * (grid_cost or SECONDS_PER_CELL)
        # memory does not grow with the horizon: only time bounds the periods
        most_for_memory = float("inf") if need_bytes <= budget else 0
    else:
        need_bytes = (horizon + 1) * at_once * BYTES_PER_CELL
        per_period = customers * SECONDS_PER_CELL + grid_rows * grid_cost
        most_for_memory = budget / (at_once * BYTES_PER_CELL)
    need_seconds = (horizon + 1) * per_period
    if need_bytes <= budget and need_seconds <= MAX_SECONDS:
        return
    most = int(min(most_for_memory, MAX_SECONDS / per_period)) - 1
    raise CustomerEquityError(
        name, f"a horizon of {horizon:,} periods for {customers:,} customers needs about "
        f"{_size(need_bytes)} of memory at once ({_size(budget)} free for it) and about "
        f"{_duration(need_seconds)}: give at most {max(most, 0):,} periods", value=horizon)


def _margin(margin):
    m = v.check_finite(v.as_float(margin, "margin", blank_ok=False), "margin")
    if np.ndim(m) != 0:
        raise CustomerEquityError("margin", "must be one number (margin per unit of revenue)")
    return float(m)


def _horizon(horizon):
    p = v.periods_array(horizon, "horizon")
    if np.ndim(p) != 0:
        raise CustomerEquityError("horizon", "must be one whole number of periods")
    return int(p)


#: Distinct customers, and points of the horizon, at which the expected purchases are timed
#: to estimate the grid's cost: one call of about 16,000 cells, so that the call's fixed cost
#: (milliseconds) is shared as it is when the grid is computed in blocks.
COST_SAMPLE = 256
COST_POINTS = 64


def _grid_cost(fit, periods, ux, uT):
    """Seconds a cell of the expected-purchases grid takes, measured in one call on a sample
    of the distinct customers at points spread over the horizon (the series is slower the
    longer the horizon: the mean over the horizon is what the grid costs)."""
    import time

    if not len(ux):
        return 0.0
    pick = np.unique(np.linspace(0, len(ux) - 1, min(len(ux), COST_SAMPLE)).astype(np.int64))
    points = min(COST_POINTS, max(1, int(periods)))
    t = np.linspace(max(periods, 1) / points, max(periods, 1), points)[:, None]
    started = time.perf_counter()
    with np.errstate(all="ignore"):
        _purchases.numerator(fit, t, ux[pick], uT[pick])
    return max((time.perf_counter() - started) / t.size / pick.size, 2e-8)


def _series_cost(bgnbd, periods, x, t_x, T, sample=32):
    """Seconds a customer-period of E[Y(t)] takes, timed on a sample of the customers at half
    the horizon and at the horizon (its series is slower the longer the horizon)."""
    import time

    if x.size == 0:
        return 0.0
    pick = np.unique(np.linspace(0, x.size - 1, min(x.size, sample)).astype(np.int64))
    t = np.array([[periods / 2], [float(periods)]])
    started = time.perf_counter()
    with np.errstate(all="ignore"):
        try:
            expected_purchases(bgnbd, t, x[pick], t_x[pick], T[pick])
        except CustomerEquityError:
            return 0.0  # the forecast itself gives the clear error
    return max((time.perf_counter() - started) / t.size / pick.size, 2e-8)


def forecast_values(bgnbd: Params, gamma_gamma: Params, frequency: ArrayLike, recency: ArrayLike,
                    T: ArrayLike, monetary_value: ArrayLike,
                    horizon: int, margin: float = 1.0) -> np.ndarray:
    """Expected purchase value of each customer in each of the next ``horizon`` periods.

    Parameters
    ----------
    bgnbd : FittedModel, mapping or sequence
        BG/NBD ``r, alpha, a, b``.
    gamma_gamma : FittedModel, mapping or sequence
        Gamma-Gamma ``p, q, v`` (``q > 1``).
    frequency, recency, T, monetary_value : array_like
        The customers' summaries; a period is one unit of their time.
    horizon : int
        Number of periods ``K`` to forecast.
    margin : float
        Margin per unit of revenue (1 = revenue itself). Default 1.

    Returns
    -------
    ndarray, shape (N, K)
        ``PV_k`` per customer (rows) and period (columns), money per period.

    Notes
    -----
    .. math:: PV_k = \\bigl(E[Y(k)] - E[Y(k-1)]\\bigr)\\,E[M]\\,\\text{margin}

    with ``E[Y]`` the BG/NBD conditional expectation (Fader, Hardie & Lee 2005,
    eq. 10) and ``E[M]`` the Gamma-Gamma expected spend (Fader, Hardie & Lee
    2005, JMR, eq. 5).

    Examples
    --------
    >>> pv = forecast_values((1, 2, 3, 2), (2, 3, 10), [2, 0], [1, 0], [4, 4], [25.0, 0.0], 3)
    >>> pv.shape, bool((pv > 0).all())
    ((2, 3), True)
    """
    x, t_x, T = summary_arrays(frequency, recency, T)
    k = _horizon(horizon)
    m = _margin(margin)
    check_horizon(k, x.size, grid_rows=x.size, grid_cost=_series_cost(bgnbd, k, x, t_x, T))
    cumulative = expected_purchases(bgnbd, np.arange(k + 1, dtype=np.float64)[:, None], x, t_x, T)
    spend = expected_spend(gamma_gamma, x, monetary_value)
    return np.diff(cumulative, axis=0).T * (spend * m)[:, None]


def forecast_ltv(values: ArrayLike, rate: float, timing: str = "end") -> np.ndarray:
    """Forecast lifetime value: the per-period values discounted and summed.

    Parameters
    ----------
    values : array_like, shape (N, K)
        ``PV_k`` from :func:`forecast_values`.
    rate : float
        Discount rate per period (the summary's unit), > -1.
    timing : {"end", "begin"}
        End-of-period discounting (default, Excel ``NPV``) or beginning.

    Notes
    -----
    .. math:: CLV = \\sum_{k=1}^{K} PV_k (1+i)^{-k}

    Examples
    --------
    >>> forecast_ltv([[110.0, 121.0]], 0.10).round(6)
    array([200.])
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise CustomerEquityError("values", "must be a table: one row per customer, one column "
                                  "per period")
    if values.shape[1] == 0 or values.shape[0] == 0:
        return np.zeros(values.shape[0])
    out = present_value(rate, values, timing=timing)
    return np.atleast_1d(out)


@dataclasses.dataclass(frozen=True)
class HorizonSums:
    """The expected purchases over a horizon, summed per distinct ``(x, T)``.

    With ``N_k(x, T)`` the numerator of ``E[Y(k)]`` (Fader, Hardie & Lee 2005, eq. 10:
    ``E[Y(k) | x, t_x, T] = N_k(x, T) / (1 + odds(x, t_x, T))``, the odds of
    :func:`~customer_equity.model.forecast.p_alive`):

    Attributes
    ----------
    rows : ndarray of int
        For each customer, its row of ``discounted`` and ``at_horizon``.
    discounted : ndarray
        ``sum_k f_k (N_k - N_{k-1})``, ``k = 1..K``, with the discount factors ``f_k``.
    at_horizon : ndarray
        ``N_K``.
    """

    rows: np.ndarray
    discounted: np.ndarray
    at_horizon: np.ndarray

    def ltv(self, rows, odds, spend):
        """The customers' forecast values: ``discounted / (1 + odds) * spend``, for the
        customers ``rows`` (a slice or index of :attr:`rows`), with their odds of having
        dropped out and their expected spend (times the margin)."""
        return self.discounted[self.rows[rows]] / (1.0 + odds) * spend

    def purchases(self, rows, odds):
        """The customers' expected purchases over the horizon, ``E[Y(K)]``."""
        return self.at_horizon[self.rows[rows]] / (1.0 + odds)


#: The name before the naming pass (issue 19): lifetime value is ``ltv`` everywhere.
forecast_clv = forecast_ltv


def _purchase_fit(model: Params) -> FittedModel:
    """A fitted purchase model (BG/NBD, Pareto/NBD or MBG/NBD) as it is, or BG/NBD's
    ``r, alpha, a, b`` given as a mapping or sequence, checked."""
    if isinstance(model, FittedModel) and model.model in _purchases.PURCHASE_MODELS:
        parameters(model, model.model)
        return model
    values = parameters(model, "bgnbd")
    return FittedModel("bgnbd", dict(zip(("r", "alpha", "a", "b"), values)), {}, float("nan"),
                       0, 0)


def horizon_sums(model: Params, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike,
                 horizon: int, factors: ArrayLike, progress=None,
                 name: str = "horizon") -> HorizonSums:
    """Discounted expected purchases over ``horizon`` periods, once per distinct ``(x, T)``.

    The expected purchases of a period depend on ``(x, t_x, T)`` only through
    ``N_k(x, T) / (1 + odds)``: the table of ``N_k`` is evaluated for the distinct
    ``(x, T)`` of the customers, a block of periods at a time (about
    :data:`PERIOD_BLOCK_CELLS` numbers held), and each period's differences are added
    into a running sum in period order. The cost is linear in ``horizon`` and memory
    does not grow with it; each customer then needs one gather.

    Parameters
    ----------
    model : FittedModel, mapping or sequence
        The fitted purchase model: BG/NBD (also as ``r, alpha, a, b``), Pareto/NBD or
        MBG/NBD (:mod:`~customer_equity.model.forecast.purchases`).
    frequency, recency, T : array_like
        The customers' summaries.
    horizon : int
        ``K``.
    factors : array_like, shape (K,)
        Discount factors ``f_1 .. f_K`` (:func:`customer_equity.model.discount_factors`).
    progress : callable, optional
        Called with the number of periods done after each block (``tqdm.update``).
    name : str
        The argument named when the horizon is out of reach: its cost is measured on a sample
        of the distinct rows and bounded by :func:`check_horizon` (``summed``) before the sums
        are allocated.

    Returns
    -------
    HorizonSums

    Examples
    --------
    Undiscounted, the sum is the numerator of ``E[Y(K)]``:

    >>> h = horizon_sums((1, 2, 3, 2), [2, 0, 2], [1, 0, 1], [4, 4, 4], 3, [1.0, 1.0, 1.0])
    >>> h.rows.tolist(), bool(np.allclose(h.discounted, h.at_horizon))
    ([1, 0, 1], True)
    """
    fit = _purchase_fit(model)
    x, t_x, T = summary_arrays(frequency, recency, T)
    k_total = _horizon(horizon)
    factors = np.asarray(factors, dtype=np.float64).reshape(-1)
    if factors.size != k_total:
        raise CustomerEquityError("factors", f"has {factors.size} values for {k_total} periods")
    (ux, uT), rows = group_rows(x, T)
    # the customers' rows (int32: an eighth of a cell each) and a block of the grid are held
    check_horizon(k_total, x.size, rows_at_once=x.size // 8 + 1, name=name, grid_rows=ux.size,
                  grid_cost=_grid_cost(fit, k_total, ux, uT), summed=True)
    if rows.size and int(rows.max()) < np.iinfo(np.int32).max:
        rows = rows.astype(np.int32)  # ten million customers: 40 MB, not 80
    discounted = np.zeros(ux.size)
    previous = np.zeros(ux.size)  # N_0 = 0: nothing expected in no time
    block = max(1, PERIOD_BLOCK_CELLS // max(ux.size, 1))
    for start in range(1, k_total + 1, block):
        stop = min(start + block, k_total + 1)
        k = np.arange(start, stop, dtype=np.float64)[:, None]
        table = _purchases.numerator(fit, k, ux, uT) + 0.0
        if not np.isfinite(table).all():  # the clear error of expected_purchases
            bad = int(np.flatnonzero(~np.isfinite(table).all(axis=1))[0]) + start
            _purchases.expected_purchases(fit, float(bad), x, t_x, T)
        for j in range(table.shape[0]):  # period by period: the same sums in any blocks
            discounted += (table[j] - previous) * factors[start - 1 + j]
            previous = table[j]
        if progress is not None:
            progress(stop - start)
    return HorizonSums(rows=rows, discounted=discounted, at_horizon=previous)


def customer_lifetime_value(bgnbd: Params, gamma_gamma: Params, frequency: ArrayLike,
                            recency: ArrayLike, T: ArrayLike, monetary_value: ArrayLike,
                            horizon: int, rate: float, margin: float = 1.0, timing: str = "end",
                            progress=None) -> np.ndarray:
    """Each customer's forecast lifetime value, without the per-period table.

    The same number as ``forecast_ltv(forecast_values(...), rate, timing)``, at a cost
    linear in ``horizon`` and memory that does not grow with them
    (:func:`horizon_sums`): for a long horizon or many customers.

    Parameters
    ----------
    bgnbd : FittedModel, mapping or sequence
        The purchase model: BG/NBD's ``r, alpha, a, b`` or a fitted BG/NBD, Pareto/NBD or
        MBG/NBD (as :func:`horizon_sums`).
    gamma_gamma, frequency, recency, T, monetary_value, periods, margin
        As :func:`forecast_values`.
    rate : float
        Discount rate per period, > -1.
    timing : {"end", "begin"}
        End-of-period discounting (default) or beginning.
    progress : callable, optional
        Called with the number of periods done after each block.

    Returns
    -------
    ndarray
        CLV per customer.

    Notes
    -----
    .. math::

        CLV = \\frac{E[M]\\,\\text{margin}}{1 + \\text{odds}}
              \\sum_{k=1}^{K} (1+i)^{-k} \\bigl(N_k(x, T) - N_{k-1}(x, T)\\bigr)

    with ``N_k / (1 + odds) = E[Y(k)]`` (Fader, Hardie & Lee 2005, eq. 10 and 11) and
    ``E[M]`` the Gamma-Gamma expected spend (Fader, Hardie & Lee 2005, JMR, eq. 5).

    Examples
    --------
    >>> args = (1, 2, 3, 2), (2, 3, 10), [2, 0], [1, 0], [4, 4], [25.0, 0.0], 3
    >>> ltv = customer_lifetime_value(*args, rate=0.1)
    >>> bool(np.allclose(ltv, forecast_ltv(forecast_values(*args), 0.1)))
    True
    """
    x, t_x, T = summary_arrays(frequency, recency, T)
    k = _horizon(horizon)
    fit = _purchase_fit(bgnbd)
    sums = horizon_sums(fit, x, t_x, T, k, discount_factors(rate, k, timing), progress)
    odds = _purchases.dropout_odds(fit, x, t_x, T)
    spend = expected_spend(gamma_gamma, x, monetary_value)
    return sums.ltv(slice(None), odds, spend * _margin(margin))


def id_keys(ids: ArrayLike) -> np.ndarray:
    """Customer ids as text keys, so that ``4``, ``4.0`` and ``"4"`` match.

    >>> id_keys([4, 4.0, " 4 ", "A7"]).tolist()
    ['4', '4', '4', 'A7']
    """
    out = []
    for x in np.asarray(ids, dtype=object).ravel():
        if isinstance(x, (float, np.floating)) and float(x).is_integer():
            x = int(x)
        out.append(str(x).strip())
    return np.array(out, dtype=object)


@dataclasses.dataclass
class ForecastJoin:
    """A customer table with the forecast PV block, and who did not match.

    Attributes
    ----------
    table : pandas.DataFrame
        The customer table's matched rows with ``periods`` = K and ``pv_1..pv_K``.
    log_rows : ndarray of int
        For each row of ``table``, the row of the forecast it came from.
    log_only : int
        Customers forecast from the log but not in the customer table (left out).
    table_only : int
        Customers in the table but not in the log (left out: nothing to forecast).
    replaced : list of str
        Columns of the customer table the forecast replaced.
    """

    table: pd.DataFrame
    log_rows: np.ndarray
    log_only: int
    table_only: int
    replaced: list


def join_forecast(customers: pd.DataFrame, ids: ArrayLike, values: ArrayLike) -> ForecastJoin:
    """Join forecast PV streams to a customer table by ``customer_id``.

    Parameters
    ----------
    customers : pandas.DataFrame
        The customer table of :func:`customer_equity.measure` with a ``customer_id``
        column (types or indicators, PPV, CV, KV, TV inputs).
    ids : array_like
        The forecast customers' ids.
    values : array_like, shape (N, K)
        Their ``PV_k`` (:func:`forecast_values`).

    Returns
    -------
    ForecastJoin
        ``periods = K`` and ``pv_1..pv_K`` on each matched row. The table's own PV
        inputs and ``periods`` are replaced (named in ``replaced``). The
        measurement covers the customers in both; the others are counted.

    Examples
    --------
    >>> table = pd.DataFrame({"customer_id": [1, 2, 9], "type": ["Follower"] * 3, "cv": [1.0] * 3})
    >>> j = join_forecast(table, ["1", "2", "3"], [[10.0, 5.0], [4.0, 2.0], [1.0, 1.0]])
    >>> j.table[["customer_id", "periods", "pv_1", "pv_2"]]
       customer_id  periods  pv_1  pv_2
    0            1        2  10.0   5.0
    1            2        2   4.0   2.0
    >>> j.log_only, j.table_only
    (1, 1)
    """
    if not isinstance(customers, pd.DataFrame):
        raise CustomerEquityError("customers", "must be a pandas DataFrame, one row per customer")
    if "customer_id" not in customers.columns:
        raise CustomerEquityError("customer_id", "column missing: the customer table needs the "
                                  "customer ids of the log to join the forecast")
    values = np.asarray(values, dtype=np.float64)
    table_keys = id_keys(customers["customer_id"].to_numpy())
    dup = pd.Index(table_keys).duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup)[0]) + 1
        raise CustomerEquityError("customer_id", "the same customer twice in the customer table",
                                  row=row, value=customers["customer_id"].iloc[row - 1])
    log_index = pd.Index(id_keys(ids))
    position = log_index.get_indexer(table_keys)
    matched = position >= 0
    replaced = [c for c in customers.columns
                if c in PV_INPUTS or any(c.startswith(f"{p}_") and c[len(p) + 1:].isdigit()
                                         for p in PV_INPUTS)]
    table = customers.loc[matched].drop(columns=replaced).reset_index(drop=True)
    rows = position[matched]
    k = values.shape[1] if values.ndim == 2 else 0
    block = pd.DataFrame(values[rows].reshape(len(rows), k),
                         columns=[f"pv_{j + 1}" for j in range(k)])
    table = pd.concat([table, block], axis=1)
    table["periods"] = k
    return ForecastJoin(table=table, log_rows=rows, log_only=int(len(log_index) - matched.sum()),
                        table_only=int((~matched).sum()), replaced=replaced)
