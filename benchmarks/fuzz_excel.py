"""Every CE_ function under generated input, through both xlwings paths, watched for hangs.

    python benchmarks/fuzz_excel.py                    # 10,000 cases per function, 2 workers
    python benchmarks/fuzz_excel.py --cases 500 --functions ce_whatif,ce_log_summary

Each function runs in its own worker process (memory limited to --memory GiB, so that an
allocation beyond it fails at once instead of swapping), which draws its cases with
hypothesis from tests/fuzz_all.py and judges each on COM and on Office.js with a blank cell
as null and as 0 (tests/fuzz_all.py's ``problems``). The parent watches every call: one that
gives no answer within 10 s is a hang; the worker is then ended and a new one continues
with the cases left. Prints per function the cases, the calls, how many were values and
refusals, and the crashes, hangs, non-finite results, refusals naming no argument and
disagreements between the paths, with the first examples of each.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("crash", "hang", "non-finite", "nameless", "disagreement", "slow")


def _worker(func, count, seed, memory_gib, conn):
    sys.path[:0] = [str(ROOT / "udfs"), str(ROOT / "tests")]
    os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    if memory_gib:
        import resource

        limit = int(memory_gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import warnings

    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    import fuzz_all
    from xlwings_harness import ComRuntime, OfficeJsRuntime

    warnings.simplefilter("ignore")
    with ComRuntime() as com, OfficeJsRuntime() as ojs:
        declared = com.module(fuzz_all.M).__dict__[func].__xlfunc__["args"]
        names = fuzz_all.argument_names(func)

        @hypothesis_seed(seed)
        @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def run(data):
            args = data.draw(fuzz_all.cases(func, declared))
            conn.send(("case", repr(args)[:3000]))
            found = fuzz_all.problems(com, ojs, func, args, names,
                                      on_call=lambda path: conn.send(("call", path)))
            outcome = fuzz_all.com_outcome(com, func, args)[0][0] if not found else None
            conn.send(("done", found, outcome))

        run()
    conn.send(("end",))


class Tally:
    def __init__(self, func):
        self.func = func
        self.cases = self.calls = 0
        self.values = self.errors = 0
        self.counts = collections.Counter()
        self.examples = collections.defaultdict(list)
        self.seconds = 0.0

    def add(self, kind, detail, case, keep):
        self.counts[kind] += 1
        if len(self.examples[kind]) < keep:
            self.examples[kind].append((detail[:600], case[:1500]))


def run_function(func, count, seed, memory_gib, keep, hang_seconds):
    """All ``count`` cases of one function, restarting the worker after a hang."""
    tally = Tally(func)
    ctx = mp.get_context("spawn")
    start = time.perf_counter()
    while tally.cases < count:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(func, count - tally.cases, seed + tally.cases,
                                                 memory_gib, child), daemon=True)
        proc.start()
        child.close()
        case, path, ended = "", "", False
        while True:
            # the worker's start-up (imports) is not a call: wait longer before its first case
            if not parent.poll(hang_seconds if case else 120):
                tally.add("hang", f"{path or 'start'}: no answer within {hang_seconds:.0f} s", case, keep)
                tally.cases += 1
                proc.kill()
                break
            try:
                msg = parent.recv()
            except EOFError:
                tally.add("crash", f"{path}: the worker process died (exit code {proc.exitcode})", case, keep)
                tally.cases += 1
                break
            if msg[0] == "case":
                case, path = msg[1], ""
            elif msg[0] == "call":
                path = msg[1]
                tally.calls += 1
            elif msg[0] == "done":
                tally.cases += 1
                for kind, detail in msg[1]:
                    tally.add(kind, detail, case, keep)
                if msg[2] == "value":
                    tally.values += 1
                elif msg[2] == "error":
                    tally.errors += 1
            elif msg[0] == "end":
                ended = True
                break
        proc.join(5)
        if ended and tally.cases < count:
            break  # hypothesis ran out of distinct cases
    tally.seconds = time.perf_counter() - start
    return tally


def _one(job):
    return run_function(*job)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000, help="cases per function")
    parser.add_argument("--functions", default="", help="comma-separated ce_ names (default: all)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory", type=float, default=3.0, help="GiB per worker (0: no limit)")
    parser.add_argument("--examples", type=int, default=3, help="examples shown per kind of problem")
    parser.add_argument("--hang", type=float, default=10.0, help="seconds without an answer = a hang")
    parser.add_argument("--json", help="write the tallies to this file")
    args = parser.parse_args(argv)

    sys.path[:0] = [str(ROOT / "udfs"), str(ROOT / "tests")]
    import fuzz_all

    funcs = [f for f in args.functions.split(",") if f] or sorted(fuzz_all.BASES)
    jobs = [(f, args.cases, args.seed, args.memory, args.examples, args.hang) for f in funcs]
    started = time.perf_counter()
    tallies = []
    with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:  # each job runs a process
        for tally in (f.result() for f in concurrent.futures.as_completed(
                [pool.submit(_one, job) for job in jobs])):
            tallies.append(tally)
            c = tally.counts
            print(f"{tally.func:24s} {tally.cases:6d} cases {tally.calls:7d} calls  "
                  f"{tally.values:6d} values {tally.errors:6d} refusals  "
                  + "  ".join(f"{k} {c[k]}" for k in KINDS) + f"  ({tally.seconds:.0f} s)", flush=True)
    tallies.sort(key=lambda t: t.func)
    print()
    total = collections.Counter()
    for t in tallies:
        total.update(t.counts)
        for kind in KINDS:
            for detail, case in t.examples.get(kind, []):
                print(f"[{t.func} {kind}] {detail}\n    case: {case}")
    print(f"\n{len(tallies)} functions, {sum(t.cases for t in tallies)} cases, "
          f"{sum(t.calls for t in tallies)} calls in {time.perf_counter() - started:.0f} s; "
          f"fewest cases for one function: {min(t.cases for t in tallies)}")
    print("totals: " + ", ".join(f"{k} {total[k]}" for k in KINDS))
    if args.json:
        Path(args.json).write_text(json.dumps({t.func: {
            "cases": t.cases, "calls": t.calls, "values": t.values, "refusals": t.errors,
            "seconds": round(t.seconds, 1), **{k: t.counts[k] for k in KINDS},
            "examples": {k: v for k, v in t.examples.items()}} for t in tallies}, indent=1))
    return 0 if not any(total[k] for k in KINDS) else 1


if __name__ == "__main__":
    sys.exit(main())
