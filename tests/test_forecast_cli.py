"""``customer-equity forecast``: through the command line's door, streamed, on Dask, bad input."""

import json
import sys

import numpy as np
import pandas as pd
import pytest
from customer_equity.files import forecast as ff
from customer_equity.cli import main
from customer_equity.model.forecast import fit_forecast, load_cdnow, summary_data
from customer_equity.model.forecast.sample import cdnow_path, generate_log
from customer_equity.model.forecast.value import forecast_ltv

CDNOW = str(cdnow_path())
CAL, OBS = "1997-09-30", "1998-06-30"
COLUMNS = ["customer_id", "frequency", "recency", "T", "monetary_value", "p_alive",
           "expected_purchases", "expected_spend", "ltv"]


@pytest.fixture(scope="module")
def expected():
    s = summary_data(load_cdnow(), unit="week", calibration_end=CAL, observation_end=OBS)
    return fit_forecast(s)


def run(capsys, *args):
    code = main(["forecast", *map(str, args), "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


def report_numbers(out):
    """The numbers of a forecast report, parsed: parameters, log-likelihoods, counts, totals."""
    import re

    number = r"(-?[\d,]+(?:\.\d+)?)"
    got = {}
    for name in ("r", "alpha", "a", "b", "p", "q", "v"):
        m = re.search(rf"^  {name}\s+{number}\s+\(se", out, re.M)
        got[name] = float(m.group(1).replace(",", ""))
    lls = re.findall(rf"log-likelihood {number} on {number} customers", out)
    got["bgnbd_ll"], got["bgnbd_customers"] = (float(x.replace(",", "")) for x in lls[0])
    got["gg_ll"], got["gg_customers"] = (float(x.replace(",", "")) for x in lls[1])
    m = re.search(rf"^{number} customers, {number} with repeat purchases", out, re.M)
    got["customers"], got["repeat_buyers"] = (float(x.replace(",", "")) for x in m.groups())
    m = re.search(rf"total purchases: predicted {number}, actual {number}; amount: predicted "
                  rf"{number}, actual {number}", out)
    (got["predicted_purchases"], got["actual_purchases"], got["predicted_amount"],
     got["actual_amount"]) = (float(x.replace(",", "")) for x in m.groups())
    return got


def independent_counts():
    """Customers, repeat buyers and holdout purchases of the CDNOW sample counted with plain
    pandas from the shipped log (purchase days, SPEC 7), not with the product's summary."""
    log = pd.read_csv(CDNOW, parse_dates=["date"])
    days = log.drop_duplicates(["customer_id", "date"])
    first = days.groupby("customer_id")["date"].min()
    cohort = first[first <= CAL].index
    calibration = days[(days["date"] <= CAL) & days["customer_id"].isin(cohort)]
    repeat = (calibration.groupby("customer_id").size() > 1).sum()
    holdout = days[(days["date"] > CAL) & (days["date"] <= OBS) & days["customer_id"].isin(cohort)]
    amount = log[(log["date"] > CAL) & (log["date"] <= OBS) & log["customer_id"].isin(cohort)]
    return len(cohort), int(repeat), len(holdout), float(amount["amount"].sum())


#: Fader, Hardie & Lee (2005), "Counting your customers the easy way", on this sample (weeks):
#: r, alpha, a, b and the log-likelihood; and their "RFM and CLV" (2005) Gamma-Gamma p, q, gamma.
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "bgnbd_ll": -9582.4,
             "p": 6.25, "q": 3.74, "v": 15.44}


def check_sample_report(out, expected):
    got = report_numbers(out)
    for name, value in PUBLISHED.items():  # to the published figures' own precision
        assert got[name] == pytest.approx(value, abs=0.5 * 10 ** -(len(str(value).split(".")[1]))), name
    customers, repeat, holdout_purchases, holdout_amount = independent_counts()
    assert (got["customers"], got["repeat_buyers"], got["gg_customers"]) == (customers, repeat, repeat)
    assert got["actual_purchases"] == holdout_purchases
    assert got["actual_amount"] == pytest.approx(holdout_amount, abs=0.5)
    totals = expected.holdout_totals()  # the model's prediction, computed in memory
    assert got["predicted_purchases"] == pytest.approx(totals["predicted_purchases"], abs=0.05)
    assert got["predicted_amount"] == pytest.approx(totals["predicted_amount"], abs=0.5)


def test_report_on_the_shipped_sample(capsys, expected):
    code, out, err = run(capsys)  # no LOG: the bundled sample, calibrated to 1997-09-30
    assert code == 0, err
    assert out.startswith("Forecast from the bundled CDNOW sample")
    assert "calibration to 1997-09-30, holdout to 1998-06-30 (39 weeks)" in out
    check_sample_report(out, expected)
    table = expected.holdout_table()
    line = next(x for x in out.splitlines() if x.startswith("7+"))
    assert line.split()[1:] == ["64", f"{table.loc['7+', 'actual']:.2f}",
                                f"{table.loc['7+', 'predicted']:.2f}"]


def test_the_shipped_sample_needs_no_pyarrow(expected):
    """The base package (no pyarrow, as in xlwings Lite) still forecasts the bundled sample:
    the command runs in a fresh interpreter where importing pyarrow fails from the start, so
    that pandas, too, starts without it."""
    import subprocess

    code = ("import sys; sys.modules['pyarrow'] = None\n"
            "from customer_equity.cli import main\n"
            "sys.exit(main(['forecast', '--no-progress']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    check_sample_report(done.stdout, expected)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_per_customer_output(tmp_path, capsys, expected, suffix):
    out_file = tmp_path / f"forecast{suffix}"
    code, _, err = run(capsys, CDNOW, "--calibration-end", CAL, "--observation-end", OBS,
                       "--horizon", 26, "--rate", 0.002, "--margin", 0.3, "--out", out_file)
    assert code == 0, err
    if suffix == ".csv":
        got = pd.read_csv(out_file)
    elif suffix == ".parquet":
        got = pd.read_parquet(out_file)
    else:
        got = pd.read_excel(out_file, sheet_name="Customers")
        assert "Forecast from" in pd.read_excel(out_file, sheet_name="Forecast", header=None).iloc[0, 0]
    assert list(got.columns) == COLUMNS + ["actual_purchases"]
    assert len(got) == 2357
    assert got["customer_id"].astype(int).tolist() == sorted(load_cdnow()["customer_id"].unique())
    want = expected.predict(26, 0.002, 0.3)
    for col in COLUMNS[1:] + ["actual_purchases"]:
        np.testing.assert_allclose(got[col].astype(float), want[col].to_numpy(), rtol=1e-9,
                                   err_msg=col)
    assert not got.isna().any().any()


def test_json_summary(tmp_path, capsys, expected):
    out_file = tmp_path / "forecast.json"
    code, _, err = run(capsys, CDNOW, "--calibration-end", CAL, "--observation-end", OBS,
                       "--out", out_file, "--unit", "week")
    assert code == 0, err
    data = json.loads(out_file.read_text())
    assert data["bgnbd"] == pytest.approx(expected.bgnbd.params, rel=1e-9)
    assert data["gamma_gamma"] == pytest.approx(expected.gamma_gamma.params, rel=1e-9)
    assert set(data["standard_errors"]["bgnbd"]) == {"r", "alpha", "a", "b"}
    assert data["log_likelihood"]["bgnbd"] == pytest.approx(-9582.4292, abs=1e-3)
    assert data["customers"] == {"calibration": 2357, "repeat_buyers": 946, "spend_model": 946}
    assert data["holdout"]["actual_purchases"] == 1882
    assert data["holdout"]["predicted_purchases"] == pytest.approx(1653.41, abs=0.01)
    assert data["horizon"] == 52 and data["rate"] == pytest.approx(1.1 ** (7 / 365.25) - 1)


def test_customers_table_gives_equity_by_type(tmp_path, capsys, expected):
    ids = expected.summary.customers.index.to_numpy()
    table = pd.DataFrame({"customer_id": np.r_[ids[5:], [90001, 90002, 90003]],
                          "type": np.resize(["Lighthouse", "Follower", "Rational",
                                             "Profit-seeking"], len(ids) - 5 + 3),
                          "cv": 2.0, "kv": 3.0})
    customers = tmp_path / "customers.csv"
    table.to_csv(customers, index=False)
    config = tmp_path / "config.toml"
    config.write_text('classify_by = "type"\nrate = 0.01\n')
    out_file = tmp_path / "out.csv"
    code, out, err = run(capsys, CDNOW, "--calibration-end", CAL, "--customers", customers,
                         "--config", config, "--horizon", 8, "--out", out_file)
    assert code == 0, err
    assert "5 in the log but not in the customer table and 3 in the table but not in the log" in out
    got = pd.read_csv(out_file)
    assert list(got.columns) == COLUMNS + ["actual_purchases", "type", "pv", "ppv", "cv", "kv",
                                           "tv", "iv", "equity"]
    # the first five customers are not in the table: blank type and equity
    assert got["type"].isna().sum() == 5 and got["equity"].isna().sum() == 5
    # equity by hand: forecast PV at the configuration's rate, CV for all but profit-seeking,
    # KV for lighthouse customers only, over the 8 periods
    pv = forecast_ltv(expected.values(8, 1.0), 0.01)[5:]
    annuity = sum(1.01 ** -k for k in range(1, 9))
    kinds = table["type"].to_numpy()[:-3]
    by_hand = pv + 2.0 * annuity * (kinds != "Profit-seeking") + 3.0 * annuity * (kinds == "Lighthouse")
    np.testing.assert_allclose(got["equity"].to_numpy()[5:], by_hand, rtol=1e-9)
    np.testing.assert_allclose(got["ltv"].to_numpy()[5:], pv, rtol=1e-9)
    total = next(x for x in out.splitlines() if x.startswith("Customer equity:"))
    assert total == f"Customer equity: {by_hand.sum():,.0f}"


def test_streamed_in_small_batches_and_parts_equals_in_memory(tmp_path, monkeypatch, expected):
    log = load_cdnow().sample(frac=1.0, random_state=7)  # any order
    log["date"] = log["date"].dt.strftime("%Y%m%d")
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    monkeypatch.setattr(ff, "PART_ROWS", 1500)  # 6,919 transactions: five parts on disk
    result = ff.forecast_file(path, calibration_end=CAL, observation_end=OBS, batch_size=700)
    got = result.forecast.summary.customers
    want = expected.summary.customers
    assert list(got.index.astype(int)) == list(want.index)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-12)
    assert result.forecast.bgnbd.params == pytest.approx(expected.bgnbd.params, rel=1e-9)


@pytest.mark.parametrize("fmt", ["parquet", "xlsx"])
def test_parquet_and_excel_logs(tmp_path, fmt, expected):
    log = load_cdnow().rename(columns={"customer_id": "Customer ID", "amount": "Sales"})
    path = tmp_path / f"log.{fmt}"
    if fmt == "parquet":
        log.to_parquet(path, row_group_size=1000)
    else:
        log.to_excel(path, index=False, sheet_name="Log")
    result = ff.forecast_file(path, customer="customer id", amount="sales", calibration_end=CAL,
                              observation_end=OBS, batch_size=1000)
    got = result.forecast.summary.customers
    assert got.index.name == "Customer ID"
    np.testing.assert_allclose(got.to_numpy(), expected.summary.customers.to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_dask_two_workers_equals_local(tmp_path, capsys, fmt):
    log = CDNOW
    if fmt == "parquet":
        log = tmp_path / "log.parquet"
        load_cdnow().to_parquet(log, row_group_size=1000)  # seven row groups
    local, dask = tmp_path / "local.csv", tmp_path / "dask.csv"
    args = [log, "--calibration-end", CAL, "--batch-size", 2000]
    assert run(capsys, *args, "--out", local)[0] == 0
    code, _, err = run(capsys, *args, "--out", dask, "--workers", 2)
    assert code == 0, err
    assert local.read_bytes() == dask.read_bytes()
    assert len(pd.read_csv(dask)) == 2357


def test_dask_summary_fits_and_value_equal_local(tmp_path, capsys):
    """On Dask the fits and the forecast values run on the workers: the JSON summary
    (parameters, standard errors, log-likelihoods, counts, holdout, total value) is the
    local run's to the last digit, with text ids, a holdout and customers who first buy
    after the calibration end."""
    log = load_cdnow()
    log["customer_id"] = "C" + log["customer_id"].astype(str)
    late = pd.DataFrame({"customer_id": ["N1", "N2", "N2"], "date": ["1998-01-05"] * 3,
                         "amount": [10.0, 20.0, 5.0]})
    path = tmp_path / "log.csv"
    pd.concat([log, late]).sample(frac=1, random_state=7).to_csv(path, index=False)
    local, dask = tmp_path / "local.json", tmp_path / "dask.json"
    args = [path, "--calibration-end", CAL, "--observation-end", OBS, "--batch-size", 1500]
    assert run(capsys, *args, "--out", local)[0] == 0
    code, _, err = run(capsys, *args, "--out", dask, "--workers", 2)
    assert code == 0, err
    assert local.read_bytes() == dask.read_bytes()
    summary = json.loads(dask.read_text())
    assert summary["log"]["first_purchase_after_calibration"] == 2
    assert summary["customers"]["calibration"] == 2357
    assert summary["bgnbd"]["r"] == pytest.approx(0.2426, abs=1e-4)


# --------------------------------------------------------------------------- bad input

def write_log(tmp_path, rows, name="log.csv"):
    path = tmp_path / name
    path.write_text("customer_id,date,amount\n" + "\n".join(rows) + "\n")
    return path


def _good_rows():
    log = generate_log(300, seed=11)
    return [f"{c},{d:%Y-%m-%d},{a:.2f}" for c, d, a in log.itertuples(index=False)]


GOOD = _good_rows()  # 300 customers from 2024-01-01 to 2025-06-29


def error_of(capsys, *args):
    code, out, err = run(capsys, *args)
    assert code == 2, out
    assert err.startswith("customer-equity: error: ") and "Traceback" not in err
    return err.strip()


@pytest.mark.parametrize("bad, message", [
    ("3,2024-13-45,12", ("log.csv, row 5, column date: expected a date: a date cell, an Excel "
                        "serial number, or text written YYYY-MM-DD (got '2024-13-45')")),
    ("3,,12", "log.csv, row 5, column date: a date is required here, the cell is blank"),
    ("3,2024-01-20,twelve", ("log.csv, row 5, column amount: expected a number, got text "
                            "(got 'twelve')")),
    ("3,2024-01-20,", "log.csv, row 5, column amount: an amount is required here, the cell is blank"),
    (",2024-01-20,12", "log.csv, row 5, column customer_id: a customer id is required here"),
])
def test_bad_cells_are_named_by_file_row_and_column(tmp_path, capsys, bad, message):
    path = write_log(tmp_path, GOOD[:3] + [bad] + GOOD[3:])
    out_file = tmp_path / "out.csv"
    err = error_of(capsys, path, "--out", out_file)
    assert message in err
    assert not out_file.exists() and list(tmp_path.iterdir()) == [path]


def test_returns_zero_amounts_late_dates_and_new_customers_are_counted(tmp_path, capsys):
    rows = GOOD + ["1,2024-05-20,-15", "2,2024-05-21,0", "3,2025-08-05,9", "99999,2024-12-29,7"]
    path = write_log(tmp_path, rows)
    out_file = tmp_path / "s.json"
    code, out, err = run(capsys, path, "--unit", "day", "--calibration-end", "2024-09-30",
                         "--observation-end", "2025-06-30", "--out", out_file)
    assert code == 0, err
    data = json.loads(out_file.read_text())
    assert data["log"] == {"transactions": len(rows), "returns": 1, "zero_amounts": 1,
                           "after_observation_end": 1, "first_purchase_after_calibration": 1,
                           "future": 0, "duplicates": 0, "blank_rows": 0}
    # the appended rows are the file's lines 859-862 (the header is line 1)
    assert f"Data read from {path}: 861 rows, 858 used" in out
    assert "set aside: 1 returns (negative amounts): not purchases (row 859)" in out
    assert "set aside: 1 dated after the observation end (2025-06-30) (row 861)" in out
    assert ("set aside: 1 of customers whose first purchase is after the calibration end (new in "
            "the holdout) (row 862)") in out
    assert "kept, for a look: 1 zero amounts (a free item is still a visit) (row 860)" in out
    assert "customers: 301 read, 300 used; left out: 1 first buying after the calibration end" in out
    assert "calibration: 2024-01-01 to 2024-09-30; holdout: 2024-10-01 to 2025-06-30" in out
    assert data["customers"]["calibration"] == 300
    report = data["data"]
    assert (report["rows_read"], report["rows_used"], report["rows_set_aside"]) == (861, 858, 3)
    assert {k: (g["rows"], g["first_rows"]) for k, g in report["set_aside"].items()} == {
        "returns": (1, [859]), "after_observation_end": (1, [861]),
        "first_purchase_after_calibration": (1, [862])}


@pytest.mark.parametrize("args, message", [
    (["--calibration-end", "2023-12-01"], ("calibration_end: is before the first transaction of "
                                          "the log (2024-01-0")),
    (["--calibration-end", "2024-01-20", "--observation-end", "2024-01-10"],
     "observation_end: must not be before the calibration end (2024-01-20)"),
    (["--calibration-end", "31/01/2024"], "calibration_end: expected a date"),
    (["--customer", "client"], ("no customer column 'client'; the log has 'customer_id', 'date', "
                               "'amount' (name it with --customer)")),
    (["--out", "x.txt"], "x.txt: unknown output format"),
    (["--dask", "not an address"], "--dask: expected a scheduler address"),
])
def test_bad_options(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    path = write_log(tmp_path, GOOD)
    assert message in error_of(capsys, path, *args)


def test_too_few_repeat_buyers(tmp_path, capsys):
    path = write_log(tmp_path, ["1,2024-01-01,5", "1,2024-01-05,5", "2,2024-01-03,4"])
    assert "too few repeat buyers to fit the BG/NBD model: 1 customers" in error_of(capsys, path)


def test_no_repeat_spend(tmp_path, capsys):
    rows = [f"{c},2024-01-0{d},0" for c in range(1, 5) for d in (1, 5)]
    assert "too few repeat buyers with a positive spend" in error_of(capsys, write_log(tmp_path, rows))


def test_divergent_fit_is_a_clear_error(tmp_path, capsys):
    # every customer buys every day: nobody drops out, the rate is unbounded
    rows = [f"{c},2024-01-{d:02d},5" for c in range(1, 6) for d in range(1, 29)]
    err = error_of(capsys, write_log(tmp_path, rows), "--unit", "day")
    assert "bgnbd:" in err and ("diverged" in err or "did not converge" in err)


def test_empty_and_headless_logs(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "empty.csv: empty file" in error_of(capsys, empty)
    header = tmp_path / "header.csv"
    header.write_text("customer_id,date,amount\n")
    assert "header.csv: no transactions" in error_of(capsys, header)
    assert "no such file" in error_of(capsys, tmp_path / "missing.csv")


def test_output_never_half_written(tmp_path, capsys, monkeypatch):
    path = write_log(tmp_path, GOOD)
    out_file = tmp_path / "out.parquet"
    out_file.write_bytes(b"old results")

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ff, "_prediction_chunks", boom)
    assert main(["forecast", str(path), "--out", str(out_file), "--no-progress"]) == 130
    assert out_file.read_bytes() == b"old results"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv", "out.parquet"]


def test_outputs_have_no_nan(tmp_path, capsys):
    # customers with a zero mean spend and customers with one purchase on the calibration end
    rows = GOOD + ["90001,2024-01-01,0", "90001,2024-01-05,0", "90002,2024-09-30,3"]
    out_file = tmp_path / "o.csv"
    code, _, err = run(capsys, write_log(tmp_path, rows), "--calibration-end", "2024-09-30",
                       "--out", out_file)
    assert code == 0, err
    got = pd.read_csv(out_file)
    assert not got.isna().any().any() and np.isfinite(got.drop(columns="customer_id")).all().all()
    assert got.set_index("customer_id").loc[90002, "T"] == 0
    assert got.set_index("customer_id").loc[90001, "monetary_value"] == 0


# --------------------------------------------------------------------------- generated bad input

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

BAD_CELLS = {
    "customer_id": st.sampled_from(["", " "]),
    "date": st.one_of(st.sampled_from(["", "2024-02-30", "tomorrow", "31/12/2024", "2024-1",
                                       "99999999", "#N/A"]),
                      st.text(alphabet="abc/-:0123456789 ", min_size=1, max_size=12)),
    "amount": st.one_of(st.sampled_from(["", "1.5.0", "twelve", "#VALUE!", "TRUE", "nan", "inf"]),
                        st.text(alphabet="abc$%", min_size=1, max_size=6)),
}


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(column=st.sampled_from(list(BAD_CELLS)), data=st.data(),
       row=st.integers(min_value=0, max_value=len(GOOD) - 1),
       suffix=st.sampled_from([".csv", ".json"]))
def test_generated_bad_cells_give_a_located_error_and_no_file(tmp_path_factory, capsys, column,
                                                               data, row, suffix):
    value = data.draw(BAD_CELLS[column])
    tmp = tmp_path_factory.mktemp("bad")
    cells = [r.split(",") for r in GOOD]
    k = ["customer_id", "date", "amount"].index(column)
    cells[row][k] = value
    path = tmp / "log.csv"
    path.write_text("customer_id,date,amount\n" + "\n".join(",".join(c) for c in cells) + "\n")
    out_file = tmp / f"out{suffix}"
    code, _, err = run(capsys, path, "--calibration-end", "2024-09-30", "--out", out_file)
    if code == 0:  # the value was acceptable after all ("99999999" is not a date; " 5" is)
        assert out_file.exists()
        return
    assert code == 2 and "Traceback" not in err
    assert err.startswith(f"customer-equity: error: {path}, row ") or "bgnbd" in err or \
        "calibration" in err, err
    if err.startswith(f"customer-equity: error: {path}, row "):
        assert f"row {row + 2}, column {column}:" in err, err
    assert not out_file.exists()


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(n=st.integers(min_value=1, max_value=40), seed=st.integers(0, 10_000),
       calibration=st.integers(min_value=0, max_value=500))
@example(n=14, seed=1152, calibration=204)  # MBG/NBD's holdout cannot be evaluated: n/a, not exit 2
def test_generated_small_logs_give_numbers_or_a_clear_error(tmp_path_factory, capsys, n, seed,
                                                            calibration):
    """Tiny customer bases: the fit may be impossible, but never a traceback or NaN."""
    log = generate_log(n, seed=seed)
    tmp = tmp_path_factory.mktemp("small")
    path = tmp / "log.csv"
    log.to_csv(path, index=False)
    end = (pd.Timestamp("2024-01-01") + pd.Timedelta(days=calibration)).strftime("%Y-%m-%d")
    out_file = tmp / "out.csv"
    code, out, err = run(capsys, path, "--calibration-end", end, "--out", out_file)
    if code == 0:
        got = pd.read_csv(out_file)
        assert np.isfinite(got.drop(columns="customer_id").to_numpy(dtype=float)).all()
        assert "nan" not in out.lower().replace("n/a", "")
    else:
        assert code == 2 and err.startswith("customer-equity: error: ") and "Traceback" not in err
        assert not out_file.exists()


def test_a_comparison_model_that_cannot_predict_the_holdout_shows_n_a_with_why(tmp_path, capsys):
    """The 14-customer log CI generated: MBG/NBD's estimate (r 1e5, alpha 4e5) overflows its
    hypergeometric term. The forecast (BG/NBD) is written and exit 0; the comparison shows
    MBG/NBD's fit with n/a for the holdout and says why, the other models keep their numbers."""
    path = tmp_path / "log.csv"
    generate_log(14, seed=1152).to_csv(path, index=False)
    out_file = tmp_path / "out.csv"
    code, out, err = run(capsys, path, "--calibration-end", "2024-07-23", "--out", out_file)
    assert code == 0, err
    assert out_file.exists() and len(pd.read_csv(out_file)) == 14
    rows = {line.split()[0]: line for line in out.splitlines()
            if line.startswith(("BG/NBD", "Pareto/NBD", "MBG/NBD"))}
    assert rows["MBG/NBD"].split()[-5:] == ["n/a"] * 5
    assert "n/a" not in rows["BG/NBD"] and "n/a" not in rows["Pareto/NBD"]
    assert "n/a for MBG/NBD: mbgnbd: the expected purchases cannot be evaluated" in out


def test_a_comparison_model_that_cannot_be_fitted_shows_n_a_with_why(tmp_path, capsys):
    """16 customers (frequency, recency, T in weeks, written out as a log) on which BG/NBD
    fits but Pareto/NBD and MBG/NBD diverge (r and alpha run to 1e5 and beyond). The forecast
    with BG/NBD is written, exit 0, the two others shown n/a with their reason in the report
    and the JSON; asked for as the model of the predictions, Pareto/NBD is an error, nothing
    written."""
    x = [5, 5, 4, 5, 0, 0, 0, 5, 0, 5, 4, 5, 2, 0, 3, 5]
    t_x = [15, 21, 9, 31, 0, 0, 0, 10, 0, 28, 6, 37, 8, 0, 6, 22]
    T = [17, 21, 9, 31, 4, 17, 11, 29, 30, 28, 37, 37, 8, 5, 6, 29]
    end = pd.Timestamp("2024-12-31")
    rng = np.random.default_rng(7)
    rows = []
    for i, (xi, ti, Ti) in enumerate(zip(x, t_x, T), start=1):
        first = end - pd.Timedelta(days=7 * Ti)
        days = [0] + [round(7 * ti * k / xi) for k in range(1, xi + 1)]
        rows += [(i, (first + pd.Timedelta(days=d)).strftime("%Y-%m-%d"),
                  round(float(rng.gamma(4.0, 10.0)), 2)) for d in days]
    path = tmp_path / "log.csv"
    pd.DataFrame(rows, columns=["customer_id", "date", "amount"]).to_csv(path, index=False)
    out_csv, out_json = tmp_path / "out.csv", tmp_path / "out.json"
    code, out, err = run(capsys, path, "--calibration-end", "2024-12-31", "--out", out_csv)
    assert code == 0, err
    got = pd.read_csv(out_csv)
    assert len(got) == 16 and got["frequency"].tolist() == x and got["T"].tolist() == T
    rows = {line.split()[0]: line for line in out.splitlines()
            if line.startswith(("BG/NBD", "Pareto/NBD", "MBG/NBD"))}
    assert rows["Pareto/NBD"].split()[-2:] == ["n/a", "n/a"] and rows["MBG/NBD"].split()[-2:] == ["n/a", "n/a"]
    assert "n/a" not in rows["BG/NBD"]
    assert "n/a for Pareto/NBD: pareto_nbd: the maximum likelihood estimate diverged" in out
    assert "n/a for MBG/NBD: mbgnbd: the maximum likelihood estimate diverged" in out
    code, _, err = run(capsys, path, "--calibration-end", "2024-12-31", "--out", out_json)
    assert code == 0, err
    models = {m["model"]: m for m in json.loads(out_json.read_text())["models"]}
    assert models["bgnbd"]["bic"] is not None
    for key in ("pareto_nbd", "mbgnbd"):
        assert models[key]["params"] is None and models[key]["bic"] is None
        assert "diverged" in models[key]["note"]
    code, _, err = run(capsys, path, "--calibration-end", "2024-12-31", "--model", "pareto-nbd",
                       "--out", tmp_path / "p.csv")
    assert code == 2 and "pareto_nbd: the maximum likelihood estimate diverged" in err
    assert not (tmp_path / "p.csv").exists()
