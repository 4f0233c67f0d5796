"""The Excel door: what Excel hands over and gets back.

=====================  =====================================================================
module                 what it holds
=====================  =====================================================================
:mod:`.cells`          what only Excel hands over (runtime error codes, Office.js blanks),
                       results as rows of cells
:mod:`.functions`      the CE_ functions (the add-in's and xlwings Lite's UDF module)
:mod:`.book`           the template contract's names and the workbook ports Refresh drives
:mod:`.refresh`        the ribbon's Refresh button
:mod:`.freeze`         Share as values: a copy with the CE_ formulas replaced by their values
:mod:`.addin`          build the .xlam, install it into XLSTART, keep its functions in sync
:mod:`.templates`      the template workbooks, one module each
=====================  =====================================================================

Importing this package imports none of them. Add-ins and xlwings Lite projects made before
the functions moved to :mod:`.functions` name this package (``UDF Modules =
customer_equity.excel``, ``from customer_equity.excel import *``): the CE_ names are looked up
in :mod:`.functions` on first use, so those keep working.
"""


def __getattr__(name):
    if name == "__all__" or name.startswith("ce_"):
        from . import functions

        return getattr(functions, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
