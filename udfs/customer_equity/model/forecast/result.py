"""The fitted forecast of a customer base: a summary, two fitted models, the predictions.

The purchase model is BG/NBD unless another is chosen (Pareto/NBD, MBG/NBD; see
:mod:`.purchases`); the models fitted for comparison are kept beside it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ...errors import CustomerEquityError
from ..config import MeasureConfig
from ..discount import discount_factors
from ._base import FittedModel
from ._mle import group_rows
from . import purchases as _purchases
from .bgnbd import fit_bgnbd
from .data import LogSummary
from .gamma_gamma import expected_spend, fit_gamma_gamma, frequency_spend_correlation
from .value import (ForecastJoin, HorizonSums, _grid_cost, _margin, check_horizon,
                    horizon_sums, join_forecast)

__all__ = ["PREDICTION_COLUMNS", "CustomerForecast", "fit_forecast"]

#: Seconds of the expected-purchases grid computed in one step.
STEP_SECONDS = 0.25

PREDICTION_COLUMNS = ("frequency", "recency", "T", "monetary_value", "p_alive",
                      "expected_purchases", "expected_spend", "ltv")

#: Frequencies of the calibration-vs-holdout table: 0..6 and 7 or more (as in FHL 2005).
HOLDOUT_GROUPS = 7


@dataclasses.dataclass
class CustomerForecast:
    """BG/NBD and Gamma-Gamma fitted to a customer base's summary.

    Attributes
    ----------
    summary : LogSummary
    bgnbd, gamma_gamma : FittedModel
    correlation : float
        Frequency-spend correlation among the repeat buyers (the Gamma-Gamma model
        assumes none).
    purchases : FittedModel, optional
        The purchase model the predictions use when it is not ``bgnbd``: a Pareto/NBD or
        MBG/NBD fit (see :attr:`purchase_model`).
    models : dict of str to FittedModel
        The purchase models fitted on the same customers for comparison (:meth:`comparison`).

    Examples
    --------
    >>> from customer_equity.model.forecast import load_cdnow, summary_data
    >>> s = summary_data(load_cdnow(), unit="week", calibration_end="1997-09-30")
    >>> f = fit_forecast(s)
    >>> round(f.bgnbd["r"], 3), round(f.bgnbd["alpha"], 2)
    (0.243, 4.41)
    """

    summary: LogSummary
    bgnbd: FittedModel
    gamma_gamma: FittedModel
    correlation: float
    purchases: FittedModel | None = None
    models: dict = dataclasses.field(default_factory=dict)
    #: Comparison models that could not be fitted: model key -> the reason.
    unfitted: dict = dataclasses.field(default_factory=dict)
    _grids: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)

    @property
    def purchase_model(self) -> FittedModel:
        """The fitted purchase model of the predictions: ``purchases``, else BG/NBD."""
        return self.purchases if self.purchases is not None else self.bgnbd

    def _columns(self, rows=None):
        c = self.summary.customers
        if rows is not None:
            c = c.iloc[rows]
        return (c["frequency"].to_numpy(), c["recency"].to_numpy(), c["T"].to_numpy(),
                c["monetary_value"].to_numpy())

    def _grid(self, horizon: int):
        """E[Y(k)] numerators for k = 0..periods on the distinct (x, T) of the whole base and
        the customers' rows in it: the per-period table :meth:`values` gathers from."""
        key = ("grid", horizon)
        if key not in self._grids:
            fit = self.purchase_model
            x, t_x, T, _ = self._columns()
            (ux, uT), inverse = group_rows(x, T)
            cost = _grid_cost(fit, horizon, ux, uT)
            check_horizon(horizon, len(x), rows_at_once=len(ux), name="horizon",
                          grid_rows=len(ux), grid_cost=cost)
            k = np.arange(horizon + 1, dtype=np.float64)[:, None]
            table = np.empty((horizon + 1, len(ux)))
            # in steps of about STEP_SECONDS: Ctrl-C and SIGTERM are heard between two steps
            step = max(1, int(STEP_SECONDS / (cost * (horizon + 1))))
            for j in range(0, len(ux), step):
                table[:, j:j + step] = _purchases.numerator(fit, k, ux[j:j + step], uT[j:j + step])
            if not np.isfinite(table).all():  # the same clear error as expected_purchases
                _purchases.expected_purchases(fit, float(horizon), x, t_x, T)
            self._forget()
            self._grids[key] = (table, inverse)
        return self._grids[key]

    def _forget(self):
        """Let go of the kept per-period table or horizon sums (one at a time is kept)."""
        for key in [k for k in self._grids if k != "holdout"]:
            del self._grids[key]

    def _odds(self, rows):
        """The odds of having dropped out of the customers ``rows`` (a chunk at a time: not
        kept for the whole base)."""
        x, t_x, T, _ = self._columns(rows)
        return _purchases.dropout_odds(self.purchase_model, x, t_x, T)

    def horizon_sums(self, horizon: int, rate: float = 0.0, timing: str = "end",
                progress=None) -> HorizonSums:
        """The discounted expected purchases over ``horizon`` per distinct ``(x, T)`` of the
        base (:func:`~customer_equity.model.forecast.value.horizon_sums`), computed once a
        block of periods at a time and kept for :meth:`ltv` and :meth:`predict`.

        ``progress`` is called with the number of periods done after each block.
        """
        k = int(horizon)
        factors = discount_factors(rate, k, timing)  # checks the rate and the timing
        if factors.ndim != 1:
            raise CustomerEquityError("rate", "must be one rate per period for all customers")
        key = ("horizon", k, float(rate), timing)
        if key not in self._grids:
            x, t_x, T, _ = self._columns()
            # refused before it allocates if out of reach (horizon_sums: check_horizon)
            sums = horizon_sums(self.purchase_model, x, t_x, T, k, factors, progress,
                                name="horizon")
            self._forget()
            self._grids[key] = sums
        return self._grids[key]

    def values(self, horizon: int, margin: float = 1.0, rows=None) -> np.ndarray:
        """``PV_k`` per customer and period, shape (N, periods); see :func:`forecast_values`.

        ``rows`` (a slice) takes a chunk of the customers.
        """
        x, _, _, m = self._columns(rows)
        table, inverse = self._grid(int(horizon))
        sel = slice(None) if rows is None else rows
        cumulative = table[:, inverse[sel]] / (1.0 + self._odds(rows))
        spend = expected_spend(self.gamma_gamma, x, m) * _margin(margin)
        return np.diff(cumulative, axis=0).T * spend[:, None]

    def ltv(self, horizon: int, rate: float = 0.0, margin: float = 1.0, timing: str = "end",
            rows=None, progress=None) -> np.ndarray:
        """Each customer's forecast lifetime value over ``horizon`` periods: the
        discounted sum of :meth:`values` without the per-period table (see
        :func:`~customer_equity.model.forecast.customer_lifetime_value`).

        ``rows`` (a slice) takes a chunk of the customers; ``progress`` as :meth:`horizon`.
        """
        x, _, _, m = self._columns(rows)
        sums = self.horizon_sums(horizon, rate, timing, progress)
        spend = expected_spend(self.gamma_gamma, x, m) * _margin(margin)
        return sums.ltv(slice(None) if rows is None else rows, self._odds(rows), spend)

    def predict(self, horizon: int, rate: float = 0.0, margin: float = 1.0,
                timing: str = "end", rows=None, progress=None) -> pd.DataFrame:
        """Per customer: the summary, ``p_alive``, ``expected_purchases`` over ``horizon``
        periods, ``expected_spend`` per purchase and the discounted ``ltv``.

        With a holdout, ``actual_purchases`` (and ``actual_amount``) follow. ``rows``
        (a slice) takes a chunk of the customers; ``progress`` as :meth:`horizon`.
        """
        c = self.summary.customers if rows is None else self.summary.customers.iloc[rows]
        x, _, _, m = self._columns(rows)
        sums = self.horizon_sums(horizon, rate, timing, progress)
        sel = slice(None) if rows is None else rows
        odds = self._odds(rows)
        spend = expected_spend(self.gamma_gamma, x, m)
        out = c[["frequency", "recency", "T", "monetary_value"]].copy()
        out["p_alive"] = 1.0 / (1.0 + odds)
        out["expected_purchases"] = sums.purchases(sel, odds)
        out["expected_spend"] = spend
        out["ltv"] = sums.ltv(sel, odds, spend * _margin(margin))
        for col in ("actual_purchases", "actual_amount"):
            if col in c:
                out[col] = c[col]
        return out

    #: Customers predicted at a time for the holdout comparison.
    HOLDOUT_CHUNK = 1 << 20

    def _holdout_sums(self):
        """Per calibration frequency 0..6, 7+: customers, actual and predicted holdout
        purchases, and the totals of purchases and amounts, predicted and actual; a chunk
        of customers at a time (memory flat in the customer count)."""
        if not self.summary.holdout:
            raise CustomerEquityError("observation_end", "no holdout period: give an observation "
                                      "end after the calibration end")
        if "holdout" in self._grids:
            return self._grids["holdout"]
        c = self.summary.customers
        groups = HOLDOUT_GROUPS + 1
        customers, actual, predicted = np.zeros(groups), np.zeros(groups), np.zeros(groups)
        amount_predicted = 0.0
        for start in range(0, len(c), self.HOLDOUT_CHUNK):
            rows = slice(start, start + self.HOLDOUT_CHUNK)
            x, t_x, T, m = self._columns(rows)
            purchases = _purchases.expected_purchases(self.purchase_model,
                                                      self.summary.holdout_length, x, t_x, T)
            group = np.minimum(x, HOLDOUT_GROUPS).astype(np.intp)
            customers += np.bincount(group, minlength=groups)
            actual += np.bincount(group, weights=c["actual_purchases"].to_numpy()[rows],
                                  minlength=groups)
            predicted += np.bincount(group, weights=purchases, minlength=groups)
            amount_predicted += float(purchases @ expected_spend(self.gamma_gamma, x, m))
        sums = {"customers": customers, "actual": actual, "predicted": predicted,
                "predicted_amount": amount_predicted}
        self._grids["holdout"] = sums
        return sums

    def holdout_table(self) -> pd.DataFrame:
        """Calibration vs holdout by calibration frequency (0, 1, ..., 6, 7+): customers,
        mean actual and mean predicted purchases in the holdout period."""
        sums = self._holdout_sums()
        labels = [str(k) for k in range(HOLDOUT_GROUPS)] + [f"{HOLDOUT_GROUPS}+"]
        with np.errstate(invalid="ignore", divide="ignore"):
            table = pd.DataFrame({"customers": sums["customers"].astype(np.int64),
                                  "actual": sums["actual"] / sums["customers"],
                                  "predicted": sums["predicted"] / sums["customers"]},
                                 index=pd.CategoricalIndex(labels, categories=labels,
                                                           name="frequency"))
        return table

    def holdout_totals(self) -> dict:
        """Holdout purchases and spend, predicted and actual, over all customers."""
        if not self.summary.holdout:
            return {}
        sums = self._holdout_sums()
        c = self.summary.customers
        return {"length": self.summary.holdout_length,
                "predicted_purchases": float(sums["predicted"].sum()),
                "actual_purchases": float(c["actual_purchases"].sum()),
                "predicted_amount": sums["predicted_amount"],
                "actual_amount": float(c["actual_amount"].sum())}

    def measure(self, customers: pd.DataFrame, config: MeasureConfig | None = None,
                periods: int = 1, margin: float = 1.0):
        """Customer equity by type from the forecast: the PV streams joined to ``customers``.

        Returns ``(Measurement, ForecastJoin)``; see :func:`join_forecast`.
        """
        from ..measure import measure

        joined: ForecastJoin = join_forecast(customers, self.summary.customers.index.to_numpy(),
                                             self.values(periods, margin))
        return measure(joined.table, config or MeasureConfig()), joined

    def purchase_counts(self, most: int = HOLDOUT_GROUPS) -> pd.DataFrame:
        """Customers by repeat purchases in the calibration (0, 1, ..., ``most``+): observed, and
        expected under the purchase model given each customer's ``T`` (the sum of
        :func:`~customer_equity.model.forecast.purchases.purchase_pmf` over the customers)."""
        x, _, T, _ = self._columns()
        (uT,), inverse = group_rows(T)
        pmf = _purchases.purchase_pmf(self.purchase_model, uT, most)
        expected = (np.bincount(inverse, minlength=uT.size)[:, None] * pmf).sum(axis=0)
        observed = np.bincount(np.minimum(x, most).astype(int), minlength=most + 1)
        labels = [str(k) for k in range(most)] + [f"{most}+"]
        return pd.DataFrame({"observed": observed, "model": expected},
                            index=pd.Index(labels, name="repeat purchases"))

    def p_alive_grid(self, frequencies: int | None = None, points: int = 40):
        """P(alive) at the calibration end of a customer observed for the longest ``T`` of the
        base, by frequency (0 .. ``frequencies``) and recency (``points`` values from 0 to ``T``):
        ``(frequencies, recencies, table)`` with ``table[i, j]`` at frequency ``i``, recency ``j``
        (a frequency of 0 has recency 0 only: NaN elsewhere)."""
        x, _, T, _ = self._columns()
        top = float(T.max()) if T.size else 0.0
        most = int(np.percentile(x, 99)) if frequencies is None and x.size else int(frequencies or 0)
        freq = np.arange(max(most, 1) + 1, dtype=np.float64)
        rec = np.linspace(0.0, top, points)
        xx, rr = np.meshgrid(freq, rec, indexing="ij")
        rr = np.where(xx == 0, 0.0, rr)
        alive = _purchases.p_alive(self.purchase_model, xx.ravel(), rr.ravel(),
                                   np.full(xx.size, top)).reshape(xx.shape)
        alive[(xx == 0) & (np.arange(points)[None, :] > 0)] = np.nan
        return freq, rec, alive

    def comparison(self) -> list[dict]:
        """The purchase models fitted on these customers (the one used first): log-likelihood,
        BIC and, with a holdout, the error of each one's holdout predictions
        (:func:`customer_equity.model.forecast.purchases.compare`)."""
        fits = {self.purchase_model.model: self.purchase_model, **self.models}
        x, t_x, T, _ = self._columns()
        s = self.summary
        actual = s.customers["actual_purchases"].to_numpy() if s.holdout else None
        return _purchases.compare(fits.values(), x, t_x, T, actual,
                                  s.holdout_length if s.holdout else None, unfitted=self.unfitted)

    def to_dict(self) -> dict:
        """Parameters, standard errors, log-likelihoods, counts and holdout totals (JSON-ready)."""
        s = self.summary
        c = s.customers
        chosen = self.purchase_model
        extra = {} if self.purchases is None else {
            chosen.model: dict(chosen.params)}
        extra_se = {} if self.purchases is None else {
            chosen.model: chosen.to_dict()["standard_errors"]}
        extra_ll = {} if self.purchases is None else {chosen.model: chosen.log_likelihood}
        return {
            "unit": s.unit,
            "calibration_end": s.calibration_end.isoformat(),
            "observation_end": s.observation_end.isoformat(),
            "purchase_model": chosen.model,
            "bgnbd": dict(self.bgnbd.params), **extra, "gamma_gamma": dict(self.gamma_gamma.params),
            "standard_errors": {"bgnbd": self.bgnbd.to_dict()["standard_errors"], **extra_se,
                                "gamma_gamma": self.gamma_gamma.to_dict()["standard_errors"]},
            "log_likelihood": {"bgnbd": self.bgnbd.log_likelihood, **extra_ll,
                               "gamma_gamma": self.gamma_gamma.log_likelihood},
            "frequency_spend_correlation": (None if np.isnan(self.correlation)
                                            else self.correlation),
            "customers": {"calibration": len(c),
                          "repeat_buyers": int((c["frequency"] > 0).sum()),
                          "spend_model": self.gamma_gamma.customers},
            "log": dict(s.counts),
            "holdout": self.holdout_totals() or None,
            "models": self.comparison() if self.models or self.unfitted else None,
        }


def fit_inputs(summary: LogSummary):
    """The arrays the two models are fitted on: ``frequency, recency, T, monetary_value``
    of the calibration customers (refused when there are none)."""
    c = summary.customers
    if len(c) == 0:
        raise CustomerEquityError("log", "no customer in the calibration period")
    return tuple(c[k].to_numpy() for k in ("frequency", "recency", "T", "monetary_value"))


def fit_forecast(summary: LogSummary, model: str = "bgnbd", compare: bool = False) -> CustomerForecast:
    """Fit BG/NBD (or another purchase model) on every customer and Gamma-Gamma on the repeat
    buyers with a positive spend.

    Parameters
    ----------
    summary : LogSummary
    model : {"bgnbd", "pareto_nbd", "mbgnbd"}
        The purchase model of the predictions (the command's ``bg-nbd``, ``pareto-nbd``,
        ``mbg-nbd`` are accepted). BG/NBD is fitted in any case.
    compare : bool
        Also fit the other purchase models, for :meth:`CustomerForecast.comparison`.

    Fader, Hardie & Lee (2005), "Counting your customers the easy way" and "RFM and CLV".
    """
    key = _purchases.purchase_model(model)
    x, t_x, T, m = fit_inputs(summary)
    forecast = CustomerForecast(summary=summary, bgnbd=fit_bgnbd(x, t_x, T),
                                gamma_gamma=fit_gamma_gamma(x, m),
                                correlation=frequency_spend_correlation(x, m))
    return add_purchase_models(forecast, key, compare)


def add_purchase_models(forecast: CustomerForecast, model: str = "bgnbd",
                        compare: bool = False) -> CustomerForecast:
    """``forecast`` with ``model`` as its purchase model and, with ``compare``, every purchase
    model fitted on its customers (on the distinct rows, as each ``fit_*`` does).

    A model fitted only for the comparison that cannot be fitted (an estimate that diverges
    on these customers) is left out of ``models`` with its reason in ``unfitted``; the model
    of the predictions failing is an error."""
    key = _purchases.purchase_model(model)
    wanted = list(_purchases.PURCHASE_MODELS) if compare else [key]
    x, t_x, T, _ = fit_inputs(forecast.summary)
    fits, unfitted = {"bgnbd": forecast.bgnbd}, {}
    for name in wanted:
        if name in fits:
            continue
        try:
            fits[name] = _purchases.fit(name, x, t_x, T)
        except CustomerEquityError as err:
            if name == key:
                raise
            unfitted[name] = str(err)
    return dataclasses.replace(forecast, purchases=None if key == "bgnbd" else fits[key],
                               models={k: fits[k] for k in wanted if k in fits} if compare else {},
                               unfitted=unfitted, _grids={})
