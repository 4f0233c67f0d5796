"""The docs quote only tables a benchmark printed.

Each table of docs/*.md between ``<!-- figures: NAME -->`` and ``<!-- /figures -->`` must be
the block of that name in a saved benchmark output (benchmarks/results/*.md, kept by
``--save``), as ``benchmarks/figures.py`` pastes it.
"""

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_figures", REPO / "benchmarks" / "figures.py")
figures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(figures)

PAGES = sorted((REPO / "docs").glob("*.md"))
QUOTED = [(page.name, name, body) for page in PAGES
          for name, body in figures.blocks(page.read_text(encoding="utf-8")).items()]


def test_the_performance_pages_quote_the_benchmarks():
    quoted = {(page, name) for page, name, _ in QUOTED}
    for name in ("run", "lifetimes", "command", "horizon", "dask"):
        assert ("forecast.md", f"bench_forecast/{name}") in quoted
    assert {("batch.md", "bench_forecast/command"), ("batch.md", "bench_forecast/dask"),
            ("batch.md", "bench_batch/streaming"), ("development.md", "bench_core/core")} <= quoted


@pytest.mark.parametrize("page, name, body", QUOTED, ids=[f"{p}:{n}" for p, n, _ in QUOTED])
def test_each_quoted_table_is_what_the_benchmark_printed(page, name, body):
    printed = figures.saved_blocks()
    assert name in printed, f"{page} quotes {name!r}, which no saved benchmark output holds"
    assert body == printed[name], f"{page}: {name} differs from the printed table; run " \
                                  "python benchmarks/figures.py"


def test_paste_replaces_the_marked_blocks_only():
    text = ("intro 1.7x\n<!-- figures: b/t -->\nold | 1\n<!-- /figures -->\nafter\n"
            "<!-- figures: b/gone -->\n<!-- /figures -->\n")
    printed = figures.blocks("noise\n<!-- figures: b/t -->\n| new | 2 |\n<!-- /figures -->\n")
    pasted, missing = figures.paste(text, printed)
    assert pasted == ("intro 1.7x\n<!-- figures: b/t -->\n| new | 2 |\n<!-- /figures -->\nafter\n"
                      "<!-- figures: b/gone -->\n<!-- /figures -->\n")
    assert missing == ["b/gone"]
