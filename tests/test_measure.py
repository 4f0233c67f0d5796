"""The one-call measurement against a row-by-row calculation written out here."""

import json

import numpy as np
import pandas as pd
import pytest

import customer_equity as ce
from customer_equity import CustomerEquityError, MeasureConfig

CAPS = {  # the paper's table, written out again
    "Lighthouse": {"pv", "ppv", "cv", "kv", "tv"},
    "Follower": {"pv", "ppv", "cv", "tv"},
    "Rational": {"pv", "ppv", "cv"},
    "Profit-seeking": {"pv"},
}


def row_by_row(df, types, config, tv_per_row=None):
    """A plain-Python reference: loop over customers and periods."""
    out = []
    for n, row in enumerate(df.itertuples(index=False)):
        t_type = types[n]
        total = 0.0
        for t in range(1, int(row.periods) + 1):
            d = (1 + config.rate) ** -(t - (config.timing == "begin"))
            flows = {
                "pv": row.capacity * row.share * row.margin,
                "ppv": row.influence * row.reach * row.avg_value,
                "cv": row.cv,
                "kv": row.kv,
                "tv": 0.0 if tv_per_row is None else tv_per_row(n, t),
            }
            total += sum(v for k, v in flows.items() if k in CAPS[t_type]) * d
        out.append(total + config.iv)
    return np.array(out)


def test_sample_measurement_equals_row_by_row_reference():
    df = ce.load_sample()
    config = MeasureConfig(rate=0.07, iv=30.0, classify_by="stage")
    got = ce.measure(df, config)
    types = list(ce.segment_by_stage(df["stage"]))
    assert got.customers["ltv"].to_numpy() == pytest.approx(row_by_row(df, types, config), rel=1e-10)
    assert got.equity == pytest.approx(got.customers["ltv"].sum())
    assert got.by_type.loc["Total", "equity"] == pytest.approx(got.equity)
    assert got.composition.loc["Total", "Total"] == pytest.approx(got.equity)


def test_transaction_income_allocated_over_living_carriers():
    df = pd.DataFrame({
        "type": ["Lighthouse", "Follower", "Rational", "Follower"],
        "periods": [2, 1, 3, 2], "pv": 0.0, "tv_carrier": [True, True, True, False]})
    config = MeasureConfig(rate=0.0, classify_by="type", transaction_income=[600.0, 400.0])
    got = ce.measure(df, config).customers["tv"].tolist()
    # period 1 carriers: rows 0 and 1 (rational has no TV, row 3 is not a carrier): 300 each
    # period 2 carriers: row 0 only (row 1 left after period 1): 400
    assert got == [700.0, 300.0, 0.0, 0.0]


def test_type_excluded_components_are_counted_not_silently_dropped():
    df = pd.DataFrame({"type": ["Profit-seeking", "Rational"], "periods": [1, 1],
                       "pv": [10.0, 10.0], "ppv": [5.0, 5.0], "kv": [7.0, 0.0]})
    m = ce.measure(df, MeasureConfig(rate=0.0, classify_by="type"))
    # Profit-seeking holds PPV 5 and KV 7 it does not provide; Rational's PPV counts, KV is 0
    assert m.excluded == {"ppv": 1, "kv": 1}
    assert m.customers["ltv"].tolist() == [10.0, 15.0]
    assert "1 non-zero PPV cells left out" in m.summary()


def test_blocks_and_columns_give_the_same_answer():
    df = ce.generate_customers(200, seed=5, periods_block=20)
    block = [c for c in df.columns if c.startswith("capacity_")]
    constant = df.drop(columns=block).assign(capacity=df["capacity_1"])
    flat_block = df.copy()
    for c in block:  # the same amount every period, blank after the last one
        flat_block[c] = np.where(flat_block[c].isna(), np.nan, df["capacity_1"])
    cfg = MeasureConfig()
    assert ce.measure(flat_block, cfg).equity == pytest.approx(ce.measure(constant, cfg).equity, rel=1e-12)


def test_batches_combine_exactly():
    df = ce.generate_customers(3000, seed=9)
    cfg = ce.sample_config()
    whole = ce.measure(df, cfg)
    carriers = ce.carriers_per_period(df, cfg)
    parts = [ce.measure(df.iloc[k:k + 700], cfg, carriers=carriers) for k in range(0, 3000, 700)]
    combined = ce.Measurement.combine(parts)
    assert combined.equity == pytest.approx(whole.equity, rel=1e-12)
    pd.testing.assert_frame_equal(combined.composition, whole.composition, rtol=1e-12)


@pytest.mark.parametrize("mutate,where", [
    (lambda d: d.drop(columns="periods"), "periods: column missing"),
    (lambda d: d.assign(share=d["share"].where(d.index != 4, 1.5)), "share, row 5: must lie in [0, 1]"),
    (lambda d: d.assign(reach=d["reach"].astype(object).where(d.index != 2, "many")), "reach, row 3: expected a number, got text"),
    (lambda d: d.drop(columns="income"), "income: indicator column missing"),
    (lambda d: d.assign(periods=d["periods"].where(d.index != 0, 2.5)), "periods, row 1: a number of periods must be a whole number"),
])
def test_bad_tables_name_column_row_and_rule(mutate, where):
    df = mutate(ce.generate_customers(10, seed=3))
    with pytest.raises(CustomerEquityError) as info:
        ce.measure(df, MeasureConfig())
    assert where in str(info.value)


def test_block_errors_name_the_block_column():
    df = ce.generate_customers(6, seed=4, periods_block=3)
    df.loc[3, "capacity_2"] = -5
    with pytest.raises(CustomerEquityError, match=r"capacity_2, row 4: must be >= 0"):
        ce.measure(df)


def test_config_from_toml_and_json(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text('rate = 0.05\niv = 12.5\nclassify_by = "stage"\ncutoffs = [3.5, 2.5, 1.5]\n')
    cfg = MeasureConfig.from_file(toml)
    assert (cfg.rate, cfg.iv, cfg.classify_by, cfg.cutoffs) == (0.05, 12.5, "stage", (3.5, 2.5, 1.5))
    js = tmp_path / "c.json"
    js.write_text(json.dumps(cfg.to_dict()))
    assert MeasureConfig.from_file(js) == cfg
    bad = tmp_path / "bad.toml"
    bad.write_text("rate = -2\n")
    with pytest.raises(CustomerEquityError, match=r"bad.toml: rate: a per-period rate must be a number > -1"):
        MeasureConfig.from_file(bad)
    typo = tmp_path / "typo.toml"
    typo.write_text("rat = 0.1\n")
    with pytest.raises(CustomerEquityError, match="unknown setting.*'rat'"):
        MeasureConfig.from_file(typo)


def test_sample_has_all_four_types_losses_and_complaints():
    df = ce.load_sample()
    m = ce.measure(df, ce.sample_config())
    assert (m.counts > 0).all() and len(df) == 1000
    assert (df["influence"] < 0).any()
    assert (df["margin"] < 0).any()  # loss-making purchases...
    assert (m.customers["ltv"] < 0).any()  # ...that make some customers worth less than nothing
    regenerated = ce.generate_customers(1000, 2002)
    pd.testing.assert_frame_equal(regenerated, df, check_dtype=False)
