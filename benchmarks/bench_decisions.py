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

The Excel side: ``CE_WHATIF`` and ``CE_RETENTION_WATCH`` called through xlwings' COM
path (``tests/xlwings_harness.py``: ``call_udf`` -> ``conversion``, the cells of a
``Customers[#All]`` range with its header) against the core function on the same
table, in the same process, at worksheet sizes (10^3 and 10^4 customers): the ratio is
what the thin adapter (reading the table, writing the spill) costs.

Run: ``python benchmarks/bench_decisions.py [--sizes 10000 100000] [--excel-sizes 1000 10000]``.
Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import customer_equity as ce  # noqa: E402

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


def run_excel(n):
    from xlwings_harness import Cells, ComRuntime

    df = ce.generate_customers(n)
    config = ce.MeasureConfig(rate=0.1, iv=50.0)
    rows = [list(df.columns)] + [[float(v) if isinstance(v, int) and not isinstance(v, bool) else v
                                  for v in row] for row in df.astype(object).values.tolist()]
    table = Cells(rows)
    settings = Cells([["rate", 0.1], ["iv", 50.0]])
    print(f"\n{n:,} customers through xlwings' COM path (the core on the same table = 1.0)", flush=True)
    with ComRuntime() as com:
        cases = {
            "CE_WHATIF retention +5 pts": (
                lambda: com.call("customer_equity.excel.functions", "ce_whatif", table, settings, 0.05),
                lambda: ce.what_if(df, config, retention_change=0.05)),
            "CE_RETENTION_WATCH": (
                lambda: com.call("customer_equity.excel.functions", "ce_retention_watch", table, settings),
                lambda: ce.retention_watch(df, config)),
        }
        for name, (excel, core) in cases.items():
            e, c = best_of(excel), best_of(core)
            print(f"  {name:<28} {e * 1000:>10,.1f} ms  {e / c:>7.2f} x the core "
                  f"({c * 1000:,.1f} ms)", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--excel-sizes", type=int, nargs="+", default=[1_000, 10_000])
    args = parser.parse_args()
    for n in args.sizes:
        run(n)
    for n in args.excel_sizes:
        run_excel(n)


if __name__ == "__main__":
    main()
