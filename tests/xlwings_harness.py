"""Call xlwings UDF modules through xlwings' own code paths, as Excel would.

Two runtimes, one module:

* **COM (classic xlwings, Windows desktop Excel).**  Excel calls a VBA wrapper
  (written by ``xlwings.udfs.import_udfs``/``generate_vba_wrapper``), which calls
  ``XLPython.CallUDF`` in ``xlwings/com_server.py``, which calls
  ``xlwings.udfs.call_udf``, which reads the arguments with ``xlwings.conversion.read``
  (range arguments through ``xlwings._xlwindows.Range`` -> ``.Value``) and writes the
  result with ``xlwings.conversion.write``.  On Linux those modules can't be imported
  because they need pywin32, so :class:`ComRuntime` puts *small test doubles of the
  Windows-only modules only* (``pythoncom``, ``pywintypes``, ``win32com.*``,
  ``win32api``, ... and the Windows-only ``ctypes`` attributes) into ``sys.modules``
  while it is active, and doubles of the Excel objects that Excel itself hands over
  (a range argument, ``Application.Caller``, ``ThisWorkbook``).  Everything else that
  runs is xlwings' real code: ``com_server.XLPython.CallUDF``, ``udfs.call_udf``,
  ``udfs.get_udf_module``, ``conversion``, ``_xlwindows.Range``/``Engine``,
  ``udfs.import_udfs``/``generate_vba_wrapper``.

* **Office.js (xlwings Lite / xlwings Server).**  :class:`OfficeJsRuntime` posts the
  same ``data`` dictionary that xlwings' custom-functions JavaScript posts (see
  ``_officejs_body``) to ``xlwings.server.custom_functions_call`` and reads the
  function metadata from ``xlwings.server.custom_functions_meta``.

The decorators ``xlwings.func/arg/ret`` are bound when ``xlwings`` is imported
(no-ops on Linux, ``xlwings.udfs.xlfunc`` & co. on Windows with pywin32,
``xlwings.server.func`` & co. when ``XLWINGS_ON_SERVER=true``/in Lite).  Each runtime
therefore imports the UDF module *afresh* with ``xlwings.func/arg/ret/script`` bound
the way ``xlwings/__init__.py`` binds them on that platform (only during that import),
and puts the previous module object back when it ends.  So one module can be tested
through both runtimes in one process, even with both runtimes active at once.

Cell values in this harness (``Cells`` contents and scalar arguments):

=====================  ===================================  ==========================
Python value           meaning                              COM delivers (pywin32)
=====================  ===================================  ==========================
``None``               blank cell                           ``None``
``int``/``float``      number                               ``float``
``bool``               TRUE/FALSE                           ``bool``
``str``                text (``""``: formula ``=""``)       ``str``
``datetime``/``date``  date-formatted number                ``pywintypes.datetime``
``decimal.Decimal``    Currency-formatted number            ``Decimal`` (VT_CY)
``CellError("#N/A")``  error cell                           ``int`` (-2146826246)
``OMITTED``            argument left out (scalar only)      ``int`` -2147352572
=====================  ===================================  ==========================

See ``_officejs_value`` for what Office.js sends instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import datetime as dt
import decimal
import importlib
import json
import math
import os
import sys
import traceback
import types
from dataclasses import dataclass
from typing import Any

import xlwings

# --------------------------------------------------------------------------------------
# Constants (as pywin32/Excel deliver them)
# --------------------------------------------------------------------------------------

#: What pywin32 hands over for an omitted optional VBA ``Variant`` argument
#: (VT_ERROR with DISP_E_PARAMNOTFOUND); ``call_udf`` maps it to the Python default.
COM_MISSING_ARG = -2147352572

#: Excel error cells as pywin32 reads them via ``Range.Value`` (VT_ERROR scodes);
#: identical to ``xlwings._xlwindows.cell_errors`` (checked in the tests).
COM_ERROR_CODES = {
    "#DIV/0!": -2146826281,
    "#N/A": -2146826246,
    "#NAME?": -2146826259,
    "#NULL!": -2146826288,
    "#NUM!": -2146826252,
    "#REF!": -2146826265,
    "#VALUE!": -2146826273,
}

#: Office.js ``errorType`` names; identical to ``xlwings.pro._xlofficejs``'s mapping.
OFFICEJS_ERROR_TYPES = {
    "#DIV/0!": "Div0",
    "#N/A": "NotAvailable",
    "#NAME?": "Name",
    "#NULL!": "Null",
    "#NUM!": "Num",
    "#REF!": "Ref",
    "#VALUE!": "Value",
}

#: IIDs that xlwings compares against.
IID_IDISPATCH = "{00020400-0000-0000-C000-000000000046}"
IID_RANGE = "{00020846-0000-0000-C000-000000000046}"  # Excel.Range, see is_range_instance

#: The text xlwings-server (app/main.py) sends for a non-XlwingsError in production.
XLWINGS_SERVER_GENERIC_ERROR = "An error ocurred."  # sic


@dataclass(frozen=True)
class CellError:
    """An Excel error value, as input cell content or as what a cell shows.

    ``message`` is the text Office.js shows when hovering over the error flag.
    """

    code: str
    message: str | None = None

    def __post_init__(self):
        if self.code not in COM_ERROR_CODES:
            raise ValueError(f"Unknown Excel error {self.code!r}")


class _Omitted:
    def __repr__(self):
        return "OMITTED"


#: An optional argument left out of the formula, e.g. the 2nd in ``=F(1,,3)``.
OMITTED = _Omitted()


class Cells:
    """A worksheet range passed as an argument (``=F(A1:B3)``): a 2-D list of cells.

    A single-cell reference (``=F(A1)``) is ``Cells([[value]])``: on COM it still
    arrives as a Range object, unlike a literal ``=F(5)``.
    """

    def __init__(self, values, *, sheet: str = "Sheet1", top_left: tuple = (1, 1)):
        rows = [list(row) for row in values]
        if not rows or not rows[0] or any(len(r) != len(rows[0]) for r in rows):
            raise ValueError("Cells needs a non-empty rectangular 2-D list")
        self.values = rows
        self.sheet = sheet
        self.top_left = top_left

    @property
    def shape(self):
        return len(self.values), len(self.values[0])

    def __repr__(self):
        return f"Cells({self.values!r})"


def grid(value) -> list[list]:
    """Normalize what a runtime returned (scalar, 1-D or 2-D) to a 2-D list."""
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list):
        return [[value]]
    if value and not isinstance(value[0], (list, tuple)):
        return [list(value)]
    return [list(r) for r in value]


def assert_grid_equal(got, expected):
    """What a runtime returned equals ``expected`` cell by cell (floats to 1e-12)."""
    import pytest

    got = grid(got)
    assert len(got) == len(expected) and all(len(g) == len(e) for g, e in zip(got, expected)), got
    for g_row, e_row in zip(got, expected):
        for g, e in zip(g_row, e_row):
            if isinstance(e, float):
                assert g == pytest.approx(e, rel=1e-12, abs=1e-12), (got, expected)
            else:
                assert g == e, (got, expected)


# --------------------------------------------------------------------------------------
# Doubles of the Windows-only modules (pywin32 & ctypes' Windows-only attributes)
# --------------------------------------------------------------------------------------


class _ComError(Exception):
    """pywintypes.com_error: args are (hresult, strerror, excepinfo, argerror)."""

    def __init__(self, hresult=None, strerror=None, excepinfo=None, argerror=None):
        super().__init__(hresult, strerror, excepinfo, argerror)
        self.hresult = hresult
        self.strerror = strerror
        self.excepinfo = excepinfo
        self.argerror = argerror


class _COMException(_ComError):
    """win32com.server.exception.COMException (same keywords as pywin32's)."""

    def __init__(
        self,
        description=None,
        scode=None,
        source=None,
        helpfile=None,
        helpContext=None,
        desc=None,
        hresult=None,
    ):
        scode = scode or hresult or -2147467259  # E_FAIL
        self.scode = scode
        self.description = description or desc
        self.source = source
        self.helpfile = helpfile
        self.helpcontext = helpContext
        super().__init__(scode, self.description, None, -1)


class _PyTime(dt.datetime):
    """pywintypes.TimeType (pywintypes.datetime), a datetime subclass."""


class _TypeAttr:
    def __init__(self, iid):
        self.iid = iid


class _TypeInfo:
    def __init__(self, name, iid):
        self._name, self._iid = name, iid

    def GetDocumentation(self, index):
        return (self._name, None, 0, None)

    def GetTypeAttr(self):
        return _TypeAttr(self._iid)


class _PyIDispatch:
    """A raw IDispatch pointer as pywin32 hands it to a COM server method."""

    def __init__(self, target):
        self._target = target

    def GetTypeInfo(self):
        return _TypeInfo(self._target._com_type_name, self._target._com_iid)

    def QueryInterface(self, iid):
        return self


class _CDispatch:
    """win32com.client.CDispatch (late-bound wrapper); the Excel doubles derive from it."""

    _com_type_name = "Object"
    _com_iid = None

    @property
    def _oleobj_(self):
        return _PyIDispatch(self)

    def __getattr__(self, item):
        # Fail loudly: if xlwings starts using an attribute the doubles don't model,
        # the test must break rather than silently diverge from Excel.
        raise AttributeError(
            f"Excel double {type(self).__name__} has no attribute {item!r}"
        )


def _dispatch(obj, userName=None, resultCLSID=None, **kwargs):
    """win32com.client.Dispatch for objects that are already COM objects."""
    if isinstance(obj, _PyIDispatch):
        return obj._target
    if isinstance(obj, _CDispatch):
        return obj
    raise NotImplementedError(
        f"Dispatch({obj!r}) would start a COM server; not modelled by the harness"
    )


def _unwrap(ob):
    """win32com.server.util.unwrap: only Python-implemented COM objects unwrap."""
    raise ValueError("not a Python-implemented COM object")


def _not_on_linux(name):
    def f(*args, **kwargs):
        raise NotImplementedError(f"{name} is Windows-only and not modelled")

    f.__name__ = name
    return f


class _WinDLL:
    """ctypes.windll/oledll/PyDLL double: any function is a no-op returning 0."""

    def __init__(self, *args, **kwargs):
        pass

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _WinDLL()

    def __call__(self, *args, **kwargs):
        return 0


def _module(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    m.__file__ = f"<xlwings_harness double of {name}>"
    return m


def _windows_doubles() -> dict[str, types.ModuleType]:
    pywintypes = _module(
        "pywintypes",
        com_error=_ComError,
        TimeType=_PyTime,
        datetime=_PyTime,
        IID=lambda s: str(s).upper(),
    )
    pythoncom = _module(
        "pythoncom",
        IID_IDispatch=IID_IDISPATCH,
        IID_IEnumVARIANT="{00020404-0000-0000-C000-000000000046}",
        TypeIIDs={IID_IDISPATCH: _PyIDispatch},
        com_error=_ComError,
        ole_error=_ComError,
        CoInitialize=lambda *a: None,
        CoUninitialize=lambda *a: None,
        # ComRange marshals the caller between threads; a double passes it through.
        CoMarshalInterThreadInterfaceInStream=lambda iid, obj: obj,
        CoGetInterfaceAndReleaseStream=lambda stream, iid: stream,
        PumpWaitingMessages=lambda: 0,
    )
    win32com = _module("win32com", __path__=[])
    client = _module(
        "win32com.client",
        Dispatch=_dispatch,
        DispatchEx=_not_on_linux("DispatchEx"),
        CDispatch=_CDispatch,
        CoClassBaseClass=type("CoClassBaseClass", (), {}),
        DispatchBaseClass=type("DispatchBaseClass", (), {}),
        __path__=[],
    )
    client.gencache = _module(
        "win32com.client.gencache", EnsureModule=lambda *a, **k: None
    )
    server = _module("win32com.server", __path__=[])
    exception = _module("win32com.server.exception", COMException=_COMException)
    util = _module(
        "win32com.server.util", wrap=_not_on_linux("wrap"), unwrap=_unwrap
    )
    policy = _module("win32com.server.policy", DefaultPolicy=type("DefaultPolicy", (), {}))
    dispatcher = _module("win32com.server.dispatcher")
    win32com.client, win32com.server = client, server
    server.exception, server.util = exception, util
    server.policy, server.dispatcher = policy, dispatcher
    timezone = _module(
        "win32timezone",
        TimeZoneInfo=type(
            "TimeZoneInfo", (), {"utc": staticmethod(lambda: dt.timezone.utc)}
        ),
    )
    return {
        "pywintypes": pywintypes,
        "pythoncom": pythoncom,
        "win32com": win32com,
        "win32com.client": client,
        "win32com.client.gencache": client.gencache,
        "win32com.server": server,
        "win32com.server.exception": exception,
        "win32com.server.util": util,
        "win32com.server.policy": policy,
        "win32com.server.dispatcher": dispatcher,
        "win32api": _module("win32api", GetCurrentThreadId=lambda: 1),
        "win32con": _module("win32con"),
        "win32event": _module("win32event"),
        "win32gui": _module("win32gui"),
        "win32process": _module(
            "win32process", GetWindowThreadProcessId=lambda hwnd: (1, 4242)
        ),
        "win32timezone": timezone,
    }


# --------------------------------------------------------------------------------------
# Doubles of the Excel objects that Excel passes to the VBA wrapper
# --------------------------------------------------------------------------------------


def _col_name(col: int) -> str:
    name = ""
    while col:
        col, rem = divmod(col - 1, 26)
        name = chr(65 + rem) + name
    return name


class _Count(_CDispatch):
    def __init__(self, n):
        self.Count = n


class FakeApplication(_CDispatch):
    _com_type_name = "_Application"

    def __init__(self, version="16.0", hwnd=1234):
        self.Version = version
        self.Hwnd = hwnd
        self.macro_options: list[tuple[tuple, dict]] = []

    def MacroOptions(self, *args, **kwargs):
        self.macro_options.append((args, kwargs))


class FakeVBComponents(_CDispatch):
    def __init__(self):
        self.components: dict[str, str] = {}

    def __call__(self, name):
        if name not in self.components:
            raise _ComError(-2147352565, "Invalid index.", None, None)
        return name

    def Remove(self, component):
        self.components.pop(component, None)

    def Import(self, filename):
        with open(filename) as f:
            text = f.read()
        name = text.split('Attribute VB_Name = "', 1)[1].split('"', 1)[0]
        self.components[name] = text


class FakeWorkbook(_CDispatch):
    _com_type_name = "_Workbook"

    def __init__(self, name="Book1.xlsm", app=None, sheet_names=("Sheet1",)):
        self.Name = name
        self.Application = app or FakeApplication()
        self.Parent = self.Application
        self._sheets = [FakeSheet(n, self) for n in sheet_names]
        self.VBProject = types.SimpleNamespace(VBComponents=FakeVBComponents())

    @property
    def Worksheets(self):
        return FakeSheets(self._sheets)

    def sheet(self, name):
        for s in self._sheets:
            if s.Name == name:
                return s
        s = FakeSheet(name, self)
        self._sheets.append(s)
        return s


class FakeSheets(_CDispatch):
    def __init__(self, sheets):
        self._items = list(sheets)
        self.Count = len(self._items)

    def __iter__(self):
        return iter(self._items)

    def __call__(self, name_or_index):
        if isinstance(name_or_index, int):
            return self._items[name_or_index - 1]
        for s in self._items:
            if s.Name.lower() == str(name_or_index).lower():
                return s
        raise _ComError(-2147352565, "Invalid index.", None, None)


class FakeSheet(_CDispatch):
    _com_type_name = "_Worksheet"

    def __init__(self, name, book):
        self.Name = name
        self.Parent = book
        self.log: list[tuple] = []  # writes Excel would perform (legacy expand only)

    def Cells(self, row, col):
        return FakeRange(self, row, col, [[None]])

    def Range(self, cell1, cell2=None):
        cell2 = cell2 or cell1
        rows = cell2.Row - cell1.Row + 1
        cols = cell2.Column - cell1.Column + 1
        return FakeRange(self, cell1.Row, cell1.Column, [[None] * cols] * rows)


class FakeRange(_CDispatch):
    """Excel.Range double: ``.Value`` gives what pywin32 gives (scalar for one cell,
    tuple of row tuples otherwise)."""

    _com_type_name = "Range"
    _com_iid = IID_RANGE

    def __init__(self, sheet, row, col, values, has_array=False):
        self.Worksheet = sheet
        self.Parent = sheet
        self.Row = row
        self.Column = col
        self._values = [list(r) for r in values]
        self.HasArray = has_array
        self.Formula = self.Formula2 = self.FormulaArray = ""
        self.written: list = []

    @property
    def _shape(self):
        return len(self._values), len(self._values[0])

    @property
    def Rows(self):
        return _Count(self._shape[0])

    @property
    def Columns(self):
        return _Count(self._shape[1])

    @property
    def Count(self):
        return self._shape[0] * self._shape[1]

    @property
    def Address(self):
        rows, cols = self._shape
        first = f"${_col_name(self.Column)}${self.Row}"
        if rows == cols == 1:
            return first
        return f"{first}:${_col_name(self.Column + cols - 1)}${self.Row + rows - 1}"

    @property
    def Value(self):
        frozen = self.__dict__.get("_frozen")
        if frozen is not None:
            return frozen
        if self._shape == (1, 1):
            return self._values[0][0]
        return tuple(tuple(r) for r in self._values)

    # Only for the legacy ``@xw.ret(expand="table")`` resize (udfs.ComRange &
    # delayed_resize_dynamic_array_formula):
    CLSID = "{00020846-0000-0000-C000-000000000046}"

    def __call__(self, row, col):  # Range.Item(row, col), relative to the top left
        return FakeRange(self.Worksheet, self.Row + row - 1, self.Column + col - 1, [[None]])

    def ClearContents(self):
        self.Worksheet.log.append(("ClearContents", self.Address))

    def __setattr__(self, name, value):
        if name == "FormulaArray" and value:
            self.Worksheet.log.append(("FormulaArray", self.Address, value))
        object.__setattr__(self, name, value)


def _com_cell_value(v):
    """A cell's content as pywin32 returns it from ``Range.Value``."""
    if isinstance(v, CellError):
        return COM_ERROR_CODES[v.code]
    if v is None or isinstance(v, (bool, str, decimal.Decimal)):
        return v
    if isinstance(v, dt.datetime):
        return _PyTime(*v.timetuple()[:6], v.microsecond, tzinfo=dt.timezone.utc)
    if isinstance(v, dt.date):
        return _PyTime(v.year, v.month, v.day, tzinfo=dt.timezone.utc)
    if isinstance(v, (int, float)):
        return float(v)  # Excel stores numbers as doubles; VBA passes Double
    if v is OMITTED:
        raise TypeError("OMITTED is an argument, not cell content")
    raise TypeError(f"{v!r} can't be an Excel cell value")


# --------------------------------------------------------------------------------------
# The COM runtime
# --------------------------------------------------------------------------------------


@contextlib.contextmanager
def _patched_ctypes():
    """ctypes' Windows-only attributes, needed while ``_xlwindows`` is imported."""
    missing = object()
    saved = {n: getattr(ctypes, n, missing) for n in ("windll", "oledll", "PyDLL")}
    ctypes.windll = _WinDLL()
    ctypes.oledll = _WinDLL()
    ctypes.PyDLL = _WinDLL
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                delattr(ctypes, name)
            else:
                setattr(ctypes, name, value)


class _ModuleSwap:
    """Save/restore ``sys.modules`` entries and attributes of parent packages."""

    _missing = object()

    def __init__(self):
        self._saved: dict[str, Any] = {}
        self._attrs: list[tuple[object, str, Any]] = []

    def save(self, name):
        if name not in self._saved:
            self._saved[name] = sys.modules.get(name, self._missing)

    def pop(self, name):
        self.save(name)
        sys.modules.pop(name, None)

    def put(self, name, module):
        self.save(name)
        sys.modules[name] = module

    def setattr(self, obj, name, value):
        self._attrs.append((obj, name, getattr(obj, name, self._missing)))
        setattr(obj, name, value)

    def restore(self):
        for obj, name, value in reversed(self._attrs):
            if value is self._missing:
                with contextlib.suppress(AttributeError):
                    delattr(obj, name)
            else:
                setattr(obj, name, value)
        self._attrs.clear()
        for name, module in self._saved.items():
            parent_name, _, child = name.rpartition(".")
            parent = sys.modules.get(parent_name) if parent_name else None
            if module is self._missing:
                sys.modules.pop(name, None)
                if parent is not None and getattr(parent, child, None) is not None:
                    with contextlib.suppress(AttributeError):
                        delattr(parent, child)
            else:
                sys.modules[name] = module
                if parent is not None:
                    setattr(parent, child, module)
        self._saved.clear()


class _Runtime:
    """Shared part: rebinding the decorators and importing UDF modules afresh."""

    decorator_source: str = ""

    def __init__(self):
        self._swap = _ModuleSwap()
        self._modules: dict[str, types.ModuleType] = {}

    def _set_decorators(self, func, arg, ret, script, sub=None):
        self._decorators = {"func": func, "arg": arg, "ret": ret, "script": script}
        if sub is not None:
            self._decorators["sub"] = sub

    @contextlib.contextmanager
    def decorators(self):
        """Bind ``xlwings.func/arg/ret/script(/sub)`` to this runtime's implementation
        -- what ``xlwings/__init__.py`` does at import time on that platform.

        Only held while a UDF module is imported, so that a COM and an Office.js
        runtime can be active at the same time.
        """
        swap = _ModuleSwap()
        for name, value in self._decorators.items():
            swap.setattr(xlwings, name, value)
        try:
            yield
        finally:
            swap.restore()

    def _forget_module(self, module_name):
        """Make the next import of ``module_name`` execute it again."""
        self._swap.pop(module_name)

    def __exit__(self, *exc):
        self._swap.restore()
        self._modules.clear()
        return False


class ComRuntime(_Runtime):
    """Windows COM path with doubles of the Windows-only modules.

    Use as a context manager::

        with ComRuntime() as com:
            com.call("toy_udfs", "add", 1, Cells([[2]]))
    """

    def __init__(self, workbook_name: str = "Book1.xlsm", excel_version: str = "16.0"):
        super().__init__()
        self.app = FakeApplication(version=excel_version)
        self.workbook = FakeWorkbook(workbook_name, app=self.app)

    # -- setup/teardown ----------------------------------------------------------------
    def __enter__(self):
        try:
            for name, module in _windows_doubles().items():
                self._swap.put(name, module)
            for name in ("xlwings._xlwindows", "xlwings.udfs", "xlwings.com_server"):
                self._swap.pop(name)
                self._swap.setattr(xlwings, name.split(".")[1], None)
            with _patched_ctypes():
                self.xlwindows = importlib.import_module("xlwings._xlwindows")
            self.udfs = importlib.import_module("xlwings.udfs")
            self.com_server = importlib.import_module("xlwings.com_server")
            # What xlwings/__init__.py does on Windows with pywin32:
            engines = xlwings.engines
            self._swap.setattr(engines, "engines", list(engines.engines))
            self._swap.setattr(engines, "engines_by_name", dict(engines.engines_by_name))
            engines.add(xlwings.Engine(impl=self.xlwindows.engine))
            u = self.udfs
            self._set_decorators(u.xlfunc, u.xlarg, u.xlret, u.xlsub, sub=u.xlsub)
        except BaseException:
            self._swap.restore()
            raise
        return self

    def __exit__(self, *exc):
        with contextlib.suppress(Exception):
            self.com_server.loop.close()
        with contextlib.suppress(Exception):
            self.udfs.com_executor.shutdown(wait=True)
        return super().__exit__(*exc)

    # -- modules -----------------------------------------------------------------------
    def module(self, module_name: str) -> types.ModuleType:
        """The UDF module as xlwings' own ``get_udf_module`` imports it on COM."""
        if module_name not in self._modules:
            self._forget_module(module_name)
            self.udfs.udf_modules.pop(module_name, None)
            with self.decorators():
                self._modules[module_name] = self.udfs.get_udf_module(
                    module_name, _PyIDispatch(self.workbook)
                )
        return self._modules[module_name]

    # -- calling -----------------------------------------------------------------------
    def _variant(self, value):
        """An argument as the VBA wrapper's ``Array(...)`` hands it to CallUDF."""
        if value is OMITTED:
            return COM_MISSING_ARG
        if isinstance(value, Cells):
            sheet = self.workbook.sheet(value.sheet)
            com_values = [[_com_cell_value(v) for v in row] for row in value.values]
            row, col = value.top_left
            return _PyIDispatch(FakeRange(sheet, row, col, com_values))
        if isinstance(value, (dt.date, decimal.Decimal)):
            raise TypeError("a literal can't be a date/currency; put it in Cells")
        return _com_cell_value(value)

    def call(
        self,
        module_name: str,
        func_name: str,
        *args,
        caller_shape: tuple[int, int] = (1, 1),
        caller_top_left: tuple[int, int] = (1, 10),
        has_array: bool = False,
        formula: str | None = None,
    ):
        """Call ``func_name`` like Excel does through the VBA wrapper.

        Returns exactly what ``XLPython.CallUDF`` returns to VBA: a scalar for a 1x1
        result, a 1-D list for one row, else a list of row lists.  Exceptions
        propagate as they would to pywin32; see :func:`com_error_text` for the text
        the cell then shows.
        """
        module = self.module(module_name)
        info = getattr(module, func_name).__xlfunc__
        declared = info["args"]
        if info["async_mode"]:
            raise NotImplementedError("async_mode='threading' isn't modelled")
        if any(a["name"] == "caller" for a in declared):
            raise NotImplementedError("the reserved 'caller' argument isn't modelled")
        if any(a["vba"] for a in declared):
            raise NotImplementedError("@xw.arg(vba=...) isn't modelled")
        args = list(args)
        has_vararg = bool(declared) and declared[-1]["vararg"]
        fixed = declared[:-1] if has_vararg else declared
        if len(args) < len(fixed):
            # The wrapper's Array(...) always lists every declared argument: omitted
            # Optional ones arrive as "missing".
            for a in fixed[len(args) :]:
                if "optional" not in a:
                    raise TypeError(f"required argument {a['name']!r} not given")
                args.append(OMITTED)
        if len(args) > len(fixed) and not has_vararg:
            raise TypeError(f"{func_name} takes {len(fixed)} arguments")
        sheet = self.workbook.sheet("Sheet1")
        caller = FakeRange(
            sheet,
            *caller_top_left,
            [[None] * caller_shape[1] for _ in range(caller_shape[0])],
            has_array=has_array,
        )
        caller.Formula = caller.Formula2 = formula or f"={func_name}()"
        self.last_caller = caller
        com_args = tuple(self._variant(a) for a in args)
        xlpython = self.com_server.XLPython()
        return xlpython.CallUDF(
            module_name,
            func_name,
            com_args,
            _PyIDispatch(self.workbook),  # ThisWorkbook
            _PyIDispatch(caller),  # Application.Caller
        )

    def prepared(self, module_name: str, func_name: str, *args):
        """A zero-argument callable that repeats one call through ``CallUDF`` with the
        arguments marshalled once, for benchmarks: it times xlwings' COM server,
        ``call_udf``, ``conversion`` and the UDF, not this harness's Python stand-in
        for pywin32's (C++) marshalling of a range's values."""
        module = self.module(module_name)
        declared = getattr(module, func_name).__xlfunc__["args"]
        args = list(args) + [OMITTED] * (len(declared) - len(args))
        com_args = tuple(self._variant(a) for a in args)
        for a in com_args:
            target = getattr(a, "_target", None)
            if isinstance(target, FakeRange):
                object.__setattr__(target, "_frozen", target.Value)
        caller = FakeRange(self.workbook.sheet("Sheet1"), 1, 10, [[None]])
        caller.Formula = caller.Formula2 = f"={func_name}()"
        xlpython = self.com_server.XLPython()
        workbook, caller_disp = _PyIDispatch(self.workbook), _PyIDispatch(caller)
        return lambda: xlpython.CallUDF(module_name, func_name, com_args, workbook, caller_disp)

    def run_background(self, seconds: float = 0.5) -> list[tuple]:
        """Run the COM server's event loop for a while (it runs in a thread in
        ``com_server.serve``) so that work ``call_udf`` scheduled there executes, e.g.
        the legacy ``expand="table"`` resize.  Returns the writes to the sheet."""
        loop = self.com_server.loop
        loop.run_until_complete(asyncio.sleep(seconds))
        return list(self.workbook.sheet("Sheet1").log)

    def call_cell(self, module_name, func_name, *args, **kwargs):
        """What the calling cell shows: the value, or on an exception the text that
        the VBA wrapper's ``failed:`` label writes (``Err.Description``)."""
        try:
            return self.call(module_name, func_name, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - that's what the wrapper catches
            return com_error_text(exc)

    # -- "Import Functions" --------------------------------------------------------------
    def import_functions(self, module_names: str | list[str]) -> "ImportedVBA":
        """Run xlwings' own ``import_udfs`` against the workbook double.

        Returns the VBA module text that Excel would import and the arguments of every
        ``Application.MacroOptions`` call.
        """
        if isinstance(module_names, str):
            module_names = [module_names]
        for name in module_names:
            self.module(name)  # import afresh under the COM decorators
        self.app.macro_options.clear()
        self.udfs.import_udfs(";".join(module_names), self.workbook)
        components = self.workbook.VBProject.VBComponents.components
        return ImportedVBA(components["xlwings_udfs"], list(self.app.macro_options))

    def vba_wrapper(self, module_name: str) -> str:
        """Only ``generate_vba_wrapper``'s output for one module (no file header)."""
        import io

        buffer = io.StringIO()
        self.udfs.generate_vba_wrapper(
            module_name, self.module(module_name), buffer, self.workbook
        )
        return buffer.getvalue()


@dataclass
class ImportedVBA:
    vba: str
    macro_options: list[tuple[tuple, dict]]

    def macro_options_for(self, func_name: str) -> dict:
        for args, kwargs in self.macro_options:
            if args[0].endswith("!" + func_name):
                return dict(kwargs, Macro=args[0])
        raise KeyError(func_name)

    def function_block(self, func_name: str) -> str:
        lines = self.vba.splitlines()
        for i, line in enumerate(lines):
            if line.startswith(("Function ", "Sub ")) and line.split()[1].startswith(
                func_name + "("
            ):
                end = next(
                    j for j in range(i, len(lines)) if lines[j].startswith("End ")
                )
                return "\n".join(lines[i : end + 1])
        raise KeyError(func_name)


def com_error_text(exc: BaseException) -> str:
    """The text a COM UDF's cell shows when the Python function raised ``exc``.

    Chain of custody (none of it runs on Linux, so it is reproduced here):

    1. pywin32's COM server (``com/win32com/src/ErrorUtils.cpp``,
       ``PyCom_ExcepInfoFromPyException``): for an exception that is not a
       ``pythoncom.com_error`` *subclass* (e.g. ``COMException``), the EXCEPINFO
       description is ``"Unexpected Python Error: "`` + the output of
       ``traceback.print_exception(type, value, tb, None, file, chain=False)``
       (``GetPythonTraceback`` in PyWinTypesmodule.cpp); for a ``COMException`` it is
       its ``description``, verbatim.
    2. xlwings' DLL (``xlwingsdll/dispatch.cpp``, ``CDispatchWrapper::Invoke``): if the
       description starts with ``"Unexpected Python Error: Traceback (most recent call
       last):"`` it is split on ``\\n``, the first line dropped, the remaining non-empty
       lines put in *reverse* order and joined with ``\\n`` -- so the exception line
       (``ValueError: ...``) comes first, then the innermost frames.
    3. The VBA wrapper: ``On Error GoTo failed`` ... ``failed: f = Err.Description``.

    The traceback here starts at ``XLPython.CallUDF``; in Excel it also has pywin32's
    ``win32com/server/policy.py`` frames above it, which end up at the *end* of the
    reversed text, so the beginning of the cell text is the same.
    """
    if isinstance(exc, _ComError) or _is_real_com_error(exc):
        if type(exc).__name__ == "com_error":
            # A plain com_error raised by a COM *client* call inside the UDF: pywin32
            # takes the excepinfo's description.
            info = getattr(exc, "excepinfo", None) or (None,) * 6
            return info[2] or ""
        return getattr(exc, "description", None) or ""
    # Start the traceback where pywin32 would: at the COM server method (the frames
    # above it belong to whoever called it -- here the harness).
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_name != "CallUDF":
        tb = tb.tb_next
    if tb is None:
        tb = exc.__traceback__
    text = "Unexpected Python Error: " + "".join(
        traceback.format_exception(type(exc), exc, tb, chain=False)
    )
    parts = text.split("\n")
    if parts[0] == "Unexpected Python Error: Traceback (most recent call last):":
        text = "\n".join(p for p in reversed(parts[1:]) if p)
    return text


def _is_real_com_error(exc):
    pywintypes = sys.modules.get("pywintypes")
    com_error = getattr(pywintypes, "com_error", None)
    return isinstance(com_error, type) and isinstance(exc, com_error)


# --------------------------------------------------------------------------------------
# The Office.js runtime (xlwings Server / xlwings Lite)
# --------------------------------------------------------------------------------------


def _js_number(x):
    """A number after JSON.stringify in JS and json.loads in Python: integral -> int."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 2**53:
        return int(x)
    return x


def _officejs_value(v, empty_cell):
    """One cell as Excel's custom-functions runtime passes it to JavaScript (then JSON).

    * blank cell -> ``empty_cell`` (xlwings' docs: ``0``; xlwings 0.37.8's
      ``_xlofficejs`` comment: JS ``null`` -- test both, see ``OFFICEJS_EMPTY_CELLS``)
    * numbers -> JS numbers (integral values become Python ``int`` after JSON)
    * date-formatted cells -> their serial number (Office.js has no date type here)
    * error cells -> an Excel.ErrorCellValue-like object (metadata sets
      ``allowErrorForDataTypeAny``); xlwings reads ``type``/``basicValue``.
    """
    if v is None:
        return empty_cell
    if isinstance(v, CellError):
        return {
            "type": "Error",
            "basicType": "Error",
            "basicValue": v.code,
            "errorType": OFFICEJS_ERROR_TYPES[v.code],
        }
    if isinstance(v, bool) or isinstance(v, str):
        return v
    if isinstance(v, (dt.date, dt.datetime)):
        from xlwings.utils import datetime_to_xlserial

        if not isinstance(v, dt.datetime):
            v = dt.datetime(v.year, v.month, v.day)
        return _js_number(float(datetime_to_xlserial(v)))
    if isinstance(v, decimal.Decimal):
        return _js_number(float(v))
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError("Excel cells can't hold NaN/inf")
        return _js_number(float(v))
    raise TypeError(f"{v!r} can't be an Excel cell value")


#: The two candidates for a blank cell inside a referenced range on Office.js.
OFFICEJS_EMPTY_CELLS = (0, None)


def _officejs_arg(value, empty_cell):
    """Every parameter is declared ``dimensionality: matrix`` -> always a 2-D array."""
    if value is OMITTED:
        return None  # JS null (undefined in the arguments array -> null in JSON)
    if isinstance(value, Cells):
        return [[_officejs_value(v, empty_cell) for v in row] for row in value.values]
    return [[_officejs_value(value, empty_cell)]]


class OfficeJsRuntime(_Runtime):
    """xlwings Server / Lite custom functions through ``xlwings.server``.

    ``XLWINGS_LICENSE_KEY=noncommercial`` is set only while the runtime is active
    (unless a key is already set).
    """

    def __init__(self, *, runtime: str = "1.4", empty_cell: Any = 0):
        super().__init__()
        self.runtime = runtime
        self.empty_cell = empty_cell

    def __enter__(self):
        try:
            self._old_key = os.environ.get("XLWINGS_LICENSE_KEY")
            if not self._old_key:
                os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"
            server = importlib.import_module("xlwings.server")
            self.server = server
            engines = xlwings.engines
            if "officejs" not in engines.engines_by_name:
                # xlwings/__init__.py registers it only when a license key was
                # present at import time.
                from xlwings.pro import _xlofficejs

                self._swap.setattr(engines, "engines", list(engines.engines))
                self._swap.setattr(
                    engines, "engines_by_name", dict(engines.engines_by_name)
                )
                engines.add(xlwings.Engine(impl=_xlofficejs.engine))
            # What xlwings/__init__.py does when XLWINGS_ON_SERVER=true (and in Lite):
            self._set_decorators(server.func, server.arg, server.ret, server.script)
        except BaseException:
            self._restore_key()
            self._swap.restore()
            raise
        return self

    def _restore_key(self):
        if not self._old_key:
            os.environ.pop("XLWINGS_LICENSE_KEY", None)

    def __exit__(self, *exc):
        self._restore_key()
        return super().__exit__(*exc)

    def module(self, module_name: str) -> types.ModuleType:
        if module_name not in self._modules:
            self._forget_module(module_name)
            with self.decorators():
                self._modules[module_name] = importlib.import_module(module_name)
        return self._modules[module_name]

    def meta(self, module_name: str) -> dict:
        """``custom_functions_meta``: what the add-in registers (functions.json)."""
        return self.server.custom_functions_meta(self.module(module_name))

    def body(
        self,
        module_name: str,
        func_name: str,
        *args,
        caller_address: str = "[Book1.xlsx]Sheet1!J1",
        **extra,
    ) -> dict:
        """The JSON body that xlwings' custom-functions JavaScript posts.

        From ``base()`` in xlwings' ``custom_functions_code.js`` (xlwings repo) and
        xlwings-server's ``custom-functions-code.js``: ``{func_name, args,
        caller_address, content_language, version, runtime}``; ``args`` holds one
        entry per *declared* parameter (Excel passes ``null`` for omitted ones).
        Extra keys (e.g. ``date_format``, ``culture_info_name``) are read by
        ``custom_functions_call`` if present.
        """
        module = self.module(module_name)
        info = getattr(module, func_name).__xlfunc__
        declared = info["args"]
        has_vararg = bool(declared) and declared[-1]["vararg"]
        fixed = declared[:-1] if has_vararg else declared
        args = list(args)
        if len(args) > len(fixed) and not has_vararg:
            raise TypeError(f"{func_name} takes {len(fixed)} arguments")
        for a in fixed[len(args) :]:
            if "optional" not in a:
                raise TypeError(f"required argument {a['name']!r} not given")
            args.append(OMITTED)
        encoded = [_officejs_arg(a, self.empty_cell) for a in args[: len(fixed)]]
        if has_vararg:
            encoded.append([_officejs_arg(a, self.empty_cell) for a in args[len(fixed) :]])
        body = {
            "func_name": func_name,
            "args": encoded,
            "caller_address": caller_address,
            "content_language": "en-US",
            "version": xlwings.__version__,
            "runtime": self.runtime,
        }
        body.update(extra)
        # Over HTTP (Server) or Pyodide's to_py (Lite) the body is plain JSON data.
        return json.loads(json.dumps(body, allow_nan=False))

    def call(self, module_name: str, func_name: str, *args, **body_kwargs):
        """``custom_functions_call`` with the JS body; returns the JSON-able result
        (``{"result": value}`` is what the server sends back, we return ``value``).
        Exceptions propagate; see :func:`officejs_error` for what the cell shows."""
        data = self.body(module_name, func_name, *args, **body_kwargs)
        result = asyncio.run(
            self.server.custom_functions_call(data, self.module(module_name))
        )
        # The web framework serializes it; NaN would not be valid JSON.
        return json.loads(json.dumps({"result": result}, allow_nan=False))["result"]

    def call_cell(self, module_name, func_name, *args, host="server", environment="production", **kw):
        """What the cell shows: the value or a :class:`CellError` for an exception."""
        try:
            return self.call(module_name, func_name, *args, **kw)
        except Exception as exc:  # noqa: BLE001
            return officejs_error(exc, host=host, environment=environment, runtime=self.runtime)


def officejs_error(
    exc: BaseException,
    *,
    host: str = "server",
    environment: str = "production",
    runtime: str = "1.4",
):
    """What an Office.js cell shows when the custom function raised ``exc``.

    xlwings Server (``xlwings-server`` ``app/main.py``): ``XlwingsError`` ->
    HTTP 500 with ``str(exc)``; any other exception -> ``repr(exc)`` if
    ``settings.environment == "dev"`` else ``"An error ocurred."``.  The JS
    (``custom-functions-code.js`` ``makeApiCall``) retries a failed call up to 5 times,
    then ``showError(text)``: ``throw new CustomFunctions.Error(invalidValue, text)``
    -> ``#VALUE!`` with the text on the error flag (CustomFunctionsRuntime >= 1.2),
    else the text itself in the cell.

    xlwings Lite (``app/lite/main.py`` in xlwings-server): ``{"error": str(e),
    "details": traceback}`` goes back to the add-in's JS, whose source isn't public;
    we assume it shows ``str(e)`` like ``showError`` (not verifiable here).
    """
    if host == "server":
        if isinstance(exc, xlwings.XlwingsError):
            text = str(exc)
        elif environment == "dev":
            text = repr(exc)
        else:
            text = XLWINGS_SERVER_GENERIC_ERROR
    elif host == "lite":
        text = str(exc)
    else:
        raise ValueError(host)
    if float(runtime) >= 1.2:
        return CellError("#VALUE!", text)
    return text


# --------------------------------------------------------------------------------------
# Convenience one-shot calls
# --------------------------------------------------------------------------------------


def call_com(module_name: str, func_name: str, *args, caller_shape=(1, 1), **kwargs):
    """One call through the COM path (sets up and tears down a :class:`ComRuntime`)."""
    with ComRuntime() as com:
        return com.call(module_name, func_name, *args, caller_shape=caller_shape, **kwargs)


def call_officejs(module_name: str, func_name: str, *args, empty_cell=0, runtime="1.4", **kwargs):
    """One call through the Office.js path (sets up and tears down the runtime)."""
    with OfficeJsRuntime(empty_cell=empty_cell, runtime=runtime) as ojs:
        return ojs.call(module_name, func_name, *args, **kwargs)


def vba_for_module(module_name: str, workbook_name: str = "Book1.xlsm") -> ImportedVBA:
    """The VBA and MacroOptions that "Import Functions" produces for ``module_name``."""
    with ComRuntime(workbook_name=workbook_name) as com:
        return com.import_functions(module_name)


def runtime_of(decorator) -> str:
    """Which implementation a bound ``xlwings.func`` is: "com", "officejs" or "none"."""
    module = getattr(decorator, "__module__", "")
    if module == "xlwings.udfs":
        return "com"
    if module == "xlwings.pro.udfs_officejs":
        return "officejs"
    return "none"


__all__ = [
    "COM_ERROR_CODES",
    "COM_MISSING_ARG",
    "CellError",
    "Cells",
    "ComRuntime",
    "ImportedVBA",
    "OFFICEJS_EMPTY_CELLS",
    "OFFICEJS_ERROR_TYPES",
    "OMITTED",
    "OfficeJsRuntime",
    "call_com",
    "call_officejs",
    "com_error_text",
    "grid",
    "officejs_error",
    "runtime_of",
    "vba_for_module",
]
