"""Long forecast horizons: the cost linear in periods, memory flat, the numbers unchanged.

Oracles: mpmath's hypergeometric function at 40 digits (the BG/NBD expectation, Fader,
Hardie & Lee 2005 eq. 10, written out here), the per-period table of
``forecast_values`` discounted by ``forecast_ltv`` (the formula as first implemented),
scipy's own ``hyp2f1`` (what the expectation used before long horizons were transformed)
and lifetimes' ``customer_lifetime_value``.
"""

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from customer_equity.errors import CustomerEquityError
from customer_equity.model.forecast import (
    customer_lifetime_value,
    expected_purchases,
    fit_forecast,
    forecast_ltv,
    forecast_values,
    load_cdnow,
    summary_data,
)
from customer_equity.model.forecast import bgnbd as bgnbd_module
from customer_equity.model.forecast import value as value_module
from customer_equity.model.forecast.value import horizon_sums
from scipy.special import hyp2f1

mpmath = pytest.importorskip("mpmath")

CDNOW = (0.243, 4.414, 0.793, 2.426)  # Fader, Hardie & Lee (2005)
SPEND = (6.25, 3.74, 15.44)


def expectation_mpmath(r, alpha, a, b, x, t_x, T, t):
    """E[Y(t) | x, t_x, T], FHL 2005 eq. 10, at 40 digits."""
    mpmath.mp.dps = 40
    r, alpha, a, b, x, t_x, T, t = (mpmath.mpf(float(v)) for v in (r, alpha, a, b, x, t_x, T, t))
    A, B, C = r + x, b + x, a + b + x - 1
    numerator = C / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** A
                               * mpmath.hyp2f1(A, B, C, t / (alpha + T + t)))
    odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** A if x > 0 else 0
    return float(numerator / (1 + odds))


def expectation_scipy(params, t, x, t_x, T):
    """The expectation with scipy's hyp2f1 at every horizon (Euler's transformation where
    it overflows): the evaluation before long horizons went through 1 - z."""
    r, alpha, a, b = params
    A, B, C = r + x, b + x, a + b + x - 1
    z = t / (alpha + T + t)
    with np.errstate(all="ignore"):
        direct = np.log(hyp2f1(A, B, C, z))
        euler = np.log(hyp2f1(C - A, C - B, C, z)) + (C - A - B) * np.log1p(-z)
    log_term = np.where(np.isfinite(direct), direct, euler) + A * np.log((alpha + T) / (alpha + T + t))
    odds = np.where(x > 0, a / (b + np.maximum(x, 1) - 1) * ((alpha + T) / (alpha + t_x)) ** A, 0.0)
    return C / (a - 1) * -np.expm1(log_term) / (1 + odds)


# (r, alpha, a, b): CDNOW; a > 1; a - r close to a whole number (the two terms of the
# transformation cancel, scipy's evaluation is used); small r and b
PARAMETERS = [CDNOW, (1.5, 10.0, 3.2, 5.1), (0.243, 4.4, 1.2431, 2.4), (0.05, 0.5, 0.3, 0.9)]
CUSTOMERS = [(0, 0.0, 30.0), (1, 3.0, 30.0), (3, 20.0, 25.0), (12, 11.0, 12.0), (40, 60.0, 61.0)]


@pytest.mark.parametrize("params", PARAMETERS)
@pytest.mark.parametrize("t", [50.0, 400.0, 5200.0, 20000.0])
def test_long_horizons_match_mpmath(params, t):
    x, t_x, T = (np.array(c, dtype=float) for c in zip(*CUSTOMERS))
    ours = expected_purchases(params, t, x, t_x, T)
    exact = [expectation_mpmath(*params, *c, t) for c in CUSTOMERS]
    np.testing.assert_allclose(ours, exact, rtol=2e-11)


def test_the_transformation_is_used_and_agrees_with_scipy(monkeypatch):
    """Past z = 0.9 the cheap transformation gives what scipy's evaluation gave."""
    x = np.repeat(np.arange(0.0, 30.0), 20)
    T = np.tile(np.linspace(1.0, 60.0, 20), 30)
    t_x = np.where(x > 0, T / 2, 0.0)
    used = []
    original = bgnbd_module._log_term_near_one

    def counted(*args):
        out, error = original(*args)
        used.append(int((error <= bgnbd_module.NEAR_ONE_TOLERANCE).sum()))
        return out, error

    monkeypatch.setattr(bgnbd_module, "_log_term_near_one", counted)
    for t in (300.0, 1000.0, 5200.0, 20000.0):
        np.testing.assert_allclose(expected_purchases(CDNOW, t, x, t_x, T),
                                   expectation_scipy(CDNOW, t, x, t_x, T), rtol=1e-11)
    # at 5,200 and 20,000 weeks for every customer with fewer than 14 repeat purchases
    # (with more, the two terms cancel; scipy's series is quick there)
    assert used[-2] >= (x < 14).sum() and used[-1] >= (x < 14).sum(), used


@pytest.fixture(scope="module")
def forecast():
    summary = summary_data(load_cdnow(), unit="week", calibration_end="1997-09-30",
                           observation_end="1998-06-30")
    return fit_forecast(summary)


def _arrays(forecast):
    c = forecast.summary.customers
    return tuple(c[k].to_numpy() for k in ("frequency", "recency", "T", "monetary_value"))


@pytest.mark.parametrize("periods, rate, timing", [(1, 0.01, "end"), (52, 0.002, "end"),
                                                   (520, 0.002, "begin"), (600, 0.0, "end")])
def test_lifetime_value_equals_the_per_period_table_discounted(forecast, periods, rate, timing):
    x, t_x, T, m = _arrays(forecast)
    bg, gg = forecast.bgnbd, forecast.gamma_gamma
    table = forecast_values(bg, gg, x, t_x, T, m, periods, margin=0.3)
    expected = forecast_ltv(table, rate, timing)
    ours = customer_lifetime_value(bg, gg, x, t_x, T, m, periods, rate, margin=0.3, timing=timing)
    np.testing.assert_allclose(ours, expected, rtol=1e-12)
    np.testing.assert_allclose(forecast.ltv(periods, rate, 0.3, timing), expected, rtol=1e-12)
    predicted = forecast.predict(periods, rate, 0.3, timing)
    np.testing.assert_array_equal(predicted["ltv"].to_numpy(), forecast.ltv(periods, rate, 0.3, timing))
    np.testing.assert_allclose(predicted["expected_purchases"],
                               expected_purchases(bg, float(periods), x, t_x, T), rtol=1e-13)
    if rate == 0.0:  # undiscounted, the values add up to the expected purchases times the spend
        spend = table.sum(axis=1) / np.where(predicted["expected_purchases"] > 0,
                                             predicted["expected_purchases"], 1)
        np.testing.assert_allclose(ours, predicted["expected_purchases"] * spend, rtol=1e-10)


def test_lifetime_value_matches_lifetimes(forecast):
    pytest.importorskip("lifetimes")
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    c = forecast.summary.customers
    x, t_x, T, m = (c[k] for k in ("frequency", "recency", "T", "monetary_value"))
    repeat = (x > 0) & (m > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bg = BetaGeoFitter().fit(x, t_x, T)
        gg = GammaGammaFitter().fit(x[repeat], m[repeat])
        # freq "M" steps one unit of the summary a period (lifetimes' factor 1) and
        # discounts period k by (1 + rate)^-k: our periods, in weeks
        theirs = gg.customer_lifetime_value(bg, x, t_x, T, m, time=104, discount_rate=0.002,
                                            freq="M")
    ours = customer_lifetime_value(bg.params_.to_dict(), gg.params_.to_dict(), x, t_x, T, m, 104,
                                   0.002)
    np.testing.assert_allclose(ours, theirs.to_numpy(), rtol=1e-9)


def test_blocks_of_periods_do_not_change_a_digit(forecast, monkeypatch):
    """Each period's differences are added in period order whatever the block: a chunk of
    customers (a Dask worker's) gets the digits of the whole base."""
    x, t_x, T, _ = _arrays(forecast)
    factors = 1.002 ** -np.arange(1.0, 301.0)
    whole = horizon_sums(CDNOW, x, t_x, T, 300, factors)
    monkeypatch.setattr(value_module, "PERIOD_BLOCK_CELLS", 1000)
    small = horizon_sums(CDNOW, x, t_x, T, 300, factors)
    part = horizon_sums(CDNOW, x[:300], t_x[:300], T[:300], 300, factors)
    np.testing.assert_array_equal(whole.discounted[whole.rows], small.discounted[small.rows])
    np.testing.assert_array_equal(whole.at_horizon[whole.rows], small.at_horizon[small.rows])
    np.testing.assert_array_equal(whole.discounted[whole.rows][:300], part.discounted[part.rows])


def test_progress_reports_every_period_once(forecast):
    done = []
    x, t_x, T, m = _arrays(forecast)
    customer_lifetime_value(CDNOW, SPEND, x, t_x, T, m, 2000, 0.001, progress=done.append)
    assert sum(done) == 2000 and len(done) > 1
    forecast.horizon_sums(777, 0.001, progress=done.append)
    assert sum(done) == 2777
    forecast.predict(777, 0.001, progress=done.append)  # kept: not computed again
    assert sum(done) == 2777


def test_memory_does_not_grow_with_the_horizon(forecast, monkeypatch):
    x, t_x, T, _ = _arrays(forecast)
    peaks = {}
    monkeypatch.setattr(value_module, "PERIOD_BLOCK_CELLS", 20_000)  # a block: 200 periods or less
    for periods in (2000, 8000):
        factors = np.ones(periods)
        tracemalloc.start()
        horizon_sums(CDNOW, x, t_x, T, periods, factors)
        peaks[periods] = tracemalloc.get_traced_memory()[1] - factors.nbytes
        tracemalloc.stop()
    assert peaks[8000] < 1.2 * peaks[2000], peaks


def test_a_horizon_the_model_cannot_evaluate_is_refused_clearly():
    # r huge, alpha and b tiny: 2F1 and its Euler transform both overflow from 300 weeks on
    params = (1000.0, 1e-4, 5.0, 1e-5)
    x, t_x, T = np.array([0.0, 400.0]), np.array([0.0, 30.0]), np.array([30.0, 31.0])
    with pytest.raises(CustomerEquityError, match="expected purchases cannot be evaluated"):
        customer_lifetime_value(params, SPEND, x, t_x, T, np.array([0.0, 20.0]), 400, 0.01)


def test_the_command_draws_the_horizon_s_progress_and_values_long_horizons(tmp_path, capsys):
    """Through the door: ``forecast --horizon 3000 --progress`` opens a bar of the forecast
    values over 3,000 periods on stderr, and writes the values of the per-period table."""
    from customer_equity.cli import main
    from customer_equity.model.forecast.sample import cdnow_path

    out = tmp_path / "long.csv"
    code = main(["forecast", str(cdnow_path()), "--calibration-end", "1997-09-30", "--horizon",
                 "3000", "--rate", "0.001", "--out", str(out), "--progress"])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert "forecast values" in err and "/3.00k" in err
    written = pd.read_csv(out)
    summary = summary_data(load_cdnow(), unit="week", calibration_end="1997-09-30")
    fitted = fit_forecast(summary)
    x, t_x, T, m = _arrays(fitted)
    table = forecast_values(fitted.bgnbd, fitted.gamma_gamma, x[:200], t_x[:200], T[:200], m[:200],
                            3000)
    np.testing.assert_allclose(written["ltv"].to_numpy()[:200], forecast_ltv(table, 0.001),
                               rtol=1e-12)


def test_the_file_job_reports_every_period_to_the_command_s_bar():
    """The library draws nothing: it calls the factory the command gives, and the bar of the
    forecast values gets every period once."""
    import contextlib

    from customer_equity.files.forecast import forecast_file
    from customer_equity.model.forecast.sample import cdnow_path

    bars = {}

    class Bar:
        def __init__(self, desc):
            self.desc = desc

        def update(self, n):
            bars[self.desc]["done"] += n

    def factory(total, desc, unit):
        bars[desc] = {"total": total, "unit": unit, "done": 0}
        return contextlib.nullcontext(Bar(desc))

    forecast_file(str(cdnow_path()), calibration_end="1997-09-30", horizon=1234, progress=factory)
    assert bars["forecast values"] == {"total": 1234, "unit": " periods", "done": 1234}
