"""How long a recalculation of the transactions template takes on the Python side.

Each CE_ call the template makes on a recalculation (the summary, the two fits, the
predictions; equity by type is Excel's own SUMPRODUCT) is timed through xlwings' COM path (``CallUDF`` ->
``call_udf`` -> conversion -> the function, arguments marshalled once, as pywin32 would)
and through the Office.js path (``custom_functions_call`` with the JSON body), on the
CDNOW sample with the template's settings. Prints the time of each call, best of a few
runs, and their sum: the Python part of one full recalculation (Excel's own native
formulas and the transfer of the cells between Excel and Python are not included).

    python benchmarks/bench_transactions_template.py [--repeat 3] [--customers N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from customer_equity.model import forecast as fc  # noqa: E402
from customer_equity.excel.templates import transactions as T  # noqa: E402
from xlwings_harness import Cells, ComRuntime, OfficeJsRuntime  # noqa: E402

M = "customer_equity.excel.functions"


def column(values):
    return Cells([[v] for v in values])


def calls(log, res):
    """The template's CE_ calls, with the arguments the worksheet hands them."""
    s = T.SETTINGS
    serial = lambda d: float((d - T._dt.date(1899, 12, 30)).days)  # noqa: E731
    dates = [serial(d.date()) for d in log["date"]]
    x, t_x, T_, m = (column(res[k].tolist()) for k in ("x", "t_x", "T", "m"))
    bg = Cells(T._fit_rows(res["bgnbd"]))
    gg = Cells(T._fit_rows(res["gamma_gamma"], [("frequency-spend correlation", res["correlation"])]))
    return [
        ("CE_LOG_SUMMARY", "ce_log_summary", (column(log["customer_id"].tolist()), column(dates),
                                              column(log["amount"].tolist()), s["unit"],
                                              Cells([[serial(s["calibration_end"])]]),
                                              Cells([[serial(s["observation_end"])]]))),
        ("CE_BGNBD_FIT", "ce_bgnbd_fit", (x, t_x, T_)),
        ("CE_GAMMA_GAMMA_FIT", "ce_gamma_gamma_fit", (x, m)),
        ("CE_P_ALIVE", "ce_p_alive", (bg, x, t_x, T_)),
        ("CE_EXPECTED_PURCHASES (horizon)", "ce_expected_purchases", (bg, s["horizon"], x, t_x, T_)),
        ("CE_EXPECTED_PURCHASES (holdout)", "ce_expected_purchases", (bg, res["holdout_length"], x, t_x, T_)),
        ("CE_EXPECTED_PURCHASES (13 horizons)", "ce_expected_purchases",
         (bg, Cells([T.TIME_HORIZONS]), x, t_x, T_)),
        ("CE_EXPECTED_SPEND", "ce_expected_spend", (gg, x, m)),
        ("CE_FORECAST_LTV", "ce_forecast_ltv", (bg, gg, x, t_x, T_, m, s["margin"], res["rate"], s["horizon"])),
    ]


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    log = fc.load_cdnow()
    customers = T.sample_customers(sorted(log["customer_id"].unique()))
    res = T.compute(log, customers)
    table = calls(log, res)
    print(f"CDNOW sample: {len(log):,} transactions, {len(res['x']):,} customers; best of {args.repeat}")
    print(f"{'call':40s} {'COM (s)':>9s} {'Office.js (s)':>14s}")
    total_com = total_ojs = 0.0
    with ComRuntime() as com, OfficeJsRuntime(empty_cell=None) as ojs:
        for label, func, a in table:
            t_com = best(com.prepared(M, func, *a), args.repeat)
            body, module = ojs.body(M, func, *a), ojs.module(M)
            t_ojs = best(lambda body=body, module=module: asyncio.run(
                ojs.server.custom_functions_call(body, module)), args.repeat)
            total_com += t_com
            total_ojs += t_ojs
            print(f"{label:40s} {t_com:9.3f} {t_ojs:14.3f}")
    print(f"{'one recalculation (sum)':40s} {total_com:9.3f} {total_ojs:14.3f}")
    core = best(lambda: T.compute(log, customers), args.repeat)
    print(f"{'the core alone (same quantities)':40s} {core:9.3f}   ratio COM/core {total_com / core:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
