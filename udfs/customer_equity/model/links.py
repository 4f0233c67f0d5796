"""Relationship links of a key customer (SPEC section 6; the expansion paper)."""

from __future__ import annotations

import numpy as np

from .validate import _fail, as_float, check_finite, check_range, matching
from ..reading import flag_array

__all__ = ["solid_links", "REQUIRED_LINKS"]

#: A key customer with fewer solid links than this is at risk.
REQUIRED_LINKS = 3


def solid_links(decision_makers, executive_link, expert_link):
    """Number of solid, non-overlapping links (0-3) the firm has with a key customer.

    Parameters
    ----------
    decision_makers : array_like
        Number of the customer's decision makers the sales side has consulted and
        recorded in the firm's database, a whole number >= 0 (a blank is 0); the
        sales link is solid from 3 on.
    executive_link : array_like of flags
        An executive-to-executive relationship exists (TRUE/FALSE, 1/0, yes/no,
        x/blank: :mod:`customer_equity.reading`).
    expert_link : array_like of flags
        An expert-to-expert relationship (R&D, finance) exists.

    Returns
    -------
    ndarray of int
        0-3; fewer than :data:`REQUIRED_LINKS` marks a customer at risk.

    Notes
    -----
    Customer equity belongs to the firm, not to its sales staff: each key customer
    should be held by at least three links that do not run through one person.

    References
    ----------
    The expansion paper (seed 000): *customer equity expansion*.

    Examples
    --------
    >>> solid_links([4, 2, 3], [True, True, False], [1, 0, 0]).tolist()
    [3, 1, 1]
    """
    dm = check_range(np.nan_to_num(check_finite(as_float(decision_makers, "decision_makers"),
                                                "decision_makers"), nan=0.0),
                     "decision_makers", low=0, rule="a number of people must be >= 0")
    fractional = dm != np.floor(dm)
    if fractional.any():
        _fail("decision_makers", "a number of people must be a whole number", dm, fractional)
    ex = _flag(executive_link, "executive_link")
    ep = _flag(expert_link, "expert_link")
    matching(("decision_makers", dm), ("executive_link", ex), ("expert_link", ep))
    out = (dm >= 3).astype(np.int64) + ex + ep
    return out


def _flag(x, name):
    arr = np.asarray(x) if not isinstance(x, (list, tuple)) else np.array(x, dtype=object)
    return flag_array(arr, name).astype(np.int64)
