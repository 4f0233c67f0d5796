"""The models beyond BG/NBD through the command line's door: ``forecast --model`` and its
comparison of the purchase models, and ``retention-fit``.

Oracles: the array functions of each model on the summary the command reads (tested against
lifetimes and the papers in test_forecast_models.py), Fader & Hardie's (2007) sBG estimates,
and hand computations written out here.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest
from customer_equity.cli import main
from customer_equity.model import ltv_retention
from customer_equity.model.forecast import (
    fit_mbgnbd,
    fit_pareto_nbd,
    load_cdnow,
    mbgnbd_expected_purchases,
    mbgnbd_p_alive,
    pareto_nbd_expected_purchases,
    pareto_nbd_p_alive,
    sbg_retention,
    sbg_survival,
    summary_data,
)
from customer_equity.model.forecast.sample import cdnow_path

CDNOW = str(cdnow_path())
CAL, OBS = "1997-09-30", "1998-06-30"
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]


@pytest.fixture(scope="module")
def summary():
    return summary_data(load_cdnow(), unit="week", calibration_end=CAL, observation_end=OBS).customers


def run(capsys, *args):
    code = main([*map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_forecast_with_pareto_nbd_and_the_comparison(tmp_path, capsys, summary):
    out_json, out_csv = tmp_path / "f.json", tmp_path / "f.csv"
    args = ["forecast", CDNOW, "--calibration-end", CAL, "--observation-end", OBS, "--model",
            "pareto-nbd", "--no-progress"]
    code, report, err = run(capsys, *args, "--out", out_json)
    assert code == 0, err
    x, t_x, T = (summary[k].to_numpy() for k in ("frequency", "recency", "T"))
    ours = fit_pareto_nbd(x, t_x, T)
    s = json.loads(out_json.read_text())
    assert s["purchase_model"] == "pareto_nbd"
    assert s["pareto_nbd"] == pytest.approx(ours.params, rel=1e-12)
    assert s["log_likelihood"]["pareto_nbd"] == pytest.approx(ours.log_likelihood, rel=1e-12)
    models = {m["model"]: m for m in s["models"]}
    assert list(models) == ["pareto_nbd", "bgnbd", "mbgnbd"]  # the one used first
    actual = summary["actual_purchases"].to_numpy()
    assert actual.sum() == 1882
    mbg = fit_mbgnbd(x, t_x, T)
    for fit, predict in ((ours, pareto_nbd_expected_purchases), (mbg, mbgnbd_expected_purchases)):
        row = models[fit.model]
        assert row["log_likelihood"] == pytest.approx(fit.log_likelihood, rel=1e-12)
        assert row["bic"] == pytest.approx(4 * math.log(2357) - 2 * fit.log_likelihood, rel=1e-12)
        predicted = predict(fit, 39, x, t_x, T)
        h = row["holdout"]
        assert h["actual"] == 1882 and h["length"] == 39
        assert h["predicted"] == pytest.approx(predicted.sum(), rel=1e-12)
        assert h["error"] == pytest.approx(predicted.sum() / 1882 - 1, rel=1e-12)
        assert h["mae"] == pytest.approx(np.abs(predicted - actual).mean(), rel=1e-12)
        assert h["rmse"] == pytest.approx(np.sqrt(((predicted - actual) ** 2).mean()), rel=1e-12)
    # the published log-likelihoods of the three (FHL 2005: -9,582.4 and -9,595.0)
    assert models["bgnbd"]["log_likelihood"] == pytest.approx(-9582.43, abs=0.01)
    assert models["pareto_nbd"]["log_likelihood"] == pytest.approx(-9594.98, abs=0.01)
    assert "Pareto/NBD purchases (Schmittlein, Morrison & Colombo 1987): log-likelihood" in report
    line = next(x for x in report.splitlines() if x.startswith("Pareto/NBD (used)"))
    assert line.split()[2:5] == ["-9,594.98", "19,221.01", f"{models['pareto_nbd']['holdout']['predicted']:,.1f}"]
    # the per-customer predictions are Pareto/NBD's
    code, _, err = run(capsys, *args, "--out", out_csv, "--no-compare")
    assert code == 0, err
    frame = pd.read_csv(out_csv)
    np.testing.assert_allclose(frame["p_alive"], pareto_nbd_p_alive(ours, x, t_x, T), rtol=1e-12)
    np.testing.assert_allclose(frame["expected_purchases"],
                               pareto_nbd_expected_purchases(ours, 52, x, t_x, T), rtol=1e-12)


def test_forecast_with_mbg_nbd_values_its_customers(tmp_path, capsys, summary):
    out_csv, out_json = tmp_path / "m.csv", tmp_path / "m.json"
    args = ["forecast", CDNOW, "--calibration-end", CAL, "--model", "mbg-nbd", "--horizon", 4,
            "--rate", 0.01, "--no-progress", "--no-compare"]
    code, report, err = run(capsys, *args, "--out", out_csv)
    assert code == 0, err
    assert "Purchase models on the same customers" not in report
    x, t_x, T = (summary[k].to_numpy() for k in ("frequency", "recency", "T"))
    fit = fit_mbgnbd(x, t_x, T)
    frame = pd.read_csv(out_csv)
    np.testing.assert_allclose(frame["p_alive"], mbgnbd_p_alive(fit, x, t_x, T), rtol=1e-12)
    # ltv: the period values from the differences of the expected purchases, by hand
    cumulative = [mbgnbd_expected_purchases(fit, k, x, t_x, T) for k in range(5)]
    spend = frame["expected_spend"].to_numpy()
    by_hand = sum((cumulative[k] - cumulative[k - 1]) * spend / 1.01 ** k for k in range(1, 5))
    np.testing.assert_allclose(frame["ltv"], by_hand, rtol=1e-10)
    code, _, err = run(capsys, *args, "--out", out_json)
    assert json.loads(out_json.read_text())["models"] is None


def test_forecast_model_on_dask_equals_local(tmp_path, capsys):
    pytest.importorskip("distributed")
    local, dask = tmp_path / "local.json", tmp_path / "dask.json"
    args = ["forecast", CDNOW, "--calibration-end", CAL, "--observation-end", OBS, "--model",
            "pareto-nbd", "--no-progress"]
    code, _, err = run(capsys, *args, "--out", local)
    assert code == 0, err
    code, _, err = run(capsys, *args, "--out", dask, "--workers", 2)
    assert code == 0, err
    ours, theirs = json.loads(local.read_text()), json.loads(dask.read_text())
    ours.pop("input"), theirs.pop("input")
    assert ours == theirs


def test_forecast_refuses_an_unknown_model(capsys):
    code, _, err = run(capsys, "forecast", "--model", "pareto")
    assert code == 2 and "invalid choice: 'pareto'" in err


# --------------------------------------------------------------------------- retention-fit

def test_retention_fit_reproduces_fader_hardie_and_values_a_customer(tmp_path, capsys):
    table = tmp_path / "regular.csv"
    table.write_text("cohort,year 0,year 1,year 2,year 3,year 4,year 5,year 6,year 7\n"
                     "1995," + ",".join(map(str, REGULAR)) + "\n")
    out = tmp_path / "curve.json"
    code, report, err = run(capsys, "retention-fit", table, "--periods", 12, "--margin", 100,
                            "--rate", 0.1, "--out", out)
    assert code == 0, err
    s = json.loads(out.read_text())
    assert (round(s["params"]["alpha"], 3), round(s["params"]["beta"], 3)) == (0.704, 1.182)
    assert s["customers"] == 1000 and s["cohorts"] == 1
    curve = s["curve"]
    assert curve["period"] == list(range(13)) and curve["retention"][0] is None
    params = (s["params"]["alpha"], s["params"]["beta"])
    assert curve["retention"][1:] == pytest.approx(list(sbg_retention(params, 12)), rel=1e-12)
    assert curve["survival"] == pytest.approx(list(sbg_survival(params, 12)), rel=1e-12)
    # the value of a customer just acquired: sum of 100 S(t) / 1.1^t, by hand (the tail
    # past 3,000 periods is below 1e-100)
    S = [1.0]
    for t in range(1, 3000):
        S.append(S[-1] * (params[1] + t - 1) / (params[0] + params[1] + t - 1))
    by_hand = sum(100 * S[t] / 1.1 ** t for t in range(1, 3000))
    assert curve["ltv"][0] == pytest.approx(by_hand, rel=1e-10)
    # after 3 renewals: 100 sum S(3+t)/S(3) / 1.1^t
    assert curve["ltv"][3] == pytest.approx(sum(100 * S[3 + t] / S[3] / 1.1 ** t for t in range(1, 2990)),
                                            rel=1e-10)
    constant = ltv_retention(100, curve["retention"][1], 0.1)
    assert f"{constant:,.2f}" in report and f"{curve['ltv'][0]:,.2f}" in report
    assert curve["ltv"][0] > constant  # retention rises with tenure


def test_retention_fit_several_cohorts_from_excel(tmp_path, capsys):
    table = pd.DataFrame({"cohort": ["2019", "2020", "2021"],
                          "0": [1000, 800, 900], "1": [631, 520, 600], "2": [468, 400, None],
                          "3": [382, None, None]})
    path = tmp_path / "cohorts.xlsx"
    table.to_excel(path, index=False)
    code, report, err = run(capsys, "retention-fit", path, "--out", tmp_path / "c.csv")
    assert code == 0, err
    assert "3 cohort(s), 2,700 customers" in report
    from customer_equity.model.forecast import fit_sbg

    fit = fit_sbg(table[["0", "1", "2", "3"]].to_numpy(dtype=float))
    assert fit.params["alpha"] == pytest.approx(float(next(
        x.split()[1] for x in report.splitlines() if x.strip().startswith("alpha"))), rel=1e-5)
    curve = pd.read_csv(tmp_path / "c.csv")
    assert list(curve.columns) == ["period", "retention", "survival"] and len(curve) == 9


@pytest.mark.parametrize("content, message", [
    ("cohort,0,1,2\na,1000,600,700\n", "row 2, column 2: must not exceed the period before"),
    ("cohort,0,1,2\na,1000,600,x\n", "row 2, column 2: expected a number of customers (got 'x')"),
    ("0,1,2\n1000,600,500\n900,,400\n", "row 3, column 1: a blank before a later count"),
    ("cohort,0,1,2\na,1000,600,n/a\n", "row 2, column 2: 'n/a' stands for no value"),
    ("cohort,0,1,2\na,1000,1000,1000\n", "no customer was lost in any period"),
    ("cohort,0\n", "no cohorts"),
])
def test_retention_fit_bad_tables(tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    code, out, err = run(capsys, "retention-fit", path)
    assert code == 2 and out == ""
    assert err.startswith(f"customer-equity: error: {path}") and message in err, err


def test_retention_fit_options(tmp_path, capsys):
    path = tmp_path / "t.csv"
    path.write_text("cohort,0,1,2,3\na,1000,631,468,382\n")
    code, _, err = run(capsys, "retention-fit", path, "--margin", 100)
    assert code == 2 and "--rate: give both --margin and --rate" in err
    code, _, err = run(capsys, "retention-fit", path, "--out", tmp_path / "c.txt")
    assert code == 2 and "unknown output format" in err
    assert not (tmp_path / "c.txt").exists()


# --------------------------------------------------------------------------- forecast --plots

def test_forecast_plots(tmp_path, capsys):
    folder = tmp_path / "plots"
    code, report, err = run(capsys, "forecast", "--model", "mbg-nbd", "--plots", folder, "--no-progress")
    assert code == 0, err
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["calibration-vs-holdout.png", "p-alive.png", "purchases-per-customer.png"]
    for p in folder.iterdir():
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"Diagnostics: {folder / 'purchases-per-customer.png'}" in report
    # without a holdout there is no calibration-vs-holdout picture
    other = tmp_path / "no-holdout"
    code, _, err = run(capsys, "forecast", CDNOW, "--observation-end", CAL, "--plots", other,
                       "--no-progress", "--no-compare")
    assert code == 0, err
    assert sorted(p.name for p in other.iterdir()) == ["p-alive.png", "purchases-per-customer.png"]
    a_file = tmp_path / "file.png"
    a_file.write_bytes(b"x")
    code, _, err = run(capsys, "forecast", "--plots", a_file, "--no-progress", "--no-compare")
    assert code == 2 and "is a file; --plots names a folder" in err


# --------------------------------------------------------------------------- forecast --model bg-bb

@pytest.fixture(scope="module")
def donations_log(tmp_path_factory):
    """Fader, Hardie & Shang's 1995 donor cohort (the recency/frequency table lifetimes ships)
    written out as a transaction log: a first donation on 1995-01-01, then one donation in
    each year taken, the x years up to the last, t_x. Amounts drawn at random."""
    import datetime as dt

    pytest.importorskip("lifetimes")
    from lifetimes.datasets import load_donations

    table = load_donations()
    rng = np.random.default_rng(2010)
    first = dt.date(1995, 1, 1)
    rows, cid = [], 0
    for _, r in table.iterrows():
        for _ in range(int(r.weights)):
            cid += 1
            rows.append((cid, first.isoformat(), 50.0))
            x, t_x = int(r.frequency), int(r.recency)
            for k in range(t_x - x + 1, t_x + 1):
                day = first + dt.timedelta(days=int(k * 365.25) + 100)
                rows.append((cid, day.isoformat(), round(float(rng.gamma(4.0, 12.0)), 2)))
    path = tmp_path_factory.mktemp("donations") / "donations.csv"
    pd.DataFrame(rows, columns=["customer_id", "date", "amount"]).to_csv(path, index=False)
    return path, table


def test_forecast_bg_bb_reproduces_the_donations_estimates_from_a_log(tmp_path, capsys, donations_log):
    from customer_equity.model.forecast import bgbb_expected_purchases, bgbb_p_alive

    path, table = donations_log
    # six whole years after the first donation end on 2001-12-31
    args = ["forecast", path, "--model", "bg-bb", "--unit", "year", "--calibration-end", "2001-12-31",
            "--horizon", 5, "--rate", 0.1, "--no-progress"]
    out_json, out_csv = tmp_path / "d.json", tmp_path / "d.csv"
    code, report, err = run(capsys, *args, "--out", out_json)
    assert code == 0, err
    s = json.loads(out_json.read_text())
    assert s["purchase_model"] == "bgbb" and s["customers"]["calibration"] == 11104
    # Fader, Hardie & Shang (2010): alpha 1.204, beta 0.750, gamma 0.657, delta 2.783, LL -33,225.6
    assert [round(s["bgbb"][k], 3) for k in ("alpha", "beta", "gamma", "delta")] == [1.204, 0.750, 0.657, 2.783]
    assert s["log_likelihood"]["bgbb"] == pytest.approx(-33225.6, abs=0.05)
    assert "BG/BB purchases at discrete opportunities (Fader, Hardie & Shang 2010)" in report
    code, _, err = run(capsys, *args, "--out", out_csv)
    assert code == 0, err
    frame = pd.read_csv(out_csv)
    # the summary is the published table, customer by customer
    got = frame.groupby(["frequency", "recency", "n_periods"]).size()
    want = table.set_index(["frequency", "recency", "periods"])["weights"]
    assert got.to_dict() == {k: v for k, v in want.to_dict().items()}
    x, t_x, n = (frame[k].to_numpy() for k in ("frequency", "recency", "n_periods"))
    np.testing.assert_allclose(frame["p_alive"], bgbb_p_alive(s["bgbb"], x, t_x, n), rtol=1e-10)
    np.testing.assert_allclose(frame["expected_purchases"],
                               bgbb_expected_purchases(s["bgbb"], 5, x, t_x, n), rtol=1e-10)
    # ltv by hand: the opportunities' increments times E[M], discounted
    ey = [bgbb_expected_purchases(s["bgbb"], k, x, t_x, n) for k in range(6)]
    by_hand = sum((ey[k] - ey[k - 1]) * frame["expected_spend"] / 1.1 ** k for k in range(1, 6))
    np.testing.assert_allclose(frame["ltv"], by_hand, rtol=1e-10)


def test_opportunity_summary_with_a_holdout_by_hand(tmp_path, capsys):
    from customer_equity.model.forecast.data import date_to_day
    from customer_equity.model.forecast.opportunities import summarise_opportunities

    # unit year; customer 1: first 2000-01-01, buys in years 1 and 3 (2001-03-01, 2003-03-01) and
    # in the holdout year 4 (2004-03-01); customer 2: first 2001-06-01, nothing more; customer 3
    # first buys in the holdout
    dates = ["2000-01-01", "2001-03-01", "2003-03-01", "2004-03-01", "2001-06-01", "2004-06-01"]
    s = summarise_opportunities([1, 1, 1, 1, 2, 3], [date_to_day(d) for d in dates],
                                [10, 20, 30, 40, 5, 7], date_to_day("2003-12-31"),
                                date_to_day("2004-12-31"), "year")
    c = s.customers
    assert list(c.columns) == ["frequency", "recency", "n_periods", "monetary_value", "actual_purchases",
                               "actual_amount", "holdout_periods"]
    # customer 1: years 1-3 whole by 2003-12-31 (3 x 365.25 days after 2000-12-31): n = 3, x = 2,
    # t_x = 3, m = (20 + 30)/2; year 4 whole by 2004-12-31: one holdout opportunity, taken (40)
    assert c.loc[1].tolist() == [2.0, 3.0, 3.0, 25.0, 1.0, 40.0, 1.0]
    # customer 2: year 1 ends 2003-05-31, year 2 on 2004-05-31: n = 1, one holdout opportunity
    assert c.loc[2].tolist() == [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    assert list(c.index) == [1, 2] and s.counts["first_purchase_after_calibration"] == 1
    # the command on this log: one buyer cannot fit BG/BB, said so
    log = tmp_path / "log.csv"
    log.write_text("customer_id,date,amount\n" + "".join(
        f"{i},{d},{a}\n" for i, d, a in zip([1, 1, 1, 1, 2, 3], dates, [10, 20, 30, 40, 5, 7])))
    code, _, err = run(capsys, "forecast", log, "--model", "bg-bb", "--unit", "year",
                       "--calibration-end", "2003-12-31", "--observation-end", "2004-12-31",
                       "--no-progress")
    assert code == 2 and "frequency: too few buyers to fit the BG/BB model: 1" in err


def test_forecast_bg_bb_refusals(tmp_path, capsys, donations_log):
    path, _ = donations_log
    code, out, err = run(capsys, "forecast", path, "--model", "bg-bb", "--unit", "year", "--workers", 2,
                         "--no-progress")
    assert code == 2 and "--workers: not with --model bg-bb" in err
    code, out, err = run(capsys, "forecast", path, "--model", "bg-bb", "--unit", "year",
                         "--calibration-end", "1995-06-30", "--no-progress")
    assert code == 2 and "no customer has a whole opportunity" in err


def test_forecast_bg_bb_plots_the_donations_fit(tmp_path, capsys, donations_log):
    """`--plots` with `--model bg-bb`: the three pictures (a holdout of 2001), from BG/BB's
    numbers; calibrated on the six years, as published, every donor has
    n = 6 opportunities, so the model's donors per class are 11,104 x lifetimes' P(X(6) = x),
    the published table's donors per x observed; P(alive at the next opportunity) by frequency
    and recency as lifetimes computes it, blank where no donor can be."""
    from lifetimes import BetaGeoBetaBinomFitter

    from customer_equity.files.forecast import forecast_file

    path, table = donations_log
    folder = tmp_path / "plots"
    code, report, err = run(capsys, "forecast", path, "--model", "bg-bb", "--unit", "year",
                            "--calibration-end", "2000-12-31", "--observation-end", "2001-12-31",
                            "--plots", folder, "--no-progress")
    assert code == 0, err
    assert sorted(p.name for p in folder.iterdir()) == ["calibration-vs-holdout.png", "p-alive.png",
                                                        "purchases-per-customer.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in folder.iterdir())
    forecast = forecast_file(str(path), unit="year", calibration_end="2001-12-31", model="bg-bb").forecast
    counts = forecast.purchase_counts()
    observed = table.groupby("frequency")["weights"].sum()
    assert counts["observed"].tolist() == observed.tolist() + [0]  # 0..6 and "7+"
    f = BetaGeoBetaBinomFitter()
    f.params_ = pd.Series(forecast.bgbb.params)
    f.data = pd.DataFrame({"frequency": np.arange(7), "weights": np.r_[1.0, np.zeros(6)]})
    theirs = 11104 * f.expected_number_of_transactions_in_first_n_periods(6)["model"].to_numpy()
    np.testing.assert_allclose(counts["model"].to_numpy()[:7], theirs, rtol=1e-10)
    assert counts["model"].iloc[7] == pytest.approx(0.0, abs=1e-9)
    freq, rec, alive = forecast.p_alive_grid(frequencies=6)
    assert freq.tolist() == list(range(7)) and rec.tolist() == list(range(7))
    for x in range(7):
        for t_x in range(7):
            if t_x < x or (x == 0 and t_x > 0):
                assert np.isnan(alive[x, t_x])
            else:
                want = f.conditional_probability_alive(1, np.array([x]), np.array([t_x]), np.array([6]))
                assert alive[x, t_x] == pytest.approx(float(want[0]), rel=1e-9), (x, t_x)


def test_bg_bb_ends_may_complete_the_last_opportunity_but_no_more(tmp_path, capsys, donations_log):
    """Discrete opportunities count whole periods: the log's last donation is 2001-04-10 (day 100
    of 2001, as the fixture writes them), and an end up to one year later completes the year in
    progress; past that the days were not observed and the end is refused, as for the other models."""
    path, _ = donations_log
    assert pd.read_csv(path)["date"].max() == "2001-04-10"
    code, _, err = run(capsys, "forecast", path, "--model", "bg-bb", "--unit", "year",
                       "--calibration-end", "2002-04-11", "--no-progress")
    assert code == 2 and ("calibration_end: 2002-04-11 is after the last date of the log by more "
                          "than one year (2001-04-10)") in err and "up to 2002-04-10" in err
    code, _, err = run(capsys, "forecast", path, "--unit", "year", "--calibration-end", "2001-12-31",
                       "--no-progress")
    assert code == 2 and "calibration_end: 2001-12-31 is after the last date of the log (2001-04-10)" in err
