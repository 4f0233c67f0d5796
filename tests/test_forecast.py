"""Forecasts from a transaction log: the summary, BG/NBD, Gamma-Gamma and the values.

Oracles: lifetimes (a test-only dependency) on the CDNOW sample with a 39-week
calibration measured in weeks from days, and hand-worked values written out here
(math.lgamma and series sums, no scipy).
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from customer_equity.errors import CustomerEquityError
from customer_equity.model import MeasureConfig
from customer_equity.model.forecast import (
    bgnbd_log_likelihood,
    expected_purchases,
    expected_purchases_new,
    expected_spend,
    fit_bgnbd,
    fit_forecast,
    fit_gamma_gamma,
    forecast_ltv,
    forecast_values,
    gamma_gamma_log_likelihood,
    join_forecast,
    load_cdnow,
    p_alive,
    summary_data,
)

CAL, OBS = "1997-09-30", "1998-06-30"


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow()


@pytest.fixture(scope="module")
def summary(cdnow):
    return summary_data(cdnow, unit="week", calibration_end=CAL, observation_end=OBS)


@pytest.fixture(scope="module")
def oracle(cdnow):
    pytest.importorskip("lifetimes")
    from lifetimes.utils import calibration_and_holdout_data

    return calibration_and_holdout_data(cdnow, "customer_id", "date", calibration_period_end=CAL,
                                        observation_period_end=OBS, freq="D", freq_multiplier=7,
                                        monetary_value_col="amount")


@pytest.fixture(scope="module")
def lifetimes_fits(oracle):
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bg = BetaGeoFitter().fit(oracle["frequency_cal"], oracle["recency_cal"], oracle["T_cal"])
        repeat = oracle[oracle["frequency_cal"] > 0]
        gg = GammaGammaFitter().fit(repeat["frequency_cal"], repeat["monetary_value_cal"])
    return bg, gg


@pytest.fixture(scope="module")
def forecast(summary):
    return fit_forecast(summary)


# --------------------------------------------------------------------------- the summary

def test_summary_matches_lifetimes_calibration_and_holdout(summary, oracle, cdnow):
    s = summary.customers
    assert len(s) == 2357 and list(s.index) == list(oracle.index)
    for ours, theirs in [("frequency", "frequency_cal"), ("recency", "recency_cal"), ("T", "T_cal"),
                         ("monetary_value", "monetary_value_cal"),
                         ("actual_purchases", "frequency_holdout")]:
        np.testing.assert_allclose(s[ours].to_numpy(), oracle[theirs].to_numpy(), rtol=1e-12,
                                   atol=1e-9, err_msg=ours)
    assert summary.holdout_length == oracle["duration_holdout"].iloc[0] == 39.0
    # lifetimes' monetary_value_holdout is a mean per transaction, not per purchase day:
    # the holdout amount is checked against the log directly
    holdout = cdnow[(cdnow["date"] > CAL) & (cdnow["date"] <= OBS)]
    spent = holdout.groupby("customer_id")["amount"].sum().reindex(s.index, fill_value=0.0)
    np.testing.assert_allclose(s["actual_amount"], spent, rtol=1e-12)


def test_summary_by_hand_same_day_returns_and_units():
    # customer 7: day 0 twice (one occasion, 10 + 5), day 14 (20), a return on day 20,
    # day 28 (30) and day 40 (after the calibration end, in the holdout);
    # customer 8 first buys in the holdout; customer 9 buys once on the calibration end.
    log = pd.DataFrame({
        "Customer": [7, 7, 7, 7, 7, 7, 8, 9],
        "When": ["2024-01-01", "2024-01-01 18:30", "2024-01-15", "2024-01-21", "2024-01-29",
                 "2024-02-10", "2024-02-05", "2024-01-31"],
        "Paid": [10.0, 5.0, 20.0, -20.0, 30.0, 8.0, 4.0, 0.0]})
    s = summary_data(log, "customer", "when", "paid", unit="day", calibration_end="2024-01-31",
                     observation_end="2024-02-10")
    c = s.customers
    assert c.index.name == "Customer" and list(c.index) == [7, 9]
    assert c.loc[7].tolist() == [2.0, 28.0, 30.0, 25.0, 1.0, 8.0]  # m = (20 + 30) / 2
    assert c.loc[9].tolist() == [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert s.counts == {"transactions": 8, "returns": 1, "zero_amounts": 1,
                        "after_observation_end": 0, "first_purchase_after_calibration": 1,
                        "future": 0, "duplicates": 0, "blank_rows": 0}
    weeks = summary_data(log, "customer", "when", "paid", unit="week", calibration_end="2024-01-31")
    assert weeks.customers.loc[7, "T"] == pytest.approx(30 / 7)
    # without an observation end the holdout runs to the log's last date
    assert str(weeks.observation_end) == "2024-02-10" and weeks.counts["after_observation_end"] == 0
    assert weeks.customers.loc[7, "actual_purchases"] == 1
    only = summary_data(log, "customer", "when", "paid", unit="week", observation_end="2024-01-31")
    assert not only.holdout and only.counts["after_observation_end"] == 2
    assert "actual_purchases" not in only.customers
    years = summary_data(log, "customer", "when", "paid", unit="year", calibration_end="2024-01-31")
    assert years.customers.loc[7, "recency"] == pytest.approx(28 / 365.25)
    months = summary_data(log, "customer", "when", "paid", unit="month", calibration_end="2024-01-31")
    assert months.customers.loc[7, "T"] == pytest.approx(30 / (365.25 / 12))


# --------------------------------------------------------------------------- hand-worked

def _bgnbd_likelihood_by_hand(r, alpha, a, b, x, t_x, T):
    def B(p, q):
        return math.exp(math.lgamma(p) + math.lgamma(q) - math.lgamma(p + q))

    common = math.exp(math.lgamma(r + x) - math.lgamma(r)) * alpha ** r
    L = B(a, b + x) / B(a, b) * common / (alpha + T) ** (r + x)
    if x > 0:
        L += B(a + 1, b + x - 1) / B(a, b) * common / (alpha + t_x) ** (r + x)
    return L


def _hyp2f1_series(a, b, c, z, terms=4000):
    total, term = 1.0, 1.0
    for k in range(terms):
        term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z
        total += term
    return total


def _expected_by_hand(r, alpha, a, b, x, t_x, T, t):
    num = (a + b + x - 1) / (a - 1) * (
        1 - ((alpha + T) / (alpha + T + t)) ** (r + x)
        * _hyp2f1_series(r + x, b + x, a + b + x - 1, t / (alpha + T + t)))
    den = 1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return num / den


HAND = [  # (x, t_x, T): no repeat purchase, one, several, last purchase long ago
    (0, 0.0, 38.86), (1, 1.71, 38.86), (2, 30.43, 38.86), (6, 34.0, 38.0), (5, 3.0, 35.0)]
PARAMS = (0.243, 4.414, 0.793, 2.426)  # Fader, Hardie & Lee (2005), CDNOW estimates


@pytest.mark.parametrize("x, t_x, T", HAND)
def test_bgnbd_by_hand(x, t_x, T):
    r, alpha, a, b = PARAMS
    L = _bgnbd_likelihood_by_hand(r, alpha, a, b, x, t_x, T)
    assert np.exp(bgnbd_log_likelihood(PARAMS, x, t_x, T)[0]) == pytest.approx(L, rel=1e-12)
    alive = 1.0 if x == 0 else 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    assert p_alive(PARAMS, x, t_x, T)[0] == pytest.approx(alive, rel=1e-12)
    for t in (1.0, 39.0, 52.0):
        got = expected_purchases(PARAMS, t, x, t_x, T)[0]
        assert got == pytest.approx(_expected_by_hand(r, alpha, a, b, x, t_x, T, t), rel=1e-9)


def test_expected_purchases_at_a_equal_one_is_the_limit():
    r, alpha, b = 0.5, 3.0, 2.0
    near = [_expected_by_hand(r, alpha, a, b, 2, 10.0, 20.0, 10.0) for a in (0.99, 1.01)]
    got = expected_purchases((r, alpha, 1.0, b), 10.0, 2, 10.0, 20.0)[0]
    assert np.isfinite(got) and min(near) < got < max(near)
    assert got == pytest.approx(sum(near) / 2, rel=1e-4)


def test_new_customer_expectation_by_hand():
    r, alpha, a, b = PARAMS
    t = 52.0
    by_hand = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r
                                       * _hyp2f1_series(r, b, a + b - 1, t / (alpha + t)))
    assert expected_purchases_new(PARAMS, t) == pytest.approx(by_hand, rel=1e-9)
    assert expected_purchases(PARAMS, t, 0, 0, 0)[0] == pytest.approx(by_hand, rel=1e-9)


def test_gamma_gamma_by_hand():
    p, q, v = 6.25, 3.74, 15.44
    for x, m in [(1, 20.0), (3, 35.5), (12, 10.25)]:
        L = math.exp(math.lgamma(p * x + q) - math.lgamma(p * x) - math.lgamma(q)) * v ** q \
            * m ** (p * x - 1) * x ** (p * x) / (v + m * x) ** (p * x + q)
        assert np.exp(gamma_gamma_log_likelihood((p, q, v), x, m)[0]) == pytest.approx(L, rel=1e-12)
        assert expected_spend((p, q, v), x, m)[0] == pytest.approx(p * (v + x * m) / (p * x + q - 1))
    assert expected_spend((p, q, v), 0, 0.0)[0] == pytest.approx(p * v / (q - 1))
    assert np.isnan(gamma_gamma_log_likelihood((p, q, v), 0, 0.0)[0])


def test_values_per_period_and_clv_by_hand():
    bg, gg = PARAMS, (6.25, 3.74, 15.44)
    x, t_x, T, m = 2, 30.43, 38.86, 41.0
    pv = forecast_values(bg, gg, x, t_x, T, m, horizon=3, margin=0.3)
    spend = 6.25 * (15.44 + 2 * 41.0) / (6.25 * 2 + 3.74 - 1)
    cumulative = [_expected_by_hand(*bg, x, t_x, T, float(k)) for k in range(4)]
    by_hand = [(cumulative[k] - cumulative[k - 1]) * spend * 0.3 for k in (1, 2, 3)]
    np.testing.assert_allclose(pv[0], by_hand, rtol=1e-9)
    ltv = forecast_ltv(pv, 0.01)[0]
    assert ltv == pytest.approx(sum(v / 1.01 ** k for k, v in enumerate(by_hand, start=1)), rel=1e-12)
    assert forecast_ltv(pv, 0.01, timing="begin")[0] == pytest.approx(ltv * 1.01, rel=1e-12)


# --------------------------------------------------------------------------- against lifetimes

def test_bgnbd_fit_matches_lifetimes(summary, lifetimes_fits, forecast):
    bg, _ = lifetimes_fits
    s = summary.customers
    ours = forecast.bgnbd
    theirs = bg.params_.to_dict()
    for k in ("r", "alpha", "a", "b"):
        assert ours[k] == pytest.approx(theirs[k], rel=1e-4), k
    # the likelihood: ours is the maximum (lifetimes' optimiser stops earlier, never higher)
    at_theirs = bgnbd_log_likelihood(theirs, s["frequency"], s["recency"], s["T"]).sum()
    assert ours.log_likelihood >= at_theirs - 1e-9
    assert ours.log_likelihood == pytest.approx(-9582.4292, abs=1e-3)  # FHL 2005: -9582.4
    for k in ("r", "alpha", "a", "b"):
        assert ours.standard_errors[k] == pytest.approx(bg.standard_errors_[k], rel=1e-3), k
    assert ours.customers == 2357


def test_bgnbd_predictions_match_lifetimes(summary, lifetimes_fits, forecast):
    bg, _ = lifetimes_fits
    s = summary.customers
    x, t_x, T = s["frequency"], s["recency"], s["T"]
    theirs = bg.params_.to_dict()
    # the same formulas: at lifetimes' own estimates
    np.testing.assert_allclose(p_alive(theirs, x, t_x, T),
                               bg.conditional_probability_alive(x, t_x, T), rtol=1e-10)
    for t in (1, 39, 52):
        np.testing.assert_allclose(expected_purchases(theirs, t, x, t_x, T),
                                   bg.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T),
                                   rtol=1e-9)
    np.testing.assert_allclose(expected_purchases_new(theirs, np.array([1.0, 39.0, 78.0])),
                               bg.expected_number_of_purchases_up_to_time(np.array([1.0, 39.0, 78.0])),
                               rtol=1e-9)
    # and each fit's own predictions
    np.testing.assert_allclose(p_alive(forecast.bgnbd, x, t_x, T),
                               bg.conditional_probability_alive(x, t_x, T), rtol=1e-4)
    np.testing.assert_allclose(expected_purchases(forecast.bgnbd, 39, x, t_x, T),
                               bg.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, T),
                               rtol=1e-4)


def test_gamma_gamma_matches_lifetimes(summary, lifetimes_fits, forecast):
    _, gg = lifetimes_fits
    s = summary.customers
    ours, theirs = forecast.gamma_gamma, gg.params_.to_dict()
    for k in ("p", "q", "v"):
        assert ours[k] == pytest.approx(theirs[k], rel=1e-4), k
        assert ours.standard_errors[k] == pytest.approx(gg.standard_errors_[k], rel=1e-3), k
    at_theirs = np.nansum(gamma_gamma_log_likelihood(theirs, s["frequency"], s["monetary_value"]))
    assert ours.log_likelihood >= at_theirs - 1e-9
    assert ours.customers == int(((s["frequency"] > 0) & (s["monetary_value"] > 0)).sum()) == 946
    np.testing.assert_allclose(
        expected_spend(theirs, s["frequency"], s["monetary_value"]),
        gg.conditional_expected_average_profit(s["frequency"], s["monetary_value"]), rtol=1e-12)
    np.testing.assert_allclose(
        expected_spend(ours, s["frequency"], s["monetary_value"]),
        gg.conditional_expected_average_profit(s["frequency"], s["monetary_value"]), rtol=1e-4)
    repeat = s[s["frequency"] > 0]
    assert forecast.correlation == pytest.approx(
        np.corrcoef(repeat["frequency"], repeat["monetary_value"])[0, 1], rel=1e-12)


def test_clv_matches_lifetimes_customer_lifetime_value(summary, lifetimes_fits):
    # lifetimes' customer_lifetime_value steps months of 4.345 weeks (freq "W") and
    # discounts each month's value at the monthly rate: our periods, with a unit of
    # 4.345 weeks (times and alpha rescaled)
    bg, gg = lifetimes_fits
    s = summary.customers
    x, t_x, T, m = s["frequency"], s["recency"], s["T"], s["monetary_value"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = gg.customer_lifetime_value(bg, x, t_x, T, m, time=6, discount_rate=0.01, freq="W")
    month = 4.345
    params = {**bg.params_.to_dict(), "alpha": bg.params_["alpha"] / month}
    pv = forecast_values(params, gg.params_.to_dict(), x, t_x / month, T / month, m, horizon=6)
    np.testing.assert_allclose(forecast_ltv(pv, 0.01), theirs.to_numpy(), rtol=1e-8)


# --------------------------------------------------------------------------- fitting

def test_fit_on_distinct_rows_equals_fit_on_every_customer(summary):
    s = summary.customers
    x, t_x, T = s["frequency"].to_numpy(), s["recency"].to_numpy(), s["T"].to_numpy()
    doubled = fit_bgnbd(np.r_[x, x], np.r_[t_x, t_x], np.r_[T, T])
    weighted = fit_bgnbd(x, t_x, T, weights=np.full(x.size, 2.0))
    for k in doubled.params:
        assert doubled[k] == pytest.approx(weighted[k], rel=1e-7)
    assert doubled.log_likelihood == pytest.approx(weighted.log_likelihood, rel=1e-12)
    assert doubled.customers == weighted.customers == 2 * x.size


def test_holdout_table_and_totals(forecast, summary):
    table = forecast.holdout_table()
    assert list(table.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["customers"].sum() == 2357 and table.loc["0", "customers"] == 1411
    s = summary.customers
    assert table.loc["7+", "actual"] == pytest.approx(
        s.loc[s["frequency"] >= 7, "actual_purchases"].mean())
    totals = forecast.holdout_totals()
    assert totals["actual_purchases"] == s["actual_purchases"].sum() == 1882
    assert totals["predicted_purchases"] == pytest.approx(table.eval("customers * predicted").sum())
    assert totals["actual_amount"] == pytest.approx(s["actual_amount"].sum())


def test_forecast_joined_to_measure(forecast):
    ids = forecast.summary.customers.index.to_numpy()
    types = np.array(["Lighthouse", "Follower", "Rational", "Profit-seeking"])
    table = pd.DataFrame({"customer_id": np.r_[ids[:2000], [999999, 999998]],
                          "type": types[np.arange(2002) % 4],
                          "kv": 1.0, "pv": 123.0})
    m, joined = forecast.measure(table, MeasureConfig(rate=0.01, classify_by="type"), periods=4,
                                 margin=0.3)
    assert joined.log_only == 357 and joined.table_only == 2 and joined.replaced == ["pv"]
    pv = forecast.values(4, 0.3)[:2000]
    assert m.customers["pv"].to_numpy() == pytest.approx(forecast_ltv(pv, 0.01))
    # equity = the forecast PV of the matched customers + KV of the types that provide it
    lighthouse = np.arange(2000) % 4 == 0
    kv = (1 / 1.01 + 1 / 1.01 ** 2 + 1 / 1.01 ** 3 + 1 / 1.01 ** 4) * lighthouse.sum()
    assert m.equity == pytest.approx(forecast_ltv(pv, 0.01).sum() + kv, rel=1e-12)
    assert m.composition.loc["KV", "Follower"] == 0
    by_type = m.by_type
    assert by_type["customers"].iloc[:4].tolist() == [500, 500, 500, 500]


def test_join_needs_ids_and_refuses_duplicates():
    with pytest.raises(CustomerEquityError, match="customer_id: column missing"):
        join_forecast(pd.DataFrame({"type": [1]}), ["1"], [[1.0]])
    with pytest.raises(CustomerEquityError, match="customer_id, row 2: the same customer twice"):
        join_forecast(pd.DataFrame({"customer_id": [1, "1"]}), ["1"], [[1.0]])


# --------------------------------------------------------------------------- bad input (API)

@pytest.mark.parametrize("call, message", [
    (lambda: p_alive(PARAMS, [1, -1], [1, 0], [5, 5]), "frequency, row 2: must be a whole number >= 0"),
    (lambda: p_alive(PARAMS, [1, 1.5], [1, 1], [5, 5]), "frequency, row 2: must be a whole number"),
    (lambda: p_alive(PARAMS, [1, 2], [1, 6], [5, 5]), "recency, row 2: must be <= T"),
    (lambda: p_alive(PARAMS, [0, 0], [0, 2], [5, 5]), "recency, row 2: must be 0 when frequency is 0"),
    (lambda: p_alive(PARAMS, [0, 0], [0, 0], [5, -1]), "T, row 2: must be >= 0"),
    (lambda: p_alive(PARAMS, [0, 0, 0], [0, 0], [5, 5]), "recency: has 2 values where the other columns have 3"),
    (lambda: p_alive(PARAMS, ["x", 0], [0, 0], [5, 5]), "frequency, row 1: expected a number, got text"),
    (lambda: p_alive(PARAMS, [None, 0], [0, 0], [5, 5]), "frequency, row 1: a value is required"),
    (lambda: p_alive((0.2, 4, 0.8, -2), 0, 0, 5), "params: b: must be a finite number > 0"),
    (lambda: p_alive((0.2, 4, 0.8), 0, 0, 5), "bgnbd needs 4 parameters"),
    (lambda: p_alive({"r": 1, "alpha": 1, "a": 1}, 0, 0, 5), "params: missing 'b'"),
    (lambda: expected_purchases(PARAMS, -1, 0, 0, 5), "t: must be >= 0"),
    (lambda: expected_purchases(PARAMS, [1, 2, 3], [0, 0], [0, 0], [5, 5]), "3 horizons for 2 customers"),
    (lambda: expected_spend((6, 1.0, 15), 1, 10.0), "gamma_gamma: q: must be > 1"),
    (lambda: expected_spend((6, 3, 15), 1, -10.0), "monetary_value: must be >= 0"),
    (lambda: fit_bgnbd([0, 0, 1], [0, 0, 1], [5, 5, 5]), "too few repeat buyers to fit the BG/NBD"),
    (lambda: fit_gamma_gamma([1, 2, 0], [5.0, 0.0, 0.0]), "too few repeat buyers with a positive spend"),
    (lambda: forecast_values(PARAMS, (6, 3, 15), 1, 1, 5, 10.0, horizon=2.5), "horizon"),
    (lambda: forecast_ltv([1.0, 2.0], 0.1), "values: must be a table"),
    (lambda: summary_data(pd.DataFrame({"customer_id": [1], "date": ["2024-01-01"]})),
     "amount: column missing"),
    (lambda: summary_data(pd.DataFrame({"customer_id": [1, None], "date": ["2024-01-01"] * 2,
                                        "amount": [1, 2]})), "customer_id, row 2: a customer id is required"),
    (lambda: summary_data(pd.DataFrame({"customer_id": [1], "date": ["2024-01-01"], "amount": [1]}),
                          unit="fortnight"), "unit: must be one of day, week, month, year"),
])
def test_bad_input_to_the_python_api(call, message):
    with pytest.raises(CustomerEquityError, match=None) as err:
        call()
    assert message in str(err.value)


def test_fitted_object_predicts_what_the_array_functions_give(forecast):
    c = forecast.summary.customers
    x, t_x, T, m = (c[k].to_numpy() for k in ("frequency", "recency", "T", "monetary_value"))
    whole = forecast.predict(26, 0.002, 0.3)
    chunk = forecast.predict(26, 0.002, 0.3, rows=slice(100, 700))
    np.testing.assert_allclose(whole["p_alive"], p_alive(forecast.bgnbd, x, t_x, T), rtol=1e-13)
    np.testing.assert_allclose(whole["expected_purchases"],
                               expected_purchases(forecast.bgnbd, 26, x, t_x, T), rtol=1e-13)
    np.testing.assert_allclose(whole["expected_spend"], expected_spend(forecast.gamma_gamma, x, m))
    pv = forecast_values(forecast.bgnbd, forecast.gamma_gamma, x, t_x, T, m, 26, 0.3)
    np.testing.assert_allclose(forecast.values(26, 0.3), pv, rtol=1e-13)
    np.testing.assert_allclose(whole["ltv"], forecast_ltv(pv, 0.002), rtol=1e-13)
    pd.testing.assert_frame_equal(chunk, whole.iloc[100:700])
