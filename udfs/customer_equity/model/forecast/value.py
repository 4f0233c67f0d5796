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
from ..discount import present_value
from ._base import Params, summary_arrays
from .bgnbd import expected_purchases
from .gamma_gamma import expected_spend

__all__ = ["PV_INPUTS", "CHUNK_ROWS", "ForecastJoin", "check_horizon", "forecast_clv",
           "forecast_values", "join_forecast"]

#: Customer-table columns the forecast replaces (PV comes from the forecast).
PV_INPUTS = ("pv", "capacity", "share", "margin", "periods")

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


def check_horizon(periods, customers, rows_at_once=None, name="periods", memory=None,
                  grid_rows=0, grid_cost=0.0):
    """Refuse, before any allocation, a forecast horizon whose memory or time is out of reach.

    A forecast holds ``(periods + 1) x rows_at_once`` numbers at once (all ``customers`` by
    default) and computes ``(periods + 1) x customers`` of them, estimated at
    :data:`BYTES_PER_CELL` and :data:`SECONDS_PER_CELL`, plus, when given, a grid of expected
    purchases over ``grid_rows`` distinct customers at ``grid_cost`` seconds a cell (measured:
    the series behind E[Y(t)] slows down as t grows). It must fit in half the free memory
    (``memory``: default :func:`available_memory`) and take at most :data:`MAX_SECONDS`.

    >>> check_horizon(52, 1_000_000)
    >>> check_horizon(100_000_000, 1_500, memory=8 << 30)
    Traceback (most recent call last):
    ...
    customer_equity.errors.CustomerEquityError: periods: a horizon of 100,000,000 periods for 1,500 customers needs about 4.8 TB of memory at once (4.3 GB free for it) and about 10.4 hours: give at most 89,477 periods (got 100000000)
    """
    periods, customers = int(periods), max(1, int(customers))
    at_once = customers if rows_at_once is None else max(1, min(int(rows_at_once), customers))
    budget = (available_memory() if memory is None else int(memory)) / 2
    per_period = customers * SECONDS_PER_CELL + grid_rows * grid_cost
    need_bytes = (periods + 1) * at_once * BYTES_PER_CELL
    need_seconds = (periods + 1) * per_period
    if need_bytes <= budget and need_seconds <= MAX_SECONDS:
        return
    most = int(min(budget / (at_once * BYTES_PER_CELL), MAX_SECONDS / per_period)) - 1
    raise CustomerEquityError(
        name, f"a horizon of {periods:,} periods for {customers:,} customers needs about "
        f"{_size(need_bytes)} of memory at once ({_size(budget)} free for it) and about "
        f"{_duration(need_seconds)}: give at most {max(most, 0):,} periods", value=periods)


def _margin(margin):
    m = v.check_finite(v.as_float(margin, "margin", blank_ok=False), "margin")
    if np.ndim(m) != 0:
        raise CustomerEquityError("margin", "must be one number (margin per unit of revenue)")
    return float(m)


def _periods(periods):
    p = v.periods_array(periods, "periods")
    if np.ndim(p) != 0:
        raise CustomerEquityError("periods", "must be one whole number of periods")
    return int(p)


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
                    periods: int, margin: float = 1.0) -> np.ndarray:
    """Expected purchase value of each customer in each of the next ``periods`` periods.

    Parameters
    ----------
    bgnbd : FittedModel, mapping or sequence
        BG/NBD ``r, alpha, a, b``.
    gamma_gamma : FittedModel, mapping or sequence
        Gamma-Gamma ``p, q, v`` (``q > 1``).
    frequency, recency, T, monetary_value : array_like
        The customers' summaries; a period is one unit of their time.
    periods : int
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
    k = _periods(periods)
    m = _margin(margin)
    check_horizon(k, x.size, grid_rows=x.size, grid_cost=_series_cost(bgnbd, k, x, t_x, T))
    cumulative = expected_purchases(bgnbd, np.arange(k + 1, dtype=np.float64)[:, None], x, t_x, T)
    spend = expected_spend(gamma_gamma, x, monetary_value)
    return np.diff(cumulative, axis=0).T * (spend * m)[:, None]


def forecast_clv(values: ArrayLike, rate: float, timing: str = "end") -> np.ndarray:
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
    >>> forecast_clv([[110.0, 121.0]], 0.10).round(6)
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
