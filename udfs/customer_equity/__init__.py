"""Customer equity for Excel: the discounted lifetime value of all of a firm's customers.

The calculation core lives in :mod:`customer_equity.model` and is re-exported here;
the Excel functions are in :mod:`customer_equity.excel` (imported only by Excel).
"""

from .errors import CustomerEquityError
from .model import *  # noqa: F401,F403
from .model import __all__ as _model_all

__version__ = "0.1.0"
__all__ = ["CustomerEquityError", "__version__", *_model_all]
