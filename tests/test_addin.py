"""The Excel add-in, built and checked as a file (zip parts, ribbon, VBA, config, LibreOffice)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from customer_equity.excel import addin

REPO = Path(__file__).resolve().parents[1]
UI = "{http://schemas.microsoft.com/office/2006/01/customui}"
CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"

# Built-in Excel controls the ribbon may clone (idMso). Each was checked against Microsoft's
# lists: the Office Fluent UI command identifiers for Excel (ExcelControls) and, where marked,
# the Excel 2007 idMso / imageMso tables of the [MS-CUSTOMUI] specification. Excel rejects a
# whole ribbon with an unknown idMso, so a control is added here only after such a check.
VERIFIED_EXCEL_IDMSO = {
    "CalculateNow": "Formulas > Calculation > Calculate Now (MS-CUSTOMUI table)",
    "CalculateSheet": "Formulas > Calculation > Calculate Sheet (MS-CUSTOMUI table)",
    "NameManager": "Formulas > Defined Names > Name Manager",
    "NameDefine": "Formulas > Defined Names > Define Name",
    "NameCreateFromSelection": "Formulas > Defined Names > Create from Selection (MS-CUSTOMUI)",
    "TracePrecedents": "Formulas > Formula Auditing > Trace Precedents (MS-CUSTOMUI table)",
    "TraceDependents": "Formulas > Formula Auditing > Trace Dependents (MS-CUSTOMUI table)",
    "TraceRemoveAllArrows": "Formulas > Formula Auditing > Remove Arrows (MS-CUSTOMUI table)",
    "FormulaEvaluate": "Formulas > Formula Auditing > Evaluate Formula",
    "FunctionWizard": "Formulas > Insert Function (MS-CUSTOMUI table)",
    "DataValidation": "Data > Data Tools > Data Validation (MS-CUSTOMUI table)",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return addin.build(tmp_path_factory.mktemp("addin"))


@pytest.fixture(scope="module")
def parts(built) -> dict[str, bytes]:
    with zipfile.ZipFile(built) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.fixture(scope="module")
def template_parts() -> dict[str, bytes]:
    with zipfile.ZipFile(addin.template_path()) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.fixture(scope="module")
def vba(built) -> dict[str, str]:
    pytest.importorskip("oletools")
    return addin.vba_modules(built)


@pytest.fixture(scope="module")
def ribbon(parts) -> ET.Element:
    return ET.fromstring(parts[addin.RIBBON_PART])


# ---------------------------------------------------------------------------------------
# The package
# ---------------------------------------------------------------------------------------


def test_file_name_is_the_package_name(built):
    assert built.name == "customer_equity.xlam"
    assert built.stem == addin.ADDIN_BASENAME == "customer_equity"


def test_valid_package_parts_and_content_types(built, parts):
    with zipfile.ZipFile(built) as zf:
        assert zf.testzip() is None
    types = ET.fromstring(parts["[Content_Types].xml"])
    defaults = {d.get("Extension").lower(): d.get("ContentType") for d in types.iter(CT + "Default")}
    overrides = {o.get("PartName"): o.get("ContentType") for o in types.iter(CT + "Override")}
    for part_name in overrides:
        assert part_name.lstrip("/") in parts, f"content type for a missing part {part_name}"
    for name in parts:
        if name == "[Content_Types].xml" or name.endswith("/"):
            continue
        ext = name.rsplit(".", 1)[-1].lower()
        assert "/" + name in overrides or ext in defaults, f"no content type for {name}"
    assert overrides["/xl/workbook.xml"] == "application/vnd.ms-excel.addin.macroEnabled.main+xml"
    assert overrides["/xl/vbaProject.bin"] == "application/vnd.ms-office.vbaProject"
    for name, data in parts.items():
        if name.endswith((".xml", ".rels")):
            ET.fromstring(data)  # every XML part is well-formed
    # Every relationship points at a part that exists, and the ribbon is wired in.
    for name in [n for n in parts if n.endswith(".rels")]:
        base = name.replace("_rels/", "").removesuffix(".rels")
        folder = base.rsplit("/", 1)[0] if "/" in base else ""
        for rel in ET.fromstring(parts[name]).iter(REL + "Relationship"):
            if rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target")
            path = target.lstrip("/") if target.startswith("/") else (
                f"{folder}/{target}" if folder else target
            )
            assert os.path.normpath(path).replace(os.sep, "/") in parts, (name, target)
    root_rels = ET.fromstring(parts["_rels/.rels"])
    assert any(
        r.get("Target") == addin.RIBBON_PART
        and r.get("Type").endswith("/relationships/ui/extensibility")
        for r in root_rels.iter(REL + "Relationship")
    )


def test_only_xml_parts_differ_from_the_template(parts, template_parts):
    assert set(parts) == set(template_parts)
    changed = {n for n in parts if parts[n] != template_parts[n]}
    assert "xl/vbaProject.bin" not in changed  # the VBA project stays xlwings' own
    assert changed <= {
        addin.RIBBON_PART,
        "xl/workbook.xml",
        "xl/worksheets/sheet1.xml",
        "docProps/app.xml",
    }
    assert {addin.RIBBON_PART, "xl/workbook.xml", "xl/worksheets/sheet1.xml"} <= changed
    assert all(n.endswith(".xml") for n in changed)


def test_build_stamp_names_package_and_xlwings(built):
    import xlwings

    from customer_equity import __version__

    stamp = addin.read_build_stamp(built)
    assert stamp == f"customer_equity {__version__}; xlwings {xlwings.__version__}"


def test_build_is_deterministic(built, tmp_path):
    again = addin.build(tmp_path)
    assert again.read_bytes() == built.read_bytes()


# ---------------------------------------------------------------------------------------
# The ribbon and the VBA it calls
# ---------------------------------------------------------------------------------------


def test_ribbon_is_the_source_file(parts):
    assert parts[addin.RIBBON_PART] == (REPO / "addin" / "customUI.xml").read_bytes()


def test_ribbon_tab_and_refresh_button(ribbon):
    tabs = list(ribbon.iter(UI + "tab"))
    assert [t.get("label") for t in tabs] == ["Customer Equity"]
    buttons = [b for b in ribbon.iter(UI + "button") if b.get("label") == "Refresh"]
    assert len(buttons) == 1
    assert buttons[0].get("size") == "large"
    assert buttons[0].get("onAction") == "RibbonMyAddin.RunMain"
    ids = [e.get("id") for e in ribbon.iter() if e.get("id")]
    assert len(ids) == len(set(ids)), "custom control ids must be unique"


def test_ribbon_callbacks_exist_in_the_vba_project(ribbon, vba):
    callbacks = addin.ribbon_callbacks(vba)
    refs = addin.ribbon_callback_refs(ribbon)
    assert refs, "the ribbon should call at least one VBA procedure"
    for attr, callback in refs:
        assert callback in callbacks, f"{attr}={callback!r} is not a VBA ribbon callback"


def test_run_main_imports_the_add_in_file_name(vba):
    # RunMain runs "import <workbook name without extension>; <name>.main()", hence the
    # file name customer_equity.xlam makes it call customer_equity.main().
    code = vba["RibbonMyAddin"]
    assert re.search(r"Left\(ThisWorkbook\.Name,\s*\(InStrRev\(ThisWorkbook\.Name, \".\"", code)
    assert 'RunPython "import " & mymodule & ";" & mymodule & ".main()"' in code
    import customer_equity

    assert callable(customer_equity.main)


def test_vba_is_the_installed_xlwings_version(vba):
    import xlwings

    assert f'XLWINGS_VERSION As String = "{xlwings.__version__}"' in vba["xlwings"]
    assert f"xlwings64-{xlwings.__version__}.dll" in vba["xlwings"]


def test_ribbon_built_in_controls_are_verified_ids(ribbon):
    used = [e.get("idMso") for e in ribbon.iter() if e.get("idMso")]
    assert len(used) == len(set(used))
    unverified = sorted(set(used) - set(VERIFIED_EXCEL_IDMSO))
    assert not unverified, f"idMso not verified against Microsoft's lists: {unverified}"
    for wanted in ("CalculateNow", "NameManager", "TracePrecedents", "FunctionWizard",
                   "DataValidation"):
        assert wanted in used


def test_check_ribbon_rejects_unknown_callbacks_and_bad_xml():
    good = (REPO / "addin" / "customUI.xml").read_bytes()
    addin.check_ribbon(good, ["RibbonMyAddin.RunMain"])
    with pytest.raises(addin.AddinError, match="RibbonMyAddin.RunMain"):
        addin.check_ribbon(good, ["RibbonMyAddin.Other"])
    with pytest.raises(addin.AddinError, match="well-formed"):
        addin.check_ribbon(good.replace(b"</customUI>", b""), ["RibbonMyAddin.RunMain"])


# ---------------------------------------------------------------------------------------
# The configuration sheet
# ---------------------------------------------------------------------------------------


def test_config_sheet_is_active_and_holds_the_settings(built, parts, vba):
    project = addin.vba_project_name(vba)
    sheet_names = [
        s.get("name")
        for s in ET.fromstring(parts["xl/workbook.xml"]).iter(
            "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet"
        )
    ]
    # xlwings' VBA reads the sheet called PROJECT_NAME & ".conf" (GetConfigFromSheet).
    assert sheet_names == [project + ".conf"]
    assert 'Set sht = wb.Sheets(PROJECT_NAME & ".conf")' in vba["xlwings"]
    config = addin.read_config_sheet(built)
    assert config["Interpreter_Win"] == sys.executable
    assert config["Interpreter_Mac"] == sys.executable
    assert config["UDF Modules"] == "customer_equity.excel.functions"
    assert config["Use UDF Server"] is False and config["Show Console"] is False
    # Keys stay xlwings' own spelling, contiguous from A1 (GetConfigFromSheet stops at a gap).
    assert list(config)[:2] == ["Interpreter_Win", "Interpreter_Mac"]
    assert None not in config


def test_config_values_are_escaped(tmp_path):
    odd = r"C:\Program Files\Py & <Co>\python.exe "
    path = addin.build(tmp_path, config=addin.AddinConfig(interpreter=odd, pythonpath="x;y"))
    config = addin.read_config_sheet(path)
    assert config["Interpreter_Win"] == odd and config["PYTHONPATH"] == "x;y"


# ---------------------------------------------------------------------------------------
# LibreOffice opens it
# ---------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_opens_the_add_in(built, tmp_path):
    import openpyxl

    out = tmp_path / "out"
    profile = (tmp_path / "profile").as_uri()
    proc = subprocess.run(
        [
            "soffice", f"-env:UserInstallation={profile}", "--headless",
            # The add-in content type is not auto-detected; name Excel's macro-enabled filter.
            "--infilter=Calc MS Excel 2007 VBA XML",
            "--convert-to", "xlsx", "--outdir", str(out), str(built),
        ],
        capture_output=True, text=True, timeout=240,
    )
    converted = out / "customer_equity.xlsx"
    assert proc.returncode == 0, proc.stderr
    assert converted.is_file() and converted.stat().st_size > 0, proc.stdout + proc.stderr
    wb = openpyxl.load_workbook(converted)
    assert wb.sheetnames == ["myaddin.conf"]
    rows = {r[0]: r[1] for r in wb["myaddin.conf"].iter_rows(values_only=True) if r[0]}
    assert rows["UDF Modules"] == "customer_equity.excel.functions"
    assert rows["Interpreter_Win"] == sys.executable


# ---------------------------------------------------------------------------------------
# install / remove / status and the command line
# ---------------------------------------------------------------------------------------


def test_install_status_remove_into_a_startup_folder(tmp_path, monkeypatch):
    startup = tmp_path / "XLSTART"
    state = addin.status(startup)
    assert not state.installed and "not installed" in state.lines()[0]
    installed = addin.install(startup)
    assert installed == startup / "customer_equity.xlam" and installed.is_file()
    assert addin.read_config_sheet(installed)["UDF Modules"] == "customer_equity.excel.functions"
    state = addin.status(startup)
    assert state.installed and state.functions == "com" and not state.stale
    assert any(str(installed) in line for line in state.lines())
    monkeypatch.setattr("customer_equity.excel.addin.startup.build_stamp", lambda: "customer_equity 9; xlwings 9")
    assert any("again so that its VBA matches xlwings" in line for line in addin.status(startup).lines())
    assert addin.remove(startup) == installed
    assert not installed.exists()
    with pytest.raises(addin.AddinError, match="not installed"):
        addin.remove(startup)


def test_lite_route_leaves_the_udf_modules_empty(tmp_path):
    installed = addin.install(tmp_path, functions="lite")
    assert addin.read_config_sheet(installed)["UDF Modules"] is None
    state = addin.status(tmp_path)
    assert state.functions == "lite"
    assert any("xlwings Lite" in line and "Refresh only" in line for line in state.lines())


# ---------------------------------------------------------------------------------------
# A non-editable wheel install can still build the add-in
# ---------------------------------------------------------------------------------------


def test_wheel_install_builds_the_add_in(tmp_path):
    pytest.importorskip("setuptools")
    try:
        import setuptools.command.bdist_wheel  # noqa: F401 - setuptools >= 70.1 builds wheels
    except ImportError:
        pytest.importorskip("wheel", reason="building a wheel needs setuptools>=70.1 or wheel")
    src = tmp_path / "src"
    shutil.copytree(REPO / "udfs", src / "udfs", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copytree(REPO / "addin", src / "addin", ignore=shutil.ignore_patterns("__pycache__"))
    for config in ("pyproject.toml", "setup.py"):
        shutil.copy(REPO / config, src / config)
    for extra in ("README.md", "LICENSE"):
        if (REPO / extra).exists():
            shutil.copy(REPO / extra, src / extra)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "-w", str(wheels), str(src)],
        check=True, timeout=300, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    (wheel,) = wheels.glob("customer_equity-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert "customer_equity/addin_data/customUI.xml" in names
    assert not any(".data/" in n for n in names)  # no data-files scheme: package data only
    prefix = tmp_path / "prefix"
    clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--ignore-installed", "--quiet",
         "--prefix", str(prefix), str(wheel)],
        check=True, timeout=300, env=clean_env,
    )
    (site,) = [p for p in prefix.rglob("site-packages") if (p / "customer_equity").is_dir()]
    shutil.rmtree(src)  # nothing of the checkout may be used
    work = tmp_path / "work"
    work.mkdir()
    code = (
        "import customer_equity.excel.addin as a, sys; "
        "assert 'prefix' in a.__file__, a.__file__; "
        "print(a.ribbon_source_path()); print(a.build('.'))"
    )
    env = dict(os.environ, PYTHONPATH=str(site))
    proc = subprocess.run([sys.executable, "-c", code], cwd=work, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert str(prefix) in proc.stdout.splitlines()[0]
    with zipfile.ZipFile(work / "customer_equity.xlam") as zf:
        assert zf.read(addin.RIBBON_PART) == (REPO / "addin" / "customUI.xml").read_bytes()


# ---------------------------------------------------------------------------------------
# The Share as values button: a second add-in, same template and VBA, its own small ribbon
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def share(tmp_path_factory) -> Path:
    return addin.build_share(tmp_path_factory.mktemp("share"))


def test_share_add_in_runs_the_freeze_module(share, template_parts):
    """RunMain imports the add-in's file name: customer_equity.excel.freeze.xlam runs
    customer_equity.excel.freeze.main(); its VBA is the template's, byte for byte."""
    import importlib

    assert share.name == "customer_equity.excel.freeze.xlam"
    module = share.name[: share.name.rindex(".")]  # what RunMain's Left/InStrRev computes
    assert callable(importlib.import_module(module).main)
    with zipfile.ZipFile(share) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    assert parts["xl/vbaProject.bin"] == template_parts["xl/vbaProject.bin"]
    assert parts[addin.RIBBON_PART] == (REPO / "addin" / "customUI_share.xml").read_bytes()
    assert addin.read_config_sheet(share)["UDF Modules"] is None  # never imports functions


def test_share_ribbon_joins_the_customer_equity_tab(share, ribbon):
    pytest.importorskip("oletools")
    with zipfile.ZipFile(share) as zf:
        share_ribbon = ET.fromstring(zf.read(addin.RIBBON_PART))
    callbacks = addin.ribbon_callbacks(addin.vba_modules(share))
    assert addin.ribbon_callback_refs(share_ribbon) == [("onAction", "RibbonMyAddin.RunMain")]
    assert {c for _, c in addin.ribbon_callback_refs(share_ribbon)} <= callbacks
    (button,) = list(share_ribbon.iter(UI + "button"))
    assert button.get("label") == "Share as values" and button.get("size") == "large"
    # both ribbons name the tab with the same qualified id, so Excel shows one tab
    qualified = {e.get("idQ") for e in ribbon.iter() if e.get("idQ")}
    assert {"ce:ceTab", "ce:ceGroupRefresh"} <= qualified
    (tab,) = list(share_ribbon.iter(UI + "tab"))
    assert tab.get("idQ") == "ce:ceTab" and tab.get("label") == "Customer Equity"
    (group,) = list(share_ribbon.iter(UI + "group"))
    assert group.get("insertAfterQ") == "ce:ceGroupRefresh"
    # the prefix means the same namespace in both files
    texts = [(REPO / "addin" / name).read_text(encoding="utf-8") for name in ("customUI.xml", "customUI_share.xml")]
    assert all('xmlns:ce="urn:customer-equity:ribbon"' in t for t in texts)


def test_install_and_remove_take_the_share_add_in_along(tmp_path):
    installed = addin.install(tmp_path, functions="lite")
    share = tmp_path / addin.SHARE_FILENAME
    assert share.is_file() and installed.is_file()
    assert addin.status(tmp_path).share
    share.unlink()  # an install from before the button
    assert any("Share as values button" in line for line in addin.status(tmp_path).lines())
    addin.install(tmp_path)
    assert addin.remove(tmp_path) == installed
    assert sorted(tmp_path.iterdir()) == []
