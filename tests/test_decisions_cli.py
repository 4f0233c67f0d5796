"""``customer-equity measure A B ...``: structures and their comparison, through ``cli.main``."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import customer_equity as ce
from customer_equity.cli import main


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, out + err
    return code, out, err


def write_estimate(path, customers, average):
    pd.DataFrame({"type": ["Lighthouse", "Follower", "Rational", "Profit-seeking"],
                  "customers": customers, "average": average}).to_csv(path, index=False)
    return path


def test_two_estimates_by_hand(tmp_path, capsys):
    """Same 100 customers; 10 move from rational (100) to lighthouse (1,000); lighthouse
    customers become worth 1,100. Mix: +0.1 x 100 x (1,000 + 1,100)/2 = +10,500 and
    -0.1 x 100 x 100 = -1,000; value: +100 x 100 x (0.1 + 0.2)/2 = +1,500; total +11,000."""
    last = write_estimate(tmp_path / "last.csv", [10, 0, 90, 0], [1000, 0, 100, 0])
    this = write_estimate(tmp_path / "this.csv", [20, 0, 80, 0], [1100, 0, 100, 0])
    out_file = tmp_path / "change.csv"
    code, out, _ = run(["measure", last, this, "--out", out_file], capsys)
    assert code == 0
    assert "Structure of last" in out and "Structure of this" in out
    assert "Change from last to this" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    # customers, customer share pts, equity share pts, average, equity, volume, mix, value
    assert lines["Lighthouse"][-8:] == ["+10", "+10.0", "+20.7", "+100", "+12,000", "+0",
                                        "+10,500", "+1,500"]
    assert lines["Rational"][-8:] == ["-10", "-10.0", "-20.7", "+0", "-1,000", "+0", "-1,000", "+0"]
    assert lines["Total"][-4:] == ["+11,000", "+0", "+9,500", "+1,500"]
    written = pd.read_csv(out_file)
    total = written.set_index("type").loc["Total"]
    assert (total["volume_effect"], total["mix_effect"], total["value_effect"]) == (0.0, 9500.0, 1500.0)
    assert total["equity_change"] == 11000.0


@pytest.fixture()
def two_years(tmp_path):
    sample = ce.load_sample()
    first, second = sample.head(300), sample.tail(400)
    a, b = tmp_path / "y2023.csv", tmp_path / "y2024.csv"
    first.to_csv(a, index=False)
    second.to_csv(b, index=False)
    config = tmp_path / "config.json"
    settings = ce.sample_config().to_dict()
    settings["transaction_income"] = None
    config.write_text(json.dumps({k: v for k, v in settings.items() if v is not None}))
    cfg = ce.MeasureConfig.from_file(config)
    return a, b, config, first, second, cfg


def test_customer_tables_and_a_saved_result_equal_the_core(two_years, tmp_path, capsys):
    a, b, config, first, second, cfg = two_years
    saved = tmp_path / "y2023.json"
    assert run(["measure", a, "--config", config, "--out", saved, "--no-progress"], capsys)[0] == 0
    expected = ce.compare_structures([ce.measure(first, cfg), ce.measure(second, cfg)],
                                     ["y2023", "y2024"])
    for inputs in ([a, b], [saved, b]):
        out_file = tmp_path / "cmp.json"
        code, out, _ = run(["measure", *inputs, "--config", config, "--out", out_file,
                            "--no-progress"], capsys)
        assert code == 0, out
        data = json.loads(out_file.read_text())
        got = pd.DataFrame(data["comparison"])
        for column in ("equity_change", "volume_effect", "mix_effect", "value_effect",
                       "customer_share_change", "value_effect_pv"):
            assert got[column].tolist() == pytest.approx(expected[column].tolist(), rel=1e-9, abs=1e-6)
        structure = ce.structure_table(ce.measure(second, cfg))
        assert data["structures"]["y2024"]["Total"]["equity"] == pytest.approx(structure.loc["Total", "equity"])
        total = got.iloc[-1]
        assert total["volume_effect"] + total["mix_effect"] + total["value_effect"] == \
            pytest.approx(total["equity_change"], rel=1e-12)
        assert f"{expected.iloc[-1]['equity_change']:+,.0f}" in out


def test_against_first_and_a_json_estimate(two_years, tmp_path, capsys):
    a, b, config, *_ = two_years
    rival = tmp_path / "rival.json"
    rival.write_text(json.dumps({"customers": {"Lighthouse": 30, "follower": 60, "Rational": 120,
                                               "Profit-seeking": 90},
                                 "average": [6000, 3000, 1500, 400]}))
    code, out, _ = run(["measure", a, b, rival, "--config", config, "--against", "first",
                        "--no-progress"], capsys)
    assert code == 0
    assert "Change from y2023 to y2024" in out and "Change from y2023 to rival" in out
    assert "Structure of rival" in out and "6,000" in out


@pytest.mark.parametrize("make,message", [
    (lambda p: p.write_text('{"customers": [1, 2, 3], "average": [1, 2, 3, 4]}'),
     "customers: give one number per type"),
    (lambda p: p.write_text('{"customers": {"Boss": 1}, "average": [1, 2, 3, 4]}'),
     "customers: unknown customer type (got 'Boss')"),
    (lambda p: p.write_text('{"rate": 0.1}'), "expected a saved result of 'measure --out FILE.json'"),
    (lambda p: p.write_text('{"customers": '), "not a valid JSON file"),
])
def test_bad_estimates_are_named_by_file(two_years, tmp_path, capsys, make, message):
    a, *_ = two_years
    bad = tmp_path / "bad.json"
    make(bad)
    out_file = tmp_path / "cmp.csv"
    code, _, err = run(["measure", a, bad, "--out", out_file, "--no-progress"], capsys)
    assert code == 2
    assert f"customer-equity: error: {bad}" in err and message in err
    assert not out_file.exists() and not list(tmp_path.glob(".cmp.csv*"))


def test_a_bad_customer_row_names_file_row_and_column_and_writes_nothing(two_years, tmp_path, capsys):
    a, b, *_ = two_years
    text = b.read_text().splitlines()
    cells = text[3].split(",")
    cells[text[0].split(",").index("periods")] = "three"
    text[3] = ",".join(cells)
    b.write_text("\n".join(text) + "\n")
    out_file = tmp_path / "cmp.json"
    code, _, err = run(["measure", a, b, "--out", out_file, "--no-progress"], capsys)
    assert code == 2
    assert f"{b}, row 4, column periods: expected a number, got text (got 'three')" in err, err
    assert not out_file.exists()


@pytest.mark.parametrize("out_name,message", [
    ("cmp.xlsx", "comparing inputs writes .csv or .json"),
    ("y2023.csv", "is one of the inputs"),
])
def test_out_is_checked_before_any_work(two_years, capsys, out_name, message):
    a, b, *_ = two_years
    before = a.read_bytes()
    code, out, err = run(["measure", a, b, "--out", a.parent / out_name], capsys)
    assert code == 2 and message in err and "Structure" not in out
    assert a.read_bytes() == before


def test_one_input_is_still_one_measurement(two_years, capsys):
    a, *_ = two_years
    code, out, _ = run(["measure", a, "--no-progress"], capsys)
    assert code == 0 and "Measured 300 customers" in out and "Change from" not in out
