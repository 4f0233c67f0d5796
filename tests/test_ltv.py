"""The four lifetime-value families against numbers worked out by hand."""

import math

import numpy as np
import pytest

import customer_equity as ce
from customer_equity import CustomerEquityError


def test_contribution_matches_npv_written_out():
    # Excel: =NPV(10%, 100, 120, 150) = 100/1.1 + 120/1.1^2 + 150/1.1^3
    expected = 100 / 1.1 + 120 / 1.1**2 + 150 / 1.1**3
    assert ce.ltv_contribution(0.10, [100, 120, 150]) == pytest.approx(expected, rel=1e-12)


def test_contribution_begin_timing_does_not_discount_period_one():
    expected = 100 + 120 / 1.1 + 150 / 1.1**2
    assert ce.ltv_contribution(0.10, [100, 120, 150], timing="begin") == pytest.approx(expected)


def test_constant_margin_is_the_annuity_and_a_times_t_at_zero_rate():
    a, i, T = 250.0, 0.08, 7
    assert ce.ltv_contribution(i, a, periods=T) == pytest.approx(a * (1 - (1 + i) ** -T) / i)
    assert ce.ltv_contribution(0.0, a, periods=T) == pytest.approx(a * T)


def test_rows_are_customers_and_blanks_are_zero():
    values = np.array([[100, 100, 100], [50, np.nan, 50]])
    got = ce.ltv_contribution(0.1, values)
    assert got == pytest.approx([100 / 1.1 + 100 / 1.21 + 100 / 1.331, 50 / 1.1 + 50 / 1.331])


def test_periods_truncate_a_block_and_repeat_a_column():
    got = ce.ltv_contribution(0.0, [[1, 2, 3, 4], [5, 5, 5, 5]], periods=[2, 3])
    assert got.tolist() == [3.0, 15.0]
    assert ce.ltv_contribution(0.0, [[7], [7]], periods=[0, 4]).tolist() == [0.0, 28.0]


def test_rate_per_row_broadcasts():
    got = ce.ltv_contribution([[0.0], [1.0]], [[10, 10], [10, 10]])
    assert got.ravel().tolist() == pytest.approx([20.0, 10 / 2 + 10 / 4])


def test_share_of_wallet_written_out():
    # R S M = 2000 x 0.3 x 0.2 = 120 per period, then 150 x 0.3 x 0.2 ... a block of capacities
    capacity = [[2000, 2500, 3000]]
    expected = (2000 * 0.3 * 0.2) / 1.05 + (2500 * 0.3 * 0.2) / 1.05**2 + (3000 * 0.3 * 0.2) / 1.05**3
    assert ce.ltv_share_of_wallet(0.05, capacity, 0.3, 0.2)[0] == pytest.approx(expected)


def test_indirect_is_sow_times_multiplier_and_rows_sum_over_products():
    # customer with two product lines, 2 periods at 10 %
    p, s, m, a = np.array([[1000], [400]]), 0.5, np.array([[0.2], [0.3]]), 1.25
    rows = ce.ltv_indirect(0.10, p, s, m, a, periods=2)
    line1 = 1000 * 0.5 * 0.2 * 1.25 * (1 / 1.1 + 1 / 1.21)
    line2 = 400 * 0.5 * 0.3 * 1.25 * (1 / 1.1 + 1 / 1.21)
    assert rows.tolist() == pytest.approx([line1, line2])
    assert rows.sum() == pytest.approx(line1 + line2)


@pytest.mark.parametrize("m,r,i", [(100, 0.8, 0.1), (40, 0.5, 0.02), (-30, 0.9, 0.15)])
def test_retention_closed_form_equals_period_sum(m, r, i):
    T = 12
    by_sum = sum(m * r**t * (1 + i) ** -t for t in range(1, T + 1))
    assert ce.ltv_retention(m, r, i, periods=T) == pytest.approx(by_sum, rel=1e-12)
    long_sum = sum(m * r**t * (1 + i) ** -t for t in range(1, 2000))
    assert ce.ltv_retention(m, r, i) == pytest.approx(long_sum, rel=1e-10)
    assert ce.ltv_retention(m, r, i) == pytest.approx(m * r / (1 + i - r))


def test_retention_begin_growth_and_acquisition_cost():
    m, r, i, g = 100.0, 0.8, 0.10, 0.05
    assert ce.ltv_retention(m, r, i, timing="begin") == pytest.approx(m * (1 + i) / (1 + i - r))
    assert ce.ltv_retention(m, r, i, growth=g) == pytest.approx(m * r / (1 + i - r * (1 + g)))
    by_sum = sum(m * (1 + g) ** (t - 1) * r**t * (1 + i) ** -t for t in range(1, 6))
    assert ce.ltv_retention(m, r, i, periods=5, growth=g, acquisition_cost=30) == pytest.approx(by_sum - 30)


def test_retention_grid_spills_retention_across_rates_down():
    grid = ce.ltv_retention(100, [[0.6, 0.9]], [[0.05], [0.2]])
    assert grid.shape == (2, 2)
    assert grid[1, 0] == pytest.approx(100 * 0.6 / (1.2 - 0.6))


def test_retention_infinite_horizon_undefined_when_growth_outpaces_discount():
    with pytest.raises(CustomerEquityError, match=r"retention.*1 \+ rate"):
        ce.ltv_retention(100, 1.0, 0.0)
    with pytest.raises(CustomerEquityError, match="retention"):
        ce.ltv_retention(100, 0.9, 0.05, growth=0.2)
    # finite horizon is fine at q = 1: m r/(1+i) per period
    assert ce.ltv_retention(100, 1.0, 0.0, periods=4) == pytest.approx(400)


def test_per_period_rate_round_trips_a_year():
    k = 12
    monthly = ce.per_period_rate(0.12, k)
    assert (1 + monthly) ** k == pytest.approx(1.12)
    assert monthly == pytest.approx(1.12 ** (1 / 12) - 1)


def test_annuity_factor_near_zero_rate_is_precise():
    i = 1e-12
    assert ce.annuity_factor(i, 10) == pytest.approx(10 - 55 * i, rel=1e-14)  # sum(1 - t i) to first order
    assert ce.annuity_factor(0.1, 3, timing="begin") == pytest.approx(1 + 1 / 1.1 + 1 / 1.21)


@pytest.mark.parametrize("call,arg,where", [
    (lambda: ce.ltv_contribution(-1.0, [1, 2]), "rate", None),
    (lambda: ce.ltv_contribution(0.1, [[1, 2], [3, "x"]]), "values", "row 2, column 2"),
    (lambda: ce.ltv_contribution(0.1, [[1, 2], [3, True]]), "values", "row 2, column 2"),
    (lambda: ce.ltv_contribution(0.1, [[1], [2]], periods=[2, 1.5]), "periods", "row 2"),
    (lambda: ce.ltv_contribution(0.1, [[1], [2]], periods=[2, -1]), "periods", "row 2"),
    (lambda: ce.ltv_share_of_wallet(0.1, [[100], [100]], [[0.5], [1.2]], 0.2), "share", "row 2"),
    (lambda: ce.ltv_retention(100, [[0.5, 1.5]], 0.1), "retention", "row 1, column 2"),
    (lambda: ce.word_of_mouth_value(0.1, [[3], [-2]], 100), "reach", "row 2"),
    (lambda: ce.ltv_contribution(0.1, [[1, np.inf]]), "values", "row 1, column 2"),
    (lambda: ce.ltv_contribution(0.1, [1, 2], timing="middle"), "timing", None),
])
def test_bad_input_names_argument_position_and_rule(call, arg, where):
    with pytest.raises(CustomerEquityError) as info:
        call()
    err = info.value
    assert err.argument == arg
    assert str(err).startswith(arg)
    if where:
        assert where in str(err)
    assert ":" in str(err) and len(err.rule) > 5


def test_large_block_fast_path_fixes_only_rows_with_blanks():
    rng = np.random.default_rng(0)
    values = rng.normal(100, 30, (5000, 12))
    values[17, 3] = np.nan
    got = ce.ltv_contribution(0.02, values)
    d = 1.02 ** -np.arange(1, 13)
    assert got == pytest.approx(np.nan_to_num(values) @ d, rel=1e-12)
    assert math.isfinite(got[17])
