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
from pathlib import Path

import numpy as np
import pandas as pd

from .._files import check_writable
from ..errors import CustomerEquityError
from ..model.classify import tier_cutoffs
from ..model.config import MeasureConfig
from ..model.measure import Measurement, at_risk_note, carriers_per_period, measure
from . import executors
from .executors import bar
from .inputs import INPUT_FORMATS, open_source, prepare, require_pyarrow
from .outputs import (EXCEL_MAX_ROWS, WRITERS, CsvWriter, JsonWriter, MemoryWriter, ParquetWriter,
                      ResultWriter, Tee, XlsxWriter, atomic, duplicate_note)

__all__ = ["measure_file", "BatchMeasurement", "ResultWriter", "WRITERS",
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


def _id_hashes(frame):
    """64-bit hashes of the non-blank customer ids of a batch, with their rows in the batch."""
    if "customer_id" not in frame.columns:
        return None
    ids = frame["customer_id"]
    given = ids.notna().to_numpy()
    if ids.dtype == object:
        given = given & ids.astype(str).str.strip().ne("").to_numpy()
    kept = ids[given]
    hashes = pd.util.hash_pandas_object(kept.astype(str), index=False).to_numpy()
    return hashes, np.flatnonzero(given).astype(np.int32)  # a batch is far below 2^31 rows


def _duplicates(found):
    """(rows repeating an earlier id, 0-based data row of the first) from the batches'
    ``(hashes, rows in the batch, the batch's first row)``.

    One sorted copy of the hashes counts the repeats (8 bytes a customer besides the batches'
    own); the first repeating row is then looked for among the rows of repeated ids only.
    """
    if not found:
        return 0, None
    ordered = np.concatenate([h for h, _, _ in found])
    ordered.sort()
    same = ordered[1:] == ordered[:-1]
    count = int(same.sum())
    if not count:
        return 0, None
    repeated = np.unique(ordered[1:][same])
    del ordered, same
    hashes, rows = [], []
    for h, positions, start in found:
        hit = np.isin(h, repeated)
        hashes.append(h[hit])
        rows.append(positions[hit].astype(np.int64) + start)
    again = pd.Series(np.concatenate(hashes)).duplicated().to_numpy()
    return count, int(np.concatenate(rows)[again].min())


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
        m = measure(frame, config, carriers=carriers, part=True)
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


# --------------------------------------------------------------------------- the run

def _results(executor, source, config, carriers, what, progress_bar):
    """Per-batch results in input order; the first input error, placed in the file, is raised."""
    start = 0
    for result in executor.map(_partition_task, source.spec, config, carriers, what):
        if "error" in result:
            raise _located(result["error"], source, source.spec, start)
        start += result["n"]
        if progress_bar is not None:
            progress_bar.update(result["n"])
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
        with bar(progress, rows, label("carriers")) as progress_bar:
            for result in _results(executor, source, config, None, "carriers", progress_bar):
                carriers = _add_padded(carriers, result["carriers"])
                n += result["n"]
        rows = n
        if isinstance(config.transaction_income, (list, tuple)):
            carriers = carriers[: len(config.transaction_income)]

    parts, ltvs, columns, ids, n = [], [], [], [], 0
    if per_customer and need_tiers:
        writer.check_rows(rows)
    what = "ltv" if need_tiers else ("customers" if per_customer else "summary")
    with bar(progress, rows, label("measure")) as progress_bar:
        for result in _results(executor, source, config, carriers, what, progress_bar):
            parts.append(result["part"])
            columns = result["columns"]
            if result["ids"] is not None:
                ids.append((*result["ids"], n))
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
        with bar(progress, n, label("write")) as progress_bar:
            for result in _results(executor, source, tiered, carriers, "customers", progress_bar):
                writer.write(result["customers"])
    duplicates = _duplicates(ids)
    del ids
    return (parts, columns, (tuple(cutoffs) if cutoffs is not None and per_customer else None),
            duplicates)


def measure_file(input, config=None, out=None, *, batch_size=DEFAULT_BATCH_SIZE, sheet=None,
                 dask=None, workers=None, progress=None, keep_customers=False, workbook=None):
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
    progress : callable, optional
        A factory of progress bars, ``progress(total, desc, unit)`` (see
        :mod:`customer_equity.files.executors`); None: no bar.
    keep_customers : bool
        Also return the per-customer results in ``customers`` (they must fit in memory).
    workbook : callable, optional
        ``workbook(customers, config, path)`` writes an ``.xlsx`` result as a workbook of
        the customers (the command gives the measurement template's writer); used when the
        table fits :data:`TEMPLATE_MAX_CUSTOMERS` and was measured in this process. It may
        raise :class:`CustomerEquityError` for a table it cannot hold: the results workbook
        is kept then.

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
                executor = executors.executor(source, batch_size, dask, workers)
                parts, columns, cutoffs, (repeats, first) = _passes(executor, source, config,
                                                                    writer, progress)
                customers = None
                if memory is not None:
                    customers = (pd.concat(memory.frames, ignore_index=True) if memory.frames
                                 else None)
                result = _combine(parts, config, source.name, columns, customers, cutoffs)
                if not int(result.counts.sum()):  # nothing is written: the file is refused
                    raise CustomerEquityError(source.name, "the table has a header but no rows: "
                                              "there are no customers to measure")
                result.duplicate_ids = repeats
                result.first_duplicate_row = None if first is None else source.display_row(first)
                writer.close(result)
                if (writer_cls is XlsxWriter and workbook is not None and not dask
                        and int(result.counts.sum()) <= TEMPLATE_MAX_CUSTOMERS):
                    _fill_workbook(workbook, source, batch_size, config, tmp)
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


def _fill_workbook(workbook, source, batch_size, config, path):
    """Replace the results workbook at ``path`` by ``workbook(customers, config, path)``, the
    customers read again in memory (at most :data:`TEMPLATE_MAX_CUSTOMERS`). A table the
    writer cannot hold (per-period blocks, direct pv/ppv) keeps the results workbook.
    """
    frames = [prepare(raw, source.spec) for raw in source.batches(batch_size)]
    customers = pd.concat(frames, ignore_index=True) if frames else None
    if customers is None or customers.empty:
        return
    try:
        workbook(customers, config, path)
    except CustomerEquityError:
        return
