"""Every ``customer-equity`` command in README.md and docs/*.md, run as written.

The commands run through ``customer_equity.cli.main`` in a folder holding the files they
name (customer tables in each format, the configuration file shown in docs/model.md). None
may print a traceback; each must succeed, except the add-in commands that need desktop Excel,
which must say so. Commands that need a machine we do not have (a Dask scheduler on another
host, a shared folder) are listed in SKIPPED with the reason.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

import customer_equity as ce
from customer_equity.cli import main

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^\s*```([\w-]*)\s*$")
NEEDS_EXCEL = {("addin", "install"), ("addin", "remove"), ("addin", "status")}
SKIPPED = {
    "tcp://": "needs a Dask scheduler on another host",
    " /shared/": "names a shared folder of another machine",
    " [--": "a usage synopsis ([--option VALUE] placeholders), not a command",
}


def code_blocks(page: Path):
    """(language, first line number, lines) of each fenced block of a Markdown page."""
    blocks, lang, start, lines = [], None, 0, []
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        m = FENCE.match(line)
        if m and lang is None:
            lang, start, lines = m.group(1), number + 1, []
        elif m:
            blocks.append((lang, start, lines))
            lang = None
        elif lang is not None:
            lines.append(line)
    return blocks


def documented_commands():
    """Every customer-equity command in a code block: (page:line, argv), continuations joined."""
    found = []
    for page in PAGES:
        for lang, start, lines in code_blocks(page):
            if lang not in ("", "bash", "sh", "shell", "console"):
                continue
            for offset, line in enumerate(lines):
                for part in line.split("&&"):
                    text = part.strip()
                    if not text.startswith("customer-equity "):
                        continue  # pip, git, python, or printed output
                    found.append((f"{page.relative_to(REPO)}:{start + offset}", text))
    return found


COMMANDS = documented_commands()


def test_the_pages_document_the_commands():
    subcommands = {shlex.split(text, comments=True)[1] for _, text in COMMANDS}
    assert {"measure", "templates", "addin"} <= subcommands


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A working folder with the files the documented commands name.

    The repository's source and data folders are linked in, so that a command naming a
    file of the repository by its relative path finds it; folders a command writes into
    (workbooks/) are not, so that no test rewrites a committed file.
    """
    where = tmp_path_factory.mktemp("docs")
    for name in ("udfs", "data"):
        if (REPO / name).is_dir():
            (where / name).symlink_to(REPO / name, target_is_directory=True)
    customers = ce.generate_customers(500, seed=3)
    customers.to_csv(where / "customers.csv", index=False)
    customers.to_parquet(where / "customers.parquet", index=False)
    customers.to_excel(where / "customers.xlsx", index=False, sheet_name="Customers")
    toml = [lines for page in PAGES for lang, _, lines in code_blocks(page) if lang == "toml"]
    assert toml, "docs/model.md shows the configuration file"
    (where / "measure.toml").write_text("\n".join(toml[0]) + "\n", encoding="utf-8")
    # docs/decisions.md: prospects (the traits of new people) and a competitor's estimate
    traits = ["income", "education", "innovativeness", "opinion_leadership", "brand_loyalty",
              "price_tolerance"]
    prospects = ce.generate_customers(40, seed=4)[["customer_id", *traits]]
    prospects.insert(0, "prospect_id", [f"P{k:03d}" for k in range(1, 41)])
    prospects.drop(columns="customer_id").to_csv(where / "prospects.csv", index=False)
    (where / "rival.json").write_text(
        '{"customers": {"Lighthouse": 80, "Follower": 120, "Rational": 200, "Profit-seeking": 100},\n'
        ' "average": {"Lighthouse": 9000, "Follower": 4500, "Rational": 1800, "Profit-seeking": 400}}\n',
        encoding="utf-8")
    # README: a transaction log for the forecast command (2024-01-01 to 2025-06-30)
    from customer_equity.model.forecast import generate_log

    generate_log(400, seed=5).to_csv(where / "transactions.csv", index=False)
    return where


@pytest.mark.parametrize("where, text", COMMANDS, ids=[w for w, _ in COMMANDS])
def test_documented_command_runs(where, text, folder, monkeypatch, capsys):
    for marker, reason in SKIPPED.items():
        if marker in text:
            pytest.skip(reason)
    argv = shlex.split(text, comments=True)[1:]
    if "--workers" in argv:  # the size of the local cluster does not change the path taken
        argv[argv.index("--workers") + 1] = str(min(2, int(argv[argv.index("--workers") + 1])))
    monkeypatch.chdir(folder)
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, f"{where}: {text}\n{err}"
    if tuple(argv[:2]) in NEEDS_EXCEL and "--xlstart" not in argv:
        assert code == 1 and "Microsoft Excel was not found" in err, f"{where}: {text}\n{err}"
    else:
        assert code == 0, f"{where}: {text}\n{err}"


# --------------------------------------------------------------------------- what the pages show

def _output_blocks():
    """(page:line, commands, shown lines) for each code block of commands followed by a plain
    block of what they print. The commands run in order; the README's run command
    (``pip install . && customer-equity measure``) counts as ``customer-equity measure``."""
    found = []
    for page in PAGES:
        blocks = code_blocks(page)
        for (lang, _, lines), (next_lang, next_start, shown) in zip(blocks, blocks[1:]):
            commands = [part.strip() for line in lines for part in line.split("&&")
                        if part.strip().startswith("customer-equity ")]
            if not commands or lang not in ("", "bash", "sh") or next_lang != "":
                continue
            if any(x.strip().startswith(("customer-equity", "=")) for x in shown):
                continue  # formulas or more commands, not printed output
            if any(marker in c for c in commands for marker in SKIPPED):
                continue
            found.append((f"{page.relative_to(REPO)}:{next_start}", commands, shown))
        for lang, start, shown in blocks:  # "the first command prints": the sample's measurement
            if lang == "" and shown and shown[0].startswith("Customer equity: ") \
                    and not any(w.endswith(f":{start}") for w, _, _ in found):
                found.append((f"{page.relative_to(REPO)}:{start}", ["customer-equity measure"], shown))
    return found


OUTPUTS = _output_blocks()
#: Lines of a shown output that differ from run to run (timings) or stand for more.
_VARYING = re.compile(r"^\.\.\.$|\d+(\.\d+)? s\b|customers/s")


def _norm(line):
    return " ".join(line.split())


def test_the_pages_show_outputs():
    assert len(OUTPUTS) >= 7  # README (measure, forecast), decisions.md (compare, what-if, ...)


@pytest.mark.parametrize("where, commands, shown", OUTPUTS, ids=[w for w, _, _ in OUTPUTS])
def test_documented_output_is_what_the_command_prints(where, commands, shown, folder, monkeypatch,
                                                      capsys):
    """Every line a page shows under a command (but '...' and timings) is a line the command
    prints today, in the same order: the pages quote the product, not an older version."""
    monkeypatch.chdir(folder)
    printed = []
    for text in commands:
        assert main(shlex.split(text, comments=True)[1:]) == 0, f"{where}: {text}"
        printed += [_norm(x) for x in capsys.readouterr().out.splitlines()]
    at = 0
    for line in shown:
        if not line.strip() or _VARYING.search(line) or line.startswith("$ "):
            continue
        want = _norm(line)
        assert want in printed[at:], f"{where}: the page shows {line.strip()!r}, not printed now"
        at = printed.index(want, at) + 1
