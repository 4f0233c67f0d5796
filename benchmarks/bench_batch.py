"""Batch benchmark: throughput, peak memory of streaming, and Dask with 1 and 2 workers.

1. Throughput of ``customer-equity measure IN.parquet --out OUT.parquet`` (streaming,
   per-customer results written, sample configuration: transaction income to
   allocate and default value tiers, hence three passes) at 10^5, 10^6 and 10^7
   customers, each in a fresh process (medians of 3 runs); and of ``--out
   OUT.json`` (summaries only, two passes); and, for comparison, the 10^6 table as
   CSV. The cost should grow linearly: the seconds per million customers stay flat.
2. Peak memory (the process's peak resident set, VmHWM, imports included) of the
   streaming run on the Parquet file of 10^7 customers. Target: under 1.5 GB.
3. The same measurement on a local Dask cluster of 1 and of 2 worker processes
   (summaries only, so that the workers do the reading and measuring), timed
   without the cluster's start-up.
4. ``--out OUT.xlsx`` for 10^6 customers (the results workbook, its Customers sheet
   streamed) beside ``--out OUT.parquet``, each in a fresh process, medians of 3
   alternated: wall time and peak memory. Targets: peak under 1 GB, time within 10x of Parquet.
   ``--xlsx-only`` runs this part alone.

The inputs are generated in chunks of 10^6 customers with
``generate_customers(10**6, seed + k)`` (customer ids renumbered) into a temporary
folder, removed at the end unless ``--keep DIR`` is given.

The tables are printed between ``<!-- figures: ... -->`` lines; with ``--save FILE`` all
that is printed is kept, and ``benchmarks/figures.py`` pastes the tables into docs/batch.md.

Run: ``python benchmarks/bench_batch.py [--max 10000000] [--save FILE]``. Not a test.
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
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv  # noqa: F401  (pa.csv)
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from figures import Output  # noqa: E402

import customer_equity as ce  # noqa: E402
from customer_equity.files import batch  # noqa: E402

CHUNK = 1_000_000
print = Output("bench_batch")  # noqa: A001  (everything printed is kept for --save)

CHILD = """
import json, resource, sys, time
from customer_equity.cli import main
argv, report = sys.argv[1:-1], sys.argv[-1]
started = time.perf_counter()
code = main(argv)
seconds = time.perf_counter() - started
try:  # this process's own high-water mark (ru_maxrss would include the parent's, from fork)
    with open("/proc/self/status") as fh:
        peak = next(int(l.split()[1]) * 1024 for l in fh if l.startswith("VmHWM:"))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
with open(report, "w") as fh:
    json.dump({"code": code, "seconds": seconds, "peak_bytes": peak}, fh)
"""


def make_parquet(path, n, seed=2024):
    """n synthetic customers, generated and written a million at a time."""
    writer = None
    for k, start in enumerate(range(0, n, CHUNK)):
        m = min(CHUNK, n - start)
        df = ce.generate_customers(m, seed=seed + k)
        df["customer_id"] = "C" + pd.Series(np.arange(start + 1, start + m + 1)).astype(str).str.zfill(8)
        table = pa.Table.from_pandas(df, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=250_000)
    writer.close()


def run_command(argv, folder):
    """The command in a fresh process: its own time and peak memory."""
    report = Path(folder) / "report.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "udfs"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    proc = subprocess.run([sys.executable, "-c", CHILD, *map(str, argv), str(report)], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(map(str, argv))}\n{proc.stderr}")
    return json.loads(report.read_text())


REPEAT = 3


def median_of(path, fmt, config, folder, repeat):
    """The median time of ``repeat`` runs, with the largest peak memory seen."""
    out = Path(folder) / f"results.{fmt}"
    runs = []
    for _ in range(repeat):
        runs.append(run_command(["measure", path, "--config", config, "--out", out,
                                 "--no-progress"], folder))
        out.unlink()
    return {"seconds": float(np.median([r["seconds"] for r in runs])),
            "peak_bytes": max(r["peak_bytes"] for r in runs)}


def excel_output(path, config, folder):
    """Section 4: the .xlsx results workbook against Parquet, same input, same process kind:
    3 runs of each, alternated; medians."""
    n = pq.ParquetFile(path).metadata.num_rows
    print(f"\n4. Results to .xlsx (streamed Customers sheet) beside .parquet, {n:,} customers, "
          f"Parquet in; medians of 3 alternated runs; load average {os.getloadavg()[0]:.1f}")
    tries = {"parquet": [], "xlsx": []}
    size = {}
    for k in range(3):
        for fmt in (("parquet", "xlsx") if k % 2 == 0 else ("xlsx", "parquet")):
            out = Path(folder) / f"results.{fmt}"
            tries[fmt].append(run_command(["measure", path, "--config", config, "--out", out,
                                           "--no-progress"], folder))
            size[fmt] = out.stat().st_size
            out.unlink()
    runs = {fmt: {"seconds": float(np.median([t["seconds"] for t in tries[fmt]])),
                  "peak_bytes": max(t["peak_bytes"] for t in tries[fmt])} for fmt in tries}
    with print.block("xlsx"):
        print("| output | seconds | peak memory | file |")
        print("|---|---:|---:|---:|")
        for fmt, r in runs.items():
            print(f"| `.{fmt}` | {r['seconds']:.2f} | {gigabytes(r['peak_bytes'])} | "
                  f"{size[fmt] / 1e6:,.0f} MB |")
        print()
        print(f"`.xlsx` / `.parquet`: time {runs['xlsx']['seconds'] / runs['parquet']['seconds']:.1f}x "
              f"(target <= 10x); peak memory {gigabytes(runs['xlsx']['peak_bytes'])} (target < 1 GB)")


def gigabytes(n_bytes):
    return f"{n_bytes / 1e9:.2f} GB"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=10_000_000, help="largest size (default 10^7)")
    parser.add_argument("--keep", help="generate the inputs into this folder and keep them")
    parser.add_argument("--xlsx-only", action="store_true",
                        help="only part 4: .xlsx against .parquet output at 10^6 customers")
    parser.add_argument("--save", help="keep everything printed in this file")
    args = parser.parse_args()
    sizes = [n for n in (100_000, 1_000_000, 10_000_000) if n <= args.max]
    if args.xlsx_only:
        sizes = [1_000_000]

    cores = os.cpu_count()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import dask

    with print.block("run"):
        print(f"`python benchmarks/bench_batch.py`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
              f": {cores} cores, {memory:.0f} GB RAM, {platform.system()} {platform.machine()}, "
              f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
              f"pyarrow {pa.__version__}, dask {dask.__version__}; load average "
              f"{os.getloadavg()[0]:.1f} at the start (the machine is shared)")

    context = tempfile.TemporaryDirectory() if args.keep is None else None
    folder = Path(args.keep or context.name)
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "sample.json"
    config.write_text(json.dumps(ce.sample_config().to_dict()))
    try:
        inputs = {}
        for n in sizes:
            inputs[n] = folder / f"customers_{n}.parquet"
            if not inputs[n].exists():
                t0 = time.perf_counter()
                make_parquet(inputs[n], n)
                print(f"generated {n:>12,} customers in {time.perf_counter() - t0:6.1f} s "
                      f"({inputs[n].stat().st_size / 1e6:,.0f} MB Parquet)")

        if args.xlsx_only:
            excel_output(inputs[1_000_000], config, folder)
            return
        print("\n1-2. Streaming (one process, batches of "
              f"{batch.DEFAULT_BATCH_SIZE:,}), Parquet in; medians of {REPEAT} runs; load average "
              f"{os.getloadavg()[0]:.1f}")
        stream = {}
        for n in sizes:
            for fmt in ("parquet", "json"):
                stream[n, fmt] = median_of(inputs[n], fmt, config, folder, REPEAT)
        csv_run = None
        if 1_000_000 in inputs:  # the same table as CSV text
            csv = folder / "customers_1000000.csv"
            if not csv.exists():
                pa.csv.write_csv(pq.read_table(inputs[1_000_000]), csv)
            csv_run = median_of(csv, "parquet", config, folder, REPEAT)
        with print.block("streaming"):
            print("| customers | output | seconds | customers/s | s per 10^6 | peak memory |")
            print("|---:|---|---:|---:|---:|---:|")
            for (n, fmt), r in stream.items():
                print(f"| {n:,} | {'Parquet (per customer)' if fmt == 'parquet' else 'JSON (summaries)'} "
                      f"| {r['seconds']:.2f} | {n / r['seconds']:,.0f} | {r['seconds'] / n * 1e6:.2f} | "
                      f"{gigabytes(r['peak_bytes'])} |")
            if csv_run is not None:
                print(f"| 1,000,000 from CSV ({csv.stat().st_size / 1e6:,.0f} MB) | Parquet | "
                      f"{csv_run['seconds']:.2f} | {1e6 / csv_run['seconds']:,.0f} | "
                      f"{csv_run['seconds']:.2f} | {gigabytes(csv_run['peak_bytes'])} |")
            print()
            if len(sizes) > 1:
                small, big = sizes[-2], sizes[-1]
                for fmt in ("parquet", "json"):
                    ratio = (stream[big, fmt]["seconds"] / big) / (stream[small, fmt]["seconds"] / small)
                    print(f"- linearity ({fmt} out): time per customer at {big:,} / at {small:,} = "
                          f"{ratio:.2f}")
            n = sizes[-1]
            print(f"- peak memory, streaming {n:,} customers Parquet -> Parquet: "
                  f"{gigabytes(stream[n, 'parquet']['peak_bytes'])} (target < 1.5 GB)")

        print(f"\n3. Dask, local cluster, {n:,} customers, Parquet in, summaries out; 3 runs "
              "of each, alternated, cluster start not counted")
        from distributed import LocalCluster

        sample = ce.sample_config()
        timings = {1: [], 2: []}
        for k in range(3):
            for workers in ((1, 2) if k % 2 == 0 else (2, 1)):
                with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
                    t0 = time.perf_counter()
                    m = batch.measure_file(inputs[n], sample, folder / "dask.json",
                                           dask=cluster.scheduler_address)
                    timings[workers].append(time.perf_counter() - t0)
                assert int(m.counts.sum()) == n
        with print.block("dask"):
            print("| workers | seconds (median) | customers/s |")
            print("|---:|---:|---:|")
            for workers, t in timings.items():
                med = float(np.median(t))
                print(f"| {workers} | {med:.2f} | {n / med:,.0f} |")
            print()
            print(f"Speed-up 2 workers / 1 worker: {np.median(timings[1]) / np.median(timings[2]):.2f}x; "
                  f"streaming in one process without Dask: {stream[n, 'json']['seconds']:.2f} s.")
        if 1_000_000 in inputs:
            excel_output(inputs[1_000_000], config, folder)
    finally:
        if context is not None:
            context.cleanup()
        if args.save:
            print.save(args.save)


if __name__ == "__main__":
    main()
