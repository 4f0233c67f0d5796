"""Refresh: what the ribbon's Refresh button does (``customer_equity.main()``).

1. Brings the add-in's functions up to date when the catalogue of ``customer_equity.excel``
   changed (Windows: xlwings' UDF import into the add-in; needs the Trust Center setting
   :data:`TRUST_CENTER_SETTING`).
2. Recalculates the active workbook fully.
3. For a workbook made from a Customer Equity template, recomputes the parts Python writes.

Template contract. A template workbook has a workbook-level defined name ``CE_TEMPLATE``
whose value is a text constant such as ``"measurement/1"`` (template id / version). Its inputs
are workbook-level names starting with ``ce_in_``; the parts Python writes are names starting
with ``ce_out_``. A template module registers a refresher::

    from customer_equity import refresh

    @refresh.register("measurement/1")
    def measurement(inputs):            # {"ce_in_x": [[...], ...], ...}
        return {"ce_out_y": [[...]]}    # 2-D lists, each fitting its named range

Refresh reads every ``ce_in_*`` name, calls the refresher, checks that every returned name
is a ``ce_out_*`` name of the workbook and that its values fit the range (a smaller block is
padded with empty cells so the whole range is rewritten), and only then writes. It writes
nothing else: never an input cell. If the workbook defines ``ce_out_refreshed`` and the
refresher does not fill it, it receives a content stamp (package version and a hash of the
inputs), so that refreshing twice gives the same workbook. A workbook without
``CE_TEMPLATE``, or with a template this version does not know, is only recalculated.

Everything here except :class:`XlwingsBook`, :func:`sync_udfs` and :func:`main` works on a
:class:`WorkbookPort` and is tested with :class:`OpenpyxlBook`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import inspect
import json
import math
import re
import sys
from dataclasses import dataclass
from types import MappingProxyType, ModuleType
from typing import Any, Callable, Mapping, Protocol, Sequence

TEMPLATE_NAME = "CE_TEMPLATE"
IN_PREFIX = "ce_in_"
OUT_PREFIX = "ce_out_"
STAMP_OUTPUT = "ce_out_refreshed"
UDF_MODULE = "customer_equity.excel"
UDF_STAMP_NAME = "CE_UDF_STAMP"
"""Defined name in the add-in holding the catalogue stamp of the last UDF import."""
TEMPLATES_PACKAGE = "customer_equity.templates"
"""Imported (if it exists) before looking up a refresher, so that templates can register."""
TRUST_CENTER_SETTING = (
    "File > Options > Trust Center > Trust Center Settings > Macro Settings > "
    "Trust access to the VBA project object model"
)

Values = list[list[Any]]
Refresher = Callable[[Mapping[str, Values]], Mapping[str, Values]]

_REGISTRY: dict[str, Refresher] = {}


class RefreshError(RuntimeError):
    """A template workbook cannot be refreshed (bad names, shapes or values); nothing written."""


# --------------------------------------------------------------------------------------
# Registry of template refreshers
# --------------------------------------------------------------------------------------


def register(template_id: str) -> Callable[[Refresher], Refresher]:
    """Decorator registering ``fn(inputs) -> outputs`` as the refresher of ``template_id``.

    ``template_id`` is the ``CE_TEMPLATE`` text, e.g. ``"measurement/1"``; a bare family
    (``"measurement"``) serves every version that has no exact registration.

    >>> @register("doctest/1")
    ... def _noop(inputs):
    ...     return {}
    >>> find_refresher("doctest/1") is _noop
    True
    >>> unregister("doctest/1")
    """
    if not isinstance(template_id, str) or not template_id.strip():
        raise ValueError("template_id must be a non-empty string")

    def decorate(fn: Refresher) -> Refresher:
        _REGISTRY[template_id.strip()] = fn
        return fn

    return decorate


def unregister(template_id: str) -> None:
    """Remove a registration (for tests); unknown ids are ignored."""
    _REGISTRY.pop(template_id.strip(), None)


def registered_templates() -> list[str]:
    """Return the template ids that have a refresher, sorted."""
    return sorted(_REGISTRY)


def load_template_modules() -> None:
    """Import :data:`TEMPLATES_PACKAGE` if it exists, so that its modules register."""
    try:
        importlib.import_module(TEMPLATES_PACKAGE)
    except ModuleNotFoundError as exc:
        if exc.name not in (TEMPLATES_PACKAGE, TEMPLATES_PACKAGE.rsplit(".", 1)[0]):
            raise


def find_refresher(template_id: str) -> Refresher | None:
    """Return the refresher for a ``CE_TEMPLATE`` value (exact id first, then its family)."""
    template_id = template_id.strip()
    if template_id in _REGISTRY:
        return _REGISTRY[template_id]
    return _REGISTRY.get(template_id.split("/", 1)[0])


# --------------------------------------------------------------------------------------
# The workbook port and its two adapters
# --------------------------------------------------------------------------------------


class WorkbookPort(Protocol):
    """What Refresh needs from a workbook: its defined names, their values, recalculation."""

    def names(self) -> list[str]:
        """Workbook-level defined names (sheet-level names excluded)."""

    def constant(self, name: str) -> Any:
        """The value of a name: its text if it is a constant, else its single cell's value."""

    def shape(self, name: str) -> tuple[int, int]:
        """(rows, columns) of the range a name refers to."""

    def read(self, name: str) -> Values:
        """The values of the range a name refers to, as a 2-D list."""

    def write(self, name: str, values: Values) -> None:
        """Write a 2-D list of exactly :meth:`shape` into the range a name refers to."""

    def recalculate(self) -> None:
        """Recalculate the whole workbook (a full recalculation where possible)."""


def parse_constant(refers_to: str | None) -> str | None:
    """Return the text of a name defined as a string constant (``="a"``), else None.

    >>> parse_constant('="measurement/1"')
    'measurement/1'
    >>> parse_constant('"a ""b"" c"')
    'a "b" c'
    >>> parse_constant("=Sheet1!$A$1") is None
    True
    """
    if refers_to is None:
        return None
    text = refers_to.strip()
    if text.startswith("="):
        text = text[1:].strip()
    m = re.fullmatch(r'"((?:[^"]|"")*)"', text)
    return m.group(1).replace('""', '"') if m else None


class OpenpyxlBook:
    """:class:`WorkbookPort` over an openpyxl workbook (tests; files without Excel).

    ``values`` is an optional ``data_only=True`` twin of the same file: reads then return
    the cached results of formulas instead of their text. openpyxl cannot calculate, so
    :meth:`recalculate` asks Excel/LibreOffice to recalculate fully when the file is opened.
    """

    def __init__(self, workbook: Any, values: Any | None = None) -> None:
        self.wb = workbook
        self.values = values

    @classmethod
    def open(cls, path: Any) -> "OpenpyxlBook":
        """Open a file, keeping VBA for ``.xlsm``/``.xlam``, with a values twin for reading."""
        import openpyxl

        keep_vba = str(path).lower().endswith((".xlsm", ".xlam"))
        return cls(
            openpyxl.load_workbook(path, keep_vba=keep_vba),
            openpyxl.load_workbook(path, data_only=True),
        )

    def _defined(self, name: str) -> Any:
        for key, dn in self.wb.defined_names.items():
            if key.lower() == name.lower():
                return dn
        raise KeyError(name)

    def _area(self, name: str) -> tuple[str, int, int, int, int]:
        from openpyxl.utils.cell import range_boundaries

        text = self._defined(name).attr_text or ""
        if "[" in text:  # a name on an Excel table: =Customers[periods]
            from .structured import resolve_structured, tables_of

            text = resolve_structured(text, tables_of(self.wb))
            m = re.fullmatch(r"'?(.*?)'?!\$?([A-Z]+)\$?(\d+):\$?([A-Z]+)\$?(\d+)", text)
            if m is None:
                raise RefreshError(f"The name {name} must refer to one range.")
            c1, r1, c2, r2 = range_boundaries("".join(m.group(2, 3)) + ":" + "".join(m.group(4, 5)))
            return m.group(1).replace("''", "'"), r1, c1, r2, c2
        areas = list(self._defined(name).destinations)
        if len(areas) != 1:
            raise RefreshError(f"The name {name} must refer to one range, not {len(areas)}.")
        sheet, coord = areas[0]
        min_col, min_row, max_col, max_row = range_boundaries(coord.replace("$", ""))
        return sheet, min_row, min_col, max_row, max_col

    def names(self) -> list[str]:
        """Workbook-level defined names."""
        return list(self.wb.defined_names.keys())

    def constant(self, name: str) -> Any:
        """Text of a constant name, else the value of its single cell."""
        text = parse_constant(self._defined(name).attr_text)
        if text is not None:
            return text
        values = self.read(name)
        return values[0][0] if len(values) == 1 and len(values[0]) == 1 else None

    def shape(self, name: str) -> tuple[int, int]:
        """(rows, columns) of the named range."""
        _, r0, c0, r1, c1 = self._area(name)
        return r1 - r0 + 1, c1 - c0 + 1

    def read(self, name: str) -> Values:
        """Values of the named range (cached formula results if a values twin is given)."""
        sheet, r0, c0, r1, c1 = self._area(name)
        ws = (self.values or self.wb)[sheet]
        return [[ws.cell(r, c).value for c in range(c0, c1 + 1)] for r in range(r0, r1 + 1)]

    def write(self, name: str, values: Values) -> None:
        """Write values into the named range (both the workbook and its values twin)."""
        sheet, r0, c0, _, _ = self._area(name)
        for book in (self.wb, self.values):
            if book is None:
                continue
            ws = book[sheet]
            for i, row in enumerate(values):
                for j, value in enumerate(row):
                    ws.cell(r0 + i, c0 + j).value = value

    def recalculate(self) -> None:
        """Flag the workbook for a full recalculation when Excel or LibreOffice opens it."""
        from openpyxl.workbook.properties import CalcProperties

        if self.wb.calculation is None:
            self.wb.calculation = CalcProperties()
        self.wb.calculation.fullCalcOnLoad = True


class XlwingsBook:
    """:class:`WorkbookPort` over a live ``xlwings.Book`` (thin: every decision is elsewhere)."""

    def __init__(self, book: Any) -> None:
        self.book = book

    def names(self) -> list[str]:
        """Workbook-level names (xlwings spells sheet-level ones ``Sheet!name``)."""
        return [n.name for n in self.book.names if "!" not in n.name]

    def constant(self, name: str) -> Any:
        """Text of a constant name, else the value of its range's first cell."""
        n = self.book.names[name]
        text = parse_constant(n.refers_to)
        return text if text is not None else n.refers_to_range[0, 0].value

    def shape(self, name: str) -> tuple[int, int]:
        """(rows, columns) of the named range."""
        return tuple(self.book.names[name].refers_to_range.shape)

    def read(self, name: str) -> Values:
        """Values of the named range as a 2-D list."""
        return self.book.names[name].refers_to_range.options(ndim=2).value

    def write(self, name: str, values: Values) -> None:
        """Write a 2-D list into the named range."""
        self.book.names[name].refers_to_range.value = values

    def recalculate(self) -> None:
        """Full recalculation (``Application.CalculateFull`` on Windows)."""
        if sys.platform.startswith("win"):
            self.book.app.api.CalculateFull()
        else:
            self.book.app.calculate()


# --------------------------------------------------------------------------------------
# The Refresh logic
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshResult:
    """What a refresh did: the template (if any), the output names written, a message."""

    template: str | None
    recognised: bool
    written: tuple[str, ...] = ()
    message: str = ""


def _name_map(book: WorkbookPort) -> dict[str, str]:
    return {n.lower(): n for n in book.names()}


def template_id(book: WorkbookPort) -> str | None:
    """Return the workbook's ``CE_TEMPLATE`` text, or None if it has none."""
    actual = _name_map(book).get(TEMPLATE_NAME.lower())
    if actual is None:
        return None
    value = book.constant(actual)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)  # Excel's 3.0 and openpyxl's 3 are the same input
    return value


def content_stamp(template: str, inputs: Mapping[str, Values]) -> str:
    """A stamp that changes only with the package version, the template or the inputs.

    >>> content_stamp("t/1", {"ce_in_a": [[1.0]]}) == content_stamp("t/1", {"ce_in_a": [[1]]})
    True
    """
    from customer_equity import __version__

    canon = {
        k.lower(): [[_canonical(v) for v in row] for row in rows] for k, rows in inputs.items()
    }
    digest = hashlib.sha256(
        json.dumps([template, canon], sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()
    return f"customer_equity {__version__}; {template}; inputs {digest[:12]}"


_SCALARS = (str, bool, int, float, dt.datetime, dt.date, dt.time, type(None))


def _scalar(value: Any, where: str) -> Any:
    if hasattr(value, "item") and not isinstance(value, _SCALARS):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if not isinstance(value, _SCALARS):
        raise RefreshError(f"{where}: {type(value).__name__} is not a cell value.")
    return value


def fit_values(name: str, values: Any, shape: tuple[int, int]) -> Values:
    """Check a refresher's block for a range of ``shape`` and pad it with empty cells.

    >>> fit_values("ce_out_x", [[1, 2]], (2, 2))
    [[1, 2], [None, None]]
    """
    rows_n, cols_n = shape
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise RefreshError(f"{name}: expected a non-empty 2-D list of rows.")
    rows = []
    for i, row in enumerate(values):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
            raise RefreshError(f"{name}: row {i + 1} is not a list.")
        rows.append([_scalar(v, f"{name} row {i + 1}") for v in row])
    width = len(rows[0])
    if any(len(r) != width for r in rows) or width == 0:
        raise RefreshError(f"{name}: rows must all have the same, non-zero length.")
    if len(rows) > rows_n or width > cols_n:
        raise RefreshError(
            f"{name}: {len(rows)}x{width} values do not fit its {rows_n}x{cols_n} range."
        )
    return [r + [None] * (cols_n - width) for r in rows] + [
        [None] * cols_n for _ in range(rows_n - len(rows))
    ]


def refresh_workbook(book: WorkbookPort) -> RefreshResult:
    """Recalculate ``book`` and, if it is a known template, rewrite its ``ce_out_*`` ranges.

    Validates every output before writing any; raises :class:`RefreshError` (having written
    nothing) if the refresher's result breaks the contract.
    """
    tid = template_id(book)
    book.recalculate()
    if tid is None:
        return RefreshResult(
            None,
            False,
            message=(
                "Recalculated this workbook. It was not made from a Customer Equity template "
                f"(it has no {TEMPLATE_NAME} name), so nothing else was changed."
            ),
        )
    load_template_modules()
    fn = find_refresher(tid)
    if fn is None:
        known = ", ".join(registered_templates()) or "none"
        return RefreshResult(
            tid,
            False,
            message=(
                f"Recalculated this workbook. Its template {tid!r} is unknown to this version "
                f"of customer_equity (known templates: {known}), so its outputs were not "
                "rewritten; updating the customer-equity package may help."
            ),
        )

    names = _name_map(book)
    inputs = {
        names[k]: book.read(names[k]) for k in sorted(names) if k.startswith(IN_PREFIX)
    }
    outputs = dict(fn(MappingProxyType(inputs)) or {})

    plan: dict[str, Values] = {}
    for out_name, values in outputs.items():
        key = str(out_name).lower()
        if not key.startswith(OUT_PREFIX):
            raise RefreshError(
                f"Template {tid!r} returned {out_name!r}, which is not a {OUT_PREFIX}* name; "
                "Refresh writes only to output ranges."
            )
        if key not in names:
            raise RefreshError(f"Template {tid!r} returned {out_name!r}, not defined here.")
        if names[key] in plan:
            raise RefreshError(f"Template {tid!r} returned {out_name!r} twice.")
        plan[names[key]] = fit_values(names[key], values, book.shape(names[key]))
    stamp_name = names.get(STAMP_OUTPUT)
    if stamp_name is not None and stamp_name not in plan:
        plan[stamp_name] = fit_values(
            stamp_name, [[content_stamp(tid, inputs)]], book.shape(stamp_name)
        )

    for name, values in plan.items():
        book.write(name, values)
    book.recalculate()
    written = tuple(sorted(plan))
    return RefreshResult(
        tid,
        True,
        written,
        message=f"Refreshed {tid}: rewrote {len(written)} output range(s): {', '.join(written)}.",
    )


# --------------------------------------------------------------------------------------
# Keeping the add-in's functions up to date
# --------------------------------------------------------------------------------------


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
    from customer_equity.addin import ADDIN_FILENAME, functions_in_addin

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


def main() -> RefreshResult:
    """Run Refresh on the workbook that called it (the ribbon's Refresh button)."""
    import xlwings as xw

    book = xw.Book.caller()
    notes = []
    try:
        note = sync_udfs(book)
    except Exception as exc:  # noqa: BLE001 - report, then still recalculate
        note = f"The Customer Equity functions could not be updated: {exc}"
    if note:
        notes.append(note)
    try:
        result = refresh_workbook(XlwingsBook(book))
    except RefreshError as exc:
        result = RefreshResult(None, False, message=f"Refresh stopped, nothing was written: {exc}")
        book.app.alert("\n\n".join(notes + [result.message]), title="Customer Equity")
        return result
    book.app.status_bar = result.message
    if notes or (result.template is not None and not result.recognised):
        book.app.alert("\n\n".join(notes + [result.message]), title="Customer Equity")
    return result


def refresh_file(path: Any, out: Any | None = None) -> RefreshResult:
    """Refresh a workbook file without Excel (openpyxl) and save it to ``out`` (or in place).

    openpyxl drops parts it does not understand (charts, images); use on template files.
    """
    book = OpenpyxlBook.open(path)
    result = refresh_workbook(book)
    book.wb.save(out or path)
    return result
