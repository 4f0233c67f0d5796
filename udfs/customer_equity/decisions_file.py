"""``customer-equity measure A B ...``: the structures of two or more measurements and their change.

Each input is one of

* a customer table (``.csv``, ``.parquet``, ``.xlsx``), measured with the
  configuration as ``measure INPUT`` would measure it (batch by batch, any size);
* a saved result, the ``.json`` that ``measure INPUT --out result.json`` writes
  (``by_type`` and ``composition``), so last year need not be measured again;
* an estimate of a structure, e.g. a competitor's: a ``.json`` file
  ``{"customers": {...}, "average": {...}}`` (per type, or 4 numbers in the order
  Lighthouse, Follower, Rational, Profit-seeking), or a ``.csv`` with the columns
  ``type``, ``customers`` and ``average`` (or ``equity``).

Each structure is printed (:func:`~customer_equity.model.structure.structure_table`),
then each comparison (:func:`~customer_equity.model.structure.compare_structures`):
differences of shares in percentage points and the change of equity split into
volume, mix and value effects, which add up exactly. ``--out`` writes the
comparison (``.csv``) or the structures and the comparison (``.json``), to a
temporary file renamed at the end.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ._files import atomic_path, check_writable
from .errors import CustomerEquityError
from .model import MeasureConfig, compare_structures, structure_from_counts, structure_table
from .model.types import TYPES, type_codes

__all__ = ["OUT_FORMATS", "compare_files", "read_structure"]

#: What ``--out`` can write when two or more inputs are compared.
OUT_FORMATS = (".csv", ".json")


def _per_type(value, path, key):
    """Customers or averages per type from a mapping of type to number or a list of 4."""
    if isinstance(value, dict):
        out = np.zeros(4)
        for label, x in value.items():
            try:
                code = int(type_codes([label], key)[0])
            except CustomerEquityError:
                raise CustomerEquityError(str(path), f"{key}: unknown customer type", value=label) from None
            out[code] = _number(x, path, f"{key}: {label}")
        return out
    if isinstance(value, list) and len(value) == 4:
        return np.array([_number(x, path, f"{key}: {TYPES[k]}") for k, x in enumerate(value)])
    raise CustomerEquityError(str(path), f"{key}: give one number per type, as "
                              '{"Lighthouse": 200, ...} or 4 numbers', value=value)


def _number(x, path, what):
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise CustomerEquityError(str(path), f"{what}: expected a number", value=x)
    return float(x)


def _from_json(path):
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise CustomerEquityError(str(path), "not UTF-8 text") from None
    except ValueError as err:
        raise CustomerEquityError(str(path), f"not a valid JSON file: {err}") from None
    if isinstance(data, dict) and "by_type" in data:
        try:
            return structure_table(data)
        except CustomerEquityError as err:
            raise CustomerEquityError(str(path), err.rule) from None
    if isinstance(data, dict) and "customers" in data and "average" in data:
        customers = _per_type(data["customers"], path, "customers")
        average = _per_type(data["average"], path, "average")
        try:
            return structure_from_counts(customers, average)
        except CustomerEquityError as err:
            raise err.relocated(argument=f"{path}: {err.argument}") from None
    raise CustomerEquityError(str(path), "expected a saved result of 'measure --out FILE.json' "
                              '(by_type, composition) or an estimate {"customers": ..., '
                              '"average": ...} per type')


def _estimate_csv(path):
    """A .csv of customers and average (or equity) per type, or None for a customer table."""
    try:
        header = pd.read_csv(path, nrows=0, encoding="utf-8-sig", sep=None, engine="python")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError):
        return None  # the customer-table reader names what is wrong
    columns = {str(c).strip().lower(): c for c in header.columns}
    if "customers" not in columns or not ({"average", "equity"} & set(columns)):
        return None
    frame = pd.read_csv(path, encoding="utf-8-sig", sep=None, engine="python")
    frame = frame.rename(columns={c: str(c).strip().lower() for c in frame.columns})
    try:
        return structure_table(frame[[c for c in ("type", "customers", "average", "equity")
                                      if c in frame.columns]])
    except CustomerEquityError as err:
        raise err.relocated(argument=f"{path}: {err.argument}") from None


def read_structure(path, config: MeasureConfig | None = None, *, sheet=None, batch_size=None,
                   progress=False) -> pd.DataFrame:
    """The structure table of one input of ``measure A B``: a customer table, a saved result or an estimate.

    Parameters
    ----------
    path : str or path
        A customer table (``.csv``, ``.parquet``, ``.xlsx``), a saved ``.json``
        result, or an estimate (``.json`` or ``.csv`` of customers and average per type).
    config : MeasureConfig, optional
        How a customer table is measured (default :class:`MeasureConfig`).
    sheet, batch_size, progress
        As in :func:`customer_equity.batch.measure_file`.

    Returns
    -------
    pandas.DataFrame
        The table of :func:`~customer_equity.model.structure.structure_table`.
    """
    path = Path(path)
    if path.suffix.lower() == ".json":
        if not path.is_file():
            raise CustomerEquityError(str(path), "no such file")
        return _from_json(path)
    if path.suffix.lower() == ".csv" and path.is_file():
        estimate = _estimate_csv(path)
        if estimate is not None:
            return estimate
    from .batch import DEFAULT_BATCH_SIZE, measure_file

    result = measure_file(str(path), config or MeasureConfig(), batch_size=batch_size or DEFAULT_BATCH_SIZE,
                          sheet=sheet, progress=progress)
    return structure_table(result)


def _labels(paths):
    labels = [Path(p).stem for p in paths]
    return [f"{x} ({k + 1})" if labels.count(x) > 1 else x for k, x in enumerate(labels)]


def _money(x):
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.0f}"


def _share(x):
    return "" if isinstance(x, float) and math.isnan(x) else f"{100 * x:.1f} %"


def _points(x):
    return "" if isinstance(x, float) and math.isnan(x) else f"{100 * x:+.1f}"


def _signed(x):
    return "" if isinstance(x, float) and math.isnan(x) else f"{x:+,.0f}"


def format_structure(label, table) -> str:
    """A structure as the command prints it."""
    shown = pd.DataFrame({
        "customers": table["customers"].map(lambda x: f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"),
        "customer share": table["customer_share"].map(_share),
        "equity": table["equity"].map(_money),
        "equity share": table["equity_share"].map(_share),
        "average": table["average"].map(_money),
    }, index=table.index)
    if not table["pv_share"].isna().all():
        for kind in ("pv", "ppv", "cv", "kv", "tv", "iv"):
            shown[kind.upper() if kind != "iv" else "Iv"] = table[f"{kind}_share"].map(_share)
    return f"Structure of {label}:\n{shown.to_string()}"


def format_comparison(part) -> str:
    """One comparison (from -> to) as the command prints it."""
    frame = part.set_index("type")
    shown = pd.DataFrame({
        "customers": frame["customers_change"].map(_signed),
        "customer share (pts)": frame["customer_share_change"].map(_points),
        "equity share (pts)": frame["equity_share_change"].map(_points),
        "average": frame["average_change"].map(_signed),
        "equity": frame["equity_change"].map(_signed),
        "volume effect": frame["volume_effect"].map(_signed),
        "mix effect": frame["mix_effect"].map(_signed),
        "value effect": frame["value_effect"].map(_signed),
    }, index=frame.index)
    first = part.iloc[0]
    return (f"Change from {first['from']} to {first['to']} (shares in percentage points; "
            f"volume + mix + value effect = change of equity, per type):\n{shown.to_string()}")


def _records(frame):
    def plain(v):
        if isinstance(v, (np.integer,)):
            return int(v)
        if isinstance(v, (float, np.floating)):
            return None if np.isnan(v) else float(v)
        return v

    return [{str(k): plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def compare_files(inputs, *, config=None, out=None, sheet=None, batch_size=None,
                  against="previous", progress=False) -> int:
    """Print the structure of each input and the comparisons; write them with ``out``.

    Returns the exit code (0). Bad input raises :class:`CustomerEquityError` naming
    the file (and the row and column of a customer table).
    """
    if out is not None:
        suffix = Path(out).suffix.lower()
        if suffix not in OUT_FORMATS:
            raise CustomerEquityError(str(out), "comparing inputs writes " + " or ".join(OUT_FORMATS)
                                      + " (the comparison table, or the structures and the comparison)")
        check_writable(out)  # before any work: a folder, a missing folder, a read-only file
        if any(Path(out).resolve() == Path(p).resolve() for p in inputs):
            raise CustomerEquityError(str(out), "is one of the inputs; choose another output file")
    labels = _labels(inputs)
    tables = [read_structure(p, config, sheet=sheet, batch_size=batch_size, progress=progress)
              for p in inputs]
    comparison = compare_structures(tables, labels, against=against)
    for label, path, table in zip(labels, inputs, tables):
        print(format_structure(f"{label} ({path})" if label != str(path) else label, table))
        print()
    for _, part in comparison.groupby(["from", "to"], sort=False):
        print(format_comparison(part))
        print()
    if out is not None:
        with atomic_path(out) as tmp:
            if Path(out).suffix.lower() == ".csv":
                comparison.to_csv(tmp, index=False)
            else:
                data = {"structures": {label: {str(t): row for t, row in
                                               zip(table.index, _records(table))}
                                       for label, table in zip(labels, tables)},
                        "comparison": _records(comparison)}
                tmp.write_text(json.dumps(data, indent=2, allow_nan=False), encoding="utf-8")
        print(f"Comparison written to {out}")
    return 0
