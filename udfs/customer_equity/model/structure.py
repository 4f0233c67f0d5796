"""The structure of customer equity and how it changes (SPEC section 5; Wang Tao et al. 2002).

A *structure* is, per customer type, how many customers the firm has, what share of
the customer base and of the equity they make, their average lifetime value and which
kinds of value that equity is made of. Firms compare structures over time and with
competitors; :func:`compare_structures` does so and splits each type's change in
equity exactly into a volume, a mix and a value effect (:func:`decompose_change`).

Every table here is a plain :class:`pandas.DataFrame` with the four types and a
``Total`` row as its index, ready to be spilled into a worksheet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..errors import CustomerEquityError
from .validate import as_float, check_finite, check_range, money_array, per_row
from .equity import cancelled_to_zero, composition_sums, per_customer
from .measure import Measurement
from .types import TYPES, VALUE_KINDS, discounted_components, type_codes

__all__ = [
    "MIX_COLUMNS",
    "STRUCTURE_COLUMNS",
    "compare_structures",
    "decompose_change",
    "structure_from_counts",
    "structure_from_values",
    "structure_table",
]

#: Share of a type's equity that comes from each value kind, in the order of VALUE_KINDS.
MIX_COLUMNS = tuple(f"{k.lower()}_share" for k in VALUE_KINDS)

#: The columns of a structure table.
STRUCTURE_COLUMNS = ("customers", "customer_share", "equity", "equity_share", "average") + MIX_COLUMNS

_INDEX = pd.Index(list(TYPES) + ["Total"], name="type")


def _divide(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.full(np.broadcast(a, b).shape, np.nan), where=b != 0)


def _table(counts, sums):
    """Structure table from per-type counts (4,) and a kind x type matrix of sums (6, 4)."""
    counts = np.asarray(counts, dtype=np.float64)
    sums = np.asarray(sums, dtype=np.float64)
    equity = cancelled_to_zero(sums.sum(axis=0), np.abs(sums).sum(axis=0))
    counts_t = np.append(counts, counts.sum())
    equity_t = np.append(equity, cancelled_to_zero(sums.sum(), np.abs(sums).sum()))
    kinds_t = np.column_stack([sums, sums.sum(axis=1)])  # (6, 5)
    out = pd.DataFrame({
        "customers": counts_t,
        "customer_share": _divide(counts_t, counts_t[-1]),
        "equity": equity_t,
        "equity_share": _divide(equity_t, equity_t[-1]),
        "average": _divide(equity_t, counts_t),
    }, index=_INDEX.copy())
    for name, row in zip(MIX_COLUMNS, kinds_t):
        out[name] = _divide(row, equity_t)
    return out


def structure_table(source: Measurement | Mapping | pd.DataFrame) -> pd.DataFrame:
    """The structure of customer equity: per type, customer share, equity share, average value, value mix.

    Parameters
    ----------
    source : Measurement, dict or pandas.DataFrame
        A :class:`~customer_equity.model.measure.Measurement`; its saved form
        (``Measurement.to_dict()``, e.g. read back from JSON); or a table indexed by
        type (or with a ``type`` column) holding ``customers`` and ``average`` or
        ``equity`` per type (the shape :func:`structure_from_counts` returns).

    Returns
    -------
    pandas.DataFrame
        Index: the four types and ``Total``. Columns:

        - ``customers``: number of customers of the type;
        - ``customer_share``: customers / all customers, in [0, 1];
        - ``equity``: the type's customer equity (money);
        - ``equity_share``: equity / total equity (NaN when the total is 0);
        - ``average``: equity / customers, the average lifetime value (NaN without customers);
        - ``pv_share`` ... ``iv_share``: the share of the type's equity that comes from
          each value kind (PV, PPV, CV, KV, TV, Iv); they add up to 1 per row. NaN when
          the source holds no composition (a structure built from counts and averages).

    Notes
    -----
    .. math::
        cs_k = n_k / N, \\qquad es_k = E_k / E, \\qquad a_k = E_k / n_k,
        \\qquad mix_{k,v} = E_{k,v} / E_k

    for type ``k`` and value kind ``v``, with ``E_k = sum_v E_{k,v}``.

    References
    ----------
    Wang Tao et al. (2002), *The composition and measurement of customer equity*: the
    structure of customer equity is the proportion of each customer type; firms manage
    both the value of each kind and this structure.

    Examples
    --------
    >>> import pandas as pd
    >>> from customer_equity.model import MeasureConfig, measure
    >>> table = pd.DataFrame({"type": ["Lighthouse", "Rational", "Rational", "Profit-seeking"],
    ...                       "periods": 1, "pv": [300.0, 100.0, 100.0, 50.0],
    ...                       "ppv": [100.0, 0.0, 0.0, 0.0]})
    >>> s = structure_table(measure(table, MeasureConfig(rate=0.0, classify_by="type")))
    >>> print(s[["customers", "customer_share", "equity", "equity_share", "average", "pv_share"]]
    ...       .to_string())
                    customers  customer_share  equity  equity_share  average  pv_share
    type
    Lighthouse            1.0            0.25   400.0      0.615385    400.0  0.750000
    Follower              0.0            0.00     0.0      0.000000      NaN       NaN
    Rational              2.0            0.50   200.0      0.307692    100.0  1.000000
    Profit-seeking        1.0            0.25    50.0      0.076923     50.0  1.000000
    Total                 4.0            1.00   650.0      1.000000    162.5  0.846154
    """
    return _parts(source)[0]


def _parts(source):
    """(structure table, kind sums (6, 4) with NaN for a type whose kinds are unknown, rate,
    timing) of anything :func:`structure_table` reads; rate and timing None when unknown."""
    if isinstance(source, Measurement):
        table = _table(source.counts, source.sums)
        rate, timing, kinds = source.config.rate, source.config.timing, np.asarray(source.sums, float)
    elif isinstance(source, Mapping):
        table, kinds = _from_saved(source)
        config = source.get("config") if isinstance(source.get("config"), Mapping) else {}
        rate, timing = config.get("rate"), config.get("timing", "end" if "rate" in config else None)
    elif isinstance(source, pd.DataFrame):
        table, kinds = _from_frame(source)
        rate, timing = source.attrs.get("rate"), source.attrs.get("timing")
    else:
        raise CustomerEquityError("structure", "must be a measurement, a saved measurement (dict) "
                                  "or a table of customers and average value per type",
                                  value=type(source).__name__)
    if rate is not None:
        table.attrs.update(rate=float(rate), timing=timing)
    return table, kinds, rate, timing


def _from_saved(data):
    try:
        by_type = data["by_type"]
        comp = data["composition"]
        counts = [float(by_type[t]["customers"]) for t in TYPES]
        sums = [[float(comp[k][t] or 0.0) for t in TYPES] for k in VALUE_KINDS]
    except (KeyError, TypeError, ValueError):
        raise CustomerEquityError("structure", "a saved measurement needs 'by_type' (customers per "
                                  "type) and 'composition' (value kind x type), as "
                                  "Measurement.to_dict() writes them") from None
    return _table(counts, sums), np.asarray(sums, dtype=np.float64)


def _from_frame(frame):
    df = frame.set_index("type") if "type" in frame.columns else frame
    df = df.drop(index=[x for x in df.index if str(x).strip().lower() == "total"])
    if "customers" not in df.columns or not ({"average", "equity"} & set(df.columns)):
        raise CustomerEquityError("structure", "a structure table needs a 'customers' column and "
                                  "an 'average' or 'equity' column per type")
    codes = type_codes(np.asarray(df.index, dtype=object), "type")
    if len(set(codes.tolist())) != len(codes):
        raise CustomerEquityError("type", "each customer type may appear only once")
    # positions in the table's own rows (1 = the first row under the header)
    rows = check_finite(as_float(df["customers"].to_numpy(), "customers"), "customers")
    if np.isnan(rows).any():  # named by its row even in a table of one row
        k = int(np.flatnonzero(np.isnan(rows))[0])
        raise CustomerEquityError("customers", "a value is required here, the cell is blank",
                                  row=k + 1, value="")
    value_column = "average" if "average" in df.columns else "equity"
    values = check_finite(as_float(df[value_column].to_numpy(), value_column), value_column)
    blank = np.isnan(values) & (rows != 0)
    if blank.any():
        k = int(np.flatnonzero(blank)[0])
        raise CustomerEquityError(value_column, f"the {TYPES[codes[k]]} row has customers and a blank "
                                  f"{value_column}; a blank would read as 0", row=k + 1, value="")
    counts = np.zeros(4)
    counts[codes] = rows
    if value_column == "average":
        average = np.full(4, np.nan)
        average[codes] = values
    else:
        equity = np.zeros(4)
        equity[codes] = np.nan_to_num(values)
        average = _divide(equity, counts)
    mix = None
    if all(c in df.columns for c in MIX_COLUMNS):
        mix = np.full((4, len(MIX_COLUMNS)), np.nan)
        mix[codes] = as_float(df[list(MIX_COLUMNS)].to_numpy(), "value_mix")
        if np.isnan(mix[counts > 0]).all():
            mix = None  # a structure without a composition (built from counts and averages)
    table = structure_from_counts(counts, average, value_mix=mix)
    equity = table["equity"].to_numpy()[:4]
    if mix is None:
        kinds = np.where(counts > 0, np.nan, 0.0)[None, :].repeat(len(VALUE_KINDS), axis=0)
    else:
        kinds = (mix * equity[:, None]).T
        kinds[:, counts == 0] = 0.0
    return table, kinds


def _refuse_blank(values, counts, name):
    """A blank value of a type that has customers is refused (it would read as 0); the row is
    the type's place in the order Lighthouse, Follower, Rational, Profit-seeking."""
    blank = np.isnan(values) & (counts > 0)
    if blank.any():
        k = int(np.flatnonzero(blank)[0])
        raise CustomerEquityError(name, f"{TYPES[k]} has customers and no {name.split('_')[0]} "
                                  "value (blank); a blank would read as 0", row=k + 1, value="")


def structure_from_counts(customers: ArrayLike, average: ArrayLike, *,
                          value_mix: ArrayLike | None = None) -> pd.DataFrame:
    """A structure from customers and average value per type alone (a competitor's estimate).

    Parameters
    ----------
    customers : array_like, shape (4,)
        Number of customers of each type, in the order Lighthouse, Follower,
        Rational, Profit-seeking (>= 0; need not be whole, an estimate may be a share
        of a market size). A blank is refused.
    average : array_like, shape (4,)
        Average lifetime value of a customer of each type (money). Ignored, and may
        be blank, for a type with no customers; a blank is refused for a type with
        customers (it would read as 0).
    value_mix : array_like, shape (4, 6), optional
        Share of each type's equity from PV, PPV, CV, KV, TV and Iv (rows add up to
        1; a row may be blank for a type with no customers or an average of 0, whose
        mix is undefined). Leave out when unknown: the mix columns are NaN.

    Returns
    -------
    pandas.DataFrame
        The table of :func:`structure_table`, with ``equity = customers x average``.

    Examples
    --------
    A competitor estimated at 200 lighthouse customers worth 5,000 and 800 rational
    customers worth 1,000:

    >>> s = structure_from_counts([200, 0, 800, 0], [5000, None, 1000, None])
    >>> print(s[["customers", "customer_share", "equity", "equity_share", "average"]].to_string())
                    customers  customer_share     equity  equity_share  average
    type
    Lighthouse          200.0             0.2  1000000.0      0.555556   5000.0
    Follower              0.0             0.0        0.0      0.000000      NaN
    Rational            800.0             0.8   800000.0      0.444444   1000.0
    Profit-seeking        0.0             0.0        0.0      0.000000      NaN
    Total              1000.0             1.0  1800000.0      1.000000   1800.0
    """
    n = _per_type(customers, "customers", blank_ok=False)
    check_range(n, "customers", low=0, rule="a number of customers must be >= 0")
    a = _per_type(average, "average")
    _refuse_blank(a, n, "average")
    with np.errstate(over="ignore", invalid="ignore"):
        equity = np.where(n > 0, n * np.nan_to_num(a), 0.0)
    if not np.isfinite(equity).all() or not np.isfinite(equity.sum()):
        raise CustomerEquityError("average", "customers x average value overflows: check the units")
    if value_mix is None:
        sums = np.vstack([np.zeros((len(VALUE_KINDS) - 1, 4)), equity[None, :]])
        out = _table(n, sums)
        out.loc[:, list(MIX_COLUMNS)] = np.nan
        return out
    m = check_finite(as_float(value_mix, "value_mix"), "value_mix")
    if m.shape != (4, len(VALUE_KINDS)):
        raise CustomerEquityError("value_mix", f"needs 4 rows (types) and {len(VALUE_KINDS)} columns "
                                  f"({', '.join(VALUE_KINDS)}), got shape {m.shape}")
    used = (n > 0) & (equity != 0)
    undefined = np.isnan(m).all(axis=1) & ~used
    partly = np.isnan(m) & ~undefined[:, None]
    if partly.any():
        row, col = (int(x) for x in np.argwhere(partly)[0])
        raise CustomerEquityError("value_mix", "a share is blank; a type with customers and value "
                                  "needs all six", row=row + 1, column=col + 1, value="")
    m = np.nan_to_num(m, nan=0.0)
    bad = used & (np.abs(m.sum(axis=1) - 1.0) > 1e-6)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise CustomerEquityError("value_mix", "the shares of a type's value kinds must add up to 1",
                                  row=k + 1, value=float(m[k].sum()))
    return _table(n, (m * equity[:, None]).T)


def structure_from_values(types: ArrayLike, rate: ArrayLike, pv: ArrayLike = 0.0, ppv: ArrayLike = 0.0,
                          cv: ArrayLike = 0.0, kv: ArrayLike = 0.0, tv: ArrayLike = 0.0,
                          iv: ArrayLike = 0.0, periods: ArrayLike | None = None,
                          timing: str = "end") -> pd.DataFrame:
    """The structure from per-customer types and values (the arguments of the composition matrix).

    Parameters
    ----------
    types : array_like, shape (N,)
        Customer type per customer.
    rate, pv, ppv, cv, kv, tv, iv, periods, timing
        As in :func:`customer_equity.model.equity.composition_matrix`: rate per
        period, per-period values (a column or a block of periods), Iv once per
        customer, retention time in periods.

    Returns
    -------
    pandas.DataFrame
        The table of :func:`structure_table`.

    References
    ----------
    Wang Tao et al. (2002), *The composition and measurement of customer equity*.

    Examples
    --------
    >>> s = structure_from_values(["Lighthouse", "Rational", "Rational"], 0.0,
    ...                           pv=[[100], [40], [20]], kv=[[50], [0], [0]], iv=10, periods=2)
    >>> s["equity"].tolist(), round(float(s.loc["Lighthouse", "kv_share"]), 4)
    ([310.0, 0.0, 140.0, 0.0, 450.0], 0.3226)
    """
    codes = np.atleast_1d(type_codes(types, "types")).reshape(-1)
    disc = discounted_components(rate, periods, timing, pv=pv, ppv=ppv, cv=cv, kv=kv, tv=tv)
    codes, iv_arr = per_customer(codes, disc, per_row(money_array(iv, "iv")))
    return _table(np.bincount(codes, minlength=4), composition_sums(codes, disc, iv_arr))


def _per_type(x, name, *, blank_ok=True):
    arr = check_finite(as_float(x, name, blank_ok=blank_ok), name).reshape(-1)
    if arr.size != 4:
        raise CustomerEquityError(name, "needs one value per customer type (Lighthouse, Follower, "
                                  f"Rational, Profit-seeking): 4, got {arr.size}")
    return arr


def decompose_change(customers_from: ArrayLike, average_from: ArrayLike, customers_to: ArrayLike,
                     average_to: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split each type's change in equity into volume, mix and value effects that add up exactly.

    Equity of type ``k`` is a product of three factors: the size of the customer
    base ``N``, the type's share of it ``s_k`` and its average value ``a_k``. The
    change from one structure (0) to another (1) is split by the Shapley value of
    the three factors (the average of the step-by-step changes over the six orders
    of changing them), which leaves no residual.

    Parameters
    ----------
    customers_from, customers_to : array_like, shape (4,)
        Customers per type in the first and the second structure (>= 0).
    average_from, average_to : array_like, shape (4,)
        Average value per type (money). A type with no customers in one structure
        takes its average from the other (its value did not change; all its change
        is volume and mix); a blank is accepted there and refused for a type with
        customers (it would read as 0).

    Returns
    -------
    volume, mix, value : ndarray, shape (4,)
        Per type; ``volume + mix + value == customers_to * average_to -
        customers_from * average_from`` for every type.

    Notes
    -----
    With ``E_k = N s_k a_k`` and ``Δx = x_1 - x_0``:

    .. math::
        volume_k = ΔN \\left[\\frac{s_0 a_0 + s_1 a_1}{3} + \\frac{s_0 a_1 + s_1 a_0}{6}\\right]

        mix_k = Δs_k \\left[\\frac{N_0 a_0 + N_1 a_1}{3} + \\frac{N_0 a_1 + N_1 a_0}{6}\\right]

        value_k = Δa_k \\left[\\frac{N_0 s_0 + N_1 s_1}{3} + \\frac{N_0 s_1 + N_1 s_0}{6}\\right]

    (``s``, ``a`` of type ``k``). When the customer base keeps its size (``ΔN = 0``)
    the volume effect is 0 and the split is the midpoint one,
    ``mix_k = Δs_k N (a_0 + a_1)/2``, ``value_k = Δa_k N (s_0 + s_1)/2``. The mix
    effects of all types add up to what the shift of customers between types is
    worth; the value effects to what the change of each type's average value is worth.

    References
    ----------
    Shapley, L. S. (1953), A value for n-person games; its use for index
    decomposition: Ang, B. W., Liu, F. L., & Chung, H.-S. (2004). A generalized
    Fisher index approach to energy decomposition analysis. *Energy Economics*,
    26(5), 757-763. The structures compared are those of Wang Tao et al. (2002).

    Examples
    --------
    Same 100 customers; 10 move from rational (worth 100) to lighthouse (worth
    1,000), and lighthouse customers become worth 1,100:

    >>> vol, mix, val = decompose_change([10, 0, 90, 0], [1000, 0, 100, 0],
    ...                                  [20, 0, 80, 0], [1100, 0, 100, 0])
    >>> vol.tolist(), mix.tolist(), val.tolist()
    ([0.0, 0.0, 0.0, 0.0], [10500.0, 0.0, -1000.0, 0.0], [1500.0, 0.0, 0.0, 0.0])
    >>> float((vol + mix + val).sum()), 20 * 1100 + 80 * 100 - (10 * 1000 + 90 * 100)
    (11000.0, 11000)
    """
    n0 = _per_type(customers_from, "customers_from", blank_ok=False)
    n1 = _per_type(customers_to, "customers_to", blank_ok=False)
    for arr, name in ((n0, "customers_from"), (n1, "customers_to")):
        check_range(arr, name, low=0, rule="a number of customers must be >= 0")
    a0 = _per_type(average_from, "average_from")
    a1 = _per_type(average_to, "average_to")
    _refuse_blank(a0, n0, "average_from")
    _refuse_blank(a1, n1, "average_to")
    volume, mix, value, _ = _shapley(n0, a0, n1, a1)
    return volume, mix, value


def _filled(n0, a0, n1, a1):
    """Averages with a type absent on one side taking the other side's (NaN-free)."""
    a0 = np.where(n0 > 0, a0, np.where(n1 > 0, a1, 0.0))
    a1 = np.where(n1 > 0, a1, a0)
    return np.nan_to_num(a0, nan=0.0), np.nan_to_num(a1, nan=0.0)


def _shapley(n0, a0, n1, a1):
    """Volume, mix and value effects, and the weight of a change of average value per type."""
    a0, a1 = _filled(n0, a0, n1, a1)
    N0, N1 = n0.sum(), n1.sum()
    s0 = n0 / N0 if N0 else np.zeros(4)
    s1 = n1 / N1 if N1 else np.zeros(4)
    if not N0:
        s0 = s1  # an empty base has no mix of its own: all of the change is volume
    if not N1:
        s1 = s0

    def weight(y0, y1, z0, z1):
        return (y0 * z0 + y1 * z1) / 3.0 + (y0 * z1 + y1 * z0) / 6.0

    value_weight = weight(N0, N1, s0, s1)
    volume = (N1 - N0) * weight(s0, s1, a0, a1)
    mix = (s1 - s0) * weight(N0, N1, a0, a1)
    value = (a1 - a0) * value_weight
    return volume, mix, value, value_weight


def compare_structures(structures: Sequence, labels: Sequence[str] | None = None, *,
                       against: str = "previous") -> pd.DataFrame:
    """Compare two or more structures: differences in points and what each type contributed.

    Parameters
    ----------
    structures : sequence of Measurement, dict or DataFrame
        Two or more structures, each anything :func:`structure_table` reads (a
        measurement, a saved measurement, or customers and average value per type,
        e.g. a competitor's estimate from :func:`structure_from_counts`).
    labels : sequence of str, optional
        A name for each structure (``"2023"``, ``"2024"``, ``"Competitor"``); default
        ``"1"``, ``"2"``, ...
    against : {"previous", "first"}
        Compare each structure with the one before it (year on year, default) or
        with the first (every competitor against the firm).

    Returns
    -------
    pandas.DataFrame
        One row per comparison and type, the ``Total`` row of each comparison last.
        Columns ``from``, ``to`` (labels), ``type``; for each of ``customers``,
        ``customer_share``, ``equity``, ``equity_share`` and ``average`` the value in
        the first structure (``_from``), in the second (``_to``) and the difference
        (``_change``; for shares in share units, 0.025 being 2.5 percentage points);
        then ``volume_effect``, ``mix_effect`` and ``value_effect``, which add up
        to ``equity_change`` in every row (see :func:`decompose_change`); and the
        value effect by value kind, ``value_effect_pv`` ... ``value_effect_iv``,
        which add up to ``value_effect`` (NaN when a structure has no composition).

    Notes
    -----
    ``equity_change_k = volume_k + mix_k + value_k``, exactly (Shapley split of
    ``E_k = N s_k a_k``). The average value is the sum of the kinds' averages,
    ``a_k = sum_v a_{k,v}``, so ``value_k = sum_v Δa_{k,v} W_k`` with ``W_k`` the
    weight of ``Δa_k`` in :func:`decompose_change`. The ``Total`` row adds the
    types up.

    References
    ----------
    Wang Tao et al. (2002), *The composition and measurement of customer equity*
    (firms compare the structure of their customer equity over time and with
    competitors).

    Examples
    --------
    >>> last = structure_from_counts([10, 0, 90, 0], [1000, 0, 100, 0])
    >>> this = structure_from_counts([20, 0, 80, 0], [1100, 0, 100, 0])
    >>> c = compare_structures([last, this], ["2023", "2024"])
    >>> print(c[["type", "customer_share_change", "equity_change", "mix_effect", "value_effect"]]
    ...       .to_string())
                 type  customer_share_change  equity_change  mix_effect  value_effect
    0      Lighthouse                    0.1        12000.0     10500.0        1500.0
    1        Follower                    0.0            0.0         0.0           0.0
    2        Rational                   -0.1        -1000.0     -1000.0           0.0
    3  Profit-seeking                    0.0            0.0         0.0           0.0
    4           Total                    0.0        11000.0      9500.0        1500.0
    """
    if against not in ("previous", "first"):
        raise CustomerEquityError("against", 'must be "previous" or "first"', value=against)
    if isinstance(structures, (Measurement, Mapping, pd.DataFrame)) or len(structures) < 2:
        raise CustomerEquityError("structures", "give two or more structures to compare")
    parts = [_parts(s) for s in structures]
    labels = [str(k + 1) for k in range(len(parts))] if labels is None else [str(x) for x in labels]
    if len(labels) != len(parts):
        raise CustomerEquityError("labels", f"needs one label per structure ({len(parts)}), "
                                  f"got {len(labels)}")
    out = []
    for k in range(1, len(parts)):
        j = k - 1 if against == "previous" else 0
        _same_discounting(parts[j], parts[k], labels[j], labels[k])
        out.append(_compare_two(parts[j], parts[k], labels[j], labels[k]))
    return pd.concat(out, ignore_index=True)


def _same_discounting(p0, p1, label0, label1):
    """Two structures valued at different rates or timings are not comparable: the change of
    rate would read as a change of value."""
    (_, _, r0, t0), (_, _, r1, t1) = p0, p1
    if r0 is None or r1 is None or (r0 == r1 and t0 == t1):
        return
    raise CustomerEquityError("structures", f"{label0} is valued at {r0:g} per period "
                              f"({t0}-of-period) and {label1} at {r1:g} ({t1}-of-period): the "
                              "change of discounting would read as a change of value; measure "
                              "both with the same rate and timing (a what-if with rate= prices "
                              "the change of rate alone)")


_COMPARED = ("customers", "customer_share", "equity", "equity_share", "average")


def _compare_two(p0, p1, label0, label1):
    (t0, kinds0, _, _), (t1, kinds1, _, _) = p0, p1
    out = pd.DataFrame({"from": label0, "to": label1, "type": list(_INDEX)})
    for col in _COMPARED:
        a, b = t0[col].to_numpy(), t1[col].to_numpy()
        out[f"{col}_from"] = a
        out[f"{col}_to"] = b
        out[f"{col}_change"] = b - a
    n0, n1 = t0["customers"].to_numpy()[:4], t1["customers"].to_numpy()[:4]
    a0, a1 = t0["average"].to_numpy()[:4], t1["average"].to_numpy()[:4]
    vol, mix, val, value_weight = _shapley(n0, a0, n1, a1)
    out["volume_effect"] = np.append(vol, vol.sum())
    out["mix_effect"] = np.append(mix, mix.sum())
    out["value_effect"] = np.append(val, val.sum())
    # the value effect by value kind: the change of each kind's average value per customer
    # carries the type's value weight, so the kinds add up to the value effect; a type whose
    # kinds are unknown on one side (an estimate without a mix, a spilled type worth exactly
    # 0) has none, and leaves the other types' split as it is
    k0, k1 = _divide(kinds0, n0[None, :]), _divide(kinds1, n1[None, :])
    k0 = np.where(n0 > 0, k0, np.where(n1 > 0, k1, 0.0))
    k1 = np.where(n1 > 0, k1, k0)
    effect = (k1 - k0) * value_weight[None, :]
    for v, name in enumerate(MIX_COLUMNS):
        column = f"value_effect_{name.removesuffix('_share')}"
        out[column] = np.append(effect[v], effect[v].sum())
    return out
