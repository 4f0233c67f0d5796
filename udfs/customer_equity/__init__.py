"""Customer equity for Excel: the discounted lifetime value of all of a firm's customers.

One core and three doors:

=====================  =================================================================
:mod:`.model`          the core (numpy, pandas, scipy): formulas, equity, decisions,
                       forecasts; re-exported here
:mod:`.reading`        the one reading vocabulary, below the doors and the core
:mod:`.excel`          the Excel door: CE_ functions, Refresh, add-in, templates
:mod:`.files`          the files door: readers, writers, batches, Dask, file jobs
:mod:`.cli`            the ``customer-equity`` command, which composes the doors
=====================  =================================================================
"""

import sys as _sys

if _sys.argv and _sys.argv[0].replace("\\", "/").rsplit("/", 1)[-1].startswith("customer-equity"):
    # The command is starting (its console script imports customer_equity.cli): a Ctrl-C
    # before cli.main takes over ends it with the command's one line, not a traceback.
    import os as _os
    import signal as _signal

    def _interrupted_early(signum, frame):
        _os.write(2, b"customer-equity: interrupted\n")
        _os._exit(130)

    _signal.signal(_signal.SIGINT, _interrupted_early)

from ._version import __version__ as __version__  # noqa: E402
from .errors import CustomerEquityError as CustomerEquityError  # noqa: E402

# The core is imported on first use (``customer_equity.measure``, ``from customer_equity
# import *``), not with the package: the command starts in a few milliseconds, so that a
# Ctrl-C at once gets the command's one line rather than a traceback from numpy's import.


def __getattr__(name):
    import importlib

    if name == "__all__":
        from .model import __all__ as model_all

        return ["CustomerEquityError", "__version__", "main", *model_all]
    if name in ("model", "reading", "excel", "files", "cli", "errors"):
        return importlib.import_module(f".{name}", __name__)
    model = importlib.import_module(".model", __name__)
    try:
        return getattr(model, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__():
    return sorted(set(globals()) | set(__getattr__("__all__")))


def main() -> None:
    """Refresh the active workbook: what the add-in's ribbon button runs.

    The add-in's VBA runs ``import customer_equity; customer_equity.main()`` (see
    :mod:`customer_equity.excel.refresh`). xlwings is imported only here, lazily, so that the
    package works without Excel.
    """
    from customer_equity.excel.refresh import main as refresh_main

    refresh_main()
