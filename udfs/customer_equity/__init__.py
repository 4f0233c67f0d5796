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

from ._version import __version__
from .errors import CustomerEquityError
from .model import *  # noqa: F401,F403
from .model import __all__ as _model_all

__all__ = ["CustomerEquityError", "__version__", "main", *_model_all]


def main() -> None:
    """Refresh the active workbook: what the add-in's ribbon button runs.

    The add-in's VBA runs ``import customer_equity; customer_equity.main()`` (see
    :mod:`customer_equity.excel.refresh`). xlwings is imported only here, lazily, so that the
    package works without Excel.
    """
    from customer_equity.excel.refresh import main as refresh_main

    refresh_main()
