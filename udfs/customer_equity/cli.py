"""The ``customer-equity`` command.

``customer-equity measure`` with no input measures the bundled sample customers and
prints the summary; with an input file it runs the batch measurement
(:mod:`customer_equity.batch`). ``templates`` writes the template workbooks and
``addin`` builds and installs the Excel add-in.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .errors import CustomerEquityError


def _measure_sample(args) -> int:
    from .model import MeasureConfig, load_sample, measure, sample_config

    config = MeasureConfig.from_file(args.config) if args.config else sample_config()
    result = measure(load_sample(), config)
    print("Bundled sample: 1,000 synthetic customers (customer_equity.generate_customers(1000, 2002))")
    print(result.summary())
    return 0


def _measure(args) -> int:
    if args.input is None and args.out is None:
        return _measure_sample(args)
    from . import batch

    return batch.run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="customer-equity",
        description="Measure customer equity: the discounted lifetime value of all customers.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    m = sub.add_parser("measure", help="measure customer equity (the bundled sample without INPUT)")
    m.add_argument("input", nargs="?", help="customer table: .csv, .parquet or .xlsx")
    m.add_argument("--config", help="configuration file (.toml or .json)")
    m.add_argument("--out", help="results: .xlsx, .csv, .parquet (per customer) or .json (summaries)")
    try:
        from . import batch
    except ImportError:
        batch = None
    if batch is not None and hasattr(batch, "add_arguments"):
        batch.add_arguments(m)
    m.set_defaults(handler=_measure)

    # forecast (issue 12): arguments and handler in customer_equity.forecast_file
    from . import forecast_file

    f = sub.add_parser("forecast", help="forecast purchases, spend and equity from a transaction log",
                       description="Summarise a transaction log per customer, fit BG/NBD and "
                       "Gamma-Gamma, forecast each customer's purchases, spend and lifetime value; "
                       "with --customers, measure customer equity by type.")
    forecast_file.add_arguments(f)
    f.set_defaults(handler=forecast_file.run)

    for module_name in ("templates", "addin"):
        try:
            module = __import__(f"{__package__}.{module_name}", fromlist=["add_cli"])
        except ImportError:
            continue
        if hasattr(module, "add_cli"):
            module.add_cli(sub)
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except CustomerEquityError as err:
        print(f"customer-equity: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("customer-equity: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
