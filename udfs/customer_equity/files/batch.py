"""Batch measurement: customer tables of any size, from files, on one machine or a cluster.

``customer-equity measure INPUT [--config FILE] [--out FILE]`` reads the customer
table (the columns of :mod:`customer_equity.model.measure`) from CSV, Parquet or an
``.xlsx`` sheet and measures it with the same core as Excel, :func:`measure`,
batch by batch. The results go to ``.xlsx`` (a measurement workbook: summary,
per-customer results, configuration), ``.csv`` / ``.parquet`` (per customer) or
``.json`` (the summaries).

How the batches stay exact
--------------------------
The measurement is a sum over customers except for two whole-base quantities:

* transaction income is allocated over the carriers of each period in the *whole*
  base, so a first pass adds up :func:`carriers_per_period` over the batches
  (padded to equal length) and every batch is measured with that count;
* the default value tiers are percentiles of the *whole* base's lifetime values,
  so when per-customer results are written without ``tier_cutoffs``, one pass
  collects the lifetime values (8 bytes per customer), their percentiles become the
  cut-offs, and a last pass measures again and writes each batch with them.

Equity, the per-type table and the composition matrix are sums of the batches'
``counts``, ``sums`` and ``excluded`` (:meth:`Measurement.combine`): the in-memory
answer up to the order of floating-point additions. Per-customer results are
streamed to the output file and never held together in memory.

With ``--dask`` the same passes run per partition on a Dask cluster
(``dask.dataframe.read_csv`` / ``read_parquet``), the core unchanged; the client
adds up the partial results and writes the per-customer results in order.

Output is written to a temporary file next to the destination and renamed at the
end; a failed or interrupted run (Ctrl-C) leaves neither.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import sys
import time
import warnings
from collections import deque
from pathlib import Path

import numpy as np
import pandas as pd

from .._files import check_writable
from ..errors import CustomerEquityError
from ..model.classify import tier_cutoffs
from ..model.config import MeasureConfig
from ..model.measure import Measurement, at_risk_note, carriers_per_period, measure
from .inputs import INPUT_FORMATS, open_source, prepare, require_pyarrow
from .outputs import (EXCEL_MAX_ROWS, WRITERS, CsvWriter, JsonWriter, MemoryWriter, ParquetWriter,
                      ResultWriter, Tee, XlsxWriter, atomic, duplicate_note)

__all__ = ["measure_file", "run", "BatchMeasurement", "ResultWriter", "WRITERS",
           "CsvWriter", "JsonWriter", "ParquetWriter", "XlsxWriter", "DEFAULT_BATCH_SIZE",
           "EXCEL_MAX_ROWS", "INPUT_FORMATS", "TEMPLATE_MAX_CUSTOMERS"]

#: Customers per batch when streaming (about 100-200 MB of working memory).
DEFAULT_BATCH_SIZE = 250_000
#: Up to this many customers, ``--out x.xlsx`` writes the measurement template filled in (its
#: formulas recompute in Excel); above, the results workbook streamed with bounded memory.
TEMPLATE_MAX_CUSTOMERS = 10_000
#: Without a terminal, a progress bar is shown only for inputs at least this large.
LONG_RUN_ROWS = 5_000_000


# --------------------------------------------------------------------------- results

@dataclasses.dataclass
class BatchMeasurement(Measurement):
    """A :class:`Measurement` added up over batches.

    ``customers`` holds the per-customer results only when they were kept
    (``keep_customers=True``); otherwise they went to the output file and
    ``customers`` is an empty table with the result columns.

    Attributes
    ----------
    at_risk_customers : int or None
        Key customers with fewer than three solid links (None without link columns).
    tier_cutoffs : tuple of 3 floats or None
        The value-tier cut-offs the per-customer results were written with.
    source : str
        The input, as given.
    """

    at_risk_customers: int | None = None
    tier_cutoffs: tuple | None = None
    source: str = ""
    duplicate_ids: int = 0
    first_duplicate_row: int | None = None

    def summary(self) -> str:
        """The report of :meth:`Measurement.summary`, at-risk customers and repeated ids included."""
        notes = []
        if self.at_risk_customers is None or len(self.customers) == int(self.counts.sum()):
            text = super().summary()
        else:  # the per-customer results went to a file: the at-risk count comes from the batches
            shown = dataclasses.replace(self, customers=self.customers.drop(columns="at_risk",
                                                                            errors="ignore"))
            text = Measurement.summary(shown)
            notes.append(f"- {at_risk_note(self.at_risk_customers)}")
        if self.duplicate_ids:
            notes.append(f"- {duplicate_note(self)}")
        if notes:
            text += ("\n" if "\n\nNotes\n" in text else "\n\nNotes\n") + "\n".join(notes)
        return text

    def to_dict(self) -> dict:
        """The summaries as plain data, with the input, at-risk count, tier cut-offs, repeated ids."""
        out = {"input": self.source, **super().to_dict()}
        out["at_risk_customers"] = self.at_risk_customers
        out["tier_cutoffs"] = None if self.tier_cutoffs is None else list(self.tier_cutoffs)
        out["duplicate_customer_ids"] = self.duplicate_ids
        out["first_duplicate_row"] = self.first_duplicate_row
        return out


def _id_hashes(frame, start=0):
    """64-bit hashes of the non-blank customer ids of a batch, with their positions."""
    if "customer_id" not in frame.columns:
        return None
    ids = frame["customer_id"]
    given = ids.notna().to_numpy()
    if ids.dtype == object:
        given &= ids.astype(str).str.strip().ne("").to_numpy()
    kept = ids[given]
    hashes = pd.util.hash_pandas_object(kept.astype(str), index=False).to_numpy()
    return hashes, np.flatnonzero(given).astype(np.int64) + start


def _duplicates(found):
    """(rows repeating an earlier id, 0-based data row of the first) from the batches' hashes."""
    if not found:
        return 0, None
    hashes = np.concatenate([h for h, _ in found])
    positions = np.concatenate([p for _, p in found])
    _, first = np.unique(hashes, return_index=True)
    repeated = np.ones(hashes.size, dtype=bool)
    repeated[first] = False
    count = int(repeated.sum())
    return count, (int(positions[repeated].min()) if count else None)


def _part(m):
    """The additive part of a batch's measurement (no per-customer table)."""
    at_risk = int(m.customers["at_risk"].sum()) if "at_risk" in m.customers else None
    return {"counts": m.counts, "sums": m.sums, "excluded": dict(m.excluded),
            "ignored": m.ignored_after_last_period, "at_risk": at_risk}


def _combine(parts, config, source, columns, customers=None, tier_cutoffs=None):
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    if not parts:  # a cluster may hand back no partition at all for an empty file
        parts = [{"counts": np.zeros(4, dtype=np.int64), "sums": np.zeros((6, 4)), "excluded": {},
                  "ignored": 0, "at_risk": None}]
    base = Measurement.combine(
        [Measurement(customers=empty, counts=p["counts"], sums=p["sums"], excluded=p["excluded"],
                     ignored_after_last_period=p["ignored"], config=config) for p in parts],
        customers=empty)
    risks = [p["at_risk"] for p in parts if p["at_risk"] is not None]
    return BatchMeasurement(
        customers=empty if customers is None else customers, counts=base.counts, sums=base.sums,
        excluded=base.excluded, ignored_after_last_period=base.ignored_after_last_period,
        config=config, at_risk_customers=sum(risks) if risks else None,
        tier_cutoffs=tier_cutoffs, source=source)


# --------------------------------------------------------------------------- the task

def _error_state(err):
    return {"argument": err.argument, "rule": err.rule, "row": err.row, "column": err.column,
            "value": err.value, "has_value": err.has_value}


def _partition_task(raw, spec, config, carriers, what):
    """Measure one batch or partition; runs in-process or on a Dask worker.

    ``what`` is ``"carriers"`` (transaction-value carriers per period),
    ``"summary"`` (the additive part), ``"ltv"`` (with the lifetime values) or
    ``"customers"`` (with the per-customer results). Input errors come back as data
    (``"error"``), to be placed in the file by the caller.
    """
    n = len(raw)
    try:
        frame = prepare(raw, spec)
        if what == "carriers":
            return {"n": n, "carriers": np.asarray(carriers_per_period(frame, config), dtype=np.int64)}
        m = measure(frame, config, carriers=carriers)
    except CustomerEquityError as err:
        return {"n": n, "error": _error_state(err)}
    out = {"n": n, "part": _part(m), "columns": list(m.customers.columns), "ids": _id_hashes(frame)}
    if what == "ltv":
        out["ltv"] = m.customers["ltv"].to_numpy(copy=True)  # not a view of the whole block
    elif what == "customers":
        out["customers"] = m.customers
    return out


def _located(state, source, spec, start):
    """The error of a batch starting at data row ``start`` (0-based), placed in the file."""
    arg, rule = state["argument"], state["rule"]
    kwargs = {"value": state["value"]} if state["has_value"] else {}
    if arg in spec.kinds or "column missing" in rule:
        raw_name = next((r for r, c in spec.renames.items() if c == arg), arg)
        row = None if state["row"] is None else source.display_row(start + state["row"] - 1)
        return CustomerEquityError(source.name, rule, row=row, column=raw_name, **kwargs)
    return CustomerEquityError(f"{source.name}: {arg}", rule, row=state["row"],
                               column=state["column"], **kwargs)


# --------------------------------------------------------------------------- executors

class _Local:
    """Batches measured one after another in this process."""

    def __init__(self, source, batch_size):
        self.source, self.batch_size = source, batch_size

    def map(self, config, carriers, what):
        for raw in self.source.batches(self.batch_size):
            yield _partition_task(raw, self.source.spec, config, carriers, what)

    def close(self):
        pass


def local_cluster(workers=None):
    """A local Dask cluster of worker processes with one thread each (``--dask`` without an
    address)."""
    import dask
    from distributed import LocalCluster

    # Dask sets MALLOC_TRIM_THRESHOLD_ for its workers; setting it turns off glibc's adaptive
    # mmap threshold, so that every large numpy array is mapped and faulted in afresh: the
    # forecast's batch and part tasks ran twice as slow as in one process.
    with warnings.catch_warnings(), dask.config.set(
            {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        warnings.simplefilter("ignore")
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                            host="127.0.0.1", dashboard_address=None)


class _Dask:
    """Partitions measured on a Dask cluster, results taken back in input order."""

    def __init__(self, source, batch_size, address=None, workers=None):
        try:
            import dask
            from distributed import Client
        except ImportError:
            raise CustomerEquityError("--dask", "needs dask and distributed: pip install "
                                      "'customer-equity[cluster]'") from None
        self.source, self.batch_size = source, batch_size
        self._dask = dask
        self.cluster = None
        if address in (None, "local"):
            self.cluster = local_cluster(workers)
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(address, timeout="20s")
            except (OSError, TimeoutError, ValueError) as err:
                raise CustomerEquityError("--dask", f"cannot reach the Dask scheduler: {err}",
                                          value=address) from None
        self.frame = source.dask_frame(batch_size)
        self.window = max(2, 2 * len(self.client.nthreads()))

    def map(self, config, carriers, what):
        tasks = [self._dask.delayed(_partition_task, pure=False)(p, self.source.spec, config,
                                                                  carriers, what)
                 for p in self.frame.to_delayed()]
        pending = deque()
        todo = iter(tasks)
        for task in todo:
            pending.append(self.client.compute(task))
            if len(pending) >= self.window:
                break
        while pending:
            future = pending.popleft()
            try:
                result = future.result()
            except (ValueError, TypeError, OSError) as err:
                raise CustomerEquityError(self.source.name, f"cannot read on the cluster: {err}") from None
            finally:
                future.release()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(self.client.compute(nxt))
            yield result

    def close(self):
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()


# --------------------------------------------------------------------------- the run

def _progress(enabled, total, desc):
    if not enabled:
        return contextlib.nullcontext(None)
    from tqdm import tqdm

    tty = sys.stderr.isatty()
    return tqdm(total=total, desc=desc, unit=" customers", unit_scale=True, file=sys.stderr,
                delay=0.5 if tty else 0, mininterval=0.2 if tty else 30, leave=False)


def _results(executor, source, config, carriers, what, bar):
    """Per-batch results in input order; the first input error, placed in the file, is raised."""
    start = 0
    for result in executor.map(config, carriers, what):
        if "error" in result:
            raise _located(result["error"], source, source.spec, start)
        start += result["n"]
        if bar is not None:
            bar.update(result["n"])
        yield result


def _add_padded(total, counts):
    counts = np.asarray(counts, dtype=np.int64)
    if counts.size > total.size:
        total = np.concatenate([total, np.zeros(counts.size - total.size, dtype=np.int64)])
    total[: counts.size] += counts
    return total


def _passes(executor, source, config, writer, progress):
    """The passes over the input: carriers, measurement (and lifetime values), writing."""
    rows = source.num_rows
    show = progress if progress is not None else (
        sys.stderr.isatty() or (rows is not None and rows >= LONG_RUN_ROWS))
    passes = (["carriers"] if config.transaction_income is not None else []) + ["measure"]
    per_customer = writer.per_customer
    need_tiers = per_customer and config.tier_cutoffs is None
    if need_tiers:
        passes.append("write")
    if per_customer:
        writer.check_rows(rows)

    def label(step):
        return f"{source.kind}: {step} ({passes.index(step) + 1}/{len(passes)})" \
            if len(passes) > 1 else f"{source.kind}: measuring"

    carriers = None
    if config.transaction_income is not None:
        carriers = np.zeros(0, dtype=np.int64)
        n = 0
        with _progress(show, rows, label("carriers")) as bar:
            for result in _results(executor, source, config, None, "carriers", bar):
                carriers = _add_padded(carriers, result["carriers"])
                n += result["n"]
        rows = n
        if isinstance(config.transaction_income, (list, tuple)):
            carriers = carriers[: len(config.transaction_income)]

    parts, ltvs, columns, ids, n = [], [], [], [], 0
    if per_customer and need_tiers:
        writer.check_rows(rows)
    what = "ltv" if need_tiers else ("customers" if per_customer else "summary")
    with _progress(show, rows, label("measure")) as bar:
        for result in _results(executor, source, config, carriers, what, bar):
            parts.append(result["part"])
            columns = result["columns"]
            if result["ids"] is not None:
                hashes, positions = result["ids"]
                ids.append((hashes, positions + n))
            n += result["n"]
            if what == "ltv":
                ltvs.append(result["ltv"])
            elif what == "customers":
                writer.write(result["customers"])

    cutoffs = config.tier_cutoffs
    if need_tiers:
        writer.check_rows(n)
        ltv = np.concatenate(ltvs) if ltvs else np.zeros(0)
        del ltvs
        if ltv.size:
            cutoffs = tier_cutoffs(ltv)
        del ltv
        tiered = dataclasses.replace(config, tier_cutoffs=cutoffs) if cutoffs else config
        with _progress(show, n, label("write")) as bar:
            for result in _results(executor, source, tiered, carriers, "customers", bar):
                writer.write(result["customers"])
    duplicates = _duplicates(ids)
    del ids
    return (parts, columns, (tuple(cutoffs) if cutoffs is not None and per_customer else None),
            duplicates)


def measure_file(input, config=None, out=None, *, batch_size=DEFAULT_BATCH_SIZE, sheet=None,
                 dask=None, workers=None, progress=False, keep_customers=False):
    """Measure the customer table in a file, batch by batch, and write the results.

    Parameters
    ----------
    input : str, path or pandas.DataFrame
        ``.csv`` (UTF-8; comma, semicolon or tab separated), ``.parquet`` or
        ``.xlsx`` with one row per customer and the columns of :func:`measure`
        (matched ignoring case, spaces and hyphens: ``Customer ID`` is
        ``customer_id``). Other columns are ignored.
    config : MeasureConfig, optional
        Default ``MeasureConfig()``.
    out : str or path, optional
        ``.xlsx`` (summary, per-customer results, configuration), ``.csv`` or
        ``.parquet`` (per-customer results), ``.json`` (summaries). Written to a
        temporary file renamed at the end: a failed run leaves nothing.
    batch_size : int
        Customers per batch (memory grows with it, not with the input).
    sheet : str, optional
        The sheet of an ``.xlsx`` input (default ``Customers`` if present, else the
        first sheet).
    dask : str, optional
        ``"local"`` for a local Dask cluster, or a scheduler address
        (``tcp://host:8786``) whose workers can read ``input``.
    workers : int, optional
        Workers of the local Dask cluster (default: one per core).
    progress : bool or None
        Progress bar on stderr; None: when stderr is a terminal or the input is long.
    keep_customers : bool
        Also return the per-customer results in ``customers`` (they must fit in memory).

    Returns
    -------
    BatchMeasurement
        Equity, ``by_type``, ``composition``, ``structure``, ``summary()``, as the
        in-memory :func:`measure` would give for the whole table.

    Raises
    ------
    CustomerEquityError
        Bad input, named by file, row (as the user sees it: the CSV line, the sheet
        row, the Parquet row) and column.

    Examples
    --------
    >>> from customer_equity import load_sample, sample_config
    >>> m = measure_file(load_sample(), sample_config(), batch_size=300)
    >>> whole = measure(load_sample(), sample_config())
    >>> bool(np.isclose(m.equity, whole.equity, rtol=1e-12)), m.counts.tolist() == whole.counts.tolist()
    (True, True)
    """
    config = config or MeasureConfig()
    if batch_size < 1:
        raise CustomerEquityError("batch_size", "must be a whole number >= 1", value=batch_size)
    writer_cls = None
    if out is not None:
        check_writable(out)  # a folder, a missing folder, a read-only file: before any work
        suffix = Path(out).suffix.lower()
        writer_cls = WRITERS.get(suffix)
        if suffix in (".csv", ".parquet", ".xlsx"):
            require_pyarrow(str(out))
        if writer_cls is None:
            raise CustomerEquityError(str(out), "unknown output format; give a file ending in "
                                      + ", ".join(WRITERS))
        if not isinstance(input, pd.DataFrame) and Path(out).resolve() == Path(input).resolve():
            raise CustomerEquityError(str(out), "is the input file; choose another output file")
    source = open_source(input, config, sheet)
    executor = None
    try:
        with contextlib.ExitStack() as stack:
            writers = []
            if writer_cls is not None:
                tmp = stack.enter_context(atomic(out))
                writers.append(writer_cls(tmp, out))
            memory = MemoryWriter() if keep_customers else None
            if memory is not None:
                writers.append(memory)
            writer = Tee(writers)
            try:
                if dask:
                    executor = _Dask(source, batch_size, dask, workers)
                else:
                    executor = _Local(source, batch_size)
                parts, columns, cutoffs, (repeats, first) = _passes(executor, source, config,
                                                                    writer, progress)
                customers = None
                if memory is not None:
                    customers = (pd.concat(memory.frames, ignore_index=True) if memory.frames
                                 else None)
                result = _combine(parts, config, source.name, columns, customers, cutoffs)
                result.duplicate_ids = repeats
                result.first_duplicate_row = None if first is None else source.display_row(first)
                writer.close(result)
                if (writer_cls is XlsxWriter and not dask
                        and int(result.counts.sum()) <= TEMPLATE_MAX_CUSTOMERS):
                    _fill_template(source, batch_size, config, tmp)
            except OSError as err:
                writer.abort()
                raise CustomerEquityError(str(out or input), f"cannot write: {err.strerror or err}") \
                    from None
            except BaseException:
                writer.abort()
                raise
    finally:
        if executor is not None:
            executor.close()
        if hasattr(source, "close"):
            source.close()
    return result


def _fill_template(source, batch_size, config, path):
    """Replace the results workbook at ``path`` by the measurement template filled in with
    the customers, when the table fits the template (one column per input, at most
    :data:`TEMPLATE_MAX_CUSTOMERS` customers). A table the template cannot hold (per-period
    blocks, direct pv/ppv) keeps the results workbook.
    """
    from ..excel.templates import write_measurement_workbook

    frames = [prepare(raw, source.spec) for raw in source.batches(batch_size)]
    customers = pd.concat(frames, ignore_index=True) if frames else None
    if customers is None or customers.empty:
        return
    try:
        write_measurement_workbook(customers, config, path)
    except CustomerEquityError:
        return


# --------------------------------------------------------------------------- command line

@contextlib.contextmanager
def _terminate_as_interrupt():
    """SIGTERM (a job scheduler stopping the run) cleans up like Ctrl-C does."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _looks_like_address(text):
    return "://" in text or re.fullmatch(r"[\w.\-\[\]:]+:[0-9]+", text) is not None


def run(input=None, *, config=None, out=None, batch_size=DEFAULT_BATCH_SIZE, sheet=None,
        dask=None, workers=None, progress=None):
    """The ``measure`` command with an INPUT or ``--out``: measure, write, print the summary.

    ``input`` is the customer file (None: the bundled sample), ``config`` the
    configuration file (None: defaults, or the sample's settings for the sample); the
    other parameters are those of :func:`measure_file`. Returns the exit code.
    """
    source = input
    if dask and dask != "local" and not _looks_like_address(dask):
        if source is None:  # "measure --dask customers.csv": the option took the input
            source, dask = dask, "local"
        else:
            raise CustomerEquityError("--dask", "expected a scheduler address such as "
                                      "tcp://10.0.0.5:8786", value=dask)
    if workers and not dask:
        dask = "local"
    config_file = config
    if config_file:
        config = MeasureConfig.from_file(config_file)
    elif source is None:
        from ..model.sample import sample_config

        config = sample_config()
    else:
        config = MeasureConfig()
    if source is None:
        from ..model.sample import load_sample

        source = load_sample()
    shown = "the bundled sample (1,000 customers)" if isinstance(source, pd.DataFrame) else source
    started = time.perf_counter()
    with _terminate_as_interrupt():
        result = measure_file(source, config, out, batch_size=batch_size, sheet=sheet, dask=dask,
                              workers=workers, progress=progress)
    seconds = time.perf_counter() - started
    n = int(result.counts.sum())
    print(result.summary())
    where = f"; results in {out}" if out else ""
    rate = f", {n / seconds:,.0f} customers/s" if seconds > 0 else ""
    print(f"\nMeasured {n:,} customers from {shown} in {seconds:.1f} s{rate}{where}")
    return 0
