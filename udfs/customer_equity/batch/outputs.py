"""Writing the results: one :class:`ResultWriter` per output format, and atomic files.

The batch run hands each writer the per-customer results batch by batch, in input
order, then the combined measurement. :class:`XlsxWriter` writes a plain
measurement workbook; the template workbooks can take its place later through
:data:`WRITERS` (same ``write`` / ``close`` calls).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .._files import atomic_path
from ..errors import CustomerEquityError
from ..model.links import REQUIRED_LINKS

#: Data rows an Excel sheet holds below its header row (1,048,576 rows in all).
EXCEL_MAX_ROWS = 1_048_575


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
    destination : str, optional
        The file as the user named it, for messages (default ``path``).
    """

    per_customer = True
    #: Most per-customer rows the format holds (None: no limit).
    max_rows = None
    suffix = ""

    def __init__(self, path, destination=None):
        self.path = Path(path)
        self.destination = str(destination or path)
        self.rows = 0

    def check_rows(self, total):
        """Refuse ``total`` customers when the format holds fewer (None: not known yet)."""
        if self.max_rows is not None and total is not None and total > self.max_rows:
            raise CustomerEquityError(
                self.destination, f"an Excel sheet holds at most {self.max_rows:,} customers, this "
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
    def __init__(self, path, destination=None):
        super().__init__(path, destination)
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

    def __init__(self, path, destination=None):
        super().__init__(path, destination)
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


def duplicate_note(result) -> str:
    """The warning about rows that repeat a customer id (for the summary and the workbook)."""
    rows = "row repeats" if result.duplicate_ids == 1 else "rows repeat"
    return (f"WARNING: {result.duplicate_ids:,} {rows} a customer id of an earlier row (first at "
            f"row {result.first_duplicate_row:,}); each row is measured as a separate customer")


def _notes(result):
    notes = [f"{n:,} non-zero {k.upper()} cells left out: the customer's type does not provide "
             f"{k.upper()}" for k, n in result.excluded.items() if n]
    if result.ignored_after_last_period:
        notes.append(f"{result.ignored_after_last_period:,} non-zero cells after a customer's "
                     "last period left out")
    if result.at_risk_customers is not None:
        notes.append(f"{result.at_risk_customers:,} customers have fewer than {REQUIRED_LINKS} "
                     "solid relationship links")
    if getattr(result, "duplicate_ids", 0):
        notes.append(duplicate_note(result))
    if result.tier_cutoffs is not None:
        p, g, i = result.tier_cutoffs
        origin = ("the 95th, 80th and 50th percentiles of lifetime value"
                  if result.config.tier_cutoffs is None else "the configuration")
        notes.append(f"value tiers: Platinum from {p:,.0f}, Gold from {g:,.0f}, Iron from {i:,.0f} "
                     f"({origin})")
    return notes


#: Output writers by file suffix.
WRITERS = {".xlsx": XlsxWriter, ".csv": CsvWriter, ".parquet": ParquetWriter, ".json": JsonWriter}


class MemoryWriter(ResultWriter):
    """Keeps the per-customer results in memory (``keep_customers=True``)."""

    def __init__(self):
        super().__init__(os.devnull, "memory")
        self.frames = []

    def write(self, customers):
        self.frames.append(customers)
        self.rows += len(customers)


class Tee(ResultWriter):
    """Several writers as one; checks the row limit of the strictest before each write."""

    def __init__(self, writers):
        super().__init__(os.devnull)
        self.writers = writers
        self.per_customer = any(w.per_customer for w in writers)
        limits = [w for w in writers if w.per_customer and w.max_rows is not None]
        self._limit = min(limits, key=lambda w: w.max_rows) if limits else None

    def check_rows(self, total):
        if self._limit is not None:
            self._limit.check_rows(total)

    def write(self, customers):
        self.rows += len(customers)
        self.check_rows(self.rows)
        for w in self.writers:
            if w.per_customer:
                w.write(customers)

    def close(self, result):
        for w in self.writers:
            w.close(result)

    def abort(self):
        for w in self.writers:
            w.abort()


atomic = atomic_path


