"""Five values, capability matrix, classification, equity: hand-worked examples."""

import numpy as np
import pandas as pd
import pytest

import customer_equity as ce
from customer_equity import CustomerEquityError


def test_purchase_and_word_of_mouth_values():
    assert ce.purchase_value(5000, 0.4, 0.25) == 500.0
    assert ce.word_of_mouth_value(-0.03, 50, 200) == pytest.approx(-300.0)


def test_transaction_value_split_evenly_over_carriers_per_period():
    carriers = np.array([[1, 1], [1, 0], [0, 1], [1, 1]], dtype=bool)
    got = ce.allocate_transaction_value([900, 600], carriers)
    assert got[:, 0].tolist() == [300, 300, 0, 300]
    assert got[:, 1].tolist() == [200, 0, 200, 200]
    assert got.sum(axis=0).tolist() == [900, 600]


def test_transaction_income_with_no_carrier_is_refused():
    with pytest.raises(CustomerEquityError, match="column 2"):
        ce.allocate_transaction_value([100, 50], [[True, False]])


def test_five_value_ltv_written_out():
    # i = 10 %, 2 periods: PV 100, PPV -10, CV 5, KV 20, TV 15 per period, Iv 30
    per_period = 100 - 10 + 5 + 20 + 15
    expected = per_period / 1.1 + per_period / 1.21 + 30
    got = ce.ltv_values(0.10, pv=100, ppv=-10, cv=5, kv=20, tv=15, iv=30, periods=2)
    assert got == pytest.approx(expected)


def test_capability_matrix_is_the_papers():
    assert ce.capabilities("lighthouse") == dict(PV=True, PPV=True, CV=True, KV=True, TV=True, Iv=True)
    assert ce.capabilities("跟隨") == dict(PV=True, PPV=True, CV=True, KV=False, TV=True, Iv=True)
    assert ce.capabilities("RATIONAL") == dict(PV=True, PPV=True, CV=True, KV=False, TV=False, Iv=True)
    assert ce.capabilities("逐利顾客") == dict(PV=True, PPV=False, CV=False, KV=False, TV=False, Iv=True)


def test_type_restricted_ltv_per_type():
    # every component 10 per period, 1 period at rate 0, Iv 1
    types = ["Lighthouse", "Follower", "Rational", "Profit-seeking"]
    got = ce.ltv_type(types, 0.0, pv=10, ppv=10, cv=10, kv=10, tv=10, iv=1, periods=1)
    assert got.tolist() == [51, 41, 31, 11]


def test_excluded_cells_are_counted():
    counts = ce.excluded_cells(["Profit-seeking", "Follower"], ppv=[[3, 0], [3, 3]], kv=[[0, 0], [1, 2]])
    assert counts == {"ppv": 1, "kv": 2}


def test_unknown_type_named_with_position():
    with pytest.raises(CustomerEquityError, match=r"type, row 2: unknown customer type.*'VIP'"):
        ce.type_codes(["Lighthouse", "VIP"])


def test_weighted_score_and_cutoffs():
    score = ce.weighted_score([[5, 5, 3], [1, 2, 1]], [0.5, 0.3, 0.2])
    assert score.tolist() == pytest.approx([0.5 * 5 + 0.3 * 5 + 0.2 * 3, 0.5 + 0.6 + 0.2])
    assert ce.segment_by_score([4.0, 3.99, 3.0, 2.0, 1.99], [4, 3, 2]).tolist() == [
        "Lighthouse", "Follower", "Follower", "Rational", "Profit-seeking"]
    with pytest.raises(CustomerEquityError, match="descending"):
        ce.segment_by_score([1.0], [2, 3, 1])


def test_stage_labels_in_three_languages_of_input():
    got = ce.segment_by_stage(["Introduction", "導入期", "介绍期", 2, "成長期", "maturity", 3.0,
                               "成熟後期", "衰退期", "late maturity", 4])
    assert got.tolist() == ["Lighthouse"] * 3 + ["Follower"] * 2 + ["Rational"] * 2 + ["Profit-seeking"] * 4
    with pytest.raises(CustomerEquityError, match="row 2"):
        ce.segment_by_stage([1, 5])


def test_value_tiers_default_to_quantiles():
    ltv = np.arange(1, 101, dtype=float)  # 1..100
    tiers = pd.Series(ce.value_tier(ltv)).value_counts()
    assert tiers["Platinum"] == 5 and tiers["Gold"] == 15 and tiers["Iron"] == 30 and tiers["Lead"] == 50


def test_equity_table_and_composition_hand_sums():
    types = ["Lighthouse", "Follower", "Follower", "Profit-seeking"]
    ltv = [1000.0, 300.0, 100.0, -100.0]
    table = ce.equity_table(types, ltv)
    assert table.loc["Follower", "customers"] == 2
    assert table.loc["Follower", "equity"] == 400.0
    assert table.loc["Follower", "average"] == 200.0
    assert table.loc["Total", "equity"] == 1300.0
    assert table.loc["Lighthouse", "share"] == pytest.approx(1000 / 1300)
    assert ce.customer_equity(types, ltv) == 1300.0

    m = ce.composition_matrix(types, 0.0, pv=[[1], [2], [3], [4]], kv=[[10], [10], [10], [10]],
                              tv=[[5], [5], [5], [5]], iv=2, periods=1)
    assert m.loc["KV", "Lighthouse"] == 10 and m.loc["KV", "Follower"] == 0
    assert m.loc["TV", "Follower"] == 10 and m.loc["TV", "Profit-seeking"] == 0
    assert m.loc["Total", "Total"] == (1 + 2 + 3 + 4) + 10 + 15 + 8


def test_equity_that_cancels_out_has_no_share_rather_than_rounding_noise():
    """Lighthouse 0 - 1.12 - 2.52 + 9.83 = 6.19 and Follower -6.19: on paper the total is 0,
    so no type has a share of it. Summed by type in floating point, 6.1899999999999995 - 6.19
    is -8.9e-16, and the Lighthouse share came out as -6,969,320,423,355,842 (CI's fuzz case)."""
    table = ce.equity_table(["Lighthouse"] * 3 + ["Follower", "Lighthouse"],
                            [0.0, -1.12, -2.52, -6.19, 9.83])
    assert table.loc["Total", "equity"] == 0.0 and table.loc["Total", "average"] == 0.0
    assert table["share"].isna().all()
    assert table.loc["Lighthouse", "equity"] == pytest.approx(6.19)
    s = ce.structure_table(pd.DataFrame({"type": ["Lighthouse", "Follower"], "customers": [4, 1],
                                         "equity": [6.19, -6.19]}))
    assert np.isnan(s.loc["Total", "equity_share"]) and s.loc["Total", "equity"] == 0.0
    # A small total that is not rounding keeps its shares: 0.01 of 2,000,000 in magnitudes.
    kept = ce.equity_table(["Lighthouse", "Follower"], [1_000_000.01, -1_000_000.0])
    assert kept.loc["Total", "equity"] == pytest.approx(0.01, rel=1e-6)
    assert kept.loc["Lighthouse", "share"] == pytest.approx(1e8, rel=1e-6)


def test_solid_links():
    got = ce.solid_links([3, 5, 0, 2], [1, 0, 1, True], [1, 0, 1, 0])
    assert got.tolist() == [3, 1, 2, 1]


def test_a_score_exactly_on_a_cutoff_reaches_the_band_despite_float_rounding():
    # 0.1 + 0.7 + 0.3 is 1.0999999999999999 in floating point, 1.1 on paper
    on_paper = 0.1 + 0.7 + 0.3
    assert on_paper < 1.1
    assert ce.segment_by_score([on_paper], [2, 1.1, 0.5]).tolist() == ["Follower"]
    assert ce.segment_by_score([1.0999], [2, 1.1, 0.5]).tolist() == ["Rational"]
