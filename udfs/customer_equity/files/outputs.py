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
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .._files import atomic_path
from ..errors import CustomerEquityError
from ..model.measure import at_risk_note

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
        self.finish()

    def finish(self):
        """Close the file after the rows written so far (a job with no combined result)."""
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
    """A results workbook: sheets ``Summary``, ``Customers`` (an Excel table), ``Config``.

    One writer, bounded memory, whatever the number of customers: XlsxWriter lays the
    workbook out (styles, the ``CustomerResults`` table, the Summary and Config sheets),
    and the rows of the Customers sheet are streamed into the file's zip as they come,
    formatted a batch at a time by :func:`sheet_rows_xml` (pyarrow string kernels). Only
    the ``<row>`` elements are ours; every other part is XlsxWriter's.
    """

    suffix = ".xlsx"
    max_rows = EXCEL_MAX_ROWS
    SHEETS = ("Summary", "Customers", "Config")
    CUSTOMERS_PART = "xl/worksheets/sheet2.xml"
    #: Rows formatted at a time (about 15 MB of XML).
    CHUNK = 50_000

    def __init__(self, path, destination=None):
        super().__init__(path, destination)
        self._zip = None
        self._stream = None
        self._columns = None
        self._tail = None

    def write(self, customers):
        if self._columns is None:
            self._start(customers)
        for start in range(0, len(customers), self.CHUNK):
            chunk = customers.iloc[start:start + self.CHUNK]
            self._stream.write(sheet_rows_xml(chunk, first_row=self.rows + 2))
            self.rows += len(chunk)

    def _start(self, customers):
        import zipfile

        self._columns = [str(c) for c in customers.columns]
        sheet = _zip_parts(self._layout(None))[self.CUSTOMERS_PART].decode("utf-8")
        head, _, rest = sheet.partition("<sheetData")
        _, _, tail = rest.partition("</sheetData>") if "</sheetData>" in rest else ("", "", rest[rest.index(">") + 1:])
        head = re.sub(r"<dimension [^>]*/>", "", head)  # the size is not known yet (optional)
        self._tail = tail.encode("utf-8")
        self._zip = zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._stream = self._zip.open(self.CUSTOMERS_PART, "w", force_zip64=True)
        header = "".join(f'<c r="{_column_letter(k)}1" t="inlineStr"><is><t>{_xml_text(name)}</t>'
                         "</is></c>" for k, name in enumerate(self._columns))
        self._stream.write(f'{head}<sheetData><row r="1">{header}</row>'.encode("utf-8"))

    def _layout(self, result):
        """The workbook as XlsxWriter writes it, Customers without its data rows (bytes)."""
        import io

        import xlsxwriter

        buffer = io.BytesIO()
        book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                            "strings_to_formulas": False, "strings_to_urls": False})
        summary, customers, config = (book.add_worksheet(name) for name in self.SHEETS)
        customers.freeze_panes(1, 0)
        for k, name in enumerate(self._columns):
            customers.set_column(k, k, max(10, len(name) + 4))
        # the table is laid out over one data row and stretched in close(): XlsxWriter's own
        # overlap check visits every cell of a table (70 s and 1.3 GB for 10^6 x 13)
        customers.add_table(0, 0, 1, len(self._columns) - 1, {
            "name": "CustomerResults", "style": "Table Style Medium 2",
            "columns": [{"header": name} for name in self._columns]})
        if result is not None:
            _summary_sheet(book, summary, result)
            _config_sheet(book, config, result.config)
        book.close()
        return buffer.getvalue()

    def close(self, result):
        if self._columns is None:
            self._start(result.customers)
        self._stream.write(b"</sheetData>" + self._tail)
        self._stream.close()
        self._stream = None
        last = _column_letter(len(self._columns) - 1)
        for name, data in _zip_parts(self._layout(result)).items():
            if name == self.CUSTOMERS_PART:
                continue
            if name.startswith("xl/tables/"):
                old = f'ref="A1:{last}2"'.encode()
                if data.count(old) != 2:  # the table and its autofilter
                    raise RuntimeError(f"unexpected table part from XlsxWriter: {data[:300]!r}")
                data = data.replace(old, f'ref="A1:{last}{max(self.rows, 1) + 1}"'.encode())
            self._zip.writestr(name, data)
        self._zip.close()
        self._zip = None

    def abort(self):
        with contextlib.suppress(Exception):
            if self._stream is not None:
                self._stream.close()
        with contextlib.suppress(Exception):
            if self._zip is not None:
                self._zip.close()


def _zip_parts(data):
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _column_letter(k):
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        letters = chr(65 + r) + letters
    return letters


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xml_text(text):
    return _XML_INVALID.sub("", str(text)).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sheet_rows_xml(frame, first_row):
    """The ``<row>`` elements of a worksheet for ``frame``, starting at sheet row ``first_row``.

    Numbers as numbers (NaN and infinities as empty cells), booleans as TRUE/FALSE, anything
    else as inline text, XML-escaped. Vectorised with pyarrow: no Python loop over cells.

    >>> sheet_rows_xml(pd.DataFrame({"id": ["a&b"], "x": [1.5], "ok": [True]}), 2).decode()
    '<row r="2"><c r="A2" t="inlineStr"><is><t>a&amp;b</t></is></c><c r="B2"><v>1.5</v></c><c r="C2" t="b"><v>1</v></c></row>'
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(frame)
    if n == 0:
        return b""
    number = pa.array(np.arange(first_row, first_row + n, dtype=np.int64)).cast(pa.string())
    parts = ['<row r="', number, '">']
    for k, name in enumerate(frame.columns):
        s = frame[name]
        ref = pc.binary_join_element_wise(_column_letter(k), number, "")
        kind = s.dtype.kind if not isinstance(s.dtype, pd.CategoricalDtype) else "O"
        if kind == "b":
            cell = pc.binary_join_element_wise('<c r="', ref, '" t="b"><v>',
                                               pc.if_else(pa.array(s.to_numpy(bool)), "1", "0"),
                                               "</v></c>", "")
        elif kind in "iuf":
            values = s.to_numpy(dtype=np.float64 if kind == "f" else np.int64)
            text = pa.array(values).cast(pa.string())
            cell = pc.binary_join_element_wise('<c r="', ref, '"><v>', text, "</v></c>", "")
            if kind == "f":
                cell = pc.if_else(pa.array(np.isfinite(values)), cell, "")
        else:
            text = _text_array(s)
            text = pc.replace_substring_regex(text, "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]", "")
            for old, new in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
                text = pc.replace_substring(text, old, new)
            cell = pc.binary_join_element_wise('<c r="', ref, '" t="inlineStr"><is><t>', text,
                                               "</t></is></c>", "")
            cell = pc.fill_null(cell, "")
        parts.append(cell)
    parts.append("</row>")
    rows = pc.binary_join_element_wise(*parts, "")
    if rows.type != pa.string():
        rows = rows.cast(pa.string())
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)[rows.offset:rows.offset + n + 1]
    return bytes(memoryview(rows.buffers()[2])[offsets[0]:offsets[-1]])


def _text_array(s):
    """A pandas column as an arrow string array (blanks as nulls)."""
    import pyarrow as pa

    try:
        return pa.array(s, from_pandas=True).cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        blank = s.isna().to_numpy()
        return pa.array(s.astype(str).to_numpy(dtype=object), mask=blank, type=pa.string())


def _summary_sheet(book, ws, result):
    """The Summary sheet: equity, input, the three tables of the report, the notes."""
    bold = book.add_format({"bold": True})
    big = book.add_format({"bold": True, "font_size": 14})
    formats = {f: book.add_format({"num_format": f}) for f in ("#,##0", "0.0%")}
    big_number = book.add_format({"bold": True, "font_size": 14, "num_format": "#,##0"})
    ws.set_column(0, 0, 22)
    ws.set_column(1, 6, 16)
    cfg = result.config
    row = 0

    def put(r, c, value, fmt=None):
        value = _excel_value(value)
        if value is None:
            ws.write_blank(r, c, None, fmt)
        else:
            ws.write(r, c, value, fmt)

    put(0, 0, "Customer equity", big)
    put(0, 1, result.equity, big_number)
    put(1, 0, "Input")
    put(1, 1, result.source)
    put(2, 0, "Customers")
    put(2, 1, int(result.counts.sum()), formats["#,##0"])
    put(3, 0, "Discounting")
    put(3, 1, f"rate {cfg.rate:g} per period, {cfg.timing}-of-period; classified by "
              f"{cfg.classify_by}; Iv {cfg.iv:g}")
    row = 5
    for title, df, fmts in (
            ("Equity by customer type", result.by_type,
             {"customers": "#,##0", "share": "0.0%", "average": "#,##0"}),
            ("Composition (value kind x customer type)", result.composition, {}),
            ("Structure (share of customers and of equity per type)", result.structure,
             {"customer_share": "0.0%", "equity_share": "0.0%"})):
        put(row, 0, title, bold)
        put(row + 1, 0, df.index.name or "")
        for c, name in enumerate(df.columns, start=1):
            put(row + 1, c, str(name), bold)
        for r, (label, values) in enumerate(df.iterrows(), start=row + 2):
            put(r, 0, str(label), bold)
            for c, (name, v) in enumerate(values.items(), start=1):
                put(r, c, v, formats[fmts.get(name, "#,##0")])
        row += len(df) + 3
    notes = _notes(result)
    if notes:
        put(row, 0, "Notes", bold)
        for r, note in enumerate(notes, start=row + 1):
            put(r, 0, note)


def _config_sheet(book, ws, cfg):
    bold = book.add_format({"bold": True})
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 40)
    ws.write_row(0, 0, ["setting", "value"], bold)
    rows = []
    for key, value in cfg.to_dict().items():
        if isinstance(value, dict):
            rows.extend((f"{key}.{k}", _excel_value(v)) for k, v in value.items())
        elif isinstance(value, (list, tuple)):
            rows.append((key, ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)))
        else:
            rows.append((key, "" if value is None else _excel_value(value)))
    for r, (key, value) in enumerate(rows, start=1):
        ws.write(r, 0, key)
        if value is None or value == "":
            continue
        ws.write(r, 1, value)


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
        notes.append(at_risk_note(result.at_risk_customers))
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


