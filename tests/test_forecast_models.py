"""The models beyond BG/NBD: Pareto/NBD, MBG/NBD, BG/BB and shifted-beta-geometric retention.

Oracles: the published estimates (Pareto/NBD on the CDNOW sample, Fader, Hardie & Lee
2005; BG/BB on the 1995 donations cohort, Fader, Hardie & Shang 2010; sBG on the two
series of Fader & Hardie 2007, with their later survivors), lifetimes (a test-only
dependency) for the same formulas at the same parameters, and hand-worked values written
out here: math.lgamma, explicit sums, and for the Pareto/NBD likelihood the integral it
is derived from, by quadrature (no hypergeometric function).
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from customer_equity.errors import CustomerEquityError
from customer_equity.model.forecast import (
    FittedModel,
    bgbb_expected_purchases,
    bgbb_log_likelihood,
    bgbb_p_alive,
    fit_bgbb,
    fit_bgnbd,
    fit_forecast,
    fit_mbgnbd,
    fit_pareto_nbd,
    fit_sbg,
    load_cdnow,
    mbgnbd_expected_purchases,
    mbgnbd_expected_purchases_new,
    mbgnbd_log_likelihood,
    mbgnbd_p_alive,
    pareto_nbd_expected_purchases,
    pareto_nbd_expected_purchases_new,
    pareto_nbd_log_likelihood,
    pareto_nbd_p_alive,
    sbg_derl,
    sbg_log_likelihood,
    sbg_retention,
    sbg_survival,
    summary_data,
    survivor_counts,
)
from scipy import integrate

lifetimes = pytest.importorskip("lifetimes")

CAL = "1997-09-30"


def lgamma_beta(p, q):
    return math.lgamma(p) + math.lgamma(q) - math.lgamma(p + q)


@pytest.fixture(scope="module")
def cdnow():
    s = summary_data(load_cdnow(), unit="week", calibration_end=CAL).customers
    return s["frequency"].to_numpy(), s["recency"].to_numpy(), s["T"].to_numpy()


@pytest.fixture(scope="module")
def donations():
    from lifetimes.datasets import load_donations

    d = load_donations()
    return tuple(d[k].to_numpy() for k in ("frequency", "recency", "periods", "weights"))


def quiet(f, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*args, **kwargs)


# =========================================================================== Pareto/NBD

PNBD = (0.553, 10.578, 0.606, 11.669)  # Fader, Hardie & Lee (2005): CDNOW, weeks


def _pnbd_likelihood_by_quadrature(r, alpha, s, beta, x, t_x, T):
    """Fader & Hardie (2005) eq. (18) before any hypergeometric function: the customer
    alive at T, or dying at tau in (t_x, T]; ``(ln L, ln of the first term)``, in logs
    (the integrand scaled by its largest value, at t_x)."""
    front = math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha) + s * math.log(beta)
    alive = -(r + x) * math.log(alpha + T) - s * math.log(beta + T)

    def log_dying(tau):
        return math.log(s) - (r + x) * math.log(alpha + tau) - (s + 1) * math.log(beta + tau)

    top = log_dying(t_x)
    died, _ = integrate.quad(lambda tau: math.exp(log_dying(tau) - top), t_x, T, epsabs=0,
                             epsrel=1e-13, limit=200)
    if died == 0.0:
        return front + alive, front + alive
    return front + np.logaddexp(alive, top + math.log(died)), front + alive


PNBD_CASES = [  # (params, (x, t_x, T)): alpha < beta, alpha > beta, alpha = beta, large x
    (PNBD, (0, 0.0, 38.86)), (PNBD, (2, 30.43, 38.86)), (PNBD, (5, 3.0, 35.0)),
    ((0.5, 30.0, 0.8, 2.0), (1, 1.71, 38.86)), ((0.5, 30.0, 0.8, 2.0), (0, 0.0, 20.0)),
    ((1.3, 4.0, 2.5, 4.0), (3, 10.0, 30.0)), ((0.2, 1.5, 0.3, 60.0), (40, 70.0, 78.0)),
    # where scipy's hyp2f1 overflows: a heavy buyer, one rate far above the other
    ((0.2, 1.0, 0.8, 1000.0), (300, 70.0, 78.0)), ((0.2, 50.0, 0.3, 1000.0), (300, 300 / 7, 78.0)),
]


@pytest.mark.parametrize("params, row", PNBD_CASES)
def test_pareto_nbd_by_hand(params, row):
    r, alpha, s, beta = params
    x, t_x, T = row
    log_L, log_alive = _pnbd_likelihood_by_quadrature(r, alpha, s, beta, x, t_x, T)
    assert pareto_nbd_log_likelihood(params, x, t_x, T)[0] == pytest.approx(log_L, rel=1e-11, abs=1e-10)
    p = math.exp(log_alive - log_L)
    assert pareto_nbd_p_alive(params, x, t_x, T)[0] == pytest.approx(p, rel=1e-9)
    for t in (1.0, 39.0, 52.0):
        by_hand = p * (r + x) / (alpha + T) * (beta + T) / (s - 1) * (
            1 - ((beta + T) / (beta + T + t)) ** (s - 1))
        assert pareto_nbd_expected_purchases(params, t, x, t_x, T)[0] == pytest.approx(by_hand, rel=1e-10)


def test_pareto_nbd_expectation_at_s_equal_one_is_the_limit():
    r, alpha, beta, x, t_x, T, t = 0.5, 10.0, 12.0, 2, 20.0, 30.0, 26.0
    near = [pareto_nbd_expected_purchases((r, alpha, s, beta), t, x, t_x, T)[0] for s in (0.999, 1.001)]
    at_one = pareto_nbd_expected_purchases((r, alpha, 1.0, beta), t, x, t_x, T)[0]
    log_L, log_alive = _pnbd_likelihood_by_quadrature(r, alpha, 1.0, beta, x, t_x, T)
    limit = math.exp(log_alive - log_L) * (r + x) / (alpha + T) * (beta + T) * math.log((beta + T + t) / (beta + T))
    assert at_one == pytest.approx(limit, rel=1e-10)
    assert min(near) < at_one < max(near)
    assert pareto_nbd_expected_purchases_new((r, alpha, 1.0, beta), t) == pytest.approx(
        r / alpha * beta * math.log((beta + t) / beta), rel=1e-12)


def test_pareto_nbd_on_cdnow_reproduces_the_published_estimates(cdnow):
    fit = fit_pareto_nbd(*cdnow)
    for k, published in zip(("r", "alpha", "s", "beta"), PNBD):
        assert float(f"{fit[k]:.3g}") == float(f"{published:.3g}"), k
    assert fit.log_likelihood == pytest.approx(-9595.0, abs=0.05)  # FHL 2005, table 1
    assert fit.customers == 2357 and fit.model == "pareto_nbd"
    # the standard errors: the observed information, checked by differences of the
    # likelihood itself (an independent computation)
    assert _se_by_differences(lambda p: pareto_nbd_log_likelihood(p, *cdnow).sum(), fit.values) == \
        pytest.approx([fit.standard_errors[k] for k in ("r", "alpha", "s", "beta")], rel=2e-3)


def _se_by_differences(loglik, theta, step=1e-4):
    """Standard errors from a central-difference Hessian of ``loglik`` in log-parameters."""
    phi = np.log(theta)
    k = phi.size
    h = np.empty((k, k))
    f = lambda p: loglik(tuple(np.exp(p)))  # noqa: E731
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * step, np.eye(k)[j] * step
            h[i, j] = (f(phi + ei + ej) - f(phi + ei - ej) - f(phi - ei + ej) + f(phi - ei - ej)) / (4 * step ** 2)
    return np.sqrt(np.diag(np.linalg.inv(-h))) * np.asarray(theta)


def test_pareto_nbd_matches_lifetimes(cdnow):
    x, t_x, T = cdnow
    np.random.seed(1987)  # lifetimes starts its Nelder-Mead at random
    theirs_fit = quiet(lifetimes.ParetoNBDFitter().fit, x, t_x, T)
    theirs = theirs_fit.params_.to_dict()
    ours = fit_pareto_nbd(x, t_x, T)
    # lifetimes' simplex stops within about 4e-4 of the maximum (beta, the flattest); its
    # estimate never has the higher likelihood
    for k in theirs:
        assert ours[k] == pytest.approx(theirs[k], rel=1e-3), k
    assert ours.log_likelihood >= pareto_nbd_log_likelihood(theirs, x, t_x, T).sum() - 1e-9
    # the same formulas at the same parameters
    np.testing.assert_allclose(pareto_nbd_p_alive(theirs, x, t_x, T),
                               quiet(theirs_fit.conditional_probability_alive, x, t_x, T), rtol=1e-6)
    for t in (1, 39, 52):
        np.testing.assert_allclose(
            pareto_nbd_expected_purchases(theirs, t, x, t_x, T),
            quiet(theirs_fit.conditional_expected_number_of_purchases_up_to_time, t, x, t_x, T),
            rtol=1e-6)
    ts = np.array([1.0, 39.0, 78.0])
    np.testing.assert_allclose(pareto_nbd_expected_purchases_new(theirs, ts),
                               theirs_fit.expected_number_of_purchases_up_to_time(ts), rtol=1e-10)


# =========================================================================== MBG/NBD

def _mbgnbd_likelihood_by_hand(r, alpha, a, b, x, t_x, T):
    front = math.exp(math.lgamma(r + x) - math.lgamma(r) + lgamma_beta(a, b + x + 1) - lgamma_beta(a, b))
    return front * alpha ** r * ((alpha + T) ** -(r + x) + a / (b + x) * (alpha + t_x) ** -(r + x))


def _hyp2f1_series(a, b, c, z, terms=4000):
    total, term = 1.0, 1.0
    for k in range(terms):
        term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z
        total += term
    return total


MBG = (0.525, 6.183, 0.891, 1.614)


@pytest.mark.parametrize("x, t_x, T", [(0, 0.0, 38.86), (1, 1.71, 38.86), (2, 30.43, 38.86),
                                       (6, 34.0, 38.0), (5, 3.0, 35.0)])
def test_mbgnbd_by_hand(x, t_x, T):
    r, alpha, a, b = MBG
    L = _mbgnbd_likelihood_by_hand(r, alpha, a, b, x, t_x, T)
    assert np.exp(mbgnbd_log_likelihood(MBG, x, t_x, T)[0]) == pytest.approx(L, rel=1e-12)
    odds = a / (b + x) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    assert mbgnbd_p_alive(MBG, x, t_x, T)[0] == pytest.approx(1 / (1 + odds), rel=1e-12)
    for t in (1.0, 39.0):
        z = t / (alpha + T + t)
        num = (a + b + x) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x)
                                       * _hyp2f1_series(r + x, b + x + 1, a + b + x, z))
        assert mbgnbd_expected_purchases(MBG, t, x, t_x, T)[0] == pytest.approx(num / (1 + odds), rel=1e-9)


def test_mbgnbd_matches_lifetimes(cdnow):
    x, t_x, T = cdnow
    theirs_fit = quiet(lifetimes.ModifiedBetaGeoFitter().fit, x, t_x, T)
    theirs = theirs_fit.params_.to_dict()
    ours = fit_mbgnbd(x, t_x, T)
    for k in theirs:
        assert ours[k] == pytest.approx(theirs[k], rel=1e-4), k
        assert ours.standard_errors[k] == pytest.approx(theirs_fit.standard_errors_[k], rel=1e-3), k
    assert ours.log_likelihood >= mbgnbd_log_likelihood(theirs, x, t_x, T).sum() - 1e-9
    assert [round(ours[k], 3) for k in ("r", "alpha", "a", "b")] == list(MBG)
    np.testing.assert_allclose(mbgnbd_p_alive(theirs, x, t_x, T),
                               theirs_fit.conditional_probability_alive(x, t_x, T), rtol=1e-6)
    for t in (1, 39, 52):
        np.testing.assert_allclose(
            mbgnbd_expected_purchases(theirs, t, x, t_x, T),
            theirs_fit.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T), rtol=1e-6)
    ts = np.array([1.0, 39.0, 78.0])
    np.testing.assert_allclose(mbgnbd_expected_purchases_new(theirs, ts),
                               theirs_fit.expected_number_of_purchases_up_to_time(ts), rtol=1e-9)
    # a customer with no repeat purchase may have left (BG/NBD would say P(alive) = 1)
    assert mbgnbd_p_alive(ours, 0, 0, 38.0)[0] < 0.75


# =========================================================================== BG/BB

BGBB = (1.204, 0.750, 0.657, 2.783)  # Fader, Hardie & Shang (2010): donations, 6 opportunities


def _bgbb_likelihood_by_hand(alpha, beta, gamma, delta, x, t_x, n):
    def B(p, q):
        return math.exp(lgamma_beta(p, q))

    L = B(alpha + x, beta + n - x) / B(alpha, beta) * B(gamma, delta + n) / B(gamma, delta)
    for i in range(n - t_x):
        L += B(alpha + x, beta + t_x - x + i) / B(alpha, beta) * B(gamma + 1, delta + t_x + i) / B(gamma, delta)
    return L


@pytest.mark.parametrize("params", [BGBB, (2.0, 3.0, 1.0, 1.5), (0.4, 1.1, 3.0, 0.2)])
@pytest.mark.parametrize("x, t_x, n", [(0, 0, 6), (1, 1, 6), (2, 5, 6), (6, 6, 6), (3, 4, 11), (0, 0, 0)])
def test_bgbb_by_hand(params, x, t_x, n):
    alpha, beta, gamma, delta = params
    L = _bgbb_likelihood_by_hand(alpha, beta, gamma, delta, x, t_x, n)
    assert np.exp(bgbb_log_likelihood(params, x, t_x, n)[0]) == pytest.approx(L, rel=1e-12)

    def B(p, q):
        return math.exp(lgamma_beta(p, q))

    for m in (0, 1, 4):
        alive = B(alpha + x, beta + n - x) / B(alpha, beta) * B(gamma, delta + n + m) / B(gamma, delta) / L
        assert bgbb_p_alive(params, x, t_x, n, m)[0] == pytest.approx(alive, rel=1e-12)
    for m in (1, 3, 10):
        # the expectation as the sum it is: alive at n+k and buying there, k = 1..m
        by_hand = sum(B(alpha + x + 1, beta + n - x) / B(alpha, beta) * B(gamma, delta + n + k)
                      / B(gamma, delta) / L for k in range(1, m + 1))
        rel = 1e-7 if gamma == 1.0 else 1e-11  # at gamma = 1 the closed form is interpolated
        assert bgbb_expected_purchases(params, m, x, t_x, n)[0] == pytest.approx(by_hand, rel=rel)


def test_bgbb_on_donations_reproduces_the_published_estimates(donations):
    x, t_x, n, w = donations
    assert w.sum() == 11104
    fit = fit_bgbb(x, t_x, n, weights=w)
    assert [round(fit[k], 3) for k in ("alpha", "beta", "gamma", "delta")] == list(BGBB)
    assert fit.log_likelihood == pytest.approx(-33225.6, abs=0.05)  # FHS 2010
    assert fit.customers == 11104
    # one row per donor gives the same fit as the weighted table
    each = [np.repeat(c, w.astype(int)) for c in (x, t_x, n)]
    every = fit_bgbb(*each)
    for k in fit.params:
        assert every[k] == pytest.approx(fit[k], rel=1e-7)
    assert every.log_likelihood == pytest.approx(fit.log_likelihood, rel=1e-12)


def test_bgbb_pmf_integrates_the_model_and_matches_lifetimes():
    """P(X(n) = x): FHS 2010 eq. 7 against the model's own definition integrated numerically
    over p ~ Beta(alpha, beta) and theta ~ Beta(gamma, delta) (alive through all n
    opportunities, or dying after opportunity i), and against lifetimes' expected counts."""
    from math import comb

    from lifetimes import BetaGeoBetaBinomFitter
    from scipy import integrate, stats

    from customer_equity.model.forecast.bgbb import bgbb_pmf

    params, n = (2.0, 3.0, 1.5, 4.0), 4

    def given(p, theta, x):
        alive = comb(n, x) * p ** x * (1 - p) ** (n - x) * (1 - theta) ** n
        died = sum(comb(i, x) * p ** x * (1 - p) ** (i - x) * theta * (1 - theta) ** i for i in range(x, n))
        return alive + died

    def integrated(x):
        density = lambda theta, p: (given(p, theta, x) * stats.beta.pdf(p, *params[:2])  # noqa: E731
                                    * stats.beta.pdf(theta, *params[2:]))
        return integrate.dblquad(density, 0, 1, 0, 1, epsabs=1e-12, epsrel=1e-10)[0]

    got = bgbb_pmf(params, [n], n + 1)[0]
    np.testing.assert_allclose(got[:n + 1], [integrated(x) for x in range(n + 1)], rtol=1e-8)
    assert got[-1] == 0.0 and got.sum() == pytest.approx(1.0, rel=1e-12)
    f = BetaGeoBetaBinomFitter()
    f.params_ = pd.Series(dict(zip(("alpha", "beta", "gamma", "delta"), BGBB)))
    for n in (1, 3, 6, 11):
        f.data = pd.DataFrame({"frequency": np.arange(n + 1), "weights": np.r_[1.0, np.zeros(n)]})
        theirs = f.expected_number_of_transactions_in_first_n_periods(n)["model"].to_numpy()
        np.testing.assert_allclose(bgbb_pmf(BGBB, [n], n + 1)[0, :n + 1], theirs, rtol=1e-12, atol=1e-15)
    # several n at once, the open class last: rows are distributions, 0 opportunities buy nothing
    p = bgbb_pmf(BGBB, [0, 2, 6], 3)
    assert p[0].tolist() == [1.0, 0.0, 0.0, 0.0] and p[1, 3] == 0.0
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(p[2, 3], bgbb_pmf(BGBB, [6], 7)[0, 3:].sum(), rtol=1e-12)


def test_bgbb_matches_lifetimes(donations):
    x, t_x, n, w = donations
    theirs_fit = quiet(lifetimes.BetaGeoBetaBinomFitter().fit, x, t_x, n, weights=w)
    theirs = theirs_fit.params_.to_dict()
    ours = fit_bgbb(x, t_x, n, weights=w)
    for k in theirs:
        assert ours[k] == pytest.approx(theirs[k], rel=1e-5), k
        assert ours.standard_errors[k] == pytest.approx(theirs_fit.standard_errors_[k], rel=1e-3), k
    for m in (0, 1, 5):
        np.testing.assert_allclose(bgbb_p_alive(theirs, x, t_x, n, m),
                                   theirs_fit.conditional_probability_alive(m, x, t_x, n), rtol=1e-6)
    for m in (1, 5, 10):
        np.testing.assert_allclose(
            bgbb_expected_purchases(theirs, m, x, t_x, n),
            theirs_fit.conditional_expected_number_of_purchases_up_to_time(m, x, t_x, n), rtol=1e-6)
    grid = bgbb_expected_purchases(theirs, [[1], [5]], x, t_x, n)
    assert grid.shape == (2, x.size)
    np.testing.assert_allclose(grid[1], bgbb_expected_purchases(theirs, 5, x, t_x, n), rtol=1e-15)


# =========================================================================== sBG

REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394]


@pytest.mark.parametrize("series, published, worst", [(REGULAR, (0.704, 1.182), 0.02),
                                                      (HIGH_END, (0.668, 3.806), 0.05)])
def test_sbg_reproduces_fader_hardie_and_projects_years_8_to_12(series, published, worst):
    fit = fit_sbg(series[:8])  # fitted on years 0-7, as in the paper
    assert (round(fit["alpha"], 3), round(fit["beta"], 3)) == published
    # the projection by hand from the published estimates: S(t) = S(t-1) (b+t-1)/(a+b+t-1)
    a, b = published
    S = [1.0]
    for t in range(1, 13):
        S.append(S[-1] * (b + t - 1) / (a + b + t - 1))
    ours = 1000 * sbg_survival(fit, 12)
    for t in range(8, 13):
        assert float(f"{ours[t]:.3g}") == float(f"{1000 * S[t]:.3g}"), t
        # and against what happened: the published survivors of years 8-12
        assert abs(ours[t] / series[t] - 1) < worst, t
    np.testing.assert_allclose(sbg_retention(fit, 12), np.array(S[1:]) / np.array(S[:-1]), rtol=2e-3)


def test_sbg_by_hand():
    alpha, beta = 0.8, 2.5
    survivors = [500, 300, 220, 180]
    lost = [200, 80, 40]
    ll = sum(d * (lgamma_beta(alpha + 1, beta + t - 1) - lgamma_beta(alpha, beta))
             for t, d in enumerate(lost, start=1)) + 180 * (lgamma_beta(alpha, beta + 3) - lgamma_beta(alpha, beta))
    assert sbg_log_likelihood((alpha, beta), survivors) == pytest.approx(ll, rel=1e-13)
    assert sbg_retention((alpha, beta), 3) == pytest.approx([(beta + t - 1) / (alpha + beta + t - 1)
                                                             for t in (1, 2, 3)], rel=1e-15)
    S = np.exp([lgamma_beta(alpha, beta + t) - lgamma_beta(alpha, beta) for t in range(4)])
    assert sbg_survival((alpha, beta), 3) == pytest.approx(S, rel=1e-13)
    # DERL: the series, summed far enough that the rest is below 1e-13
    for d, n in ((0.10, 0), (0.10, 4), (0.01, 2)):
        terms = [math.exp(lgamma_beta(alpha, beta + n + 1 + j) - lgamma_beta(alpha, beta + n)
                          - j * math.log1p(d)) for j in range(4000)]
        assert sbg_derl((alpha, beta), d, n) == pytest.approx(sum(terms), rel=1e-12)
    # large parameters, where scipy's hyp2f1 returns NaN
    for a_, b_, d in ((100.0, 1000.0, 0.1), (10.0, 1e4, 0.01), (0.7, 1000.0, 0.001)):
        terms = [math.exp(lgamma_beta(a_, b_ + 1 + j) - lgamma_beta(a_, b_) - j * math.log1p(d))
                 for j in range(40000)]
        assert sbg_derl((a_, b_), d) == pytest.approx(sum(terms), rel=1e-9)
    assert sbg_derl((2.5, 3.0), 0.0, [0, 4]) == pytest.approx([3.0 / 1.5, 7.0 / 1.5], rel=1e-15)
    # a homogeneous cohort (theta fixed at alpha/(alpha+beta) as both grow) has the constant
    # retention of the papers' formula: DERL = r (1+d)/(1+d-r)
    r = 0.8
    assert sbg_derl((0.2e6, 0.8e6), 0.1) == pytest.approx(r * 1.1 / (1.1 - r), rel=1e-5)


def test_sbg_several_cohorts_and_their_counts():
    table = [[1000, 631, 468, 382], [800, 520, 400, None], [900, 600, None, None]]
    lost, still, cohorts = survivor_counts(table)
    assert cohorts == 3
    assert lost.tolist() == [369 + 280 + 300, 163 + 120, 86]
    assert still.tolist() == [600, 400, 382]
    fit = fit_sbg(table)
    assert fit.customers == 2700
    by_rows = sum(sbg_log_likelihood(fit, row[:k]) for row, k in zip(table, (4, 3, 2)))
    assert fit.log_likelihood == pytest.approx(by_rows, rel=1e-12)
    # the same cohort written down a column
    column = fit_sbg(np.array(REGULAR[:8])[:, None])
    assert column.params == pytest.approx(fit_sbg(REGULAR[:8]).params, rel=1e-12)
    # standard errors from the observed information, checked by differences of the likelihood
    assert _se_by_differences(lambda p: sbg_log_likelihood(p, table), fit.values) == pytest.approx(
        [fit.standard_errors["alpha"], fit.standard_errors["beta"]], rel=1e-4)


# =========================================================================== fitting at scale

@pytest.mark.parametrize("fit", [fit_pareto_nbd, fit_mbgnbd])
def test_fit_on_distinct_rows_equals_fit_on_every_customer(cdnow, fit):
    x, t_x, T = cdnow
    doubled = fit(np.r_[x, x], np.r_[t_x, t_x], np.r_[T, T])
    weighted = fit(x, t_x, T, weights=np.full(x.size, 2.0))
    for k in doubled.params:
        assert doubled[k] == pytest.approx(weighted[k], rel=1e-7)
    assert doubled.log_likelihood == pytest.approx(weighted.log_likelihood, rel=1e-12)
    assert doubled.customers == weighted.customers == 2 * x.size


def test_bic_compares_models_on_the_same_customers(cdnow):
    fits = [f(*cdnow) for f in (fit_pareto_nbd, fit_mbgnbd)]
    for fit in fits:
        assert isinstance(fit, FittedModel)
        assert fit.bic == pytest.approx(4 * math.log(2357) - 2 * fit.log_likelihood, rel=1e-15)
        assert fit.to_dict()["bic"] == fit.bic


# =========================================================================== bad input

GOOD = (0.55, 10.6, 0.61, 11.7)


@pytest.mark.parametrize("call, message", [
    (lambda: pareto_nbd_p_alive(GOOD, [1, 2], [1, 6], [5, 5]), "recency, row 2: must be <= T"),
    (lambda: pareto_nbd_p_alive((0.5, 10, -1, 11), 0, 0, 5), "params: s: must be a finite number > 0"),
    (lambda: pareto_nbd_p_alive({"r": 1, "alpha": 1, "s": 1}, 0, 0, 5), "params: missing 'beta'"),
    (lambda: pareto_nbd_expected_purchases(GOOD, -1, 0, 0, 5), "t: must be >= 0"),
    (lambda: pareto_nbd_expected_purchases(GOOD, [1, 2, 3], [0, 0], [0, 0], [5, 5]),
     "t: has 3 horizons for 2 customers"),
    (lambda: fit_pareto_nbd([0, 0, 1], [0, 0, 1], [5, 5, 5]), "too few repeat buyers to fit the Pareto/NBD"),
    (lambda: fit_pareto_nbd([0, 1, 2, 0, 4, 1, 3], [0, 3, 5, 0, 8, 1, 2], [10, 9, 9, 8, 9, 6, 10]),
     "pareto_nbd: the maximum likelihood estimate diverged"),
    (lambda: mbgnbd_p_alive(GOOD, ["x", 0], [0, 0], [5, 5]), "frequency, row 1: expected a number, got text"),
    (lambda: mbgnbd_p_alive((1, 2, 3), 0, 0, 5), "mbgnbd needs 4 parameters"),
    (lambda: fit_mbgnbd([0, 0, 1], [0, 0, 1], [5, 5, 5]), "too few repeat buyers to fit the MBG/NBD"),
    (lambda: bgbb_p_alive(BGBB, [1, 7], [1, 6], [6, 6]), "recency, row 2: must be >= frequency"),
    (lambda: bgbb_p_alive(BGBB, [1, 2], [1, 7], [6, 6]), "recency, row 2: must be <= n_periods"),
    (lambda: bgbb_p_alive(BGBB, [1, 2], [1, 2.5], [6, 6]), "recency, row 2: must be a whole number >= 0"),
    (lambda: bgbb_p_alive(BGBB, [0, 0], [0, 2], [6, 6]), "recency, row 2: must be 0 when frequency is 0"),
    (lambda: bgbb_p_alive(BGBB, [0, 0], [0, 0], [6, -6]), "n_periods, row 2: must be a whole number >= 0"),
    (lambda: bgbb_p_alive(BGBB, 0, 0, 6, 1.5), "m_periods: must be a whole number of opportunities"),
    (lambda: bgbb_expected_purchases(BGBB, [1, 2, 3], [0, 0], [0, 0], [6, 6]),
     "m_periods: has 3 horizons for 2 customers"),
    (lambda: fit_bgbb([0, 0, 1], [0, 0, 1], 6), "too few buyers to fit the BG/BB model"),
    (lambda: fit_bgbb([0, 1], [0, 1], 6, weights=[1, -1]), "weights, row 2: must be >= 0"),
    (lambda: fit_sbg([1000, 1000, 1000]), "no customer was lost in any period"),
    (lambda: fit_sbg([1000, 600]), "follow a cohort for at least two periods"),
    (lambda: fit_sbg([1000]), "survivors: give a cohort's size and then"),
    (lambda: fit_sbg([[1000, 600, 400], [800, None, 300]]),
     "survivors, row 2, column 2: a blank before a later count"),
    (lambda: fit_sbg([[1000, 600, 400], [None, 500, 300]]),
     "survivors, row 2, column 1: the cohort's size (its first value) is required"),
    (lambda: fit_sbg([[1000, 600, 700]]), "survivors, row 1, column 3: must not exceed the period before"),
    (lambda: fit_sbg([[1000, 600, "x"]]), "survivors, row 1, column 3: expected a number, got text"),
    (lambda: fit_sbg([0, 0, 0]), "survivors, row 1: the cohort's size (its first value) must be > 0"),
    (lambda: sbg_retention((0.7, 1.2), 2.5), "periods: a number of periods must be a whole number"),
    (lambda: sbg_retention((0.7, 1.2, 3), 2), "sbg needs 2 parameters"),
    (lambda: sbg_derl((0.7, 1.2), -0.1), "rate: a discount rate per period must be >= 0"),
    (lambda: sbg_derl((0.7, 1.2), 0.0), "rate: must be > 0 when alpha <= 1"),
    (lambda: sbg_derl((0.7, 1.2), 0.1, -1), "renewals: a number of periods must be >= 0"),
    (lambda: sbg_derl(FittedModel("bgbb", dict(zip("abcd", BGBB)), {}, 0.0, 1, 1), 0.1),
     "params: expected sbg parameters, got a fitted bgbb model"),
])
def test_bad_input_to_the_python_api(call, message):
    with pytest.raises(CustomerEquityError) as err:
        call()
    assert message in str(err.value)


# =========================================================================== the diagnostics' numbers

def test_purchase_pmf_against_lifetimes_and_the_pareto_mean(cdnow):
    from customer_equity.model.forecast.purchases import purchase_pmf

    x, t_x, T = cdnow
    times = [1.0, 39.0, 78.0]
    for fit, fitter in ((fit_mbgnbd(x, t_x, T), lifetimes.ModifiedBetaGeoFitter),
                        (fit_bgnbd(x, t_x, T), lifetimes.BetaGeoFitter)):
        f = fitter()
        f.params_ = pd.Series(fit.params)
        p = purchase_pmf(fit, times, 12)
        theirs = [[f.probability_of_n_purchases_up_to_time(t, n) for n in range(12)] for t in times]
        np.testing.assert_allclose(p[:, :12], theirs, rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    pnbd = fit_pareto_nbd(x, t_x, T)
    p = purchase_pmf(pnbd, times, 600)
    np.testing.assert_allclose(p[:, :600].sum(axis=1), 1.0, rtol=1e-9)
    # its mean is the closed form E[X(t)] (Fader & Hardie 2005, eq. 27)
    np.testing.assert_allclose((p[:, :600] * np.arange(600)).sum(axis=1),
                               pareto_nbd_expected_purchases_new(pnbd, np.array(times)), rtol=1e-9)


def test_purchase_counts_and_p_alive_grid(cdnow):
    from customer_equity.model.forecast.purchases import purchase_pmf

    s = summary_data(load_cdnow(), unit="week", calibration_end=CAL)
    forecast = fit_forecast(s, "pareto-nbd")
    counts = forecast.purchase_counts(7)
    x, t_x, T = cdnow
    assert list(counts.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert counts["observed"].tolist() == [1411, 439, 214, 100, 62, 38, 29, 64]
    assert counts["model"].sum() == pytest.approx(2357, rel=1e-9)
    by_customer = sum(purchase_pmf(forecast.purchases, [t], 7)[0] for t in T)
    np.testing.assert_allclose(counts["model"], by_customer, rtol=1e-9)
    freq, rec, alive = forecast.p_alive_grid(frequencies=5, points=4)
    assert freq.tolist() == [0, 1, 2, 3, 4, 5] and rec[-1] == pytest.approx(T.max())
    assert np.isnan(alive[0, 1:]).all()
    np.testing.assert_allclose(alive[3], pareto_nbd_p_alive(forecast.purchases, 3, rec, T.max()), rtol=1e-14)
