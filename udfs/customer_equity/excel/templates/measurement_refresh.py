"""The Refresh button on the measurement template: Python's ``measure()`` on its inputs.

Light on purpose: pressing Refresh imports this module, the contract and the core, never
XlsxWriter or the sheet builders.
"""

from __future__ import annotations

import math

import pandas as pd

from .. import cells
from ... import reading
from ...errors import CustomerEquityError
from ...model import MeasureConfig, measure
from ..book import RefreshError
from .measurement_contract import stamp

#: Columns of the customer table that hold text or flags, not numbers.
TEXT_COLUMNS = ("customer_id", "stage", "type", "tv_carrier")


def as_table(frame, first):
    """A summary frame as CE_EQUITY_TABLE / CE_COMPOSITION spill it (:func:`customer_equity.excel.cells.table`)."""
    return cells.table(frame, first, words_header=True)


def refresh(inputs):
    """Refresher for ``measurement/1``: Python's measure() on the workbook's inputs.

    Parameters
    ----------
    inputs : Mapping[str, list[list]]
        The values of the workbook's ``ce_in_`` names as 2-D lists: ``ce_in_customers``
        (the table with its header row), ``ce_in_rate``, ``ce_in_timing``, ``ce_in_iv``,
        ``ce_in_classify_by``, ``ce_in_weight_names``, ``ce_in_weights``,
        ``ce_in_cutoffs``, ``ce_in_transaction_income`` and ``ce_in_tier_cutoffs``.

    Returns
    -------
    dict
        ``ce_out_by_type``: the equity table (6 x 5 with its header row, as
        CE_EQUITY_TABLE spills it); ``ce_out_stamp``: one cell saying what was measured.

    Raises
    ------
    RefreshError
        An input that is blank, text or TRUE/FALSE where a number belongs, naming it.
    """
    customers, config = inputs_to_measurement(inputs)
    m = measure(customers, config)
    return {"ce_out_by_type": as_table(m.by_type, "type"), "ce_out_stamp": [[stamp(m)]]}


def _cells(inputs, name):
    v = inputs[name]
    if not isinstance(v, (list, tuple)):
        return [v]
    out = []
    for row in v:
        out.extend(row if isinstance(row, (list, tuple)) else [row])
    return out


def _blank(v):
    return reading.is_blank(v)


def _number(v, name, position="", blank=None, row=None):
    """A number from a cell; blank gives ``blank`` (or is refused when ``blank`` is None)."""
    where = f"{name}{position}"
    if _blank(v):
        if blank is None:
            raise RefreshError(f"{where} is blank: type a number there.", name, row)
        return blank
    if isinstance(v, bool):
        raise RefreshError(f"{where} holds {'TRUE' if v else 'FALSE'}, not a number: type a number "
                           "there.", name, row)
    if isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v)):
        return float(v)
    if reading.placeholder(v) or reading.excel_error(v):
        raise RefreshError(f"{where} holds {v.strip()!r}, which stands for a missing value and is "
                           "never read as 0: type a number there, or clear the cell.", name, row)
    if isinstance(v, str) and not v.strip():
        raise RefreshError(f"{where} holds only spaces: clear the cell, or type a number there.",
                           name, row)
    raise RefreshError(f"{where} holds the text {v!r}, not a number: type a number there (without "
                       "units or spaces).", name, row)


def _one(inputs, name):
    cells = _cells(inputs, name)
    if len(cells) != 1:
        raise RefreshError(f"{name} must be a single cell, not {len(cells)}.", name)
    return cells[0]


def _choice(inputs, name, options):
    v = _one(inputs, name)
    text = "" if v is None else str(v).strip().lower()
    if text not in options:
        raise RefreshError(f"{name} holds {v!r}: choose one of {', '.join(options)}.", name)
    return text


def _numbers(inputs, name, blank=None):
    return [_number(v, name, f", cell {k + 1}", blank, row=k + 1)
            for k, v in enumerate(_cells(inputs, name))]


def check_unique_ids(ids, name):
    """Refuse a customer id met twice, naming both rows (1-based) of ``name``'s range."""
    first = {}
    for k, v in enumerate(ids, start=1):
        if _blank(v):
            continue
        key = reading.canonical(int(v) if isinstance(v, float) and v.is_integer() else v)
        if key in first:
            raise RefreshError(f"{name} holds the customer id {v!r} twice: each customer is one "
                               "row. Merge the two rows or correct one id.", name, row=k,
                               same_as_row=first[key])
        first[key] = k


def _customer_table(inputs):
    table = inputs["ce_in_customers"]
    header = [str(h) for h in table[0]]
    body = [list(r) for r in table[1:]]
    while body and all(_blank(c) for c in body[-1]):
        body.pop()  # rows left empty under the table's last customer
    if not body:
        raise RefreshError("ce_in_customers has a header row but no customers: paste your "
                           "customers into the table.", "ce_in_customers")
    if "customer_id" in header:
        check_unique_ids([r[header.index("customer_id")] for r in body], "ce_in_customer_id")
    for j, col in enumerate(header):
        if col in TEXT_COLUMNS:
            continue
        for k, row in enumerate(body):
            v = row[j]
            if _blank(v):
                row[j] = None
            else:
                name = f"ce_in_{col}"
                row[j] = _number(v, name, f", customer {k + 1}", row=k + 1)
    df = pd.DataFrame(body, columns=header).replace({"": None})
    for c in list(df.columns):
        if df[c].isna().all():
            df = df.drop(columns=c)  # an empty optional column (type, tv) is not given
    return df


def inputs_to_measurement(inputs):
    """The customer table and :class:`MeasureConfig` that a workbook's ``ce_in_`` values describe."""
    df = _customer_table(inputs)
    names = [str(x) for x in _cells(inputs, "ce_in_weight_names")]
    weights = _numbers(inputs, "ce_in_weights")
    income = _numbers(inputs, "ce_in_transaction_income", blank=0.0)
    tiers = _cells(inputs, "ce_in_tier_cutoffs")
    if all(_blank(x) for x in tiers):
        tier_cutoffs = None
    else:
        tier_cutoffs = tuple(_numbers(inputs, "ce_in_tier_cutoffs"))
    timing = _one(inputs, "ce_in_timing")
    try:
        timing = reading.timing_word(timing)
    except CustomerEquityError:
        raise RefreshError(f"ce_in_timing holds {timing!r}: choose end or begin.",
                           "ce_in_timing") from None
    config = MeasureConfig(
        rate=_number(_one(inputs, "ce_in_rate"), "ce_in_rate"),
        timing=timing,
        iv=_number(_one(inputs, "ce_in_iv"), "ce_in_iv"),
        classify_by=_choice(inputs, "ce_in_classify_by", ("score", "stage", "type")),
        weights=dict(zip(names, weights)),
        cutoffs=tuple(_numbers(inputs, "ce_in_cutoffs")),
        transaction_income=income if any(income) else None,
        tier_cutoffs=tier_cutoffs,
    )
    return df, config
