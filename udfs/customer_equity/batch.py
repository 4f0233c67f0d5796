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
import json
import math
import numbers
import os
import re
import secrets
import sys
import time
import unicodedata
import warnings
from collections import deque
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import CustomerEquityError
from .model.classify import DEFAULT_TIER_QUANTILES
from .model.config import MeasureConfig
from .model.links import REQUIRED_LINKS
from .model.measure import INPUT_COLUMNS, Measurement, carriers_per_period, measure

__all__ = ["measure_file", "run", "add_arguments", "BatchMeasurement", "ResultWriter",
           "WRITERS", "DEFAULT_BATCH_SIZE", "EXCEL_MAX_ROWS"]

#: Customers per batch when streaming (about 100-200 MB of working memory).
DEFAULT_BATCH_SIZE = 250_000
#: Data rows an Excel sheet holds below its header row (1,048,576 rows in all).
EXCEL_MAX_ROWS = 1_048_575
#: Batches of an .xlsx input are smaller: openpyxl gives one Python object per cell.
XLSX_BATCH_SIZE = 50_000
#: Without a terminal, a progress bar is shown only for inputs at least this large.
LONG_RUN_ROWS = 5_000_000

INPUT_FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet",
                 ".pq": "parquet", ".xlsx": "xlsx", ".xlsm": "xlsx"}

# What measure() reads, by kind (every other column is left out of the batches).
_FLOWS = ("capacity", "share", "margin", "pv", "influence", "reach", "avg_value", "ppv",
          "cv", "kv", "tv")
_FLAGS = ("tv_carrier", "key_customer", "executive_link", "expert_link")
_TRUE = ("true", "1", "1.0", "yes")
_FALSE = ("false", "0", "0.0", "no")
_BLOCK = re.compile(r"(.+)_([0-9]+)")


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

    def summary(self) -> str:
        """The report of :meth:`Measurement.summary`, at-risk customers included."""
        text = super().summary()
        if self.at_risk_customers is not None and "at_risk" not in self.customers:
            note = (f"- {self.at_risk_customers:,} customers have fewer than {REQUIRED_LINKS} "
                    "solid relationship links")
            text += ("\n" if "\n\nNotes\n" in text else "\n\nNotes\n") + note
        return text

    def to_dict(self) -> dict:
        """The summaries as plain data, with the input, at-risk count and tier cut-offs."""
        out = {"input": self.source, **super().to_dict()}
        out["at_risk_customers"] = self.at_risk_customers
        out["tier_cutoffs"] = None if self.tier_cutoffs is None else list(self.tier_cutoffs)
        return out


def _part(m):
    """The additive part of a batch's measurement (no per-customer table)."""
    at_risk = int(m.customers["at_risk"].sum()) if "at_risk" in m.customers else None
    return {"counts": m.counts, "sums": m.sums, "excluded": dict(m.excluded),
            "ignored": m.ignored_after_last_period, "at_risk": at_risk}


def _combine(parts, config, source, columns, customers=None, tier_cutoffs=None):
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
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


# --------------------------------------------------------------------------- columns

def _canonical(name):
    """``" Customer ID "`` -> ``"customer_id"``: how a header is matched to a column."""
    key = unicodedata.normalize("NFKC", str(name)).strip().lower()
    return re.sub(r"[\s\-]+", "_", key)


def _kind(name, config):
    """How measure() reads a column: number, flag, label, id; None when it does not."""
    if name in ("periods", "decision_makers") or name in _FLOWS:
        return "number"
    if config.classify_by == "score" and name in config.weights:
        return "number"
    block = _BLOCK.fullmatch(name)
    if block and block.group(1) in _FLOWS:
        return "number"
    if name in _FLAGS:
        return "flag"
    if name in ("stage", "type"):
        return "label" if name == config.classify_by else None
    if name == "customer_id":
        return "id"
    return None


@dataclasses.dataclass(frozen=True)
class _Spec:
    """Which columns of the file are read, under which names, as what (picklable)."""

    names: tuple          # the file's header names that are read
    renames: dict         # file name -> column name, where they differ
    kinds: dict           # column name -> kind
    text: bool            # all values are text (CSV): numbers and flags are parsed here

    @classmethod
    def of(cls, header, config, source, text):
        chosen, renames, kinds, seen = [], {}, {}, {}
        for raw in header:
            if raw is None or str(raw).strip() == "":
                continue
            raw = str(raw)
            name = raw if _kind(raw, config) else _canonical(raw)
            kind = _kind(name, config)
            if kind is None:
                continue
            if name in seen:
                raise CustomerEquityError(source, f"two columns mean {name!r}: {seen[name]!r} and "
                                          f"{raw!r}", column=name)
            seen[name] = raw
            chosen.append(raw)
            kinds[name] = kind
            if name != raw:
                renames[raw] = name
        return cls(tuple(chosen), renames, kinds, text)


def _flag_value(v):
    """1.0 / 0.0 / NaN for a TRUE/FALSE cell; None when it is none of these."""
    if v is None:
        return np.nan
    if isinstance(v, (bool, np.bool_)):
        return float(v)
    if isinstance(v, numbers.Real):
        f = float(v)
        return np.nan if math.isnan(f) else (f if f in (0.0, 1.0) else None)
    if isinstance(v, str):
        key = v.strip().lower()
        if key == "":
            return np.nan
        return 1.0 if key in _TRUE else 0.0 if key in _FALSE else None
    return None


def _flags_from_codes(codes, uniques, name):
    lookup = np.empty(len(uniques), dtype=np.float64)
    for k, u in enumerate(uniques):
        f = _flag_value(u)
        if f is None:
            row = int(np.flatnonzero(codes == k)[0]) + 1
            raise CustomerEquityError(name, "must be TRUE/FALSE or 1/0", row=row,
                                      value=u.item() if isinstance(u, np.generic) else u)
        lookup[k] = f
    out = np.where(codes < 0, np.nan, lookup[np.maximum(codes, 0)]) if len(uniques) else \
        np.full(codes.shape, np.nan)
    return out.astype(bool) if not np.isnan(out).any() else out


def _fix_flags(frame, kinds):
    """TRUE/FALSE columns with blanks or text become 1/0/NaN (blank = FALSE), else unchanged."""
    for name, kind in kinds.items():
        if kind != "flag" or name not in frame.columns:
            continue
        s = frame[name]
        if s.dtype.kind in "biuf":
            continue
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        frame[name] = _flags_from_codes(codes, list(uniques), name)
    return frame


def _text_numbers(col, name):
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_null(col.type):
        return np.full(len(col), np.nan)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        return pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
    for prepare in (lambda c: c, pc.utf8_trim_whitespace):
        try:
            return pc.cast(prepare(col), pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    out = np.empty(len(col), dtype=np.float64)
    for k, v in enumerate(col.to_pylist()):
        s = "" if v is None else v.strip()
        try:
            out[k] = float(s) if s else np.nan
        except ValueError:
            raise CustomerEquityError(name, "expected a number, got text", row=k + 1, value=v) from None
    return out


def _text_flags(col, name):
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_null(col.type):
        return np.full(len(col), np.nan)
    if pa.types.is_boolean(col.type) or pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
        return _fix_flags(pd.DataFrame({name: col.to_pandas()}), {name: "flag"})[name].to_numpy()
    encoded = pc.dictionary_encode(col)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return _flags_from_codes(codes, encoded.dictionary.to_pylist(), name)


def _text_labels(col):
    import pyarrow as pa
    import pyarrow.compute as pc

    if col.null_count == 0 and len(col):
        try:
            return pc.cast(col, pa.int64()).to_numpy()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    return col.to_pandas()


def _frame_from_text(table, spec):
    """A pandas frame from an all-text arrow table (CSV): numbers and flags parsed.

    Like ``pandas.read_csv``: numbers are numbers, ``TRUE``/``FALSE``/``1``/``0``
    are flags (a blank flag counts as FALSE), a stage or type column of whole
    numbers is read as numbers. Text where a number belongs is refused by row.
    """
    data = {}
    for raw in table.column_names:
        name = spec.renames.get(raw, raw)
        kind = spec.kinds.get(name)
        if kind is None:
            continue
        col = table.column(raw).combine_chunks()
        if kind == "number":
            data[name] = _text_numbers(col, name)
        elif kind == "flag":
            data[name] = _text_flags(col, name)
        elif kind == "label":
            data[name] = _text_labels(col)
        else:
            data[name] = col.to_pandas()
    frame = pd.DataFrame(data)
    frame.index = pd.RangeIndex(table.num_rows)
    return frame


def _prepare(raw, spec):
    """One batch as measure() expects it, from an arrow table or a pandas frame."""
    if spec.text:
        if isinstance(raw, pd.DataFrame):
            import pyarrow as pa

            raw = pa.Table.from_pandas(raw.astype(object), preserve_index=False)
        return _frame_from_text(raw, spec)
    if not isinstance(raw, pd.DataFrame):
        raw = raw.to_pandas()
    frame = raw[[c for c in spec.names if c in raw.columns]].rename(columns=spec.renames)
    frame = frame.reset_index(drop=True)
    return _fix_flags(frame, spec.kinds)


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
        frame = _prepare(raw, spec)
        if what == "carriers":
            return {"n": n, "carriers": np.asarray(carriers_per_period(frame, config), dtype=np.int64)}
        m = measure(frame, config, carriers=carriers)
    except CustomerEquityError as err:
        return {"n": n, "error": _error_state(err)}
    out = {"n": n, "part": _part(m), "columns": list(m.customers.columns)}
    if what == "ltv":
        out["ltv"] = m.customers["ltv"].to_numpy()
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


# --------------------------------------------------------------------------- inputs

class _Source:
    """A customer table read batch by batch. ``display_row`` gives the row a user sees."""

    kind = "table"
    text = False

    def __init__(self, path, config):
        self.path = path
        self.name = str(path)
        self.config = config
        self.num_rows = None

    def display_row(self, index):
        return index + 1

    def batches(self, batch_size):  # pragma: no cover - interface
        raise NotImplementedError

    def dask_frame(self, batch_size):
        """A dask DataFrame of the raw table (``spec`` applies per partition)."""
        import dask.dataframe as dd

        frames = list(self.batches(batch_size))
        frames = [f if isinstance(f, pd.DataFrame) else f.to_pandas() for f in frames]
        whole = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return dd.from_pandas(whole, chunksize=max(1, batch_size), sort=False)


class _FrameSource(_Source):
    """A pandas DataFrame already in memory (the bundled sample, or a Python caller's)."""

    kind = "table"

    def __init__(self, frame, config, name="table"):
        super().__init__(name, config)
        self.frame = frame
        self.num_rows = len(frame)
        self.spec = _Spec.of(list(frame.columns), config, name, text=False)

    def batches(self, batch_size):
        n = len(self.frame)
        for start in range(0, max(n, 1), batch_size):
            yield self.frame.iloc[start:start + batch_size]


class _ParquetSource(_Source):
    kind = "Parquet"

    def __init__(self, path, config):
        super().__init__(path, config)
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            self._file = pq.ParquetFile(path)
        except (OSError, pa.ArrowException) as err:
            raise CustomerEquityError(self.name, f"cannot read the Parquet file: {err}") from None
        self.num_rows = self._file.metadata.num_rows
        self.spec = _Spec.of(self._file.schema_arrow.names, config, self.name, text=False)

    def batches(self, batch_size):
        import pyarrow as pa

        empty = True
        try:
            for batch in self._file.iter_batches(batch_size=batch_size, columns=list(self.spec.names),
                                                 use_threads=True):
                empty = False
                yield pa.Table.from_batches([batch])
        except (OSError, pa.ArrowException) as err:
            raise CustomerEquityError(self.name, f"cannot read the Parquet file: {err}") from None
        if empty:
            yield self._file.schema_arrow.empty_table().select(list(self.spec.names))

    def dask_frame(self, batch_size):
        import dask.dataframe as dd

        return dd.read_parquet(str(self.path), columns=list(self.spec.names))


class _CsvSource(_Source):
    """CSV, read with pyarrow as text and parsed per batch (row = line, header = line 1).

    Row numbers count one line per row: a value with a line break inside quotes, or
    a blank line (skipped), shifts the numbers after it.
    """

    kind = "CSV"
    text = True

    def __init__(self, path, config):
        super().__init__(path, config)
        import csv

        try:
            with open(path, newline="", encoding="utf-8-sig") as fh:
                first = fh.readline(1 << 20)
        except OSError as err:
            raise CustomerEquityError(self.name, f"cannot read: {err.strerror}") from None
        except UnicodeDecodeError:
            raise CustomerEquityError(self.name, "not UTF-8 text; save the CSV as UTF-8 "
                                      "(Excel: CSV UTF-8)") from None
        if not first.strip():
            raise CustomerEquityError(self.name, "empty file: expected a header row with the "
                                      "column names")
        counts = {d: first.count(d) for d in (",", ";", "\t")}
        self.delimiter = max(counts, key=counts.get) if max(counts.values()) else ","
        header = next(csv.reader([first], delimiter=self.delimiter))
        self.spec = _Spec.of(header, config, self.name, text=True)

    def display_row(self, index):
        return index + 2

    def _reader(self):
        import pyarrow as pa
        import pyarrow.csv as pacsv

        names = list(self.spec.names)
        return pacsv.open_csv(
            self.path,
            read_options=pacsv.ReadOptions(block_size=1 << 22, encoding="utf-8"),
            parse_options=pacsv.ParseOptions(delimiter=self.delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in names}, include_columns=names,
                strings_can_be_null=True))

    def batches(self, batch_size):
        import pyarrow as pa

        pending, size, done, yielded = [], 0, 0, False
        try:
            reader = self._reader()
            schema = reader.schema
            for batch in reader:
                pending.append(batch)
                size += batch.num_rows
                while size >= batch_size:
                    table = pa.Table.from_batches(pending, schema=schema)
                    yield table.slice(0, batch_size)
                    yielded = True
                    rest = table.slice(batch_size)
                    done += batch_size
                    pending, size = rest.to_batches(), rest.num_rows
        except (OSError, pa.ArrowException) as err:
            raise CustomerEquityError(self.name, f"cannot read the CSV file after line "
                                      f"{self.display_row(done)}: {err}") from None
        if size or not yielded:
            yield pa.Table.from_batches(pending, schema=schema)

    def dask_frame(self, batch_size):
        import dask.dataframe as dd

        # ~80 bytes a row in CSV: partitions of about batch_size customers
        blocksize = max(1 << 16, 80 * batch_size)
        return dd.read_csv(str(self.path), sep=self.delimiter, usecols=list(self.spec.names),
                           dtype=object, blocksize=blocksize, encoding="utf-8-sig",
                           keep_default_na=True)


class _XlsxSource(_Source):
    """One sheet of an .xlsx workbook, read with openpyxl (cached values of formulas).

    The header row is the first row that names a ``periods`` column (or else the
    first non-empty row); blank rows are skipped; rows are the sheet's row numbers.
    """

    kind = "Excel"

    def __init__(self, path, config, sheet=None):
        super().__init__(path, config)
        import openpyxl

        try:
            self._book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as err:  # openpyxl raises many types for a damaged file
            raise CustomerEquityError(self.name, f"cannot read the workbook: {err}") from None
        names = self._book.sheetnames
        if sheet is None:
            sheet = next((s for s in names if _canonical(s) in ("customers", "customer_table")), names[0])
        elif sheet not in names:
            raise CustomerEquityError(self.name, "no sheet of that name; the workbook has "
                                      + ", ".join(repr(s) for s in names), value=sheet)
        self.sheet = sheet
        self.name = f"{path} [{sheet}]"
        ws = self._book[sheet]
        self._header_row, header = self._find_header(ws)
        self._positions = [k for k, h in enumerate(header) if h is not None and str(h).strip()]
        self._names = [str(header[k]) for k in self._positions]
        self.spec = _Spec.of(self._names, config, self.name, text=False)
        max_row = ws.max_row or self._header_row
        self.num_rows = max(0, max_row - self._header_row)
        self._rows = np.zeros(0, dtype=np.int64)
        self._cache = None

    def _find_header(self, ws):
        first = None
        for r, row in enumerate(ws.iter_rows(min_row=1, max_row=50, values_only=True), start=1):
            cells = [_canonical(c) if isinstance(c, str) else None for c in row]
            if first is None and any(c not in (None, "") for c in row):
                first = (r, list(row))
            if "periods" in cells:
                return r, list(row)
        if first is None:
            raise CustomerEquityError(self.name, "the sheet is empty: expected a header row with "
                                      "the column names")
        return first

    def display_row(self, index):
        return int(self._rows[index])

    def batches(self, batch_size):
        # Parsing the sheet is the slow part (openpyxl: a few microseconds a cell) and a
        # sheet holds at most about a million rows: it is read once and kept for later passes.
        if self._cache is not None:
            yield from self._cache
            return
        cache = []
        batch_size = min(batch_size, XLSX_BATCH_SIZE)
        ws = self._book[self.sheet]
        names, pos = self._names, self._positions
        keep = [k for k, raw in enumerate(names) if raw in self.spec.names]
        columns = [names[k] for k in keep]
        rows, numbers_, rows_all = [], [], []

        def flush():
            rows_all.append(np.asarray(numbers_, dtype=np.int64))
            self._rows = np.concatenate(rows_all)
            frame = pd.DataFrame.from_records(rows, columns=columns)
            cache.append(frame)
            return frame

        for r, row in enumerate(ws.iter_rows(min_row=self._header_row + 1, values_only=True),
                                start=self._header_row + 1):
            values = [row[pos[k]] if pos[k] < len(row) else None for k in keep]
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            rows.append(values)
            numbers_.append(r)
            if len(rows) >= batch_size:
                yield flush()
                rows, numbers_ = [], []
        if rows or not cache:
            yield flush()
        self.num_rows = len(self._rows)
        self._cache = cache

    def close(self):
        self._book.close()


def _open_source(input, config, sheet=None):
    if isinstance(input, pd.DataFrame):
        return _FrameSource(input, config)
    path = Path(input)
    fmt = INPUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise CustomerEquityError(str(input), "unknown input format; give a .csv, .parquet or "
                                  ".xlsx file")
    if not path.is_file():
        raise CustomerEquityError(str(input), "no such file")
    if sheet is not None and fmt != "xlsx":
        raise CustomerEquityError("--sheet", "only an .xlsx input has sheets", value=sheet)
    if fmt == "csv":
        return _CsvSource(input, config)
    if fmt == "parquet":
        return _ParquetSource(input, config)
    return _XlsxSource(input, config, sheet)


# --------------------------------------------------------------------------- outputs

class ResultWriter:
    """Where the results go; one subclass per output format (see :data:`WRITERS`).

    The batch run calls :meth:`write` with each batch's per-customer results, in
    input order (only when :attr:`per_customer` is true), then :meth:`close` with
    the combined measurement. The file it writes is a temporary one, renamed by the
    caller on success and deleted on failure (after :meth:`abort`).

    Parameters
    ----------
    path : pathlib.Path
        The file to write.
    """

    per_customer = True
    #: Most per-customer rows the format holds (None: no limit).
    max_rows = None
    suffix = ""

    def __init__(self, path):
        self.path = Path(path)
        self.rows = 0

    def check_rows(self, total, destination):
        if self.max_rows is not None and total is not None and total > self.max_rows:
            raise CustomerEquityError(
                str(destination), f"an Excel sheet holds at most {self.max_rows:,} customers, this "
                f"input has {total:,}; write the per-customer results to .parquet or .csv (and the "
                "summaries to .json)")

    def write(self, customers):
        """Append one batch of per-customer results."""

    def close(self, result):
        """Finish the file with the combined :class:`BatchMeasurement`."""

    def abort(self):
        """Release open handles after a failure (the caller deletes the file)."""


def _arrow_table(customers):
    import pyarrow as pa

    frame = customers.copy()
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.CategoricalDtype):
            frame[name] = frame[name].astype(str)
    return pa.Table.from_pandas(frame, preserve_index=False)


class _ArrowWriter(ResultWriter):
    def __init__(self, path):
        super().__init__(path)
        self._writer = None
        self._schema = None

    def write(self, customers):
        table = _arrow_table(customers)
        if self._writer is None:
            self._schema = table.schema
            self._writer = self._open(table.schema)
        elif table.schema != self._schema:
            table = table.cast(self._schema)
        self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self, result):
        if self._writer is None:
            self.write(result.customers)
        self._writer.close()

    def abort(self):
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()


class CsvWriter(_ArrowWriter):
    """Per-customer results as CSV (header line, one line per customer, input order)."""

    suffix = ".csv"

    def _open(self, schema):
        import pyarrow.csv as pacsv

        return pacsv.CSVWriter(str(self.path), schema)


class ParquetWriter(_ArrowWriter):
    """Per-customer results as Parquet, one row group per batch."""

    suffix = ".parquet"

    def _open(self, schema):
        import pyarrow.parquet as pq

        return pq.ParquetWriter(str(self.path), schema)


class JsonWriter(ResultWriter):
    """The summaries as JSON: :meth:`BatchMeasurement.to_dict`."""

    suffix = ".json"
    per_customer = False

    def close(self, result):
        with open(self.path, "w", encoding="utf-8") as fh:
            json.dump(result.to_dict(), fh, indent=2, ensure_ascii=False, allow_nan=False)
            fh.write("\n")


class XlsxWriter(ResultWriter):
    """A measurement workbook: sheets ``Summary``, ``Customers`` (an Excel table), ``Config``.

    Written with openpyxl's write-only mode (rows stream to disk). The template
    workbooks can replace this class later: same ``write`` / ``close`` calls.
    """

    suffix = ".xlsx"
    max_rows = EXCEL_MAX_ROWS

    def __init__(self, path):
        super().__init__(path)
        import openpyxl

        self._book = openpyxl.Workbook(write_only=True)
        self._summary = self._book.create_sheet("Summary")
        self._customers = self._book.create_sheet("Customers")
        self._config = self._book.create_sheet("Config")
        self._columns = None

    def write(self, customers):
        if self._columns is None:
            self._columns = [str(c) for c in customers.columns]
            from openpyxl.utils import get_column_letter

            for k, name in enumerate(self._columns, start=1):
                self._customers.column_dimensions[get_column_letter(k)].width = max(10, len(name) + 4)
            self._customers.freeze_panes = "A2"
            self._customers.append(self._columns)
        columns = []
        for name in customers.columns:
            s = customers[name]
            if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype.kind not in "biuf":
                values = [None if v is None or (isinstance(v, float) and math.isnan(v)) else v
                          for v in s.astype(object).tolist()]
            elif s.dtype.kind == "f":
                values = [None if v != v else v for v in s.tolist()]
            else:
                values = s.tolist()
            columns.append(values)
        for row in zip(*columns):
            self._customers.append(row)
        self.rows += len(customers)

    def close(self, result):
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet.table import Table, TableStyleInfo

        if self._columns is None:
            self.write(result.customers)
        if self.rows:
            ref = f"A1:{get_column_letter(len(self._columns))}{self.rows + 1}"
            table = Table(displayName="CustomerResults", ref=ref)
            table._initialise_columns()
            for column, name in zip(table.tableColumns, self._columns):
                column.name = name
            table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                self._customers.add_table(table)

        ws = self._summary
        bold = Font(bold=True)
        big = Font(bold=True, size=14)

        def cell(value, font=None, fmt=None):
            c = WriteOnlyCell(ws, value=_excel_value(value))
            if font is not None:
                c.font = font
            if fmt is not None:
                c.number_format = fmt
            return c

        def frame(title, df, formats):
            ws.append([cell(title, bold)])
            ws.append([cell(df.index.name or ""), *[cell(str(c), bold) for c in df.columns]])
            for label, row in df.iterrows():
                ws.append([cell(str(label), bold),
                           *[cell(v, fmt=formats.get(c, "#,##0")) for c, v in row.items()]])
            ws.append([])

        ws.column_dimensions["A"].width = 22
        for letter in "BCDEFG":
            ws.column_dimensions[letter].width = 16
        cfg = result.config
        ws.append([cell("Customer equity", big), cell(result.equity, big, "#,##0")])
        ws.append([cell("Input"), cell(result.source)])
        ws.append([cell("Customers"), cell(int(result.counts.sum()), fmt="#,##0")])
        ws.append([cell("Discounting"), cell(f"rate {cfg.rate:g} per period, {cfg.timing}-of-period; "
                                             f"classified by {cfg.classify_by}; Iv {cfg.iv:g}")])
        ws.append([])
        frame("Equity by customer type", result.by_type,
              {"customers": "#,##0", "share": "0.0%", "average": "#,##0"})
        frame("Composition (value kind x customer type)", result.composition, {})
        frame("Structure (share of customers and of equity per type)", result.structure,
              {"customer_share": "0.0%", "equity_share": "0.0%"})
        notes = _notes(result)
        if notes:
            ws.append([cell("Notes", bold)])
            for note in notes:
                ws.append([cell(note)])

        cw = self._config
        cw.column_dimensions["A"].width = 24
        cw.column_dimensions["B"].width = 40
        cw.append([cell("setting", bold), cell("value", bold)])
        for key, value in cfg.to_dict().items():
            if isinstance(value, dict):
                for k, v in value.items():
                    cw.append([f"{key}.{k}", _excel_value(v)])
            elif isinstance(value, (list, tuple)):
                cw.append([key, ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)])
            else:
                cw.append([key, "" if value is None else _excel_value(value)])
        self._book.save(self.path)

    def abort(self):
        # finish openpyxl's per-sheet temporary files and delete them
        for ws in self._book.worksheets:
            with contextlib.suppress(Exception):
                if ws._rows is not None:
                    ws._rows.close()
                if ws._writer is not None:
                    ws._writer.close()
                    ws._writer.cleanup()


def _excel_value(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _notes(result):
    notes = [f"{n:,} non-zero {k.upper()} cells left out: the customer's type does not provide "
             f"{k.upper()}" for k, n in result.excluded.items() if n]
    if result.ignored_after_last_period:
        notes.append(f"{result.ignored_after_last_period:,} non-zero cells after a customer's "
                     "last period left out")
    if result.at_risk_customers is not None:
        notes.append(f"{result.at_risk_customers:,} customers have fewer than {REQUIRED_LINKS} "
                     "solid relationship links")
    if result.tier_cutoffs is not None:
        p, g, i = result.tier_cutoffs
        origin = ("the 95th, 80th and 50th percentiles of lifetime value"
                  if result.config.tier_cutoffs is None else "the configuration")
        notes.append(f"value tiers: Platinum from {p:,.0f}, Gold from {g:,.0f}, Iron from {i:,.0f} "
                     f"({origin})")
    return notes


#: Output writers by file suffix.
WRITERS = {".xlsx": XlsxWriter, ".csv": CsvWriter, ".parquet": ParquetWriter, ".json": JsonWriter}


class _MemoryWriter(ResultWriter):
    """Keeps the per-customer results (``keep_customers=True``)."""

    def __init__(self):
        super().__init__(os.devnull)
        self.frames = []

    def write(self, customers):
        self.frames.append(customers)
        self.rows += len(customers)


class _Tee(ResultWriter):
    def __init__(self, writers):
        super().__init__(os.devnull)
        self.writers = writers
        self.per_customer = any(w.per_customer for w in writers)
        limits = [w.max_rows for w in writers if w.max_rows is not None]
        self.max_rows = min(limits) if limits else None

    def write(self, customers):
        for w in self.writers:
            if w.per_customer:
                w.write(customers)

    def close(self, result):
        for w in self.writers:
            w.close(result)

    def abort(self):
        for w in self.writers:
            w.abort()


@contextlib.contextmanager
def _atomic(path):
    """A temporary path beside ``path``; renamed to ``path`` on success, deleted otherwise."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise CustomerEquityError(str(path), "cannot write: the folder does not exist")
    tmp = folder / f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.partial"
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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


class _Dask:
    """Partitions measured on a Dask cluster, results taken back in input order."""

    def __init__(self, source, batch_size, address=None, workers=None):
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise CustomerEquityError("--dask", "needs dask and distributed: pip install "
                                      "'customer-equity[cluster]'") from None
        self.source, self.batch_size = source, batch_size
        self._dask = dask
        self.cluster = None
        if address in (None, "local"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                            host="127.0.0.1", dashboard_address=None)
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
        writer.check_rows(rows, writer.path)

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

    parts, ltvs, columns, n = [], [], [], 0
    if per_customer and need_tiers:
        writer.check_rows(rows, writer.path)
    what = "ltv" if need_tiers else ("customers" if per_customer else "summary")
    with _progress(show, rows, label("measure")) as bar:
        for result in _results(executor, source, config, carriers, what, bar):
            parts.append(result["part"])
            columns = result["columns"]
            n += result["n"]
            if what == "ltv":
                ltvs.append(result["ltv"])
            elif what == "customers":
                writer.write(result["customers"])

    cutoffs = config.tier_cutoffs
    if need_tiers:
        writer.check_rows(n, writer.path)
        ltv = np.concatenate(ltvs) if ltvs else np.zeros(0)
        del ltvs
        if ltv.size:
            cutoffs = tuple(float(x) for x in np.quantile(ltv, DEFAULT_TIER_QUANTILES))
        del ltv
        tiered = dataclasses.replace(config, tier_cutoffs=cutoffs) if cutoffs else config
        with _progress(show, n, label("write")) as bar:
            for result in _results(executor, source, tiered, carriers, "customers", bar):
                writer.write(result["customers"])
    return parts, columns, (tuple(cutoffs) if cutoffs is not None and per_customer else None)


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
        suffix = Path(out).suffix.lower()
        writer_cls = WRITERS.get(suffix)
        if writer_cls is None:
            raise CustomerEquityError(str(out), "unknown output format; give a file ending in "
                                      + ", ".join(WRITERS))
        if not isinstance(input, pd.DataFrame) and Path(out).resolve() == Path(input).resolve():
            raise CustomerEquityError(str(out), "is the input file; choose another output file")
    source = _open_source(input, config, sheet)
    executor = None
    try:
        with contextlib.ExitStack() as stack:
            writers = []
            if writer_cls is not None:
                tmp = stack.enter_context(_atomic(out))
                writers.append(writer_cls(tmp))
            memory = _MemoryWriter() if keep_customers else None
            if memory is not None:
                writers.append(memory)
            writer = _Tee(writers)
            try:
                if dask:
                    executor = _Dask(source, batch_size, dask, workers)
                else:
                    executor = _Local(source, batch_size)
                parts, columns, cutoffs = _passes(executor, source, config, _Checked(writer, out),
                                                  progress)
                customers = None
                if memory is not None:
                    customers = (pd.concat(memory.frames, ignore_index=True) if memory.frames
                                 else None)
                result = _combine(parts, config, source.name, columns, customers, cutoffs)
                writer.close(result)
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


class _Checked(ResultWriter):
    """Row-limit errors name the destination the user gave, not the temporary file."""

    def __init__(self, writer, destination):
        super().__init__(os.devnull)
        self.inner, self.destination = writer, destination
        self.per_customer = writer.per_customer
        self.max_rows = writer.max_rows

    def check_rows(self, total, destination):
        if self.max_rows is not None and total is not None and total > self.max_rows:
            ResultWriter.check_rows(self, total, self.destination)

    def write(self, customers):
        self.rows += len(customers)
        self.check_rows(self.rows, self.destination)
        self.inner.write(customers)


# --------------------------------------------------------------------------- command line

def _positive_int(text):
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def add_arguments(parser):
    """Add the batch options to the ``measure`` sub-command's parser.

    Examples
    --------
    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_arguments(p)
    >>> a = p.parse_args(["--dask", "--workers", "2", "--batch-size", "1000"])
    >>> a.dask, a.workers, a.batch_size, a.progress
    ('local', 2, 1000, None)
    """
    g = parser.add_argument_group("measuring a file (INPUT)")
    g.add_argument("--sheet", metavar="NAME",
                   help="sheet of an .xlsx INPUT (default: 'Customers' if present, else the first)")
    g.add_argument("--batch-size", type=_positive_int, default=DEFAULT_BATCH_SIZE, metavar="N",
                   help=f"customers per batch (default {DEFAULT_BATCH_SIZE:,}); memory grows with "
                   "it, not with the input")
    g.add_argument("--dask", nargs="?", const="local", metavar="ADDRESS",
                   help="measure on Dask: a local cluster (--dask, put it after INPUT) or the "
                   "scheduler at ADDRESS (tcp://host:8786), whose workers must reach INPUT")
    g.add_argument("--workers", type=_positive_int, metavar="N",
                   help="workers of the local Dask cluster (default: one per core; implies --dask)")
    g.add_argument("--progress", dest="progress", action="store_true", default=None,
                   help="always show a progress bar on stderr")
    g.add_argument("--no-progress", dest="progress", action="store_false",
                   help="never show one (default: on a terminal, or for inputs of "
                   f"{LONG_RUN_ROWS:,}+ customers)")


def _looks_like_address(text):
    return "://" in text or re.fullmatch(r"[\w.\-\[\]:]+:[0-9]+", text) is not None


def run(args):
    """The ``measure`` command with an INPUT or ``--out``: measure, write, print the summary.

    ``args`` has ``input``, ``config``, ``out`` and the options of
    :func:`add_arguments`. Without INPUT the bundled sample is measured (and
    written to ``--out``). Returns the exit code.
    """
    dask = getattr(args, "dask", None)
    workers = getattr(args, "workers", None)
    source = args.input
    if dask and dask != "local" and not _looks_like_address(dask):
        if source is None:  # "measure --dask customers.csv": the option took the input
            source, dask = dask, "local"
        else:
            raise CustomerEquityError("--dask", "expected a scheduler address such as "
                                      "tcp://10.0.0.5:8786", value=dask)
    if workers and not dask:
        dask = "local"
    if args.config:
        config = MeasureConfig.from_file(args.config)
    elif source is None:
        from .model.sample import sample_config

        config = sample_config()
    else:
        config = MeasureConfig()
    if source is None:
        from .model.sample import load_sample

        source = load_sample()
    shown = "the bundled sample (1,000 customers)" if isinstance(source, pd.DataFrame) else source
    started = time.perf_counter()
    result = measure_file(source, config, args.out, batch_size=getattr(args, "batch_size", None)
                          or DEFAULT_BATCH_SIZE, sheet=getattr(args, "sheet", None), dask=dask,
                          workers=workers, progress=getattr(args, "progress", None))
    seconds = time.perf_counter() - started
    n = int(result.counts.sum())
    print(result.summary())
    where = f"; results in {args.out}" if args.out else ""
    rate = f", {n / seconds:,.0f} customers/s" if seconds > 0 else ""
    print(f"\nMeasured {n:,} customers from {shown} in {seconds:.1f} s{rate}{where}")
    return 0
