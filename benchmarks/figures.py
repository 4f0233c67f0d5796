"""Benchmark figures into the docs, exactly as a benchmark printed them.

A benchmark prints each table it wants quoted between two marker lines,

    <!-- figures: bench_forecast/lifetimes -->
    | customers | step | ours | lifetimes | lifetimes / ours |
    ...
    <!-- /figures -->

and, with ``--save FILE``, keeps everything it printed in FILE (the committed results are in
``benchmarks/results/``). A page of ``docs/`` quotes a table by holding the same two marker
lines; ``python benchmarks/figures.py`` replaces what is between them with the block of the
saved output, so that the docs never claim a figure the benchmark did not print
(``tests/test_benchmark_figures.py`` checks that they agree).

    python benchmarks/bench_forecast.py --save benchmarks/results/bench_forecast.md
    python benchmarks/figures.py            # paste every saved block into docs/*.md
"""

from __future__ import annotations

import contextlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PAGES = ROOT / "docs"
BLOCK = re.compile(r"^<!-- figures: (?P<name>[\w./-]+) -->\n(?P<body>.*?)^<!-- /figures -->$",
                   re.MULTILINE | re.DOTALL)


class Output:
    """Print to the terminal and keep a copy for ``--save``."""

    def __init__(self, benchmark: str):
        self.benchmark = benchmark
        self.lines: list[str] = []

    def __call__(self, *parts, sep=" ", end="\n"):
        text = sep.join(str(p) for p in parts) + end
        sys.stdout.write(text)
        sys.stdout.flush()
        self.lines.append(text)

    @contextlib.contextmanager
    def block(self, name: str):
        """A table the docs may quote: printed between the two marker lines."""
        self(f"<!-- figures: {self.benchmark}/{name} -->")
        yield
        self("<!-- /figures -->")

    def save(self, path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text("".join(self.lines), encoding="utf-8")


def blocks(text: str) -> dict:
    """The marked blocks of a text: name -> the lines between the markers."""
    return {m["name"]: m["body"] for m in BLOCK.finditer(text)}


def saved_blocks(folder: Path = RESULTS) -> dict:
    """Every block of every saved benchmark output."""
    found = {}
    for path in sorted(Path(folder).glob("*.md")):
        found.update(blocks(path.read_text(encoding="utf-8")))
    return found


def paste(text: str, printed: dict) -> tuple[str, list]:
    """``text`` with each marked block replaced by the printed one; and the names it
    quotes that no benchmark printed."""
    missing = []

    def one(m):
        if m["name"] not in printed:
            missing.append(m["name"])
            return m[0]
        return f"<!-- figures: {m['name']} -->\n{printed[m['name']]}<!-- /figures -->"

    return BLOCK.sub(one, text), missing


def main(argv=None) -> int:
    printed = saved_blocks()
    status = 0
    for page in sorted(PAGES.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        new, missing = paste(text, printed)
        for name in missing:
            print(f"{page.relative_to(ROOT)}: no saved benchmark printed {name!r}", file=sys.stderr)
            status = 1
        if new != text:
            page.write_text(new, encoding="utf-8")
            print(f"{page.relative_to(ROOT)}: figures pasted")
    return status


if __name__ == "__main__":
    sys.exit(main())
