"""The four customer types and which kinds of value each provides (SPEC section 3).

Types are held as small integer codes (0 lighthouse .. 3 profit-seeking) so that a
million customers cost a million bytes; labels are for people.
"""

from __future__ import annotations

import numpy as np

from ..errors import CustomerEquityError
from ..reading import position, timing_code
from .validate import (
    as_float,
    label_codes,
    matching,
    money_array,
    per_row,
    zero_blanks,
)
from .discount import present_value
from .labels import type_code_of
from .values import COMPONENTS

__all__ = [
    "TYPES",
    "VALUE_KINDS",
    "CAPABILITIES",
    "capabilities",
    "type_codes",
    "type_labels",
    "ltv_type",
    "discounted_components",
    "excluded_cells",
]

#: Display labels, in code order (highest band first).
TYPES = ("Lighthouse", "Follower", "Rational", "Profit-seeking")

#: The value kinds of the capability matrix, in the paper's order.
VALUE_KINDS = ("PV", "PPV", "CV", "KV", "TV", "Iv")

#: ``CAPABILITIES[type_code, kind]``: does a customer of this type provide this value?
CAPABILITIES = np.array(
    [
        # PV    PPV    CV     KV     TV     Iv
        [True, True, True, True, True, True],  # lighthouse
        [True, True, True, False, True, True],  # follower
        [True, True, True, False, False, True],  # rational
        [True, False, False, False, False, True],  # profit-seeking
    ]
)

def type_codes(types, name="type"):
    """Integer type codes (0 lighthouse, 1 follower, 2 rational, 3 profit-seeking) from labels.

    Parameters
    ----------
    types : array_like of str
        Labels in English (any case; "profit seeking" and "profit-seeking" both
        work) or Chinese (灯塔/燈塔, 跟随/跟隨, 理性, 逐利, with or without 顾客/顧客);
        the one list is :data:`customer_equity.model.labels.TYPE_ALIASES`.
        Integer codes 0-3 pass through.

    Examples
    --------
    >>> type_codes(["Lighthouse", "profit seeking", "理性顧客", "跟随"])
    array([0, 3, 2, 1], dtype=int8)
    """
    arr = np.asarray(types, dtype=object) if not isinstance(types, np.ndarray) else types
    if arr.dtype.kind in "iu":
        bad = (arr < 0) | (arr > 3)
        if bad.any():
            k = int(np.flatnonzero(bad.ravel())[0])
            raise CustomerEquityError(name, "a type code must be 0-3", value=int(arr.ravel()[k]),
                                      **position(arr.shape, k))
        return arr.astype(np.int8)
    return label_codes(arr, name, type_code_of,
                       "unknown customer type; use Lighthouse, Follower, Rational or Profit-seeking",
                       "a customer type is required, the cell is blank")


def type_labels(codes):
    """Display labels for type codes.

    Examples
    --------
    >>> type_labels([0, 3]).tolist()
    ['Lighthouse', 'Profit-seeking']
    """
    return np.asarray(TYPES, dtype=object)[np.asarray(codes, dtype=np.intp)]


def capabilities(customer_type):
    """The row of the capability matrix for one type: PV, PPV, CV, KV, TV, Iv.

    Examples
    --------
    >>> capabilities("Follower")
    {'PV': True, 'PPV': True, 'CV': True, 'KV': False, 'TV': True, 'Iv': True}
    """
    code = int(type_codes([customer_type])[0])
    return dict(zip(VALUE_KINDS, (bool(x) for x in CAPABILITIES[code])))


def discounted_components(rate, periods=None, timing="end", **components):
    """Present value of each component given (``pv=..., ppv=...``), one array per row.

    Parameters as in :func:`customer_equity.model.values.ltv_values`; returns a dict
    with the same keys.

    Examples
    --------
    >>> d = discounted_components(0.0, periods=3, pv=[[10], [20]], kv=[[1], [1]])
    >>> d["pv"].tolist(), d["kv"].tolist()
    ([30.0, 60.0], [3.0, 3.0])
    """
    timing_code(timing)
    return {k: np.asarray(present_value(rate, v, periods, timing, name=k), dtype=np.float64)
            for k, v in components.items()}


def ltv_type(types, rate, periods=None, pv=0.0, ppv=0.0, cv=0.0, kv=0.0, tv=0.0, iv=0.0,
             timing="end"):
    """Lifetime value from only the kinds of value the customer's type provides.

    Parameters
    ----------
    types : array_like of str or int
        Customer type per row (see :func:`type_codes`).
    rate, periods, pv, ppv, cv, kv, tv, iv, timing
        As in :func:`customer_equity.model.values.ltv_values` (the order of CE_LTV_TYPE).

    Notes
    -----
    - lighthouse: ``sum_t (PV+PPV+CV+KV+TV)_t (1+i)^-t + Iv``
    - follower: ``sum_t (PV+PPV+CV+TV)_t (1+i)^-t + Iv``
    - rational: ``sum_t (PV+PPV+CV)_t (1+i)^-t + Iv``
    - profit-seeking: ``sum_t PV_t (1+i)^-t + Iv``

    A component the type does not provide is excluded even when the data holds a
    number for it; :func:`excluded_cells` counts those cells.

    References
    ----------
    Wang Tao et al. (2002), *The composition and measurement of customer equity*.

    Examples
    --------
    >>> ltv_type(["Lighthouse", "Profit-seeking"], 0.0, pv=[[100], [100]], kv=[[50], [50]],
    ...          iv=10, periods=2)
    array([310., 210.])
    """
    codes = per_row(np.atleast_1d(type_codes(types, "types")))
    disc = discounted_components(rate, periods, timing, pv=pv, ppv=ppv, cv=cv, kv=kv, tv=tv)
    iv = per_row(money_array(iv, "iv"))
    matching(("types", codes), *disc.items(), ("iv", iv))
    return _combine(codes, disc, iv)


def _combine(codes, disc, iv):
    out = np.zeros(codes.shape, dtype=np.float64)
    for k, name in enumerate(COMPONENTS):
        allowed = CAPABILITIES[:, k][codes]
        out = out + np.where(allowed, disc[name], 0.0)
    return out + iv


def excluded_cells(types, **components):
    """Count, per component, the non-zero cells a customer's type does not provide.

    These cells hold data that :func:`ltv_type` leaves out of the value, as the model
    requires; :func:`~customer_equity.model.measure` reports the same counts, and
    CE_EXCLUDED shows them in Excel. Each component has one row per customer (or one
    value for all); blanks are 0.

    Examples
    --------
    >>> excluded_cells(["Rational", "Lighthouse"], kv=[[5, 5], [5, 5]], tv=[[1, 0], [0, 0]])
    {'kv': 2, 'tv': 1}

    One type stands for every row, as in :func:`ltv_type`:

    >>> excluded_cells("Profit-seeking", ppv=[[3], [0], [2]])
    {'ppv': 2}
    """
    codes = per_row(np.atleast_1d(type_codes(types, "types")))
    counts = {}
    for name, values in components.items():
        allowed = CAPABILITIES[:, COMPONENTS.index(name)][codes]
        v = zero_blanks(as_float(values, name), name)
        if v.ndim < 2:
            v = v.reshape(-1, 1) if v.size == codes.shape[0] and v.size > 1 else v.reshape(1, -1)
        matching(("types", (codes.shape[0], 1)), (name, v.shape[:-1] + (1,)))
        rows = max(codes.shape[0], v.shape[0])  # one type for all rows, or one row for all types
        v = np.broadcast_to(v, (rows, v.shape[-1]))
        counts[name] = int(np.count_nonzero(v[~np.broadcast_to(allowed, (rows,))] != 0))
    return counts
