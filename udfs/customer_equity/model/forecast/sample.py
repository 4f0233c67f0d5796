"""The CDNOW sample transaction log shipped with the package (see data/cdnow_sample.md)."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

__all__ = ["CDNOW_BGNBD", "CDNOW_GAMMA_GAMMA", "cdnow_path", "generate_log", "load_cdnow"]


def cdnow_path() -> Traversable:
    """Path of the bundled ``cdnow_sample.csv`` (customer_id, date, amount)."""
    return resources.files("customer_equity") / "data" / "cdnow_sample.csv"


def load_cdnow() -> pd.DataFrame:
    """The CDNOW 1/10 sample: 6,919 transactions of 2,357 customers, 1997-01-01 to 1998-06-30.

    Fader, Hardie & Lee (2005), "Counting your customers the easy way"; as distributed
    in lifetimes (MIT).

    >>> log = load_cdnow()
    >>> len(log), log["customer_id"].nunique(), float(log["amount"].sum().round(2))
    (6919, 2357, 244091.94)
    """
    with resources.as_file(cdnow_path()) as path:
        return pd.read_csv(path, parse_dates=["date"])


#: Fader, Hardie & Lee's CDNOW estimates (weeks; dollars), used to generate logs.
CDNOW_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}


def generate_log(n: int, seed: int = 1997, *, start: str = "2024-01-01", cohort_days: int = 84,
                 days: int = 546, bgnbd=None, gamma_gamma=None) -> pd.DataFrame:
    """A synthetic transaction log drawn from BG/NBD purchases and Gamma-Gamma spend.

    Each of ``n`` customers makes a first purchase on a day drawn uniformly from the
    first ``cohort_days``, then buys as a Poisson process of rate ``lambda`` per
    week, dropping out after each repeat purchase with probability ``p``, until ``days``
    after ``start``; ``lambda ~ Gamma(r, alpha)``, ``p ~ Beta(a, b)``. Each amount is
    ``Gamma(p, nu)`` with ``nu ~ Gamma(q, v)``, rounded to cents (at least 0.01).
    Default parameters: Fader, Hardie & Lee's CDNOW estimates.

    Parameters
    ----------
    n : int
        Customers.
    seed : int
        Random seed (the same seed gives the same log).

    Returns
    -------
    pandas.DataFrame
        ``customer_id`` (1..n), ``date``, ``amount``, in order of customer and date.

    Examples
    --------
    >>> log = generate_log(1000, seed=1)
    >>> log["customer_id"].nunique(), bool(log["amount"].min() > 0)
    (1000, True)
    """
    import numpy as np

    bg = {**CDNOW_BGNBD, **(bgnbd or {})}
    gg = {**CDNOW_GAMMA_GAMMA, **(gamma_gamma or {})}
    rng = np.random.default_rng(seed)
    rate = rng.gamma(bg["r"], 1.0 / bg["alpha"], n) / 7.0  # per day
    drop = rng.beta(bg["a"], bg["b"], n)
    nu = rng.gamma(gg["q"], 1.0 / gg["v"], n)
    first = rng.integers(0, cohort_days, n).astype(np.float64)
    customers, times = [np.arange(n)], [first]
    t = first.copy()
    active = np.arange(n)
    while active.size:  # the next repeat purchase, then perhaps the drop-out after it
        with np.errstate(divide="ignore"):
            t[active] += rng.exponential(1.0, active.size) / rate[active]
        active = active[t[active] < days]
        customers.append(active)
        times.append(t[active].copy())
        active = active[rng.random(active.size) >= drop[active]]
    cust = np.concatenate(customers)
    day = np.floor(np.concatenate(times)).astype(np.int64)
    order = np.lexsort((day, cust))
    cust, day = cust[order], day[order]
    amount = np.maximum(np.round(rng.gamma(gg["p"], 1.0 / nu[cust]), 2), 0.01)
    base = np.datetime64(start, "D")
    return pd.DataFrame({"customer_id": cust + 1, "date": base + day.astype("timedelta64[D]"),
                         "amount": amount})
