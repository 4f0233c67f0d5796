"""Customer equity for Excel: the discounted lifetime value of all of a firm's customers.

The calculation core lives in :mod:`customer_equity.model` and is re-exported here;
the Excel functions are in :mod:`customer_equity.excel.functions` (imported only by Excel).
"""

from .errors import CustomerEquityError
from .model import *  # noqa: F401,F403
from .model import __all__ as _model_all

__version__ = "0.1.0"
__all__ = ["CustomerEquityError", "__version__", "main", *_model_all]


def main() -> None:
    """Refresh the active workbook: what the add-in's ribbon button runs.

    The add-in's VBA runs ``import customer_equity; customer_equity.main()`` (see
    :mod:`customer_equity.excel.refresh`). xlwings is imported only here, lazily, so that the
    package works without Excel.
    """
    from customer_equity.excel.refresh import main as refresh_main

    refresh_main()
