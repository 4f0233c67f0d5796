"""Core benchmark: prints ratios against baselines run in the same process.

1. Lifetime value of 1,000,000 customers x 20 periods (``ltv_contribution`` on a
   block) against one numpy pass over the same array (``values.sum(axis=1)``): the
   memory-bandwidth floor. Target: within 2x.
2. The full measurement (``measure``) of 1,000,000 customers with 20-period blocks
   against a straightforward row-by-row pandas implementation (``DataFrame.apply``
   over rows, a loop over periods). The row-by-row version is timed on a slice and
   scaled linearly (it would take minutes on the whole table). Target: >= 100x.

Run: ``python benchmarks/bench_core.py [N]``. Not a test: timings are not asserted.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

import customer_equity as ce


def best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


CAPS = {"Lighthouse": ("pv", "ppv", "cv", "kv", "tv"), "Follower": ("pv", "ppv", "cv", "tv"),
        "Rational": ("pv", "ppv", "cv"), "Profit-seeking": ("pv",)}
WEIGHTS = ce.DEFAULT_WEIGHTS


def row_by_row(df: pd.DataFrame, config: ce.MeasureConfig) -> float:
    """What an analyst would write first: one customer at a time."""
    T = 20

    def one(row):
        score = round(sum(row[k] * w for k, w in WEIGHTS.items()), 10)
        c = config.cutoffs
        kind = ("Lighthouse" if score >= c[0] else "Follower" if score >= c[1]
                else "Rational" if score >= c[2] else "Profit-seeking")
        total = 0.0
        for t in range(1, min(int(row["periods"]), T) + 1):
            cap = row[f"capacity_{t}"]
            flows = {"pv": (0.0 if pd.isna(cap) else cap) * row["share"] * row["margin"],
                     "ppv": row["influence"] * row["reach"] * row["avg_value"],
                     "cv": row["cv"], "kv": row["kv"], "tv": 0.0}
            total += sum(flows[k] for k in CAPS[kind]) / (1 + config.rate) ** t
        return total + config.iv

    return df.apply(one, axis=1).sum()


def main(n=1_000_000, periods=20):
    rng = np.random.default_rng(1)
    values = rng.normal(100.0, 40.0, (n, periods))
    print(f"customers {n:,} x periods {periods}, numpy {np.__version__}, pandas {pd.__version__}")

    ones = np.ones(periods)
    floor_sum = best_of(lambda: values.sum(axis=1))
    floor_blas = best_of(lambda: values @ ones)
    core = best_of(lambda: ce.ltv_contribution(0.01, values))
    print(f"1. ltv_contribution       {core * 1e3:8.1f} ms")
    print(f"   numpy pass values.sum(axis=1)  {floor_sum * 1e3:8.1f} ms   ratio {core / floor_sum:5.2f}x")
    print(f"   numpy pass values @ ones       {floor_blas * 1e3:8.1f} ms   ratio {core / floor_blas:5.2f}x"
          "  (target <= 2x)")

    df = ce.generate_customers(n, seed=7, periods_block=periods).drop(columns="stage")
    config = ce.MeasureConfig(rate=0.10, iv=50.0)
    full = best_of(lambda: ce.measure(df, config), repeat=3)
    slice_n = 20_000
    t0 = time.perf_counter()
    ref = row_by_row(df.iloc[:slice_n], config)
    slow = (time.perf_counter() - t0) * n / slice_n
    check = ce.measure(df.iloc[:slice_n], config).equity
    assert abs(ref - check) <= 1e-6 * abs(check), (ref, check)
    print(f"2. measure()              {full * 1e3:8.1f} ms   row-by-row pandas (scaled from "
          f"{slice_n:,} rows) {slow:8.1f} s   speed-up {slow / full:7.0f}x  (target >= 100x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
