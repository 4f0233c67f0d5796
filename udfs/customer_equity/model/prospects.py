"""Screening prospects by the traits of the firm's best current customers (the expansion paper).

The expansion paper (seed 000): a firm finds the traits of its good customers --
market traits (age, gender, ...), needs (interest in the products and services),
service needs (ordering by telephone, ...) and credit -- and reviews prospects
against them; "even where a promising customer is hard to establish, a bad one is
relatively easy to find". SPEC section 4: the weighted scoring that classifies
customers serves to rank prospects too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..errors import CustomerEquityError
from ..reading import position
from .validate import as_float, check_finite
from .measure import Measurement
from .types import TYPES
from .whatif import codes_of

__all__ = ["encode_traits", "prospect_weights", "screen_prospects"]

_ID_COLUMNS = ("customer_id", "prospect_id", "id")


def _is_text(series):
    values = series.to_numpy(dtype=object)
    return any(isinstance(v, str) and v.strip() != "" and not _numeric_text(v) for v in values)


def _numeric_text(v):
    try:
        float(v)
    except ValueError:
        return False
    return True


def encode_traits(traits: pd.DataFrame, categories: Mapping | None = None
                  ) -> tuple[np.ndarray, list[str], dict]:
    """Traits as numbers: numeric columns as they are, a text column as one 0/1 column per category.

    Parameters
    ----------
    traits : pandas.DataFrame
        One row per person, one column per trait. Numbers (age, income band,
        credit score, a 1-5 rating of needs) or text categories (gender, channel).
        Blanks are refused: a missing trait would silently count as 0.
    categories : mapping of column to list of categories, optional
        The categories to encode each text column with (those of the current
        customers, when encoding prospects); default: the column's own, sorted.

    Returns
    -------
    values : ndarray, shape (N, K)
    names : list of str
        ``"gender=F"`` for a category column, the column name otherwise.
    categories : dict
        The categories used per text column (to encode prospects alike).

    Examples
    --------
    >>> x, names, cats = encode_traits(pd.DataFrame({"age": [30, 50], "gender": ["F", "M"]}))
    >>> x.tolist(), names
    ([[30.0, 1.0, 0.0], [50.0, 0.0, 1.0]], ['age', 'gender=F', 'gender=M'])
    """
    if not isinstance(traits, pd.DataFrame):
        raise CustomerEquityError("traits", "must be a table with one column per trait")
    known = dict(categories or {})
    blocks, names, used = [], [], {}
    for col in traits.columns:
        series = traits[col]
        text = col in known if categories is not None else _is_text(series)
        if text:
            labels = series.to_numpy(dtype=object)
            blank = np.array([v is None or (isinstance(v, float) and np.isnan(v))
                              or (isinstance(v, str) and v.strip() == "") for v in labels])
            if blank.any():
                k = int(np.flatnonzero(blank)[0])
                raise CustomerEquityError(str(col), "a trait is required, the cell is blank",
                                          value="", **position(labels.shape, k))
            labels = np.array([str(v).strip() for v in labels], dtype=object)
            cats = known.get(col) or sorted(set(labels.tolist()))
            used[col] = list(cats)
            for c in cats:
                blocks.append((labels == c).astype(np.float64))
                names.append(f"{col}={c}")
        else:
            values = check_finite(as_float(series.to_numpy(), str(col), blank_ok=False), str(col))
            blocks.append(values)
            names.append(str(col))
    x = np.column_stack(blocks) if blocks else np.zeros((len(traits), 0))
    return x, names, used


def _standardise(x):
    mean = x.mean(axis=0)
    sd = x.std(axis=0)
    return mean, sd


def _best_mask(ltv, best):
    n = ltv.size
    if not 0 < best < 1:
        raise CustomerEquityError("best", "the share of best customers must lie strictly between 0 "
                                  "and 1", value=best)
    k = int(np.ceil(best * n))
    if k < 1 or k >= n:
        raise CustomerEquityError("best", f"leaves no customer in the best group or none in the rest "
                                  f"({n} customers)", value=best)
    order = np.argsort(-ltv, kind="stable")
    mask = np.zeros(n, dtype=bool)
    mask[order[:k]] = True
    return mask


def _learned_weights(x, ltv, best, names):
    if ltv.size and np.all(ltv == ltv[0]):
        raise CustomerEquityError("ltv", "every current customer has the same lifetime value: there "
                                  "are no best customers to learn traits from (every prospect "
                                  "would score 0); give the weights yourself", value=float(ltv[0]))
    top = _best_mask(ltv, best)
    _, sd = _standardise(x)
    diff = x[top].mean(axis=0) - x[~top].mean(axis=0)
    d = np.divide(diff, sd, out=np.zeros_like(diff), where=sd > 0)
    total = np.abs(d).sum()
    if total == 0:
        raise CustomerEquityError("traits", "no trait sets the best customers apart from the rest "
                                  "(every learned weight is 0, so every prospect would score 0): "
                                  + ", ".join(names))
    return d / total


def _ltv_and_types(ltv, types, n):
    if isinstance(ltv, Measurement):
        types = ltv.customers["type"] if types is None else types
        ltv = ltv.customers["ltv"].to_numpy()
    v = check_finite(as_float(ltv, "ltv", blank_ok=False), "ltv").reshape(-1)
    if v.size != n:
        raise CustomerEquityError("ltv", f"needs one lifetime value per current customer ({n}), "
                                  f"got {v.size}")
    codes = None
    if types is not None:
        codes = codes_of(types, "types")
        if codes.size != n:
            raise CustomerEquityError("types", f"needs one type per current customer ({n}), "
                                      f"got {codes.size}")
    return v, codes


def _trait_frame(customers, traits):
    if not isinstance(customers, pd.DataFrame):
        raise CustomerEquityError("customers", "must be a table with one column per trait")
    if traits is None:
        traits = [c for c in customers.columns if c not in _ID_COLUMNS]
    missing = [t for t in traits if t not in customers.columns]
    if missing:
        raise CustomerEquityError(str(missing[0]), "trait column missing from the current customers")
    if not traits:
        raise CustomerEquityError("traits", "name at least one trait")
    return customers[list(traits)], list(traits)


def prospect_weights(customers: pd.DataFrame, ltv: ArrayLike | Measurement, *, traits: Sequence[str] | None = None,
                     best: float = 0.2) -> pd.Series:
    """Weights of the traits that set the best current customers apart from the rest.

    Parameters
    ----------
    customers : pandas.DataFrame
        The current customers' traits, one row per customer (see :func:`encode_traits`).
    ltv : array_like or Measurement
        Lifetime value of each current customer (money), or the measurement.
    traits : sequence of str, optional
        The trait columns to use; default all columns but an id.
    best : float
        Share of the current customers, by lifetime value, taken as the best
        (default 0.2: the platinum and gold tiers of the default customer pyramid).

    Raises
    ------
    CustomerEquityError
        Naming ``ltv`` when every current customer is worth the same, or ``traits``
        when no trait differs between the best and the rest: every weight would be 0
        and every prospect score 0, ranked by nothing but row order.

    Returns
    -------
    pandas.Series
        One weight per (encoded) trait; their absolute values add up to 1.

    Notes
    -----
    For trait ``k`` with mean ``\\bar x_{best,k}`` among the best customers,
    ``\\bar x_{rest,k}`` among the others and standard deviation ``s_k`` over all
    current customers:

    .. math:: d_k = \\frac{\\bar x_{best,k} - \\bar x_{rest,k}}{s_k}, \\qquad
              w_k = \\frac{d_k}{\\sum_j |d_j|}

    a standardized difference of means (0 for a trait that does not vary). A
    negative weight marks a trait of the worse customers.

    References
    ----------
    The expansion paper (seed 000): the traits of good customers; Wang Tao et al.
    (2002) and SPEC section 4: the weighted indicator score.

    Examples
    --------
    >>> people = pd.DataFrame({"income": [5, 4, 2, 1], "age": [40, 40, 40, 40]})
    >>> prospect_weights(people, [900, 700, 100, 50], best=0.5).tolist()
    [1.0, 0.0]
    """
    frame, _ = _trait_frame(customers, traits)
    x, names, _ = encode_traits(frame)
    v, _ = _ltv_and_types(ltv, None, len(frame))
    return pd.Series(_learned_weights(x, v, best, names), index=names, name="weight")


def screen_prospects(prospects: pd.DataFrame, customers: pd.DataFrame, ltv: ArrayLike | Measurement,
                     types: ArrayLike | None = None, *,
                     traits: Sequence[str] | None = None,
                     weights: Mapping[str, float] | ArrayLike | None = None, best: float = 0.2,
                     neighbours: int = 10, cutoff: float | None = None,
                     avoid_share: float = 0.2) -> pd.DataFrame:
    """Score and rank prospects by the traits of the best current customers; flag those to avoid.

    Parameters
    ----------
    prospects : pandas.DataFrame
        One row per prospect with the same trait columns as ``customers`` (an id
        column ``prospect_id``/``customer_id``/``id`` is carried along).
    customers : pandas.DataFrame
        The current customers' traits, one row per customer.
    ltv : array_like or Measurement
        Lifetime value of each current customer, or their measurement (which
        also gives ``types``).
    types : array_like, optional
        Type of each current customer (labels or codes), for the expected type.
    traits : sequence of str, optional
        Trait columns to use (default: all of ``customers`` but an id column).
        Numbers, or text categories (one 0/1 trait per category).
    weights : mapping of trait to weight, or array_like, optional
        Weights set by the firm, one per encoded trait (``"gender=F"`` for a
        category), in standard-deviation units; default: learned with
        :func:`prospect_weights`.
    best : float
        Share of current customers, by lifetime value, that are the best (0.2).
    neighbours : int
        How many current customers with the closest scores give a prospect's
        expected type and value (default 10, at most the number of customers); at
        equal distance the higher score first, then the earlier customer.
    cutoff : float, optional
        Score below which a prospect is flagged to avoid. Default: the score that
        ``avoid_share`` of the current customers fall below.
    avoid_share : float
        Default 0.2: prospects who score lower than 80 % of current customers are
        flagged.

    Returns
    -------
    pandas.DataFrame
        One row per prospect, best first: ``rank`` (1 = best), ``row`` (1-based
        position in ``prospects``), the id if given, ``score``, ``expected_type``
        (the most common type among the neighbours; ties to the nearest),
        ``value_estimate`` (their mean lifetime value, money) and ``avoid``
        (TRUE below the cut-off).

    Notes
    -----
    Each trait is standardized against the current customers,
    ``z_k = (x_k - \\bar x_k) / s_k`` (0 for a trait that does not vary), and the
    score is the weighted sum

    .. math:: S = \\sum_k w_k z_k

    with the weights of :func:`prospect_weights` (or the firm's): 0 is the
    profile of the average current customer, higher is closer to the best.
    Ties in score keep the prospects' order. Weights that leave every score 0
    (learned from equal lifetime values or from traits that do not tell the best
    apart, or given only to traits that do not vary) are refused, naming ``ltv``,
    ``traits`` or ``weights``: a ranking by row order would pass for a screening.

    Limits. The weights are linear and trait by trait: they ignore interactions
    and count correlated traits more than once. They describe who the best
    customers *are*, not what makes them good: the current customers are those
    who stayed, and prospects unlike any of them (an unseen category, a trait out
    of range) are scored by extrapolation. The value estimate assumes a prospect
    who becomes a customer behaves like current customers of a similar score; it
    carries neither the cost nor the chance of winning the prospect. With few
    best customers the weights are noisy. A logistic fit of "best" on the traits
    is the next step up when the customer base is large.

    References
    ----------
    The expansion paper (seed 000): attract prospects by the traits of good
    customers (market traits such as age and gender, needs, service needs, credit)
    and screen out bad ones; Wang Tao et al. (2002), SPEC section 4: weighted scoring.

    Examples
    --------
    Four customers; the best half has income 5 and 4, the rest 2 and 1:

    >>> people = pd.DataFrame({"income": [5, 4, 2, 1]})
    >>> pros = pd.DataFrame({"prospect_id": ["p", "q", "r"], "income": [1, 5, 3]})
    >>> out = screen_prospects(pros, people, [900, 700, 100, 50],
    ...                        ["Lighthouse", "Follower", "Rational", "Profit-seeking"],
    ...                        best=0.5, neighbours=2)
    >>> print(out[["rank", "prospect_id", "expected_type", "value_estimate", "avoid"]].to_string())
       rank prospect_id   expected_type  value_estimate  avoid
    0     1           q      Lighthouse           800.0  False
    1     2           r        Follower           400.0  False
    2     3           p  Profit-seeking            75.0   True

    ``r`` (income 3) is as close to the follower (4) as to the rational customer
    (2): both are its neighbours, and the tie of types goes to the nearer, which at
    equal distance is the higher score; its value is their mean, 400.
    """
    frame, names_in = _trait_frame(customers, traits)
    x, names, cats = encode_traits(frame)
    if not isinstance(prospects, pd.DataFrame):
        raise CustomerEquityError("prospects", "must be a table with one column per trait")
    missing = [t for t in names_in if t not in prospects.columns]
    if missing:
        raise CustomerEquityError(str(missing[0]), "trait column missing from the prospects")
    px, _, _ = encode_traits(prospects[names_in], cats)
    v, codes = _ltv_and_types(ltv, types, len(frame))
    if weights is None:
        w = _learned_weights(x, v, best, names)
    elif isinstance(weights, Mapping):
        unknown = [k for k in weights if k not in names]
        if unknown:
            raise CustomerEquityError("weights", "no such trait; traits are " + ", ".join(names),
                                      value=unknown[0])
        w = np.array([float(weights.get(k, 0.0)) for k in names])
    else:
        w = check_finite(as_float(weights, "weights", blank_ok=False), "weights").reshape(-1)
        if w.size != len(names):
            raise CustomerEquityError("weights", f"needs one weight per trait ({len(names)}: "
                                      f"{', '.join(names)}), got {w.size}")
    mean, sd = _standardise(x)
    if not np.any((w != 0) & (sd > 0)):
        varying = [n for n, s in zip(names, sd) if s > 0]
        raise CustomerEquityError("weights", "every weighted trait is the same for all current "
                                  "customers, so every prospect would score 0; weigh a trait "
                                  "that varies" + (": " + ", ".join(varying) if varying else ""))

    def score(values):
        z = np.divide(values - mean, sd, out=np.zeros_like(values), where=sd > 0)
        return z @ w

    with np.errstate(over="ignore", invalid="ignore"):
        s_cust, s_pros = score(x), score(px)
    for scores, name in ((s_cust, "customers"), (s_pros, "prospects")):
        bad = ~np.isfinite(scores)
        if bad.any():
            raise CustomerEquityError(name, "the score overflows: check the units of the traits",
                                      row=int(np.flatnonzero(bad)[0]) + 1)
    if not isinstance(neighbours, (int, np.integer)) or isinstance(neighbours, bool) or neighbours < 1:
        raise CustomerEquityError("neighbours", "must be a whole number >= 1", value=neighbours)
    k = min(int(neighbours), len(frame))
    if cutoff is None:
        if not 0 <= avoid_share < 1:
            raise CustomerEquityError("avoid_share", "must lie in [0, 1)", value=avoid_share)
        cutoff = float(np.quantile(s_cust, avoid_share)) if avoid_share > 0 else -np.inf
    near = _nearest(s_cust, s_pros, k)
    value_estimate = v[near].mean(axis=1)
    out = pd.DataFrame({"row": np.arange(1, len(prospects) + 1)})
    for col in _ID_COLUMNS:
        if col in prospects.columns:
            out[col] = prospects[col].to_numpy()
            break
    out["score"] = s_pros
    if codes is not None:
        out["expected_type"] = [TYPES[_modal(codes[row])] for row in near]
    out["value_estimate"] = value_estimate
    out["avoid"] = s_pros < cutoff - 1e-12
    order = np.argsort(-s_pros, kind="stable")
    out = out.iloc[order].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def _nearest(scores, targets, k):
    """Indices of the ``k`` scores nearest each target, nearest first: shape (P, k).

    At equal distance the higher score comes first, then the earlier customer. A
    walk outwards from each target's place in the sorted scores: O((N + P) log N + P k)
    time and O(P k) memory, where the full distance matrix would take O(P N).
    """
    n = scores.size
    index = np.arange(n)
    down = np.lexsort((index, -scores))  # scores <= target, walked from the highest down
    up = np.lexsort((index, scores))     # scores > target, walked from the lowest up
    down_scores, up_scores = scores[down], scores[up]
    left = n - np.searchsorted(scores[up], targets, side="right")  # first in `down` with score <= target
    right = np.searchsorted(up_scores, targets, side="right")       # first in `up` with score > target
    out = np.empty((targets.size, k), dtype=np.int64)
    for j in range(k):
        d_left = np.where(left < n, targets - down_scores[np.minimum(left, n - 1)], np.inf)
        d_right = np.where(right < n, up_scores[np.minimum(right, n - 1)] - targets, np.inf)
        take_right = d_right <= d_left
        out[:, j] = np.where(take_right, up[np.minimum(right, n - 1)], down[np.minimum(left, n - 1)])
        right = right + take_right
        left = left + ~take_right
    return out


def _modal(codes_nearest_first):
    counts = np.bincount(codes_nearest_first, minlength=4)
    tied = np.flatnonzero(counts == counts.max())
    for c in codes_nearest_first:  # ties go to the type of the nearest neighbour
        if c in tied:
            return int(c)
    return int(tied[0])
