"""``customer-equity measure A B ...``: structures and their comparison, through ``cli.main``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import customer_equity as ce
from customer_equity.files.config import read_config
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
    cfg = read_config(config)
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


def test_a_blank_in_an_estimate_is_refused_not_read_as_0(two_years, tmp_path, capsys):
    """The issue's case: a competitor estimate whose lighthouse average is blank read as 0 (its
    lighthouse equity 0). Refused with the file, the row (the header is row 1) and the column;
    a blank average of a type without customers is fine, and so is one left out of a .json."""
    a, *_ = two_years
    rival = tmp_path / "rival.csv"
    rival.write_text("type,customers,average\nLighthouse,80,\nFollower,120,4500\nRational,200,1800\n"
                     "Profit-seeking,0,\n")
    code, _, err = run(["measure", a, rival, "--no-progress"], capsys)
    assert code == 2
    assert f"{rival}, row 2, column average: the Lighthouse row has customers and a blank average" in err, err
    rival.write_text("type,customers,average\nLighthouse,,9000\n")
    code, _, err = run(["measure", a, rival, "--no-progress"], capsys)
    assert code == 2 and f"{rival}, row 2, column customers: a value is required here" in err, err
    rival.write_text("type,customers,average\nLighthouse,80,9000\nProfit-seeking,0,\n")
    assert run(["measure", a, rival, "--no-progress"], capsys)[0] == 0
    estimate = tmp_path / "rival.json"
    estimate.write_text(json.dumps({"customers": {"Lighthouse": 80, "Rational": 200},
                                    "average": {"Rational": 1800}}))
    code, _, err = run(["measure", a, estimate, "--no-progress"], capsys)
    assert code == 2 and "Lighthouse has customers and no average value" in err, err


def test_structures_valued_at_different_rates_are_not_compared(two_years, tmp_path, capsys):
    a, b, config, *_ = two_years
    saved = tmp_path / "y2023.json"
    assert run(["measure", a, "--config", config, "--out", saved, "--no-progress"], capsys)[0] == 0
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**json.loads(config.read_text()), "rate": 0.08}))
    code, out, err = run(["measure", saved, b, "--config", other, "--no-progress"], capsys)
    assert code == 2 and "Change from" not in out
    assert "structures: y2023 is valued at 0.1 per period (end-of-period) and y2024 at 0.08" in err, err


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


# --------------------------------------------------------------------------- whatif, retention, prospects

@pytest.fixture()
def fifty(tmp_path):
    table = ce.load_sample().head(50)
    path = tmp_path / "customers.csv"
    table.to_csv(path, index=False)
    config = tmp_path / "config.json"
    config.write_text('{"rate": 0.1, "iv": 50}')
    return path, config, table, ce.MeasureConfig(rate=0.1, iv=50.0)


def frame_of(data):
    return pd.DataFrame(data["rows"], index=data["index"])


def test_whatif_equals_the_core(fifty, tmp_path, capsys):
    path, config, table, cfg = fifty
    out_file = tmp_path / "w.json"
    code, out, _ = run(["whatif", path, "--config", config, "--retention-change", "0.02,0,0.05,0",
                        "--rate", "0.08", "--out", out_file], capsys)
    assert code == 0
    w = ce.what_if(table, cfg, retention_change=[0.02, 0, 0.05, 0], rate=0.08)
    got = frame_of(json.loads(out_file.read_text())["whatif"])
    pd.testing.assert_frame_equal(got, w.table.rename_axis(None), check_dtype=False, rtol=1e-12)
    assert f"Customer equity {w.before.equity:,.0f} -> {w.equity:,.0f} ({w.difference:+,.0f})" in out


def test_whatif_levers_equal_the_core(fifty, capsys, tmp_path):
    path, config, table, cfg = fifty
    for argv, levers in (
            (["--type-mix", "0.1,0.3,0.4,0.2", "--margin-change", "0.01"],
             {"type_mix": [0.1, 0.3, 0.4, 0.2], "margin_change": 0.01}),
            (["--relabel-mix", "0.1,0.3,0.4,0.2"], {"relabel_mix": [0.1, 0.3, 0.4, 0.2]}),
            (["--moves", "Rational:Follower:3,Follower:Lighthouse:1"],
             {"moves": {("Rational", "Follower"): 3, ("Follower", "Lighthouse"): 1}}),
            (["--share-change", "0.02", "--loyalty-change", "0.1,0,0.05,0"],
             {"share_change": 0.02, "loyalty_change": [0.1, 0, 0.05, 0]}),
            (["--retention-change", "-0.01", "--base-retention", "0.9,,0.85,"],
             {"retention_change": -0.01, "base_retention": [0.9, np.nan, 0.85, np.nan]}),
            (["--new-customers", "2,5,0,0", "--acquisition-cost", "300,150,0,0"],
             {"new_customers": [2, 5, 0, 0], "acquisition_cost": [300, 150, 0, 0]})):
        out_file = tmp_path / "w.csv"
        code, out, err = run(["whatif", path, "--config", config, *argv, "--out", out_file], capsys)
        assert code == 0, err
        w = ce.what_if(table, cfg, **levers)
        got = pd.read_csv(out_file, index_col=0)
        assert list(got.columns) == list(w.table.columns)
        assert got.to_numpy() == pytest.approx(w.table.to_numpy(), rel=1e-12), argv
        assert f"({w.difference:+,.0f})" in out


def test_whatif_a_mix_and_acquisition_by_hand(tmp_path, capsys):
    """Ten customers, one period each at rate 0: type averages 500, 250, 100, 30. The same ten
    customers at 30/20/30/20 %: one more lighthouse customer (500), one profit-seeking fewer
    (30): +470. Two new lighthouse customers at 500 less 150 each: +700."""
    path = tmp_path / "ten.csv"
    pd.DataFrame({"type": ["Lighthouse"] * 2 + ["Follower"] * 2 + ["Rational"] * 3 + ["Profit-seeking"] * 3,
                  "periods": 1, "pv": [400, 600, 200, 300, 100, 100, 100, 20, 30, 40]}).to_csv(path, index=False)
    config = tmp_path / "config.json"
    config.write_text('{"rate": 0, "classify_by": "type"}')
    code, out, _ = run(["whatif", path, "--config", config, "--type-mix", "0.3,0.2,0.3,0.2"], capsys)
    assert code == 0 and "Customer equity 1,890 -> 2,360 (+470)" in out
    assert "type_mix 0.3,0.2,0.3,0.2" in out
    code, out, _ = run(["whatif", path, "--config", config, "--relabel-mix", "0.3,0.2,0.3,0.2"], capsys)
    assert code == 0 and "Customer equity 1,890 -> 1,890 (+0)" in out
    code, out, _ = run(["whatif", path, "--config", config, "--new-customers", "2,0,0,0",
                        "--acquisition-cost", "150"], capsys)
    assert code == 0 and "Customer equity 1,890 -> 2,590 (+700)" in out
    assert "acquisition_cost" in out


def test_whatif_notes_income_not_earned(tmp_path, capsys):
    """A lighthouse customer (3 periods) carries the partner income; rational ones do not.
    Lighthouse retention 3/4 -> 2/3 shortens its life to 2 periods: of fixed totals of 100 a
    period, period 3's finds no carrier and is not earned."""
    path = tmp_path / "c.csv"
    pd.DataFrame({"type": ["Lighthouse", "Rational"], "periods": [3, 5], "pv": 0.0}).to_csv(path, index=False)
    config = tmp_path / "config.json"
    config.write_text('{"rate": 0, "classify_by": "type", "transaction_income": [100, 100, 100]}')
    code, out, _ = run(["whatif", path, "--config", config, "--retention-change", str(2 / 3 - 3 / 4),
                        "--transaction-income", "100,100,100"], capsys)
    assert code == 0
    assert "Note: 100 of transaction income falls in periods without carriers" in out


def test_whatif_grid_equals_the_core(fifty, tmp_path, capsys):
    path, config, table, cfg = fifty
    out_file = tmp_path / "g.json"
    code, out, _ = run(["whatif", path, "--config", config, "--grid", "rate=0.08,0.12",
                        "retention_change=0,0.05", "--result", "difference", "--out", out_file], capsys)
    assert code == 0
    expected = ce.what_if_grid(table, cfg, "rate", [0.08, 0.12], "retention_change", [0.0, 0.05],
                               result="difference")
    got = frame_of(json.loads(out_file.read_text())["grid"])
    assert got.to_numpy().ravel().tolist() == pytest.approx(expected.to_numpy().ravel().tolist(), rel=1e-12)
    assert f"{expected.iloc[1, 1]:,.0f}" in out


@pytest.mark.parametrize("argv,message", [
    (["--retention-change", "0.5"], "retention_change: Lighthouse retention 0.8 + 0.5 = 1.3 must "
                                    "stay in [0, 1)"),
    ([], "give a lever"),
    (["--grid", "rate=0.1", "colour=1"], "column_lever: must be one of"),
    (["--grid", "rate", "margin_change=1"], "expected LEVER=v1,v2,..."),
    (["--type-mix", "0.5,0.5"], "type_mix: needs one share per customer type"),
    (["--mix", "0.25,0.25,0.25,0.25"], "mix: a type mix is read two ways: give type_mix"),
    (["--moves", "Rational>Follower"], "expected FROM:TO:CUSTOMERS"),
    (["--moves", "Rational:Gold:1"], "moves: unknown customer type"),
    (["--base-retention", "0.9,,1.2,", "--retention-change", "0.01"],
     "base_retention, row 3: a retention rate must lie in [0, 1)"),
])
def test_whatif_refusals_are_one_line(fifty, capsys, argv, message):
    path, config, *_ = fifty
    code, _, err = run(["whatif", path, "--config", config, *argv], capsys)
    assert code == 2 and message in err, err


def test_retention_equals_the_core(fifty, tmp_path, capsys):
    path, config, table, cfg = fifty
    out_file = tmp_path / "r.json"
    code, out, _ = run(["retention", path, "--config", config, "--point", "0.02", "--top", "3",
                        "--out", out_file], capsys)
    assert code == 0
    data = json.loads(out_file.read_text())
    watch = ce.retention_watch(table, cfg, point=0.02)
    got = frame_of(data["watch"])
    assert got["at_stake"].tolist() == pytest.approx(watch["at_stake"].tolist(), rel=1e-12)
    assert got["retention"].iloc[:4].tolist() == pytest.approx(watch["retention"].iloc[:4].tolist())
    stake = ce.customers_at_stake(ce.measure(table, cfg), top=3)
    assert [r["customer_id"] for r in data["at_stake"]["rows"]] == stake["customer_id"].tolist()
    assert "(-2 pt)" in out and stake["customer_id"].iloc[0] in out


def test_prospects_ranked_by_hand(tmp_path, capsys):
    """Customers worth 900, 700, 100, 50 with income 5, 4, 2, 1; the best half earns more.
    Prospects q (income 5) > r (3) > p (1); with 2 neighbours q is like the lighthouse and
    the follower customer (800), r like the follower and the rational one (400, the tie of
    types to the higher score), p like the two lowest (75) and below the 20 % cut-off."""
    customers = tmp_path / "customers.csv"
    pd.DataFrame({"customer_id": ["A", "B", "C", "D"],
                  "type": ["Lighthouse", "Follower", "Rational", "Profit-seeking"],
                  "periods": [1, 1, 1, 1], "pv": [900.0, 700.0, 100.0, 50.0],
                  "income": [5, 4, 2, 1]}).to_csv(customers, index=False)
    prospects = tmp_path / "prospects.csv"
    pd.DataFrame({"prospect_id": ["p", "q", "r"], "income": [1, 5, 3]}).to_csv(prospects, index=False)
    config = tmp_path / "config.json"
    config.write_text('{"rate": 0.0, "classify_by": "type"}')
    out_file = tmp_path / "ranked.csv"
    code, out, _ = run(["prospects", prospects, "--customers", customers, "--config", config,
                        "--best", "0.5", "--neighbours", "2", "--out", out_file], capsys)
    assert code == 0, out
    got = pd.read_csv(out_file)
    assert got["prospect_id"].tolist() == ["q", "r", "p"]
    assert got["expected_type"].tolist() == ["Lighthouse", "Follower", "Profit-seeking"]
    assert got["value_estimate"].tolist() == [800.0, 400.0, 75.0]
    assert got["avoid"].tolist() == [False, False, True]
    assert "income    1.0" in out and "1 to avoid" in out


def test_prospects_with_a_missing_trait_names_the_file(fifty, tmp_path, capsys):
    path, config, *_ = fifty
    prospects = tmp_path / "p.csv"
    prospects.write_text("prospect_id,income\nP1,3\n")
    code, _, err = run(["prospects", prospects, "--customers", path, "--traits", "income,colour"], capsys)
    assert code == 2 and f"{path}: no such trait column (got 'colour')" in err
