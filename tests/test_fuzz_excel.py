"""Every CE_ function under generated Excel-like input, through both xlwings runtimes.

Three kinds of generated calls, each sent through xlwings' COM path (``call_udf`` ->
``conversion``) and its Office.js path (``custom_functions_call``) with a blank cell
as ``null`` and as ``0``:

* **valid** input: the answer must equal a plain-Python computation written out here
  (loops over customers and periods, not the core's vectorised code);
* valid input with **one bad cell** (text, a cell of spaces, TRUE where a number
  belongs, an error value, a date, a number out of the argument's range): the answer
  must be the function's readable error naming that argument;
* **anything** (blanks, spaces, text, booleans, error values, dates, Decimal, huge and
  tiny numbers, ranges of any shape): the answer must be a readable error or cells of
  the right kind (finite numbers, never a blank or inf/NaN for a number), and both
  runtimes must decide alike.

The two runtimes see different cells for the same worksheet in two ways that are
Excel's, not ours: Office.js passes a date-formatted cell as its serial number, and
(with one runtime setting) a blank cell as 0. So each Office.js answer is compared
with the COM answer for the cells as Office.js delivers them.

The default pass runs 150 examples per function (25 valid, 45 with a bad cell, 80 of
anything); ``pytest -m slow`` runs 5,500 per function (``FUZZ_SCALE`` multiplies both).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz_all import officejs_view
from xlwings_harness import OMITTED, CellError, Cells, ComRuntime, OfficeJsRuntime, grid

M = "customer_equity.excel.functions"
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))
TYPES = ("Lighthouse", "Follower", "Rational", "Profit-seeking")
TIERS = ("Platinum", "Gold", "Iron", "Lead")
KINDS = ("PV", "PPV", "CV", "KV", "TV")
CAPS = {  # the paper's capability table, written out again
    "Lighthouse": {"PV", "PPV", "CV", "KV", "TV", "Iv"},
    "Follower": {"PV", "PPV", "CV", "TV", "Iv"},
    "Rational": {"PV", "PPV", "CV", "Iv"},
    "Profit-seeking": {"PV", "Iv"},
}


def _examples(default, slow):
    return lambda marker: max(1, int((slow if marker else default) * SCALE))


# --------------------------------------------------------------------------------------
# Runtimes
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runtimes():
    with ComRuntime() as com, OfficeJsRuntime() as ojs:
        yield com, ojs


def com_outcome(com, func, args):
    shown = com.call_cell(M, func, *args)
    if isinstance(shown, str) and shown.startswith("#VALUE! "):
        return ("error", shown[len("#VALUE! "):])
    if isinstance(shown, str) and func not in TEXT_RESULTS:
        return ("crash", shown)
    return ("value", grid(shown))


def ojs_outcome(ojs, func, args, empty_cell):
    ojs.empty_cell = empty_cell
    shown = ojs.call_cell(M, func, *args)
    if isinstance(shown, CellError):
        if shown.message and shown.message.startswith(func.upper() + ": "):
            return ("error", shown.message)
        return ("crash", shown.message)
    return ("value", grid(shown))


TEXT_RESULTS = {"ce_segment", "ce_segment_stage", "ce_tier", "ce_version"}


def close(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
    return a == b


def same_grid(got, want):
    return (len(got) == len(want) and all(len(g) == len(w) for g, w in zip(got, want))
            and all(close(g, w) for gr, wr in zip(got, want) for g, w in zip(gr, wr)))


def check_cells(func, cells):
    """A value result holds cells of the right kind: never a blank, inf or NaN for a number."""
    number = (int, float)
    if func in ("ce_segment", "ce_segment_stage"):
        assert all(c in TYPES for row in cells for c in row), cells
    elif func == "ce_tier":
        assert all(c in TIERS for row in cells for c in row), cells
    elif func == "ce_capabilities":
        assert all(isinstance(c, bool) for row in cells for c in row), cells
    elif func in ("ce_equity_table", "ce_composition", "ce_excluded"):
        header, body = cells[0], cells[1:]
        assert all(isinstance(h, str) for h in header)
        for r in body:
            first = 0 if func == "ce_excluded" else 1
            for k, c in enumerate(r[first:], start=first):
                if c == "" and func == "ce_equity_table":
                    assert header[k] in ("Share", "Average"), cells  # undefined: no customers
                    continue
                assert isinstance(c, number) and not isinstance(c, bool) and math.isfinite(c), cells
    elif func == "ce_version":
        pass
    else:
        for row in cells:
            for c in row:
                assert isinstance(c, number) and not isinstance(c, bool), (func, cells)
                assert math.isfinite(c), (func, cells)


def run_both(runtimes, func, args, empties=(None, 0)):
    """The outcome on COM and on Office.js (blank = null and/or blank = 0), checked for
    crashes, cell kinds and agreement between the runtimes; returns the COM outcome."""
    com, ojs = runtimes
    outcome = com_outcome(com, func, args)
    assert outcome[0] != "crash", (func, args, outcome)
    if outcome[0] == "value":
        check_cells(func, outcome[1])
    for empty in empties:
        seen = officejs_view(args, empty)
        same = com_outcome(com, func, seen) if seen is not args else outcome
        got = ojs_outcome(ojs, func, args, empty)
        assert got[0] != "crash", (func, args, empty, got)
        assert got[0] == same[0], (func, args, empty, got, same)
        if got[0] == "value":
            check_cells(func, got[1])
            assert same_grid(got[1], same[1]), (func, args, empty, got, same)
        else:
            assert got[1] == same[1], (func, args, empty, got, same)
    return outcome


# --------------------------------------------------------------------------------------
# Valid input and its plain-Python answer
# --------------------------------------------------------------------------------------


def col(values):
    return Cells([[v] for v in values])


def d(rate, t, begin):
    return (1.0 + rate) ** -(t - begin)


money = st.integers(-50_000, 50_000).map(lambda c: c / 100)
amount = st.integers(0, 500_000).map(lambda c: c / 100)
fraction = st.integers(0, 1000).map(lambda c: c / 1000)
rate_st = st.integers(-50, 100).map(lambda c: c / 100)
timing_st = st.sampled_from([OMITTED, "end", "begin", "END", " Begin "])
INFLUENCE_ST = st.integers(-1000, 1000).map(lambda c: c / 1000)
WEIGHT_ST = st.integers(-100, 100).map(lambda c: c / 100)
DM_ST = st.integers(0, 6)


def begin_of(timing):
    return 1 if isinstance(timing, str) and timing.strip().lower() == "begin" else 0


def num(v):
    return 0.0 if v is None else float(v)


_MAYBE_BLANK = {}


def maybe_blank(values):
    """The values, or a blank cell now and then (strategies built once: drawing is the cost)."""
    if id(values) not in _MAYBE_BLANK:
        _MAYBE_BLANK[id(values)] = st.one_of(values, values, values, st.none())
    return _MAYBE_BLANK[id(values)]


def block_of(values, n, w):
    """An n x w block of cells in one draw."""
    return st.lists(st.lists(values, min_size=w, max_size=w), min_size=n, max_size=n)


def pv_of_rows(rows, rate, periods, begin):
    """Present value of each row: a one-cell row repeats for ``periods``; a block counts
    its first ``periods`` cells (all when no periods are given)."""
    out = []
    for n, row in enumerate(rows):
        p = periods[n] if periods is not None else (1 if len(row) == 1 else len(row))
        if len(row) == 1:
            out.append(sum(num(row[0]) * d(rate, t, begin) for t in range(1, int(p) + 1)))
        else:
            out.append(sum(num(row[t - 1]) * d(rate, t, begin) for t in range(1, min(int(p), len(row)) + 1)))
    return out


def draw_shape(draw):
    return draw(st.integers(1, 4)), draw(st.integers(1, 3))


@st.composite
def valid_pv(draw):
    n = draw(st.integers(1, 4))
    cap = draw(st.lists(maybe_blank(amount), min_size=n, max_size=n))
    share = draw(st.one_of(fraction, st.lists(fraction, min_size=n, max_size=n)))
    margin = draw(st.one_of(money.map(lambda m: m / 500), st.lists(money.map(lambda m: m / 500), min_size=n, max_size=n)))
    s = share if isinstance(share, list) else [share] * n
    m = margin if isinstance(margin, list) else [margin] * n
    args = [col(cap), col(share) if isinstance(share, list) else share, col(margin) if isinstance(margin, list) else margin]
    return args, [[num(cap[k]) * s[k] * m[k]] for k in range(n)]


@st.composite
def valid_ppv(draw):
    n = draw(st.integers(1, 4))
    infl = draw(st.lists(INFLUENCE_ST, min_size=n, max_size=n))
    reach = draw(st.one_of(st.integers(0, 50), st.lists(st.integers(0, 50), min_size=n, max_size=n)))
    avg = draw(money)
    r = reach if isinstance(reach, list) else [reach] * n
    return ([col(infl), col(reach) if isinstance(reach, list) else reach, avg],
            [[infl[k] * r[k] * avg] for k in range(n)])


CARRIER_WORDS = [(True, True), (False, False), (1, True), (0, False), ("yes", True), ("x", True),
                 (None, False), ("no", False), ("Lighthouse", True), ("Follower", True),
                 ("Rational", False), ("Profit-seeking", False), ("是", True), ("否", False),
                 ("TRUE", True), ("false", False)]


@st.composite
def valid_tv_allocate(draw):
    n, w = draw_shape(draw)
    income = draw(st.lists(amount, min_size=w, max_size=w))
    words = draw(st.lists(st.sampled_from(CARRIER_WORDS), min_size=n, max_size=n))
    words[0] = draw(st.sampled_from([c for c in CARRIER_WORDS if c[1]]))  # someone carries it
    count = sum(flag for _, flag in words)
    want = [[income[t] / count if flag else 0.0 for t in range(w)] for _, flag in words]
    return [Cells([income]), col([c for c, _ in words])], want


@st.composite
def periods_arg(draw, n, required=False, top=4):
    if not required and draw(st.booleans()):
        return OMITTED, None
    p = draw(st.lists(st.integers(0, top), min_size=n, max_size=n))
    if draw(st.booleans()):
        return p[0], [p[0]] * n
    return col(p), p


@st.composite
def valid_ltv(draw):
    n, w = draw_shape(draw)
    rate = draw(rate_st)
    rows = draw(block_of(maybe_blank(money), n, w))
    parg, p = draw(periods_arg(n))
    timing = draw(timing_st)
    return [rate, Cells(rows), parg, timing], [[v] for v in pv_of_rows(rows, rate, p, begin_of(timing))]


@st.composite
def valid_ltv_sow(draw):
    n, w = draw_shape(draw)
    rate, share, margin = draw(rate_st), draw(fraction), draw(money) / 500
    cap = draw(block_of(maybe_blank(amount), n, w))
    parg, p = draw(periods_arg(n))
    timing = draw(timing_st)
    flows = [[num(c) * share * margin for c in row] for row in cap]
    return ([rate, Cells(cap), share, margin, parg, timing],
            [[v] for v in pv_of_rows(flows, rate, p, begin_of(timing))])


@st.composite
def valid_ltv_indirect(draw):
    n, w = draw_shape(draw)
    rate, share, margin = draw(rate_st), draw(fraction), draw(money) / 500
    indirect = draw(st.integers(0, 200).map(lambda c: c / 100))
    size = draw(block_of(maybe_blank(amount), n, w))
    parg, p = draw(periods_arg(n))
    timing = draw(timing_st)
    flows = [[num(c) * share * margin * indirect for c in row] for row in size]
    return ([rate, Cells(size), share, margin, indirect, parg, timing],
            [[v] for v in pv_of_rows(flows, rate, p, begin_of(timing))])


def retention_value(m, r, i, T, begin, g, cost):
    """Period by period: the margin of period t, m (1+g)^(t-1), received if the customer
    survives t periods ("end", discounted t periods) or t-1 periods ("begin", t-1)."""
    total, t, survive_discount = 0.0, 1, 1.0  # survive_discount = r^k (1+i)^-k so far
    growth = 1.0
    while T is None or t <= T:
        k_factor = r / (1 + i)
        term = m * growth * (survive_discount if begin else survive_discount * k_factor)
        total += term
        survive_discount *= k_factor
        growth *= 1 + g
        if T is None and (abs(growth * survive_discount) < 1e-20 or t > 100_000):
            break
        t += 1
    return total - cost


@st.composite
def valid_ltv_retention(draw):
    m = draw(money)
    r = draw(st.one_of(st.integers(0, 95).map(lambda c: c / 100),
                       st.lists(st.integers(0, 95).map(lambda c: c / 100), min_size=2, max_size=2)))
    i = draw(st.one_of(st.integers(1, 50).map(lambda c: c / 100),
                       st.lists(st.integers(1, 50).map(lambda c: c / 100), min_size=2, max_size=2)))
    periods = draw(st.one_of(st.just(OMITTED), st.integers(0, 6)))
    timing = draw(timing_st)
    g = draw(st.one_of(st.just(OMITTED), st.integers(-50, 5).map(lambda c: c / 100)))
    cost = draw(st.one_of(st.just(OMITTED), amount))
    rs, is_ = (r if isinstance(r, list) else [r]), (i if isinstance(i, list) else [i])
    want = [[retention_value(m, rr, ii, None if periods is OMITTED else periods, begin_of(timing),
                             0.0 if g is OMITTED else g, 0.0 if cost is OMITTED else cost)
             for rr in rs] for ii in is_]
    args = [m, Cells([rs]) if isinstance(r, list) else r, col(is_) if isinstance(i, list) else i,
            periods, timing, g, cost]
    return args, want


@st.composite
def five_values(draw, n):
    """pv..tv each 0, a column or a block (its own width), and iv."""
    comps = []
    for _ in KINDS:
        shape = draw(st.sampled_from(["zero", "column", "block"]))
        if shape == "zero":
            comps.append((0, [[0.0]] * n))
        else:
            w = 1 if shape == "column" else draw(st.integers(2, 3))
            rows = draw(block_of(maybe_blank(money), n, w))
            comps.append((Cells(rows), rows))
    iv = draw(st.one_of(st.just(OMITTED), money, st.lists(money, min_size=n, max_size=n)))
    iv_rows = [0.0] * n if iv is OMITTED else (iv if isinstance(iv, list) else [iv] * n)
    iv_arg = col(iv) if isinstance(iv, list) else iv
    return comps, iv_arg, iv_rows


def kind_values(comps, rate, p, begin):
    return {k: pv_of_rows(rows, rate, p, begin) for k, (_, rows) in zip(KINDS, comps)}


@st.composite
def valid_ltv_values(draw):
    n = draw(st.integers(1, 4))
    rate = draw(rate_st)
    parg, p = draw(periods_arg(n, required=True))
    comps, iv_arg, iv_rows = draw(five_values(n))
    timing = draw(timing_st)
    values = kind_values(comps, rate, p, begin_of(timing))
    want = [[sum(values[k][c] for k in KINDS) + iv_rows[c]] for c in range(n)]
    args = [rate, parg] + [a for a, _ in comps] + [iv_arg, timing]
    if not any(isinstance(a, Cells) for a in args):
        want = want[:1]  # every argument one value: one customer, one answer
    return args, want


types_st = st.sampled_from(TYPES + ("lighthouse", "profit seeking", "理性顾客", "跟隨", "灯塔"))


def canonical_type(label):
    return {"lighthouse": "Lighthouse", "profit seeking": "Profit-seeking", "理性顾客": "Rational",
            "跟隨": "Follower", "灯塔": "Lighthouse"}.get(label, label)


@st.composite
def valid_ltv_type(draw):
    n = draw(st.integers(1, 4))
    types = draw(st.lists(types_st, min_size=n, max_size=n))
    rate = draw(rate_st)
    parg, p = draw(periods_arg(n, required=True))
    comps, iv_arg, iv_rows = draw(five_values(n))
    timing = draw(timing_st)
    values = kind_values(comps, rate, p, begin_of(timing))
    want = [[sum(values[k][c] for k in KINDS if k in CAPS[canonical_type(types[c])]) + iv_rows[c]]
            for c in range(n)]
    return [col(types), rate, parg] + [a for a, _ in comps] + [iv_arg, timing], want


@st.composite
def valid_excluded(draw):
    n = draw(st.integers(1, 4))
    types = draw(st.lists(types_st, min_size=n, max_size=n))
    comps, _, _ = draw(five_values(n))
    counts = [sum(1 for c in range(n) for v in rows[c] if num(v) != 0 and k not in CAPS[canonical_type(types[c])])
              for k, (_, rows) in zip(KINDS, comps)]
    return [col(types)] + [a for a, _ in comps], [list(KINDS), counts]


@st.composite
def valid_composition(draw):
    n = draw(st.integers(1, 4))
    types = draw(st.lists(types_st, min_size=n, max_size=n))
    rate = draw(rate_st)
    parg, p = draw(periods_arg(n, required=True))
    comps, iv_arg, iv_rows = draw(five_values(n))
    timing = draw(timing_st)
    values = kind_values(comps, rate, p, begin_of(timing))
    values["Iv"] = iv_rows
    body = []
    for k in KINDS + ("Iv",):
        row = [sum(values[k][c] for c in range(n) if canonical_type(types[c]) == t and k in CAPS[t])
               for t in TYPES]
        body.append([k] + row + [sum(row)])
    totals = [sum(r[j] for r in body) for j in range(1, 6)]
    want = [["Value kind", *TYPES, "Total"]] + body + [["Total"] + totals]
    return [col(types), rate, parg] + [a for a, _ in comps] + [iv_arg, timing], want


@st.composite
def valid_capabilities(draw):
    types = draw(st.lists(types_st, min_size=1, max_size=4))
    want = [[k in CAPS[canonical_type(t)] for k in KINDS + ("Iv",)] for t in types]
    return [types[0] if len(types) == 1 and draw(st.booleans()) else col(types)], want


@st.composite
def valid_score(draw):
    n, k = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    ind = draw(block_of(st.integers(1, 5), n, k))
    w = draw(st.lists(WEIGHT_ST, min_size=k, max_size=k))
    if n == 1 and k == 1 and draw(st.booleans()):
        args = [ind[0][0], w[0]]  # =CE_SCORE(5, 0.5)
    else:
        args = [Cells(ind), Cells([w]) if draw(st.booleans()) else col(w)]
    return args, [[sum(a * b for a, b in zip(row, w))] for row in ind]


def band(score, cutoffs):
    for code, c in enumerate(cutoffs):
        if score >= c:
            return TYPES[code]
    return TYPES[3]


@st.composite
def valid_segment(draw):
    scores = draw(st.lists(st.integers(0, 600).map(lambda c: c / 100), min_size=1, max_size=4))
    cut = draw(st.one_of(st.just(None), st.lists(st.integers(0, 600).map(lambda c: c / 100),
                                                 min_size=3, max_size=3).map(lambda c: sorted(c, reverse=True))))
    args = [col(scores)] + ([] if cut is None else [Cells([cut])])
    return args, [[band(s, cut or (4.0, 3.0, 2.0))] for s in scores]


STAGE_WORDS = [("introduction", 0), ("growth", 1), ("maturity", 2), ("decline", 3), ("late maturity", 3),
               (1, 0), (2, 1), (3, 2), (4, 3), ("产品介绍期", 0), ("产品成长期", 1), ("产品成熟期", 2),
               ("成熟后期或衰退期", 3), ("導入期", 0), ("成長期", 1), ("成熟後期或衰退期", 3), ("Growth stage", 1)]


@st.composite
def valid_segment_stage(draw):
    words = draw(st.lists(st.sampled_from(STAGE_WORDS), min_size=1, max_size=5))
    return [col([w for w, _ in words])], [[TYPES[c]] for _, c in words]


def mid_rank_tier(values, k):
    below = sum(1 for v in values if v < values[k])
    tied = sum(1 for v in values if v == values[k])
    p = (below + tied / 2) / len(values)
    # compared in whole numbers of twentieths (0.95 = 19/20 ...) to avoid rounding at a bound
    twentieths = (2 * below + tied) * 10
    if twentieths >= 19 * len(values):
        return "Platinum"
    if twentieths >= 16 * len(values):
        return "Gold"
    if twentieths >= 10 * len(values):
        return "Iron"
    assert p < 0.5
    return "Lead"


@st.composite
def valid_tier(draw):
    pool = draw(st.lists(money, min_size=1, max_size=4))
    values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=25))
    if draw(st.booleans()):
        cut = sorted(draw(st.lists(money, min_size=3, max_size=3)), reverse=True)
        want = [[next((t for t, c in zip(TIERS, cut) if v >= c), "Lead")] for v in values]
        return [col(values), Cells([cut])], want
    return [col(values)], [[mid_rank_tier(values, k)] for k in range(len(values))]


@st.composite
def valid_equity(draw):
    types = draw(st.lists(types_st, min_size=1, max_size=5))
    ltv = draw(st.lists(money, min_size=len(types), max_size=len(types)))
    return [col(types), col(ltv)], [[sum(ltv)]]


@st.composite
def valid_equity_table(draw):
    types = draw(st.lists(types_st, min_size=1, max_size=6))
    ltv = draw(st.lists(money, min_size=len(types), max_size=len(types)))
    total = sum(ltv) if sum(round(v * 100) for v in ltv) else 0  # in cents: 6.19 - 6.19 is 0
    rows = [["Type", "Customers", "Equity", "Share", "Average"]]
    for t in TYPES + ("Total",):
        vals = [v for c, v in zip(types, ltv) if t == "Total" or canonical_type(c) == t]
        eq = sum(vals)
        rows.append([t, len(vals), eq, eq / total if total != 0 else "", eq / len(vals) if vals else ""])
    return [col(types), col(ltv)], rows


@st.composite
def valid_links(draw):
    n = draw(st.integers(1, 4))
    dm = draw(st.lists(maybe_blank(DM_ST), min_size=n, max_size=n))
    words = [(True, 1), (False, 0), (1, 1), (0, 0), ("yes", 1), ("x", 1), (None, 0), ("否", 0)]
    ex = draw(st.lists(st.sampled_from(words), min_size=n, max_size=n))
    ep = draw(st.lists(st.sampled_from(words), min_size=n, max_size=n))
    want = [[int(num(dm[k]) >= 3) + ex[k][1] + ep[k][1]] for k in range(n)]
    return [col(dm), col([w for w, _ in ex]), col([w for w, _ in ep])], want


@st.composite
def valid_rate(draw):
    y = draw(st.integers(-50, 100).map(lambda c: c / 100))
    k = draw(st.integers(1, 12))
    return [y, k], [[(1 + y) ** (1 / k) - 1]]


# (valid strategy, {argument position: kind of cell it holds})
MONEY, AMOUNT, SHARE, RATE, PERIODS, TIMING, LABEL, FLAG, INFLUENCE, WHOLE, POSITIVE = (
    "money", "amount", "share", "rate", "periods", "timing", "label", "flag", "influence", "whole",
    "positive")
FIVE = {3: MONEY, 4: MONEY, 5: MONEY, 6: MONEY, 7: MONEY, 8: MONEY, 9: TIMING}
SPECS = {
    "ce_pv": (valid_pv, {0: AMOUNT, 1: SHARE, 2: MONEY}),
    "ce_ppv": (valid_ppv, {0: INFLUENCE, 1: AMOUNT, 2: MONEY}),
    "ce_tv_allocate": (valid_tv_allocate, {0: MONEY, 1: FLAG}),
    "ce_ltv": (valid_ltv, {0: RATE, 1: MONEY, 2: PERIODS, 3: TIMING}),
    "ce_ltv_sow": (valid_ltv_sow, {0: RATE, 1: AMOUNT, 2: SHARE, 3: MONEY, 4: PERIODS, 5: TIMING}),
    "ce_ltv_indirect": (valid_ltv_indirect, {0: RATE, 1: AMOUNT, 2: SHARE, 3: MONEY, 4: AMOUNT,
                                             5: PERIODS, 6: TIMING}),
    "ce_ltv_retention": (valid_ltv_retention, {0: MONEY, 1: SHARE, 2: RATE, 3: PERIODS, 4: TIMING,
                                               6: AMOUNT}),
    "ce_ltv_values": (valid_ltv_values, {0: RATE, 1: PERIODS, 2: MONEY, **{k - 1: v for k, v in FIVE.items()}}),
    "ce_ltv_type": (valid_ltv_type, {0: LABEL, 1: RATE, 2: PERIODS, **FIVE}),
    "ce_excluded": (valid_excluded, {0: LABEL, 1: MONEY, 2: MONEY, 3: MONEY, 4: MONEY, 5: MONEY}),
    "ce_capabilities": (valid_capabilities, {0: LABEL}),
    "ce_score": (valid_score, {0: MONEY, 1: MONEY}),
    "ce_segment": (valid_segment, {0: MONEY}),
    "ce_segment_stage": (valid_segment_stage, {0: LABEL}),
    "ce_tier": (valid_tier, {0: MONEY, 1: MONEY}),
    "ce_equity": (valid_equity, {0: LABEL, 1: MONEY}),
    "ce_equity_table": (valid_equity_table, {0: LABEL, 1: MONEY}),
    "ce_composition": (valid_composition, {0: LABEL, 1: RATE, 2: PERIODS, **FIVE}),
    "ce_links": (valid_links, {0: WHOLE, 1: FLAG, 2: FLAG}),
    "ce_rate": (valid_rate, {0: RATE, 1: POSITIVE}),
}
ARG_NAMES = {
    "ce_pv": ["capacity", "share", "margin"], "ce_ppv": ["influence", "reach", "avg_value"],
    "ce_tv_allocate": ["income", "carriers"], "ce_ltv": ["rate", "values", "periods", "timing"],
    "ce_ltv_sow": ["rate", "capacity", "share", "margin", "periods", "timing"],
    "ce_ltv_indirect": ["rate", "market_size", "share", "margin", "indirect", "periods", "timing"],
    "ce_ltv_retention": ["margin", "retention", "rate", "periods", "timing", "growth", "acquisition_cost"],
    "ce_ltv_values": ["rate", "periods", "pv", "ppv", "cv", "kv", "tv", "iv", "timing"],
    "ce_ltv_type": ["types", "rate", "periods", "pv", "ppv", "cv", "kv", "tv", "iv", "timing"],
    "ce_excluded": ["types", "pv", "ppv", "cv", "kv", "tv"], "ce_capabilities": ["type"],
    "ce_score": ["indicators", "weights"], "ce_segment": ["score", "cutoffs"],
    "ce_segment_stage": ["stage"], "ce_tier": ["ltv", "cutoffs"], "ce_equity": ["types", "ltv"],
    "ce_equity_table": ["types", "ltv"],
    "ce_composition": ["types", "rate", "periods", "pv", "ppv", "cv", "kv", "tv", "iv", "timing"],
    "ce_links": ["decision_makers", "executive_link", "expert_link"],
    "ce_rate": ["yearly_rate", "periods_per_year"],
}

# Cells that are wrong for every argument of a kind (a date only on COM: Office.js sees a number)
# a date where a number belongs is its serial number on both paths (issue 20), as Excel reads it
_NOT_A_NUMBER = ["abc", "   ", "12%", "n/a", "-", True, CellError("#N/A"), CellError("#DIV/0!")]
BAD = {
    MONEY: _NOT_A_NUMBER,
    AMOUNT: _NOT_A_NUMBER + [-5.0],
    SHARE: _NOT_A_NUMBER + [1.5, -0.1],
    INFLUENCE: _NOT_A_NUMBER + [5.0, -1.5],
    RATE: _NOT_A_NUMBER + [-1.0, -3.0],
    PERIODS: _NOT_A_NUMBER + [2.5, -1.0],
    WHOLE: _NOT_A_NUMBER + [2.5, -1.0],
    POSITIVE: _NOT_A_NUMBER + [0.0, -2.0],
    TIMING: ["abc", True, 2.0, CellError("#N/A"), dt.datetime(2024, 1, 2)],
    LABEL: ["abc", "   ", True, 7.0, CellError("#N/A"), dt.datetime(2024, 1, 2)],
    FLAG: ["abc", "   ", 2.0, 0.5, CellError("#N/A"), dt.datetime(2024, 1, 2)],
}

FUNCS = sorted(SPECS)


def test_every_function_is_fuzzed():
    import inspect

    import customer_equity.excel.functions as excel

    exposed = {n for n, f in inspect.getmembers(excel, inspect.isfunction)
               if n.startswith("ce_") and f.__module__ == excel.__name__}
    from test_decisions_excel import CATALOGUE as DECISIONS  # fuzzed in test_decisions_excel.py
    from test_forecast_excel import CATALOGUE as FORECASTING  # fuzzed in test_forecast_excel.py
    from test_forecast_models_excel import CATALOGUE as MODELS  # in test_forecast_models_excel.py

    assert exposed - set(SPECS) - set(FORECASTING) - set(DECISIONS) - set(MODELS) == {"ce_version"}
    for func, names in ARG_NAMES.items():
        assert list(inspect.signature(getattr(excel, func)).parameters) == names


SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                database=None)


def _blank_as(data):
    """One of Office.js' two conventions for a blank cell per example (each is half the runs)."""
    return (data.draw(st.sampled_from([None, 0]), label="Office.js blank"),)


def _valid(runtimes, func, data):
    strategy, _ = SPECS[func]
    args, want = data.draw(strategy())
    outcome = run_both(runtimes, func, args, _blank_as(data))
    assert outcome[0] == "value", (func, args, outcome)
    assert same_grid(outcome[1], want), (func, args, outcome[1], want)


def _one_bad_cell(runtimes, func, data):
    strategy, kinds = SPECS[func]
    args, _ = data.draw(strategy())
    present = [k for k in kinds if k < len(args) and args[k] is not OMITTED]
    k = data.draw(st.sampled_from(present))
    bad = data.draw(st.sampled_from(BAD[kinds[k]]))
    arg = args[k]
    if isinstance(arg, Cells):
        r = data.draw(st.integers(0, arg.shape[0] - 1))
        c = data.draw(st.integers(0, arg.shape[1] - 1))
        values = [list(row) for row in arg.values]
        values[r][c] = bad
        args[k] = Cells(values)
    else:
        args[k] = Cells([[bad]]) if isinstance(bad, (dt.datetime, CellError)) else bad
    # Office.js decides as COM does on the cells it sees (a date is a number there)
    shown = run_both(runtimes, func, args, _blank_as(data))
    name = ARG_NAMES[func][k]
    assert shown[0] == "error", (func, args, shown)
    assert re.match(rf"{func.upper()}: {name}[,:]", shown[1]), (func, name, args, shown)
    assert "np.str_" not in shown[1] and "datetime.datetime" not in shown[1], shown


WILD = st.sampled_from([
    None, None, "", "   ", "abc", "12%", True, False, 0, 1, -1, 2.5, 0.5, 3, 100.0, -0.9999999,
    1e300, -1e300, 1e-300, 5e-324, 1.7e308, decimal.Decimal("12.5"), dt.datetime(2024, 1, 2),
    CellError("#N/A"), CellError("#VALUE!"), "Lighthouse", "growth", "yes", "end", "begin", "x",
    "产品介绍期", 4,
])


@st.composite
def wild_args(draw, func):
    names = ARG_NAMES[func]
    args = []
    for _ in names:
        kind = draw(st.sampled_from(["omitted", "scalar", "range", "range"]))
        if kind == "omitted":
            args.append(OMITTED)
        elif kind == "scalar":
            v = draw(WILD)
            args.append(Cells([[v]]) if isinstance(v, (dt.datetime, decimal.Decimal, CellError)) else v)
        else:
            rows, cols = draw(st.integers(1, 3)), draw(st.integers(1, 3))
            args.append(Cells(draw(block_of(WILD, rows, cols))))
    return args


def _anything(runtimes, func, data):
    args = data.draw(wild_args(func))
    com, _ = runtimes
    # required arguments cannot be left out of a formula: Excel refuses it before any call
    declared = com.module(M).__dict__[func].__xlfunc__["args"]
    for k, a in enumerate(declared):
        if args[k] is OMITTED and "optional" not in a:
            args[k] = Cells([[None]])
    run_both(runtimes, func, args, _blank_as(data))


VALID_N, BAD_N, WILD_N = _examples(25, 1000), _examples(45, 1500), _examples(80, 3000)


def _fuzz(test, count):
    @pytest.mark.parametrize("func", FUNCS)
    @settings(max_examples=count(False), **SETTINGS)
    @given(data=st.data())
    def default(runtimes, func, data):
        test(runtimes, func, data)

    @pytest.mark.slow
    @pytest.mark.parametrize("func", FUNCS)
    @settings(max_examples=count(True), **SETTINGS)
    @given(data=st.data())
    def slow(runtimes, func, data):
        test(runtimes, func, data)

    return default, slow


test_valid_input_gives_the_plain_python_answer, test_valid_input_many = _fuzz(_valid, VALID_N)
test_one_bad_cell_is_refused_naming_its_argument, test_one_bad_cell_many = _fuzz(_one_bad_cell, BAD_N)
test_any_input_is_an_answer_or_a_readable_error_alike_on_both_runtimes, test_any_input_many = \
    _fuzz(_anything, WILD_N)
