"""The papers' decisions answer the papers' questions (issue 25): each case worked by hand here.

A mix what-if at type averages beside the relabelling one, one retention convention (round
trip table -> rate -> LTV), transaction value that follows retention and loyalty, the levers
marketing controls (share of wallet, loyalty, acquisition), no blank read as 0, comparisons
at one rate, and errors that name what the user typed.
"""

import numpy as np
import pandas as pd
import pytest

import customer_equity as ce
from customer_equity import CustomerEquityError, MeasureConfig

FLAT = MeasureConfig(rate=0.0, classify_by="type")


def ten_customers():
    """One period each at rate 0, so a customer's equity is its PV: type averages 500 (400, 600),
    250 (200, 300), 100 (100 x 3) and 30 (20, 30, 40); equity 1000 + 500 + 300 + 90 = 1890."""
    return pd.DataFrame({
        "type": ["Lighthouse"] * 2 + ["Follower"] * 2 + ["Rational"] * 3 + ["Profit-seeking"] * 3,
        "periods": 1,
        "pv": [400.0, 600.0, 200.0, 300.0, 100.0, 100.0, 100.0, 20.0, 30.0, 40.0]})


def close(a, b, scale=1.0):
    return abs(a - b) <= 1e-9 * max(1.0, abs(scale))


# --- a mix what-if at type averages, beside the relabelling one ---------------------------------

def test_type_mix_counts_each_type_at_its_average_value():
    df = ten_customers()
    w = ce.what_if(df, FLAT, type_mix=[0.3, 0.2, 0.3, 0.2])
    # same 10 customers, 3/2/3/2 instead of 2/2/3/3: one more lighthouse customer (500), one
    # profit-seeking fewer (30): 3 x 500 + 2 x 250 + 3 x 100 + 2 x 30 = 2360, +470
    assert w.before.equity == 1890.0
    assert w.equity == pytest.approx(2360.0, rel=1e-12)
    assert w.difference == pytest.approx(470.0, rel=1e-12)
    assert w.table["customers_after"].tolist() == [3, 2, 3, 2, 10]
    assert w.table["equity_after"].tolist() == pytest.approx([1500.0, 500.0, 300.0, 60.0, 2360.0])
    # each lighthouse customer stands for 3/2 customers, each profit-seeking one for 2/3
    assert w.after.customers["weight"].tolist() == pytest.approx([1.5] * 2 + [1.0] * 5 + [2 / 3] * 3)
    # the relabelling what-if answers another question: the fewest moves take the best
    # profit-seeking customer (40) to lighthouse, where it keeps its own PV: +0
    relabelled = ce.what_if(df, FLAT, relabel_mix=[0.3, 0.2, 0.3, 0.2])
    assert relabelled.after.counts.tolist() == [3, 2, 3, 2]
    assert relabelled.difference == 0.0


def test_type_mix_agrees_with_compare_structures():
    df = ten_customers()
    w = ce.what_if(df, FLAT, type_mix=[0.3, 0.2, 0.3, 0.2])
    c = ce.compare_structures([w.before, w.after]).set_index("type")
    # the same number of customers, the same averages: all of the change is the mix effect
    assert close(c.loc["Total", "equity_change"], w.difference)
    assert close(c.loc["Total", "mix_effect"], 470.0)
    assert close(c.loc["Total", "volume_effect"], 0.0) and close(c.loc["Total", "value_effect"], 0.0)
    estimate = ce.structure_from_counts([3, 2, 3, 2], [500, 250, 100, 30])
    e = ce.compare_structures([w.before, estimate]).set_index("type")
    assert np.allclose(e["mix_effect"], c["mix_effect"], rtol=0, atol=1e-9)


def test_type_mix_on_the_sample_is_the_papers_structure_change():
    """The issue's case: +10 points lighthouse, -10 profit-seeking on the 1,000 sample customers
    is 100 more lighthouse customers at their average and 100 fewer profit-seeking ones at theirs
    (836,115), where relabelling 100 customers who keep their own values gives far less."""
    df, config = ce.load_sample(), ce.sample_config()
    base = ce.measure(df, config)
    average = base.by_type["average"]
    w = ce.what_if(df, config, type_mix=[0.21, 0.29, 0.349, 0.151], base=base)
    hand = 100 * (average["Lighthouse"] - average["Profit-seeking"])
    assert round(hand) == 836115
    assert close(w.difference, hand, scale=base.equity)
    c = ce.compare_structures([w.before, w.after]).set_index("type")
    assert close(c.loc["Total", "mix_effect"], w.difference, scale=base.equity)
    assert close(c.loc["Total", "value_effect"], 0.0, scale=base.equity)
    relabelled = ce.what_if(df, config, relabel_mix=[0.21, 0.29, 0.349, 0.151], base=base)
    assert relabelled.after.counts.tolist() == [210, 290, 349, 151]
    assert relabelled.difference < hand / 2


def test_a_type_without_customers_has_no_average_to_count_a_share_at():
    df = ten_customers()
    no_followers = df[df["type"] != "Follower"]
    with pytest.raises(CustomerEquityError, match="Follower: no customers, so no average value") as err:
        ce.what_if(no_followers, FLAT, type_mix=[0.25] * 4)
    assert err.value.argument == "type_mix"
    for kwargs, argument in (({"type_mix": [0.5, 0.5, 0.5, 0.0]}, "type_mix"),
                             ({"type_mix": [0.3, None, 0.3, 0.4]}, "type_mix"),
                             ({"type_mix": [0.25] * 4, "relabel_mix": [0.25] * 4}, "type_mix"),
                             ({"mix": [0.25] * 4}, "mix")):
        with pytest.raises(CustomerEquityError) as err:
            ce.what_if(df, FLAT, **kwargs)
        assert err.value.argument == argument


# --- one retention convention --------------------------------------------------------------------

def test_round_trip_table_rate_ltv_returns_the_tables_value():
    # the case: two customers retained 4 periods each, 100 a period, rate 0: worth 400 each
    table = pd.DataFrame({"type": ["Lighthouse"] * 2, "periods": [4, 4], "pv": [100.0, 100.0]})
    for timing, r in (("end", 0.8), ("begin", 0.75)):
        config = MeasureConfig(rate=0.0, classify_by="type", timing=timing)
        # end: E[T] = r/(1-r) = 4 -> r = 4/5; begin: E[T] = 1/(1-r) = 4 -> r = 3/4
        assert ce.implied_retention(table["periods"], table["type"], timing)[0] == pytest.approx(r)
        assert ce.expected_lifetime(r, timing) == pytest.approx(4.0)
        # 100 r/(1-r) = 100 x 4 and 100/(1-r) = 100 x 4
        assert ce.ltv_retention(100, r, 0.0, timing=timing) == pytest.approx(400.0, rel=1e-12)
        m = ce.measure(table, config)
        s = ce.structure_table(m)
        assert close(s.loc["Lighthouse", "average"], ce.ltv_retention(100, r, 0.0, timing=timing), 400)


def test_a_retention_what_if_is_the_retention_ltv_at_the_new_rate():
    """Lifetimes 2, 3 and 7 (mean 4: r = 0.8), 100 a period, rate 0. Retention + 5 points: each
    customer is worth ltv_retention(100, 0.85, 0) = 100 x 0.85/0.15 = 566.67 on average, 1,700 for
    the three; compare_structures reads the whole change as value, 3 x (566.67 - 400) = 500."""
    table = pd.DataFrame({"type": ["Lighthouse"] * 3, "periods": [2, 3, 7], "pv": 100.0})
    w = ce.what_if(table, FLAT, retention_change=0.05)
    assert close(w.before.equity, 3 * ce.ltv_retention(100, 0.8, 0.0), 1200)
    assert close(w.equity, 3 * ce.ltv_retention(100, 0.85, 0.0), 1700)
    assert close(w.equity, 1700.0, 1700)
    c = ce.compare_structures([w.before, w.after]).set_index("type")
    assert close(c.loc["Lighthouse", "value_effect"], 3 * (100 * 0.85 / 0.15 - 400), 1700)
    assert close(c.loc["Lighthouse", "value_effect_pv"], 500.0, 1700)
    assert close(c.loc["Total", "mix_effect"], 0.0) and close(c.loc["Total", "volume_effect"], 0.0)


def test_later_periods_of_a_block_count_when_retention_stretches_lifetimes():
    # retained 2 periods (r = 2/3); the block holds 300 for periods 3 and 4 (the baseline leaves
    # them out). Retention 0.8 doubles the expected lifetime (4/2): 100 + 100 + 300 + 300 = 800,
    # not the last period repeated (400)
    table = pd.DataFrame({"type": ["Lighthouse"], "periods": [2], "pv_1": [100.0], "pv_2": [100.0],
                          "pv_3": [300.0], "pv_4": [300.0]})
    assert ce.measure(table, FLAT).equity == 200.0
    w = ce.what_if(table, FLAT, retention_change=0.8 - 2 / 3)
    assert w.equity == pytest.approx(800.0, rel=1e-12)
    # where the block is blank after the last period, the last period repeats: 100 + 200 + 200 + 200
    blank = table.assign(pv_2=200.0, pv_3=np.nan, pv_4=np.nan)
    assert ce.what_if(blank, FLAT, retention_change=0.8 - 2 / 3).equity == pytest.approx(700.0, rel=1e-12)


def test_a_move_into_a_type_without_customers_takes_the_retention_of_those_moved():
    """Two rational customers (2 and 4 periods, r = 3/4); the better one (worth 40) becomes the only
    follower. Retention + 5 points: followers start from their own lifetimes (4: r = 0.8 -> 0.85,
    x 17/12: 17/3 periods, 56.67); rational 0.75 -> 0.8 (E 3 -> 4: x 4/3): 2 x 4/3, 26.67."""
    table = pd.DataFrame({"type": ["Rational"] * 2, "periods": [2, 4], "pv": 10.0})
    w = ce.what_if(table, FLAT, moves={("Rational", "Follower"): 1}, retention_change=0.05)
    assert w.after.customers["type"].astype(str).tolist() == ["Rational", "Follower"]
    assert w.after.customers["ltv"].tolist() == pytest.approx([10 * 2 * 4 / 3, 10 * 4 * 17 / 12])


# --- transaction value follows retention and loyalty ---------------------------------------------

def carriers():
    # a lighthouse and a follower customer, 2 periods each, both carry transaction value;
    # partner income 100 a period: 50 a carrier
    return (pd.DataFrame({"type": ["Lighthouse", "Follower"], "periods": [2, 2], "pv": 0.0}),
            MeasureConfig(rate=0.0, classify_by="type", transaction_income=[100.0, 100.0]))


def test_transaction_value_follows_retention():
    df, config = carriers()
    assert ce.measure(df, config).customers["tv"].tolist() == [100.0, 100.0]
    # follower r = 2/3 -> 3/4: expected lifetime 2 -> 3, a third period at the last period's 50 a
    # carrier; the lighthouse customer keeps its 100 (no share taken by the longer-lived follower)
    w = ce.what_if(df, config, retention_change={"Follower": 0.75 - 2 / 3})
    assert w.after.customers["tv"].tolist() == pytest.approx([100.0, 150.0])
    assert w.table.loc["Lighthouse", "difference"] == 0.0
    # r = 9/13: expected lifetime 9/4 = 2.25, a quarter of the third period: 50 + 50 + 12.5
    w = ce.what_if(df, config, retention_change={"Follower": 9 / 13 - 2 / 3})
    assert w.after.customers["tv"].tolist() == pytest.approx([100.0, 112.5])
    # as fixed totals (the transaction_income lever), period 3's 100 goes to its one expected
    # carrier, the follower a quarter present: 100 x 0.25 / 0.25
    w = ce.what_if(df, config, retention_change={"Follower": 9 / 13 - 2 / 3},
                   transaction_income=[100.0, 100.0, 100.0])
    assert w.after.customers["tv"].tolist() == pytest.approx([100.0, 200.0])
    assert w.dropped_income == 0.0


def test_income_given_for_fewer_periods_than_customers_stay_ends_where_it_ends():
    # income for period 1 only (100, one carrier); the lighthouse customer stays 2 periods,
    # r = 2/3 -> 0.8 doubles it to 4: still 100, periods 2-4 have no income per carrier (0),
    # as the measurement gives none after the list ends; the rational customer carries none
    df = pd.DataFrame({"type": ["Lighthouse", "Rational"], "periods": [2, 3], "pv": 1.0})
    config = MeasureConfig(rate=0.0, classify_by="type", transaction_income=[100.0])
    assert ce.measure(df, config).customers["tv"].tolist() == [100.0, 0.0]
    w = ce.what_if(df, config, retention_change={"Lighthouse": 0.8 - 2 / 3})
    assert w.after.customers["tv"].tolist() == pytest.approx([100.0, 0.0])
    assert w.after.customers["pv"].tolist() == pytest.approx([4.0, 3.0])


def test_transaction_value_follows_retention_on_the_sample():
    """The issue's case: retention + 5 points left TV at 467,212 and a follower change cut the
    lighthouse equity by 23,474."""
    df, config = ce.load_sample(), ce.sample_config()
    base = ce.measure(df, config)
    tv_before = base.sums[4].sum()
    assert round(tv_before) == 467212
    w = ce.what_if(df, config, retention_change=0.05, base=base)
    pv_growth = w.after.sums[0].sum() / base.sums[0].sum()
    tv_growth = w.after.sums[4].sum() / tv_before
    assert pv_growth > 1.2 and tv_growth > 1.2
    followers = ce.what_if(df, config, retention_change={"Follower": 0.05}, base=base)
    assert close(followers.table.loc["Lighthouse", "difference"], 0.0, base.equity)
    assert followers.table.loc["Follower", "difference"] > 0


# --- the levers marketing controls -----------------------------------------------------------------

def test_share_of_wallet_lever():
    df = pd.DataFrame({"type": ["Lighthouse", "Lighthouse", "Rational"], "periods": [2, 6, 1],
                       "capacity": [1000.0, 2000.0, 500.0], "share": [0.5, 0.5, 1.0],
                       "margin": [0.2, 0.1, 0.2]})
    w = ce.what_if(df, FLAT, share_change={"Lighthouse": 0.05})
    # A: 1000 x 0.05 x 0.2 = 10 more a period, 2 periods; B: 2000 x 0.05 x 0.1 = 10, 6 periods
    assert w.difference == pytest.approx(20.0 + 60.0, rel=1e-12)
    assert w.table.loc["Rational", "difference"] == 0.0
    with pytest.raises(CustomerEquityError, match="share of wallet 1 \\+ 0.05 leaves") as err:
        ce.what_if(df, FLAT, share_change=0.05)   # the rational customer already spends all with us
    assert err.value.argument == "share_change"
    with pytest.raises(CustomerEquityError) as err:
        ce.what_if(df.drop(columns=["capacity", "share", "margin"]).assign(pv=1.0), FLAT, share_change=0.1)
    assert err.value.argument == "share_change"


def test_loyalty_lever_raises_a_types_values_not_its_kinds():
    df = pd.DataFrame({"type": ["Lighthouse", "Rational"], "periods": 1, "pv": [100.0, 100.0],
                       "influence": [-0.1, 0.1], "reach": [10.0, 10.0], "avg_value": [50.0, 50.0],
                       "kv": [40.0, 40.0], "tv": [20.0, 20.0]})
    before = ce.measure(df, FLAT)
    # lighthouse: PV 100, PPV -0.1 x 10 x 50 = -50 (complaints), KV 40, TV 20 -> 110
    # rational: PV 100, PPV 50 (KV and TV not provided) -> 150
    assert before.customers["ltv"].tolist() == [110.0, 150.0]
    w = ce.what_if(df, FLAT, loyalty_change=0.1)
    # each value moves up by 10 % of its size: PPV -50 + 5 = -45, KV 44, TV 22 -> 121;
    # rational PPV 55 -> 155; the rational customer still provides no KV or TV
    assert w.after.customers["ltv"].tolist() == pytest.approx([121.0, 155.0])
    assert w.after.excluded["kv"] == 1 and w.after.excluded["tv"] == 1
    w = ce.what_if(df, FLAT, loyalty_change={"Rational": 0.2})
    assert w.after.customers["ltv"].tolist() == pytest.approx([110.0, 160.0])
    for bad in (1.5, [0.1, None, 0.1, 0.1]):
        with pytest.raises(CustomerEquityError) as err:
            ce.what_if(df, FLAT, loyalty_change=bad)
        assert err.value.argument == "loyalty_change"


def test_loyalty_raises_allocated_transaction_value():
    df, config = carriers()
    # the follower's 50 a period grows 10 %: 55 x 2; the lighthouse customer keeps 50 x 2
    w = ce.what_if(df, config, loyalty_change={"Follower": 0.1})
    assert w.after.customers["tv"].tolist() == pytest.approx([100.0, 110.0])


def test_acquisition_lever_with_acquisition_cost():
    df = ten_customers()
    w = ce.what_if(df, FLAT, new_customers={"Lighthouse": 2, "Rational": 10},
                   acquisition_cost={"Lighthouse": 150.0, "Rational": 120.0})
    # 2 lighthouse customers at 500 less 150 each: +700; 10 rational at 100 less 120: -200
    assert w.difference == pytest.approx(500.0, rel=1e-12)
    t = w.table
    assert t["customers_after"].tolist() == [4, 2, 13, 3, 22]
    assert t["acquisition_cost"].tolist() == [300.0, 0.0, 1200.0, 0.0, 1500.0]
    assert t.loc["Lighthouse", "equity_after"] == pytest.approx(2000.0 - 300.0)
    assert t.loc["Total", "equity_after"] == pytest.approx(w.equity)
    # compare_structures sees the gross change, volume and mix: 2 x 500 + 10 x 100 = 2000
    c = ce.compare_structures([w.before, w.after]).set_index("type")
    assert close(c.loc["Total", "equity_change"], w.difference + 1500.0, 2000)
    assert close(c.loc["Total", "volume_effect"] + c.loc["Total", "mix_effect"], 2000.0, 2000)
    assert close(c.loc["Total", "value_effect"], 0.0, 2000)
    for kwargs, argument in (({"acquisition_cost": 100.0}, "acquisition_cost"),
                             ({"new_customers": [1, -1, 0, 0]}, "new_customers"),
                             ({"new_customers": 1, "acquisition_cost": [1, 1, None, 1]}, "acquisition_cost")):
        with pytest.raises(CustomerEquityError) as err:
            ce.what_if(df, FLAT, **kwargs)
        assert err.value.argument == argument
    with pytest.raises(CustomerEquityError, match="Follower: no customers") as err:
        ce.what_if(df[df["type"] != "Follower"], FLAT, new_customers={"Follower": 1})
    assert err.value.argument == "new_customers"


# --- no blank read as 0, one rate per comparison ---------------------------------------------------

def test_blanks_in_a_structure_are_refused_naming_the_argument():
    for call, argument, row in (
            (lambda: ce.structure_from_counts([200, 0, 800, 0], [None, None, 1000, None]), "average", 1),
            (lambda: ce.structure_from_counts([None, 0, 800, 0], [5000, 0, 1000, 0]), "customers", 1),
            (lambda: ce.decompose_change([10, 0, 90, 0], [1000, None, 100, None],
                                         [20, 0, 80, 0], [None, None, 100, None]), "average_to", 1),
            (lambda: ce.decompose_change([10, 0, None, 0], [1000, 0, 100, 0],
                                         [20, 0, 80, 0], [1100, 0, 100, 0]), "customers_from", 3),
            (lambda: ce.structure_table(pd.DataFrame({"type": ["Lighthouse", "Rational"],
                                                      "customers": [100, 300],
                                                      "average": [None, 500.0]})), "average", 1)):
        with pytest.raises(CustomerEquityError) as err:
            call()
        assert (err.value.argument, err.value.row) == (argument, row)
    # a type without customers may leave its average blank: there is nothing to average
    s = ce.structure_from_counts([200, 0, 800, 0], [5000, None, 1000, None])
    assert s.loc["Total", "equity"] == 1_800_000.0


def test_a_zero_equity_type_leaves_the_other_types_split_by_kind():
    last = pd.DataFrame({"type": ["Lighthouse", "Follower"], "periods": 1, "pv": [100.0, 0.0],
                         "kv": [50.0, 0.0]})
    this = last.assign(pv=[150.0, 0.0], kv=[30.0, 0.0])
    m0, m1 = ce.measure(last, FLAT), ce.measure(this, FLAT)
    c = ce.compare_structures([m0, m1]).set_index("type")
    # two customers both years, one of each type: lighthouse value weight (2 x 0.5 + 2 x 0.5)/3
    # + (2 x 0.5 + 2 x 0.5)/6 = 1, so its value effect is its change: PV +50, KV -20
    assert c.loc["Lighthouse", ["value_effect_pv", "value_effect_kv"]].tolist() == [50.0, -20.0]
    assert c.loc["Follower", ["value_effect_pv", "value_effect_kv"]].tolist() == [0.0, 0.0]
    assert c.loc["Total", ["value_effect_pv", "value_effect_kv"]].tolist() == [50.0, -20.0]
    # spilled and read back, the follower's mix is undefined (0 / 0): its split is unknown,
    # the lighthouse one stays
    s0, s1 = ce.structure_table(m0), ce.structure_table(m1)
    assert s0.loc["Follower", ["pv_share", "kv_share"]].isna().all()
    c = ce.compare_structures([s0.reset_index(), s1.reset_index()]).set_index("type")
    assert c.loc["Lighthouse", ["value_effect_pv", "value_effect_kv"]].tolist() == [50.0, -20.0]
    assert np.isnan(c.loc["Follower", "value_effect_pv"])


def test_comparing_structures_valued_at_different_rates_is_refused():
    df = ten_customers().assign(periods=3)
    at_10 = ce.measure(df, MeasureConfig(rate=0.10, classify_by="type"))
    at_8 = ce.measure(df, MeasureConfig(rate=0.08, classify_by="type"))
    begin = ce.measure(df, MeasureConfig(rate=0.10, classify_by="type", timing="begin"))
    for other in (at_8, begin, at_8.to_dict(), ce.structure_table(at_8)):
        with pytest.raises(CustomerEquityError, match="the change of discounting would read as a "
                                                      "change of value") as err:
            ce.compare_structures([at_10, other], ["10 %", "other"])
        assert err.value.argument == "structures"
    # the same customers at the same rate: no change at all; an estimate carries no rate
    same = ce.compare_structures([at_10, at_10.to_dict()]).set_index("type")
    assert same.loc["Total", "equity_change"] == 0.0
    ce.compare_structures([at_10, ce.structure_from_counts([2, 2, 3, 3], [1, 1, 1, 1])])


# --- screening prospects with nothing to tell the best apart ---------------------------------------

def test_prospects_that_would_all_score_0_are_refused():
    people = pd.DataFrame({"income": [5, 4, 2, 1], "age": [40, 40, 40, 40]})
    prospects = pd.DataFrame({"income": [1, 5], "age": [40, 40]})
    with pytest.raises(CustomerEquityError, match="same lifetime value") as err:
        ce.screen_prospects(prospects, people, [100, 100, 100, 100], best=0.5)
    assert err.value.argument == "ltv"
    with pytest.raises(CustomerEquityError, match="no trait sets the best customers apart") as err:
        ce.screen_prospects(prospects, people[["age"]], [900, 700, 100, 50], traits=["age"], best=0.5)
    assert err.value.argument == "traits"
    with pytest.raises(CustomerEquityError, match="every weighted trait is the same") as err:
        ce.screen_prospects(prospects, people, [900, 700, 100, 50], weights={"age": 1.0}, best=0.5)
    assert err.value.argument == "weights"
    # a constant trait beside one that varies is fine: it weighs 0
    ranked = ce.screen_prospects(prospects, people, [900, 700, 100, 50], best=0.5, neighbours=2)
    assert ranked["row"].tolist() == [2, 1]
