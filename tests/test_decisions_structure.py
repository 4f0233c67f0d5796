"""Structure of customer equity and its comparison, against hand calculations written out here."""

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import customer_equity as ce
from customer_equity import CustomerEquityError, MeasureConfig

TYPES = ["Lighthouse", "Follower", "Rational", "Profit-seeking"]
FLAT_TYPE = MeasureConfig(rate=0.0, classify_by="type")


def small_table():
    # rate 0: a customer's equity is simply (per-period values it provides) x periods + Iv
    return pd.DataFrame({
        "type": ["Lighthouse", "Follower", "Follower", "Rational", "Profit-seeking"],
        "periods": [2, 1, 3, 2, 1],
        "pv": [100.0, 50.0, 20.0, 30.0, 40.0],
        "ppv": [10.0, 5.0, 0.0, 10.0, 99.0],   # profit-seeking provides no PPV: 99 left out
        "kv": [40.0, 0.0, 0.0, 0.0, 0.0],
    })


def test_structure_from_a_measurement_by_hand():
    m = ce.measure(small_table(), MeasureConfig(rate=0.0, classify_by="type", iv=10.0))
    s = ce.structure_table(m)
    # lighthouse: (100+10+40) x 2 + 10 = 310; followers: (55 + 10) + (20 x 3 + 10) = 135;
    # rational: 40 x 2 + 10 = 90; profit-seeking: 40 + 10 = 50; total 585, 5 customers
    assert s["equity"].tolist() == [310.0, 135.0, 90.0, 50.0, 585.0]
    assert s["customers"].tolist() == [1, 2, 1, 1, 5]
    assert s["customer_share"].tolist() == [0.2, 0.4, 0.2, 0.2, 1.0]
    assert s["equity_share"].tolist() == pytest.approx([310 / 585, 135 / 585, 90 / 585, 50 / 585, 1.0])
    assert s["average"].tolist() == [310.0, 67.5, 90.0, 50.0, 117.0]
    # value mix of the lighthouse: PV 200, PPV 20, KV 80, Iv 10 of 310
    assert s.loc["Lighthouse", list(ce.MIX_COLUMNS)].tolist() == pytest.approx(
        [200 / 310, 20 / 310, 0, 80 / 310, 0, 10 / 310])
    # followers: PV 50 + 60 = 110, PPV 5, Iv 20 of 135
    assert s.loc["Follower", "pv_share"] == pytest.approx(110 / 135)
    assert s.loc["Follower", "iv_share"] == pytest.approx(20 / 135)
    # total row: PV 200+110+60+40 = 410 of 585
    assert s.loc["Total", "pv_share"] == pytest.approx(410 / 585)


def test_structure_from_values_agrees_with_the_measurement():
    df = small_table()
    m = ce.measure(df, MeasureConfig(rate=0.1, classify_by="type", iv=10.0))
    s = ce.structure_from_values(df["type"], 0.1, pv=df[["pv"]], ppv=df[["ppv"]], kv=df[["kv"]],
                                 iv=10.0, periods=df[["periods"]])
    pd.testing.assert_frame_equal(s, ce.structure_table(m))


def test_structure_of_the_sample_agrees_with_the_measurement():
    m = ce.measure(ce.load_sample(), ce.sample_config())
    s = ce.structure_table(m)
    assert s["equity"].to_numpy() == pytest.approx(m.by_type["equity"].to_numpy())
    assert s["customers"].to_numpy() == pytest.approx(m.by_type["customers"].to_numpy())
    assert s[["customer_share", "equity_share"]].iloc[:4].to_numpy() == pytest.approx(
        m.structure.to_numpy())
    assert s[list(ce.MIX_COLUMNS)].sum(axis=1).to_numpy() == pytest.approx(np.ones(5))


def test_a_saved_measurement_gives_the_same_structure():
    m = ce.measure(ce.load_sample(), ce.sample_config())
    saved = json.loads(json.dumps(m.to_dict()))
    pd.testing.assert_frame_equal(ce.structure_table(saved), ce.structure_table(m))


def test_a_structure_table_reads_back():
    m = ce.measure(small_table(), MeasureConfig(rate=0.0, classify_by="type", iv=10.0))
    s = ce.structure_table(m)
    pd.testing.assert_frame_equal(ce.structure_table(s), s)
    # a competitor's estimate typed in as a small table with a type column and labels in Chinese
    guess = pd.DataFrame({"type": ["燈塔", "理性"], "customers": [100, 300], "average": [2000.0, 500.0]})
    g = ce.structure_table(guess)
    assert g["equity"].tolist() == [200000.0, 0.0, 150000.0, 0.0, 350000.0]
    assert g["customer_share"].tolist() == [0.25, 0.0, 0.75, 0.0, 1.0]
    assert g["pv_share"].isna().all()


def test_structure_from_counts_with_a_mix():
    mix = [[0.5, 0.2, 0.1, 0.1, 0.1, 0.0], [1, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0]]
    s = ce.structure_from_counts([10, 10, 0, 0], [100.0, 50.0, 0, 0], value_mix=mix)
    # equity 1000 + 500; PV 500 + 500 of 1500
    assert s.loc["Total", "pv_share"] == pytest.approx(1000 / 1500)
    assert s.loc["Total", "ppv_share"] == pytest.approx(200 / 1500)
    with pytest.raises(CustomerEquityError, match="add up to 1") as err:
        ce.structure_from_counts([10, 10, 0, 0], [100.0, 50.0, 0, 0],
                                 value_mix=[[0.5, 0, 0, 0, 0, 0]] + mix[1:])
    assert err.value.row == 1


def shapley_by_orders(n0, a0, n1, a1):
    """The Shapley split computed the long way: average over the 6 orders of changing N, s, a."""
    N0, N1 = sum(n0), sum(n1)
    s0 = [x / N0 for x in n0]
    s1 = [x / N1 for x in n1]
    out = []
    for k in range(4):
        start = {"N": N0, "s": s0[k], "a": a0[k]}
        end = {"N": N1, "s": s1[k], "a": a1[k]}
        effect = {"N": 0.0, "s": 0.0, "a": 0.0}
        for order in itertools.permutations("Nsa"):
            cur = dict(start)
            for f in order:
                before = cur["N"] * cur["s"] * cur["a"]
                cur[f] = end[f]
                effect[f] += (cur["N"] * cur["s"] * cur["a"] - before) / 6
        out.append((effect["N"], effect["s"], effect["a"]))
    return np.array(out).T


def test_decomposition_equals_the_shapley_value_by_orders():
    n0, a0 = [50, 150, 500, 300], [4000.0, 1500.0, 600.0, 150.0]
    n1, a1 = [80, 200, 450, 400], [3600.0, 1700.0, 620.0, 120.0]
    got = np.array(ce.decompose_change(n0, a0, n1, a1))
    assert got == pytest.approx(shapley_by_orders(n0, a0, n1, a1), rel=1e-12)
    # and it adds up to each type's change with nothing left over
    change = np.array(n1) * a1 - np.array(n0) * a0
    assert got.sum(axis=0) == pytest.approx(change, rel=1e-12)


def test_decomposition_with_a_stable_base_is_the_midpoint_split():
    # 1,000 customers both years: 100 move from rational to follower
    n0, n1 = [100, 200, 500, 200], [100, 300, 400, 200]
    a0, a1 = [5000.0, 2000.0, 800.0, 100.0], [5000.0, 1800.0, 800.0, 100.0]
    vol, mix, val = ce.decompose_change(n0, a0, n1, a1)
    assert vol.tolist() == [0.0, 0.0, 0.0, 0.0]
    # follower: share 0.2 -> 0.3 at mid value 1,900 over 1,000 customers = 190,000;
    # value -200 on a mid share of 0.25 x 1,000 = -50,000; rational: -0.1 x 1,000 x 800 = -80,000
    assert mix.tolist() == pytest.approx([0.0, 190000.0, -80000.0, 0.0])
    assert val.tolist() == pytest.approx([0.0, -50000.0, 0.0, 0.0])


def test_a_new_type_is_all_volume_and_mix():
    vol, mix, val = ce.decompose_change([0, 0, 10, 0], [np.nan, 0, 100, 0], [5, 0, 10, 0], [200, 0, 100, 0])
    assert val[0] == 0.0
    assert vol[0] + mix[0] == pytest.approx(1000.0)
    assert (vol + mix + val).sum() == pytest.approx(1000.0)


counts = st.lists(st.integers(0, 10_000), min_size=4, max_size=4).filter(lambda x: sum(x) > 0)
values = st.lists(st.floats(-5000, 50_000, allow_nan=False), min_size=4, max_size=4)


@settings(max_examples=200, deadline=None)
@given(counts, values, counts, values)
def test_decomposition_always_adds_up(n0, a0, n1, a1):
    vol, mix, val = ce.decompose_change(n0, a0, n1, a1)
    e0 = np.where(np.array(n0) > 0, np.array(n0) * a0, 0.0)
    e1 = np.where(np.array(n1) > 0, np.array(n1) * a1, 0.0)
    scale = 1.0 + np.abs(e0).max() + np.abs(e1).max()
    assert np.abs(vol + mix + val - (e1 - e0)).max() <= 1e-9 * scale


def test_compare_this_year_with_last_year():
    df = ce.load_sample()
    config = ce.sample_config()
    last = ce.measure(df, config)
    this_df = df.copy()
    this_df["periods"] = this_df["periods"] + 1   # everybody stays a year longer
    this_df.loc[:99, "innovativeness"] = 5         # and some move up a type
    this = ce.measure(this_df, config)
    c = ce.compare_structures([last, this], ["2023", "2024"])
    assert list(c["type"]) == TYPES + ["Total"]
    assert set(c["from"]) == {"2023"} and set(c["to"]) == {"2024"}
    total = c.iloc[-1]
    assert total["equity_change"] == pytest.approx(this.equity - last.equity)
    assert total["customers_change"] == 0
    effects = c[["volume_effect", "mix_effect", "value_effect"]].sum(axis=1)
    assert effects.to_numpy() == pytest.approx(c["equity_change"].to_numpy(), rel=1e-12, abs=1e-6)
    assert c["volume_effect"].abs().max() == 0.0   # same 1,000 customers
    assert c["customer_share_change"].iloc[:4].sum() == pytest.approx(0.0, abs=1e-12)
    assert c["equity_share_change"].iloc[:4].sum() == pytest.approx(0.0, abs=1e-12)
    # the value effect by kind adds up to the value effect
    kinds = c[[f"value_effect_{k}" for k in ("pv", "ppv", "cv", "kv", "tv", "iv")]].sum(axis=1)
    assert kinds.to_numpy() == pytest.approx(c["value_effect"].to_numpy(), rel=1e-9, abs=1e-6)
    # differences are to minus from, type by type
    assert c["customer_share_change"].iloc[:4].to_numpy() == pytest.approx(
        this.structure["customer_share"].to_numpy() - last.structure["customer_share"].to_numpy())


def test_value_effect_by_kind_by_hand():
    # one lighthouse customer both years (no volume or mix effect): PV 100 -> 150, KV 50 -> 30
    last = pd.DataFrame({"type": ["Lighthouse"], "periods": [1], "pv": [100.0], "kv": [50.0]})
    this = pd.DataFrame({"type": ["Lighthouse"], "periods": [1], "pv": [150.0], "kv": [30.0]})
    c = ce.compare_structures([ce.measure(last, FLAT_TYPE), ce.measure(this, FLAT_TYPE)])
    row = c.set_index("type").loc["Lighthouse"]
    assert (row["equity_change"], row["value_effect"]) == (30.0, 30.0)
    assert (row["value_effect_pv"], row["value_effect_kv"], row["value_effect_ppv"]) == (50.0, -20.0, 0.0)
    # a competitor estimate has no composition: no split by kind for its lighthouse customers
    # (nor in total); the types without customers on either side have none to split
    guess = ce.structure_from_counts([1, 0, 0, 0], [200.0, 0, 0, 0])
    kinds = ce.compare_structures([ce.measure(last, FLAT_TYPE), guess])["value_effect_pv"]
    assert kinds.iloc[[0, 4]].isna().all() and kinds.iloc[1:4].tolist() == [0.0, 0.0, 0.0]


def test_compare_with_a_competitor_estimate_and_three_structures():
    firm = ce.structure_from_counts([100, 300, 400, 200], [5000.0, 2000.0, 800.0, 100.0])
    rival = ce.structure_from_counts([200, 300, 400, 400], [4000.0, 2000.0, 800.0, 100.0])
    other = ce.structure_from_counts([0, 500, 500, 0], [0.0, 2500.0, 900.0, 0.0])
    c = ce.compare_structures([firm, rival, other], ["us", "rival", "other"], against="first")
    assert list(c["to"].unique()) == ["rival", "other"] and set(c["from"]) == {"us"}
    first = c[c["to"] == "rival"].set_index("type")
    # rival has 1,300 customers to our 1,000: lighthouse share 2/13 against 0.1
    assert first.loc["Lighthouse", "customer_share_change"] == pytest.approx(200 / 1300 - 0.1)
    assert first.loc["Lighthouse", "equity_change"] == pytest.approx(800000 - 500000)
    # follower: same count and value; the volume effect and the mix effect cancel out
    f = first.loc["Follower"]
    assert f["equity_change"] == 0.0 and f["value_effect"] == 0.0
    assert f["volume_effect"] == pytest.approx(-f["mix_effect"])
    assert f["volume_effect"] > 0
    chained = ce.compare_structures([firm, rival, other], ["us", "rival", "other"])
    assert chained["from"].tolist()[5:] == ["rival"] * 5
    for part in (c, chained):
        e = part[["volume_effect", "mix_effect", "value_effect"]].sum(axis=1)
        assert e.to_numpy() == pytest.approx(part["equity_change"].to_numpy(), rel=1e-12, abs=1e-6)


@pytest.mark.parametrize("call, argument", [
    (lambda: ce.compare_structures([ce.structure_from_counts([1, 1, 1, 1], [1, 1, 1, 1])]), "structures"),
    (lambda: ce.compare_structures([ce.structure_from_counts([1, 1, 1, 1], [1, 1, 1, 1])] * 2,
                                   labels=["a"]), "labels"),
    (lambda: ce.compare_structures([ce.structure_from_counts([1, 1, 1, 1], [1, 1, 1, 1])] * 2,
                                   against="last"), "against"),
    (lambda: ce.structure_from_counts([1, -1, 1, 1], [1, 1, 1, 1]), "customers"),
    (lambda: ce.structure_from_counts([1, 1, 1], [1, 1, 1, 1]), "customers"),
    (lambda: ce.structure_from_counts([1, 1, 1, 1], [1, "x", 1, 1]), "average"),
    (lambda: ce.structure_table(pd.DataFrame({"customers": [1]}, index=["Lighthouse"])), "structure"),
    (lambda: ce.structure_table(pd.DataFrame({"customers": [1], "average": 1.0}, index=["Gold"])), "type"),
    (lambda: ce.structure_table({"equity": 1}), "structure"),
    (lambda: ce.structure_table([1, 2]), "structure"),
])
def test_bad_input_is_named(call, argument):
    with pytest.raises(CustomerEquityError) as err:
        call()
    assert err.value.argument == argument


cells = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10**6),
                  st.text(max_size=3), st.booleans())


@settings(max_examples=200, deadline=None)
@given(st.lists(cells, min_size=0, max_size=6), st.lists(cells, min_size=0, max_size=6))
def test_any_counts_and_averages_give_a_structure_or_a_named_error(customers, average):
    try:
        s = ce.structure_from_counts(customers, average)
    except CustomerEquityError as err:
        assert err.argument in ("customers", "average")
    else:
        assert s.loc["Total", "customers"] == pytest.approx(s["customers"].iloc[:4].sum())
        assert np.isfinite(s["equity"]).all()


def spilled(frame, first_header):
    """A table as a worksheet holds it after a spill: a header row, labels, '' for NaN."""
    rows = [[first_header] + list(frame.columns)]
    for label, row in zip(frame.index, frame.itertuples(index=False)):
        rows.append([str(label)] + ["" if isinstance(v, float) and np.isnan(v) else v for v in row])
    return rows


def test_a_spilled_structure_reads_back():
    m = ce.measure(ce.load_sample(), ce.sample_config())
    guess = ce.structure_from_counts([150, 250, 350, 250], [9000, 4500, 1800, 400])
    for source in (ce.structure_table(m), guess):
        rows = spilled(source, "type")
        again = ce.structure_table(pd.DataFrame(rows[1:], columns=rows[0]))
        pd.testing.assert_frame_equal(again, source, check_dtype=False)
