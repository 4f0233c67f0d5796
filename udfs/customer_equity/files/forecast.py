"""``customer-equity forecast LOG``: a transaction log of any size to forecasts and equity.

The log (CSV, Parquet or an ``.xlsx`` sheet; one row per transaction with customer,
date and amount columns) is read batch by batch with the readers of
:mod:`customer_equity.files.inputs`. The per-customer summary (SPEC 7) needs all
of a customer's transaction days together, in whatever order the log lists them,
so the summary is a two-step group-by with bounded memory:

1. each batch is parsed, its returns (negative amounts) and transactions after the
   observation end are counted and dropped, same-day transactions of a customer
   are added into one purchase occasion, and the occasions are split by a hash of
   the customer id into ``K`` parts (spilled to temporary files, or kept on the
   Dask workers);
2. each part holds every occasion of its customers and is summarised exactly
   (:func:`customer_equity.model.forecast.data.summarise_days`).

``K`` grows with the log so that a part holds about :data:`PART_ROWS` occasions:
memory is bounded by the batch, the part and the per-customer summary (about 60
bytes a customer), not by the log. The models are fitted on the summary's distinct
``(x, t_x, T)`` rows, and the predictions are computed and written in chunks of
customers.

With ``--dask`` the batches are the partitions of ``dask.dataframe.read_csv`` /
``read_parquet`` on the cluster (the same ``--dask [ADDRESS]`` convention as
``measure``), step 1 runs per partition and step 2 per part on the workers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._files import atomic_path
from ..errors import CustomerEquityError
from ..model.config import MeasureConfig
from . import executors
from .executors import bar

if TYPE_CHECKING:
    from ..model.forecast import CustomerForecast

# The models (scipy) are imported when a forecast runs, not when the command line starts.
UNITS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12, "year": 365.25}

__all__ = ["DEFAULT_BATCH_SIZE", "PART_ROWS", "ForecastRun", "forecast_file", "UNITS", "YEAR",
           "SAMPLE_CALIBRATION_END"]

#: Transactions per batch read from the log.
DEFAULT_BATCH_SIZE = 500_000
#: Purchase occasions per part of the group-by (step 2 holds one part in memory).
PART_ROWS = 2_000_000
#: Customers predicted and written at a time.
CHUNK = 50_000
#: Customer-periods computed in one step of the predictions.
CHUNK_CELLS = 5_000_000
#: One year in each unit: the default horizon.
YEAR = {"day": 365, "week": 52, "month": 12, "year": 1}
#: The default discount rate: 10 % a year, converted to the unit.
YEARLY_RATE = 0.10
#: The bundled sample's calibration end: the 39 weeks of Fader, Hardie & Lee (2005).
SAMPLE_CALIBRATION_END = "1997-09-30"
OUTPUTS = (".csv", ".parquet", ".xlsx", ".json")
EXCEL_MAX_ROWS = 1_048_575


# --------------------------------------------------------------------------- the log

@dataclasses.dataclass(frozen=True)
class LogColumns:
    """The log's customer, date and amount columns as named in the file."""

    customer: str
    date: str
    amount: str
    #: Read every id as text: an Excel sheet's batches may guess numbers in one, text in another.
    text_ids: bool = False

    def name(self, kind):
        return getattr(self, kind)


def _header(source):
    """The column names of a source from :func:`customer_equity.files.inputs.open_source`."""
    if hasattr(source, "frame"):
        return [str(c) for c in source.frame.columns]
    if hasattr(source, "_file"):
        return list(source._file.schema_arrow.names)
    if hasattr(source, "_names"):
        return list(source._names)
    import csv

    with open(source.path, newline="", encoding="utf-8-sig") as fh:
        return next(csv.reader([fh.readline(1 << 20)], delimiter=source.delimiter))


def open_log(log, customer="customer_id", date="date", amount="amount", sheet=None):
    """The log as a batch source reading only its customer, date and amount columns."""
    from ..reading import canonical
    from .inputs import Spec, open_source

    if not isinstance(log, pd.DataFrame):
        path = Path(log)
        if path.is_file() and path.stat().st_size == 0:
            raise CustomerEquityError(str(log), "empty file: expected a header row with the "
                                      "column names")
    source = open_source(log, MeasureConfig(), sheet)
    header = _header(source)
    chosen = {}
    for kind, wanted in (("customer", customer), ("date", date), ("amount", amount)):
        match = [h for h in header if h == wanted] or [h for h in header
                                                       if canonical(h) == canonical(wanted)]
        if not match:
            option = {"customer": "--customer", "date": "--date", "amount": "--amount"}[kind]
            raise CustomerEquityError(source.name, f"no {kind} column {wanted!r}; the log has "
                                      + ", ".join(repr(h) for h in header if h)
                                      + f" (name it with {option})")
        chosen[kind] = match[0]
    if len(set(chosen.values())) < 3:
        raise CustomerEquityError(source.name, "the customer, date and amount columns must be "
                                  "three different columns", value=", ".join(chosen.values()))
    columns = LogColumns(**chosen, text_ids=source.kind == "Excel")
    source.spec = Spec(names=(columns.customer, columns.date, columns.amount), renames={},
                       kinds={}, text=source.text)
    source.kind = {"CSV": "CSV", "Parquet": "Parquet", "Excel": "Excel"}.get(source.kind, "log")
    return source, columns


def _column(raw, name):
    if isinstance(raw, pd.DataFrame):
        return raw[name]
    return raw.column(name).combine_chunks()


def _ids(col, name, text=False):
    """Customer ids: whole numbers stay numbers (unless ``text``); anything else is text, trimmed."""
    if not isinstance(col, pd.Series):
        import pyarrow as pa
        import pyarrow.compute as pc

        if pa.types.is_integer(col.type) and col.null_count == 0 and not text:
            return col.to_numpy().astype(np.int64)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            trimmed = pc.utf8_trim_whitespace(col)  # the fast path of a CSV's text ids
            blank = pc.fill_null(pc.equal(trimmed, ""), True).to_numpy(zero_copy_only=False)
            if blank.any():
                raise CustomerEquityError(name, "a customer id is required here, the cell is "
                                          "blank", row=int(np.flatnonzero(blank)[0]) + 1)
            return trimmed.to_numpy(zero_copy_only=False)
        col = col.to_pandas()
    values = col.to_numpy()
    if values.dtype.kind in "iu" and not text:
        return values.astype(np.int64)
    if values.dtype.kind == "f" and not text:
        blank = np.isnan(values)
        if not blank.any() and (values == np.floor(values)).all():
            return values.astype(np.int64)
        values = values.astype(object)
    blank = pd.isna(values)
    text = np.array([str(int(x)) if isinstance(x, float) and x.is_integer() else
                     (x.strip() if isinstance(x, str) else str(x)) for x in values], dtype=object)
    blank |= text == ""
    if blank.any():
        row = int(np.flatnonzero(blank)[0])
        raise CustomerEquityError(name, "a customer id is required here, the cell is blank",
                                  row=row + 1)
    return text


def _hash_parts(uniques, parts):
    if parts == 1:
        return np.zeros(len(uniques), dtype=np.int64)
    return (pd.util.hash_array(np.asarray(uniques)) % np.uint64(parts)).astype(np.int64)


def _error_state(err):
    return {"argument": err.argument, "rule": err.rule, "row": err.row, "value": err.value,
            "has_value": err.has_value}


#: What a row of a part is: a purchase kept, or set aside (its customer is still counted).
KEPT, RETURN, DATED = 0, 1, 2
#: A row's place: its batch in the high bits, its row in the batch (0-based) in the low ones.
_ROW_BITS = 32


def _blank(col):
    """The blank cells of a raw column (arrow or pandas): null, or empty text."""
    if isinstance(col, pd.Series):
        blank = col.isna().to_numpy()
        if col.dtype == object:
            blank |= (col.to_numpy(dtype=object) == "")
        return blank
    import pyarrow as pa
    import pyarrow.compute as pc

    blank = col.is_null()
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        blank = pc.or_(blank, pc.fill_null(pc.equal(col, ""), False))
    return np.asarray(blank.to_numpy(zero_copy_only=False), dtype=bool)


def _take(col, keep):
    if isinstance(col, pd.Series):
        return col[keep].reset_index(drop=True)
    import pyarrow as pa

    return col.filter(pa.array(keep))


def _first(mask, at=None):
    """The first rows (0-based, of the batch) of a mask: at most FIRST_ROWS."""
    from ..model.report import FIRST_ROWS

    rows = np.flatnonzero(mask)[:FIRST_ROWS]
    return (rows if at is None else at[rows]).tolist()


def _batch_task(raw, columns, observation_end, parts, rules, batch_no=0):
    """Step 1 on one batch: parse; set aside (and count, with their first rows) blank rows,
    rows dated after today, returns and rows after the observation end; split the rows by a
    hash of the customer id into parts. ``rules`` is ``(today, strict)`` (days, bool)."""
    from ..model.forecast.data import day_to_date, to_amounts, to_days

    today, strict = rules
    n = len(raw) if isinstance(raw, pd.DataFrame) else raw.num_rows
    out = {"n": n, "first": None, "last": None, "groups": {},
           "counts": {"transactions": n, "returns": 0, "zero_amounts": 0,
                      "after_observation_end": 0, "future": 0, "blank_rows": 0}}
    if n == 0:
        out["pieces"] = [None] * parts
        return out
    cols = [_column(raw, name) for name in (columns.customer, columns.date, columns.amount)]
    blank = _blank(cols[0]) & _blank(cols[1]) & _blank(cols[2])
    at = np.arange(n)
    if blank.any():
        out["counts"]["blank_rows"] = int(blank.sum())
        out["groups"]["blank_rows"] = (int(blank.sum()), _first(blank))
        at = np.flatnonzero(~blank)
        cols = [_take(c, ~blank) for c in cols]
    try:
        try:
            ids = _ids(cols[0], "customer", columns.text_ids)
            days = to_days(cols[1], "date")
            amounts = to_amounts(cols[2], "amount")
        except CustomerEquityError as err:  # a row of the batch, not of the rows read
            raise err.relocated(row_offset=0 if err.row is None else int(at[err.row - 1]) + 1 - err.row) from None
        future = days > today
        if strict and future.any():
            k = int(np.flatnonzero(future)[0])
            raise CustomerEquityError(
                "date", f"dated {day_to_date(days[k])}, after today ({day_to_date(today)}): a "
                "typo in the year? Correct the date, or leave out --strict to set such rows aside",
                row=int(at[k]) + 1, value=str(day_to_date(days[k])))
    except CustomerEquityError as err:
        out["error"] = _error_state(err)
        return out
    counts = out["counts"]
    returns = (amounts < 0) & ~future
    late = ~future & ~returns & (days > observation_end) if observation_end is not None \
        else np.zeros(days.size, dtype=bool)
    keep = ~(future | returns | late)
    for reason, mask in (("future", future), ("returns", returns), ("after_observation_end", late)):
        if mask.any():
            counts[reason] = int(mask.sum())
            out["groups"][reason] = (int(mask.sum()), _first(mask, at))
    counts["zero_amounts"] = int((keep & (amounts == 0)).sum())
    if counts["zero_amounts"]:
        out["groups"]["zero_amounts"] = (counts["zero_amounts"], _first(keep & (amounts == 0), at))
    if (~future).any():
        out["first"], out["last"] = int(days[~future].min()), int(days[~future].max())
    kind = np.where(keep, KEPT, np.where(returns, RETURN, DATED)).astype(np.int8)
    rows = (np.int64(batch_no) << _ROW_BITS) + at.astype(np.int64)
    codes, uniques = pd.factorize(ids)
    part_of = _hash_parts(uniques, parts)[codes]
    pieces = []
    for k in range(parts):
        sel = part_of == k if parts > 1 else slice(None)
        pieces.append({"id": np.asarray(ids)[sel], "day": days[sel], "amount": amounts[sel],
                       "row": rows[sel], "kind": kind[sel]})
    out["pieces"] = pieces
    return out


def _parquet_batch_task(path, row_groups, columns, observation_end, parts, rules, batch_no):
    """Step 1 on row groups of a Parquet log, read on the worker (faster than a
    dask.dataframe partition: no conversion to pandas)."""
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path, pre_buffer=False)
    names = [columns.customer, columns.date, columns.amount]
    # one thread, as the worker runs one task per thread: Arrow's pool would only contend
    table = file.read_row_groups(row_groups, columns=names, use_threads=False) if row_groups \
        else file.schema_arrow.empty_table().select(names)
    return _batch_task(table, columns, observation_end, parts, rules, batch_no)


def _part_task(pieces, calibration_end, observation_end, unit, duplicates="keep"):
    """Step 2 on one part: every row of its customers, summarised exactly, with what the
    report needs of them (exact duplicates, holdout newcomers, customers left out)."""
    from ..model.forecast.data import id_order, summarise_days
    from ..model.report import FIRST_ROWS

    pieces = [p for p in pieces if p is not None and len(p["day"])]
    if not pieces:
        return np.zeros(0, dtype=object), None, {}
    ids = np.concatenate([p["id"] for p in pieces])
    days = np.concatenate([p["day"] for p in pieces])
    amounts = np.concatenate([p["amount"] for p in pieces])
    rows = np.concatenate([p["row"] for p in pieces])
    kind = np.concatenate([p["kind"] for p in pieces])
    codes, uniques = pd.factorize(ids)
    order = id_order(uniques)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    codes, uniques = rank[codes], uniques[order]
    n = len(uniques)
    kept = kind == KEPT
    kept_codes, kept_rows = codes[kept], rows[kept]
    try:
        summary = summarise_days(kept_codes, days[kept], amounts[kept], calibration_end,
                                 observation_end, unit, n_codes=n, duplicates=duplicates)
    except CustomerEquityError as err:
        return uniques, {"error": _error_state(err.relocated(
            row_offset=int(kept_rows[err.row - 1]) + 1 - err.row))}, {}
    repeated = summary.pop("duplicate_rows")
    used = np.ones(kept_codes.size, dtype=bool)
    if duplicates == "drop":
        used[repeated] = False
    newcomer = (summary["first"][kept_codes] > calibration_end) & used
    used &= ~newcomer
    bought = np.bincount(kept_codes, minlength=n) > 0
    all_returns = np.bincount(codes[kind == RETURN], minlength=n) == np.bincount(codes, minlength=n)
    used_days = days[kept][used]
    report = {"duplicates": (int(repeated.size), np.sort(kept_rows[repeated])[:FIRST_ROWS].tolist()),
              "first_purchase_after_calibration": (int(newcomer.sum()),
                                                   np.sort(kept_rows[newcomer])[:FIRST_ROWS].tolist()),
              "rows_used": int(used.sum()),
              "first": int(used_days.min()) if used_days.size else None,
              "last": int(used_days.max()) if used_days.size else None,
              "customers": {"read": n, "returns_only": int((~bought & all_returns).sum()),
                            "set_aside_only": int((~bought & ~all_returns).sum())}}
    if uniques.dtype == object:  # compact text ids: about 10 bytes a customer, not 60
        uniques = pd.array(uniques, dtype="string[pyarrow]")
    return uniques, summary, report


def _calibration_part_task(pieces, calibration_end, observation_end, unit, duplicates):
    """Step 2 keeping only the part's calibration customers and their summary columns
    (what is assembled and valued), with the count of the others and the part's report."""
    uniques, summary, report = _part_task(pieces, calibration_end, observation_end, unit,
                                          duplicates)
    if summary is None or "error" in summary:
        return uniques, summary, 0, report
    keep = summary.pop("in_calibration")
    first = summary.pop("first")
    late = int(((first != np.iinfo(np.int64).max) & ~keep).sum())
    if keep.all():
        return uniques, summary, late, report
    return uniques[keep], {k: v[keep] for k, v in summary.items()}, late, report


def _located(state, source, columns, start):
    kind = state["argument"]
    column = columns.name(kind) if kind in ("customer", "date", "amount") else kind
    row = None if state["row"] is None else source.display_row(start + state["row"] - 1)
    kwargs = {"value": state["value"]} if state["has_value"] else {}
    return CustomerEquityError(source.name, state["rule"], row=row, column=column, **kwargs)


class _Rows:
    """The rows a user sees for the rows of the batches (batch number, row in the batch)."""

    def __init__(self, source):
        self.source = source
        self.starts = []
        self.total = 0

    def add_batch(self, n):
        self.starts.append(self.total)
        self.total += n

    def of_batch(self, batch_no, local_rows):
        return [self.source.display_row(self.starts[batch_no] + int(r)) for r in local_rows]

    def of_coded(self, coded):
        mask = (1 << _ROW_BITS) - 1
        return [self.source.display_row(self.starts[int(c) >> _ROW_BITS] + (int(c) & mask))
                for c in coded]

    def located(self, state, columns):
        """An error whose row is a coded row (a part's), placed in the file."""
        if state["row"] is not None:
            state = dict(state, row=self.of_coded([state["row"] - 1])[0])
        kind = state["argument"]
        column = columns.name(kind) if kind in ("customer", "date", "amount") else kind
        kwargs = {"value": state["value"]} if state["has_value"] else {}
        return CustomerEquityError(self.source.name, state["rule"], row=state["row"],
                                   column=column, **kwargs)


def _batch_report(report, rows, batch_no, result):
    """A batch's set-aside rows into the report, at the rows a user sees."""
    for reason, (count, first) in result.get("groups", {}).items():
        shown = rows.of_batch(batch_no, first)
        if reason == "zero_amounts":
            report.report_rows(reason, shown, count=count)
        else:
            report.set_aside_rows(reason, shown, count=count)


def _parts_report(report, rows, part_reports, duplicates):
    """The parts' duplicates, newcomers, used rows and customers into the report."""
    first = last = None
    for part in part_reports:
        if not part:
            continue
        count, coded = part["duplicates"]
        if count:
            (report.set_aside_rows if duplicates == "drop" else report.report_rows)(
                "duplicates", rows.of_coded(coded), count=count)
        count, coded = part["first_purchase_after_calibration"]
        if count:
            report.set_aside_rows("first_purchase_after_calibration", rows.of_coded(coded),
                                  count=count)
        report.rows_used += part["rows_used"]
        for key, n in part["customers"].items():
            report.customers[key] = report.customers.get(key, 0) + n
        if part["first"] is not None:
            first = part["first"] if first is None else min(first, part["first"])
            last = part["last"] if last is None else max(last, part["last"])
    return first, last


def _finish_report(report, summary, first, last, counts):
    """Dates, windows and customers used, once the summary is assembled."""
    from ..model.forecast.data import day_to_date

    report.customers["used"] = len(summary.customers)
    report.customers["first_purchase_after_calibration"] = \
        counts.get("first_purchase_after_calibration", 0)
    report.observation_end = summary.observation_end
    if first is not None:
        report.first_date, report.last_date = day_to_date(first), day_to_date(last)
        report.calibration = (report.first_date, summary.calibration_end)
        if summary.holdout:
            report.holdout = (summary.calibration_end + (day_to_date(1) - day_to_date(0)),
                              summary.observation_end)
    group = report.reported.get("duplicates") or report.set_aside.get("duplicates")
    counts["duplicates"] = group.count if group else 0
    summary.report = report
    return summary


def _estimated_rows(source):
    if source.num_rows is not None:
        return source.num_rows
    with contextlib.suppress(OSError):
        return Path(source.path).stat().st_size // 25  # ~25 bytes a CSV transaction
    return 0


# --------------------------------------------------------------------------- executors

class _Spill:
    """Parts kept as Arrow IPC files in a temporary folder (or in memory for one part)."""

    def __init__(self, parts):
        self.parts = parts
        self._memory = [[] for _ in range(parts)] if parts == 1 else None
        self._dir = tempfile.TemporaryDirectory(prefix="customer-equity-forecast-") \
            if parts > 1 else None
        self._writers = {}

    def add(self, k, piece):
        if piece is None or not len(piece["day"]):
            return
        if self._memory is not None:
            self._memory[k].append(piece)
            return
        import pyarrow as pa

        table = pa.table({"id": pa.array(piece["id"]), "day": pa.array(piece["day"], pa.int32()),
                          "amount": pa.array(piece["amount"], pa.float64()),
                          "row": pa.array(piece["row"], pa.int64()),
                          "kind": pa.array(piece["kind"], pa.int8())})
        writer = self._writers.get(k)
        if writer is None:
            self._schema = getattr(self, "_schema", table.schema)
            writer = pa.ipc.new_stream(str(Path(self._dir.name) / f"part-{k}.arrow"), self._schema)
            self._writers[k] = writer
        if table.schema != self._schema:
            table = table.cast(self._schema)
        writer.write_table(table)

    def pieces(self, k):
        if self._memory is not None:
            return self._memory[k]
        import pyarrow as pa

        writer = self._writers.pop(k, None)
        if writer is None:
            return []
        writer.close()
        path = Path(self._dir.name) / f"part-{k}.arrow"
        with pa.memory_map(str(path)) as fh:
            table = pa.ipc.open_stream(fh).read_all()
        path.unlink()
        ids = table.column("id")
        ids = ids.to_numpy() if pa.types.is_integer(ids.type) else \
            np.asarray(ids.to_numpy(zero_copy_only=False), dtype=object)
        return [{"id": ids, "day": table.column("day").to_numpy().astype(np.int64),
                 "amount": table.column("amount").to_numpy(), "row": table.column("row").to_numpy(),
                 "kind": table.column("kind").to_numpy()}]

    @property
    def folder(self):
        """The temporary folder (None when the one part is kept in memory)."""
        return None if self._dir is None else self._dir.name

    def close(self):
        for writer in self._writers.values():
            with contextlib.suppress(Exception):
                writer.close()
        if self._dir is not None:
            self._dir.cleanup()


class _SpilledColumns:
    """A part's summary columns kept in ``.npy`` files until the summary is assembled: the
    parts' columns never sit in memory beside the assembled summary (with 10^7 customers,
    560 MB that freed in scattered pieces would have stayed resident). ``pop`` reads a
    column back and removes its file, as :func:`~customer_equity.model.forecast.data.assemble`
    takes them."""

    def __init__(self, columns, folder, k):
        self._paths = {}
        for name, values in columns.items():
            path = Path(folder) / f"summary-{k}-{name}.npy"
            np.save(path, values, allow_pickle=False)
            self._paths[name] = path

    def pop(self, name, default=None):
        path = self._paths.pop(name, None)
        if path is None:
            return default
        values = np.load(path, allow_pickle=False)
        path.unlink()
        return values


def _release_arrow_memory():
    """Hand the memory Arrow's allocator and C's ``malloc`` keep for reuse back to the
    system: a part read from its spill file is not needed once summarised, and the next
    is as large. Without it the freed pieces of batches and parts, scattered through
    the heap, stayed resident: 10^7 customers peaked 40 % higher."""
    with contextlib.suppress(Exception):
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    _malloc_trim()


def _malloc_trim():
    """glibc's ``malloc_trim(0)``: free pages inside the heap are returned (Linux; elsewhere
    nothing)."""
    global _LIBC
    if _LIBC is None:
        _LIBC = False
        with contextlib.suppress(OSError, AttributeError):
            import ctypes
            import ctypes.util

            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            libc.malloc_trim.argtypes = [ctypes.c_size_t]
            _LIBC = libc
    if _LIBC:
        _LIBC.malloc_trim(0)


_LIBC = None


_COUNTS = ("transactions", "returns", "zero_amounts", "after_observation_end", "future",
           "blank_rows")


def _summarise_local(source, columns, unit, c_given, e_given, batch_size, progress, rules,
                     duplicates):
    from ..model.forecast.data import assemble, date_to_day, day_to_date, resolve_ends
    from ..model.report import DataReport

    e_day = None if e_given is None else date_to_day(e_given, "observation_end")
    parts = max(1, math.ceil(_estimated_rows(source) / PART_ROWS))
    spill = _Spill(parts)
    first = last = None
    counts = dict.fromkeys(_COUNTS, 0)
    report = DataReport(source=source.name, duplicates=duplicates,
                        today=day_to_date(rules[0]))
    rows = _Rows(source)
    try:
        start = 0
        with bar(progress, source.num_rows, f"{source.kind}: reading the log",
                 " transactions") as shown:
            for batch_no, raw in enumerate(source.batches(batch_size)):
                result = _batch_task(raw, columns, e_day, parts, rules, batch_no)
                if "error" in result:
                    raise _located(result["error"], source, columns, start)
                rows.add_batch(result["n"])
                _batch_report(report, rows, batch_no, result)
                start += result["n"]
                for k, piece in enumerate(result["pieces"]):
                    spill.add(k, piece)
                first, last = _extend(first, last, result)
                for key, n in result["counts"].items():
                    counts[key] += n
                if shown is not None:
                    shown.update(result["n"])
                del raw, result
                _release_arrow_memory()
        if not start:
            raise CustomerEquityError(source.name, "no transactions: the log has a header but no rows")
        _no_dates(last, report, source)
        c, e = resolve_ends(first, last, c_given, e_given)
        results, part_reports = [], []
        counts["first_purchase_after_calibration"] = 0
        with bar(progress if parts > 1 else None, parts, f"{source.kind}: summarising",
                 " parts") as shown:
            for k in range(parts):
                # only the calibration customers' ids stay in memory; their summary columns
                # wait on disk until the summary is assembled
                uniques, summary, late, part = _calibration_part_task(spill.pieces(k), c, e, unit,
                                                                      duplicates)
                if summary is not None and "error" in summary:
                    raise rows.located(summary["error"], columns)
                counts["first_purchase_after_calibration"] += late
                if summary is not None:
                    results.append((uniques, summary if spill.folder is None
                                    else _SpilledColumns(summary, spill.folder, k)))
                    part_reports.append(part)
                del summary
                _release_arrow_memory()
                if shown is not None:
                    shown.update(1)
        summary = assemble(results or [(np.zeros(0), _empty_summary(e > c))], unit, c, e,
                           columns.customer, counts, sort=True)
    finally:
        spill.close()
    _release_arrow_memory()
    report.rows_read = start
    used_first, used_last = _parts_report(report, rows, part_reports, duplicates)
    return _finish_report(report, summary, used_first, used_last, summary.counts)


def _no_dates(last, report, source):
    """Refuse a log whose every row was blank or dated after today."""
    if last is None:
        if "future" in report.set_aside:
            raise CustomerEquityError(source.name, "every transaction is dated after today "
                                      f"({report.today}): nothing was observed yet",
                                      row=report.set_aside["future"].first_rows[0], column="date")
        raise CustomerEquityError(source.name, "no transactions: every row is blank")


def _summarise_opportunities(source, columns, unit, c_given, e_given, batch_size, progress, rules,
                             duplicates="keep"):
    """The log as discrete purchase opportunities (``--model bg-bb``): its purchase occasions
    read batch by batch as for the other models (the same rows set aside, in the data report),
    held in memory, then summarised per customer
    (:func:`customer_equity.model.forecast.opportunities.summarise_opportunities`)."""
    from ..model.forecast.data import date_to_day, day_to_date, resolve_ends
    from ..model.forecast.opportunities import summarise_opportunities
    from ..model.report import DataReport

    e_day = None if e_given is None else date_to_day(e_given, "observation_end")
    first = last = None
    counts = dict.fromkeys(_COUNTS, 0)
    report = DataReport(source=source.name, duplicates=duplicates, today=day_to_date(rules[0]))
    rows = _Rows(source)
    pieces, start = [], 0
    with bar(progress, source.num_rows, f"{source.kind}: reading the log", " transactions") as shown:
        for batch_no, raw in enumerate(source.batches(batch_size)):
            result = _batch_task(raw, columns, e_day, 1, rules, batch_no)
            if "error" in result:
                raise _located(result["error"], source, columns, start)
            rows.add_batch(result["n"])
            _batch_report(report, rows, batch_no, result)
            start += result["n"]
            piece = result["pieces"][0]
            if piece is not None and len(piece["day"]):
                kept = piece["kind"] == KEPT
                pieces.append({k: v[kept] for k, v in piece.items()})
            first, last = _extend(first, last, result)
            for key, n in result["counts"].items():
                counts[key] += n
            if shown is not None:
                shown.update(result["n"])
    if not start:
        raise CustomerEquityError(source.name, "no transactions: the log has a header but no rows")
    _no_dates(last, report, source)
    c, e = resolve_ends(first, last, c_given, e_given, grace=unit)
    days = np.concatenate([p["day"] for p in pieces]) if pieces else np.zeros(0, np.int64)
    summary = summarise_opportunities(np.concatenate([p["id"] for p in pieces]) if pieces else days,
                                      days, np.concatenate([p["amount"] for p in pieces])
                                      if pieces else np.zeros(0), c, e, unit, columns.customer,
                                      counts)
    report.rows_read, report.rows_used = start, int(days.size)
    report.customers = {"read": len(summary.customers) + summary.counts["first_purchase_after_calibration"],
                        "used": len(summary.customers)}
    report.observation_end = day_to_date(e)
    if days.size:
        report.first_date, report.last_date = day_to_date(int(days.min())), day_to_date(int(days.max()))
        report.calibration = (report.first_date, day_to_date(c))
        if e > c:
            report.holdout = (day_to_date(c + 1), day_to_date(e))
    summary.report = report
    return summary


def _empty_summary(holdout):
    out = {k: np.zeros(0) for k in ("first", "frequency", "recency", "T", "monetary_value",
                                    "actual_purchases", "actual_amount")}
    out["first"] = np.zeros(0, dtype=np.int64)
    out["in_calibration"] = np.zeros(0, dtype=bool)
    return out


def _extend(first, last, result):
    if result["first"] is None:
        return first, last
    return (result["first"] if first is None else min(first, result["first"]),
            result["last"] if last is None else max(last, result["last"]))


def _stats(result):
    return {k: result.get(k) for k in ("n", "first", "last", "counts", "error", "groups")}


def _piece(result, k):
    return None if "error" in result else result["pieces"][k]


def _summarise_dask(executor, source, columns, unit, c_given, e_given, progress, seconds, rules,
                    duplicates):
    """The summary on the cluster: ``(summary, part futures, their sizes, order, fits)``; the
    parts' summaries stay on the workers for the predictions (:func:`_ltv_dask`), and the two
    fits (futures, :func:`_fit_dask`) are submitted with the parts. ``seconds``
    gets the time of ``read`` (step 1), ``parts`` (step 2, its results taken to the client)
    and ``assemble``."""
    from ..model.forecast.data import assemble, date_to_day, day_to_date, resolve_ends
    from ..model.report import DataReport

    started = time.perf_counter()
    e_day = None if e_given is None else date_to_day(e_given, "observation_end")
    client = executor.client
    n_workers = max(1, len(client.nthreads()))
    # a whole number of parts per worker: 5 parts on 2 workers would leave one waiting
    parts = n_workers * max(2, math.ceil(_estimated_rows(source) / PART_ROWS / n_workers))
    delayed = executor.delayed
    if hasattr(source, "_file"):  # Parquet: workers read whole row groups with pyarrow
        meta = source._file.metadata
        per_group = meta.num_rows / max(1, meta.num_row_groups)
        step = max(1, round(executor.batch_size / per_group)) if per_group else 1
        tasks = [delayed(_parquet_batch_task, pure=False)(
            str(source.path), list(range(g, min(g + step, meta.num_row_groups))), columns,
            e_day, parts, rules, b)
            for b, g in enumerate(range(0, max(meta.num_row_groups, 1), step))]
    else:
        tasks = [delayed(_batch_task, pure=False)(p, columns, e_day, parts, rules, b)
                 for b, p in enumerate(executor.frame.to_delayed())]
    try:
        batches = client.compute(tasks)
        stats = client.gather(client.map(_stats, batches, pure=False))
    except (ValueError, TypeError, OSError) as err:
        raise CustomerEquityError(source.name, f"cannot read on the cluster: {err}") from None
    first = last = None
    counts = dict.fromkeys(_COUNTS, 0)
    report = DataReport(source=source.name, duplicates=duplicates, today=day_to_date(rules[0]))
    rows = _Rows(source)
    start = 0
    for batch_no, s in enumerate(stats):
        if s.get("error"):
            raise _located(s["error"], source, columns, start)
        rows.add_batch(s["n"])
        _batch_report(report, rows, batch_no, s)
        start += s["n"]
        first, last = _extend(first, last, s)
        for key, n in s["counts"].items():
            counts[key] += n
    if not start:
        raise CustomerEquityError(source.name, "no transactions: the log has a header but no rows")
    _no_dates(last, report, source)
    c, e = resolve_ends(first, last, c_given, e_given)
    seconds["read"] = time.perf_counter() - started
    started = time.perf_counter()
    # Parts dealt round the workers: left to itself the scheduler puts a part where most of
    # its pieces are, and that was often one worker for three parts of four.
    addresses = sorted(client.nthreads())
    part_futures = []
    for k in range(parts):
        pieces = [client.submit(_piece, b, k, pure=False) for b in batches]
        part_futures.append(client.submit(_calibration_part_task, pieces, c, e, unit, duplicates,
                                          workers=[addresses[k % len(addresses)]],
                                          allow_other_workers=True, pure=False))
    del batches, pieces
    # The fits are submitted now, on the cluster alone: each part's distinct rows found on the
    # worker holding it, merged on a worker, the two models fitted at once, each on its own
    # worker (the spend model first: on two workers its fit is the longer), while the client
    # gathers and assembles the summary.
    fit_rows = [client.submit(_fit_rows_task, future, workers=[addresses[k % len(addresses)]],
                              allow_other_workers=True, pure=False)
                for k, future in enumerate(part_futures)]
    merged = client.submit(_merged_fit_rows, fit_rows, pure=False)
    fits = {model: client.submit(_fit_task, model, merged, workers=[where],
                                 allow_other_workers=True, pure=False)
            for model, where in (("gamma_gamma", addresses[0]), ("bgnbd", addresses[-1]))}
    del fit_rows, merged
    results, kept, part_reports = [], [], []
    counts["first_purchase_after_calibration"] = 0
    with bar(progress, parts, f"{source.kind}: summarising on Dask", " parts") as shown:
        for future in part_futures:
            uniques, summary, late, part = future.result()
            if summary is not None and "error" in summary:
                raise rows.located(summary["error"], columns)
            counts["first_purchase_after_calibration"] += late
            part_reports.append(part)
            if summary is not None:
                results.append((uniques, summary))
                kept.append(future)
            else:
                future.release()
            if shown is not None:
                shown.update(1)
    seconds["parts"] = time.perf_counter() - started
    started = time.perf_counter()
    sizes = [len(uniques) for uniques, _ in results]
    report.rows_read = start
    used_first, used_last = _parts_report(report, rows, part_reports, duplicates)
    summary, order = assemble(results or [(np.zeros(0), _empty_summary(e > c))], unit, c, e,
                              columns.customer, counts, sort=True, with_order=True)
    _finish_report(report, summary, used_first, used_last, summary.counts)
    seconds["assemble"] = time.perf_counter() - started
    return summary, kept, sizes, order, fits


def _ready_worker():
    """Import on a worker what its tasks use (pandas, pyarrow, scipy's special functions
    and optimiser, the models): the workers do it at once when the cluster starts, not
    in their first task of each step."""
    import pyarrow.parquet  # noqa: F401

    from ..model.forecast import result  # noqa: F401


def _aligned(a):
    """``a`` itself, or a copy if it is not aligned: an array a task receives may sit at any
    byte of the message it came in, and numpy's loops on unaligned data are slow (the fits
    ran twice as long)."""
    return a if a.flags.aligned else a.copy()


def _fit_task(model, merged):
    """One model fitted on a worker, on the base's distinct rows with their counts as
    weights (:func:`_merged_fit_rows`); None when there is no customer."""
    from ..model.forecast import fit_bgnbd, fit_gamma_gamma

    if merged is None:
        return None
    columns, weights = merged[0 if model == "bgnbd" else 1]
    columns, weights = [_aligned(c) for c in columns], _aligned(weights)
    try:
        return (fit_bgnbd if model == "bgnbd" else fit_gamma_gamma)(*columns, weights=weights)
    except CustomerEquityError as err:
        return {"error": _error_state(err)}


def _raise_state(state):
    kwargs = {"value": state["value"]} if state["has_value"] else {}
    raise CustomerEquityError(state["argument"], state["rule"], row=state["row"], **kwargs)


def _fit_rows_task(part):
    """A part's distinct rows for the fits, with their counts: ``(x, t_x, T)`` of every
    customer and ``(x, m_x)`` of the repeat buyers with a positive spend."""
    from ..model.forecast import distinct_rows, spenders

    _, summary, _, _ = part
    if summary is None or "error" in summary:
        return None  # the client raises the part's error
    x, t_x, T, m = (summary[k] for k in ("frequency", "recency", "T", "monetary_value"))
    buyers = spenders(x, m)
    return distinct_rows(x, t_x, T), distinct_rows(x[buyers], m[buyers])


def _merged_rows(pieces):
    """The distinct rows of the whole base from the parts' distinct rows and counts: the
    same sorted rows and counts as :func:`distinct_rows` on every customer at once."""
    from ..model.forecast import distinct_rows

    columns = [np.concatenate([rows[k] for rows, _ in pieces]) for k in range(len(pieces[0][0]))]
    return distinct_rows(*columns, weights=np.concatenate([w for _, w in pieces]))


def _merged_fit_rows(fit_rows):
    """Both fits' distinct rows of the base from the parts' (:func:`_fit_rows_task`), or None
    when no part has a calibration customer."""
    pieces = [p for p in fit_rows if p is not None]
    if not pieces:
        return None
    return _merged_rows([p[0] for p in pieces]), _merged_rows([p[1] for p in pieces])


def _fit_dask(client, summary, fits):
    """:func:`customer_equity.model.forecast.fit_forecast` from the fits submitted with the
    parts (:func:`_summarise_dask`): each was given the distinct rows and counts of the very
    arrays the local fit reads, the same rows in the same order, so that the fit is the same
    to the last digit."""
    from ..model.forecast import CustomerForecast, fit_inputs, frequency_spend_correlation

    x, t_x, T, m = fit_inputs(summary)  # no calibration customer: the local run's error
    correlation = frequency_spend_correlation(x, m)
    fitted = client.gather([fits["bgnbd"], fits["gamma_gamma"]])
    for fit in fitted:
        if isinstance(fit, dict):
            _raise_state(fit["error"])
    return CustomerForecast(summary=summary, bgnbd=fitted[0], gamma_gamma=fitted[1],
                            correlation=correlation)


def _chunk(forecast, horizon):
    """Customers valued at a time. CHUNK when the forecast keeps the expected purchases over
    the horizon per distinct ``(x, T)`` (:meth:`CustomerForecast.horizon`: a customer's value
    is then one gather, nothing per period); for a per-period table (BG/BB's opportunities),
    fewer for a long horizon, so that one step holds about CHUNK_CELLS numbers (a fraction of
    a second): memory stays bounded and Ctrl-C or SIGTERM stop the run between two steps."""
    from ..model.forecast.result import CustomerForecast

    if isinstance(forecast, CustomerForecast):
        return CHUNK
    return max(1, min(CHUNK, CHUNK_CELLS // (int(horizon) + 1)))


def _check_horizon(summary, horizon):
    """The horizon bounded by an estimate of memory and time, before the forecast allocates:
    the expected purchases are summed over the horizon a block of periods at a time
    (:func:`~customer_equity.model.forecast.value.horizon_sums`), so that memory does not grow
    with the horizon and the time grows with periods x distinct ``(x, T)``."""
    from ..model.forecast.value import check_horizon

    c = summary.customers
    distinct = len(c[["frequency", "T"]].drop_duplicates()) if len(c) else 0
    check_horizon(horizon, len(c), rows_at_once=CHUNK, name="horizon", grid_rows=distinct,
                  summed=True)


def _ltv_chunks(forecast, horizon, rate, margin, timing, progress=None):
    """Each customer's forecast value, :func:`_chunk` customers at a time (the expected
    purchases over the horizon once per distinct ``(x, T)``, before the first chunk;
    ``progress`` is called with the periods done)."""
    c = forecast.summary.customers
    step = _chunk(forecast, horizon)
    for start in range(0, len(c), step):
        yield forecast.ltv(horizon, rate, margin, timing, rows=slice(start, start + step),
                           progress=progress)


def _ltv_task(parts, bgnbd, gamma_gamma, horizon, rate, margin, timing, purchases=None):
    """The forecast value of each calibration customer of the parts held by one worker
    (one table of expected purchases for them all, not one a part)."""
    from ..model.forecast import CustomerForecast, LogSummary

    customers = pd.DataFrame({k: np.concatenate([s[k] for _, s, _, _ in parts])
                              for k in ("frequency", "recency", "T", "monetary_value")})
    summary = LogSummary(customers=customers, unit="", calibration_end=None,
                         observation_end=None, counts={})
    forecast = CustomerForecast(summary=summary, bgnbd=bgnbd, gamma_gamma=gamma_gamma,
                                correlation=float("nan"), purchases=purchases)
    try:
        chunks = list(_ltv_chunks(forecast, horizon, rate, margin, timing))
    except CustomerEquityError:
        return None  # the client recomputes and raises the error as a local run does
    return np.concatenate(chunks) if chunks else np.zeros(0)


def _ltv_total(chunks):
    """The sum of the customers' values: chunk by chunk, in the order of the summary."""
    return sum((float(v.sum()) for v in chunks), 0.0)


def _ltv_dask(client, parts, sizes, order, forecast, horizon, rate, margin, timing):
    """The total forecast value with each part's customers valued on their worker.

    A customer's value depends on its own summary only, so that each part gives the
    values a local run gives; they are put in the summary's order and added up in the
    same chunks."""
    sizes = [int(n) for n in sizes]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    held = {}
    who_has = client.who_has(parts)
    for i, future in enumerate(parts):
        where = sorted(who_has.get(future.key, ()))
        held.setdefault(where[0] if where else None, []).append(i)
    tasks = [(index, client.submit(_ltv_task, [parts[i] for i in index], forecast.bgnbd,
                                   forecast.gamma_gamma, horizon, rate, margin, timing,
                                   forecast.purchases,
                                   workers=None if worker is None else [worker],
                                   allow_other_workers=True, pure=False))
             for worker, index in held.items()]
    ltv = np.empty(int(offsets[-1]))
    for index, future in tasks:
        values = future.result()
        if values is None:
            return _ltv_total(_ltv_chunks(forecast, horizon, rate, margin, timing))
        at = 0
        for i in index:
            ltv[offsets[i]:offsets[i + 1]] = values[at:at + sizes[i]]
            at += sizes[i]
    if order is not None:
        ltv = ltv[order]
    step = _chunk(forecast, horizon)
    return _ltv_total(ltv[start:start + step] for start in range(0, len(ltv), step))


def _forecast_dask(source, columns, unit, c_given, e_given, batch_size, dask, workers, progress,
                   value, seconds, rules, duplicates, model="bgnbd", compare=False):
    """Summary, fits and forecast value on a Dask cluster: ``(CustomerForecast, ltv_total)``.

    ``seconds`` gets the time of each step: ``cluster`` (start or connect), ``summary``
    (``read``, ``parts``, ``assemble``), ``fit`` and ``predict``."""
    started = time.perf_counter()
    executor = executors.Dask(source, batch_size, dask, workers)
    try:
        executor.client.run(_ready_worker)
    except Exception:
        executor.close()
        raise
    seconds["cluster"] = time.perf_counter() - started
    try:
        started = time.perf_counter()
        summary, parts, sizes, order, fits = _summarise_dask(
            executor, source, columns, unit, c_given, e_given, progress, seconds, rules,
            duplicates)
        seconds["summary"] = time.perf_counter() - started
        _check_horizon(summary, value[0])
        started = time.perf_counter()
        forecast = _fit_dask(executor.client, summary, fits)
        if model != "bgnbd" or compare:  # on the client: distinct rows, a second or two
            from ..model.forecast.result import add_purchase_models

            forecast = add_purchase_models(forecast, model, compare)
        seconds["fit"] = time.perf_counter() - started
        started = time.perf_counter()
        ltv_total = _ltv_dask(executor.client, parts, sizes, order, forecast, *value)
        seconds["predict"] = time.perf_counter() - started
        del parts
    finally:
        executor.close()
    return forecast, ltv_total


# --------------------------------------------------------------------------- the run

@dataclasses.dataclass
class ForecastRun:
    """What :func:`forecast_file` computed.

    Attributes
    ----------
    forecast : CustomerForecast
        The summary and the two fitted models.
    horizon : int
        Periods forecast (of the summary's unit).
    rate, margin : float
        Discount rate per period and margin applied.
    timing : str
    ltv_total : float
        Forecast lifetime value of all customers in the calibration.
    measurement : Measurement or None
        Customer equity by type, with ``--customers``.
    join : dict or None
        ``log_only``, ``table_only``, ``matched`` customers and ``replaced`` columns.
    source : str
    """

    forecast: CustomerForecast
    horizon: int
    rate: float
    margin: float
    timing: str
    ltv_total: float
    measurement: object = None
    join: dict | None = None
    source: str = ""
    seconds: dict = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSON summary: parameters, standard errors, log-likelihoods, counts, holdout."""
        out = {"input": self.source, **self.forecast.to_dict(),
               "horizon": self.horizon, "rate": self.rate, "margin": self.margin,
               "timing": self.timing, "ltv_total": self.ltv_total}
        if self.forecast.summary.report is not None:
            out["data"] = self.forecast.summary.report.to_dict()
        if self.measurement is not None:
            out["equity"] = self.measurement.to_dict()
            out["join"] = dict(self.join)
        return out

    def report(self) -> str:
        """The readable report: parameters, calibration vs holdout by frequency, equity."""
        f = self.forecast
        s = f.summary
        c = s.customers
        unit = s.unit
        lines = [f"Forecast from {self.source}",
                 f"calibration to {s.calibration_end}"
                 + (f", holdout to {s.observation_end} ({s.holdout_length:g} {unit}s)"
                    if s.holdout else ", no holdout")
                 + f"; time in {unit}s ({UNITS[unit]:g} days)",
                 f"{len(c):,} customers, {int((c['frequency'] > 0).sum()):,} with repeat purchases",
                 ""]
        if s.report is not None:
            lines += s.report.lines()
            if s.counts.get("zero_amounts"):
                lines.append("  repeat buyers with a mean spend of 0 are left out of the spend model")
            lines.append("")

        def params(title, fit):
            rows = [f"  {k:<6} {v:>12.6g}  (se {_se(fit.standard_errors[k])})"
                    for k, v in fit.params.items()]
            return [(f"{title}: log-likelihood {fit.log_likelihood:,.4f} on {fit.customers:,} "
                    "customers")] + rows

        chosen = f.purchase_model
        lines += params(PURCHASE_TITLES[chosen.model], chosen)
        lines += params("Gamma-Gamma spend per purchase", f.gamma_gamma)
        corr = "n/a" if np.isnan(f.correlation) else f"{f.correlation:.3f}"
        lines.append(f"  frequency-spend correlation among repeat buyers: {corr} "
                     "(the spend model assumes none)")
        if s.holdout:
            table = f.holdout_table()
            shown = pd.DataFrame({"customers": table["customers"].map("{:,}".format),
                                  "actual": table["actual"].map(_fmt2),
                                  "predicted": table["predicted"].map(_fmt2)})
            shown.index.name = "repeat purchases in calibration"
            totals = f.holdout_totals()
            lines += ["", (f"Calibration vs holdout: mean purchases per customer in the "
                      f"{s.holdout_length:g} {unit}s after {s.calibration_end}"),
                      shown.to_string(),
                      (f"  total purchases: predicted {totals['predicted_purchases']:,.1f}, actual "
                      f"{totals['actual_purchases']:,.0f}; amount: predicted "
                      f"{totals['predicted_amount']:,.0f}, actual {totals['actual_amount']:,.0f}")]
        if f.models:
            lines += ["", _comparison_text(f.comparison(), chosen.model, s)]
        lines += ["", (f"Forecast lifetime value over {self.horizon} {unit}s at {self.rate:.4g} per "
                  f"{unit} ({self.timing}-of-period), margin {self.margin:g}: "
                  f"{self.ltv_total:,.0f} in all, {self.ltv_total / max(len(c), 1):,.2f} a customer")]
        if self.measurement is not None:
            j = self.join
            lines += ["", self.measurement.summary(), "",
                      (f"Joined by customer id: {j['matched']:,} customers measured; "
                      f"{j['log_only']:,} in the log but not in the customer table and "
                      f"{j['table_only']:,} in the table but not in the log left out")]
            if j["replaced"]:
                lines.append("  the forecast replaced the table's " + ", ".join(j["replaced"]))
        return "\n".join(lines)


PURCHASE_TITLES = {"bgnbd": "BG/NBD purchases (Fader, Hardie & Lee 2005)",
                   "bgbb": "BG/BB purchases at discrete opportunities (Fader, Hardie & Shang 2010)",
                   "pareto_nbd": "Pareto/NBD purchases (Schmittlein, Morrison & Colombo 1987)",
                   "mbgnbd": "MBG/NBD purchases (Batislam, Denizel & Filiztekin 2007)"}


def _comparison_text(rows, chosen, summary):
    """The purchase models side by side: log-likelihood, BIC, holdout error."""
    holdout = summary.holdout
    title = "Purchase models on the same customers (lower BIC is better"
    title += (f"; holdout: purchases in the {summary.holdout_length:g} {summary.unit}s after "
              f"{summary.calibration_end})" if holdout else ")")
    table = pd.DataFrame({
        "model": [r["name"] + (" (used)" if r["model"] == chosen else "") for r in rows],
        "log-likelihood": ["n/a" if r["log_likelihood"] is None else f"{r['log_likelihood']:,.2f}"
                           for r in rows],
        "BIC": ["n/a" if r["bic"] is None else f"{r['bic']:,.2f}" for r in rows]})
    if holdout:
        def column(key, fmt):
            return ["n/a" if r["holdout"] is None or r["holdout"][key] is None
                    else fmt.format(r["holdout"][key]) for r in rows]
        table["predicted"] = column("predicted", "{:,.1f}")
        table["actual"] = column("actual", "{:,.0f}")
        table["error"] = column("error", "{:+.1%}")
        table["MAE"] = column("mae", "{:.3f}")
        table["RMSE"] = column("rmse", "{:.3f}")
    width = max(len(m) for m in table["model"])
    notes = [f"n/a for {r['name']}: {r['note']}" for r in rows if r.get("note")]
    return "\n".join([title, table.to_string(index=False,
                                              formatters={"model": f"{{:<{width}}}".format}),
                      *notes])


def _se(x):
    return f"{x:.3g}" if math.isfinite(x) else "n/a: the information matrix is singular"


def _fmt2(x):
    return "" if pd.isna(x) else f"{x:.2f}"


def default_rate(unit):
    """10 % a year as a rate per ``unit`` (compounded)."""
    return (1 + YEARLY_RATE) ** (UNITS[unit] / 365.25) - 1


def _writer(out):
    suffix = Path(out).suffix.lower()
    if suffix not in OUTPUTS:
        raise CustomerEquityError(str(out), "unknown output format; give a file ending in "
                                  + ", ".join(OUTPUTS))
    return suffix


def _prediction_chunks(run, customers_measured):
    """Per-customer output rows, :func:`_chunk` customers at a time."""
    f = run.forecast
    c = f.summary.customers
    step = _chunk(f, run.horizon)
    for start in range(0, max(len(c), 1), step):
        frame = f.predict(run.horizon, run.rate, run.margin, run.timing,
                          rows=slice(start, start + step))
        frame = frame.drop(columns=["actual_amount"], errors="ignore")
        if customers_measured is not None:
            frame = frame.join(customers_measured, how="left")
        frame.index.name = c.index.name
        yield frame.reset_index()


def _write_xlsx(path, run, frames):
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "nan_inf_to_errors": False})
    try:
        bold = book.add_format({"bold": True})
        summary = book.add_worksheet("Forecast")
        sheet = book.add_worksheet("Customers")
        summary.set_column(0, 0, 110)
        for r, line in enumerate(run.report().splitlines()):
            summary.write_string(r, 0, line, bold if r == 0 else None)
        data = run.forecast.summary.report
        if data is not None:
            _write_report_sheet(book, data, bold)
        row = 0
        for frame in frames:
            if row == 0:
                sheet.write_row(0, 0, [str(c) for c in frame.columns], bold)
                sheet.freeze_panes(1, 0)
                row = 1
            if row - 1 + len(frame) > EXCEL_MAX_ROWS:
                raise CustomerEquityError(str(path), f"an Excel sheet holds at most "
                                          f"{EXCEL_MAX_ROWS:,} customers; write .parquet or .csv")
            for values in frame.astype(object).itertuples(index=False):
                sheet.write_row(row, 0, [None if (isinstance(v, float) and not math.isfinite(v))
                                         or v is None or v is pd.NA else v for v in values])
                row += 1
    finally:
        book.close()


def _write_report_sheet(book, report, bold):
    """The data report as a sheet: item, count, first rows (what CE_LOG_CHECK spills)."""
    sheet = book.add_worksheet("Data")
    sheet.set_column(0, 0, 80)
    sheet.set_column(1, 1, 14)
    sheet.set_column(2, 2, 40)
    sheet.write_string(0, 0, f"Data read from {report.source}", bold)
    for r, row in enumerate(report.table(), start=2):
        for c, value in enumerate(row):
            if isinstance(value, float):
                sheet.write_number(r, c, value, bold if r == 2 else None)
            elif value != "":
                sheet.write_string(r, c, str(value), bold if r == 2 else None)


def _write(out, run, customers_measured, progress):
    suffix = _writer(out)
    n = len(run.forecast.summary.customers)
    if suffix == ".xlsx" and n > EXCEL_MAX_ROWS:
        raise CustomerEquityError(str(out), f"an Excel sheet holds at most {EXCEL_MAX_ROWS:,} "
                                  f"customers, this log has {n:,}; write .parquet or .csv "
                                  "(and the summary to .json)")
    with atomic_path(out) as tmp:
        if suffix == ".json":
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(run.to_dict(), fh, indent=2, ensure_ascii=False, allow_nan=False,
                          default=_plain)
                fh.write("\n")
            return
        with bar(progress, n, "writing", " customers") as shown:
            def frames():
                for frame in _prediction_chunks(run, customers_measured):
                    if shown is not None:
                        shown.update(len(frame))
                    yield frame

            if suffix == ".xlsx":
                _write_xlsx(tmp, run, frames())
                return
            from .outputs import CsvWriter, ParquetWriter

            writer = (CsvWriter if suffix == ".csv" else ParquetWriter)(tmp, out)
            try:
                for frame in frames():
                    writer.write(frame)
                writer.finish()
            except BaseException:
                writer.abort()
                raise


def _plain(x):
    if isinstance(x, np.generic):
        return x.item()
    if hasattr(x, "isoformat"):
        return x.isoformat()
    raise TypeError(type(x).__name__)


def _read_customers(path, config, sheet=None):
    """The customer table (``--customers``) in memory, as :func:`measure` reads it."""
    from .inputs import open_source, prepare

    source = open_source(path, config, None)
    try:
        frames = [prepare(raw, source.spec) for raw in source.batches(250_000)]
    finally:
        if hasattr(source, "close"):
            source.close()
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if "customer_id" not in table.columns:
        raise CustomerEquityError(str(path), "column missing: customer_id (the ids of the log's "
                                  "customers, to join the forecast)")
    return table


def forecast_file(log, *, customer="customer_id", date="date", amount="amount", unit="week",
                  calibration_end=None, observation_end=None, horizon=None, rate=None,
                  margin=1.0, customers=None, config=None, out=None, sheet=None,
                  batch_size=DEFAULT_BATCH_SIZE, dask=None, workers=None,
                  progress=None, model="bgnbd", compare=False, today=None, strict=False,
                  duplicates="keep") -> ForecastRun:
    """Forecast each customer of a transaction log, and equity by type with a customer table.

    Parameters
    ----------
    log : str, path or pandas.DataFrame
        ``.csv``, ``.parquet`` or ``.xlsx``: one row per transaction.
    customer, date, amount : str
        The log's columns (matched ignoring case, spaces and hyphens).
    unit : {"day", "week", "month", "year"}
        Time unit of the summary; a forecast period is one unit.
    calibration_end, observation_end : date or str, optional
        See :func:`customer_equity.model.forecast.summary_data`.
    horizon : int, optional
        Periods to forecast (default: a year in the unit: 365, 52, 12 or 1).
    rate : float, optional
        Discount rate per period (default: the configuration's rate when
        ``config`` is given, else 10 % a year converted to the unit).
    margin : float
        Margin per unit of revenue applied to the expected spend (default 1).
    customers : str or path, optional
        Customer table (types or indicators, PPV, CV, KV, TV inputs) with a
        ``customer_id`` column: the forecast PV streams are joined to it and
        measured (:func:`customer_equity.measure`).
    config : MeasureConfig, optional
        Classification and values for the measurement; its timing and, unless
        ``rate`` is given, its rate apply to the forecast value.
    out : str or path, optional
        ``.csv``, ``.parquet``, ``.xlsx`` (one row per customer) or ``.json`` (the
        summary). Written to a temporary file renamed at the end.
    batch_size : int
        Transactions per batch.
    dask : str, optional
        ``"local"`` or a scheduler address: summarise on a Dask cluster.
    workers : int, optional
        Workers of a local Dask cluster.
    progress : callable, optional
        A factory of progress bars (:mod:`customer_equity.files.executors`); None: no bar.
    model : {"bgnbd", "pareto_nbd", "mbgnbd", "bgbb"}
        The purchase model of the forecast (``bg-nbd``, ``pareto-nbd``, ``mbg-nbd``, ``bg-bb``
        too). BG/BB reads the log as discrete opportunities, one per ``unit`` after each
        customer's first purchase, in this process (:mod:`customer_equity.model.forecast.opportunities`).
    compare : bool
        Fit the three continuous purchase models and compare them (log-likelihood, BIC,
        holdout error): the report's table and the JSON summary's ``models``.
    today : date or str, optional
        Transactions dated after it are set aside and reported (default: the computer's date).
    strict : bool
        Refuse a transaction dated after today, naming its row, instead of setting it aside.
    duplicates : {"keep", "drop"}
        Exact duplicate rows (same customer, day and amount) are kept and reported (default,
        as lifetimes), or set aside and reported.

    Returns
    -------
    ForecastRun

    Examples
    --------
    >>> from customer_equity.model.forecast.sample import cdnow_path
    >>> run = forecast_file(cdnow_path(), calibration_end="1997-09-30", horizon=52)
    >>> round(run.forecast.bgnbd["r"], 4), len(run.forecast.summary.customers)
    (0.2426, 2357)
    """
    from ..model.forecast import fit_forecast
    from ..model.forecast.data import DUPLICATES, date_to_day, today_day, unit_days
    from ..model.forecast.purchases import MODEL_NAMES, purchase_model

    unit_days(unit)
    model = "bgbb" if MODEL_NAMES.get(model, model) == "bgbb" else purchase_model(model)
    if model == "bgbb":
        refused = [o for o, given in (("--workers", workers), ("--dask", dask),
                                      ("--customers", customers)) if given]
        if refused:
            raise CustomerEquityError(refused[0], "not with --model bg-bb: the opportunity forecast "
                                      "runs in this process and values the log's customers only")
    if batch_size < 1:
        raise CustomerEquityError("batch_size", "must be a whole number >= 1", value=batch_size)
    if duplicates not in DUPLICATES:
        raise CustomerEquityError("duplicates", 'must be "keep" or "drop"', value=duplicates)
    rules = (today_day(today), bool(strict))
    if out is not None:
        suffix = _writer(out)
        from .._files import check_writable

        check_writable(out)
        if suffix in (".csv", ".parquet"):
            from .inputs import require_pyarrow

            require_pyarrow(str(out))
        if not isinstance(log, pd.DataFrame) and Path(out).resolve() == Path(log).resolve():
            raise CustomerEquityError(str(out), "is the log file; choose another output file")
    if horizon is None:
        horizon = YEAR[unit]
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise CustomerEquityError("horizon", "must be a whole number of periods >= 1", value=horizon)
    base_config = config or MeasureConfig()
    if rate is None:
        rate = base_config.rate if config is not None else default_rate(unit)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate):
        raise CustomerEquityError("rate", "a per-period rate must be a number >= 0", value=rate)
    if rate < 0:
        raise CustomerEquityError("rate", "a negative discount rate makes money later worth more "
                                  "than money now, and a forecast's value grows without bound "
                                  "with the horizon: give a rate >= 0 (0.0019 a week is 10 % a "
                                  "year)", value=rate)
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not math.isfinite(margin):
        raise CustomerEquityError("margin", "must be a number (margin per unit of revenue)",
                                  value=margin)
    config = dataclasses.replace(base_config, rate=float(rate))
    if observation_end is not None:
        date_to_day(observation_end, "observation_end")
    if calibration_end is not None:
        date_to_day(calibration_end, "calibration_end")
    table = _read_customers(customers, config) if customers is not None else None

    seconds = {}
    started = time.perf_counter()
    source, columns = open_log(log, customer, date, amount, sheet)
    try:
        if model == "bgbb":
            summary = _summarise_opportunities(source, columns, unit, calibration_end,
                                               observation_end, batch_size, progress, rules,
                                               duplicates)
        elif dask:
            forecast, ltv_total = _forecast_dask(
                source, columns, unit, calibration_end, observation_end, batch_size, dask,
                workers, progress, (horizon, rate, margin, config.timing), seconds, rules,
                duplicates, model, compare)
        else:
            summary = _summarise_local(source, columns, unit, calibration_end, observation_end,
                                       batch_size, progress, rules, duplicates)
            _check_horizon(summary, horizon)
    finally:
        if hasattr(source, "close"):
            source.close()
    if not dask:
        seconds["summary"] = time.perf_counter() - started
        started = time.perf_counter()
        if model == "bgbb":
            from ..model.forecast.opportunities import fit_opportunity_forecast

            forecast = fit_opportunity_forecast(summary)
        else:
            forecast = fit_forecast(summary, model, compare)
        seconds["fit"] = time.perf_counter() - started
        started = time.perf_counter()
        with bar(progress, horizon, "forecast values", " periods") as shown:
            ltv_total = _ltv_total(_ltv_chunks(forecast, horizon, rate, margin, config.timing,
                                               None if shown is None else shown.update))
        seconds["predict"] = time.perf_counter() - started
    summary = forecast.summary
    c = summary.customers
    run = ForecastRun(forecast=forecast, horizon=int(horizon), rate=float(rate),
                      margin=float(margin), timing=config.timing, ltv_total=ltv_total,
                      source=str(log) if not isinstance(log, pd.DataFrame) else "a table",
                      seconds=seconds)
    measured = None
    if table is not None:
        m, joined = forecast.measure(table, config, periods=int(horizon), margin=margin)
        run.measurement = m
        run.join = {"matched": len(joined.table), "log_only": joined.log_only,
                    "table_only": joined.table_only, "replaced": list(joined.replaced)}
        keep = [k for k in ("type", "pv", "ppv", "cv", "kv", "tv", "iv", "ltv")
                if k in m.customers.columns]
        measured = m.customers[keep].copy()
        measured.index = c.index[joined.log_rows]
        measured = measured.rename(columns={"ltv": "equity"})
        measured["type"] = measured["type"].astype(str)
    if out is not None:
        _write(out, run, measured, progress)
    return run
