"""Retention watch: implied retention, equity at stake and the customers whose loss costs most."""

import math

import numpy as np
import pandas as pd
import pytest

import customer_equity as ce
from customer_equity import CustomerEquityError, MeasureConfig

FLAT = MeasureConfig(rate=0.0, classify_by="type")


def three_types():
    return pd.DataFrame({
        "customer_id": ["L1", "L2", "R1", "R2", "P1"],
        "type": ["Lighthouse", "Lighthouse", "Rational", "Rational", "Profit-seeking"],
        "periods": [3, 5, 1, 3, 1],
        "pv": [100.0, 100.0, 10.0, 10.0, 1.0],
    })


def test_equity_at_stake_by_hand():
    w = ce.retention_watch(three_types(), FLAT)
    # end-of-period timing: a type whose customers stay T periods on average has r = T/(1+T)
    # (expected lifetime r/(1-r) = T). lighthouse: mean 4, r = 0.8; one point less gives an
    # expected lifetime 0.79/0.21 = 79/21, lifetimes x (79/21)/4 = 79/84
    # rational: mean 2, r = 2/3 -> 197/300: lifetime 197/103, x 197/206
    # profit-seeking: mean 1, r = 1/2 -> 0.49: lifetime 49/51, x 49/51
    assert w.loc["Lighthouse", "retention"] == pytest.approx(0.8, abs=1e-15)
    assert math.isnan(w.loc["Follower", "retention"])
    assert w.loc["Rational", "retention"] == pytest.approx(2 / 3, abs=1e-15)
    assert w.loc["Profit-seeking", "retention"] == 0.5
    assert w["mean_periods"].tolist()[:1] + w["mean_periods"].tolist()[2:] == [4.0, 2.0, 1.0, 2.6]
    lighthouse = 800 * (1 - 79 / 84)
    rational = 40 * (1 - 197 / 206)
    profit = 1 * (1 - 49 / 51)
    assert w.loc["Lighthouse", "at_stake"] == pytest.approx(lighthouse, rel=1e-12)
    assert w.loc["Rational", "at_stake"] == pytest.approx(rational, rel=1e-12)
    assert w.loc["Profit-seeking", "at_stake"] == pytest.approx(profit, rel=1e-12)
    assert w.loc["Total", "at_stake"] == pytest.approx(lighthouse + rational + profit, rel=1e-12)
    assert w.loc["Lighthouse", "at_stake_share"] == pytest.approx(lighthouse / 800)
    assert w["at_risk"].isna().all()   # no link columns in the data
    # with beginning-of-period timing r = 1 - 1/T: lighthouse 0.75 -> 0.74, lifetime 1/0.25 ->
    # 1/0.26, x 25/26; profit-seeking r = 0 cannot fall
    begin = ce.retention_watch(three_types(), MeasureConfig(rate=0.0, classify_by="type", timing="begin"))
    assert begin.loc["Lighthouse", "retention"] == 0.75
    assert begin.loc["Lighthouse", "at_stake"] == pytest.approx(800 * (1 - 25 / 26), rel=1e-12)
    assert begin.loc["Profit-seeking", "at_stake"] == 0.0


def test_equity_at_stake_equals_measuring_the_shrunk_table():
    config = MeasureConfig(rate=0.10, classify_by="type")
    w = ce.retention_watch(three_types(), config)
    f = 79 / 84   # lifetimes 3 f = 2.8214 and 5 f = 4.7024: the last period counts in part
    shrunk = pd.DataFrame({
        "type": ["Lighthouse", "Lighthouse"], "periods": [3, 5],
        "pv_1": [100.0, 100.0], "pv_2": [100.0, 100.0], "pv_3": [100 * (3 * f - 2), 100.0],
        "pv_4": [0.0, 100.0], "pv_5": [0.0, 100 * (5 * f - 4)]})
    before = ce.measure(three_types().iloc[:2], config).equity
    assert w.loc["Lighthouse", "at_stake"] == pytest.approx(before - ce.measure(shrunk, config).equity,
                                                            rel=1e-12)


def test_retention_from_p_alive_by_hand():
    # one age for all: r = (mean P(alive)) ** (1 / age)
    r = ce.retention_from_p_alive([0.9, 0.5, 0.4], [3, 3, 2], ["Follower", "Follower", "Rational"])
    assert r[1] == pytest.approx(0.7 ** (1 / 3), abs=1e-12)
    assert r[2] == pytest.approx(0.4 ** 0.5, abs=1e-12)
    assert np.isnan(r[0]) and np.isnan(r[3])
    # ages 1 and 2, P(alive) 0.9 and 0.5: r + r^2 = 1.4, r = (-1 + sqrt(1 + 5.6)) / 2
    r = ce.retention_from_p_alive([0.9, 0.5], [1, 2], ["Rational", "Rational"])
    assert r[2] == pytest.approx((-1 + math.sqrt(6.6)) / 2, abs=1e-12)


def test_customers_of_age_0_say_nothing_about_retention():
    # two new customers (age 0, P(alive) 0.5 each) beside one of age 2 with P(alive)
    # 0.931225 = 0.965^2: r^0 = 1 whatever r is, so the new ones are left out and r = 0.965.
    # Counted, they would ask 1 + 1 + r^2 = 0.5 + 0.5 + 0.931225: r^2 < 0, r = 0
    r = ce.retention_from_p_alive([0.5, 0.5, 0.931225], [0, 0, 2], ["Rational"] * 3)
    assert r[2] == pytest.approx(0.965, abs=1e-12)
    # a type whose customers are all new has no retention here: the watch starts from periods
    r = ce.retention_from_p_alive([0.5, 0.8], [0, 0], ["Rational", "Rational"])
    assert np.isnan(r).all()


def test_p_alive_and_periods_describing_the_same_customers_give_the_same_watch():
    """The P(alive) path against the periods path: each type's P(alive) is the survival r^age
    of the retention its lifetimes imply, so both start from the same r and price a point alike."""
    df = three_types()
    for timing, r in (("end", (0.8, 2 / 3, 0.5)), ("begin", (0.75, 0.5, None))):
        config = MeasureConfig(rate=0.1, classify_by="type", timing=timing)
        by_periods = ce.retention_watch(df, config)
        p_alive = [r[0] ** 2, r[0] ** 2, r[1] ** 3, r[1] ** 3, 0.5 if r[2] is None else r[2]]
        age = [2, 2, 3, 3, 0 if r[2] is None else 1]   # begin: profit-seeking r = 0, left to periods
        by_p_alive = ce.retention_watch(df, config, p_alive=p_alive, age=age)
        assert by_p_alive["retention_p_alive"].iloc[[0, 2]].tolist() == pytest.approx(r[:2], abs=1e-12)
        assert by_p_alive["at_stake"].to_numpy() == pytest.approx(by_periods["at_stake"].to_numpy(),
                                                                  rel=1e-9)


def test_watch_starts_from_p_alive_when_given():
    df = three_types()
    # lighthouse P(alive) 0.9801 at age 2: r_b = 0.99 where the lifetimes say 0.8. One point
    # less is a factor 0.98/0.99 on the chance of staying; the table's lifetimes take it too:
    # r = 0.8 x 98/99 = 78.4/99, expected lifetime 78.4/20.6, x 78.4/82.4 on the lifetimes
    # (reading the lifetimes as if they had 0.99 would halve them: at stake 400, 50 %)
    # rational P(alive) 0.5 at age 1: r_b = 0.5 -> 0.49, x 0.98: r = 2/3 x 0.98 = 0.65333,
    # lifetime 49/26 instead of 2: x 49/52; profit-seeking 0.1 -> 0.09, x 0.9: r = 0.45,
    # lifetime 9/11 instead of 1
    w = ce.retention_watch(df, FLAT, p_alive=[0.9801, 0.9801, 0.5, 0.5, 0.1], age=[2, 2, 1, 1, 1])
    assert w.loc["Lighthouse", "retention_p_alive"] == pytest.approx(0.99, abs=1e-12)
    assert w.loc["Lighthouse", "retention"] == 0.8   # from the periods, shown beside
    assert w.loc["Lighthouse", "at_stake"] == pytest.approx(800 * (1 - 78.4 / 82.4), rel=1e-9)
    assert w.loc["Rational", "at_stake"] == pytest.approx(40 * (1 - 49 / 52), rel=1e-9)
    assert w.loc["Profit-seeking", "at_stake"] == pytest.approx(1 * (1 - 9 / 11), rel=1e-9)
    with pytest.raises(CustomerEquityError) as err:
        ce.retention_watch(df, FLAT, p_alive=[0.5] * 5)
    assert err.value.argument == "age"
    with pytest.raises(CustomerEquityError) as err:
        ce.retention_watch(df, FLAT, p_alive=[0.5] * 5, age=[1, 1, 1, 1, 1.5, 2])
    assert err.value.argument == "age"
    with pytest.raises(CustomerEquityError) as err:
        ce.retention_watch(df, FLAT, p_alive=[0.5, 0.5, 0.5, 0.5, 1.5], age=[1] * 5)
    assert (err.value.argument, err.value.row) == ("p_alive", 5)


def test_a_blank_p_alive_is_refused_not_read_as_0():
    with pytest.raises(CustomerEquityError, match="p_alive, row 3: a value is required") as err:
        ce.retention_watch(three_types(), FLAT, p_alive=[0.5, 0.5, None, 0.5, 0.5], age=[1] * 5)
    assert err.value.argument == "p_alive"


def test_p_alive_of_1_is_refused_naming_p_alive():
    """BG/NBD gives P(alive) = 1 to every customer without a repeat purchase: a type of such
    customers implies r = 1, from which no fall can be priced. The refusal names the argument
    the user typed, not the what-if's base_retention."""
    with pytest.raises(CustomerEquityError, match="is 1 for every Lighthouse customer") as err:
        ce.retention_watch(three_types(), FLAT, p_alive=[1.0, 1.0, 0.5, 0.5, 0.5], age=[2, 3, 1, 1, 1])
    assert err.value.argument == "p_alive"


def test_watch_on_the_sample():
    df, config = ce.load_sample(), ce.sample_config()
    base = ce.measure(df, config)
    w = ce.retention_watch(df, config, base=base)
    assert w["customers"].tolist() == base.by_type["customers"].tolist()
    assert w["equity"].to_numpy() == pytest.approx(base.by_type["equity"].to_numpy())
    assert (w["at_stake"] > 0).all()
    assert (w["at_stake_share"] < 0.06).all()   # a point of retention costs a few per cent
    # key customers with fewer than three links, counted per type
    risky = base.customers[base.customers["at_risk"]]
    assert w.loc["Total", "at_risk"] == len(risky) > 0
    assert w.loc["Total", "at_risk_equity"] == pytest.approx(risky["ltv"].sum())
    assert w["at_risk"].iloc[:4].sum() == w.loc["Total", "at_risk"]


def test_customers_at_stake_order_and_loss():
    df = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d"], "type": ["Lighthouse", "Follower", "Rational", "Follower"],
        "periods": 1, "pv": [500.0, 900.0, 100.0, 300.0],
        "key_customer": [True, False, True, True], "decision_makers": [3, 0, 1, 0],
        "executive_link": [True, False, False, True], "expert_link": [True, False, True, False]})
    config = MeasureConfig(rate=0.0, classify_by="type", iv=10.0, transaction_income=[60.0])
    m = ce.measure(df, config)
    out = ce.customers_at_stake(m)
    # at risk (key, < 3 links): c (1 link), d (1 link); then the rest by loss
    # TV: 60 over the carriers a, b, d = 20 each, not lost (it moves to the others); Iv stays
    assert out["customer_id"].tolist() == ["d", "c", "b", "a"]
    assert out["loss"].tolist() == [300.0, 100.0, 900.0, 500.0]
    assert out["ltv"].tolist() == [330.0, 110.0, 930.0, 530.0]
    assert out["at_risk"].tolist() == [True, True, False, False]
    assert out["rank"].tolist() == [1, 2, 3, 4] and out["row"].tolist() == [4, 3, 2, 1]
    assert ce.customers_at_stake(m, top=2)["customer_id"].tolist() == ["d", "c"]
    # without link columns: by loss alone; a TV column of the data is lost with the customer
    plain = ce.measure(df[["customer_id", "type", "periods", "pv"]].assign(tv=5.0), FLAT)
    out = ce.customers_at_stake(plain)
    assert out["customer_id"].tolist() == ["b", "a", "d", "c"]
    assert out["loss"].tolist() == [905.0, 505.0, 305.0, 100.0]   # rational: no TV
    with pytest.raises(CustomerEquityError) as err:
        ce.customers_at_stake(m, top=-1)
    assert err.value.argument == "top"
    with pytest.raises(CustomerEquityError):
        ce.customers_at_stake(df)
