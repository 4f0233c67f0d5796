"""Reading the customer table batch by batch: CSV (pyarrow), Parquet (pyarrow), .xlsx (openpyxl).

Each source yields raw batches (arrow tables or pandas frames) and knows the row
number a user sees for a data row. :func:`prepare` turns a raw batch into the frame
:func:`customer_equity.measure` expects: only the columns it reads, under its
names, with CSV text parsed into numbers and TRUE/FALSE flags.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CustomerEquityError
from ..reading import FLAG_RULE, canonical, flag_value, not_a_number

# A cell whose formula has no saved result: <c r="B2"><f>2*3</f></c> or <f .../><v/>.
_UNCACHED_FORMULA = re.compile(
    rb'<c\b[^>]*?\br="([A-Z]+)([0-9]+)"[^>]*>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)'
    rb'(?:<v\s*/>|<v>\s*</v>)?</c>')

#: Batches of an .xlsx input are smaller: openpyxl gives one Python object per cell.
XLSX_BATCH_SIZE = 50_000

INPUT_FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet",
                 ".pq": "parquet", ".xlsx": "xlsx", ".xlsm": "xlsx"}

# What measure() reads, by kind (every other column is left out of the batches).
_FLOWS = ("capacity", "share", "margin", "pv", "influence", "reach", "avg_value", "ppv",
          "cv", "kv", "tv")
_FLAGS = ("tv_carrier", "key_customer", "executive_link", "expert_link")
_BLOCK = re.compile(r"(.+)_([0-9]+)")
NOT_A_NUMBER = "expected a number, got text"


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
class Spec:
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
            name = raw if _kind(raw, config) else canonical(raw)
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
    return flag_value(v)


def _flags_from_codes(codes, uniques, name):
    lookup = np.empty(len(uniques), dtype=np.float64)
    for k, u in enumerate(uniques):
        f = _flag_value(u)
        if f is None:
            row = int(np.flatnonzero(codes == k)[0]) + 1
            raise CustomerEquityError(name, FLAG_RULE, row=row,
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
    """Numbers from CSV text; only an empty cell is a blank (NaN).

    Placeholder text (``#N/A``, ``NA``, ``NULL``, ``nan``, ``1.#QNAN``, ...) and infinities
    are refused by row, like any other text where a number belongs: read as blanks they
    would silently count as 0.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_null(col.type):
        return np.full(len(col), np.nan)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        return pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
    values = None
    for prepare in (lambda c: c, pc.utf8_trim_whitespace):
        try:
            values = pc.cast(prepare(col), pa.float64()).to_numpy(zero_copy_only=False)
            break
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    if values is None:
        values = np.empty(len(col), dtype=np.float64)
        for k, v in enumerate(col.to_pylist()):
            try:
                values[k] = np.nan if v is None or v == "" else float(v.strip())
            except ValueError:
                raise not_a_number(v, name, row=k + 1) from None
    # only an empty cell is a blank (the one reading): a cell of spaces is refused, like text
    given = pc.fill_null(pc.not_equal(col, ""), False)
    bad = np.asarray(given.to_numpy(zero_copy_only=False), dtype=bool) & ~np.isfinite(values)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise not_a_number(col[k].as_py(), name, row=k + 1)
    return values


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


def prepare(raw, spec):
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
        self.spec = Spec.of(list(frame.columns), config, name, text=False)

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
            # pre_buffer would keep every row group read so far: memory would grow with the file
            self._file = pq.ParquetFile(path, pre_buffer=False)
        except (OSError, pa.ArrowException) as err:
            raise CustomerEquityError(self.name, f"cannot read the Parquet file: {err}") from None
        self.num_rows = self._file.metadata.num_rows
        self.spec = Spec.of(self._file.schema_arrow.names, config, self.name, text=False)

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

        # partitions of whole row groups, about batch_size customers each
        meta = self._file.metadata
        per_group = meta.num_rows / max(1, meta.num_row_groups)
        groups = max(1, round(batch_size / per_group)) if per_group else 1
        return dd.read_parquet(str(self.path), columns=list(self.spec.names),
                               split_row_groups=groups)


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
        self.spec = Spec.of(header, config, self.name, text=True)

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
                # only an empty cell is a blank: "#N/A", "NA", "NULL", "nan" stay text
                null_values=[""], strings_can_be_null=True))

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
                           keep_default_na=False, na_values=[""])


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
        except Exception as err:  # noqa: BLE001 - openpyxl raises many types for a damaged file
            raise CustomerEquityError(self.name, f"cannot read the workbook: {err}") from None
        names = self._book.sheetnames
        if sheet is None:
            sheet = next((s for s in names if canonical(s) in ("customers", "customer_table")), names[0])
        elif sheet not in names:
            raise CustomerEquityError(self.name, "no sheet of that name; the workbook has "
                                      + ", ".join(repr(s) for s in names), value=sheet)
        self.sheet = sheet
        self.name = f"{path} [{sheet}]"
        ws = self._book[sheet]
        self._header_row, header = self._find_header(ws)
        self._positions = [k for k, h in enumerate(header) if h is not None and str(h).strip()]
        self._names = [str(header[k]) for k in self._positions]
        self.spec = Spec.of(self._names, config, self.name, text=False)
        self._refuse_uncalculated_formulas(ws)
        max_row = ws.max_row or self._header_row
        self.num_rows = max(0, max_row - self._header_row)
        self._rows = np.zeros(0, dtype=np.int64)
        self._cache = None

    def _find_header(self, ws):
        first = None
        for r, row in enumerate(ws.iter_rows(min_row=1, max_row=50, values_only=True), start=1):
            cells = [canonical(c) if isinstance(c, str) else None for c in row]
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

    def _refuse_uncalculated_formulas(self, ws):
        """Refuse formulas with no saved result in the columns read (openpyxl would give blanks).

        A workbook written by a script (openpyxl, pandas) and never opened in Excel holds
        formulas without their results; read as blanks they would count as 0. One pass over
        the sheet's XML with a regular expression, streamed from the zip.
        """
        from openpyxl.utils import get_column_letter

        letters = {get_column_letter(self._positions[k] + 1)
                   for k, raw in enumerate(self._names) if raw in self.spec.names}
        found, total = [], 0
        try:
            stream = self._book._archive.open(ws._worksheet_path)
        except (AttributeError, KeyError):  # not a read-only openpyxl sheet: nothing to scan
            return
        with stream:
            carry = b""
            while True:
                chunk = stream.read(1 << 22)
                text = carry + chunk
                end = text.rfind(b"</c>") + 4 if chunk else len(text)
                for m in _UNCACHED_FORMULA.finditer(text, 0, max(end, 0)):
                    column, row = m.group(1).decode(), int(m.group(2))
                    if column in letters and row > self._header_row:
                        total += 1
                        if len(found) < 5:
                            found.append(f"{column}{row}")
                carry = text[max(end, 0):]
                if not chunk:
                    break
        if total:
            more = f" and {total - len(found):,} more" if total > len(found) else ""
            raise CustomerEquityError(
                self.name, f"formulas without saved results in cells {', '.join(found)}{more}: the "
                "file was written by a program that does not calculate; open and save it in "
                "Excel (or LibreOffice), or export the values")

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


def require_pyarrow(what):
    """pyarrow is optional (the base package stays pure Python for xlwings Lite)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise CustomerEquityError(what, "reading customer files and writing CSV or Parquet "
                                  "need pyarrow: pip install 'customer-equity[batch]'") from None


def open_source(input, config, sheet=None):
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
    require_pyarrow(str(input))
    if fmt == "csv":
        return _CsvSource(input, config)
    if fmt == "parquet":
        return _ParquetSource(input, config)
    return _XlsxSource(input, config, sheet)


