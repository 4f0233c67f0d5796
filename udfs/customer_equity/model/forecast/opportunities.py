"""A transaction log read as discrete purchase opportunities, and its BG/BB forecast.

Where customers can buy only at discrete occasions (a yearly donation drive, an annual event,
a weekly market), each period of the unit after a customer's first purchase is one
opportunity, taken or not (Fader, Hardie & Shang 2010, the 1995 donor cohort: 1995 is the
year of the first donation, 1996-2001 the six opportunities). The summary is BG/BB's
``frequency, recency, n_periods``; the forecast is :mod:`.bgbb` for purchases and
:mod:`.gamma_gamma` for the amount of an opportunity taken.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ...errors import CustomerEquityError
from ._base import FittedModel
from ._mle import group_rows
from .bgbb import bgbb_expected_purchases, bgbb_p_alive, bgbb_pmf, fit_bgbb
from .data import COUNT_NAMES, LogSummary, day_to_date, id_order, unit_days
from .gamma_gamma import expected_spend, fit_gamma_gamma, frequency_spend_correlation
from .value import _margin, forecast_ltv

__all__ = ["OPPORTUNITY_COLUMNS", "OpportunityForecast", "fit_opportunity_forecast",
           "summarise_opportunities"]

#: The summary's columns, and with a holdout the three after them.
OPPORTUNITY_COLUMNS = ("frequency", "recency", "n_periods", "monetary_value")
HOLDOUT_COLUMNS = ("actual_purchases", "actual_amount", "holdout_periods")


def summarise_opportunities(ids, days, amounts, calibration_end: int, observation_end: int,
                            unit: str = "year", index_name: str = "customer_id",
                            counts: dict | None = None) -> LogSummary:
    """Each customer's opportunities: taken (``frequency``), the last taken (``recency``) and
    observed (``n_periods``) in the calibration, the mean amount of those taken.

    Parameters
    ----------
    ids, days, amounts : array_like
        Purchase occasions: customer, day (days since 1970-01-01) and amount (>= 0), within the
        observation end.
    calibration_end, observation_end : int
        Days since 1970-01-01.
    unit : {"day", "week", "month", "year"}
        One opportunity.

    Notes
    -----
    With ``f`` a customer's first purchase day and ``u`` the unit in days, opportunity ``k``
    is the days ``[f + k u, f + (k+1) u)``; ``k = 0`` holds the first purchase (its other
    purchases are not opportunities). The calibration observes the opportunities that end by
    the calibration end ``c``: ``n = floor((c - f + 1)/u) - 1``; ``x`` counts those with a
    purchase, ``t_x`` is the last (0 without). With a holdout to ``e``, opportunities
    ``n+1 .. floor((e - f + 1)/u) - 1`` (``holdout_periods`` of them) give ``actual_purchases``.

    Examples
    --------
    Years from 2000-03-01 (day 11017): purchases in years 0, 1 and 3; years 1-4 observed whole
    by 2005-03-01 (day 11017 + 1826, the last of year 4).

    >>> s = summarise_opportunities([7, 7, 7], [11017, 11017 + 400, 11017 + 1200], [5.0, 7.0, 9.0],
    ...                             11017 + 1826, 11017 + 1826, "year")
    >>> s.customers.loc[7].tolist()
    [2.0, 3.0, 4.0, 8.0]
    """
    u = unit_days(unit)
    ids = np.asarray(ids)
    days = np.asarray(days, dtype=np.int64)
    amounts = np.asarray(amounts, dtype=np.float64)
    codes, uniques = pd.factorize(ids)
    n = len(uniques)
    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, codes, days)
    k = np.floor((days - first[codes]) / u).astype(np.int64)
    cal_n = np.maximum(np.floor((calibration_end - first + 1) / u).astype(np.int64) - 1, 0)
    obs_n = np.maximum(np.floor((observation_end - first + 1) / u).astype(np.int64) - 1, 0)
    # one row per (customer, opportunity) with a purchase, its amount added up
    key, inverse = np.unique(codes.astype(np.int64) * (int(k.max(initial=0)) + 1) + k,
                             return_inverse=True)
    opp_amount = np.bincount(inverse.reshape(-1), weights=amounts, minlength=key.size)
    span = int(k.max(initial=0)) + 1
    opp_code, opp_k = key // span, key % span
    cal = (opp_k >= 1) & (opp_k <= cal_n[opp_code])
    x = np.bincount(opp_code[cal], minlength=n).astype(np.float64)
    t_x = np.zeros(n)
    np.maximum.at(t_x, opp_code[cal], opp_k[cal].astype(np.float64))
    total = np.bincount(opp_code[cal], weights=opp_amount[cal], minlength=n)
    in_cal = first <= calibration_end
    columns = {"frequency": x, "recency": t_x, "n_periods": cal_n.astype(np.float64),
               "monetary_value": np.where(x > 0, total / np.maximum(x, 1), 0.0)}
    if observation_end > calibration_end:
        hold = (opp_k > cal_n[opp_code]) & (opp_k <= obs_n[opp_code])
        columns["actual_purchases"] = np.bincount(opp_code[hold], minlength=n).astype(np.float64)
        columns["actual_amount"] = np.bincount(opp_code[hold], weights=opp_amount[hold], minlength=n)
        columns["holdout_periods"] = (obs_n - cal_n).astype(np.float64)
    index = np.asarray(uniques)[in_cal]
    order = id_order(index)
    customers = pd.DataFrame({c: v[in_cal][order] for c, v in columns.items()},
                             index=pd.Index(index[order], name=index_name))
    counts = dict(counts or {})
    counts["first_purchase_after_calibration"] = int((~in_cal).sum())
    for name in COUNT_NAMES:
        counts.setdefault(name, 0)
    return LogSummary(customers=customers, unit=unit, calibration_end=day_to_date(calibration_end),
                      observation_end=day_to_date(observation_end), counts=counts)


@dataclasses.dataclass
class OpportunityForecast:
    """BG/BB purchases and Gamma-Gamma amounts fitted to an opportunity summary; the same
    predictions as :class:`~customer_equity.model.forecast.CustomerForecast`, a horizon being
    a number of opportunities."""

    summary: LogSummary
    bgbb: FittedModel
    gamma_gamma: FittedModel
    correlation: float
    models: dict = dataclasses.field(default_factory=dict)

    @property
    def purchase_model(self) -> FittedModel:
        return self.bgbb

    def _columns(self, rows=None):
        c = self.summary.customers if rows is None else self.summary.customers.iloc[rows]
        return tuple(c[k].to_numpy() for k in OPPORTUNITY_COLUMNS)

    def _cumulative(self, horizon, rows=None):
        x, t_x, n, _ = self._columns(rows)
        k = np.arange(horizon + 1, dtype=np.float64).reshape(-1, 1)
        return bgbb_expected_purchases(self.bgbb, k, x, t_x, n) if x.size else np.zeros((horizon + 1, 0))

    def values(self, horizon: int, margin: float = 1.0, rows=None) -> np.ndarray:
        """``PV_k`` per customer and opportunity ``k = 1..periods``: the expected purchases of
        opportunity ``k`` times the expected amount and the margin."""
        x, _, _, m = self._columns(rows)
        spend = expected_spend(self.gamma_gamma, x, m) * _margin(margin)
        return np.diff(self._cumulative(int(horizon), rows), axis=0).T * spend[:, None]

    def ltv(self, horizon: int, rate: float = 0.0, margin: float = 1.0, timing: str = "end",
            rows=None, progress=None) -> np.ndarray:
        """Each customer's discounted forecast value over ``horizon`` opportunities (the
        ``ltv`` of :meth:`predict`); ``progress`` is called with the opportunities done."""
        out = forecast_ltv(self.values(horizon, margin, rows), rate, timing)
        if progress is not None:
            progress(int(horizon))
        return out

    def predict(self, horizon: int, rate: float = 0.0, margin: float = 1.0, timing: str = "end",
                rows=None) -> pd.DataFrame:
        """Per customer: the summary, ``p_alive`` (at the next opportunity),
        ``expected_purchases`` over ``horizon`` opportunities, ``expected_spend``, ``ltv``."""
        c = self.summary.customers if rows is None else self.summary.customers.iloc[rows]
        x, t_x, n, m = self._columns(rows)
        cumulative = self._cumulative(int(horizon), rows)
        spend = expected_spend(self.gamma_gamma, x, m)
        out = c[list(OPPORTUNITY_COLUMNS)].copy()
        out["p_alive"] = bgbb_p_alive(self.bgbb, x, t_x, n) if len(out) else []
        out["expected_purchases"] = cumulative[-1]
        out["expected_spend"] = spend
        values = np.diff(cumulative, axis=0).T * (spend * _margin(margin))[:, None]
        out["ltv"] = forecast_ltv(values, rate, timing) if len(out) else []
        for col in ("actual_purchases", "actual_amount"):
            if col in c:
                out[col] = c[col]
        return out

    def _holdout_predicted(self):
        x, t_x, n, _ = self._columns()
        m = self.summary.customers["holdout_periods"].to_numpy()
        return bgbb_expected_purchases(self.bgbb, m, x, t_x, n) if x.size > 1 else \
            bgbb_expected_purchases(self.bgbb, m.reshape(()), x, t_x, n)

    def holdout_table(self) -> pd.DataFrame:
        """Holdout opportunities taken by calibration frequency (0, 1, ..., 6, 7+): customers,
        mean actual and mean predicted (each customer over its own holdout opportunities)."""
        if not self.summary.holdout:
            raise CustomerEquityError("observation_end", "no holdout period: give an observation "
                                      "end after the calibration end")
        from .result import HOLDOUT_GROUPS

        x = self.summary.customers["frequency"].to_numpy()
        group = np.minimum(x, HOLDOUT_GROUPS).astype(int)
        labels = [str(k) for k in range(HOLDOUT_GROUPS)] + [f"{HOLDOUT_GROUPS}+"]
        frame = pd.DataFrame({"frequency": pd.Categorical.from_codes(group, labels),
                              "actual": self.summary.customers["actual_purchases"].to_numpy(),
                              "predicted": self._holdout_predicted()})
        return frame.groupby("frequency", observed=False).agg(
            customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean"))

    def holdout_totals(self) -> dict:
        if not self.summary.holdout:
            return {}
        x, _, _, m = self._columns()
        purchases = self._holdout_predicted()
        spend = expected_spend(self.gamma_gamma, x, m)
        c = self.summary.customers
        return {"length": self.summary.holdout_length,
                "predicted_purchases": float(purchases.sum()),
                "actual_purchases": float(c["actual_purchases"].sum()),
                "predicted_amount": float((purchases * spend).sum()),
                "actual_amount": float(c["actual_amount"].sum())}

    def purchase_counts(self, most: int | None = None) -> pd.DataFrame:
        """Customers by opportunities taken in the calibration (0, 1, ..., ``most``+): observed,
        and expected under BG/BB given each customer's ``n_periods`` (the sum of
        :func:`~customer_equity.model.forecast.bgbb.bgbb_pmf` over the customers)."""
        from .result import HOLDOUT_GROUPS

        most = HOLDOUT_GROUPS if most is None else most
        x, _, n, _ = self._columns()
        (un,), inverse = group_rows(n)
        pmf = bgbb_pmf(self.bgbb, un, most)
        expected = (np.bincount(inverse, minlength=un.size)[:, None] * pmf).sum(axis=0)
        observed = np.bincount(np.minimum(x, most).astype(int), minlength=most + 1)
        labels = [str(k) for k in range(most)] + [f"{most}+"]
        return pd.DataFrame({"observed": observed, "model": expected},
                            index=pd.Index(labels, name="repeat purchases"))

    def p_alive_grid(self, frequencies: int | None = None, points: int | None = None):
        """P(alive at the next opportunity) of a customer observed for the most opportunities
        ``n`` of the base, by frequency (0 .. ``frequencies``, at most ``n``) and recency (the
        opportunities 0 .. ``n``): ``(frequencies, recencies, table)``, ``table[i, j]`` NaN
        where no customer can be (``recency < frequency``, or a recency without a purchase).
        ``points`` is accepted for the continuous models' signature; recency is whole here."""
        x, _, n, _ = self._columns()
        top = int(n.max()) if n.size else 0
        most = int(np.percentile(x, 99)) if frequencies is None and x.size else int(frequencies or 0)
        freq = np.arange(min(max(most, 1), max(top, 1)) + 1, dtype=np.float64)
        rec = np.arange(top + 1, dtype=np.float64)
        xx, rr = np.meshgrid(freq, rec, indexing="ij")
        possible = (rr >= xx) & ((xx > 0) | (rr == 0))
        alive = np.full(xx.shape, np.nan)
        if possible.any():
            alive[possible] = bgbb_p_alive(self.bgbb, xx[possible], rr[possible],
                                           np.full(int(possible.sum()), float(top)))
        return freq, rec, alive

    def comparison(self) -> list:
        return []

    def to_dict(self) -> dict:
        s = self.summary
        c = s.customers
        return {
            "unit": s.unit, "calibration_end": s.calibration_end.isoformat(),
            "observation_end": s.observation_end.isoformat(), "purchase_model": "bgbb",
            "bgbb": dict(self.bgbb.params), "gamma_gamma": dict(self.gamma_gamma.params),
            "standard_errors": {"bgbb": self.bgbb.to_dict()["standard_errors"],
                                "gamma_gamma": self.gamma_gamma.to_dict()["standard_errors"]},
            "log_likelihood": {"bgbb": self.bgbb.log_likelihood,
                               "gamma_gamma": self.gamma_gamma.log_likelihood},
            "frequency_spend_correlation": (None if np.isnan(self.correlation) else self.correlation),
            "customers": {"calibration": len(c), "repeat_buyers": int((c["frequency"] > 0).sum()),
                          "spend_model": self.gamma_gamma.customers},
            "log": dict(s.counts), "holdout": self.holdout_totals() or None, "models": None,
        }


def fit_opportunity_forecast(summary: LogSummary) -> OpportunityForecast:
    """Fit BG/BB on every customer's opportunities and Gamma-Gamma on the amounts of the
    opportunities taken (Fader, Hardie & Shang 2010; Fader, Hardie & Lee 2005)."""
    c = summary.customers
    if len(c) == 0:
        raise CustomerEquityError("log", "no customer in the calibration period")
    x, t_x, n, m = (c[k].to_numpy() for k in OPPORTUNITY_COLUMNS)
    if not (n > 0).any():
        raise CustomerEquityError("calibration_end", "no customer has a whole opportunity (one "
                                  f"{summary.unit} after the first purchase) before the calibration "
                                  "end: choose a later calibration end or a shorter unit")
    return OpportunityForecast(summary=summary, bgbb=fit_bgbb(x, t_x, n),
                               gamma_gamma=fit_gamma_gamma(x, m),
                               correlation=frequency_spend_correlation(x, m))
