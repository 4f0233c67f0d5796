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

The report shows each structure (:func:`~customer_equity.model.structure.structure_table`),
then each comparison (:func:`~customer_equity.model.structure.compare_structures`):
differences of shares in percentage points and the change of equity split into
volume, mix and value effects, which add up exactly. ``--out`` writes the
comparison (``.csv``) or the structures and the comparison (``.json``), to a
temporary file renamed at the end.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from .._files import atomic_path, check_writable
from ..errors import CustomerEquityError
from ..model import MeasureConfig, compare_structures, structure_from_counts, structure_table
from ..model.types import TYPES, type_codes

__all__ = ["OUT_FORMATS", "DecisionRun", "compare_files", "load_customers", "prospects_file",
           "read_structure", "retention_file", "whatif_file"]

#: What ``--out`` can write when two or more inputs are compared.
OUT_FORMATS = (".csv", ".json")


@dataclasses.dataclass
class DecisionRun:
    """What a decisions job on files computed.

    Attributes
    ----------
    tables : dict of pandas.DataFrame
        Its tables by name (``structures`` and ``comparison``; ``whatif`` or ``grid``;
        ``watch`` and ``at_stake``; ``prospects`` and ``weights``).
    text : str
        The report as the command prints it.
    out : str or None
        The file written (``--out``), if any.
    result : object
        The core's result where there is one (the :class:`~customer_equity.WhatIf`).
    """

    tables: dict
    text: str
    out: str | None = None
    result: object = None

    def report(self) -> str:
        """The readable report."""
        return self.text


def _per_type(value, path, key, missing=0.0):
    """Customers or averages per type from a mapping of type to number or a list of 4; a type
    the mapping leaves out is ``missing`` (no customers; no average, refused where there are)."""
    if isinstance(value, dict):
        out = np.full(4, missing)
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
        average = _per_type(data["average"], path, "average", missing=math.nan)
        try:
            return structure_from_counts(customers, average)
        except CustomerEquityError as err:
            raise err.relocated(argument=f"{path}: {err.argument}") from None
    raise CustomerEquityError(str(path), "expected a saved result of 'measure --out FILE.json' "
                              '(by_type, composition) or an estimate {"customers": ..., '
                              '"average": ...} per type')


def _csv_table(path, **read):
    """A CSV as the one reading reads text (:mod:`customer_equity.reading`): an empty cell is a
    blank, a number written as text is that number, anything else stays text, so that the
    core refuses it at its row ("n/a" is never read as a blank, "abc" never turns its column
    into text)."""
    frame = pd.read_csv(path, encoding="utf-8-sig", sep=None, engine="python", dtype=str,
                        keep_default_na=False, na_values=[""], **read)
    for c in frame.columns:
        text = frame[c]
        numbers = pd.to_numeric(text.str.strip(), errors="coerce")
        if numbers.notna().sum() == text.notna().sum():
            frame[c] = numbers.astype(float)
        elif numbers.notna().any():
            frame[c] = text.where(numbers.isna(), numbers).astype(object)
    return frame


def _estimate_csv(path):
    """A .csv of customers and average (or equity) per type, or None for a customer table."""
    try:
        header = _csv_table(path, nrows=0)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError):
        return None  # the customer-table reader names what is wrong
    columns = {str(c).strip().lower(): c for c in header.columns}
    if "customers" not in columns or not ({"average", "equity"} & set(columns)):
        return None
    frame = _csv_table(path)
    frame = frame.rename(columns={c: str(c).strip().lower() for c in frame.columns})
    try:
        return structure_table(frame[[c for c in ("type", "customers", "average", "equity")
                                      if c in frame.columns]])
    except CustomerEquityError as err:
        if err.argument in frame.columns:  # the file's row (the header is row 1) and column
            kwargs = {"value": err.value} if err.has_value else {}
            raise CustomerEquityError(str(path), err.rule, row=None if err.row is None else err.row + 1,
                                      column=err.argument, **kwargs) from None
        raise err.relocated(argument=f"{path}: {err.argument}") from None


def read_structure(path, config: MeasureConfig | None = None, *, sheet=None, batch_size=None,
                   progress=None) -> pd.DataFrame:
    """The structure table of one input of ``measure A B``: a customer table, a saved result or an estimate.

    Parameters
    ----------
    path : str or path
        A customer table (``.csv``, ``.parquet``, ``.xlsx``), a saved ``.json``
        result, or an estimate (``.json`` or ``.csv`` of customers and average per type).
    config : MeasureConfig, optional
        How a customer table is measured (default :class:`MeasureConfig`).
    sheet, batch_size, progress
        As in :func:`customer_equity.files.batch.measure_file`.

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
    # round() first: a difference of -1e-10 (float noise) is 0, not "-0"
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{round(x):,}"


def _share(x):
    return "" if isinstance(x, float) and math.isnan(x) else f"{100 * x:.1f} %"


def _points(x):
    return "" if isinstance(x, float) and math.isnan(x) else f"{100 * x:+.1f}"


def _signed(x):
    return "" if isinstance(x, float) and math.isnan(x) else f"{round(x):+,}"


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


def _plain(v):
    """A cell as JSON has it: NaN is null, numpy numbers plain."""
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if np.isnan(v) else float(v)
    return v


def _records(frame):
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def compare_files(inputs, *, config=None, out=None, sheet=None, batch_size=None,
                  against="previous", progress=None) -> DecisionRun:
    """The structure of each input and the comparisons; written to ``out`` when given.

    Bad input raises :class:`CustomerEquityError` naming the file (and the row and column
    of a customer table).
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
    text = [format_structure(f"{label} ({path})" if label != str(path) else label, table)
            for label, path, table in zip(labels, inputs, tables)]
    text += [format_comparison(part) for _, part in comparison.groupby(["from", "to"], sort=False)]
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
    return DecisionRun(tables={"structures": dict(zip(labels, tables)), "comparison": comparison},
                       text="\n\n".join(text), out=None if out is None else str(out))


# --------------------------------------------------------------------------- whatif, retention, prospects

def load_customers(path, config, *, sheet=None, batch_size=None):
    """A whole customer table in memory, validated as ``measure INPUT`` validates it.

    Errors name the file, the row as the user sees it and the column (the batch
    readers of :mod:`customer_equity.files.batch`); the table then holds the columns the
    measurement reads, under their canonical names.
    """
    from .batch import DEFAULT_BATCH_SIZE, measure_file
    from .inputs import open_source, prepare

    size = batch_size or DEFAULT_BATCH_SIZE
    measure_file(str(path), config, batch_size=size, sheet=sheet)  # errors named by file, row, column
    source = open_source(str(path), config, sheet)
    frames = [prepare(raw, source.spec) for raw in source.batches(size)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _raw_table(path, sheet=None):
    """Any table as it is in the file (every column, e.g. the traits of prospects)."""
    path = Path(path)
    if not path.is_file():
        raise CustomerEquityError(str(path), "no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return _csv_table(path)
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix == ".xlsx":
            return pd.read_excel(path, sheet_name=sheet or 0)
    except (ValueError, UnicodeDecodeError, ImportError, pd.errors.ParserError) as err:
        raise CustomerEquityError(str(path), f"cannot read the table: {err}") from None
    raise CustomerEquityError(str(path), "unknown input format; give a .csv, .parquet or .xlsx file")


def _in_file(path, frame):
    """Point a core error about a column of ``frame`` at the file, its row (after the header) and column."""
    import contextlib

    @contextlib.contextmanager
    def located():
        try:
            yield
        except CustomerEquityError as err:
            if err.argument in frame.columns:
                kwargs = {"value": err.value} if err.has_value else {}
                raise CustomerEquityError(str(path), err.rule, row=None if err.row is None else err.row + 1,
                                          column=err.argument, **kwargs) from None
            raise

    return located()


def _write(out, frames: dict, csv_key: str):
    """``--out``: one table as .csv, or every table as .json; temporary file, then renamed."""
    with atomic_path(out) as tmp:
        if Path(out).suffix.lower() == ".csv":
            frames[csv_key].to_csv(tmp)
        else:
            data = {k: {"columns": [str(c) for c in f.columns],
                        "index": [_plain(v) for v in f.index],
                        "rows": _records(f)} for k, f in frames.items()}
            tmp.write_text(json.dumps(data, indent=2, allow_nan=False), encoding="utf-8")


def _check_out(out, inputs):
    if out is None:
        return
    if Path(out).suffix.lower() not in OUT_FORMATS:
        raise CustomerEquityError(str(out), "unknown output format; give a file ending in "
                                  + " or ".join(OUT_FORMATS))
    check_writable(out)
    if any(Path(out).resolve() == Path(p).resolve() for p in inputs if p is not None):
        raise CustomerEquityError(str(out), "is one of the inputs; choose another output file")


def _money_table(frame):
    return frame.apply(lambda c: c.map(lambda x: _money(float(x))))


def _shown(value):
    """A lever as typed: moves as FROM:TO:N, a blank base retention as an empty place."""
    if isinstance(value, dict):
        return ",".join(f"{a}:{b}:{n:g}" for (a, b), n in value.items())
    if isinstance(value, list):
        return ",".join("" if isinstance(v, float) and math.isnan(v) else f"{v:g}" for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def whatif_file(input, *, config=None, sheet=None, batch_size=None, levers=None, grid=None,
                result="equity", out=None) -> DecisionRun:
    """``customer-equity whatif INPUT``: equity under the levers (or a grid of two levers)."""
    from ..model import what_if, what_if_grid

    _check_out(out, [input])
    levers = {k: v for k, v in (levers or {}).items() if v is not None}
    if not levers and grid is None:
        raise CustomerEquityError("whatif", "give a lever (--retention-change, --share-change, "
                                  "--loyalty-change, --type-mix, --new-customers, --moves, "
                                  "--relabel-mix, --margin-change, --rate, --transaction-income) "
                                  "or --grid")
    config = config or MeasureConfig()
    table = load_customers(input, config, sheet=sheet, batch_size=batch_size)
    with _in_file(input, table):
        if grid is not None:
            (row_lever, row_values), (col_lever, col_values) = grid
            frame = what_if_grid(table, config, row_lever, row_values, col_lever, col_values,
                                 result=result, base=None)
            text = (f"Customer equity{' difference' if result == 'difference' else ''} by "
                    f"{row_lever} (rows) and {col_lever} (columns), {input}:\n"
                    + _money_table(frame).to_string())
            if out is not None:
                _write(out, {"grid": frame}, "grid")
            return DecisionRun({"grid": frame}, text, None if out is None else str(out))
        w = what_if(table, config, **levers)
    shown = ", ".join(f"{k} {_shown(v)}" for k, v in levers.items())
    text = [f"What-if for {input} ({shown}):", _money_table(w.table).to_string(),
            f"\nCustomer equity {_money(w.before.equity)} -> {_money(w.equity)} "
            f"({_signed(w.difference)})"]
    if w.dropped_income:
        text.append(f"Note: {_money(w.dropped_income)} of transaction income falls in periods without "
                    "carriers after the change and is not earned.")
    if out is not None:
        _write(out, {"whatif": w.table}, "whatif")
    return DecisionRun({"whatif": w.table}, "\n".join(text), None if out is None else str(out), w)


def retention_file(input, *, config=None, sheet=None, batch_size=None, point=0.01, top=10,
                   out=None) -> DecisionRun:
    """``customer-equity retention INPUT``: the retention watch and the customers at stake."""
    from ..model import customers_at_stake, measure, retention_watch

    _check_out(out, [input])
    config = config or MeasureConfig()
    table = load_customers(input, config, sheet=sheet, batch_size=batch_size)
    with _in_file(input, table):
        base = measure(table, config)
        watch = retention_watch(table, config, point=point, base=base)
        stake = customers_at_stake(base, top=top)
    shown = pd.DataFrame({
        "customers": watch["customers"].map(lambda x: f"{x:,.0f}"),
        "mean periods": watch["mean_periods"].map(lambda x: "" if math.isnan(x) else f"{x:.2f}"),
        "retention": watch["retention"].map(_share),
        "equity": watch["equity"].map(_money),
        f"at stake (-{100 * point:g} pt)": watch["at_stake"].map(_money),
        "share": watch["at_stake_share"].map(_share),
        "at risk": watch["at_risk"].map(lambda x: "" if math.isnan(x) else f"{x:,.0f}"),
        "at-risk equity": watch["at_risk_equity"].map(_money),
    }, index=watch.index)
    text = [f"Retention watch, {input}:", shown.to_string(),
            f"\nThe {len(stake)} customers whose loss costs most (key customers with fewer than "
            "three links first):", stake.to_string(index=False, float_format=lambda x: f"{x:,.0f}")]
    tables = {"watch": watch, "at_stake": stake.set_index("rank")}
    if out is not None:
        _write(out, tables, "watch")
    return DecisionRun(tables, "\n".join(text), None if out is None else str(out))


def prospects_file(prospects, *, customers, config=None, sheet=None, batch_size=None, traits=None,
                   best=0.2, neighbours=10, cutoff=None, avoid_share=0.2, top=20,
                   out=None) -> DecisionRun:
    """``customer-equity prospects PROSPECTS --customers FILE``: weights, ranking, customers to avoid."""
    from ..model import measure, prospect_weights, screen_prospects

    _check_out(out, [prospects, customers])
    config = config or MeasureConfig()
    table = load_customers(customers, config, sheet=sheet, batch_size=batch_size)
    with _in_file(customers, table):
        m = measure(table, config)
    current = _raw_table(customers, sheet)
    pros = _raw_table(prospects)
    if traits is None:
        ids = {"customer_id", "prospect_id", "id"}
        traits = [c for c in pros.columns if c in current.columns and str(c).lower() not in ids]
        if not traits:
            raise CustomerEquityError(str(prospects), "no trait column in common with the customers "
                                      f"({customers}); name them with --traits")
    for name, frame in ((customers, current), (prospects, pros)):
        missing = [t for t in traits if t not in frame.columns]
        if missing:
            raise CustomerEquityError(str(name), "no such trait column", value=missing[0])
    with _in_file(customers, current):
        weights = prospect_weights(current, m, traits=traits, best=best)
    with _in_file(prospects, pros):
        ranked = screen_prospects(pros, current, m, traits=traits, best=best, neighbours=neighbours,
                                  cutoff=cutoff, avoid_share=avoid_share)
    avoid = int(ranked["avoid"].sum())
    text = [f"Trait weights (best {100 * best:g} % of {len(current):,} current customers by "
            "lifetime value against the rest):", weights.round(4).to_string(),
            f"\nProspects ranked ({len(ranked):,}; {avoid:,} to avoid)"
            + (f", the first {top}:" if top and len(ranked) > top else ":"),
            (ranked.head(top) if top else ranked).to_string(index=False,
                                                             float_format=lambda x: f"{x:,.2f}")]
    tables = {"prospects": ranked.set_index("rank"), "weights": weights.to_frame()}
    if out is not None:
        _write(out, tables, "prospects")
    return DecisionRun(tables, "\n".join(text), None if out is None else str(out))
