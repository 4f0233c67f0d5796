"""Prospect screening on a case small enough to rank by hand."""

import statistics

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import customer_equity as ce
from customer_equity import CustomerEquityError

CUSTOMERS = pd.DataFrame({
    "customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
    "age": [30, 35, 50, 55, 60, 40],
    "credit": [5, 4, 3, 2, 1, 3],
    "gender": ["F", "F", "M", "M", "M", "F"],
})
LTV = [1000.0, 800.0, 300.0, 200.0, 100.0, 50.0]
TYPES = ["Lighthouse", "Follower", "Rational", "Rational", "Profit-seeking", "Profit-seeking"]
PROSPECTS = pd.DataFrame({
    "prospect_id": ["p1", "p2", "p3", "p4"],
    "age": [30, 60, 45, 45],
    "credit": [5, 1, 3, 3],
    "gender": ["F", "M", "F", "M"],
})


def by_hand():
    """Weights and scores written out: best = the top 30 % by value = c1 and c2."""
    columns = {
        "age": [float(a) for a in CUSTOMERS["age"]],
        "credit": [float(c) for c in CUSTOMERS["credit"]],
        "gender=F": [1.0 if g == "F" else 0.0 for g in CUSTOMERS["gender"]],
        "gender=M": [1.0 if g == "M" else 0.0 for g in CUSTOMERS["gender"]],
    }
    d = {}
    for name, xs in columns.items():
        best, rest = xs[:2], xs[2:]
        d[name] = (statistics.mean(best) - statistics.mean(rest)) / statistics.pstdev(xs)
    total = sum(abs(x) for x in d.values())
    w = {k: x / total for k, x in d.items()}

    def score(age, credit, gender):
        values = {"age": age, "credit": credit, "gender=F": float(gender == "F"),
                  "gender=M": float(gender == "M")}
        return sum(w[k] * (values[k] - statistics.mean(columns[k])) / statistics.pstdev(columns[k])
                   for k in w)

    return w, score


def test_weights_are_the_standardized_differences():
    w, _ = by_hand()
    got = ce.prospect_weights(CUSTOMERS, LTV, best=0.3)
    assert list(got.index) == ["age", "credit", "gender=F", "gender=M"]
    assert got.to_numpy() == pytest.approx([w[k] for k in got.index], rel=1e-12)
    assert np.abs(got).sum() == pytest.approx(1.0)
    # the best are younger, of better credit and women
    assert got["age"] < 0 < got["credit"] and got["gender=F"] > 0 > got["gender=M"]


def test_prospects_ranked_by_hand():
    _, score = by_hand()
    out = ce.screen_prospects(PROSPECTS, CUSTOMERS, LTV, TYPES, best=0.3, neighbours=2)
    # p1 has the profile of the best customer c1; p2 that of the worst-scoring c5;
    # p3 and p4 are average in age and credit and differ in gender only
    assert out["prospect_id"].tolist() == ["p1", "p3", "p4", "p2"]
    assert out["rank"].tolist() == [1, 2, 3, 4]
    assert out["row"].tolist() == [1, 3, 4, 2]
    expected = [score(30, 5, "F"), score(45, 3, "F"), score(45, 3, "M"), score(60, 1, "M")]
    assert out["score"].to_numpy() == pytest.approx(expected, rel=1e-12)
    # customers' scores (same formula): c1 1.252, c2 0.920, c6 0.587, c3 -0.587, c4 -0.920, c5 -1.252
    # p1 (1.252): nearest c1, c2 -> a tie of types, to the nearest: Lighthouse; (1000 + 800) / 2
    # p3 (0.463): nearest c6 (0.124 away), c2 (0.456) -> Profit-seeking (nearest); (50 + 800) / 2
    # p4 (-0.463): c3, c4 -> Rational; (300 + 200) / 2
    # p2 (-1.252): c5, c4 -> Profit-seeking; (100 + 200) / 2
    assert out["expected_type"].tolist() == ["Lighthouse", "Profit-seeking", "Rational", "Profit-seeking"]
    assert out["value_estimate"].tolist() == [900.0, 425.0, 250.0, 150.0]
    # cut-off: the 20th percentile of the customers' scores, -0.920: only p2 falls below
    assert out["avoid"].tolist() == [False, False, False, True]


def test_firm_weights_and_explicit_cutoff():
    out = ce.screen_prospects(PROSPECTS, CUSTOMERS, LTV, TYPES,
                              weights={"credit": 1.0}, neighbours=1, cutoff=0.0)
    # credit alone, standardized: p1 (5) 2/sd, p3 and p4 (3) 0, p2 (1) -2/sd; ties keep their order
    sd = statistics.pstdev([5, 4, 3, 2, 1, 3])
    assert out["prospect_id"].tolist() == ["p1", "p3", "p4", "p2"]
    assert out["score"].tolist() == pytest.approx([2 / sd, 0.0, 0.0, -2 / sd])
    assert out["avoid"].tolist() == [False, False, False, True]
    # weights as an array, one per encoded trait
    same = ce.screen_prospects(PROSPECTS, CUSTOMERS, LTV, TYPES, weights=[0, 1, 0, 0],
                               neighbours=1, cutoff=0.0)
    pd.testing.assert_frame_equal(same, out)


def test_screening_from_a_measurement_ranks_the_best_customers_first():
    df = ce.load_sample()
    m = ce.measure(df, ce.sample_config())
    traits = ["income", "education", "innovativeness", "opinion_leadership", "brand_loyalty",
              "price_tolerance"]
    # as prospects, the current customers themselves: the top-ranked should be worth more
    out = ce.screen_prospects(df[["customer_id", *traits]], df, m, traits=traits)
    assert len(out) == len(df) and out["rank"].is_monotonic_increasing
    assert out["score"].is_monotonic_decreasing
    ltv = m.customers.set_index("customer_id")["ltv"]
    top = ltv[out["customer_id"].iloc[:100]].mean()
    bottom = ltv[out["customer_id"].iloc[-100:]].mean()
    assert top > 3 * bottom
    assert out["avoid"].mean() == pytest.approx(0.2, abs=0.05)
    assert set(out["expected_type"]) <= set(ce.TYPES)


@pytest.mark.parametrize("kwargs, argument", [
    ({"best": 0.0}, "best"),
    ({"best": 1.0}, "best"),
    ({"weights": {"height": 1.0}}, "weights"),
    ({"weights": [1.0, 2.0]}, "weights"),
    ({"neighbours": 0}, "neighbours"),
    ({"traits": ["age", "shoe_size"]}, "traits"),
])
def test_bad_input_is_named(kwargs, argument):
    with pytest.raises(CustomerEquityError) as err:
        ce.screen_prospects(PROSPECTS, CUSTOMERS, LTV, TYPES, **kwargs)
    assert err.value.argument == argument
    if argument == "traits":  # the argument named, and the name it gave that is no column
        assert err.value.value == "shoe_size"


def test_blank_or_missing_traits_are_named():
    blank = PROSPECTS.copy()
    blank.loc[2, "credit"] = None
    with pytest.raises(CustomerEquityError) as err:
        ce.screen_prospects(blank, CUSTOMERS, LTV, TYPES)
    assert (err.value.argument, err.value.row) == ("credit", 3)
    with pytest.raises(CustomerEquityError) as err:
        ce.screen_prospects(PROSPECTS.drop(columns="gender"), CUSTOMERS, LTV, TYPES)
    assert (err.value.argument, err.value.value) == ("prospects", "gender")
    with pytest.raises(CustomerEquityError) as err:
        ce.screen_prospects(PROSPECTS, CUSTOMERS, LTV[:3], TYPES)
    assert err.value.argument == "ltv"


def test_nearest_customers_by_score_equal_a_full_sort():
    from customer_equity.model.prospects import _nearest

    rng = np.random.default_rng(5)
    scores = rng.integers(-4, 5, 200) / 2.0      # many ties, as with 1-5 ratings
    targets = np.concatenate([rng.integers(-6, 7, 50) / 2.0, rng.normal(0, 2, 50)])
    got = _nearest(scores, targets, 7)
    for row, target in zip(got, targets):
        expected = sorted(range(scores.size), key=lambda n: (abs(scores[n] - target), -scores[n], n))[:7]
        assert row.tolist() == expected


trait_cells = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True),
                        st.integers(-100, 100), st.text(max_size=3), st.booleans())


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(trait_cells, trait_cells), min_size=1, max_size=4))
@example([(1e308, 1e308), (-1e308, 5)])
def test_any_prospect_cells_give_a_ranking_or_a_named_error(rows):
    prospects = pd.DataFrame(rows, columns=["age", "credit"]).assign(gender="F")
    try:
        out = ce.screen_prospects(prospects, CUSTOMERS, LTV, TYPES, best=0.3, neighbours=2)
    except CustomerEquityError as err:
        assert err.argument in ("age", "credit", "prospects")
    else:
        assert out["rank"].tolist() == list(range(1, len(rows) + 1))
        assert np.isfinite(out["score"]).all()
