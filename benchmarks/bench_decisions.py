"""Decisions benchmark: each decision's cost as a ratio of one measurement of the same base.

Every what-if is a measurement of a changed table, so the natural baseline is
``measure(customers, config)`` on the same customers, timed in the same process.
Reported for 10^4 and 10^5 customers (``generate_customers``, sample configuration,
classification by weighted score and transaction income to allocate), best of 3:

- ``structure_table`` and ``compare_structures`` of two measurements;
- ``what_if`` with a new rate, a retention change (stretched lifetimes: blocks of
  per-period columns), and moves between types;
- ``what_if_grid`` 7 x 5 (retention x rate, the Sensitivity sheet's size);
- ``retention_watch`` (five what-ifs);
- ``screen_prospects`` of 10 % as many prospects on the six indicators.

Run: ``python benchmarks/bench_decisions.py [--sizes 10000 100000]``. Not a test:
nothing is asserted.
"""

from __future__ import annotations

import argparse
import time

import customer_equity as ce

TRAITS = ["income", "education", "innovativeness", "opinion_leadership", "brand_loyalty",
          "price_tolerance"]


def best_of(fn, runs=3):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def run(n):
    df = ce.generate_customers(n)
    config = ce.sample_config()
    base = ce.measure(df, config)
    other = ce.measure(df.assign(periods=df["periods"] + 1), config)
    prospects = ce.generate_customers(max(n // 10, 10), seed=7)[TRAITS]
    baseline = best_of(lambda: ce.measure(df, config))
    cases = {
        "structure_table": lambda: ce.structure_table(base),
        "compare_structures (2)": lambda: ce.compare_structures([base, other]),
        "what_if rate": lambda: ce.what_if(df, config, rate=0.12, base=base),
        "what_if retention +2 pts": lambda: ce.what_if(df, config, retention_change=0.02, base=base),
        "what_if moves (1% up)": lambda: ce.what_if(
            df, config, moves={("Rational", "Follower"): n // 100}, base=base),
        "what_if_grid 7 x 5": lambda: ce.what_if_grid(
            df, config, "retention_change", [-0.05, -0.025, 0, 0.025, 0.05, 0.075, 0.1],
            "rate", [0.06, 0.08, 0.1, 0.12, 0.14], base=base),
        "retention_watch": lambda: ce.retention_watch(df, config, base=base),
        "screen_prospects (n/10)": lambda: ce.screen_prospects(prospects, df[TRAITS], base),
    }
    print(f"\n{n:,} customers: measure() {baseline * 1000:,.1f} ms (= 1.0)", flush=True)
    for name, fn in cases.items():
        runs = 1 if "grid" in name or "watch" in name else 3
        seconds = best_of(fn, runs)
        print(f"  {name:<28} {seconds * 1000:>10,.1f} ms  {seconds / baseline:>7.2f} x measure", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    for n in parser.parse_args().sizes:
        run(n)


if __name__ == "__main__":
    main()
