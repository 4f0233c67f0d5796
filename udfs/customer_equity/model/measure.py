"""The whole measurement in one call: a customer table and a configuration in, a result out.

The customer table has one row per customer. A per-period input is either one
column (``margin``: the same amount in each of the customer's ``periods``) or a
block of columns ``margin_1, margin_2, ...`` (one per period; blanks are 0).

==================  =========================================================
column              meaning
==================  =========================================================
customer_id         optional identifier, copied to the results
periods             retention time in periods (whole number >= 0), required
capacity, share,    purchase value inputs: PV = capacity x share x margin
margin              (or give ``pv`` directly)
influence, reach,   word-of-mouth inputs: PPV = influence x reach x avg_value
avg_value           (or give ``ppv`` directly); influence may be negative
cv                  information value from two-way contact, per period
kv                  knowledge value per period (assessed)
tv                  transaction value per period, unless the configuration
                    gives ``transaction_income`` to allocate
tv_carrier          optional flag (TRUE/FALSE, 1/0, yes/no, x/blank: see
                    :mod:`~customer_equity.reading`): carries transaction value
income, education,  indicators (1-5) for ``classify_by = "score"``: the keys
...                 of the configuration's ``weights``
stage               life-cycle stage of the first purchase (``classify_by = "stage"``)
type                customer type (``classify_by = "type"``)
key_customer,       optional relationship links (SPEC section 6); a key
decision_makers,    customer with fewer than 3 solid links is at risk. Without a
executive_link,     ``key_customer`` column every customer is a key customer: a
expert_link         row of blank link cells has no recorded link and is at risk
                    (mark the key customers to ask the rule of them alone).
                    ``decision_makers`` is a whole number >= 0.
==================  =========================================================
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..errors import CustomerEquityError
from . import validate as v
from .classify import TIERS, score_codes, stage_codes, value_tier, weighted_score
from .config import MeasureConfig
from .discount import _annuity, present_value
from .equity import composition_from_discounted, table_from_sums
from ..reading import flag_array
from .links import REQUIRED_LINKS, solid_links
from .types import CAPABILITIES, TYPES, VALUE_KINDS, type_codes
from .values import COMPONENTS, income_per_carrier

__all__ = ["measure", "Measurement", "carriers_per_period", "INPUT_COLUMNS"]

INPUT_COLUMNS = ("customer_id", "periods", "capacity", "share", "margin", "pv", "influence",
                 "reach", "avg_value", "ppv", "cv", "kv", "tv", "tv_carrier", "stage", "type",
                 "key_customer", "decision_makers", "executive_link", "expert_link")

_TV = COMPONENTS.index("tv")
_LINK_COLUMNS = ("decision_makers", "executive_link", "expert_link")


def at_risk_note(count: int) -> str:
    """The summary's note on key customers at risk (SPEC 6: fewer than three solid links)."""
    return f"{count:,} key customers have fewer than {REQUIRED_LINKS} solid relationship links"


@dataclasses.dataclass
class Measurement:
    """The result of :func:`measure`.

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per customer: type, each discounted component the type provides,
        Iv, ``ltv`` and ``tier`` (and ``score``, ``links``, ``at_risk`` when the data
        allows).
    counts : ndarray, shape (4,)
        Customers per type.
    sums : ndarray, shape (6, 4)
        Discounted value per kind (PV, PPV, CV, KV, TV, Iv) and type.
    excluded : dict
        Per component, cells holding a non-zero value that the customer's type
        does not provide (left out of the value, as the model requires).
    ignored_after_last_period : int
        Non-zero per-period cells after a customer's last period (not retained then).
    config : MeasureConfig
    """

    customers: pd.DataFrame
    counts: np.ndarray
    sums: np.ndarray
    excluded: dict
    ignored_after_last_period: int
    config: MeasureConfig

    @property
    def equity(self) -> float:
        """Total customer equity."""
        return float(self.sums.sum())

    @property
    def by_type(self) -> pd.DataFrame:
        """Customers, equity, share of equity and average value per type, with a total."""
        return table_from_sums(self.counts, self.sums.sum(axis=0))

    @property
    def composition(self) -> pd.DataFrame:
        """Value kind x customer type, with totals (the paper's two-dimensional model)."""
        return composition_from_discounted(self.sums)

    @property
    def structure(self) -> pd.DataFrame:
        """Share of customers and share of equity per type."""
        table = self.by_type.iloc[:-1]
        total = table["customers"].sum()
        return pd.DataFrame({"customer_share": table["customers"] / total if total else np.nan,
                             "equity_share": table["share"]})

    def summary(self) -> str:
        """A readable text report: equity per type and the composition matrix."""
        money = "{:,.0f}".format
        by_type = self.by_type.copy()
        by_type["equity"] = by_type["equity"].map(money)
        by_type["average"] = by_type["average"].map(lambda x: "" if np.isnan(x) else money(x))
        by_type["share"] = by_type["share"].map(lambda x: "" if np.isnan(x) else f"{x:.1%}")
        comp = self.composition.map(money)
        cfg = self.config
        lines = [
            f"Customer equity: {money(self.equity)}",
            f"({int(self.counts.sum()):,} customers; rate {cfg.rate:g} per period, "
            f"{cfg.timing}-of-period discounting, classified by {cfg.classify_by}, Iv {cfg.iv:g})",
            "",
            "Equity by customer type",
            by_type.to_string(),
            "",
            "Composition (value kind x customer type)",
            comp.to_string(),
        ]
        notes = [f"{n:,} non-zero {k.upper()} cells left out: the customer's type does not provide {k.upper()}"
                 for k, n in self.excluded.items() if n]
        if self.ignored_after_last_period:
            notes.append(f"{self.ignored_after_last_period:,} non-zero cells after a customer's last "
                         "period left out")
        if "at_risk" in self.customers:
            notes.append(at_risk_note(int(self.customers["at_risk"].sum())))
        if notes:
            lines += ["", "Notes"] + [f"- {n}" for n in notes]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """The summaries as plain data (JSON-ready)."""
        def frame(df):
            return {str(r): {str(c): _plain(x) for c, x in row.items()} for r, row in df.iterrows()}

        return {
            "equity": self.equity,
            "customers": int(self.counts.sum()),
            "by_type": frame(self.by_type),
            "composition": frame(self.composition),
            "structure": frame(self.structure),
            "excluded": dict(self.excluded),
            "ignored_after_last_period": int(self.ignored_after_last_period),
            "config": self.config.to_dict(),
        }

    @classmethod
    def combine(cls, parts, customers=None):
        """Add up measurements of disjoint batches of one customer base (exact sums)."""
        parts = list(parts)
        if not parts:
            raise CustomerEquityError("parts", "nothing to combine")
        excluded = {}
        for p in parts:
            for k, n in p.excluded.items():
                excluded[k] = excluded.get(k, 0) + n
        if customers is None:
            customers = pd.concat([p.customers for p in parts], ignore_index=True)
        return cls(customers=customers,
                   counts=np.sum([p.counts for p in parts], axis=0),
                   sums=np.sum([p.sums for p in parts], axis=0),
                   excluded=excluded,
                   ignored_after_last_period=sum(p.ignored_after_last_period for p in parts),
                   config=parts[0].config)


def _plain(x):
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if np.isnan(x) else float(x)
    return x


def _relocated(err, block):
    """An error from a block array points at the block's column by name."""
    if block and err.column is not None:
        return err.relocated(argument=block[err.column - 1], column=None)
    return err


def _field(df, name, kind):
    """(N, W) values of column ``name`` or block ``name_1..name_W``; None if absent."""
    block = []
    while f"{name}_{len(block) + 1}" in df.columns:
        block.append(f"{name}_{len(block) + 1}")
    if name in df.columns and block:
        raise CustomerEquityError(name, f"give either a column {name!r} or a block "
                                  f"{name}_1, {name}_2, ... not both")
    if name not in df.columns and not block:
        return None
    raw = df[name].to_numpy() if not block else df[block].to_numpy()
    try:
        arr = kind(raw, name)
    except CustomerEquityError as err:
        raise _relocated(err, block) from None
    return arr.reshape(len(df), len(block) or 1)  # also for an empty table


def _product(df, result, inputs, kinds):
    direct = _field(df, result, v.money_array)
    given = [c for c in inputs if c in df.columns or f"{c}_1" in df.columns]
    if direct is not None:
        if given:
            raise CustomerEquityError(result, f"give either {result} or {', '.join(inputs)}, not both")
        return direct
    if not given:
        return None
    missing = [c for c in inputs if c not in given]
    if missing:
        raise CustomerEquityError(missing[0], f"column missing: {result.upper()} = "
                                  f"{' x '.join(inputs)} needs all three (or a {result} column)")
    arrays = [_field(df, c, k) for c, k in zip(inputs, kinds)]
    narrow_first = sorted(arrays, key=lambda a: a.shape[1])
    try:
        return np.multiply(np.multiply(narrow_first[0], narrow_first[1]), narrow_first[2])
    except ValueError:
        raise CustomerEquityError(result, "its input blocks have different numbers of periods: "
                                  + ", ".join(f"{c} {a.shape[1]}" for c, a in zip(inputs, arrays))) from None


def _flows(df):
    flows = {
        "pv": _product(df, "pv", ("capacity", "share", "margin"),
                       (v.nonnegative_array, v.share_array, v.money_array)),
        "ppv": _product(df, "ppv", ("influence", "reach", "avg_value"),
                        (v.influence_array, v.nonnegative_array, v.money_array)),
    }
    for name in ("cv", "kv", "tv"):
        flows[name] = _field(df, name, v.money_array)
    return flows


def _classify(df, config):
    method = config.classify_by
    if method == "score":
        columns = list(config.weights)
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise CustomerEquityError(missing[0], "indicator column missing (named in the "
                                      "configuration's weights; or classify by stage or type)")
        try:
            score = weighted_score(df[columns].to_numpy(), list(config.weights.values()))
        except CustomerEquityError as err:
            raise _relocated(err, columns) from None
        return score_codes(score, config.cutoffs), score
    if method not in df.columns:
        raise CustomerEquityError(method, f"column missing: classify_by = {method!r} needs it")
    codes = (stage_codes if method == "stage" else type_codes)(df[method].to_numpy(), method)
    return codes.reshape(-1), None


def _flag_column(df, name):
    return flag_array(df[name].to_numpy(), name)


def _key_customers(df):
    """Who is a key customer: the ``key_customer`` flag; without that column, every customer
    (a customer with no recorded link is the one the rule warns about, not one it skips)."""
    if "key_customer" in df.columns:
        return _flag_column(df, "key_customer")
    return np.ones(len(df), dtype=bool)


def _carrier_mask(df, codes):
    mask = CAPABILITIES[codes, _TV]
    if "tv_carrier" in df.columns:
        mask = mask & _flag_column(df, "tv_carrier")
    return mask


def _income(config, horizon):
    income = config.transaction_income
    if isinstance(income, (list, tuple)):
        return np.asarray(income, dtype=np.float64)
    return np.full(int(horizon), float(income))


def carriers_per_period(customers, config):
    """Customers who carry transaction value in each period (for the allocation).

    Summing this over disjoint batches of a customer base gives the base's count,
    which :func:`measure` accepts so that a batch is allocated exactly as the whole.
    """
    codes, _ = _classify(customers, config)
    periods = _periods(customers)
    p = periods[_carrier_mask(customers, codes)].astype(np.int64)
    # one count per period of the whole horizon (the longest retention of any customer), so
    # that income in a period nobody carries is refused rather than dropped
    horizon = int(periods.max(initial=0))
    counts = np.bincount(p, minlength=horizon + 1)[::-1].cumsum()[::-1][1:]
    if isinstance(config.transaction_income, (list, tuple)):
        n = len(config.transaction_income)
        counts = np.concatenate([counts, np.zeros(max(0, n - counts.size), dtype=np.int64)])[:n]
    return counts


def _periods(df):
    if "periods" not in df.columns:
        raise CustomerEquityError("periods", "column missing: the retention time of each customer, "
                                  "in periods")
    return v.periods_array(df["periods"].to_numpy(), "periods")


def _allocated_tv(config, periods, carriers, counts):
    income = _income(config, counts.size)
    if counts.size < income.size:
        counts = np.concatenate([counts, np.zeros(income.size - counts.size, dtype=counts.dtype)])
    per_carrier = income_per_carrier(income, counts[: income.size], "transaction_income")
    begin = 1 if config.timing == "begin" else 0
    t = np.arange(1, income.size + 1, dtype=np.float64)
    discounted = np.concatenate([[0.0], np.cumsum(per_carrier * (1.0 + config.rate) ** -(t - begin))])
    last = np.minimum(periods, income.size).astype(np.int64)
    return np.where(carriers, discounted[last], 0.0)


def measure(customers, config=None, *, carriers=None, part=False):
    """Measure customer equity: classify, value each customer by type, add up.

    Parameters
    ----------
    customers : pandas.DataFrame
        One row per customer; columns as in this module's table.
    config : MeasureConfig, optional
        Rate per period, timing, Iv, classification, transaction income; defaults
        as documented in :class:`MeasureConfig`.
    carriers : array_like, optional
        Transaction-value carriers per period of the whole customer base, from
        :func:`carriers_per_period`, when ``customers`` is one batch of it.
    part : bool
        ``customers`` is one batch of a larger table, which may be empty; a whole table
        without a row is refused (its equity would be a silent 0).

    Returns
    -------
    Measurement

    Notes
    -----
    Step 1 classifies each customer; step 2 values each by the kinds its type
    provides, ``sum_t (PV+PPV+CV+KV+TV)_t (1+i)^-t + Iv`` restricted by the
    capability matrix; step 3 adds the four types up.

    References
    ----------
    Wang Tao et al. (2002), *The composition and measurement of customer equity*.

    Examples
    --------
    >>> table = pd.DataFrame({"type": ["Lighthouse", "Profit-seeking"], "periods": [2, 1],
    ...                       "pv": [100.0, 50.0], "kv": [20.0, 20.0]})
    >>> m = measure(table, MeasureConfig(rate=0.0, classify_by="type", iv=5))
    >>> m.customers["ltv"].tolist()  # (100+20) x 2 + 5 and 50 + 5 (KV not provided)
    [245.0, 55.0]
    >>> m.equity, m.excluded["kv"]
    (300.0, 1)
    """
    config = config or MeasureConfig()
    if not isinstance(customers, pd.DataFrame):
        raise CustomerEquityError("customers", "must be a pandas DataFrame, one row per customer")
    df = customers
    n = len(df)
    if n == 0 and not part:
        raise CustomerEquityError("customers", "the table has a header but no rows: there are no "
                                  "customers to measure")
    periods = _periods(df)
    codes, score = _classify(df, config)
    flows = _flows(df)
    if flows["tv"] is not None and config.transaction_income is not None:
        raise CustomerEquityError("tv", "give either a tv column or the configuration's "
                                  "transaction_income to allocate, not both")

    begin = 1 if config.timing == "begin" else 0
    factor = None
    disc, excluded, ignored = {}, {}, 0
    t_cache = {}
    for k, name in enumerate(COMPONENTS):
        f = flows[name]
        if f is None:
            disc[name] = np.zeros(n)
            continue
        allowed = CAPABILITIES[codes, k]
        if name != "pv":
            excluded[name] = int(np.count_nonzero((f != 0) & ~allowed[:, None]))
        if f.shape[1] == 1:
            if factor is None:
                factor = _annuity(np.float64(config.rate), periods, begin)
            value = f[:, 0] * factor
        else:
            width = f.shape[1]
            if width not in t_cache:
                t_cache[width] = np.arange(1, width + 1)
            after = t_cache[width] > periods[:, None]
            ignored += int(np.count_nonzero((f != 0) & after))
            value = present_value(config.rate, f, periods, config.timing, name=name)
        disc[name] = np.where(allowed, value, 0.0)

    if config.transaction_income is not None:
        carrier = _carrier_mask(df, codes)
        counts = carriers_per_period(df, config) if carriers is None else np.asarray(carriers)
        disc["tv"] = _allocated_tv(config, periods, carrier, counts)

    iv = np.full(n, float(config.iv))
    ltv = disc["pv"] + disc["ppv"] + disc["cv"] + disc["kv"] + disc["tv"] + iv
    type_cat = pd.Categorical.from_codes(codes, categories=list(TYPES))

    out = {}
    if "customer_id" in df.columns:
        out["customer_id"] = df["customer_id"].to_numpy()
    out["type"] = type_cat
    if score is not None:
        out["score"] = score
    for name in COMPONENTS:
        out[name] = disc[name]
    out["iv"] = iv
    out["ltv"] = ltv
    tiers = value_tier(ltv, config.tier_cutoffs) if n else np.array([], dtype=object)
    out["tier"] = pd.Categorical(tiers, categories=list(TIERS))
    if all(c in df.columns for c in _LINK_COLUMNS):
        links = solid_links(*(df[c].to_numpy() for c in _LINK_COLUMNS))
        out["links"] = links
        out["at_risk"] = (links < REQUIRED_LINKS) & _key_customers(df)
    result = pd.DataFrame(out, index=df.index)

    sums = np.zeros((len(VALUE_KINDS), len(TYPES)))
    for k, name in enumerate(COMPONENTS):
        sums[k] = np.bincount(codes, weights=disc[name], minlength=4)
    sums[-1] = np.bincount(codes, weights=iv, minlength=4)
    return Measurement(customers=result, counts=np.bincount(codes, minlength=4), sums=sums,
                       excluded=excluded, ignored_after_last_period=ignored, config=config)
