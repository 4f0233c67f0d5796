"""The command line as users meet it: ``customer_equity.cli.main([...])``, the installed
``customer-equity`` script and ``python -m customer_equity``; never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from customer_equity.excel import addin
from customer_equity.cli import COMMANDS, build_parser, main

REPO = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "customer-equity"


def run(argv, capsys):
    """``main(argv)``: (exit code, stdout, stderr), failing on any traceback."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, out + err
    return code, out, err


def subcommands(parser=None, prefix=()):
    """Every command path of the parser: ("measure",), ("addin", "build"), ..."""
    import argparse

    parser = parser or build_parser()
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((*prefix, name))
                found.extend(subcommands(sub, (*prefix, name)))
    return found


ALL = subcommands()


def test_every_registered_command_is_found():
    top = [path for path in ALL if len(path) == 1]
    assert len(top) == len(COMMANDS)  # one _add_<name> function per command
    assert {("measure",), ("forecast",), ("whatif",), ("retention",), ("prospects",),
            ("templates",), ("addin",), ("addin", "build"),
            ("addin", "install"), ("addin", "remove"), ("addin", "status")} <= set(ALL)


@pytest.mark.parametrize("path", [(), *ALL], ids=lambda p: " ".join(p) or "top")
def test_help_of_every_command(path, capsys):
    code, out, err = run([*path, "--help"], capsys)
    assert code == 0 and err == ""
    assert out.startswith("usage: customer-equity" + "".join(" " + p for p in path))


@pytest.mark.parametrize("path", [(), ("addin",)], ids=["top", "addin"])
def test_a_command_without_its_action_prints_its_help(path, capsys):
    code, out, err = run(path, capsys)
    assert code == 2 and out == ""
    assert err.startswith("usage: customer-equity")
    assert "customer-equity: error: " in err
    if path:
        for action in ("build", "install", "remove", "status"):
            assert action in err


@pytest.mark.parametrize("argv, message", [
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["measure", "--batch-size", "0"], "must be >= 1"),
    (["measure", "--nope"], "unrecognized arguments: --nope"),
    (["addin", "build", "--functions", "vba"], "invalid choice: 'vba'"),
    (["measure", "missing.csv"], "missing.csv: no such file"),
])
def test_usage_and_input_errors_are_one_line_with_exit_2(argv, message, capsys):
    code, out, err = run(argv, capsys)
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith("customer-equity: error: ") and message in last, err


def test_version(capsys):
    from customer_equity import __version__

    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.strip() == f"customer-equity {__version__}"


# --------------------------------------------------------------------------- measure

def test_measure_without_input_prints_the_sample_summary(capsys):
    code, out, err = run(["measure"], capsys)
    assert code == 0 and err == ""
    assert "Bundled sample: 1,000" in out and "Customer equity" in out


def test_measure_with_input_and_out(tmp_path, capsys):
    from customer_equity import load_sample

    src = tmp_path / "customers.csv"
    load_sample().to_csv(src, index=False)
    out_file = tmp_path / "result.json"
    code, out, _ = run(["measure", src, "--out", out_file, "--no-progress"], capsys)
    assert code == 0 and "Measured 1,000 customers" in out
    import json

    import customer_equity as ce

    written = json.loads(out_file.read_text())  # the file holds the core's measurement
    want = ce.measure(load_sample(), ce.MeasureConfig())
    assert written["equity"] == pytest.approx(want.equity, rel=1e-12)
    assert {k: v["customers"] for k, v in written["by_type"].items()} == \
        {k: float(n) for k, n in want.by_type["customers"].items()}
    assert written["input"] == str(src)


# --------------------------------------------------------------------------- templates

def test_templates_out_dir_and_the_old_spelling(tmp_path, capsys, monkeypatch):
    written = []

    def fake_build_all(out_dir):  # the builders are the templates' own tests' business
        written.append(Path(out_dir))
        return []

    monkeypatch.setattr("customer_equity.excel.templates.build_all", fake_build_all)
    assert run(["templates", "--out-dir", tmp_path / "a"], capsys)[0] == 0
    code, _, err = run(["templates", "--out", tmp_path / "b"], capsys)
    assert code == 0 and "--out is now --out-dir" in err
    assert written == [tmp_path / "a", tmp_path / "b"]
    (tmp_path / "file").write_text("x")
    code, _, err = run(["templates", "--out-dir", tmp_path / "file"], capsys)
    assert code == 2 and "is a file; --out-dir names a folder" in err


def test_templates_writes_the_workbooks(tmp_path, capsys):
    code, out, _ = run(["templates", "--out-dir", tmp_path], capsys)
    from customer_equity.excel.templates import TEMPLATES

    assert code == 0
    written = sorted(p.name for p in tmp_path.glob("*.xlsx"))
    assert written == sorted(name for _, name, _ in TEMPLATES)
    assert "customer-equity-measurement.xlsx" in written
    assert out.split() == [str(tmp_path / name) for _, name, _ in TEMPLATES]


# --------------------------------------------------------------------------- addin

def test_addin_build_install_status_remove(tmp_path, capsys):
    code, out, _ = run(["addin", "build", "--out-dir", tmp_path / "dist"], capsys)
    assert code == 0 and (tmp_path / "dist" / "customer_equity.xlam").is_file()
    xlstart = tmp_path / "XLSTART"
    code, out, _ = run(["addin", "status", "--xlstart", xlstart], capsys)
    assert code == 1 and "not installed" in out
    code, out, _ = run(["addin", "install", "--xlstart", xlstart, "--functions", "com"], capsys)
    assert code == 0 and (xlstart / "customer_equity.xlam").is_file()
    assert "Trust access to the VBA project object model" in out and "--functions lite" in out
    code, out, _ = run(["addin", "status", "--xlstart", xlstart], capsys)
    assert code == 0 and "Functions route: com" in out
    code, out, _ = run(["addin", "install", "--xlstart", xlstart, "--functions", "lite"], capsys)
    assert code == 0
    code, out, _ = run(["addin", "status", "--xlstart", xlstart], capsys)
    assert "Functions route: lite" in out and "Refresh only" in out
    default = "com" if sys.platform.startswith("win") else "lite"  # COM functions: Windows only
    assert run(["addin", "install", "--xlstart", xlstart], capsys)[0] == 0
    assert f"Functions route: {default}" in run(["addin", "status", "--xlstart", xlstart], capsys)[1]
    code, out, _ = run(["addin", "remove", "--xlstart", xlstart], capsys)
    assert code == 0 and not (xlstart / "customer_equity.xlam").exists()
    code, out, err = run(["addin", "remove", "--xlstart", xlstart], capsys)
    assert code == 1 and err.startswith("customer-equity: error: the add-in is not installed")


def test_addin_build_old_out_spelling_and_a_file_in_the_way(tmp_path, capsys):
    code, _, err = run(["addin", "build", "--out", tmp_path], capsys)
    assert code == 0 and (tmp_path / "customer_equity.xlam").is_file() and "--out-dir" in err
    (tmp_path / "f").write_text("x")
    code, _, err = run(["addin", "build", "--out-dir", tmp_path / "f"], capsys)
    assert code == 2 and "customer-equity: error:" in err


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="behaviour without Excel")
@pytest.mark.parametrize("action", ["install", "remove", "status"])
def test_addin_without_excel_says_so_and_writes_nothing(action, tmp_path, capsys, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["addin", action], capsys)
    assert code == 1 and out == ""
    assert err.startswith("customer-equity: error: Microsoft Excel was not found")
    assert "nothing was written" in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["home"]


# --------------------------------------------------------------------------- the doors

def _env():
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


@pytest.mark.skipif(not SCRIPT.is_file(), reason="the console script is not installed here")
def test_installed_script_runs_every_command(tmp_path):
    xlstart = tmp_path / "XLSTART"
    for argv, code in ([["--help"], 0], [["measure"], 0], [["addin"], 2],
                       [["addin", "install", "--xlstart", str(xlstart)], 0],
                       [["addin", "status", "--xlstart", str(xlstart)], 0],
                       [["measure", "nope.csv"], 2]):
        proc = subprocess.run([str(SCRIPT), *argv], capture_output=True, text=True, timeout=120,
                              cwd=tmp_path, env=_env())
        assert proc.returncode == code, (argv, proc.stderr)
        assert "Traceback" not in proc.stdout + proc.stderr, (argv, proc.stderr)
    assert (xlstart / addin.ADDIN_FILENAME).is_file()


def test_python_dash_m_is_the_same_command(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "customer_equity", "measure", "missing.csv"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env=dict(_env(), PYTHONPATH=str(REPO / "udfs")))
    assert proc.returncode == 2
    assert proc.stderr.strip() == "customer-equity: error: missing.csv: no such file"
    proc = subprocess.run([sys.executable, "-m", "customer_equity", "--help"], capture_output=True,
                          text=True, timeout=120, env=dict(_env(), PYTHONPATH=str(REPO / "udfs")))
    assert proc.returncode == 0 and proc.stdout.startswith("usage: customer-equity")


@pytest.mark.skipif(not SCRIPT.is_file(), reason="the console script is not installed here")
def test_a_reader_that_stops_early_is_no_error():
    """`customer-equity measure | head -2`: the pipe closes before the summary is printed."""
    proc = subprocess.Popen([str(SCRIPT), "measure"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert first.startswith(b"Bundled sample") and err == ""
