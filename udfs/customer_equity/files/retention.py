"""``customer-equity retention-fit SURVIVORS``: a contract business's survivor table to the
shifted-beta-geometric retention curve, and that curve to retention-based lifetime values.

The table (``.csv``, ``.xlsx`` or ``.parquet``) has a header row and a row per cohort: an
optional first column of labels (a column headed ``cohort``, or any first column holding
text: the cohort's name or its year), then the cohort's size and
the customers still active at the start of each later period; a blank after a cohort's last
observed period (a younger cohort is shorter). See
:func:`customer_equity.model.forecast.survivor_counts`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from .._files import atomic_path
from ..errors import CustomerEquityError
from ..reading import PLACEHOLDERS, canonical, excel_error, is_blank

__all__ = ["RetentionFit", "read_survivors", "retention_fit_file"]

OUTPUTS = (".csv", ".json", ".xlsx")

#: Headers of a first column of cohort labels, even when the labels are numbers (years).
LABEL_HEADERS = frozenset(canonical(h) for h in ("cohort", "cohorts", "label", "name", "group",
                                                  "segment", "acquired", "start"))


def _number(value):
    """A survivor count as a float, NaN for a blank, None for anything else."""
    if is_blank(value):
        return math.nan
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        try:
            return float(text)
        except ValueError:
            return None
    return None


def read_survivors(path, sheet=None):
    """``(table, labels, header)`` of a survivor file: the counts as floats (NaN blank), the
    cohorts' labels (their row numbers without a label column) and the period headers."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise CustomerEquityError(str(path), "no such file")
    if suffix == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                            sep=None, engine="python")
    elif suffix == ".xlsx":
        frame = pd.read_excel(path, sheet_name=sheet or 0, dtype=object)
    elif suffix == ".parquet":
        frame = pd.read_parquet(path)
    else:
        raise CustomerEquityError(str(path), "unknown format; give a .csv, .xlsx or .parquet file")
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise CustomerEquityError(str(path), "no cohorts: expected a header row and a row per "
                                  "cohort (its size, then the customers still active each period)")
    header = [str(c) for c in frame.columns]
    cells = frame.to_numpy(dtype=object)
    first = [_number(v) for v in cells[:, 0]]
    # the labels: a first column headed "cohort" (its years may be numbers), or one with text
    labelled = frame.shape[1] > 1 and (canonical(header[0]) in LABEL_HEADERS
                                       or any(v is None for v in first))
    labels = ([str(v) if not is_blank(v) else f"row {k + 2}" for k, v in enumerate(cells[:, 0])]
              if labelled else [f"cohort {k + 1}" for k in range(len(cells))])
    body = cells[:, 1:] if labelled else cells
    table = np.empty(body.shape)
    for (r, c), value in np.ndenumerate(body):
        number = _number(value)
        if number is None:
            shown = value.strip() if isinstance(value, str) else value
            rule = ("the cell holds the Excel error " + excel_error(value) if excel_error(value)
                    else f"{shown!r} stands for no value: leave the cell blank after a cohort's "
                    "last period" if isinstance(value, str) and value.strip() in PLACEHOLDERS
                    else "expected a number of customers")
            raise CustomerEquityError(str(path), rule, row=r + 2,
                                      column=header[c + (1 if labelled else 0)],
                                      **({} if excel_error(value) else {"value": shown}))
        table[r, c] = number
    return table, labels, header[1:] if labelled else header


@dataclasses.dataclass
class RetentionFit:
    """What :func:`retention_fit_file` computed: the fit, the table, the curve and the values."""

    fit: object
    table: np.ndarray
    labels: list
    source: str
    curve: pd.DataFrame
    margin: float | None = None
    rate: float | None = None
    timing: str = "end"

    def to_dict(self) -> dict:
        curve = {k: [None if isinstance(v, float) and not math.isfinite(v) else v for v in values]
                 for k, values in self.curve.astype(object).to_dict(orient="list").items()}
        out = {"input": self.source, "model": "sbg", **self.fit.to_dict(),
               "cohorts": len(self.labels), "curve": curve}
        if self.margin is not None:
            out.update(margin=self.margin, rate=self.rate, timing=self.timing)
        return out

    def report(self) -> str:
        from ..model.forecast import sbg_survival

        f = self.fit
        lines = [f"Retention from {self.source}: {len(self.labels)} cohort(s), "
                 f"{f.customers:,} customers",
                 "", "Shifted-beta-geometric retention (Fader & Hardie 2007): log-likelihood "
                 f"{f.log_likelihood:,.4f}, BIC {f.bic:,.2f}"]
        for k, v in f.params.items():
            se = f.standard_errors[k]
            lines.append(f"  {k:<6} {v:>12.6g}  (se {se:.3g})" if math.isfinite(se)
                         else f"  {k:<6} {v:>12.6g}  (se n/a)")
        width = self.table.shape[1]
        S = sbg_survival(f, width - 1)
        rows = []
        for label, counts in zip(self.labels, self.table):
            seen = ~np.isnan(counts)
            fitted = counts[0] * S
            rows.append([label] + [f"{int(round(c)):,} ({m:,.0f})" if s else "" for c, m, s
                                   in zip(counts, fitted, seen)])
        shown = pd.DataFrame(rows, columns=["cohort"] + [str(t) for t in range(width)])
        lines += ["", "Survivors at the start of each period, actual (fitted)",
                  shown.to_string(index=False)]
        c = self.curve
        lines += ["", "Retention curve: r_t = (beta + t - 1)/(alpha + beta + t - 1), S(t) the share "
                  "of a cohort still active"]
        table = pd.DataFrame({"period": c["period"], "retention": c["retention"].map(_fmt3),
                              "survival": c["survival"].map("{:.4f}".format)})
        if "ltv" in c:
            table[f"LTV at {self.rate:g} ({self.timing})"] = c["ltv"].map("{:,.2f}".format)
        lines.append(table.to_string(index=False))
        if "ltv" in c:
            lines += ["", (f"Lifetime value of a customer just acquired, margin {self.margin:g} a "
                      f"period at {self.rate:g} a period ({self.timing}-of-period): "
                      f"{c['ltv'].iloc[0]:,.2f}; with the papers' constant retention at period 1's "
                      f"rate ({c['retention'].iloc[1]:.3f}): {self._constant_ltv():,.2f}"),
                      "  the LTV column is that of a customer at the start of the period, after "
                      "period renewals (margin x DERL)"]
        return "\n".join(lines)

    def _constant_ltv(self):
        from ..model import ltv_retention

        return ltv_retention(self.margin, float(self.curve["retention"].iloc[1]), self.rate,
                             timing=self.timing)


def _fmt3(x):
    return "" if pd.isna(x) else f"{x:.4f}"


def retention_fit_file(path, *, periods=None, margin=None, rate=None, timing="end", out=None,
                       sheet=None) -> RetentionFit:
    """Fit sBG to the survivor table in ``path``; the curve for ``periods`` periods.

    Parameters
    ----------
    path : str or path
        ``.csv``, ``.xlsx`` or ``.parquet`` survivor table (see the module).
    periods : int, optional
        Periods of the curve (default: the table's, and five more).
    margin, rate : float, optional
        Margin per period of an active customer and discount rate per period: with both,
        the retention-based lifetime value at each tenure
        (:func:`customer_equity.model.forecast.sbg_ltv`, no end).
    timing : {"end", "begin"}
    out : str or path, optional
        ``.csv`` or ``.xlsx`` (the curve) or ``.json`` (fit and curve), written atomically.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "regular.csv")
    >>> _ = open(path, "w").write("cohort,0,1,2,3,4,5,6,7\\nregular,1000,631,468,382,326,289,262,241\\n")
    >>> fit = retention_fit_file(path, periods=12)
    >>> round(fit.fit["alpha"], 3), round(fit.fit["beta"], 3), len(fit.curve)
    (0.704, 1.182, 13)
    """
    from ..model.forecast import fit_sbg, sbg_ltv, sbg_retention, sbg_survival

    if out is not None and Path(out).suffix.lower() not in OUTPUTS:
        raise CustomerEquityError(str(out), "unknown output format; give a file ending in "
                                  + ", ".join(OUTPUTS))
    if (margin is None) != (rate is None):
        raise CustomerEquityError("--margin" if margin is None else "--rate",
                                  "give both --margin and --rate for the lifetime values")
    table, labels, header = read_survivors(path, sheet)
    try:
        fit = fit_sbg(table)
    except CustomerEquityError as err:  # the place in the file: its row, the period's header
        row = None if err.row is None else err.row + 1  # below the header row
        column = None if err.column is None else header[err.column - 1]
        if len(table) == 1 and err.column is None and err.row is not None:
            row, column = 2, header[err.row - 1]  # one cohort: a position along the row
        raise CustomerEquityError(str(path), err.rule, row=row, column=column,
                                  **({"value": err.value} if err.has_value else {})) from None
    horizon = table.shape[1] - 1 + 5 if periods is None else int(periods)
    if horizon < 1:
        raise CustomerEquityError("--periods", "must be a whole number >= 1", value=periods)
    curve = pd.DataFrame({"period": np.arange(horizon + 1),
                          "retention": np.r_[np.nan, sbg_retention(fit, horizon)],
                          "survival": sbg_survival(fit, horizon)})
    if margin is not None:
        curve["ltv"] = sbg_ltv(fit, margin, rate, renewals=curve["period"].to_numpy(), timing=timing)
    result = RetentionFit(fit=fit, table=table, labels=labels, source=str(path), curve=curve,
                          margin=margin, rate=rate, timing=timing)
    if out is not None:
        _write(out, result)
    return result


def _write(out, result):
    suffix = Path(out).suffix.lower()
    with atomic_path(out) as tmp:
        if suffix == ".json":
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(result.to_dict(), fh, indent=2, allow_nan=False, default=_plain)
                fh.write("\n")
        elif suffix == ".csv":
            result.curve.to_csv(tmp, index=False)
        else:
            with pd.ExcelWriter(tmp, engine="openpyxl") as book:
                result.curve.to_excel(book, index=False, sheet_name="Retention")


def _plain(x):
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(type(x).__name__)
