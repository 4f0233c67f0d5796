"""A deterministic synthetic customer base for demonstrations, tests and benchmarks."""

from __future__ import annotations

import dataclasses
from importlib import resources

import numpy as np
import pandas as pd

from .config import DEFAULT_WEIGHTS, MeasureConfig

__all__ = ["generate_customers", "load_sample", "sample_config", "SAMPLE_SEED", "SAMPLE_SIZE",
           "SAMPLE_INCOME_PER_CARRIER"]

SAMPLE_SEED = 2002
SAMPLE_SIZE = 1000

#: Transaction income per carrier and year in :func:`sample_config` (money).
SAMPLE_INCOME_PER_CARRIER = 500.0

# Per type (lighthouse, follower, rational, profit-seeking): share of customers, mean
# indicator rating (1-5), mean yearly spending capacity, share of wallet, retention years.
_MIX = np.array([0.10, 0.30, 0.35, 0.25])
_INDICATOR_MEAN = np.array([4.5, 3.5, 2.5, 1.5])
_CAPACITY = np.array([12000.0, 8000.0, 6000.0, 4000.0])
_SHARE = np.array([0.55, 0.45, 0.35, 0.20])
_YEARS = np.array([8.0, 6.0, 5.0, 2.5])
_STAGES = np.array(["introduction", "growth", "maturity", "decline"])


def generate_customers(n=SAMPLE_SIZE, seed=SAMPLE_SEED, periods_block=None):
    """A synthetic customer table with every input column :func:`measure` reads.

    How it is generated: each customer draws a latent type (10 % lighthouse, 30 %
    follower, 35 % rational, 25 % profit-seeking). The six indicators (1-5) scatter
    around the type's level (4.5, 3.5, 2.5, 1.5) with noise of sd 0.6, so that the
    default weights and cut-offs recover most types but not all, as in real data;
    the life-cycle stage of the first purchase follows the type 80 % of the time.
    Yearly spending capacity is lognormal around 12,000 / 8,000 / 6,000 / 4,000, share
    of wallet a beta around 55 / 45 / 35 / 20 %, unit margin normal around 18 % (about
    3 % of customers lose money). Influence is mostly small and positive with 8 %
    complainers (negative), reach Poisson around 5-30 people, the influenced buy
    about 600 a year. Contact information value is 0-80 a year, knowledge value
    mostly 0 (only some customers have it, lighthouse ones most). Retention time is
    geometric around 8 / 6 / 5 / 2.5 years, capped at 20. About 60 % of the customers
    whose type can carry transaction value do (``tv_carrier``). Relationship links
    (``key_customer``, ``decision_makers``, ``executive_link``, ``expert_link``) are
    drawn for the 10 % of key customers.

    Transaction income is not a column: it belongs to the firm's partner markets, and
    :func:`sample_config` makes it follow the carriers (500 per carrier and year).

    Parameters
    ----------
    n : int
        Number of customers.
    seed : int
        Seed of numpy's PCG64 generator: the same (n, seed) gives the same table.
    periods_block : int, optional
        Also give ``capacity`` as a block ``capacity_1..capacity_T`` of ``T`` yearly
        columns (growing 3 % a year with noise, blank after the customer's last
        year) instead of one column.

    Examples
    --------
    >>> df = generate_customers(5, seed=1)
    >>> len(df), "capacity" in df and "periods" in df
    (5, True)
    """
    rng = np.random.default_rng(seed)
    latent = rng.choice(4, size=n, p=_MIX)
    ind_level = _INDICATOR_MEAN[latent]
    data = {"customer_id": [f"C{k + 1:07d}" for k in range(n)]}
    for name in DEFAULT_WEIGHTS:
        data[name] = np.clip(np.rint(ind_level + rng.normal(0, 0.6, n)), 1, 5).astype(np.int64)
    stage_idx = np.where(rng.random(n) < 0.8, latent, rng.integers(0, 4, n))
    data["stage"] = _STAGES[stage_idx]
    periods = np.minimum(rng.geometric(1.0 / _YEARS[latent]), 20).astype(np.int64)
    data["periods"] = periods
    capacity = np.round(_CAPACITY[latent] * rng.lognormal(0, 0.35, n), 0)
    data["capacity"] = capacity
    a = 8.0
    data["share"] = np.round(rng.beta(a * _SHARE[latent], a * (1 - _SHARE[latent])), 3)
    data["margin"] = np.round(rng.normal(0.18, 0.08, n), 3)
    complainer = rng.random(n) < 0.08
    influence = np.where(complainer, -rng.uniform(0.01, 0.05, n), rng.uniform(0.0, 0.06, n) *
                         (4 - latent) / 4)
    data["influence"] = np.round(influence, 4)
    data["reach"] = rng.poisson(np.array([30, 15, 8, 3])[latent])
    data["avg_value"] = np.round(rng.normal(600, 120, n), 0)
    data["cv"] = np.round(rng.uniform(0, 80, n) * (latent < 3), 0)
    has_knowledge = rng.random(n) < np.array([0.6, 0.15, 0.1, 0.05])[latent]
    data["kv"] = np.round(np.where(has_knowledge, rng.gamma(2.0, 150.0, n), 0.0), 0)
    data["tv_carrier"] = rng.random(n) < 0.6
    key = rng.random(n) < 0.10
    data["key_customer"] = key
    data["decision_makers"] = np.where(key, rng.integers(0, 6, n), 0)
    data["executive_link"] = key & (rng.random(n) < 0.6)
    data["expert_link"] = key & (rng.random(n) < 0.4)
    df = pd.DataFrame(data)
    if periods_block:
        T = int(periods_block)
        growth = (1.03 ** np.arange(T)) * rng.lognormal(0, 0.05, (n, T))
        block = np.round(capacity[:, None] * growth, 0)
        block[np.arange(1, T + 1)[None, :] > periods[:, None]] = np.nan
        block_df = pd.DataFrame(block, columns=[f"capacity_{t}" for t in range(1, T + 1)])
        df = pd.concat([df.drop(columns="capacity"), block_df], axis=1)
    return df


def load_sample():
    """The bundled sample customer base: 1,000 customers, ``generate_customers(1000, 2002)``.

    ``data/sample_customers.csv`` is written by that call (``generate_customers(1000,
    2002).to_csv(path, index=False)``); a test checks that it still matches.

    Examples
    --------
    >>> df = load_sample()
    >>> df.shape[0], sorted(df["stage"].unique())[:2]
    (1000, ['decline', 'growth'])
    """
    with resources.files("customer_equity").joinpath("data/sample_customers.csv").open("rb") as fh:
        return pd.read_csv(fh)


def sample_config():
    """The configuration the bundled sample is measured with (yearly periods).

    10 % a year, end-of-period discounting, Iv 50 per customer, classification by the
    default weighted indicators, and transaction income from partner markets that
    follows its carriers: :data:`SAMPLE_INCOME_PER_CARRIER` (500) a year for each
    customer who carries transaction value that year. Income earned on the customers'
    trust shrinks as they leave, so each year's income is 500 times that year's
    carriers in the sample (about 121,000 in year 1, 5,500 in year 20), not a flat
    amount that would make the last carriers worth a fortune.

    Examples
    --------
    >>> cfg = sample_config()
    >>> len(cfg.transaction_income), cfg.transaction_income[0] > cfg.transaction_income[-1] > 0
    (20, True)
    """
    from .measure import carriers_per_period

    base = MeasureConfig(rate=0.10, iv=50.0)
    carriers = carriers_per_period(load_sample(), base)
    return dataclasses.replace(base, transaction_income=[SAMPLE_INCOME_PER_CARRIER * float(c)
                                                         for c in carriers])
