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
    # lighthouse: mean 4 periods, r = 0.75; one point less shrinks lifetimes by 0.25 / 0.26
    # rational: mean 2, r = 0.5, by 0.5 / 0.51; profit-seeking: mean 1, r = 0, cannot fall
    assert w["retention"].iloc[:4].tolist()[0] == 0.75
    assert math.isnan(w.loc["Follower", "retention"])
    assert w.loc["Rational", "retention"] == 0.5 and w.loc["Profit-seeking", "retention"] == 0.0
    assert w["mean_periods"].tolist()[:1] + w["mean_periods"].tolist()[2:] == [4.0, 2.0, 1.0, 2.6]
    lighthouse = 800 - 800 * 0.25 / 0.26
    rational = 40 - 40 * 0.5 / 0.51
    assert w.loc["Lighthouse", "at_stake"] == pytest.approx(lighthouse)
    assert w.loc["Rational", "at_stake"] == pytest.approx(rational)
    assert w.loc["Profit-seeking", "at_stake"] == 0.0
    assert w.loc["Total", "at_stake"] == pytest.approx(lighthouse + rational)
    assert w.loc["Lighthouse", "at_stake_share"] == pytest.approx(lighthouse / 800)
    assert w["at_risk"].isna().all()   # no link columns in the data


def test_equity_at_stake_equals_measuring_the_shrunk_table():
    config = MeasureConfig(rate=0.10, classify_by="type")
    w = ce.retention_watch(three_types(), config)
    f = 0.25 / 0.26   # lifetimes 3 f = 2.8846 and 5 f = 4.8077: the last period counts in part
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


def test_watch_starts_from_p_alive_when_given():
    df = three_types()
    # lighthouse P(alive) 0.64 at age 2 for both: r = 0.8; lifetimes shrink by 0.2 / 0.21
    w = ce.retention_watch(df, FLAT, p_alive=[0.64, 0.64, 0.5, 0.5, 0.1], age=[2, 2, 1, 1, 1])
    assert w.loc["Lighthouse", "retention_p_alive"] == pytest.approx(0.8, abs=1e-12)
    assert w.loc["Lighthouse", "retention"] == 0.75   # from the periods, shown beside
    assert w.loc["Lighthouse", "at_stake"] == pytest.approx(800 - 800 * 0.2 / 0.21)
    assert w.loc["Rational", "at_stake"] == pytest.approx(40 - 40 * 0.5 / 0.51)
    with pytest.raises(CustomerEquityError) as err:
        ce.retention_watch(df, FLAT, p_alive=[0.5] * 5)
    assert err.value.argument == "age"
    with pytest.raises(CustomerEquityError) as err:
        ce.retention_watch(df, FLAT, p_alive=[0.5] * 5, age=[1, 1, 1, 1, 1.5, 2])
    assert err.value.argument == "age"
    with pytest.raises(CustomerEquityError) as err:
        ce.retention_watch(df, FLAT, p_alive=[0.5, 0.5, 0.5, 0.5, 1.5], age=[1] * 5)
    assert (err.value.argument, err.value.row) == ("p_alive", 5)


def test_watch_on_the_sample():
    df, config = ce.load_sample(), ce.sample_config()
    base = ce.measure(df, config)
    w = ce.retention_watch(df, config, base=base)
    assert w["customers"].tolist() == base.by_type["customers"].tolist()
    assert w["equity"].to_numpy() == pytest.approx(base.by_type["equity"].to_numpy())
    assert (w["at_stake"] > 0).all()
    assert (w["at_stake_share"] < 0.05).all()
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
