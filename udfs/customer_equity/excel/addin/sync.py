"""Keeping the add-in's functions in sync with ``customer_equity.excel.functions`` (Windows, COM).

The first half of the ribbon's Refresh button (:func:`customer_equity.excel.refresh.main`):
when the catalogue of the Excel functions changed since the add-in last imported them,
import them again (xlwings' UDF import into the add-in's VBA project; needs the Trust
Center setting :data:`TRUST_CENTER_SETTING`). Template refresh is
:mod:`customer_equity.excel.refresh`.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import re
import sys
from types import ModuleType
from typing import Any

UDF_MODULE = "customer_equity.excel.functions"
UDF_STAMP_NAME = "CE_UDF_STAMP"
"""Defined name in the add-in holding the catalogue stamp of the last UDF import."""
TRUST_CENTER_SETTING = (
    "File > Options > Trust Center > Trust Center Settings > Macro Settings > "
    "Trust access to the VBA project object model"
)




def catalogue_stamp(module: ModuleType) -> str:
    """Hash of the function catalogue of a UDF module, computed without Excel.

    Covers each public function defined in the module (name, signature, docstring, and the
    xlwings ``__xlfunc__`` metadata where present) and the xlwings version, since the VBA
    wrappers depend on all of these.
    """
    import xlwings

    items = []
    for name, obj in sorted(vars(module).items()):
        if name.startswith("_") or not inspect.isfunction(obj):
            continue
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        try:
            signature = str(inspect.signature(obj))
        except (TypeError, ValueError):
            signature = "?"
        meta = getattr(obj, "__xlfunc__", None)
        items.append([name, signature, inspect.getdoc(obj) or "", repr(meta) if meta else ""])
    text = json.dumps([module.__name__, xlwings.__version__, items], sort_keys=True)
    text = re.sub(r" at 0x[0-9a-fA-F]+", "", text)  # object addresses vary between runs
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def needs_udf_import(current: str, stored: str | None) -> bool:
    """Whether the add-in's imported functions are stale (no stamp, or a different one)."""
    return not stored or stored.strip() != current


def is_vba_access_refused(exc: BaseException) -> bool:
    """Whether an exception is Excel refusing programmatic access to the VBA project."""
    text = " ".join(str(a) for a in getattr(exc, "args", ())) or str(exc)
    text = text.lower()
    return ("not trusted" in text and ("visual basic" in text or "vba" in text)) or (
        "vbproject" in text
    )


def vba_access_message() -> str:
    """The message shown when Excel refuses access to the VBA project."""
    return (
        "Excel refused access to the add-in's VBA project, so the Customer Equity functions "
        "could not be updated. Turn on this setting once, then click Refresh again:\n"
        f"{TRUST_CENTER_SETTING}."
    )


def sync_udfs(book: Any, module_name: str = UDF_MODULE) -> str | None:
    """Import the functions into the add-in if the catalogue changed (Windows only).

    ``book`` is the xlwings Book that called Refresh. Returns a message for the user, or
    None when nothing needed doing. Thin: the decisions are :func:`catalogue_stamp`,
    :func:`needs_udf_import` and :func:`is_vba_access_refused`.
    """
    if not sys.platform.startswith("win"):
        return None  # COM functions exist only on Windows; macOS uses xlwings Lite
    from ..book import parse_constant
    from . import ADDIN_FILENAME, functions_in_addin

    try:
        addin = book.app.books[ADDIN_FILENAME]
    except Exception:  # noqa: BLE001 - Refresh called without the add-in loaded
        return f"The {ADDIN_FILENAME} add-in is not loaded, so its functions were not updated."
    if not functions_in_addin(addin):
        return None  # xlwings Lite route: the add-in serves Refresh only, its VBA stays untouched
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        return f"The functions module {module_name} could not be imported ({exc})."
    current = catalogue_stamp(module)
    stored = None
    if UDF_STAMP_NAME in addin.names:
        stored = parse_constant(addin.names[UDF_STAMP_NAME].refers_to)
    if not needs_udf_import(current, stored):
        return None
    try:  # probe: with the Trust Center setting off, any access to VBProject fails
        addin.api.VBProject.VBComponents.Count  # noqa: B018
    except Exception:  # noqa: BLE001 - COM error, message text depends on Excel's language
        return vba_access_message()
    from xlwings.udfs import import_udfs

    try:
        import_udfs(module_name, addin.api)
    except Exception as exc:  # noqa: BLE001 - COM errors
        if is_vba_access_refused(exc):
            return vba_access_message()
        raise
    addin.names.add(UDF_STAMP_NAME, f'="{current}"')
    addin.save()
    return "Updated the Customer Equity functions in the add-in."


