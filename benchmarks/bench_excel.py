"""Excel-side benchmark: the Python cost of CE_ calls through xlwings' own conversion code.

Each call goes the way Excel's does on Windows: xlwings' COM server (CallUDF) ->
``xlwings.udfs.call_udf`` -> ``xlwings.conversion`` read and write, with pywin32's
Windows-only modules replaced by the test doubles of ``tests/xlwings_harness.py``.
The Excel side (COM marshalling, VBA wrapper, recalculation) is not measured.

Targets: a single-cell ``=CE_LTV(10%, B2:D2)`` under 50 microseconds (median); a
100,000-row spilled ``=CE_LTV(10%, B2:D100001)`` under 150 ms. The core alone is
printed beside each. ``=CE_TV_ALLOCATE(income, carriers)`` for 10,000 customers x 20
periods with customer types as carriers should cost about what TRUE/FALSE carriers cost
(the baseline, run in the same process): each distinct label is looked up once.

Run: ``python benchmarks/bench_excel.py``. Not a test: timings are not asserted.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import numpy as np  # noqa: E402
from xlwings_harness import Cells, ComRuntime, OfficeJsRuntime  # noqa: E402

import customer_equity as ce  # noqa: E402

M = "customer_equity.excel.functions"


def median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    rng = np.random.default_rng(0)
    one_row = [[100.0, 120.0, 150.0]]
    big = np.round(rng.normal(100, 30, (100_000, 3)), 2).tolist()
    print("customer-equity Excel-call benchmark (Python side only)")
    with ComRuntime(workbook_name="customer_equity.xlam") as com:
        single_call = com.prepared(M, "ce_ltv", 0.1, Cells(one_row))
        spill_call = com.prepared(M, "ce_ltv", 0.1, Cells(big))
        assert abs(single_call() - ce.ltv_contribution(0.1, one_row)) < 1e-9
        single = median_time(single_call, 3000)
        core_single = median_time(lambda: ce.ltv_contribution(0.1, one_row), 3000)
        spill = median_time(spill_call, 9)
        core_spill = median_time(lambda: ce.ltv_contribution(0.1, big), 9)
    print(f"COM single cell   {single * 1e6:8.1f} us median   core alone {core_single * 1e6:8.1f} us"
          f"   (target < 50 us)")
    print(f"COM 100,000 rows  {spill * 1e3:8.1f} ms median   core alone {core_spill * 1e3:8.1f} ms"
          f"   (target < 150 ms)")
    tv_allocate(rng)
    with OfficeJsRuntime() as ojs:
        ojs.call(M, "ce_ltv", 0.1, Cells(one_row))
        single_ojs = median_time(lambda: ojs.call(M, "ce_ltv", 0.1, Cells(one_row)), 500)
        spill_ojs = median_time(lambda: ojs.call(M, "ce_ltv", 0.1, Cells(big)), 5)
    print(f"Office.js single  {single_ojs * 1e6:8.1f} us median (custom_functions_call, incl. JSON)")
    print(f"Office.js 100,000 {spill_ojs * 1e3:8.1f} ms median")


def tv_allocate(rng, n=10_000, periods=20):
    """CE_TV_ALLOCATE over n x periods carrier cells: TRUE/FALSE (baseline), types, words."""
    income = [[float(x) for x in rng.integers(50_000, 150_000, periods)]]
    flags = rng.random((n, periods)) < 0.6
    flags[0] = True  # someone carries every period's income
    types = np.array(["Lighthouse", "Follower", "Rational", "Profit-seeking"], dtype=object)
    labels = types[rng.integers(0, 4, (n, periods))]
    labels[0] = "Lighthouse"
    words = np.where(flags, "yes", "no").astype(object)
    cases = {"TRUE/FALSE": flags.tolist(), "types": labels.tolist(), "yes/no": words.tolist()}
    with ComRuntime(workbook_name="customer_equity.xlam") as com:
        calls = {name: com.prepared(M, "ce_tv_allocate", Cells(income), Cells(cells))
                 for name, cells in cases.items()}
        times = {name: median_time(call, 5) for name, call in calls.items()}
    base = times["TRUE/FALSE"]
    for name, t in times.items():
        print(f"COM CE_TV_ALLOCATE {n:,} x {periods} carriers as {name:<10} {t * 1e3:8.1f} ms median"
              f"   {t / base:5.2f} x TRUE/FALSE")


if __name__ == "__main__":
    main()
