"""Issue 20: every data mistake refused or reported, never turned into another number.

Each case enters where the user enters: ``customer_equity.cli.main`` (and the installed
``customer-equity`` command for signals), and the CE_ functions through both xlwings paths
(COM, and Office.js with a blank cell sent as null and as 0). Refresh's cases are in
``test_refresh_data.py`` (LibreOffice over UNO).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from customer_equity.cli import main
from customer_equity.files import forecast as ff
from customer_equity.model.forecast import generate_log, summary_data
from customer_equity.reading import RowMap
from xlwings_harness import OMITTED, Cells

M = "customer_equity.excel.functions"
TODAY = dt.date.today()


@pytest.fixture(scope="module")
def log_1500(tmp_path_factory):
    """1,500 customers from 2024-01-01 to 2025-06-29, as a CSV (line k + 1 is row k)."""
    log = generate_log(1500, seed=20)
    log["date"] = log["date"].dt.strftime("%Y-%m-%d")
    path = tmp_path_factory.mktemp("log") / "log.csv"
    log.to_csv(path, index=False)
    return log, path


def run(capsys, *args):
    code = main([*map(str, args), "--no-progress"] if args[0] == "forecast" else list(map(str, args)))
    out, err = capsys.readouterr()
    return code, out, err


def forecast_json(capsys, path, tmp_path, *options, name="run.json"):
    out = tmp_path / name
    code, text, err = run(capsys, "forecast", path, "--out", out, *options)
    assert code == 0, err
    return json.loads(out.read_text()), text


def write(tmp_path, frame, name):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


# --- a typo in a year -----------------------------------------------------------------------


def test_a_row_dated_2099_is_set_aside_and_reported_not_taken_as_the_observation_end(
        log_1500, tmp_path, capsys):
    log, path = log_1500
    typo = log.copy()
    typo.loc[5, "date"] = "2099" + typo.loc[5, "date"][4:]  # line 7 of the file
    clean = log.drop(index=5)
    with_typo, text = forecast_json(capsys, write(tmp_path, typo, "typo.csv"), tmp_path)
    without, _ = forecast_json(capsys, write(tmp_path, clean, "clean.csv"), tmp_path, name="c.json")
    # the forecast is the forecast of the log without the row: same ends, same value
    assert with_typo["ltv_total"] == pytest.approx(without["ltv_total"], rel=1e-12)
    assert with_typo["data"]["observation_end"] == "2025-06-29"
    assert with_typo["ltv_total"] > 10_000  # with the row as the observation end: 34 (issue 20)
    data = with_typo["data"]
    assert (data["rows_read"], data["rows_used"], data["rows_set_aside"]) == (len(log), len(log) - 1, 1)
    assert data["set_aside"]["future"]["first_rows"] == [7]
    assert f"set aside: 1 dated after today ({TODAY}): a typo in the year? (row 7)" in text


def test_strict_refuses_the_row_dated_after_today_naming_it(log_1500, tmp_path, capsys):
    log, _ = log_1500
    typo = log.copy()
    typo.loc[5, "date"] = "2099-02-17"
    out = tmp_path / "out.csv"
    code, _, err = run(capsys, "forecast", write(tmp_path, typo, "typo.csv"), "--strict", "--out", out)
    assert code == 2
    assert f"typo.csv, row 7, column date: dated 2099-02-17, after today ({TODAY})" in err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["typo.csv"]


@pytest.mark.parametrize("option", ["--calibration-end", "--observation-end"])
def test_an_end_after_the_logs_last_date_is_refused_naming_both_dates(log_1500, capsys, option):
    _, path = log_1500
    code, _, err = run(capsys, "forecast", path, option, "2025-12-01")
    assert code == 2
    assert ("2025-12-01 is after the last date of the log (2025-06-29): the days after it were "
            "not observed") in err


# --- an export run twice, returns, rates, horizons -------------------------------------------


def test_exact_duplicates_are_reported_and_kept_or_dropped(log_1500, tmp_path, capsys):
    log, path = log_1500
    twice = pd.concat([log, log.iloc[:40]], ignore_index=True)  # 40 rows exported again
    twice_path = write(tmp_path, twice, "twice.csv")
    kept, text = forecast_json(capsys, twice_path, tmp_path)
    first_copy = len(log) + 2  # the first repeated row is line len(log) + 2
    assert kept["data"]["reported"]["duplicates"]["rows"] == 40
    assert kept["data"]["reported"]["duplicates"]["first_rows"] == list(range(first_copy, first_copy + 5))
    assert kept["data"]["rows_used"] == len(twice)
    assert "kept, for a look: 40 exact duplicates of an earlier row" in text
    dropped, _ = forecast_json(capsys, twice_path, tmp_path, "--duplicates", "drop", name="d.json")
    clean, _ = forecast_json(capsys, path, tmp_path, name="c.json")
    assert dropped["data"]["set_aside"]["duplicates"]["rows"] == 40
    assert dropped["data"]["rows_used"] == len(log)
    assert dropped["ltv_total"] == pytest.approx(clean["ltv_total"], rel=1e-12)
    assert kept["ltv_total"] != pytest.approx(clean["ltv_total"], rel=1e-6)  # summed, as lifetimes


def test_customers_with_returns_only_are_counted(log_1500, tmp_path, capsys):
    log, _ = log_1500
    extra = pd.DataFrame({"customer_id": [90001, 90001, 90002], "date": ["2024-03-01", "2024-04-01",
                                                                        "2024-05-01"],
                          "amount": [-10.0, -5.0, -1.0]})
    data, text = forecast_json(capsys, write(tmp_path, pd.concat([log, extra]), "r.csv"), tmp_path)
    assert data["data"]["customers"]["read"] == 1502
    assert data["data"]["customers"]["used"] == 1500
    assert data["data"]["customers"]["returns_only"] == 2
    assert data["data"]["set_aside"]["returns"]["rows"] == 3
    assert "customers: 1,502 read, 1,500 used; left out: 2 with returns only" in text


def test_a_negative_forecast_rate_is_refused(log_1500, capsys):
    _, path = log_1500
    code, _, err = run(capsys, "forecast", path, "--rate", "-0.5")
    assert code == 2 and "rate: a negative discount rate makes money later worth more" in err


def test_a_horizon_out_of_reach_is_refused_before_any_allocation(log_1500, tmp_path, capsys):
    _, path = log_1500
    out = tmp_path / "f.csv"
    started = time.perf_counter()
    code, _, err = run(capsys, "forecast", path, "--horizon", "100000000", "--out", out)
    assert code == 2 and time.perf_counter() - started < 30
    assert "horizon: a horizon of 100,000,000 periods for 1,500 customers needs about " in err
    # the expected purchases are summed a block of periods at a time (issue 23): memory does
    # not grow with the horizon, a few MB; the time refuses it
    assert " MB of memory at once (" in err and " hours: give at most " in err
    assert not out.exists()


def test_the_streamed_report_equals_the_core_report(log_1500, tmp_path, capsys, monkeypatch):
    """Batches of 500 rows and parts of 300 occasions: the same rows, first rows and customers."""
    log, _ = log_1500
    messy = pd.concat([log, log.iloc[100:130],
                       pd.DataFrame({"customer_id": [1, 90001, 5], "amount": [-3.0, -2.0, 4.0],
                                     "date": ["2024-05-05", "2024-05-06", "2098-01-01"]})],
                      ignore_index=True)
    path = write(tmp_path, messy, "m.csv")
    monkeypatch.setattr(ff, "PART_ROWS", 300)
    data, _ = forecast_json(capsys, path, tmp_path, "--batch-size", 500, "--calibration-end",
                            "2025-01-01")
    core = summary_data(pd.read_csv(path), calibration_end="2025-01-01", rows=RowMap(first=2))
    expected = core.report.to_dict()
    for key in ("rows_read", "rows_used", "rows_set_aside", "set_aside", "reported", "calibration",
                "holdout", "first_date", "last_date"):
        assert data["data"][key] == expected[key], key
    assert {k: data["data"]["customers"][k] for k in expected["customers"]} == expected["customers"]
    assert data["data"]["set_aside"]["future"]["first_rows"] == [len(messy) + 1]


def test_the_report_is_a_sheet_of_the_xlsx_output(log_1500, tmp_path, capsys):
    log, _ = log_1500
    typo = log.copy()
    typo.loc[5, "date"] = "2099-02-17"
    out = tmp_path / "f.xlsx"
    code, _, err = run(capsys, "forecast", write(tmp_path, typo, "t.csv"), "--out", out)
    assert code == 0, err
    sheet = openpyxl.load_workbook(out)["Data"]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=3)]
    assert rows[0] == ["item", "count", "first rows"]
    assert ["rows read", len(log), None] in rows and ["rows used", len(log) - 1, None] in rows
    assert [f"set aside: dated after today ({TODAY}): a typo in the year?", 1, "7"] in rows


@pytest.mark.slow
def test_the_dask_report_equals_the_local_report(log_1500, tmp_path, capsys):
    log, _ = log_1500
    messy = pd.concat([log, log.iloc[:25], pd.DataFrame({"customer_id": [7], "date": ["2099-01-01"],
                                                         "amount": [3.0]})], ignore_index=True)
    path = write(tmp_path, messy, "m.csv")
    local, _ = forecast_json(capsys, path, tmp_path, name="l.json")
    dask, _ = forecast_json(capsys, path, tmp_path, "--dask", "--workers", 2, "--batch-size", 1000,
                            name="d.json")
    assert dask["data"] == {**local["data"], "source": dask["data"]["source"]}
    assert dask["ltv_total"] == pytest.approx(local["ltv_total"], rel=1e-12)


# --- the readers of customer tables and estimates --------------------------------------------


def test_a_placeholder_in_an_estimate_csv_is_refused_not_read_as_0(tmp_path, capsys):
    import customer_equity as ce

    customers = write(tmp_path, ce.load_sample(), "customers.csv")
    est = tmp_path / "est.csv"
    est.write_text("type,customers,average\nLighthouse,100,500\nFollower,n/a,300\n"
                   "Rational,300,200\nProfit-seeking,400,100\n")
    code, out, err = run(capsys, "measure", customers, est)
    assert code == 2, out
    assert ("est.csv, row 3, column customers: 'n/a' stands for a missing value and is never read "
            "as 0") in err
    est.write_text("type,customers,average\nLighthouse,100,500\nFollower,200,300\n"
                   "Rational,-300,200\nProfit-seeking,400,100\n")
    code, _, err = run(capsys, "measure", customers, est)
    assert code == 2 and "est.csv, row 4, column customers: a number of customers must be >= 0" in err


def test_the_prospects_reader_names_the_row_and_the_text(tmp_path, capsys):
    import customer_equity as ce

    sample = ce.load_sample()
    customers = write(tmp_path, sample, "customers.csv")
    pros = sample[["income", "education"]].head(6).astype(object)
    pros.insert(0, "prospect_id", range(1, 7))
    pros.iloc[3, 2] = "abc"  # line 5
    code, _, err = run(capsys, "prospects", write(tmp_path, pros, "p.csv"), "--customers", customers)
    assert code == 2 and "p.csv, row 5, column education: expected a number, got text (got 'abc')" in err
    pros.iloc[3, 2] = 3
    pros.iloc[1, 1] = "n/a"  # line 3
    code, _, err = run(capsys, "prospects", write(tmp_path, pros, "p.csv"), "--customers", customers)
    assert code == 2 and "p.csv, row 3, column income: 'n/a' stands for a missing value" in err


def test_a_header_only_customer_table_is_refused(tmp_path, capsys):
    import customer_equity as ce

    path = tmp_path / "empty.csv"
    path.write_text(",".join(ce.load_sample().columns) + "\n")
    code, out, err = run(capsys, "measure", path)
    assert code == 2, out
    assert "the table has a header but no rows: there are no customers to measure" in err


# --- --out before any work -------------------------------------------------------------------


def test_out_in_a_folder_that_takes_no_file_is_refused_before_any_work(log_1500, capsys):
    _, path = log_1500
    started = time.perf_counter()
    code, _, err = run(capsys, "forecast", path, "--out", "/proc/forecast.csv")
    assert code == 2 and time.perf_counter() - started < 5
    assert err.strip() == ("customer-equity: error: /proc/forecast.csv: cannot write: the folder "
                           "takes no new file (No such file or directory)")
    assert "partial" not in err


def _command():
    found = Path(sys.executable).with_name("customer-equity")
    return [str(found)] if found.exists() else [sys.executable, "-m", "customer_equity"]


def test_parquet_out_without_pyarrow_is_refused_before_any_work(log_1500, tmp_path):
    """pyarrow made unimportable for the command's process (xlwings Lite has none)."""
    _, path = log_1500
    blocker = tmp_path / "site"
    blocker.mkdir()
    (blocker / "pyarrow.py").write_text("raise ImportError('no pyarrow here')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(_command() + ["forecast", "--out", str(tmp_path / "f.parquet")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "need pyarrow: pip install 'customer-equity[batch]'" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "f.parquet").exists()


# --- Ctrl-C and SIGTERM ----------------------------------------------------------------------


@pytest.mark.parametrize("delay", [0.15, 0.4, 0.8, 1.5, 3.0])
def test_ctrl_c_at_any_moment_is_one_line_and_exit_130(log_1500, tmp_path, delay):
    _, path = log_1500
    out = tmp_path / "f.csv"
    proc = subprocess.Popen(_command() + ["forecast", str(path), "--unit", "day", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    if proc.returncode == 0:  # it finished first: nothing to interrupt
        assert out.exists()
        return
    assert proc.returncode == 130, stderr
    assert stderr == "customer-equity: interrupted\n"
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name != "f.csv"]


def test_sigterm_stops_a_long_forecast_between_two_steps(log_1500, tmp_path):
    _, path = log_1500
    out = tmp_path / "f.csv"
    # 300,000 days: the horizon sums (issue 23) take about a minute, linear in the periods
    proc = subprocess.Popen(_command() + ["forecast", str(path), "--unit", "day", "--horizon", "300000",
                                          "--out", str(out), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(5.0)  # the summary and the fits are done: the predictions run (about a minute)
    sent = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert stderr == "customer-equity: terminated\n"
    assert time.perf_counter() - sent < 5
    assert not list(tmp_path.iterdir())


# --- the Excel door: CE_LOG_CHECK and CE_LOG_SUMMARY on both paths ---------------------------


def col(values):
    return Cells([[v] for v in values])


# A log worked by hand; today is 2025-01-31 (the function's last argument):
#   row 1, 2: customer 1 on 01-02 (10) and 01-09 (20);  row 3: customer 1 again on 01-09 (20),
#   an exact duplicate of row 2 (kept);  row 4: customer 2 on 01-03 (0: a visit, kept);
#   row 5: blank in every column (set aside);  row 6: customer 3, a return (-4) and nothing else;
#   row 7: customer 2 on 2099-01-09: after today (set aside).
LOG = [[1, "2025-01-02", 10.0], [1, "2025-01-09", 20.0], [1, "2025-01-09", 20.0],
       [2, "2025-01-03", 0.0], [None, None, None], [3, "2025-01-05", -4.0], [2, "2099-01-09", 5.0]]
REPORT = [
    ["item", "count", "first rows"],
    ["rows read", 7.0, ""],
    ["rows used", 4.0, ""],
    ["set aside: blank rows (nothing in any column read)", 1.0, "5"],
    ["set aside: dated after today (2025-01-31): a typo in the year?", 1.0, "7"],
    ["set aside: returns (negative amounts): not purchases", 1.0, "6"],
    ["kept, for a look: zero amounts (a free item is still a visit)", 1.0, "4"],
    ["kept, for a look: exact duplicates of an earlier row (same customer, day and amount)", 1.0, "3"],
    ["customers read", 3.0, ""],
    ["customers used", 2.0, ""],
    ["customers with returns only (left out)", 1.0, ""],
    ["first date used", "2025-01-02", ""],
    ["last date used", "2025-01-09", ""],
    ["calibration", "2025-01-02 to 2025-01-09", ""],
]


def _log_args(rows):
    return [col([r[k] for r in rows]) for k in range(3)]


def test_ce_log_check_reports_by_hand_on_both_paths(com, ojs):
    args = _log_args(LOG) + [OMITTED, OMITTED, OMITTED, "2025-01-31"]
    assert com.call_cell(M, "ce_log_check", *args) == REPORT
    assert ojs.call_cell(M, "ce_log_check", *args) == REPORT


def test_ce_log_summary_sets_the_2099_row_aside_on_both_paths(com, ojs):
    clean = [r for r in LOG if r[1] != "2099-01-09"]
    for rt in (com, ojs):
        assert rt.call_cell(M, "ce_log_summary", *_log_args(LOG)) == \
            rt.call_cell(M, "ce_log_summary", *_log_args(clean))
        # customer 1: days 01-02, 01-09 (20 + 20 summed, as lifetimes); T up to 01-09 (the last date)
        got = rt.call_cell(M, "ce_log_summary", *_log_args(LOG), "day")
        assert got[1] == [1, 1.0, 7.0, 7.0, 40.0] and got[2] == [2, 0.0, 0.0, 6.0, 0.0]


def test_a_log_end_after_the_last_date_is_refused_on_both_paths(com, ojs):
    args = _log_args(LOG[:4]) + ["week", "2025-02-01"]
    message = ("CE_LOG_SUMMARY: calibration_end: 2025-02-01 is after the last date of the log "
               "(2025-01-09)")
    assert com.call_cell(M, "ce_log_summary", *args).startswith("#VALUE! " + message)
    assert ojs.call_cell(M, "ce_log_summary", *args).message.startswith(message)


def test_composition_ranges_of_different_rows_are_refused_on_both_paths(com, ojs):
    args = (col(["Lighthouse", "Follower"]), 0.1, 2, Cells([[1, 2], [3, 4]]),
            Cells([[1, 2], [3, 4], [5, 6]]), 0, 0, 0)
    message = "CE_COMPOSITION: ppv: has 3 rows, which do not match types, pv (2 rows)"
    assert com.call_cell(M, "ce_composition", *args) == "#VALUE! " + message
    assert ojs.call_cell(M, "ce_composition", *args).message == message


def test_a_periods_header_in_any_case_reads_alike_at_every_door(com, ojs, tmp_path, capsys):
    import customer_equity as ce

    sample = ce.load_sample().head(40)
    cells = [list(sample.columns)] + sample.astype(object).where(sample.notna(), None).values.tolist()
    upper = [list(cells[0])] + cells[1:]
    upper[0] = [" Periods " if c == "periods" else c for c in upper[0]]
    for rt in (com, ojs):
        assert rt.call_cell(M, "ce_whatif", Cells(upper), OMITTED, 0.05) == \
            rt.call_cell(M, "ce_whatif", Cells(cells), OMITTED, 0.05)
