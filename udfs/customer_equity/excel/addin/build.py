"""Build ``customer_equity.xlam`` from xlwings' own add-in template.

The add-in is xlwings' "custom add-in with ribbon" (``xlwings quickstart NAME --addin
--ribbon``), copied from the *installed* xlwings package at build time, so that its VBA
always matches the installed xlwings and its DLL. Only XML parts are rewritten:

- ``customUI/customUI.xml``: our ribbon (source: ``addin/customUI.xml`` in the repository,
  installed as the package data ``customer_equity.addin_data``);
- the configuration sheet: renamed from ``_myaddin.conf`` to ``myaddin.conf`` (the template's
  VBA looks for a sheet called ``PROJECT_NAME & ".conf"``, and ``PROJECT_NAME`` is the VBA
  constant ``"myaddin"``, which we cannot change without touching the VBA), with the
  interpreter that ran the build and, on the COM route, ``customer_equity.excel.functions`` as the UDF
  module (empty on the xlwings Lite route: the add-in then serves Refresh only);
- ``xl/workbook.xml`` and ``docProps/app.xml``: the sheet name, and one defined name
  ``CE_ADDIN_BUILD`` recording the package and xlwings versions.

The ribbon's Refresh button is the template's callback ``RibbonMyAddin.RunMain``, which runs
``import <file name>; <file name>.main()``: the file must therefore be called
``customer_equity.xlam`` for it to run :func:`customer_equity.main`.

The *Share as values* button needs a second callback, and the template's VBA has one
(``RunMain``), which we do not change. So it lives in a second add-in built the same way
(:func:`build_share`): ``customer_equity.excel.freeze.xlam``, whose ``RunMain`` runs
:func:`customer_equity.excel.freeze.main`, with its own small ribbon
(``addin/customUI_share.xml``) that joins the same tab (qualified ids ``ce:ceTab``) and no
UDF module, so that it never touches its VBA project.
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from ..._files import atomic_path
from ...errors import CustomerEquityError

ADDIN_BASENAME = "customer_equity"
"""Base name of the add-in file; RunMain imports the module of that name."""

ADDIN_FILENAME = ADDIN_BASENAME + ".xlam"
SHARE_BASENAME = "customer_equity.excel.freeze"
"""Base name of the Share as values add-in: its RunMain imports that module and runs main()."""
SHARE_FILENAME = SHARE_BASENAME + ".xlam"
SHARE_RIBBON_SOURCE = "customUI_share.xml"
UDF_MODULES = "customer_equity.excel.functions"
TEMPLATE_FILENAME = "quickstart_addin_ribbon.xlam"
RIBBON_PART = "customUI/customUI.xml"
RIBBON_SOURCE = "customUI.xml"
RIBBON_PACKAGE = "customer_equity.addin_data"
"""The repository's ``addin/`` folder, mapped into the package (``package-dir`` in setup)."""
FUNCTION_ROUTES = {
    "com": "the Excel functions are imported into this add-in (Windows desktop Excel); Refresh "
           "imports them, which needs the Trust Center setting 'Trust access to the VBA project "
           "object model'",
    "lite": "the Excel functions come from xlwings Lite (Windows, Mac, web); this add-in serves "
            "Refresh only and never touches its VBA project (no Trust Center change)",
}
"""The two routes of the Excel functions, as ``customer-equity addin status`` reports them."""
BUILD_NAME = "CE_ADDIN_BUILD"
"""Workbook-level defined name in the add-in holding ``customer_equity X; xlwings Y``."""

_NS = {
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "ui": "http://schemas.microsoft.com/office/2006/01/customui",
}

class AddinError(RuntimeError):
    """Raised when the add-in cannot be built (template or ribbon source not as expected)."""


# --------------------------------------------------------------------------------------
# Locating the inputs of the build
# --------------------------------------------------------------------------------------


def template_path() -> Path:
    """Return the path of xlwings' ``quickstart_addin_ribbon.xlam`` in the installed package."""
    import xlwings

    path = Path(xlwings.__file__).resolve().parent / TEMPLATE_FILENAME
    if not path.is_file():
        raise AddinError(
            f"The installed xlwings {xlwings.__version__} has no {TEMPLATE_FILENAME} "
            f"(looked in {path.parent})."
        )
    return path


def ribbon_source_path(source: str = RIBBON_SOURCE) -> Path:
    """Return a ribbon XML source, ``addin/customUI.xml`` (or ``source`` in that folder).

    Installed (wheel or editable), the repository's ``addin/`` folder is the package
    ``customer_equity.addin_data`` and the file is found with :mod:`importlib.resources`;
    a source checkout run without installing (``PYTHONPATH=udfs``) reads the folder itself.
    """
    from importlib import resources

    try:
        found = resources.files(RIBBON_PACKAGE) / source
        if found.is_file():
            return Path(str(found))
    except ModuleNotFoundError:
        pass
    checkout = Path(__file__).resolve().parents[4] / "addin" / source
    if checkout.is_file():
        return checkout
    raise AddinError(
        f"Cannot find the ribbon source {source}: neither the package data "
        f"{RIBBON_PACKAGE} nor a source checkout's addin/ folder holds it."
    )


# --------------------------------------------------------------------------------------
# Reading the template
# --------------------------------------------------------------------------------------


def vba_modules(xlam: Path | str | bytes) -> dict[str, str]:
    """Return ``{module name: VBA source}`` of an ``.xlsm``/``.xlam`` (needs ``oletools``).

    Used by :func:`build` to check the ribbon's callbacks and ``PROJECT_NAME`` against the
    template's VBA when oletools is installed (it is in the ``test`` extra).
    """
    from oletools.olevba import VBA_Parser

    data = xlam if isinstance(xlam, bytes) else Path(xlam).read_bytes()
    parser = VBA_Parser("addin.xlam", data=data)
    try:
        modules: dict[str, str] = {}
        for _, stream_path, _, code in parser.extract_macros():
            name = stream_path.split("/")[-1]
            modules[name] = code
        return modules
    finally:
        parser.close()


def vba_project_name(modules: dict[str, str]) -> str:
    """Return the ``PROJECT_NAME`` constant declared in the template's VBA modules."""
    for code in modules.values():
        m = re.search(r'Const\s+PROJECT_NAME\s+As\s+String\s*=\s*"([^"]*)"', code, re.I)
        if m:
            return m.group(1)
    raise AddinError("The template's VBA declares no PROJECT_NAME constant.")


def ribbon_callbacks(modules: dict[str, str]) -> set[str]:
    """Return ``Module.Procedure`` for every VBA ``Sub`` taking an ``IRibbonControl``."""
    found = set()
    pattern = re.compile(
        r"^\s*(?:Public\s+)?Sub\s+(\w+)\s*\(\s*(?:ByRef\s+|ByVal\s+)?\w+\s+As\s+IRibbonControl\s*\)",
        re.I | re.M,
    )
    for module, code in modules.items():
        for proc in pattern.findall(code):
            found.add(f"{module}.{proc}")
    return found


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Map sheet names to their part names (``xl/worksheets/sheet1.xml``)."""
    wb = ET.fromstring(zf.read("xl/workbook.xml"))
    rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", _NS)}
    out = {}
    for sheet in wb.findall("main:sheets/main:sheet", _NS):
        target = targets[sheet.get(f"{{{_NS['r']}}}id")]
        out[sheet.get("name")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return out


def config_sheet_name(zf: zipfile.ZipFile) -> tuple[str, str]:
    """Return ``(name in the template, active name)`` of the template's config sheet.

    The template ships it deactivated as ``_<project>.conf``; xlwings reads a sheet called
    ``<PROJECT_NAME>.conf``, so the active name drops the leading underscore.
    """
    confs = [n for n in _sheet_parts(zf) if n.lower().endswith(".conf")]
    if len(confs) != 1:
        raise AddinError(f"Expected one configuration sheet in the template, found {confs}.")
    return confs[0], confs[0].lstrip("_")


# --------------------------------------------------------------------------------------
# The configuration written into the add-in
# --------------------------------------------------------------------------------------


def _package_root_if_not_installed() -> str:
    """The folder holding ``customer_equity`` when it is not in site-packages, else ``""``.

    A source checkout run with ``PYTHONPATH=udfs`` needs that folder on the add-in's
    PYTHONPATH; an installed package does not.
    """
    import sysconfig

    root = Path(__file__).resolve().parents[3]
    installed = {
        Path(p).resolve()
        for key in ("purelib", "platlib")
        if (p := sysconfig.get_paths().get(key))
    }
    return "" if root in installed else str(root)


def route_of_udf_modules(udf_modules: object) -> str:
    """``"com"`` when the add-in names UDF modules to import, else ``"lite"``.

    >>> route_of_udf_modules("customer_equity.excel.functions"), route_of_udf_modules(None)
    ('com', 'lite')
    """
    return "com" if str(udf_modules or "").strip() else "lite"


@dataclass(frozen=True)
class AddinConfig:
    """Settings written to the add-in's configuration sheet (keys as xlwings spells them)."""

    interpreter: str
    udf_modules: str = UDF_MODULES
    pythonpath: str = ""

    @classmethod
    def for_this_python(cls, functions: str = "com") -> "AddinConfig":
        """The configuration for the interpreter running this code.

        ``functions`` is the route of the Excel functions (:data:`FUNCTION_ROUTES`):
        ``"com"`` names ``customer_equity.excel.functions`` as the add-in's UDF module; ``"lite"``
        leaves it empty, so that the add-in never touches its VBA project.
        """
        if functions not in FUNCTION_ROUTES:
            raise AddinError(f"Unknown functions route {functions!r}; use one of {sorted(FUNCTION_ROUTES)}.")
        return cls(interpreter=sys.executable, pythonpath=_package_root_if_not_installed(),
                   udf_modules=UDF_MODULES if functions == "com" else "")

    @property
    def functions(self) -> str:
        """The functions route this configuration gives: ``"com"`` or ``"lite"``."""
        return route_of_udf_modules(self.udf_modules)

    def values(self) -> dict[str, str | bool]:
        """Return ``{sheet key: value}``, uppercase-insensitive as xlwings reads them."""
        return {
            "Interpreter_Win": self.interpreter,
            "Interpreter_Mac": self.interpreter,
            "PYTHONPATH": self.pythonpath,
            "Conda Path": "",
            "Conda Env": "",
            "UDF Modules": self.udf_modules,
            "Debug UDFs": False,
            "Use UDF Server": False,
            "Show Console": False,
        }


def _shared_strings(zf: zipfile.ZipFile) -> list[str]:
    try:
        root = ET.fromstring(zf.read("xl/sharedStrings.xml"))
    except KeyError:
        return []
    return ["".join(t.text or "" for t in si.iter(f"{{{_NS['main']}}}t")) for si in root]


def read_config_sheet(xlam: Path | str | bytes) -> dict[str, object]:
    """Read the active configuration sheet of a built add-in as ``{key: value}``.

    Keys are as written in column A; values are str, bool or None (empty cell).
    """
    source = io.BytesIO(xlam) if isinstance(xlam, bytes) else xlam
    with zipfile.ZipFile(source) as zf:
        parts = _sheet_parts(zf)
        _, active = config_sheet_name(zf)
        if active not in parts:
            raise AddinError(f"The add-in has no active configuration sheet {active!r}.")
        strings = _shared_strings(zf)
        sheet = ET.fromstring(zf.read(parts[active]))
    rows: dict[int, dict[str, object]] = {}
    for c in sheet.iter(f"{{{_NS['main']}}}c"):
        col, row = re.match(r"([A-Z]+)(\d+)", c.get("r")).groups()
        kind, v = c.get("t"), c.find("main:v", _NS)
        if kind == "s":
            value: object = strings[int(v.text)]
        elif kind == "inlineStr":
            value = "".join(t.text or "" for t in c.iter(f"{{{_NS['main']}}}t"))
        elif kind == "b":
            value = v.text == "1"
        elif v is not None:
            value = v.text
        else:
            value = None
        rows.setdefault(int(row), {})[col] = value
    return {r["A"]: r.get("B") for _, r in sorted(rows.items()) if r.get("A")}


def _cell(ref: str, value: str | bool, style: str | None) -> str:
    s = f' s="{style}"' if style else ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if value == "":
        return f'<c r="{ref}"{s} />'
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>'


def _config_sheet_xml(template_xml: str, strings: list[str], config: AddinConfig) -> str:
    """Rewrite the template's config sheet: keep its keys, order and styles, set values."""
    root = ET.fromstring(template_xml)
    keys: list[tuple[str, str, str | None]] = []  # (key, shared string index, style)
    for c in root.iter(f"{{{_NS['main']}}}c"):
        if re.fullmatch(r"A\d+", c.get("r")) and c.get("t") == "s":
            index = c.find("main:v", _NS).text
            keys.append((strings[int(index)], index, c.get("s")))
    wanted = config.values()
    known = {k.upper() for k, _, _ in keys}
    missing = [k for k in wanted if k.upper() not in known]
    if missing:
        raise AddinError(f"The template's configuration sheet lacks the keys {missing}.")
    by_upper = {k.upper(): v for k, v in wanted.items()}
    rows = []
    for i, (key, index, style) in enumerate(keys, start=1):
        value = by_upper.get(key.upper(), "")
        s = f' s="{style}"' if style else ""
        rows.append(  # keys stay the template's shared strings; values are inline strings
            f'<row r="{i}" spans="1:2"><c r="A{i}"{s} t="s"><v>{index}</v></c>'
            f"{_cell(f'B{i}', value, style)}</row>"
        )
    sheet_data = "<sheetData>" + "".join(rows) + "</sheetData>"
    out, n = re.subn(
        r"<sheetData\s*/>|<sheetData>.*?</sheetData>", lambda _: sheet_data, template_xml, flags=re.S
    )
    if n != 1:
        raise AddinError("Unexpected configuration sheet layout in the template.")
    out = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:B{len(keys)}" />', out)
    return out


# --------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------


def build_stamp() -> str:
    """Return ``customer_equity X; xlwings Y``, stored in the add-in as ``CE_ADDIN_BUILD``."""
    import xlwings

    from ..._version import __version__

    return f"customer_equity {__version__}; xlwings {xlwings.__version__}"


def _workbook_xml(text: str, old_sheet: str, new_sheet: str, stamp: str) -> str:
    old = f'name="{escape(old_sheet)}"'
    if text.count(old) != 1:
        raise AddinError(f"Sheet {old_sheet!r} not found once in xl/workbook.xml.")
    text = text.replace(old, f'name="{escape(new_sheet)}"')
    defined = (
        f'<definedName name="{BUILD_NAME}">&quot;{escape(stamp)}&quot;</definedName>'
    )
    if re.search(r"<definedNames\s*/>", text):
        text = re.sub(r"<definedNames\s*/>", lambda _: f"<definedNames>{defined}</definedNames>", text)
    elif "<definedNames>" in text:
        text = re.sub(rf'<definedName name="{BUILD_NAME}"[^>]*>.*?</definedName>', "", text)
        text = text.replace("<definedNames>", "<definedNames>" + defined, 1)
    else:
        text = text.replace("</sheets>", f"</sheets><definedNames>{defined}</definedNames>", 1)
    return text


def check_ribbon(ribbon_xml: bytes, callbacks: Iterable[str]) -> ET.Element:
    """Parse the ribbon XML and check every ``onAction``-style callback exists in the VBA.

    Returns the parsed root; raises :class:`AddinError` naming unknown callbacks.
    """
    try:
        root = ET.fromstring(ribbon_xml)
    except ET.ParseError as exc:
        raise AddinError(f"The ribbon XML is not well-formed: {exc}") from exc
    if root.tag != f"{{{_NS['ui']}}}customUI":
        raise AddinError("The ribbon XML's root must be customUI (2006/01 namespace).")
    known = {c.lower() for c in callbacks}
    unknown = sorted(
        {v for _, v in ribbon_callback_refs(root) if v.lower() not in known}
    )
    if unknown:
        raise AddinError(f"The ribbon refers to callbacks missing from the VBA: {unknown}")
    return root


_CALLBACK_ATTRS = {"onAction", "onChange", "onLoad", "loadImage", "onShow", "onHide"}


def ribbon_callback_refs(root: ET.Element) -> list[tuple[str, str]]:
    """Return ``(attribute, callback)`` for every callback attribute in a ribbon tree."""
    refs = []
    for el in root.iter():
        for attr, value in el.attrib.items():
            if attr in _CALLBACK_ATTRS or (attr.startswith("get") and attr[3:4].isupper()):
                refs.append((attr, value))
    return refs


def build(
    out_dir: Path | str = ".",
    *,
    config: AddinConfig | None = None,
    template: Path | str | None = None,
    ribbon: Path | str | None = None,
    basename: str = ADDIN_BASENAME,
) -> Path:
    """Build ``customer_equity.xlam`` (``<basename>.xlam``) into ``out_dir`` and return its path.

    Copies every part of xlwings' template unchanged except the ribbon, the configuration
    sheet, ``xl/workbook.xml`` and ``docProps/app.xml`` (XML only; ``vbaProject.bin`` is
    copied byte for byte). ``config`` defaults to the running interpreter and the COM
    route. Written to a temporary file and renamed; raises :class:`AddinError`.
    """
    config = config or AddinConfig.for_this_python()
    template = Path(template) if template else template_path()
    ribbon_xml = Path(ribbon or ribbon_source_path()).read_bytes()
    template_bytes = template.read_bytes()

    try:
        modules = vba_modules(template_bytes)
    except ImportError:
        modules = None  # oletools absent: the ribbon and project name are checked by tests
    if modules is not None:
        check_ribbon(ribbon_xml, ribbon_callbacks(modules))
    else:
        check_ribbon(ribbon_xml, ["RibbonMyAddin.RunMain"])

    with zipfile.ZipFile(io.BytesIO(template_bytes)) as zin:
        old_sheet, new_sheet = config_sheet_name(zin)
        if modules is not None and new_sheet != vba_project_name(modules) + ".conf":
            raise AddinError(
                f"The template's config sheet {old_sheet!r} does not match its VBA "
                f"PROJECT_NAME {vba_project_name(modules)!r}."
            )
        sheet_part = _sheet_parts(zin)[old_sheet]
        strings = _shared_strings(zin)
        replaced = {
            RIBBON_PART: ribbon_xml,
            sheet_part: _config_sheet_xml(
                zin.read(sheet_part).decode("utf-8"), strings, config
            ).encode("utf-8"),
            "xl/workbook.xml": _workbook_xml(
                zin.read("xl/workbook.xml").decode("utf-8"), old_sheet, new_sheet, build_stamp()
            ).encode("utf-8"),
        }
        app_xml = zin.read("docProps/app.xml").decode("utf-8")
        if f">{escape(old_sheet)}<" in app_xml:  # TitlesOfParts lists sheet names
            replaced["docProps/app.xml"] = app_xml.replace(
                f">{escape(old_sheet)}<", f">{escape(new_sheet)}<"
            ).encode("utf-8")
        names = zin.namelist()
        if RIBBON_PART not in names:
            raise AddinError(f"The template has no {RIBBON_PART}.")

        out_dir = Path(out_dir)
        if out_dir.exists() and not out_dir.is_dir():
            raise AddinError(f"{out_dir} is a file; name a folder to write {ADDIN_FILENAME} into.")
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / f"{basename}.xlam"
        try:
            with atomic_path(target) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
                for info in zin.infolist():
                    data = replaced.get(info.filename)
                    if data is None:
                        data = zin.read(info.filename)
                    new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                    new.compress_type = zipfile.ZIP_DEFLATED
                    new.external_attr = info.external_attr
                    zout.writestr(new, data)
        except CustomerEquityError as exc:
            raise AddinError(str(exc)) from None
    return target


def build_share(out_dir: Path | str = ".", *, config: AddinConfig | None = None,
                template: Path | str | None = None) -> Path:
    """Build the Share as values add-in, ``customer_equity.excel.freeze.xlam``, into ``out_dir``.

    The same template and interpreter as :func:`build`, the ribbon ``addin/customUI_share.xml``,
    and no UDF module (whatever the route of the functions): this add-in only runs
    :func:`customer_equity.excel.freeze.main`.
    """
    config = config or AddinConfig.for_this_python()
    return build(out_dir, config=AddinConfig(config.interpreter, "", config.pythonpath), template=template,
                 ribbon=ribbon_source_path(SHARE_RIBBON_SOURCE), basename=SHARE_BASENAME)


def read_build_stamp(xlam: Path | str) -> str | None:
    """Return the ``CE_ADDIN_BUILD`` text of an add-in file, or None if it has none."""
    with zipfile.ZipFile(xlam) as zf:
        wb = ET.fromstring(zf.read("xl/workbook.xml"))
    for dn in wb.findall("main:definedNames/main:definedName", _NS):
        if dn.get("name") == BUILD_NAME:
            return (dn.text or "").strip('"')
    return None


