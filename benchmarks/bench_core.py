"""Core benchmark (not a test): the core against the plain numpy a user would write.

1. Lifetime value of 1,000,000 customers x 20 periods: ``ltv_contribution`` against one
   matrix-vector product with the discount factors, ``values @ (1 + rate) ** -t``.
2. The full measurement (``measure``) of 1,000,000 customers with 20-period blocks against
   the same measurement written in vectorised numpy by hand: weighted scores, the type by
   ``np.select`` over the cut-offs, each value stream discounted by matrix products, the
   capabilities of each type as a 0/1 table (:func:`numpy_measure`).

Both sides' results are compared (equal to 1e-12) before any time is printed; each time is
the median of ``--repeat`` runs alternating the two sides.

Run: ``python benchmarks/bench_core.py [--customers N] [--save FILE]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "udfs"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from figures import Output  # noqa: E402

import customer_equity as ce  # noqa: E402

print = Output("bench_core")  # noqa: A001  (everything printed is kept for --save)

#: The values each type provides (SPEC 3): PV, PPV, CV, KV, TV.
CAPABILITIES = np.array([[1, 1, 1, 1, 1],   # Lighthouse
                         [1, 1, 1, 0, 1],   # Follower
                         [1, 1, 1, 0, 0],   # Rational
                         [1, 0, 0, 0, 0]])  # Profit-seeking


def numpy_measure(df: pd.DataFrame, config: ce.MeasureConfig, width: int) -> float:
    """Customer equity of the generated table in plain vectorised numpy: what an analyst
    fluent in numpy would write for the same definitions (no transaction income here)."""
    weights = np.array(list(config.weights.values()))
    score = np.round(df[list(config.weights)].to_numpy(dtype=float) @ weights, 10)
    c = config.cutoffs
    kind = np.select([score >= c[0], score >= c[1], score >= c[2]], [0, 1, 2], 3)
    t = np.arange(1, width + 1)
    live = t <= np.minimum(df["periods"].to_numpy(), width)[:, None]
    factors = (1 + config.rate) ** -t.astype(float)
    capacity = np.nan_to_num(df[[f"capacity_{k}" for k in t]].to_numpy(dtype=float))
    annuity = live @ factors
    streams = np.stack([(capacity * live) @ factors * df["share"].to_numpy() * df["margin"].to_numpy(),
                        df["influence"].to_numpy() * df["reach"].to_numpy()
                        * df["avg_value"].to_numpy() * annuity,
                        df["cv"].to_numpy() * annuity, df["kv"].to_numpy() * annuity,
                        np.zeros(len(df))], axis=1)
    return float((CAPABILITIES[kind] * streams).sum() + config.iv * len(df))


def interleaved(ours, baseline, repeat):
    """Medians of ``repeat`` runs of each, alternating which goes first."""
    times = {"ours": [], "baseline": []}
    for k in range(repeat):
        for side in (("ours", "baseline") if k % 2 == 0 else ("baseline", "ours")):
            f = ours if side == "ours" else baseline
            started = time.perf_counter()
            f()
            times[side].append(time.perf_counter() - started)
    return {k: float(np.median(v)) for k, v in times.items()}, times


def check(name, ours, theirs, rtol=1e-12):
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    worst = float(np.max(np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-300)))
    if not worst <= rtol:
        raise SystemExit(f"{name}: results differ by {worst:.1e}: no time printed")
    return worst


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--periods", type=int, default=20)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--save", help="keep everything printed in this file")
    args = p.parse_args(argv)
    n, width = args.customers, args.periods
    rng = np.random.default_rng(1)
    values = rng.normal(100.0, 40.0, (n, width))
    rate = 0.01
    factors = (1 + rate) ** -np.arange(1.0, width + 1)

    df = ce.generate_customers(n, seed=7, periods_block=width).drop(columns="stage")
    config = ce.MeasureConfig(rate=0.10, iv=50.0)
    diffs = [check("ltv_contribution", ce.ltv_contribution(rate, values), values @ factors),
             check("measure", ce.measure(df, config).equity, numpy_measure(df, config, width))]
    first, _ = interleaved(lambda: ce.ltv_contribution(rate, values), lambda: values @ factors,
                           args.repeat)
    second, _ = interleaved(lambda: ce.measure(df, config), lambda: numpy_measure(df, config, width),
                            args.repeat)
    with print.block("core"):
        print(f"`python benchmarks/bench_core.py`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
              f": {n:,} customers x {width} periods; {os.cpu_count()} cores, Python "
              f"{platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}; load "
              f"average {os.getloadavg()[0]:.1f}; medians of {args.repeat} runs of each side, "
              "alternated")
        print()
        print("| what | ours | plain numpy | ours / numpy | results |")
        print("|---|---:|---:|---:|---|")
        print(f"| lifetime value of a block (`ltv_contribution`) | {first['ours'] * 1e3:.1f} ms | "
              f"{first['baseline'] * 1e3:.1f} ms (`values @ factors`) | "
              f"{first['ours'] / first['baseline']:.2f}x | equal to {diffs[0]:.0e} |")
        print(f"| the whole measurement (`measure()`) | {second['ours'] * 1e3:.0f} ms | "
              f"{second['baseline'] * 1e3:.0f} ms (`numpy_measure`) | "
              f"{second['ours'] / second['baseline']:.2f}x | equity equal to {diffs[1]:.0e} |")
    if args.save:
        print.save(args.save)


if __name__ == "__main__":
    main()
