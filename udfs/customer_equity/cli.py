"""The ``customer-equity`` command (also ``python -m customer_equity``).

All argparse wiring lives here, with one convention: every subcommand is added by one
``_add_<name>(commands)`` function listed in :data:`COMMANDS`, which creates its parser and
sets ``handler=<function(args) -> exit code>``. A command with actions (``addin build``)
sets the handler on each action; the group itself prints its help. To add a subcommand,
write its ``_add_<name>`` function and its handler and list the function in
:data:`COMMANDS`. Handlers import the room they drive when they run.

Errors: bad input raises :class:`~customer_equity.errors.CustomerEquityError` and anything
the user must fix (Excel missing, a file in the way) raises :class:`CommandError`; both are
printed as ``customer-equity: error: ...`` on stderr with exit code 2 (1 for
:class:`CommandError` about the machine rather than the input). No traceback reaches the user
for these; a traceback is a bug.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
from pathlib import Path

from ._version import __version__
from .errors import CustomerEquityError

PROG = "customer-equity"


class CommandError(Exception):
    """Something the user must fix that is not a bad input value; ``code`` is the exit code."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    """argparse with the product's one error line (usage first, as argparse prints it)."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"{PROG}: error: {message}\n")


def _show_help(parser: argparse.ArgumentParser, what: str):
    """Handler of a command given without its action: its help on stderr, exit 2."""

    def handler(args) -> int:
        parser.print_help(sys.stderr)
        print(f"\n{PROG}: error: {what}", file=sys.stderr)
        return 2

    return handler


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _folder_option(parser, default, what, old_spelling=True):
    """``--out-dir DIR`` for a command that writes a folder (``--out`` still accepted)."""
    parser.add_argument("--out-dir", metavar="DIR", default=None,
                        help=f"folder to write {what} into (default: {default})")
    if old_spelling:
        parser.add_argument("--out", dest="out_dir_old", metavar="DIR",
                            help="old spelling of --out-dir (deprecated; still works)")
    parser.set_defaults(out_dir_default=default)


def _out_dir(args) -> Path:
    """The folder of ``--out-dir`` (or the deprecated ``--out``), refused if it is a file."""
    old = getattr(args, "out_dir_old", None)
    if old is not None:
        if args.out_dir is not None and args.out_dir != old:
            raise CommandError("give --out-dir only (--out is its old spelling)")
        print(f"{PROG}: note: --out is now --out-dir (the old spelling still works)",
              file=sys.stderr)
    folder = Path(args.out_dir or old or args.out_dir_default)
    if folder.exists() and not folder.is_dir():
        raise CustomerEquityError(str(folder), "is a file; --out-dir names a folder")
    return folder


# --------------------------------------------------------------------------- running a file job

#: Without a terminal, ``measure`` shows a progress bar only for inputs at least this large.
LONG_RUN_ROWS = 5_000_000


def _progress(choice, long_run=None):
    """The progress bars of a file job (a factory, :mod:`customer_equity.files.executors`):
    tqdm on stderr when ``--progress``; never with ``--no-progress``; by default on a
    terminal, or for a step of ``long_run`` items or more."""
    if choice is False:
        return None

    def bars(total, desc, unit):
        tty = sys.stderr.isatty()
        if choice is None and not (tty or (long_run and total is not None and total >= long_run)):
            return contextlib.nullcontext(None)
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, file=sys.stderr,
                    delay=0.5 if tty else 0, mininterval=0.2 if tty else 30, leave=False)

    return bars


def _dask_address(dask, workers, input=None):
    """``(dask, input)`` from ``--dask [ADDRESS]`` and ``--workers``: "local", an address or
    None; ``measure --dask customers.csv`` (the option took the input) is a local cluster."""
    import re

    if dask and dask != "local" and not ("://" in dask
                                         or re.fullmatch(r"[\w.\-\[\]:]+:[0-9]+", dask)):
        if input is None:
            return "local", dask
        raise CustomerEquityError("--dask", "expected a scheduler address such as "
                                  "tcp://10.0.0.5:8786", value=dask)
    if workers and not dask:
        dask = "local"
    return dask, input


def _config(args):
    """The ``--config`` file read, or None."""
    from .files.config import read_config

    return read_config(args.config) if args.config else None


# --------------------------------------------------------------------------- measure

def _measure(args) -> int:
    if len(args.input) >= 2:  # two or more inputs: their structures and the comparison
        from .files.decisions import compare_files

        if args.dask is not None or args.workers is not None:
            raise CommandError("comparing inputs measures them in this process: leave out --dask")
        run = compare_files(args.input, config=_config(args), out=args.out, sheet=args.sheet,
                            batch_size=args.batch_size, against=args.against,
                            progress=_progress(args.progress, LONG_RUN_ROWS))
        print(run.report())
        if run.out:
            print(f"\nComparison written to {run.out}")
        return 0
    args.input = args.input[0] if args.input else None
    if args.input is None and args.out is None and args.dask is None and args.workers is None:
        return _measure_sample(args)
    return _measure_file(args)


def _measure_sample(args) -> int:
    from .model import load_sample, measure, sample_config

    result = measure(load_sample(), _config(args) or sample_config())
    print("Bundled sample: 1,000 synthetic customers (customer_equity.generate_customers(1000, 2002))")
    print(result.summary())
    return 0


def _measure_file(args) -> int:
    """``measure INPUT`` (or the sample with ``--out``/``--dask``): measure in batches, write
    ``--out`` (an .xlsx of up to 10,000 customers as the measurement template filled in),
    print the summary."""
    import time

    from .excel.templates import write_measurement_workbook
    from .files.batch import measure_file
    from .model import load_sample, sample_config

    dask, source = _dask_address(args.dask, args.workers, args.input)
    config = _config(args)
    if source is None:
        config = config or sample_config()
        source = load_sample()
    shown = source if isinstance(source, str) else "the bundled sample (1,000 customers)"
    started = time.perf_counter()
    result = measure_file(source, config, args.out, batch_size=args.batch_size, sheet=args.sheet,
                          dask=dask, workers=args.workers,
                          progress=_progress(args.progress, LONG_RUN_ROWS),
                          workbook=write_measurement_workbook)
    seconds = time.perf_counter() - started
    n = int(result.counts.sum())
    print(result.summary())
    where = f"; results in {args.out}" if args.out else ""
    rate = f", {n / seconds:,.0f} customers/s" if seconds > 0 else ""
    print(f"\nMeasured {n:,} customers from {shown} in {seconds:.1f} s{rate}{where}")
    return 0


def _add_run_options(g, *, what: str, unit: str, batch_size: int, progress_default: str) -> None:
    """The options of a command that reads a file in batches: sheet, batch size, Dask, progress."""
    g.add_argument("--sheet", metavar="NAME",
                   help=f"sheet of an .xlsx {what} (default: 'Customers' if present, else the first)"
                   if what == "INPUT" else f"sheet of an .xlsx {what}")
    g.add_argument("--batch-size", type=_positive_int, default=batch_size, metavar="N",
                   help=f"{unit} per batch (default {batch_size:,}); memory grows with it, not "
                   "with the input")
    g.add_argument("--dask", nargs="?", const="local", metavar="ADDRESS",
                   help=f"run on Dask: a local cluster (--dask, put it after {what}) or the "
                   f"scheduler at ADDRESS (tcp://host:8786), whose workers must reach {what}")
    g.add_argument("--workers", type=_positive_int, metavar="N",
                   help="workers of the local Dask cluster (default: one per core; implies --dask)")
    g.add_argument("--progress", dest="progress", action="store_true", default=None,
                   help="always show a progress bar on stderr")
    g.add_argument("--no-progress", dest="progress", action="store_false",
                   help=f"never show one (default: {progress_default})")


def _add_measure(commands) -> None:
    from .files.batch import DEFAULT_BATCH_SIZE

    p = commands.add_parser(
        "measure", help="measure customer equity (the bundled sample without INPUT)",
        description="Measure customer equity of the customers in INPUT (or of the bundled "
                    "sample) and print the summary; --out also writes the results.")
    p.add_argument("input", nargs="*", metavar="INPUT",
                   help="customer table: .csv, .parquet or .xlsx. Two or more: print each "
                   "structure and the comparison (an input may also be a saved result .json or "
                   "an estimate of customers and average per type, .json or .csv)")
    p.add_argument("--against", choices=("previous", "first"), default="previous",
                   help="with two or more inputs: compare each with the one before it (default) "
                   "or with the first")
    p.add_argument("--config", metavar="FILE", help="configuration file (.toml or .json)")
    p.add_argument("--out", metavar="FILE",
                   help="results file: .xlsx, .csv, .parquet (per customer) or .json (summaries); "
                   "comparing inputs: .csv (the comparison) or .json (structures and comparison)")
    g = p.add_argument_group("measuring a file (INPUT)")
    _add_run_options(g, what="INPUT", unit="customers", batch_size=DEFAULT_BATCH_SIZE,
                     progress_default=f"on a terminal, or for inputs of {LONG_RUN_ROWS:,}+ customers")
    p.set_defaults(handler=_measure)


# --------------------------------------------------------------------------- templates

def _templates(args) -> int:
    from .excel.templates import build_all

    out_dir = _out_dir(args)
    paths = [b.path for b in build_all(out_dir)]
    for path in paths:
        print(path)
    if args.previews:
        from .excel.templates.previews import render_previews

        try:
            previews = render_previews(paths, out_dir / "previews")
        except RuntimeError as err:  # LibreOffice or pdftoppm missing or failing
            raise CommandError(f"previews: {err}", code=1) from None
        for path in previews:
            print(path)
    return 0


def _add_templates(commands) -> None:
    p = commands.add_parser(
        "templates", help="write the template workbooks (measurement, LTV models, what-if)",
        description="Write fresh copies of the template workbooks. The files in the repository's "
                    "workbooks/ folder are exactly what this command writes.")
    _folder_option(p, "workbooks", "the workbooks")
    p.add_argument("--previews", action="store_true",
                   help="also render PNG previews into DIR/previews (needs LibreOffice and pdftoppm)")
    p.set_defaults(handler=_templates)


# --------------------------------------------------------------------------- freeze

def _freeze(args) -> int:
    from .excel.freeze import freeze_file

    print(freeze_file(args.book, args.out).message)
    return 0


def _add_freeze(commands) -> None:
    p = commands.add_parser(
        "freeze", help="a copy of a workbook with its CE_ formulas replaced by their values",
        description="Write a copy of BOOK for people without the Customer Equity add-in: every formula "
                    "that calls a CE_ function is replaced by the value it shows, ordinary formulas are "
                    "kept, and a first sheet says what was frozen and when. The copy shows the same "
                    "numbers in any Excel and in LibreOffice (the ribbon's Share as values button does "
                    "the same for the active workbook).")
    p.add_argument("book", type=Path, metavar="BOOK.xlsx", help="the workbook (.xlsx or .xlsm)")
    p.add_argument("--out", type=Path, metavar="COPY.xlsx",
                   help="the copy to write (default: 'BOOK (values).xlsx' beside the workbook)")
    p.set_defaults(handler=_freeze)


# --------------------------------------------------------------------------- addin

def _addin_call(fn, *args, **kwargs):
    """Run an add-in function; its refusals become one error line (exit 1: the machine)."""
    from .excel.addin import AddinError

    try:
        return fn(*args, **kwargs)
    except AddinError as err:
        raise CommandError(str(err), code=1) from None


def _default_route() -> str:
    """COM functions exist only in Windows desktop Excel; elsewhere the functions come from Lite."""
    return "com" if sys.platform.startswith("win") else "lite"


def _addin_build(args) -> int:
    from .excel import addin

    config = addin.AddinConfig.for_this_python(args.functions)
    path = _addin_call(addin.build, _out_dir(args), config=config)
    print(f"Wrote {path} (functions route: {args.functions})")
    return 0


def _addin_install(args) -> int:
    from .excel import addin

    path = _addin_call(addin.install, args.xlstart, functions=args.functions)
    print(f"Installed the Customer Equity add-in at {path}")
    print(f"It runs {sys.executable}.")
    print(f"Functions route: {args.functions} - {addin.FUNCTION_ROUTES[args.functions]}.")
    if args.functions == "com":
        print("Restart Excel, open the 'Customer Equity' tab and click Refresh once to load the "
              "functions. The import needs 'Trust access to the VBA project object model', which "
              "security guides advise against; without it, install with --functions lite and "
              "load the functions through xlwings Lite (see docs).")
    else:
        print("Restart Excel: the 'Customer Equity' tab has Refresh. Load the functions in "
              "xlwings Lite (see docs).")
    return 0


def _addin_remove(args) -> int:
    from .excel import addin

    path = _addin_call(addin.remove, args.xlstart)
    print(f"Removed the add-in from {path}")
    return 0


def _addin_status(args) -> int:
    from .excel import addin

    state = _addin_call(addin.status, args.xlstart)
    for line in state.lines():
        print(line)
    return 0 if state.installed else 1


def _add_addin(commands) -> None:
    p = commands.add_parser(
        "addin", help="build or install the Excel add-in (ribbon tab 'Customer Equity')",
        description="The Customer Equity Excel add-in, built from the installed xlwings.")
    actions = p.add_subparsers(dest="addin_action", metavar="ACTION")
    p.set_defaults(handler=_show_help(p, "addin needs an action: build, install, remove or status"))

    def xlstart(parser):
        parser.add_argument("--xlstart", metavar="DIR",
                            help="the startup folder to use (default: ask Excel, as xlwings does)")

    def functions(parser):
        parser.add_argument("--functions", choices=("com", "lite"), default=_default_route(),
                            help="com: the add-in imports the functions (Windows; needs 'Trust "
                            "access to the VBA project object model'); lite: functions from "
                            "xlwings Lite, the add-in serves Refresh only (default: com on Windows, "
                            "lite elsewhere, where Excel has no COM functions)")

    b = actions.add_parser("build", help="write customer_equity.xlam into a folder")
    _folder_option(b, ".", "customer_equity.xlam")
    functions(b)
    b.set_defaults(handler=_addin_build)
    i = actions.add_parser("install", help="build the add-in and install it into Excel's XLSTART")
    xlstart(i)
    functions(i)
    i.set_defaults(handler=_addin_install)
    r = actions.add_parser("remove", help="remove the add-in from Excel's XLSTART")
    xlstart(r)
    r.set_defaults(handler=_addin_remove)
    s = actions.add_parser("status", help="is the add-in installed, and which functions route "
                                          "is active? (exit code 0 if installed)")
    xlstart(s)
    s.set_defaults(handler=_addin_status)


# --------------------------------------------------------------------------- the command

#: The subcommands, in the order ``--help`` lists them.
# --------------------------------------------------------------------------- forecast

def _finite_number(text: str) -> float:
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def _forecast(args) -> int:
    """``forecast [LOG]``: forecast, write ``--out``, print the report (the bundled CDNOW
    sample without LOG, calibrated on its 39 weeks)."""
    import time

    from .files.forecast import SAMPLE_CALIBRATION_END, forecast_file

    dask, _ = _dask_address(args.dask, args.workers, "")
    log, calibration_end = args.log, args.calibration_end
    if log is None:
        from .model.forecast.sample import cdnow_path, load_cdnow

        # the base package (no pyarrow, as in xlwings Lite) forecasts the sample in memory
        log = str(cdnow_path()) if _has_pyarrow() else load_cdnow()
        calibration_end = calibration_end or SAMPLE_CALIBRATION_END
    started = time.perf_counter()
    result = forecast_file(
        log, customer=args.customer, date=args.date, amount=args.amount, unit=args.unit,
        calibration_end=calibration_end, observation_end=args.observation_end,
        horizon=args.horizon, rate=args.rate, margin=args.margin, customers=args.customers,
        config=_config(args), out=args.out, sheet=args.sheet, batch_size=args.batch_size,
        dask=dask, workers=args.workers, progress=_progress(args.progress), model=args.model,
        compare=args.compare, strict=args.strict, duplicates=args.duplicates)
    plots = []
    if args.plots:
        from .files.plots import write_plots

        plots = write_plots(result.forecast, args.plots)
    seconds = time.perf_counter() - started
    if args.log is None:
        result.source = ("the bundled CDNOW sample (1/10 of the 1997 cohort; Fader, Hardie & Lee "
                         "2005)")
        if result.forecast.summary.report is not None:
            result.forecast.summary.report.source = "the bundled CDNOW sample"
    print(result.report())
    if plots:
        print("\nDiagnostics: " + ", ".join(str(p) for p in plots))
    where = f"; results in {args.out}" if args.out else ""
    n = result.forecast.summary.counts["transactions"]
    print(f"\nForecast {len(result.forecast.summary.customers):,} customers from {n:,} "
          f"transactions in {seconds:.1f} s{where}")
    return 0


def _add_forecast(commands) -> None:
    from .files.forecast import DEFAULT_BATCH_SIZE, UNITS

    p = commands.add_parser(
        "forecast", help="forecast purchases, spend and equity from a transaction log",
        description="Summarise a transaction log per customer, fit BG/NBD (or Pareto/NBD, "
                    "MBG/NBD) and Gamma-Gamma, compare the purchase models, forecast each "
                    "customer's purchases, spend and lifetime value; with --customers, measure "
                    "customer equity by type.")
    p.add_argument("log", metavar="LOG", nargs="?",
                   help="transaction log: .csv, .parquet or .xlsx, one row per transaction "
                   "(default: the bundled CDNOW sample, calibrated to 1997-09-30)")
    p.add_argument("--customer", default="customer_id", metavar="COL",
                   help="customer id column (default customer_id)")
    p.add_argument("--date", default="date", metavar="COL", help="date column (default date)")
    p.add_argument("--amount", default="amount", metavar="COL",
                   help="amount column (default amount; negative amounts are returns, left out)")
    p.add_argument("--unit", default="week", choices=list(UNITS),
                   help="time unit of the summary and of a forecast period (default week)")
    p.add_argument("--calibration-end", metavar="DATE",
                   help="last day of the calibration period (default: the observation end)")
    p.add_argument("--observation-end", metavar="DATE",
                   help="last day observed; after --calibration-end it opens a holdout "
                   "period (default: the last date in the log)")
    p.add_argument("--horizon", type=_positive_int, metavar="N",
                   help="periods (units) to forecast (default: one year); refused before any "
                   "work when its memory or time is out of reach")
    p.add_argument("--strict", action="store_true",
                   help="refuse a transaction dated after today (default: set it aside and "
                   "report it)")
    p.add_argument("--duplicates", choices=("keep", "drop"), default="keep",
                   help="exact duplicate rows (same customer, day and amount): keep them and "
                   "report them (default, as lifetimes) or drop them")
    p.add_argument("--rate", type=_finite_number, metavar="R",
                   help="discount rate per period, >= 0 (default: the --config rate, else 10%% "
                   "a year converted to the unit)")
    p.add_argument("--margin", type=_finite_number, default=1.0, metavar="M",
                   help="margin per unit of revenue (default 1: the revenue itself)")
    p.add_argument("--customers", metavar="TABLE",
                   help="customer table (.csv, .parquet, .xlsx) with customer_id: equity by "
                   "type from the forecast")
    p.add_argument("--config", metavar="FILE", help="measurement configuration (.toml, .json)")
    p.add_argument("--out", metavar="FILE",
                   help="per customer: .csv, .parquet, .xlsx; the summary: .json")
    p.add_argument("--model", default="bg-nbd", choices=("bg-nbd", "pareto-nbd", "mbg-nbd", "bg-bb"),
                   help="purchase model of the forecast (default bg-nbd); bg-bb reads the log as "
                   "discrete opportunities, one per --unit after each customer's first purchase")
    p.add_argument("--plots", metavar="DIR",
                   help="write the diagnostics as PNG files into DIR: customers by repeat purchases "
                   "observed and expected, calibration vs holdout, P(alive) by frequency and "
                   "recency (needs matplotlib: the plots extra)")
    p.add_argument("--no-compare", dest="compare", action="store_false",
                   help="fit the chosen purchase model only, not all three for the comparison "
                   "(log-likelihood, BIC, holdout error) in the report and the JSON summary")
    _add_run_options(p, what="LOG", unit="transactions", batch_size=DEFAULT_BATCH_SIZE,
                     progress_default="on a terminal")
    p.set_defaults(handler=_forecast)


# --------------------------------------------------------------------------- retention-fit

def _retention_fit(args) -> int:
    from .files.retention import retention_fit_file

    result = retention_fit_file(args.survivors, periods=args.periods, margin=args.margin,
                                rate=args.rate, timing=args.timing, out=args.out, sheet=args.sheet)
    print(result.report())
    if args.out:
        print(f"\nResults in {args.out}")
    return 0


def _add_retention_fit(commands) -> None:
    p = commands.add_parser(
        "retention-fit", help="fit shifted-beta-geometric retention to cohorts' survivors",
        description="Fit the shifted-beta-geometric model (Fader & Hardie 2007) to a survivor "
                    "table (a row per cohort: its size, then the customers still active at the "
                    "start of each later period) and give the retention curve; with --margin "
                    "and --rate, the retention-based lifetime value at each tenure.")
    p.add_argument("survivors", metavar="SURVIVORS",
                   help="survivor table: .csv, .xlsx or .parquet with a header row; an optional "
                   "first column of cohort labels")
    p.add_argument("--periods", type=_positive_int, metavar="N",
                   help="periods of the curve (default: the table's and five more)")
    p.add_argument("--margin", type=_finite_number, metavar="M",
                   help="margin per period of an active customer (with --rate: lifetime values)")
    p.add_argument("--rate", type=_finite_number, metavar="R", help="discount rate per period")
    p.add_argument("--timing", choices=("end", "begin"), default="end",
                   help="margin at the end of each period retained (default) or at its start")
    p.add_argument("--out", metavar="FILE", help="the curve: .csv, .xlsx; fit and curve: .json")
    p.add_argument("--sheet", metavar="NAME", help="sheet of an .xlsx table (default the first)")
    p.set_defaults(handler=_retention_fit)


# --------------------------------------------------------------------------- decisions (issue 14)

def _numbers(text: str) -> list[float]:
    """``0.05`` or ``0.02,0,0.05,0``: one number, or one per type / per period."""
    values = [_finite_number(part.strip()) for part in text.split(",")]
    return values


def _one_or_list(values):
    return None if values is None else (values[0] if len(values) == 1 else values)


def _lever_values(text: str):
    """``rate=0.08,0.1,0.12`` for --grid: a lever and its values."""
    lever, sep, values = text.partition("=")
    if not sep or not values:
        raise argparse.ArgumentTypeError(f"expected LEVER=v1,v2,..., got {text!r}")
    return lever.strip(), _numbers(values)


def _print_run(run) -> int:
    """A decisions job's report, and where its ``--out`` went."""
    print(run.report())
    if run.out:
        print(f"Written to {run.out}")
    return 0


def _decision_input(p, what="customer table: .csv, .parquet or .xlsx"):
    p.add_argument("input", metavar="INPUT", help=what)
    p.add_argument("--config", metavar="FILE", help="configuration file (.toml or .json)")
    p.add_argument("--sheet", metavar="NAME", help="sheet of an .xlsx INPUT")
    p.add_argument("--out", metavar="FILE", help="write the table: .csv, or every table: .json")


def _numbers_or_blank(text: str) -> list[float]:
    """``0.9,,0.8,`` for --base-retention: one number per type, an empty place for none."""
    return [math.nan if not part.strip() else _finite_number(part.strip()) for part in text.split(",")]


def _moves(text: str) -> dict:
    """``Rational:Follower:50,Follower:Lighthouse:10``: customers moved between types."""
    moves = {}
    for part in text.split(","):
        bits = [b.strip() for b in part.split(":")]
        if len(bits) != 3 or not all(bits):
            raise argparse.ArgumentTypeError(f"expected FROM:TO:CUSTOMERS, e.g. Rational:Follower:50, "
                                             f"got {part.strip()!r}")
        pair = (bits[0], bits[1])
        moves[pair] = moves.get(pair, 0) + _finite_number(bits[2])
    return moves


#: --flag of each what-if lever -> (the keyword of what_if, one value or a list)
_WHATIF_LEVERS = ("retention_change", "rate", "margin_change", "share_change", "loyalty_change",
                  "transaction_income", "type_mix", "relabel_mix", "moves", "new_customers",
                  "acquisition_cost", "base_retention", "mix")


def _whatif(args) -> int:
    from .files.decisions import whatif_file

    levers = {name: getattr(args, name) for name in _WHATIF_LEVERS}
    for name in ("retention_change", "margin_change", "share_change", "loyalty_change",
                 "transaction_income", "new_customers", "acquisition_cost"):
        levers[name] = _one_or_list(levers[name])
    return _print_run(whatif_file(args.input, config=_config(args), sheet=args.sheet,
                                  levers=levers, grid=args.grid, result=args.result, out=args.out))


def _add_whatif(commands) -> None:
    p = commands.add_parser(
        "whatif", help="customer equity under a change of retention, share of wallet, loyalty, "
                       "structure, acquisition, margin, rate or income",
        description="Measure INPUT, change it by the levers and measure again: per type, equity "
                    "before and after. --grid varies two levers over a grid instead. Per-type "
                    "values are in the order Lighthouse, Follower, Rational, Profit-seeking.")
    _decision_input(p)
    p.add_argument("--retention-change", type=_numbers, metavar="X[,X,X,X]",
                   help="change of retention per period, all types or per type (0.05 = 5 points)")
    p.add_argument("--base-retention", type=_numbers_or_blank, metavar="R,R,R,R",
                   help="the retention per period each type's change starts from (e.g. from "
                   "P(alive)); leave a place empty to start from the table's (0.9,,0.8,)")
    p.add_argument("--share-change", type=_numbers, metavar="X[,X,X,X]",
                   help="change of share of wallet, all types or per type (0.05 = 5 points)")
    p.add_argument("--loyalty-change", type=_numbers, metavar="X[,X,X,X]",
                   help="a type grows more loyal: its PPV, KV and TV move by this share of their "
                   "size (0.1 = +10 %%), all types or per type")
    p.add_argument("--type-mix", type=_numbers, metavar="L,F,R,P",
                   help="the same number of customers in another structure, each type at its "
                   "average value: 4 shares adding up to 1")
    p.add_argument("--new-customers", type=_numbers, metavar="N[,N,N,N]",
                   help="customers acquired, each at its type's average value, per type")
    p.add_argument("--acquisition-cost", type=_numbers, metavar="C[,C,C,C]",
                   help="cost per new customer, subtracted once (with --new-customers)")
    p.add_argument("--moves", type=_moves, metavar="FROM:TO:N[,...]",
                   help="whole customers moved between types, keeping their own values, e.g. "
                   "Rational:Follower:50")
    p.add_argument("--relabel-mix", type=_numbers, metavar="L,F,R,P",
                   help="a type mix reached by moving the fewest whole customers, who keep "
                   "their own values (instead of --moves)")
    p.add_argument("--rate", type=_finite_number, metavar="R", help="new discount rate per period")
    p.add_argument("--margin-change", type=_numbers, metavar="X[,X,X,X]",
                   help="change of unit margin, all types or per type")
    p.add_argument("--transaction-income", type=_numbers, metavar="A[,B,...]",
                   help="new transaction income per period as fixed totals (one for all "
                   "periods, or one each)")
    p.add_argument("--mix", type=_numbers, help=argparse.SUPPRESS)  # refused: which mix?
    p.add_argument("--grid", nargs=2, type=_lever_values, metavar=("ROW=v,...", "COLUMN=v,..."),
                   help="two levers and their values (retention_change, rate, margin_change, "
                   "share_change, loyalty_change, transaction_income), e.g. --grid "
                   "rate=0.08,0.1 retention_change=0,0.05")
    p.add_argument("--result", choices=("equity", "difference"), default="equity",
                   help="with --grid: equity in each cell (default) or its difference from today")
    p.set_defaults(handler=_whatif)


def _retention(args) -> int:
    from .files.decisions import retention_file

    return _print_run(retention_file(args.input, config=_config(args), sheet=args.sheet,
                                     point=args.point, top=args.top, out=args.out))


def _add_retention(commands) -> None:
    p = commands.add_parser(
        "retention", help="retention per type, the equity at stake, the customers not to lose",
        description="Per type: the retention rate the retention times imply and the equity lost "
                    "if it falls by a point; then the customers whose loss costs most (key "
                    "customers with fewer than three links first).")
    _decision_input(p)
    p.add_argument("--point", type=_finite_number, default=0.01, metavar="X",
                   help="the fall in retention per period to price (default 0.01)")
    p.add_argument("--top", type=_positive_int, default=10, metavar="N",
                   help="customers at stake to list (default 10)")
    p.set_defaults(handler=_retention)


def _prospects(args) -> int:
    from .files.decisions import prospects_file

    traits = None if args.traits is None else [t.strip() for t in args.traits.split(",") if t.strip()]
    return _print_run(prospects_file(
        args.input, customers=args.customers, config=_config(args), sheet=args.sheet, traits=traits,
        best=args.best, neighbours=args.neighbours, cutoff=args.cutoff,
        avoid_share=args.avoid_share, top=args.top, out=args.out))


def _add_prospects(commands) -> None:
    p = commands.add_parser(
        "prospects", help="rank prospects by the traits of the best customers; flag those to avoid",
        description="Learn trait weights from the best current customers (by lifetime value), "
                    "score and rank the prospects in INPUT, give each an expected type and value "
                    "and flag those below the cut-off.")
    _decision_input(p, "prospects: .csv, .parquet or .xlsx, one row per prospect, trait columns")
    p.add_argument("--customers", required=True, metavar="TABLE",
                   help="the current customer table (measured for lifetime values and types; "
                   "its trait columns are compared)")
    p.add_argument("--traits", metavar="A,B,...",
                   help="trait columns (default: the columns the two tables share, but ids)")
    p.add_argument("--best", type=_finite_number, default=0.2, metavar="SHARE",
                   help="share of current customers taken as the best (default 0.2)")
    p.add_argument("--neighbours", type=_positive_int, default=10, metavar="N",
                   help="closest current customers that give the expected type and value (default 10)")
    p.add_argument("--cutoff", type=_finite_number, metavar="SCORE",
                   help="score below which a prospect is to avoid (default: by --avoid-share)")
    p.add_argument("--avoid-share", type=_finite_number, default=0.2, metavar="SHARE",
                   help="default cut-off: the score this share of current customers falls below")
    p.add_argument("--top", type=_positive_int, default=20, metavar="N",
                   help="prospects to print (default 20; --out has all)")
    p.set_defaults(handler=_prospects)


COMMANDS = (_add_measure, _add_forecast, _add_retention_fit, _add_whatif, _add_retention,
            _add_prospects, _add_templates, _add_freeze, _add_addin)


def build_parser() -> argparse.ArgumentParser:
    """The ``customer-equity`` parser with every subcommand of :data:`COMMANDS`."""
    parser = _Parser(
        prog=PROG,
        description="Measure customer equity: the discounted lifetime value of all customers.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser.set_defaults(handler=_show_help(parser, "choose a command"))
    for add in COMMANDS:
        add(commands)
    return parser


class Terminated(BaseException):
    """SIGTERM (a job scheduler, ``kill``) received: the run stops as Ctrl-C stops it."""


def _on_sigterm(signum, frame):
    raise Terminated


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit code.

    Ctrl-C at any moment of the run (the imports included: they happen in here) ends it
    with one line and exit code 130; SIGTERM with one line and 143. Either way a file being
    written is removed (:func:`customer_equity._files.atomic_path`), never left half-written.

    >>> main(["--version"])  # doctest: +SKIP
    customer-equity 0.1.0
    """
    import signal
    import threading

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler and \
                getattr(signal.getsignal(signal.SIGINT), "__name__", "") == "_interrupted_early":
            signal.signal(signal.SIGINT, signal.default_int_handler)  # from here: KeyboardInterrupt
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print(f"{PROG}: terminated", file=sys.stderr)
        return 143
    finally:
        if previous is not None and argv is None and "customer" in (sys.argv or [""])[0]:
            # the command itself: its work is done and its exit code decided; a signal in the
            # last milliseconds of the interpreter's exit must not turn it into a traceback
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        elif previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(argv) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version, or a usage error already printed
        return int(done.code or 0) if isinstance(done.code, int) or done.code is None else 2
    try:
        return int(args.handler(args) or 0)
    except CustomerEquityError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    except CommandError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return err.code
    except BrokenPipeError:  # the reader went away (`customer-equity measure | head`): stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit either
        return 0
    except OSError as err:  # the machine refused (disk full, permissions): no traceback
        where = f"{err.filename}: " if err.filename else ""
        print(f"{PROG}: error: {where}{err.strerror or err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
