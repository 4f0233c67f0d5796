"""Property-based tests (hypothesis) of the laws the model must obey."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import customer_equity as ce

money = st.floats(-1e5, 1e5, allow_nan=False, allow_infinity=False)
rates = st.floats(-0.5, 1.0)
blocks = st.integers(1, 6).flatmap(lambda n: st.integers(1, 8).flatmap(
    lambda t: arrays(np.float64, (n, t), elements=money)))


@given(blocks, blocks, rates, st.floats(-10, 10))
def test_linear_in_the_values(a, b, rate, k):
    b = np.resize(b, a.shape)
    lhs = ce.ltv_contribution(rate, a + k * b)
    rhs = ce.ltv_contribution(rate, a) + k * ce.ltv_contribution(rate, b)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-6 * (1 + np.abs(a).sum() + abs(k) * np.abs(b).sum()))


@given(arrays(np.float64, st.integers(1, 10), elements=st.floats(0, 1e4)), st.floats(0.0, 0.5),
       st.floats(0.0, 0.5))
def test_discounting_monotone_in_the_rate(values, r1, r2):
    lo, hi = sorted((r1, r2))
    assert ce.ltv_contribution(hi, values) <= ce.ltv_contribution(lo, values) + 1e-9


customers = st.integers(1, 40).flatmap(lambda n: st.fixed_dictionaries({
    "type": st.lists(st.sampled_from(ce.TYPES), min_size=n, max_size=n),
    "periods": st.lists(st.integers(0, 10), min_size=n, max_size=n),
    "pv": st.lists(money, min_size=n, max_size=n),
    "ppv": st.lists(money, min_size=n, max_size=n),
    "cv": st.lists(money, min_size=n, max_size=n),
    "kv": st.lists(st.floats(0, 1e4), min_size=n, max_size=n),
    "tv": st.lists(st.floats(0, 1e4), min_size=n, max_size=n),
}))


@settings(max_examples=60)
@given(customers, st.floats(-0.2, 0.5), st.floats(-100, 100))
def test_equity_is_the_sum_of_the_type_values(data, rate, iv):
    df = pd.DataFrame(data)
    m = ce.measure(df, ce.MeasureConfig(rate=rate, classify_by="type", iv=iv))
    by_type = m.by_type["equity"]
    scale = 1 + np.abs(m.customers["ltv"]).sum()
    assert abs(by_type.iloc[:4].sum() - m.equity) <= 1e-9 * scale
    assert abs(m.customers["ltv"].sum() - m.equity) <= 1e-9 * scale
    assert abs(m.composition.loc["Total", "Total"] - m.equity) <= 1e-9 * scale


@settings(max_examples=60)
@given(customers, st.floats(0.0, 0.5))
def test_a_type_never_gains_from_a_capability_it_lacks(data, rate):
    """Raising a component a type does not provide leaves that customer's value unchanged."""
    df = pd.DataFrame(data)
    base = ce.measure(df, ce.MeasureConfig(rate=rate, classify_by="type")).customers["ltv"].to_numpy()
    for component, lacking in (("kv", ["Follower", "Rational", "Profit-seeking"]),
                               ("tv", ["Rational", "Profit-seeking"]),
                               ("ppv", ["Profit-seeking"]), ("cv", ["Profit-seeking"])):
        bumped = df.assign(**{component: df[component] + 1000.0})
        got = ce.measure(bumped, ce.MeasureConfig(rate=rate, classify_by="type")).customers["ltv"].to_numpy()
        mask = df["type"].isin(lacking).to_numpy()
        np.testing.assert_array_equal(got[mask], base[mask])
        gains = (got - base)[~mask & (df["periods"].to_numpy() > 0)]
        assert (gains > 0).all()
