"""The batch command: files in, files out, streaming and Dask equal to the in-memory measure()."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import customer_equity as ce
from customer_equity.files.config import read_config
from customer_equity import CustomerEquityError, MeasureConfig
from customer_equity.files import batch
from customer_equity.cli import main

N = 2_000
BATCH = 333  # several uneven batches
RTOL = 1e-9
NUMERIC = ["pv", "ppv", "cv", "kv", "tv", "iv", "ltv"]
ROOT = Path(__file__).resolve().parents[1]


def write_table(df, path):
    path = Path(path)
    if path.suffix == ".csv":
        df.to_csv(path, index=False)
    elif path.suffix == ".parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_excel(path, index=False, sheet_name="Customers")
    return path


@pytest.fixture(scope="module")
def base():
    return ce.generate_customers(N, seed=11)


@pytest.fixture(scope="module")
def config():
    return ce.sample_config()  # transaction income to allocate, default value tiers


@pytest.fixture(scope="module")
def reference(base, config):
    return ce.measure(base, config)


@pytest.fixture(scope="module")
def files(base, config, tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    paths = {fmt: write_table(base, folder / f"customers.{fmt}") for fmt in ("csv", "parquet", "xlsx")}
    paths["config"] = folder / "sample.json"
    paths["config"].write_text(json.dumps(config.to_dict()))
    return paths


def assert_same_totals(got, want):
    assert got.counts.tolist() == want.counts.tolist()
    np.testing.assert_allclose(got.sums, want.sums, rtol=RTOL, atol=1e-6)
    assert got.equity == pytest.approx(want.equity, rel=RTOL)
    assert got.excluded == want.excluded
    assert got.ignored_after_last_period == want.ignored_after_last_period
    pd.testing.assert_frame_equal(got.by_type, want.by_type, rtol=RTOL)
    pd.testing.assert_frame_equal(got.composition, want.composition, rtol=RTOL)
    pd.testing.assert_frame_equal(got.structure, want.structure, rtol=RTOL)


def assert_same_customers(got, want):
    """Per-customer results read back (from a file or kept) against measure() on the whole."""
    got = got.reset_index(drop=True)
    assert len(got) == len(want)
    assert list(got.columns) == list(want.columns)
    for name in NUMERIC + (["score"] if "score" in want else []):
        np.testing.assert_allclose(got[name].to_numpy(float), want[name].to_numpy(float), rtol=RTOL)
    for name in ("customer_id", "type", "tier"):
        assert got[name].astype(str).tolist() == want[name].astype(str).tolist(), name
    if "at_risk" in want:
        assert got["at_risk"].astype(bool).tolist() == want["at_risk"].tolist()


# --------------------------------------------------------------------------- streaming

@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_streaming_each_input_format_equals_in_memory(fmt, files, config, reference):
    got = batch.measure_file(files[fmt], config, batch_size=BATCH, keep_customers=True)
    assert_same_totals(got, reference)
    assert_same_customers(got.customers, reference.customers)
    assert got.at_risk_customers == int(reference.customers["at_risk"].sum())
    # the streamed summary is the in-memory one, notes included
    assert got.summary().split("Notes")[1] == reference.summary().split("Notes")[1]


def test_batches_stay_small_and_see_the_whole_base_carriers(files, config, base, monkeypatch):
    seen = []
    real = batch.measure

    def spy(frame, cfg, carriers=None, part=False):
        seen.append((len(frame), None if carriers is None else np.asarray(carriers).copy()))
        return real(frame, cfg, carriers=carriers, part=part)

    monkeypatch.setattr(batch, "measure", spy)
    got = batch.measure_file(files["parquet"], config, batch_size=BATCH)
    assert max(n for n, _ in seen) <= BATCH
    whole = ce.carriers_per_period(base, config)
    assert all(np.array_equal(c, whole) for _, c in seen)
    assert len(got.customers) == 0  # per-customer results are not held without keep_customers


def test_blocks_stage_and_a_scalar_income_stream_exactly(tmp_path):
    # capacity as a 12-period block, classification by life-cycle stage, one income
    # for every period: batches of 50 see only part of the horizon, the carriers are padded
    df = ce.generate_customers(1500, seed=3, periods_block=12)
    config = MeasureConfig(rate=0.08, iv=20.0, classify_by="stage", transaction_income=50_000.0,
                           timing="begin")
    want = ce.measure(df, config)
    path = write_table(df, tmp_path / "blocks.parquet")
    got = batch.measure_file(path, config, batch_size=50, keep_customers=True)
    assert_same_totals(got, want)
    assert_same_customers(got.customers, want.customers)
    assert want.ignored_after_last_period == 0 and want.excluded["kv"] > 0


def test_given_tier_cutoffs_and_a_tv_column_need_one_pass(tmp_path, base):
    df = base.assign(tv=np.round(np.random.default_rng(1).uniform(0, 40, len(base)), 1))
    config = MeasureConfig(tier_cutoffs=(5000.0, 2000.0, 500.0))
    want = ce.measure(df, config)
    path = write_table(df, tmp_path / "tv.csv")
    got = batch.measure_file(path, config, batch_size=BATCH, keep_customers=True)
    assert_same_totals(got, want)
    assert_same_customers(got.customers, want.customers)
    assert got.tier_cutoffs == (5000.0, 2000.0, 500.0)


@pytest.mark.filterwarnings("ignore:The inplace keyword")
@pytest.mark.parametrize("on", ["streaming", "dask"])
def test_csv_dialects_headers_and_flags(on, tmp_path, request):
    """Semicolons, headers as people type them, TRUE/FALSE with blanks, padded numbers."""
    df = ce.generate_customers(300, seed=8)
    lines = ["Customer ID;Periods;Capacity;Share;Margin;Income;Education;Innovativeness;"
             "Opinion Leadership;Brand-Loyalty;Price_Tolerance;TV Carrier;notes"]
    for k, r in enumerate(df.itertuples(index=False)):
        flag = "" if k % 7 == 0 else ("TRUE" if r.tv_carrier else "false")
        lines.append(f"{r.customer_id};{r.periods};{r.capacity:.0f} ;{r.share};{r.margin};{r.income};"
                     f"{r.education};{r.innovativeness};{r.opinion_leadership};{r.brand_loyalty};"
                     f"{r.price_tolerance};{flag};free text, with a comma")
    path = tmp_path / "semicolons.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    config = MeasureConfig(transaction_income=[30_000.0] * 5)
    clean = df[["customer_id", "periods", "capacity", "share", "margin", *ce.DEFAULT_WEIGHTS]].assign(
        tv_carrier=[False if k % 7 == 0 else v for k, v in enumerate(df["tv_carrier"])])
    want = ce.measure(clean, config)
    dask = request.getfixturevalue("cluster") if on == "dask" else None
    got = batch.measure_file(path, config, batch_size=64, keep_customers=True, dask=dask)
    assert_same_totals(got, want)
    assert_same_customers(got.customers, want.customers)


def test_header_only_input_is_refused(tmp_path, base, capsys):
    """Issue 20: a header-only table is no customer base of equity 0."""
    path = write_table(base.iloc[:0], tmp_path / "empty.csv")
    out = tmp_path / "empty.parquet"
    assert main(["measure", str(path), "--out", str(out), "--no-progress"]) == 2
    assert "empty.csv: the table has a header but no rows" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == [path]


def test_xlsx_input_title_rows_blank_rows_and_sheet_choice(tmp_path, base):
    df = base.iloc[:40].reset_index(drop=True)
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"x": [1]}).to_excel(xl, sheet_name="Notes", index=False)
        df.iloc[:20].to_excel(xl, sheet_name="Data", index=False, startrow=2)
        df.iloc[20:].to_excel(xl, sheet_name="Data", index=False, startrow=24, header=False)
    book = openpyxl.load_workbook(path)
    book["Data"]["A1"] = "Customer table, exported 2024"
    book.save(path)
    config = MeasureConfig()
    got = batch.measure_file(path, config, sheet="Data", keep_customers=True)
    want = ce.measure(df, config)
    assert_same_totals(got, want)
    assert_same_customers(got.customers, want.customers)
    # rows are the sheet's rows: header on row 3, data on 4-23, a blank row, then 25-44
    book = openpyxl.load_workbook(path)
    book["Data"]["K30"] = 1.5  # share of the 26th customer, sheet row 30
    book.save(path)
    with pytest.raises(CustomerEquityError, match=r"book\.xlsx \[Data\], row 30, column share: "
                       r"must lie in \[0, 1\] \(got 1\.5\)"):
        batch.measure_file(path, config, sheet="Data")
    with pytest.raises(CustomerEquityError, match="no sheet of that name.*'Notes', 'Data'"):
        batch.measure_file(path, config, sheet="Missing")


# --------------------------------------------------------------------------- outputs

def run_cli(*argv):
    return main(["measure", *map(str, argv), "--no-progress"])


def sample_cli(files, *argv):
    """The command on a test input, measured with the sample configuration (as `reference`)."""
    return run_cli(*argv, "--config", files["config"])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_per_customer_outputs_read_back(fmt, files, tmp_path, reference, capsys):
    out = tmp_path / f"results.{fmt}"
    assert sample_cli(files, files["csv"], "--out", out, "--batch-size", BATCH) == 0
    back = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
    assert_same_customers(back, reference.customers)
    printed = capsys.readouterr().out
    assert printed.startswith("Customer equity: ") and f"{N:,} customers" in printed
    notes = reference.summary().split("Notes\n")[1]
    assert printed.split("Notes\n")[1].startswith(notes + "\n\nMeasured ")
    assert sorted(os.listdir(tmp_path)) == [out.name]


def test_parquet_output_is_written_in_batches(files, tmp_path):
    out = tmp_path / "results.parquet"
    assert sample_cli(files, files["parquet"], "--out", out, "--batch-size", BATCH) == 0
    meta = pq.ParquetFile(out).metadata
    assert meta.num_rows == N and meta.num_row_groups == -(-N // BATCH)


def test_json_output_holds_the_summaries(files, tmp_path, reference):
    out = tmp_path / "summary.json"
    assert sample_cli(files, files["parquet"], "--out", out, "--batch-size", BATCH) == 0
    got = json.loads(out.read_text(encoding="utf-8"))
    want = reference.to_dict()
    assert got["input"] == str(files["parquet"])
    assert got["customers"] == want["customers"] == N
    assert got["equity"] == pytest.approx(want["equity"], rel=RTOL)
    for table in ("by_type", "composition", "structure"):
        for row, cells in want[table].items():
            for col, value in cells.items():
                assert got[table][row][col] == pytest.approx(value, rel=RTOL, nan_ok=True), (table, row, col)
    assert got["excluded"] == want["excluded"] and got["config"] == want["config"]
    assert got["at_risk_customers"] == int(reference.customers["at_risk"].sum())
    assert got["tier_cutoffs"] is None  # summaries only: no tiers were assigned


def test_xlsx_output_is_a_measurement_workbook(files, tmp_path, reference):
    """The measurement template filled in: its cached CE_ results are the streaming answer."""
    out = tmp_path / "measurement.xlsx"
    assert sample_cli(files, files["parquet"], "--out", out, "--batch-size", BATCH) == 0
    book = openpyxl.load_workbook(out, data_only=True)
    assert "CE_TEMPLATE" in book.defined_names
    step3 = book["Step 3 Equity"]
    assert step3["C4"].value == pytest.approx(reference.equity, rel=RTOL)
    by_type = {row[0]: list(row[1:]) for row in step3.iter_rows(min_row=9, max_row=13, min_col=2,
                                                              max_col=6, values_only=True)}
    assert by_type["Lighthouse"][:2] == [reference.counts[0], pytest.approx(reference.sums[:, 0].sum())]
    step2 = book["Step 2 Value"]
    assert step2["M11"].value == "LTV" and step2["C11"].value == "Type"
    rows = list(step2.iter_rows(min_row=12, max_row=11 + N, min_col=2, max_col=14, values_only=True))
    assert [r[0] for r in rows] == list(reference.customers["customer_id"])
    assert [r[1] for r in rows] == list(reference.customers["type"].astype(str))
    np.testing.assert_allclose([r[11] for r in rows], reference.customers["ltv"], rtol=RTOL)


def test_xlsx_output_refused_above_the_sheet_limit(files, tmp_path, monkeypatch, base, capsys):
    monkeypatch.setattr(batch.XlsxWriter, "max_rows", 500)
    out = tmp_path / "too-big.xlsx"
    # the row count is known before anything is measured (Parquet) ...
    assert run_cli(files["parquet"], "--out", out) == 2
    message = capsys.readouterr().err
    assert f"at most 500 customers, this input has {N:,}" in message and ".parquet or .csv" in message
    # ... or found on the way (CSV, tiers given: one pass that writes as it goes)
    config = tmp_path / "tiers.toml"
    config.write_text("tier_cutoffs = [5000.0, 2000.0, 500.0]\n")
    assert run_cli(files["csv"], "--out", out, "--config", config, "--batch-size", 200) == 2
    assert "at most 500 customers" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["tiers.toml"]


def test_no_input_writes_the_bundled_sample(tmp_path):
    out = tmp_path / "sample.csv"
    assert run_cli("--out", out) == 0
    want = ce.measure(ce.load_sample(), ce.sample_config())
    assert_same_customers(pd.read_csv(out), want.customers)


# --------------------------------------------------------------------------- bad input

FAULTS = {
    # name: (change to the first 200 customers, data row (0-based) or None, message)
    "missing column": (lambda d: d.drop(columns="periods"), None,
                       "column periods: column missing"),
    "text in a number": (lambda d: d.assign(capacity=d["capacity"].astype(object).where(
        d.index != 16, "12,5")), 16, "column capacity: expected a number, got text (got '12,5')"),
    "out of range": (lambda d: d.assign(share=d["share"].where(d.index != 15, 1.2)), 15,
                     "column share: must lie in [0, 1] (got 1.2)"),
    "not a flag": (lambda d: d.assign(tv_carrier=d["tv_carrier"].astype(object).where(
        d.index != 40, "maybe")), 40, "column tv_carrier: must be TRUE/FALSE, 1/0, yes/no or x/blank (got 'maybe')"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_bad_input_names_file_row_and_column_and_leaves_no_output(fmt, fault, tmp_path, base, capsys):
    change, index, rule = FAULTS[fault]
    if fmt == "parquet" and fault in ("text in a number", "not a flag"):
        pytest.skip("a Parquet column has one type (see the next test)")
    path = write_table(change(base.iloc[:200].copy()), tmp_path / f"customers.{fmt}")
    where = f"{path} [Customers]" if fmt == "xlsx" else str(path)
    if index is not None:  # the row a user sees: below the header row, or counted from 1
        where += f", row {index + (1 if fmt == 'parquet' else 2)}"
    expected = f"customer-equity: error: {where}, {rule}"
    config = write_config(tmp_path)
    for out in ("out.xlsx", "out.csv", "out.parquet", "out.json"):
        assert run_cli(path, "--out", tmp_path / out, "--batch-size", 7, "--config", config) == 2
        err = capsys.readouterr().err
        assert err.startswith(expected), err
        assert sorted(os.listdir(tmp_path)) == sorted([path.name, "config.toml"])


def write_config(folder):
    path = Path(folder) / "config.toml"
    path.write_text("rate = 0.1\ntransaction_income = 1000.0\n")
    return path


def test_parquet_with_text_in_a_number_column(tmp_path, base):
    df = base.iloc[:50].assign(capacity=base["capacity"].iloc[:50].astype(str))
    df.loc[7, "capacity"] = "n/a?"
    path = write_table(df, tmp_path / "strings.parquet")
    with pytest.raises(CustomerEquityError, match=r"strings\.parquet, row 1, column capacity: "
                       "expected a number, got a number stored as text"):
        batch.measure_file(path, MeasureConfig())


@pytest.mark.parametrize("argv, message", [
    (["nowhere.csv"], "nowhere.csv: no such file"),
    (["{csv}", "--out", "{tmp}/missing/out.csv"], "cannot write: the folder does not exist"),
    (["{csv}", "--out", "{tmp}/out.txt"], "unknown output format"),
    (["{csv}", "--out", "{csv}"], "is the input file"),
    (["{tmp}/table.ods"], "unknown input format"),
    (["{csv}", "--sheet", "Data"], "--sheet: only an .xlsx input has sheets"),
    (["{csv}", "--dask", "not-an-address"], "--dask: expected a scheduler address"),
])
def test_usage_errors(argv, message, files, tmp_path, capsys):
    argv = [a.format(csv=files["csv"], tmp=tmp_path) for a in argv]
    assert run_cli(*argv) == 2
    assert message in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_interrupted_run_leaves_nothing(files, tmp_path, monkeypatch, capsys):
    calls = []
    real = batch.measure

    def interrupted(frame, cfg, carriers=None, part=False):  # in the last pass, which writes
        calls.append(1)
        if len(calls) == -(-N // 100) + 3:
            raise KeyboardInterrupt
        return real(frame, cfg, carriers=carriers, part=part)

    monkeypatch.setattr(batch, "measure", interrupted)
    out = tmp_path / "results.csv"
    assert run_cli(files["csv"], "--out", out, "--config", write_config(tmp_path),
                   "--batch-size", 100) == 130
    assert "interrupted" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["config.toml"]


def test_ctrl_c_in_a_real_run_leaves_nothing(tmp_path):
    """SIGINT while the output is being written: exit 130, no output, no temporary file."""
    df = ce.generate_customers(300_000, seed=2)
    path = write_table(df, tmp_path / "big.parquet")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "udfs")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "customer_equity.cli", "measure", str(path), "--out",
         str(out_dir / "results.csv"), "--batch-size", "4000", "--no-progress"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        # SIGINT as a terminal gives it: an ignored SIGINT (left by an earlier test or a
        # nohup'ed runner) is inherited across exec, and Python then never raises Ctrl-C
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # a wait for an event, not a speed claim: a loaded runner may take minutes to get there
    deadline = time.monotonic() + 600
    while not os.listdir(out_dir) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "the run ended before its output was started"
    partial, = os.listdir(out_dir)
    assert partial.startswith(".results.csv.") and partial.endswith(".partial")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert os.listdir(out_dir) == []


# --------------------------------------------------------------------------- the sweep's bad files

PLACEHOLDERS = ["#N/A", "N/A", "NA", "n/a", "NULL", "null", "None", "nan", "NaN", "-NaN", "1.#QNAN",
                "-1.#IND", "#NA", "<NA>", "inf", "-Infinity"]


def _csv_with(tmp_path, base, column, index, text, name="customers.csv"):
    df = base.iloc[:60].copy()
    df[column] = df[column].astype(object)
    df.loc[index, column] = text
    path = tmp_path / name
    df.to_csv(path, index=False, na_rep="")
    assert text in path.read_text()  # the placeholder is in the file as typed
    return path


@pytest.mark.parametrize("text", PLACEHOLDERS)
def test_csv_placeholder_text_is_refused_not_read_as_blank(text, tmp_path, base, capsys):
    path = _csv_with(tmp_path, base, "capacity", 9, text)
    assert run_cli(path, "--out", tmp_path / "out.parquet", "--batch-size", 7) == 2
    err = capsys.readouterr().err
    from customer_equity.reading import not_a_number

    said = not_a_number(text, "capacity", row=11)  # the one reading (issue 20): its own words
    assert err.strip() == f"customer-equity: error: {path}, row 11, column capacity: {said.rule}" + (
        f" (got {text!r})" if said.has_value else "")
    assert "stands for a missing value" in err or "Excel error" in err or "got text" in err
    assert not (tmp_path / "out.parquet").exists()


def test_csv_empty_cells_are_blanks_and_a_cell_of_spaces_is_refused(tmp_path, base):
    """The one blank (issue 20): an empty cell; a cell of spaces is text, as in Excel."""
    df = base.iloc[:60].copy()
    df["capacity"] = df["capacity"].astype(object)
    df.loc[4, "capacity"] = None
    path = tmp_path / "blanks.csv"
    df.to_csv(path, index=False)
    got = batch.measure_file(path, MeasureConfig(), keep_customers=True)
    assert int(got.counts.sum()) == 60
    df.loc[3, "capacity"] = "   "
    df.to_csv(path, index=False)
    with pytest.raises(CustomerEquityError, match=r"blanks\.csv, row 5, column capacity: expected a "
                       "number, got a cell of spaces: clear the cell for a blank"):
        batch.measure_file(path, MeasureConfig())


@pytest.mark.filterwarnings("ignore:The inplace keyword")
def test_csv_placeholder_text_is_refused_on_dask(tmp_path, base):
    pytest.importorskip("distributed")
    path = _csv_with(tmp_path, base, "capacity", 9, "#N/A")
    with pytest.raises(CustomerEquityError, match=r"customers\.csv, row 11, column capacity: "
                       r"the cell holds the Excel error #N/A"):
        batch.measure_file(path, MeasureConfig(), dask="local", workers=1)


def test_xlsx_formulas_without_saved_results_are_refused(tmp_path, base):
    df = base.iloc[:30]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Customers"
    ws.append(list(df.columns))
    for row in df.itertuples(index=False):
        ws.append([None if isinstance(v, float) and np.isnan(v) else
                   (v.item() if hasattr(v, "item") else v) for v in row])
    col = list(df.columns).index("capacity") + 1
    letter = openpyxl.utils.get_column_letter(col)
    for r in (4, 9):
        ws.cell(row=r, column=col, value=f"=2*{r}")
    ws.cell(row=5, column=len(df.columns) + 3, value="=1+1")  # a column that is not read
    path = tmp_path / "scripted.xlsx"
    wb.save(path)
    with pytest.raises(CustomerEquityError) as info:
        batch.measure_file(path, MeasureConfig())
    message = str(info.value)
    assert f"cells {letter}4, {letter}9:" in message and "open and save it in Excel" in message
    assert main(["measure", str(path), "--no-progress"]) == 2  # and through the command


CONFIG_CASES = {
    "latin-1": (b"rate = 0.1\n# caf\xe9\n", "config.toml", "not UTF-8 text (byte 17)"),
    "json number": (b"5", "config.json", 'expected a table of settings such as {"rate": 0.1}, got int'),
    "json null": (b"null", "config.json", "expected a table of settings such as {\"rate\": 0.1}, got null"),
    "json list": (b"[1, 2]", "config.json", "got list"),
    "bad toml": (b"rate = = 1", "config.toml", "not a valid TOML file"),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_bad_config_files_get_a_clear_error(case, tmp_path, capsys):
    data, name, message = CONFIG_CASES[case]
    path = tmp_path / name
    path.write_bytes(data)
    assert main(["measure", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"customer-equity: error: {path}: ") and message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("name, text", [("bom.toml", "rate = 0.05\n"), ("bom.json", '{"rate": 0.05}')])
def test_config_with_a_byte_order_mark_is_accepted(name, text, tmp_path):
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert read_config(path).rate == 0.05


def test_out_naming_a_folder_or_a_read_only_file_is_refused(files, tmp_path, capsys):
    for name in ("results", "results.parquet"):
        folder = tmp_path / name
        folder.mkdir()
        assert run_cli(files["csv"], "--out", folder) == 2
        assert "this is a folder; name a file inside it" in capsys.readouterr().err
    locked = tmp_path / "locked.csv"
    locked.write_text("keep me")
    locked.chmod(0o444)
    try:
        assert run_cli(files["csv"], "--out", locked) == 2
        assert "cannot write: the file is read-only" in capsys.readouterr().err
        assert locked.read_text() == "keep me"
    finally:
        locked.chmod(0o644)
    assert sorted(os.listdir(tmp_path)) == ["locked.csv", "results", "results.parquet"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.integers(0, 12)), max_size=15), min_size=1, max_size=5))
def test_repeated_ids_counted_as_a_row_by_row_reading_counts_them(batches):
    """batch._duplicates over batches of ids (None: a blank id, skipped) against reading the
    rows one by one with a set of the ids seen: how many rows repeat an earlier id, and the
    first such row (0-based over all batches)."""
    seen, count, first, start, found = set(), 0, None, 0, []
    for ids in batches:
        for k, i in enumerate(ids):
            if i is None:
                continue
            if i in seen:
                count += 1
                first = start + k if first is None else first
            seen.add(i)
        frame = pd.DataFrame({"customer_id": pd.Series(ids, dtype=object)})
        found.append((*batch._id_hashes(frame), start))
        start += len(ids)
    assert batch._duplicates(found) == (count, first)


def test_duplicated_customer_ids_are_counted_and_warned(tmp_path, base, capsys):
    df = base.iloc[:100].copy()
    df["customer_id"] = df["customer_id"].astype(object)
    first = df.loc[3, "customer_id"]
    df.loc[[10, 40], "customer_id"] = first      # rows 12 and 42 of the CSV repeat row 5's id
    df.loc[70, "customer_id"] = df.loc[60, "customer_id"]
    path = write_table(df, tmp_path / "dupes.csv")
    out = tmp_path / "summary.json"
    assert run_cli(path, "--out", out, "--batch-size", 30) == 0
    report = capsys.readouterr().out
    assert ("WARNING: 3 rows repeat a customer id of an earlier row (first at row 12); each row "
            "is measured as a separate customer") in report
    data = json.loads(out.read_text())
    assert data["duplicate_customer_ids"] == 3 and data["first_duplicate_row"] == 12
    assert run_cli(write_table(base.iloc[:100], tmp_path / "unique.csv")) == 0
    assert "repeat a customer id" not in capsys.readouterr().out


# --------------------------------------------------------------------------- big .xlsx output

def _streamed_results(files, tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "TEMPLATE_MAX_CUSTOMERS", 100)  # 2,000 customers: streamed
    out = tmp_path / "results.xlsx"
    assert sample_cli(files, files["csv"], "--out", out, "--batch-size", BATCH) == 0
    return out


def test_xlsx_output_above_the_template_size_is_streamed(files, tmp_path, monkeypatch, reference):
    out = _streamed_results(files, tmp_path, monkeypatch)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Summary", "Customers", "Config"]
    assert book["Summary"]["B1"].value == pytest.approx(reference.equity, rel=RTOL)
    sheet = book["Customers"]
    table = sheet.tables["CustomerResults"]
    width = len(reference.customers.columns)
    assert table.ref == f"A1:{openpyxl.utils.get_column_letter(width)}{N + 1}"
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(reference.customers.columns)
    got = pd.DataFrame(rows[1:], columns=rows[0])
    assert_same_customers(got, reference.customers)


def test_streamed_xlsx_opens_in_libreoffice_with_the_same_cells(files, tmp_path, monkeypatch, reference):
    import templates_lo

    if templates_lo.soffice() is None:
        pytest.skip("LibreOffice is not installed")
    out = _streamed_results(files, tmp_path, monkeypatch)
    again = templates_lo.convert(out, tmp_path / "lo", "xlsx", recalc=False)
    book = openpyxl.load_workbook(again, data_only=True)
    rows = list(book["Customers"].iter_rows(values_only=True))
    got = pd.DataFrame(rows[1:], columns=rows[0])
    assert_same_customers(got, reference.customers)
    assert book["Summary"]["B1"].value == pytest.approx(reference.equity, rel=RTOL)


def test_xlsx_rows_text_is_escaped_and_blanks_stay_empty(tmp_path):
    from customer_equity.files.outputs import sheet_rows_xml

    frame = pd.DataFrame({"customer_id": ["<A&B>", None, "C\x01"], "ltv": [1.25, np.nan, -np.inf],
                          "links": [1, 2, 3], "at_risk": [True, False, True]})
    xml = sheet_rows_xml(frame, first_row=2).decode()
    assert xml.startswith('<row r="2"><c r="A2" t="inlineStr"><is><t>&lt;A&amp;B&gt;</t></is></c>')
    assert '<row r="3"><c r="B3"' not in xml and '<row r="3"><c r="C3"><v>2</v></c>' in xml
    assert '<t>C</t>' in xml and '<c r="B4"' not in xml and '<c r="D4" t="b"><v>1</v></c>' in xml


# --------------------------------------------------------------------------- Dask

# dask's own Parquet reader still calls reset_index(inplace=True), deprecated in pandas 3
dask_warnings = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning",
                                           "ignore:The inplace keyword")


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=False, threads_per_worker=1,
                                  dashboard_address=None) as local:
        yield local.scheduler_address


@dask_warnings
@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_dask_equals_in_memory(fmt, cluster, files, config, reference):
    got = batch.measure_file(files[fmt], config, batch_size=BATCH, dask=cluster, keep_customers=True)
    assert_same_totals(got, reference)
    assert_same_customers(got.customers, reference.customers)


@dask_warnings
def test_dask_from_the_command_line_writes_in_order(cluster, files, tmp_path, reference, capsys):
    out = tmp_path / "results.parquet"
    assert sample_cli(files, files["parquet"], "--out", out, "--dask", cluster) == 0
    assert_same_customers(pd.read_parquet(out), reference.customers)
    assert "Customer equity:" in capsys.readouterr().out


@dask_warnings
def test_dask_bad_input_names_the_file_row(cluster, base, tmp_path):
    df = base.assign(share=base["share"].where(base.index != 1234, 7.0))
    path = write_table(df, tmp_path / "bad.csv")
    with pytest.raises(CustomerEquityError, match=r"bad\.csv, row 1236, column share: must lie "
                       r"in \[0, 1\] \(got 7\.0\)"):
        # small partitions: the row counts the partitions before the bad one
        batch.measure_file(path, MeasureConfig(), batch_size=100, dask=cluster)


@dask_warnings
def test_local_dask_cluster_started_by_the_command(files, tmp_path, reference):
    out = tmp_path / "results.csv"
    assert sample_cli(files, files["parquet"], "--out", out, "--workers", "1") == 0
    assert_same_customers(pd.read_csv(out), reference.customers)


def test_measure_of_an_empty_part_is_zero_and_of_an_empty_table_refused():
    """A batch of a streamed table may be empty (part=True); a whole table may not (issue 20)."""
    empty = ce.generate_customers(10, seed=1, periods_block=4).iloc[:0]
    got = ce.measure(empty, MeasureConfig(transaction_income=100.0), carriers=[1, 1, 1, 1], part=True)
    assert got.equity == 0.0 and got.counts.tolist() == [0, 0, 0, 0] and len(got.customers) == 0
    with pytest.raises(CustomerEquityError, match="the table has a header but no rows"):
        ce.measure(empty, MeasureConfig(transaction_income=100.0))


def test_without_pyarrow_the_command_says_what_to_install(tmp_path, monkeypatch, capsys):
    """pyarrow is an optional extra: the base package stays pure Python for xlwings Lite."""
    import sys

    from customer_equity.cli import main

    src = tmp_path / "customers.csv"
    ce.generate_customers(20, seed=1).to_csv(src, index=False)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    out = tmp_path / "results.json"
    assert main(["measure", str(src), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "customers.csv" in err and "pip install 'customer-equity[batch]'" in err
    assert not out.exists() and list(tmp_path.iterdir()) == [src]


def test_xlsx_output_is_the_measurement_template_filled_in(tmp_path):
    """--out results.xlsx writes the measurement template with the customers pasted in,
    its CE_ cells cached with the core's numbers (so it opens with results, like the template)."""
    import openpyxl

    from customer_equity.cli import main

    df = ce.generate_customers(300, seed=11)
    src, out = tmp_path / "customers.csv", tmp_path / "results.xlsx"
    df.to_csv(src, index=False)
    assert main(["measure", str(src), "--out", str(out), "--no-progress"]) == 0
    expected = ce.measure(df, ce.MeasureConfig())
    book = openpyxl.load_workbook(out)
    assert "CE_TEMPLATE" in book.defined_names
    equity_cell = book["Step 3 Equity"]["C4"].value  # a dynamic-array formula, as every CE_ cell
    assert getattr(equity_cell, "text", equity_cell).startswith("=CE_EQUITY(")
    cached = openpyxl.load_workbook(out, data_only=True)
    assert cached["Step 3 Equity"]["C4"].value == pytest.approx(expected.equity, rel=1e-9)
    table = book["Customers"].tables["Customers"]
    assert table.ref.endswith(str(300 + table.headerRowCount + int(table.ref.split(":")[0][1:]) - 1))


def test_xlsx_output_of_a_table_with_blocks_keeps_the_summary_workbook(tmp_path):
    from customer_equity.cli import main

    df = ce.generate_customers(50, seed=12, periods_block=4)
    src, out = tmp_path / "customers.csv", tmp_path / "results.xlsx"
    df.to_csv(src, index=False)
    assert main(["measure", str(src), "--out", str(out), "--no-progress"]) == 0
    import openpyxl

    book = openpyxl.load_workbook(out)
    assert book.sheetnames[:2] == ["Summary", "Customers"]
    want = ce.measure(df, ce.MeasureConfig())  # what the file must hold: the core's measurement
    lines = list(book["Summary"].iter_rows(values_only=True))
    assert lines[0][:2] == ("Customer equity", pytest.approx(want.equity, rel=1e-12))
    at = lines.index(next(x for x in lines if x[:3] == ("type", "customers", "equity")))
    by_type = {row[0]: row[1:3] for row in lines[at + 1: at + 6]}  # the table below its header
    for kind in (*ce.TYPES, "Total"):
        assert by_type[kind] == (want.by_type.loc[kind, "customers"],
                                 pytest.approx(want.by_type.loc[kind, "equity"], rel=1e-12))
    rows = list(book["Customers"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    written = pd.DataFrame(body, columns=header)
    assert written["customer_id"].tolist() == df["customer_id"].tolist()
    assert written["ltv"].tolist() == pytest.approx(want.customers["ltv"].tolist(), rel=1e-12)
