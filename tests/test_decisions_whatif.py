"""What-if: each lever against the measurement of a changed table written out by hand here."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import customer_equity as ce
from customer_equity import CustomerEquityError, MeasureConfig

FLAT = MeasureConfig(rate=0.0, classify_by="type")


def four_customers():
    return pd.DataFrame({
        "customer_id": ["A", "B", "C", "D"],
        "type": ["Lighthouse", "Lighthouse", "Rational", "Rational"],
        "periods": [2, 6, 1, 3],
        "capacity": [1000.0, 2000.0, 500.0, 400.0],
        "share": [0.5, 0.5, 1.0, 0.5],
        "margin": [0.2, 0.1, 0.2, 0.5],
        "influence": [0.1, 0.0, 0.1, 0.0],
        "reach": [10, 0, 4, 0],
        "avg_value": [50.0, 50.0, 50.0, 50.0],
        "cv_1": [10.0, 5.0, 30.0, 1.0],
        "cv_2": [20.0, 5.0, 0.0, 2.0],
        "cv_3": [99.0, 5.0, 0.0, 3.0],   # A left after period 2: the 99 is not counted
    })


def hand_changed_table():
    """Lighthouse r = 4/5 = 0.8 (mean lifetime 4, end of period) -> 0.85: expected lifetime
    0.85/0.15 = 17/3, lifetimes x (17/3)/4 = 17/12 (A 2 -> 17/6 = 2.833, B 6 -> 8.5).
    Rational r = 2/3 (mean 2) -> 2/3 - 0.1 = 17/30: expected lifetime (17/30)/(13/30) = 17/13,
    lifetimes x (17/13)/2 = 17/26 (C 1 -> 0.654, D 3 -> 51/26 = 1.962).
    A partial last period counts its values at the fraction (capacity, reach and CV scaled);
    added periods take the block's own values where it has any (A's cv_3 = 99, which the
    baseline leaves out after A's 2 periods) and repeat the last period otherwise; B's CV
    block ends at period 3, and B (6 periods) has nothing after it."""
    a, b, c, d = 5 / 6, 0.5, 17 / 26, 25 / 26
    rows = {
        "A": {"periods": 3, "capacity": [1000, 1000, 1000 * a], "reach": [10, 10, 10 * a],
              "cv": [10, 20, 99 * a]},
        "B": {"periods": 9, "capacity": [2000] * 8 + [2000 * b], "reach": [0] * 9, "cv": [5, 5, 5] + [0] * 6},
        "C": {"periods": 1, "capacity": [500 * c], "reach": [4 * c], "cv": [30 * c]},
        "D": {"periods": 2, "capacity": [400, 400 * d], "reach": [0, 0], "cv": [1, 2 * d]},
    }
    base = four_customers()
    out = base[["customer_id", "type"]].copy()
    out["periods"] = [rows[k]["periods"] for k in "ABCD"]
    for name in ("capacity", "reach", "cv"):
        for t in range(1, 10):
            out[f"{name}_{t}"] = [rows[k][name][t - 1] if t <= len(rows[k][name]) else 0.0 for k in "ABCD"]
    for name in ("share", "margin", "influence", "avg_value"):
        for t in range(1, 10):
            out[f"{name}_{t}"] = base[name]
    return out


def test_retention_change_equals_measuring_the_changed_table():
    change = {"Lighthouse": 0.05, "Rational": -0.10}
    for config in (FLAT, MeasureConfig(rate=0.1, classify_by="type", iv=7.0)):
        w = ce.what_if(four_customers(), config, retention_change=change)
        again = ce.measure(hand_changed_table(), config)
        assert w.equity == pytest.approx(again.equity, rel=1e-12)
        assert w.after.customers["ltv"].to_numpy() == pytest.approx(again.customers["ltv"].to_numpy())
    # and by hand at rate 0, per customer:
    # A: PV 100 x 17/6 = 283.333, PPV 50 x 17/6 = 141.667, CV 10 + 20 + 99 x 5/6 = 112.5 -> 537.5
    # B: PV 100 x 8.5 = 850, CV 15                                                     -> 865
    # C: rational, (PV 100 + PPV 20 + CV 30) x 17/26                                   -> 98.077
    # D: PV 100 x 51/26 = 196.154, CV 1 + 2 x 25/26 = 2.923                            -> 199.077
    w = ce.what_if(four_customers(), FLAT, retention_change=change)
    hand = [100 * 17 / 6 + 50 * 17 / 6 + 10 + 20 + 99 * 5 / 6, 850 + 15, 150 * 17 / 26,
            100 * 51 / 26 + 1 + 2 * 25 / 26]
    assert w.after.customers["ltv"].tolist() == pytest.approx(hand, rel=1e-12)
    # before: A 200 + 100 + 30 = 330, B 600 + 15 = 615, C 150, D 300 + 6 = 306
    assert w.before.customers["ltv"].tolist() == pytest.approx([330.0, 615.0, 150.0, 306.0])
    assert w.difference == pytest.approx(sum(hand) - (330 + 615 + 150 + 306))
    t = w.table
    assert t.loc["Lighthouse", "difference"] == pytest.approx(hand[0] + hand[1] - 330 - 615)
    assert t.loc["Total", "equity_after"] == pytest.approx(w.equity)


def test_retention_stretches_each_type_to_its_new_expected_lifetime():
    # one unit of value per period, no discounting: a type's equity is the sum of its lifetimes
    df = ce.load_sample()[["customer_id", "stage", "periods"]].assign(pv=1.0)
    for timing in ("end", "begin"):
        config = MeasureConfig(rate=0.0, classify_by="stage", timing=timing)
        base = ce.measure(df, config)
        codes = base.customers["type"].cat.codes.to_numpy()
        n = np.bincount(codes, minlength=4)
        mean = np.bincount(codes, weights=df["periods"], minlength=4) / n
        # end: E[T] = r/(1-r), so r = mean/(1+mean); begin: E[T] = 1/(1-r), r = 1 - 1/mean
        r = mean / (1 + mean) if timing == "end" else 1 - 1 / mean
        assert ce.implied_retention(df["periods"], base.customers["type"], timing) == pytest.approx(r)
        delta = np.array([0.02, -0.03, 0.01, 0.05])
        w = ce.what_if(df, config, retention_change=delta, base=base)
        lifetime = (r + delta) / (1 - r - delta) if timing == "end" else 1 / (1 - r - delta)
        assert w.after.by_type["equity"].iloc[:4].to_numpy() == pytest.approx(n * lifetime, rel=1e-9)


def test_no_change_is_the_baseline():
    df, config = ce.load_sample(), ce.sample_config()
    base = ce.measure(df, config)
    w = ce.what_if(df, config, retention_change=0.0, base=base)
    assert w.equity == base.equity and w.difference == 0.0


def test_rate_lever_is_the_measurement_at_the_new_rate():
    w = ce.what_if(four_customers(), FLAT, rate=0.25)
    # A: 150/1.25 + 150/1.25^2 + CV 10/1.25 + 20/1.5625 = 120 + 96 + 8 + 12.8 = 236.8
    assert w.after.customers["ltv"].iloc[0] == pytest.approx(236.8)
    assert w.config.rate == 0.25 and w.before.config.rate == 0.0


def test_margin_change_per_type():
    w = ce.what_if(four_customers(), FLAT, margin_change={"Rational": 0.1})
    # C: capacity 500 x share 1 x (0.2 + 0.1) = 150 for 1 period (+ PPV 20 + CV 30)
    # D: 400 x 0.5 x 0.6 = 120 x 3 = 360 (+ CV 6); lighthouse customers unchanged
    assert w.after.customers["ltv"].tolist() == pytest.approx([330.0, 615.0, 200.0, 366.0])
    with pytest.raises(CustomerEquityError) as err:
        ce.what_if(pd.DataFrame({"type": ["Rational"], "periods": [1], "pv": [1.0]}), FLAT,
                   margin_change=0.01)
    assert err.value.argument == "margin_change"


def test_moves_reread_values_under_the_new_type():
    df = pd.DataFrame({
        "customer_id": ["r1", "r2", "r3", "r4"],
        "type": ["Rational"] * 4, "periods": 1,
        "pv": [100.0, 300.0, 200.0, 50.0], "ppv": [10.0, 10.0, 10.0, 10.0],
        "kv": [1000.0] * 4, "tv": [7.0, 7.0, 7.0, 7.0]})
    w = ce.what_if(df, FLAT, moves={("Rational", "Follower"): 2, ("Rational", "Profit-seeking"): 1})
    # the two best rationals (ltv 310 and 210) become followers and now provide TV (KV still not);
    # the worst (60) becomes profit-seeking and loses its PPV; the 110 one stays rational
    assert w.after.customers["type"].astype(str).tolist() == ["Rational", "Follower", "Follower",
                                                               "Profit-seeking"]
    assert w.after.customers["ltv"].tolist() == [110.0, 317.0, 217.0, 50.0]
    assert w.difference == pytest.approx(7 + 7 - 10)
    assert w.table["customers_after"].tolist() == [0, 2, 1, 1, 4]
    same = ce.what_if(df, FLAT, new_types=["Rational", "Follower", "Follower", "Profit-seeking"])
    assert same.equity == w.equity
    with pytest.raises(CustomerEquityError, match="there are 4"):
        ce.what_if(df, FLAT, moves={("Rational", "Follower"): 5})


def test_moves_follow_the_classification_score():
    df = ce.load_sample()
    config = ce.sample_config()  # classified by weighted score
    base = ce.measure(df, config)
    w = ce.what_if(df, config, moves={("Follower", "Lighthouse"): 10}, base=base)
    followers = base.customers[base.customers["type"] == "Follower"]
    # equal scores (to 1e-9: a weighted sum's last bits vary by numpy build) keep the table's order
    expected = followers["score"].round(9).sort_values(ascending=False, kind="stable").index[:10]
    moved = w.after.customers.index[(w.after.customers["type"] == "Lighthouse")
                                    & (base.customers["type"] == "Follower")]
    assert sorted(moved) == sorted(expected)
    # the changed table is a plain measurement input: measuring it again gives the same
    assert ce.measure(w.changed, w.config).equity == pytest.approx(w.equity)


def test_transaction_income_lever():
    df = pd.DataFrame({"type": ["Lighthouse", "Follower", "Rational"], "periods": [2, 1, 2], "pv": 0.0})
    config = MeasureConfig(rate=0.0, classify_by="type", transaction_income=[100.0, 100.0])
    w = ce.what_if(df, config, transaction_income=[300.0, 50.0])
    # period 1: two carriers, 150 each; period 2: the lighthouse alone, 50
    assert w.after.customers["tv"].tolist() == [200.0, 150.0, 0.0]
    assert w.difference == pytest.approx(350 - 200)


def test_grid_of_two_levers_is_the_what_if_of_each_cell():
    df, config = ce.load_sample(), ce.sample_config()
    base = ce.measure(df, config)
    grid = ce.what_if_grid(df, config, "retention_change", [-0.05, 0.0, 0.05], "rate", [0.08, 0.12],
                           base=base)
    assert grid.index.name == "retention_change" and grid.columns.name == "rate"
    assert grid.shape == (3, 2)
    assert grid.loc[0.05, 0.08] == pytest.approx(
        ce.what_if(df, config, retention_change=0.05, rate=0.08).equity)
    assert grid.loc[0.0, 0.12] == pytest.approx(ce.measure(df, ce.MeasureConfig(
        **{**config.to_dict(), "rate": 0.12, "cutoffs": tuple(config.cutoffs)})).equity)
    # more retention is worth more, a higher rate less
    assert (np.diff(grid.to_numpy(), axis=0) > 0).all() and (np.diff(grid.to_numpy(), axis=1) < 0).all()
    diff = ce.what_if_grid(df, config, "margin_change", [0.0, 0.01], "retention_change", [0.0],
                           result="difference", base=base)
    assert diff.iloc[0, 0] == 0.0 and diff.iloc[1, 0] > 0


@pytest.mark.parametrize("kwargs, argument", [
    ({"retention_change": 0.3}, "retention_change"),      # lighthouse 0.75 + 0.3 >= 1
    ({"retention_change": [0.1, 0.1]}, "retention_change"),
    ({"retention_change": {"Gold": 0.1}}, "retention_change"),
    ({"rate": -1.5}, "rate"),
    ({"rate": [0.1, 0.2]}, "rate"),
    ({"transaction_income": "lots"}, "transaction_income"),
    ({"transaction_income": [1.0, None]}, "transaction_income"),
    ({"margin_change": "x"}, "margin_change"),
    ({"moves": {"Rational": 1}}, "moves"),
    ({"moves": {("Rational", "Follower"): 1.5}}, "moves"),
    ({"new_types": ["Rational"]}, "new_types"),
])
def test_bad_levers_are_named(kwargs, argument):
    with pytest.raises(CustomerEquityError) as err:
        ce.what_if(four_customers(), FLAT, **kwargs)
    assert err.value.argument == argument


def test_bad_grid_levers_are_named():
    for kwargs, argument in (({"row_lever": "mix"}, "row_lever"), ({"column_lever": "retention_change"},
                                                                    "column_lever")):
        args = {"row_lever": "retention_change", "row_values": [0.0], "column_lever": "rate",
                    "column_values": [0.1]} | kwargs
        with pytest.raises(CustomerEquityError) as err:
            ce.what_if_grid(four_customers(), FLAT, **args)
        assert err.value.argument == argument


def test_income_per_carrier_follows_a_shorter_retention():
    df = pd.DataFrame({"type": ["Lighthouse", "Rational"], "periods": [3, 5], "pv": 0.0})
    config = MeasureConfig(rate=0.0, classify_by="type", transaction_income=[100.0, 100.0, 100.0])
    # lighthouse r = 3/4 (mean 3, end of period) -> 2/3: expected lifetime 2, lifetimes x 2/3 = 2
    # periods; its income per carrier (100 a period, the one carrier) goes with it
    w = ce.what_if(df, config, retention_change={"Lighthouse": 2 / 3 - 3 / 4})
    assert w.changed["periods"].tolist() == [2, 5]
    assert w.dropped_income == 0.0
    assert w.after.customers["tv"].tolist() == pytest.approx([200.0, 0.0])
    assert w.difference == pytest.approx(-100.0)
    # income given as fixed totals: period 3 has no carrier left, its 100 is not earned
    w = ce.what_if(df, config, retention_change={"Lighthouse": 2 / 3 - 3 / 4},
                   transaction_income=[100.0, 100.0, 100.0])
    assert w.dropped_income == 100.0
    assert w.after.customers["tv"].tolist() == pytest.approx([200.0, 0.0])


lever_values = st.one_of(
    st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5),
    st.text(max_size=3), st.booleans(),
    st.lists(st.one_of(st.floats(-1, 1), st.none(), st.text(max_size=2)), max_size=5),
    st.dictionaries(st.sampled_from(["Lighthouse", "Rational", "Gold", ""]), st.floats(-1, 1), max_size=2))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["retention_change", "rate", "margin_change", "transaction_income",
                        "base_retention", "share_change", "loyalty_change", "type_mix",
                        "relabel_mix", "new_customers", "acquisition_cost"]), lever_values)
def test_any_lever_value_gives_a_result_or_a_named_error(lever, value):
    config = MeasureConfig(rate=0.05, classify_by="type", transaction_income=[10.0, 10.0])
    df = four_customers().drop(columns=["cv_1", "cv_2", "cv_3"])
    kwargs = {lever: value}
    if lever == "base_retention":
        kwargs["retention_change"] = 0.01
    if lever == "acquisition_cost":
        kwargs["new_customers"] = {"Lighthouse": 3}
    try:
        w = ce.what_if(df, config, **kwargs)
    except CustomerEquityError as err:
        # named by the lever given (a base retention is named by the change it starts)
        assert err.argument in (lever, "retention_change", "rate", "transaction_income"), err
    else:
        assert np.isfinite(w.equity)


def test_moves_to_a_target_mix_by_hand():
    # 1,000 customers 100/300/350/250 to 12/30/36/22 %: targets 120/300/360/220; lighthouse is
    # 20 short, rational 10 short, profit-seeking 30 over: 30 customers must move, and do
    assert ce.moves_to_mix([100, 300, 350, 250], [0.12, 0.30, 0.36, 0.22]) == {
        ("Profit-seeking", "Lighthouse"): 20, ("Profit-seeking", "Rational"): 10}
    # largest remainder: 3 customers at 1/3 each: targets 1, 1, 1 and 0
    assert ce.moves_to_mix([3, 0, 0, 0], [1 / 3, 1 / 3, 1 / 3, 0]) == {
        ("Lighthouse", "Follower"): 1, ("Lighthouse", "Rational"): 1}
    # surpluses meet shortfalls in type order: lighthouse and rational over, follower and
    # profit-seeking short -> L to F, R to P (not L to P and R to F, which cross)
    assert ce.moves_to_mix([20, 0, 20, 0], [0.25] * 4) == {
        ("Lighthouse", "Follower"): 10, ("Rational", "Profit-seeking"): 10}
    for mix in ([0.5, 0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [0.25, 0.25, None, 0.5]):
        with pytest.raises(CustomerEquityError) as err:
            ce.moves_to_mix([1, 1, 1, 1], mix)
        assert err.value.argument == "mix"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 60), min_size=4, max_size=4).filter(lambda x: sum(x) > 0),
       st.lists(st.integers(0, 20), min_size=4, max_size=4).filter(lambda x: sum(x) > 0))
def test_moves_to_mix_moves_the_fewest_customers(counts, weights):
    mix = np.array(weights) / sum(weights)
    moves = ce.moves_to_mix(counts, mix)
    after = np.array(counts, dtype=np.int64)
    for (src, dst), n in moves.items():
        after[ce.TYPES.index(src)] -= n
        after[ce.TYPES.index(dst)] += n
    assert after.min() >= 0 and after.sum() == sum(counts)
    # the target is reached, and no customer moves that the change of counts does not need
    assert np.abs(after - mix * sum(counts)).max() < 1
    assert sum(moves.values()) == np.maximum(np.array(counts) - after, 0).sum()


def test_relabel_mix_reaches_the_target_mix():
    df, config = ce.load_sample(), ce.sample_config()
    base = ce.measure(df, config)
    mix = [0.12, 0.30, 0.36, 0.22]
    w = ce.what_if(df, config, relabel_mix=mix, base=base)
    assert w.after.counts.tolist() == [120, 300, 360, 220]
    same = ce.what_if(df, config, moves=ce.moves_to_mix(base.counts, mix), base=base)
    assert same.equity == w.equity


def test_a_relabelling_through_an_empty_type():
    df = pd.DataFrame({"type": ["Lighthouse"] * 3, "periods": 1, "pv": [30.0, 20.0, 10.0]})
    w = ce.what_if(df, FLAT, relabel_mix=[1 / 3, 1 / 3, 1 / 3, 0])
    # the best stays lighthouse, the next becomes a follower, the worst goes two bands down
    assert w.after.customers["type"].astype(str).tolist() == ["Lighthouse", "Follower", "Rational"]


def test_a_filtered_table_keeps_its_index_and_its_answer():
    df, config = ce.load_sample(), ce.sample_config()
    part = df.iloc[::3]
    levers = {"retention_change": 0.02, "relabel_mix": [0.1, 0.3, 0.35, 0.25]}
    w = ce.what_if(part, config, **levers)
    assert list(w.after.customers.index) == list(part.index)
    assert w.equity == pytest.approx(ce.what_if(part.reset_index(drop=True), config, **levers).equity,
                                     rel=1e-12)


def test_a_change_too_large_to_compute_is_refused_naming_the_lever_or_the_grid_cell():
    """1e308 of extra margin per unit of revenue times a capacity of 1000 is beyond the
    largest float (about 1.8e308): no equity can be written, so the lever is named."""
    with pytest.raises(CustomerEquityError, match=r"^margin_change: the changed values overflow"):
        ce.what_if(four_customers(), FLAT, margin_change=1e308)
    with pytest.raises(CustomerEquityError,
                       match=r"^rate = 0\.1, margin_change = 1e\+308: the changed values overflow"):
        ce.what_if_grid(four_customers(), FLAT, "rate", [0.1], "margin_change", [0.0, 1e308])
