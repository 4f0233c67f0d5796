"""Benchmark (not a test): forecasts from transaction logs, beside lifetimes, in one run.

Logs are drawn from BG/NBD purchases and Gamma-Gamma spend
(:func:`customer_equity.model.forecast.sample.generate_log`: CDNOW's parameters, first
purchases in 12 weeks, 78 weeks observed, calibration to 2024-07-01, a holdout after it).
Each section is one function; each prints, only after the results have been compared,
medians of runs that interleave the two sides:

* ``lifetimes`` (:func:`section_lifetimes`), 10^5 and 10^6 customers: ours against lifetimes
  0.11 used as its documentation shows (``calibration_and_holdout_data``, ``BetaGeoFitter``,
  ``GammaGammaFitter``, the predictions and ``customer_lifetime_value``), each side given
  the same log with its dates parsed once; and the parsing of the log's dates as text;
* ``command`` (:func:`section_command`), 10^6 and 10^7 customers: ``customer-equity
  forecast LOG --out forecast.parquet`` in a child process, streaming the log from
  Parquet: wall time and peak memory (VmHWM);
* ``horizon`` (:func:`section_horizon`), 10^6 customers: each customer's forecast value
  over 52, 520 and 5,200 weekly periods: time and the peak of memory allocated;
* ``dask`` (:func:`section_dask`), 10^6 customers: the forecast on a local cluster of 1 and
  of 2 workers beside the ceiling the machine gives CPU-bound tasks in the same run.

    python benchmarks/bench_forecast.py --save benchmarks/results/bench_forecast.md
    python benchmarks/bench_forecast.py --sections horizon command --command-sizes 1000000
    python benchmarks/figures.py        # the saved tables into docs/forecast.md, docs/batch.md

The tables are printed between ``<!-- figures: ... -->`` lines, which
``benchmarks/figures.py`` pastes into the docs.

With ``--models`` (or ``--sections models``), the fits of the models beyond BG/NBD
(Pareto/NBD, MBG/NBD, BG/BB, sBG), ours beside lifetimes' fitters, at each of
``--models-sizes`` (:func:`section_models`; not in the default run: lifetimes' Pareto/NBD
and BG/BB fits take half an hour each at 10^6 customers):

    python benchmarks/bench_forecast.py --models --models-sizes 1000000 \
        --save benchmarks/results/bench_forecast_models.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "udfs"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from figures import Output  # noqa: E402

from customer_equity.model.forecast import (  # noqa: E402
    CustomerForecast,
    customer_lifetime_value,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_forecast,
    fit_gamma_gamma,
    forecast_ltv,
    forecast_values,
    p_alive,
    summary_data,
)
from customer_equity.model.forecast.data import to_days  # noqa: E402
from customer_equity.model.forecast.sample import generate_log  # noqa: E402

CALIBRATION_END = "2024-07-01"
#: Customers generated and written at a time.
CHUNK = 1_000_000
#: The discount rate per week of the value comparisons (10 % a year).
WEEKLY_RATE = 1.10 ** (7 / 365.25) - 1
print = Output("bench_forecast")  # noqa: A001  (everything printed is kept for --save)


# --------------------------------------------------------------------------- helpers

def write_log(n, path, seed=2005):
    """The log of ``n`` customers as Parquet, generated a million customers at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer, rows = None, 0
    for k, start in enumerate(range(0, n, CHUNK)):
        log = generate_log(min(CHUNK, n - start), seed=seed + k)
        log["customer_id"] += start
        table = pa.Table.from_pandas(log, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(str(path), table.schema)
        writer.write_table(table, row_group_size=500_000)
        rows += len(log)
    writer.close()
    return rows


def timed(f, *args, **kwargs):
    started = time.perf_counter()
    out = f(*args, **kwargs)
    return out, time.perf_counter() - started


def child(argv):
    """The command in a child process: ``(exit code, wall seconds, peak MB, stdout)``.

    The wall time is the parent's, Python's start included, as a user waits for it; the
    peak is the child's VmHWM (``ru_maxrss`` would carry this process's peak over fork)."""
    code = ("import sys; from customer_equity.cli import main; rc = main(sys.argv[1:]); "
            "print('BENCH', rc, [int(x.split()[1]) / 1024 for x in open('/proc/self/status') "
            "if x.startswith('VmHWM')][0])")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "udfs")}
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *map(str, argv)], capture_output=True,
                         text=True, env=env, check=False)
    seconds = time.perf_counter() - started
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH")), None)
    if line is None:
        raise RuntimeError(out.stderr[-2000:])
    _, rc, peak = line.split()
    return int(rc), seconds, float(peak), out.stdout


def _median_spread(values):
    v = sorted(values)
    return float(np.median(v)), v[0], v[-1]


def _show(values, unit=" s"):
    med, lo, hi = _median_spread(values)
    return f"{med:.2f}{unit} ({lo:.2f}-{hi:.2f})"


def _load():
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())


class Mismatch(RuntimeError):
    """Two sides of a comparison gave different results: no time is printed."""


def _same(name, ours, theirs, rtol):
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    if ours.shape != theirs.shape:
        raise Mismatch(f"{name}: shapes {ours.shape} and {theirs.shape}")
    scale = np.maximum(np.abs(theirs), 1e-300)
    worst = float(np.max(np.abs(ours - theirs) / scale, initial=0.0))
    if not worst <= rtol:
        raise Mismatch(f"{name}: relative difference {worst:.2e} > {rtol:g}")
    return worst


# --------------------------------------------------------------------------- ours vs lifetimes

def _ours(log):
    """Our steps, as a user calls them: ``(results, seconds per step)``."""
    seconds, out = {}, {}
    s, seconds["summary"] = timed(summary_data, log, unit="week", calibration_end=CALIBRATION_END)
    c = s.customers
    x, t_x, T, m = (c[k].to_numpy() for k in ("frequency", "recency", "T", "monetary_value"))
    bg, seconds["fit_bgnbd"] = timed(fit_bgnbd, x, t_x, T)
    gg, seconds["fit_gg"] = timed(fit_gamma_gamma, x, m)
    started = time.perf_counter()
    out["p_alive"] = p_alive(bg, x, t_x, T)
    out["purchases"] = expected_purchases(bg, 52, x, t_x, T)
    out["spend"] = expected_spend(gg, x, m)
    seconds["predict"] = time.perf_counter() - started
    out["ltv"], seconds["ltv"] = timed(customer_lifetime_value, bg, gg, x, t_x, T, m, 52, WEEKLY_RATE)
    out.update(summary=c, bgnbd=bg, gamma_gamma=gg)
    return out, seconds


def _lifetimes(log):
    """lifetimes' steps as its documentation shows them: ``(results, seconds per step)``.

    ``freq="M"`` in ``customer_lifetime_value`` makes it step one unit of the summary (a
    week) a period and discount period k by ``(1 + rate)^-k``: the periods ours values."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import calibration_and_holdout_data

    seconds, out = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s, seconds["summary"] = timed(calibration_and_holdout_data, log, "customer_id", "date",
                                      calibration_period_end=CALIBRATION_END, freq="D",
                                      freq_multiplier=7, monetary_value_col="amount")
        f, r, T, m = s["frequency_cal"], s["recency_cal"], s["T_cal"], s["monetary_value_cal"]
        bgf, seconds["fit_bgnbd"] = timed(BetaGeoFitter().fit, f, r, T)
        returning = f > 0
        ggf, seconds["fit_gg"] = timed(GammaGammaFitter().fit, f[returning], m[returning])
        started = time.perf_counter()
        out["p_alive"] = bgf.conditional_probability_alive(f, r, T)
        out["purchases"] = bgf.conditional_expected_number_of_purchases_up_to_time(52, f, r, T)
        out["spend"] = ggf.conditional_expected_average_profit(f, m)
        seconds["predict"] = time.perf_counter() - started
        out["ltv"], seconds["ltv"] = timed(ggf.customer_lifetime_value, bgf, f, r, T, m, time=52,
                                           discount_rate=WEEKLY_RATE, freq="M")
    out.update(summary=s, bgnbd=bgf, gamma_gamma=ggf)
    return out, seconds


def _compare(ours, theirs):
    """The two sides' results, compared: the summaries equal, the fits the same maximum,
    and ours at lifetimes' estimates equal to lifetimes' predictions. Returns the figures."""
    c, s = ours["summary"], theirs["summary"]
    if not np.array_equal(c.index.to_numpy(), s.index.to_numpy()):
        raise Mismatch("summary: not the same customers in the same order")
    pairs = [("frequency", "frequency_cal"), ("recency", "recency_cal"), ("T", "T_cal"),
             ("actual_purchases", "frequency_holdout")]
    for a, b in pairs:
        _same(f"summary {a}", c[a], s[b], 0.0)
    summary_diff = _same("summary monetary_value", c["monetary_value"], s["monetary_value_cal"], 1e-12)
    x, t_x, T, m = (c[k].to_numpy() for k in ("frequency", "recency", "T", "monetary_value"))
    bg_theirs, gg_theirs = theirs["bgnbd"].params_.to_dict(), theirs["gamma_gamma"].params_.to_dict()
    params = {**ours["bgnbd"].params, **ours["gamma_gamma"].params}
    params_theirs = {**bg_theirs, **gg_theirs}
    param_diff = max(abs(params[k] - params_theirs[k]) / abs(params_theirs[k]) for k in params)
    if param_diff > 1e-4:
        raise Mismatch(f"the fits: parameters differ by {param_diff:.1e} (relative)")
    from customer_equity.model.forecast import bgnbd_log_likelihood

    at_theirs = float(bgnbd_log_likelihood(bg_theirs, x, t_x, T).sum())
    if ours["bgnbd"].log_likelihood < at_theirs - 1e-9 * abs(at_theirs):
        raise Mismatch("BG/NBD: lifetimes' estimate has the higher likelihood")
    worst = 0.0
    for name, value in (("p_alive", p_alive(bg_theirs, x, t_x, T)),
                        ("purchases", expected_purchases(bg_theirs, 52, x, t_x, T)),
                        ("spend", expected_spend(gg_theirs, x, m)),
                        ("ltv", customer_lifetime_value(bg_theirs, gg_theirs, x, t_x, T, m, 52,
                                                        WEEKLY_RATE))):
        worst = max(worst, _same(f"{name} at lifetimes' estimates", value, theirs[name], 1e-9))
    return {"summary": summary_diff, "params": param_diff, "predictions": worst,
            "loglik": ours["bgnbd"].log_likelihood, "loglik_at_lifetimes": at_theirs}


STEPS = (("summary", "summary from the log"), ("fit_bgnbd", "BG/NBD fit"),
         ("fit_gg", "Gamma-Gamma fit"), ("predict", "P(alive), E[Y(52)], E[M]"),
         ("ltv", "CLV over 52 weeks"))


def section_lifetimes(sizes, repeat):
    """Ours against lifetimes at each size: ``repeat`` runs of each side's whole pipeline,
    the order alternating (ours first, then lifetimes first, ...), on the same log with its
    dates parsed once (datetime64, as ``read_parquet`` or ``read_csv(parse_dates=...)`` give
    them). The results of every run are compared before anything is timed is printed.
    Beside it, the dates of the same log written as text (as a CSV holds them), parsed by
    ours (``to_days``) and by pandas as lifetimes calls it (``pd.to_datetime``)."""
    figures = []
    for n in sizes:
        log = generate_log(n, seed=2005)
        runs = {"ours": [], "lifetimes": []}
        checks = None
        for k in range(repeat):
            for side in (("ours", "lifetimes") if k % 2 == 0 else ("lifetimes", "ours")):
                result, seconds = (_ours if side == "ours" else _lifetimes)(log)
                runs[side].append(seconds)
                if side == "ours":
                    ours = result
                else:
                    theirs = result
            checks = _compare(ours, theirs)
            del ours, theirs
        text = log["date"].dt.strftime("%Y-%m-%d")
        parse = {"ours": [], "lifetimes": []}
        for k in range(repeat):
            for side in (("ours", "lifetimes") if k % 2 == 0 else ("lifetimes", "ours")):
                days, seconds = timed(to_days if side == "ours" else pd.to_datetime, text)
                parse[side].append(seconds)
                if side == "lifetimes":
                    days = days.to_numpy().astype("datetime64[D]").astype(np.int64)
                _same("dates", days, (log["date"].to_numpy().astype("datetime64[D]")
                                      .astype(np.int64)), 0.0)
        figures.append({"n": n, "transactions": len(log), "runs": runs, "checks": checks,
                        "parse": parse})
        print(f"{n:,} customers, {len(log):,} transactions: results equal ({_load()})")
    print(f"\nOurs against lifetimes: medians of {repeat} runs of each side, interleaved (min-max "
          "in brackets); the same log, its dates parsed once")
    with print.block("lifetimes"):
        print("| customers (transactions) | step | ours | lifetimes | lifetimes / ours |")
        print("|---|---|---:|---:|---:|")
        for f in figures:
            label = f"10^{round(np.log10(f['n']))} ({f['transactions']:,})"
            total = {side: [sum(run.values()) for run in f["runs"][side]] for side in f["runs"]}
            for key, name in (*STEPS, ("all", "**all five**")):
                o = total["ours"] if key == "all" else [r[key] for r in f["runs"]["ours"]]
                t = total["lifetimes"] if key == "all" else [r[key] for r in f["runs"]["lifetimes"]]
                ratio = _median_spread(t)[0] / _median_spread(o)[0]
                bold = "**" if key == "all" else ""
                print(f"| {label} | {name} | {_show(o)} | {_show(t)} | {bold}{ratio:.1f}x{bold} |")
                label = ""
            o, t = f["parse"]["ours"], f["parse"]["lifetimes"]
            print(f"| | (text dates of the same log parsed: `to_days` / `pd.to_datetime`) | "
                  f"{_show(o)} | {_show(t)} | {_median_spread(t)[0] / _median_spread(o)[0]:.1f}x |")
        print()
        for f in figures:
            c = f["checks"]
            print(f"- 10^{round(np.log10(f['n']))}: summaries equal (monetary value to "
                  f"{c['summary']:.0e}); parameters within {c['params']:.1e} of lifetimes'; "
                  f"log-likelihood {c['loglik']:,.3f} (at lifetimes' estimate "
                  f"{c['loglik_at_lifetimes']:,.3f}); at lifetimes' estimates P(alive), E[Y(52)], "
                  f"E[M] and CLV equal lifetimes' to {c['predictions']:.0e}")
    return figures


# --------------------------------------------------------------------------- the command

def _ltv_line(stdout):
    return next(x for x in stdout.splitlines() if x.startswith("Forecast lifetime value"))


def section_command(sizes, repeat, folder):
    """``customer-equity forecast LOG --out forecast.parquet`` in a child process, ``repeat``
    times at each size (the sizes alternating): wall time and peak memory. Every run's
    report must be the same; at 10^6 and below its total value must equal the in-memory
    forecast's (``summary_data``, ``fit_forecast``, the value per customer summed)."""
    logs = {}
    for n in sizes:
        path = Path(folder) / f"log-{n}.parquet"
        logs[n] = (path, write_log(n, path))
    runs = {n: [] for n in sizes}
    reports = {n: set() for n in sizes}
    for _ in range(repeat):
        for n in sizes:
            target = Path(folder) / "forecast.parquet"
            rc, seconds, peak, stdout = child(["forecast", logs[n][0], "--calibration-end",
                                               CALIBRATION_END, "--out", target, "--no-progress"])
            if rc != 0:
                raise RuntimeError(stdout)
            runs[n].append((seconds, peak, os.getloadavg()[0]))
            reports[n].add(_ltv_line(stdout))
            target.unlink()
    for n in sizes:
        if len(reports[n]) != 1:
            raise Mismatch(f"command at {n:,}: the runs differ: {reports[n]}")
        if n <= 1_000_000:
            forecast = fit_forecast(summary_data(pd.read_parquet(logs[n][0]), unit="week",
                                                 calibration_end=CALIBRATION_END))
            rate = (1.10 ** (7 / 365.25)) - 1
            total = float(forecast.ltv(52, rate).sum())
            shown = float(next(iter(reports[n])).split(": ")[-1].split(" in all")[0].replace(",", ""))
            if abs(shown - total) > 0.5:
                raise Mismatch(f"command at {n:,}: value {shown:,.0f}, in memory {total:,.2f}")
    print(f"\nThe command, streaming the log from Parquet and writing each customer's forecast "
          f"to Parquet, in a child process: medians of {repeat} runs (min-max)")
    with print.block("command"):
        print("| customers | transactions | wall time | peak memory | load average |")
        print("|---:|---:|---:|---:|---:|")
        for n in sizes:
            seconds, peaks, loads = zip(*runs[n])
            print(f"| 10^{round(np.log10(n))} | {logs[n][1]:,} | {_show(seconds)} | "
                  f"{np.median(peaks):,.0f} MB (max {max(peaks):,.0f}) | "
                  f"{min(loads):.1f}-{max(loads):.1f} |")
    return {"runs": runs, "transactions": {n: logs[n][1] for n in sizes}}


# --------------------------------------------------------------------------- the horizon

def section_horizon(n, horizons, repeat):
    """Each customer's forecast value over each horizon (weekly periods), ``repeat`` times,
    the horizons in turn: the time of ``CustomerForecast.ltv`` on a fresh forecast (nothing
    kept from an earlier run), and the peak of memory allocated during one more run
    (tracemalloc: numpy's arrays). Before: at the two shortest horizons the values of the
    first 20,000 customers equal the per-period table discounted (``forecast_values``,
    ``forecast_ltv``), and every run gives the same values."""
    summary = summary_data(generate_log(n, seed=2005), unit="week", calibration_end=CALIBRATION_END)
    fitted = fit_forecast(summary)
    c = summary.customers
    head = [c[k].to_numpy()[:20_000] for k in ("frequency", "recency", "T", "monetary_value")]

    def fresh():
        return CustomerForecast(summary=summary, bgnbd=fitted.bgnbd,
                                gamma_gamma=fitted.gamma_gamma, correlation=fitted.correlation)

    for periods in sorted(horizons)[:2]:
        table = forecast_values(fitted.bgnbd, fitted.gamma_gamma, *head, periods)
        _same(f"horizon {periods}", fresh().ltv(periods, WEEKLY_RATE)[:20_000],
              forecast_ltv(table, WEEKLY_RATE), 1e-12)
    seconds = {k: [] for k in horizons}
    values = {}
    for rep in range(repeat):
        for periods in (horizons if rep % 2 == 0 else horizons[::-1]):
            clv, t = timed(fresh().clv, periods, WEEKLY_RATE)
            seconds[periods].append(t)
            if periods in values and not np.array_equal(values[periods], clv):
                raise Mismatch(f"horizon {periods}: runs differ")
            values[periods] = clv
    peaks = {}
    for periods in horizons:
        tracemalloc.start()
        fresh().ltv(periods, WEEKLY_RATE)
        peaks[periods] = tracemalloc.get_traced_memory()[1] / 2 ** 20
        tracemalloc.stop()
    distinct = len(c[["frequency", "T"]].drop_duplicates())
    print(f"\nForecast value per customer over a horizon, {n:,} customers ({distinct:,} distinct "
          f"(x, T)), medians of {repeat} runs (min-max); {_load()}")
    base = horizons[0]
    with print.block("horizon"):
        print(f"| weekly periods | time | time / time at {base} | time / time at the "
              "previous | peak memory allocated |")
        print("|---:|---:|---:|---:|---:|")
        previous = None
        for periods in horizons:
            med = _median_spread(seconds[periods])[0]
            step = "" if previous is None else f"{med / _median_spread(seconds[previous])[0]:.1f}x"
            print(f"| {periods:,} | {_show(seconds[periods])} | "
                  f"{med / _median_spread(seconds[base])[0]:.1f}x | {step} | "
                  f"{peaks[periods]:,.0f} MB |")
            previous = periods
    return {"seconds": seconds, "peaks": peaks, "distinct": distinct}


# --------------------------------------------------------------------------- Dask

def _spin(seed):
    """The ceiling's task: CPU-bound numpy work with no data to move."""
    a = np.random.default_rng(seed).random(1_000_000)
    for _ in range(12):
        a = np.sort(a)[::-1].copy()
    return float(a[0])


DASK_PHASES = ("read", "parts", "assemble", "fit", "predict")


def section_dask(n, repeat, folder):
    """``forecast --dask`` with 1 and 2 workers, alternated, ``repeat`` times each.

    (a) the work on a running cluster: one ``forecast_file(..., dask=address)`` call on a
        local cluster started beforehand (:func:`customer_equity.files.executors.local_cluster`,
        as ``--dask`` starts it), less the client's connection and the workers' imports;
    (b) the whole command in a child process: Python start-up, cluster start, all of (a).

    The ceiling: the same clusters running only CPU-bound numpy tasks (8 of them, no data
    moved) right after (a): the most two workers can gain over one on this machine at that
    moment. Every run, with and without Dask, must give the same forecast."""
    from distributed import Client

    from customer_equity.files.executors import local_cluster
    from customer_equity.files.forecast import forecast_file

    path = Path(folder) / f"log-{n}.parquet"
    if not path.exists():
        write_log(n, path)
    work = {1: [], 2: []}
    phases = {w: {k: [] for k in ("cluster", *DASK_PHASES)} for w in (1, 2)}
    ceiling = {1: [], 2: []}
    command = {1: [], 2: []}
    local, results, loads = [], set(), []
    for _ in range(repeat):
        loads.append(os.getloadavg()[0])
        run, t = timed(forecast_file, str(path), calibration_end=CALIBRATION_END)
        local.append(t)
        results.add((json.dumps(run.forecast.bgnbd.params), run.ltv_total))
        for workers in (1, 2):
            cluster = local_cluster(workers)
            try:
                run, call = timed(forecast_file, str(path), calibration_end=CALIBRATION_END,
                                  dask=cluster.scheduler_address)
                work[workers].append(call - run.seconds["cluster"])
                for k in phases[workers]:
                    phases[workers][k].append(run.seconds[k])
                results.add((json.dumps(run.forecast.bgnbd.params), run.ltv_total))
                with Client(cluster) as client:
                    client.gather(client.map(_spin, range(2), pure=False))  # imports
                    _, t = timed(lambda: client.gather(client.map(_spin, range(8), pure=False)))
                    ceiling[workers].append(t)
            finally:
                cluster.close()
            rc, t, _, stdout = child(["forecast", path, "--calibration-end", CALIBRATION_END,
                                      "--workers", workers, "--no-progress"])
            command[workers].append(t)
    if len(results) != 1:
        raise Mismatch(f"Dask: runs differ from the local forecast: {results}")
    ratios = {k: [a / b for a, b in zip(t[1], t[2])] for k, t in
              (("work", work), ("command", command), ("ceiling", ceiling))}
    share = [w / c for w, c in zip(ratios["work"], ratios["ceiling"])]
    print(f"\nDask, a local cluster of 1 and of 2 worker processes (1 thread each), {n:,} "
          f"customers, {repeat} runs each, alternated; every run the same forecast as without "
          f"Dask; load average {min(loads):.1f}-{max(loads):.1f} before the runs, on "
          f"{os.cpu_count()} cores")
    with print.block("dask"):
        print("| step (median of the runs, min-max) | 1 worker | 2 workers | 1 / 2 |")
        print("|---|---:|---:|---:|")
        rows = [(f"  {k}", {w: phases[w][k] for w in (1, 2)}) for k in DASK_PHASES]
        rows += [("**(a) the work on the cluster**", work), ("(b) the whole command", command),
                 ("ceiling: 8 CPU-bound tasks", ceiling)]
        for name, t in rows:
            ratio = _median_spread(t[1])[0] / max(_median_spread(t[2])[0], 1e-9)
            print(f"| {name} | {_show(t[1])} | {_show(t[2])} | {ratio:.2f}x |")
        print()
        print(f"Run by run (median, min-max): (a) {_show(ratios['work'], 'x')}; ceiling "
              f"{_show(ratios['ceiling'], 'x')}; **(a) / ceiling {_show(share, '')}**; (b) "
              f"{_show(ratios['command'], 'x')}. The same forecast without Dask: {_show(local)}.")
    return {"work": work, "command": command, "ceiling": ceiling, "phases": phases,
            "local": local, "ratios": ratios, "share_of_ceiling": share}


# --------------------------------------------------------------------------- models beyond BG/NBD
# Each fit beside lifetimes' fitter, on the same summary (issue 22); its own data, and not in
# the default run (lifetimes' Pareto/NBD and BG/BB fits take half an hour each at 10^6).

#: Fader, Hardie & Shang's donations estimates, used to draw a discrete-opportunity cohort.
FHS_BGBB = (1.204, 0.750, 0.657, 2.783)
#: Fader & Hardie's "regular" sBG estimates, used to draw contract cohorts.
FH_SBG = (0.704, 1.182)


def bgbb_cohort(n, seed=2010, most=12):
    """``(frequency, recency, n_periods)`` of ``n`` customers drawn from BG/BB (FHS's
    donation estimates), each observed for 2..``most`` yearly opportunities."""
    rng = np.random.default_rng(seed)
    alpha, beta, gamma, delta = FHS_BGBB
    p = rng.beta(alpha, beta, n)
    theta = rng.beta(gamma, delta, n)
    periods = rng.integers(2, most + 1, n)
    opportunity = np.arange(1, most + 1)
    death = rng.geometric(theta)  # the first opportunity at which the customer has left
    buys = (rng.random((n, most)) < p[:, None]) & (opportunity < death[:, None]) \
        & (opportunity <= periods[:, None])
    x = buys.sum(axis=1)
    t_x = np.where(x > 0, most - np.argmax(buys[:, ::-1], axis=1), 0)
    return x.astype(float), t_x.astype(float), periods.astype(float)


def sbg_cohorts(n, seed=2007, cohorts=12):
    """A survivor table of ``n`` contract customers in ``cohorts`` yearly cohorts drawn from
    sBG (F&H's "regular" estimates): cohort k is followed for ``cohorts - k`` years."""
    rng = np.random.default_rng(seed)
    alpha, beta = FH_SBG
    size = np.full(cohorts, n // cohorts)
    size[: n % cohorts] += 1
    table = np.full((cohorts, cohorts + 1), np.nan)
    for k in range(cohorts):
        life = rng.geometric(rng.beta(alpha, beta, size[k]))  # the period each customer leaves in
        years = cohorts - k
        table[k, : years + 1] = [(life > t).sum() for t in range(years + 1)]
    return table


def _same_objective(name, ours, theirs):
    """Refuse to time two fitters that do not maximise the same likelihood."""
    if not np.isclose(ours, theirs, rtol=1e-9, atol=1e-9):
        raise RuntimeError(f"{name}: our log-likelihood {ours!r} and lifetimes' {theirs!r} differ "
                           "at the same parameters: not the same model")


def _models_at(n, repeat=3):
    """Fit time of Pareto/NBD, MBG/NBD and BG/BB at ``n`` customers, ours and lifetimes',
    medians of ``repeat`` interleaved runs; sBG (no lifetimes counterpart) ours alone.

    Results are checked first: both sides fitted once, our log-likelihood computed at
    lifetimes' estimate equal to lifetimes' own (the same model), ours at least as high
    (the same maximum or a better one), the largest parameter difference reported.
    Both are called as a user calls them, one summary row per customer. lifetimes' Pareto/NBD
    starts its Nelder-Mead at random: seeded the same before every call.
    """
    from lifetimes import BetaGeoBetaBinomFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

    from customer_equity.model.forecast import (
        bgbb_log_likelihood,
        fit_bgbb,
        fit_mbgnbd,
        fit_pareto_nbd,
        fit_sbg,
        mbgnbd_log_likelihood,
        pareto_nbd_log_likelihood,
    )

    log = generate_log(n, seed=2005)
    s = summary_data(log, unit="week", calibration_end=CALIBRATION_END).customers
    del log
    x, t_x, T = (s[k].to_numpy() for k in ("frequency", "recency", "T"))
    bx, bt, bn = bgbb_cohort(n)
    survivors = sbg_cohorts(n)
    distinct = len(s[["frequency", "recency", "T"]].drop_duplicates())
    print(f"\n== models beyond BG/NBD, {n:,} customers ({distinct:,} distinct (x, t_x, T); BG/BB "
          f"{len(np.unique(np.c_[bx, bt, bn], axis=0)):,} distinct (x, t_x, n)); {repeat} interleaved "
          f"runs; load average {os.getloadavg()[0]:.1f}")

    def lifetimes_pareto():
        np.random.seed(1987)
        return ParetoNBDFitter().fit(x, t_x, T)

    def lifetimes_mbg():
        return ModifiedBetaGeoFitter().fit(x, t_x, T)

    def lifetimes_bgbb():
        return BetaGeoBetaBinomFitter().fit(bx, bt, bn)

    def theirs_pareto(f):
        return float(ParetoNBDFitter._conditional_log_likelihood(f.params_.to_numpy(), x, t_x, T).sum())

    def theirs_mbg(f):
        return float(-ModifiedBetaGeoFitter._negative_log_likelihood(
            np.log(f.params_.to_numpy()), x, t_x, T, np.ones(x.size), 0.0) * x.size)

    def theirs_bgbb(f):
        return float(BetaGeoBetaBinomFitter._loglikelihood(f.params_.to_numpy(), bx, bt, bn).sum())

    models = [
        ("Pareto/NBD", lambda: fit_pareto_nbd(x, t_x, T), lifetimes_pareto, theirs_pareto,
         lambda p: pareto_nbd_log_likelihood(p, x, t_x, T).sum()),
        ("MBG/NBD", lambda: fit_mbgnbd(x, t_x, T), lifetimes_mbg, theirs_mbg,
         lambda p: mbgnbd_log_likelihood(p, x, t_x, T).sum()),
        ("BG/BB", lambda: fit_bgbb(bx, bt, bn), lifetimes_bgbb, theirs_bgbb,
         lambda p: bgbb_log_likelihood(p, bx, bt, bn).sum()),
    ]
    out = {"customers": n, "distinct": distinct}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, ours_fit, theirs_fit, theirs_ll, our_ll in models:
            ours, theirs = ours_fit(), theirs_fit()
            params = theirs.params_.to_dict()
            at_theirs = float(our_ll(params))
            _same_objective(name, at_theirs, theirs_ll(theirs))
            if ours.log_likelihood < at_theirs - 1e-9 * abs(at_theirs):
                raise RuntimeError(f"{name}: lifetimes' estimate has the higher likelihood")
            diff = max(abs(ours[k] - params[k]) / abs(params[k]) for k in params)
            out[name] = {"params": ours.params, "lifetimes_params": params, "max_rel_param_diff": diff,
                         "loglik": ours.log_likelihood, "loglik_at_lifetimes": at_theirs,
                         "ours": [], "lifetimes": []}
            print(f"{name}: same likelihood at lifetimes' estimate (to 1e-9); ours "
                  f"{ours.log_likelihood:,.3f}, at lifetimes' estimate {at_theirs:,.3f}; largest "
                  f"relative parameter difference {diff:.1e}")
        for _ in range(repeat):
            for name, ours_fit, theirs_fit, _, _ in models:
                fit, seconds = timed(ours_fit)
                assert fit.params == out[name]["params"]  # every run the same result
                out[name]["ours"].append(seconds)
                fit, seconds = timed(theirs_fit)
                assert fit.params_.to_dict() == out[name]["lifetimes_params"]
                out[name]["lifetimes"].append(seconds)
            sbg, seconds = timed(fit_sbg, survivors)
            out.setdefault("sBG", {"params": sbg.params, "ours": []})["ours"].append(seconds)
    out["sBG"]["cohorts"] = len(survivors)
    out["BG/BB"]["distinct"] = len(np.unique(np.c_[bx, bt, bn], axis=0))
    return out


def section_models(sizes, repeat):
    """The fits of Pareto/NBD, MBG/NBD and BG/BB, ours against lifetimes', and sBG's, at each
    size (:func:`_models_at`): one table."""
    found = [_models_at(n, repeat) for n in sizes]
    print(f"\nThe models beyond BG/NBD: each fitted on one summary row per customer, ours and "
          f"lifetimes' fitter, medians of {repeat} interleaved runs (min-max); {_load()}")
    with print.block("models"):
        print("| customers | model | ours | lifetimes | lifetimes / ours | largest parameter "
              "difference |")
        print("|---|---|---:|---:|---:|---:|")
        for out in found:
            size = f"10^{round(np.log10(out['customers']))}" if _power_of_ten(out["customers"]) \
                else f"{out['customers']:,}"
            labels = {"Pareto/NBD": f"Pareto/NBD ({out['distinct']:,} distinct (x, t_x, T))",
                      "MBG/NBD": "MBG/NBD",
                      "BG/BB": f"BG/BB (12 yearly opportunities at most, "
                               f"{out['BG/BB']['distinct']:,} distinct rows)"}
            for name, label in labels.items():
                o, t = out[name]["ours"], out[name]["lifetimes"]
                ratio = _median_spread(t)[0] / _median_spread(o)[0]
                out[name]["ratio"] = ratio
                print(f"| {size} | {label} | {_show(o)} | {_show(t)} | **{ratio:.1f}x** | "
                      f"{out[name]['max_rel_param_diff']:.1e} |")
                size = ""
            ms = [1000 * t for t in out["sBG"]["ours"]]
            print(f"| | sBG ({out['sBG']['cohorts']} yearly cohorts) | {_show(ms, ' ms')} | no sBG "
                  "fitter | | |")
    return found


def _power_of_ten(n):
    return n > 0 and 10 ** round(np.log10(n)) == n


# --------------------------------------------------------------------------- main

def _command_line(argv):
    """The command as run, without where its output was kept (``--save``, ``--json``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    shown = []
    while argv:
        arg = argv.pop(0)
        if arg in ("--save", "--json"):
            argv[:1] = []
        elif not arg.startswith(("--save=", "--json=")):
            shown.append(arg)
    return " ".join(["python benchmarks/bench_forecast.py", *shown])


SECTIONS = ("lifetimes", "command", "horizon", "dask", "models")
#: The sections of a run without --sections: the issue's four, in one run.
DEFAULT_SECTIONS = ("lifetimes", "command", "horizon", "dask")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(DEFAULT_SECTIONS))
    p.add_argument("--repeat", type=int, default=3, help="runs of each side (median printed)")
    p.add_argument("--lifetimes-sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--command-sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    p.add_argument("--horizon-size", type=int, default=1_000_000)
    p.add_argument("--horizons", type=int, nargs="+", default=[52, 520, 5200])
    p.add_argument("--dask-size", type=int, default=1_000_000)
    p.add_argument("--dask-repeat", type=int, default=5, help="runs of each Dask timing")
    p.add_argument("--models", action="store_true",
                   help="instead: the fits of Pareto/NBD, MBG/NBD, BG/BB and sBG beside "
                   "lifetimes' (the section models alone)")
    p.add_argument("--models-sizes", type=int, nargs="+", default=[1_000_000])
    p.add_argument("--save", help="keep everything printed in this file (benchmarks/figures.py "
                   "pastes its tables into the docs)")
    p.add_argument("--json", help="write the figures to this file")
    args = p.parse_args(argv)
    if args.models:
        args.sections = ["models"]
    import dask
    import lifetimes
    import pyarrow
    import scipy

    # a --models run is saved apart: its header is not the default run's
    with print.block("run" if set(args.sections) & set(DEFAULT_SECTIONS) else "models-run"):
        print(f"`{_command_line(argv)}`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
              f": {os.cpu_count()} cores, {platform.system()} {platform.machine()}, Python "
              f"{platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
              f"pandas {pd.__version__}, pyarrow {pyarrow.__version__}, dask {dask.__version__}, "
              f"lifetimes {lifetimes.__version__}; {_load()} at the start (the machine is shared)")
    figures = {}
    np.seterr(all="ignore")
    sections = {"lifetimes": lambda tmp: section_lifetimes(args.lifetimes_sizes, args.repeat),
                "command": lambda tmp: section_command(args.command_sizes, args.repeat, tmp),
                "horizon": lambda tmp: section_horizon(args.horizon_size, args.horizons, args.repeat),
                "dask": lambda tmp: section_dask(args.dask_size, args.dask_repeat, tmp),
                "models": lambda tmp: section_models(args.models_sizes, args.repeat)}
    with tempfile.TemporaryDirectory(prefix="bench-forecast-") as tmp:
        for name in SECTIONS:
            if name in args.sections:
                figures[name] = sections[name](tmp)
                if args.save:  # what is printed so far, should a later section fail
                    print.save(args.save)
    print(f"\n(finished {time.strftime('%H:%M UTC', time.gmtime())}; {_load()})")
    if args.save:
        print.save(args.save)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
