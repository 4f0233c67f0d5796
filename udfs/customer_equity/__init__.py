"""Customer equity for Excel: the discounted lifetime value of all of a firm's customers."""

__version__ = "0.1.0"


def main() -> None:
    """Refresh the active workbook: what the add-in's ribbon button runs.

    The add-in's VBA runs ``import customer_equity; customer_equity.main()`` (see
    :mod:`customer_equity.refresh`). xlwings is imported only here, lazily, so that the
    package works without Excel.
    """
    from customer_equity.refresh import main as refresh_main

    refresh_main()
