"""Refresh on the templates made of formulas (what-if, from-transactions, LTV models): their
inputs checked, as the CE_ functions read them, before Refresh says "Recalculated".

Excel recalculates these templates by itself; what Refresh adds is a check of every yellow
cell with the readings of :mod:`customer_equity.reading` and the core's rules, so that "five
points" typed as a retention change, a text date or a customer id met twice is refused with
its cell instead of leaving a #VALUE! (or a silently wrong total) somewhere else. Each check
returns ``{}``: Python writes nothing in these workbooks.

Light on purpose, like :mod:`.measurement_refresh`: no XlsxWriter, no sheet builders.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import model as core
from ... import reading
from ...errors import CustomerEquityError
from ...model import labels
from ...model.forecast.data import UNITS, day_to_date, summary_data
from ...model.forecast.value import check_horizon
from ..book import RefreshError
from .measurement_refresh import check_unique_ids

__all__ = ["check_what_if", "check_transactions", "check_ltv_models", "what_if_setting_names"]


def _flat(inputs, name):
    return [v for row in inputs[name] for v in (row if isinstance(row, (list, tuple)) else [row])]


def _at(name, err, row=None, column=None):
    """A core refusal about one of ``name``'s cells as a RefreshError on that cell."""
    got = f" (it holds {err.value!r})" if err.has_value else ""
    return RefreshError(f"{name}: {err.rule}{got}. Correct it, then press Refresh again.", name,
                        row=err.row if row is None else row, column=column)


def _number(v, name, row=None, blank=None, low=None, high=None, rule=None):
    """One cell as a number (``blank`` for a blank cell; refused when ``blank`` is None)."""
    if reading.is_blank(v):
        if blank is None:
            raise RefreshError(f"{name} is blank: type a number there.", name, row)
        return blank
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _at(name, reading.not_a_number(v, name), row=row)
    if not np.isfinite(v) or (low is not None and v < low) or (high is not None and v > high):
        raise RefreshError(f"{name} holds {v!r}: {rule}.", name, row)
    return float(v)


def _word(v, name, choices):
    text = v.strip().lower() if isinstance(v, str) else v
    if text not in choices:
        raise RefreshError(f"{name} holds {v!r}: choose one of {', '.join(map(str, choices))}.", name)
    return text


# --- what-if/2 ---------------------------------------------------------------------------


def what_if_setting_names(config=None):
    """The setting names of the what-if template's Settings rows, in order ("" continues a
    list): the column beside ``ce_in_wi_setting_values``, fixed by the template's layout."""
    config = config or core.sample_config()
    income = config.transaction_income
    income = [] if income is None else list(income) if isinstance(income, (list, tuple)) else [income]
    return (["rate", "timing", "iv", "classify_by"] + [f"weights.{k}" for k in config.weights]
            + ["cutoffs" if k == 0 else "" for k in range(len(config.cutoffs))]
            + ["transaction_income" if k == 0 else "" for k in range(len(income))])


def _settings(inputs):
    from ..cells import settings

    values = _flat(inputs, "ce_in_wi_setting_values")
    names = what_if_setting_names()
    if len(names) != len(values):
        raise RefreshError(f"ce_in_wi_setting_values has {len(values)} cells where this template "
                           f"has {len(names)} settings: point the name back to the Settings values "
                           "(Formulas > Name Manager).", "ce_in_wi_setting_values")
    try:
        return settings([[n, v] for n, v in zip(names, values)], "config")
    except CustomerEquityError as err:
        key = err.argument.split(": ", 1)[-1]
        row = err.row or (names.index(key) + 1 if key in names else None)
        raise _at("ce_in_wi_setting_values", err, row=row) from None


def _per_type(inputs, name, blank, low, high, rule):
    values = _flat(inputs, name)
    return [_number(v, name, k + 1, blank, low, high, rule) for k, v in enumerate(values)]


def _moves(inputs):
    out = {}
    for r, (src, dst, n) in enumerate(inputs["ce_in_wi_moves"], start=1):
        if all(reading.is_blank(v) for v in (src, dst, n)):
            continue
        for c, label in ((1, src), (2, dst)):
            if labels.type_code_of(label) is None:
                raise RefreshError(f"ce_in_wi_moves holds {label!r}: not a customer type (Lighthouse, "
                                   "Follower, Rational, Profit-seeking).", "ce_in_wi_moves", r, c)
        count = _number(n, "ce_in_wi_moves", r, low=0, rule="a number of customers must be >= 0")
        pair = (core.TYPES[labels.type_code_of(src)], core.TYPES[labels.type_code_of(dst)])
        out[pair] = out.get(pair, 0) + count
    return out or None


def _customers(inputs):
    try:
        return reading.table(inputs["ce_in_customers"], "customers", known=core.INPUT_COLUMNS)
    except CustomerEquityError as err:
        raise _at("ce_in_customers", err) from None


def _in_table(err, frame):
    """A core refusal about a column of the customer table, on its cell (header: row 1)."""
    if err.argument in frame.columns and err.row is not None:
        column = list(frame.columns).index(err.argument) + 1
        return _at("ce_in_customers", err, row=err.row + 1, column=column)
    return None


def check_what_if(inputs):
    """Refresh of ``what-if/2``: the customer table, the settings, every lever and the grid's
    settings read as CE_WHATIF and CE_WHATIF_GRID read them, and the scenario measured once
    (its refusals on their cells). Writes nothing."""
    frame = _customers(inputs)
    config = _settings(inputs)
    retention = _per_type(inputs, "ce_in_wi_retention_change", 0.0, -1, 1,
                          "a change of retention must lie in [-1, 1] (0.05 is five points)")
    margin = _per_type(inputs, "ce_in_wi_margin_change", 0.0, -1, 1,
                       "a change of unit margin must lie in [-1, 1] (0.01 is one point)")
    mix = _per_type(inputs, "ce_in_wi_mix", None if not all(map(reading.is_blank, _flat(
        inputs, "ce_in_wi_mix"))) else 0.0, 0, 1, "a share of the mix must lie in [0, 1]")
    mix = None if not any(mix) else mix
    rate = _number(_flat(inputs, "ce_in_wi_rate")[0], "ce_in_wi_rate", blank=np.nan, low=-1,
                   rule="a discount rate must be > -1")
    change = _number(_flat(inputs, "ce_in_wi_income_change")[0], "ce_in_wi_income_change",
                     blank=np.nan, low=-1, rule="an income change must be >= -1 (-100 %)")
    moves = _moves(inputs)
    from ..cells import LEVER_WORDS, lever_key

    for name in ("ce_in_wi_grid_row_lever", "ce_in_wi_grid_col_lever"):
        lever = _flat(inputs, name)[0]
        if not isinstance(lever, str) or lever_key(lever) not in core.LEVERS:
            raise RefreshError(f"{name} holds {lever!r}: choose one of "
                               f"{', '.join(LEVER_WORDS.get(k, k) for k in core.LEVERS)}.", name)
    for name in ("ce_in_wi_grid_rows", "ce_in_wi_grid_cols"):
        for k, v in enumerate(_flat(inputs, name)):
            _number(v, name, k + 1, blank=0.0, rule="expected a number")
    show = _flat(inputs, "ce_in_wi_grid_show")[0]
    if not reading.is_blank(show):
        _word(show, "ce_in_wi_grid_show", ("equity", "difference"))
    income = config.transaction_income
    if not np.isnan(change) and income is not None:
        income = [x * (1 + change) for x in (income if isinstance(income, (list, tuple)) else [income])]
    try:
        core.what_if(frame, config, retention_change=retention, margin_change=margin,
                     rate=None if np.isnan(rate) else rate,
                     transaction_income=income if not np.isnan(change) else None,
                     moves=moves, type_mix=mix)
    except CustomerEquityError as err:
        located = _in_table(err, frame)
        if located is not None:
            raise located from None
        name = {"retention_change": "ce_in_wi_retention_change", "margin_change": "ce_in_wi_margin_change",
                "type_mix": "ce_in_wi_mix", "moves": "ce_in_wi_moves", "rate": "ce_in_wi_rate"}.get(
            err.argument.split(",")[0])
        if name is not None:
            raise _at(name, err) from None
        raise
    return {}


# --- transactions/1 ----------------------------------------------------------------------


def _log(inputs):
    columns = [_flat(inputs, n) for n in ("ce_in_log_customer", "ce_in_log_date", "ce_in_log_amount")]
    return pd.DataFrame({"customer_id": np.asarray(columns[0], dtype=object),
                         "date": np.asarray(columns[1], dtype=object),
                         "amount": np.asarray(columns[2], dtype=object)})


_LOG_NAMES = {"customer_id": "ce_in_log_customer", "date": "ce_in_log_date", "amount": "ce_in_log_amount",
              "calibration_end": "ce_in_calibration_end", "observation_end": "ce_in_observation_end"}


def check_transactions(inputs):
    """Refresh of ``transactions/1``: the settings, the log read as CE_LOG_SUMMARY reads it
    (with its rules: an end after the log's last date refused), the horizon's cost, and the
    customer table (types known, each id once). Writes nothing."""
    unit = _word(_flat(inputs, "ce_in_unit")[0], "ce_in_unit", tuple(UNITS))
    ends = {}
    for key in ("calibration_end", "observation_end"):
        name = _LOG_NAMES[key]
        v = _flat(inputs, name)[0]
        try:
            ends[key] = None if reading.is_blank(v) else reading.date_days(v, name)
        except CustomerEquityError as err:
            raise _at(name, err) from None
    horizon = _number(_flat(inputs, "ce_in_horizon")[0], "ce_in_horizon", low=1,
                      rule="a horizon is a whole number of units >= 1")
    if horizon != int(horizon):
        raise RefreshError(f"ce_in_horizon holds {horizon!r}: a horizon is a whole number of units.",
                           "ce_in_horizon")
    _number(_flat(inputs, "ce_in_margin")[0], "ce_in_margin", rule="expected a number")
    _number(_flat(inputs, "ce_in_yearly_rate")[0], "ce_in_yearly_rate", low=-1 + 1e-12,
            rule="a discount rate must be > -1")
    for k, v in enumerate(_flat(inputs, "ce_in_time_horizons")):
        _number(v, "ce_in_time_horizons", k + 1, low=0, rule="a horizon must be >= 0")
    try:
        summary = summary_data(_log(inputs), unit=unit,
                               **{k: None if d is None else day_to_date(d) for k, d in ends.items()})
        check_horizon(int(horizon), len(summary.customers), name="horizon")
    except CustomerEquityError as err:
        name = _LOG_NAMES.get(err.argument, "ce_in_horizon" if err.argument == "horizon" else None)
        if name is None:
            raise
        raise _at(name, err) from None
    ids = _flat(inputs, "ce_in_customer_id")
    check_unique_ids(ids, "ce_in_customer_id")
    for k, (i, t) in enumerate(zip(ids, _flat(inputs, "ce_in_type")), start=1):
        if not reading.is_blank(i) and labels.type_code_of(t) is None:
            raise RefreshError(f"ce_in_type holds {t!r}: not a customer type (Lighthouse, Follower, "
                               "Rational, Profit-seeking).", "ce_in_type", k)
    return {}


# --- ltv-models/1 ------------------------------------------------------------------------


def check_ltv_models(inputs):
    """Refresh of ``ltv-models/1``: every input a number (rates > -1, shares and retention in
    [0, 1], periods whole and >= 0). A blank is 0 in a row of values per period, where the
    models read it so, and an infinite horizon in the sensitivity table; elsewhere refused."""
    for name in inputs:
        key = name.lower()
        cells_ = _flat(inputs, name)
        many = len(cells_) > 1
        blank = 0.0 if many or key.endswith(("_growth", "_cost", "sens_periods")) else None
        if key.endswith(("_rate", "_rates")):
            low, high, rule = -1 + 1e-12, None, "a discount rate must be > -1"
        elif key.endswith(("_share", "_retention")):
            low, high, rule = 0, 1, "must lie in [0, 1]"
        elif key.endswith("_periods"):
            low, high, rule = 0, None, "a number of periods must be >= 0"
        else:
            low, high, rule = None, None, "expected a number"
        for k, v in enumerate(cells_):
            x = _number(v, name, k + 1 if many else None, blank, low, high, rule)
            if key.endswith("_periods") and x != int(x):
                raise RefreshError(f"{name} holds {x!r}: a number of periods is whole.", name)
    return {}
