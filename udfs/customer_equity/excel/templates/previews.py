"""PNG previews of the templates' main sheets: LibreOffice to PDF, pdftoppm to PNG.

A preview shows a sheet as Excel opens it, with the values cached in the file: the
copy rendered has its formulas removed (LibreOffice would recalculate array formulas
and knows no CE_ functions), print areas that show the top of each sheet on one page
(:data:`PREVIEW_AREAS`), and the sheets without a preview hidden.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from xlsxwriter.utility import xl_rowcol_to_cell

#: Per template file: the sheets to preview and the area shown (0-indexed rows/columns).
PREVIEW_AREAS = {
    "customer-equity-measurement.xlsx": {
        "Read me": (0, 0, 52, 8),
        "Assumptions": (0, 0, 37, 11),
        "Customers": (0, 0, 30, 15),
        "Step 1 Classify": (0, 0, 40, 12),
        "Step 2 Value": (0, 0, 40, 22),
        "Step 3 Equity": (0, 0, 45, 17),
    },
    "lifetime-value-models.xlsx": {
        "LTV models": (0, 0, 66, 10),
        "Sensitivity": (0, 0, 54, 11),
        "Retention": (0, 0, 41, 14),
    },
    "customer-equity-what-if.xlsx": {
        "What-if": (0, 0, 51, 19),
        "Settings": (0, 0, 38, 3),
    },
    "customer-equity-from-transactions.xlsx": {
        "Read me": (0, 0, 32, 8),
        "Fit": (0, 0, 74, 13),
        "Forecasts": (0, 0, 40, 12),
        "EY check": (0, 0, 10, 12),
        "Equity": (0, 0, 21, 7),
    },
}


def _slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def preview_name(workbook_file, sheet):
    """File name of a sheet's preview: ``<workbook stem>--<sheet>.png``."""
    return f"{Path(workbook_file).stem}--{_slug(sheet)}.png"


def _preview_copy(src: Path, dst: Path, areas: dict):
    """A copy of ``src`` whose print areas are ``areas`` (one page each), other sheets hidden."""
    with zipfile.ZipFile(src) as zin:
        members = {i.filename: zin.read(i.filename) for i in zin.infolist()}
    wb = members["xl/workbook.xml"].decode("utf-8")
    sheets = re.findall(r'<sheet name="([^"]+)" sheetId="(\d+)"[^>]*r:id="(rId\d+)"/>', wb)
    rels = members["xl/_rels/workbook.xml.rels"].decode("utf-8")
    target = dict(re.findall(r'Id="(rId\d+)"[^>]*Target="([^"]+)"', rels))
    target.update({k: v for v, k in re.findall(r'Target="([^"]+)"[^>]*Id="(rId\d+)"', rels)})
    wb = re.sub(r'<definedName name="_xlnm.Print_Area"[^>]*>[^<]*</definedName>', "", wb)
    order = []
    new_names = []
    first_visible = 0
    for index, (name, _sid, rid) in enumerate(sheets):
        sheet_xml_name = "xl/" + target[rid].lstrip("/").removeprefix("xl/")
        xml = members[sheet_xml_name].decode("utf-8")
        plain = name.replace("&amp;", "&")
        if plain not in areas:
            wb = wb.replace(f'<sheet name="{name}" ', f'<sheet name="{name}" state="hidden" ', 1)
            members[sheet_xml_name] = xml.replace(' tabSelected="1"', "").encode("utf-8")
            continue
        xml = xml.replace(' tabSelected="1"', "")
        if not order:
            xml = xml.replace("<sheetView ", '<sheetView tabSelected="1" ', 1)
            first_visible = index
        order.append(plain)
        r1, c1, r2, c2 = areas[plain]
        ref = f"'{plain}'!{xl_rowcol_to_cell(r1, c1, True, True)}:{xl_rowcol_to_cell(r2, c2, True, True)}"
        new_names.append(f'<definedName name="_xlnm.Print_Area" localSheetId="{index}">{ref}</definedName>')
        xml = re.sub(r"<pageSetup ([^>]*)/>", lambda m: "<pageSetup " + _fit_one_page(m.group(1)) + "/>",
                     xml, count=1)
        if "fitToPage" not in xml:
            xml = xml.replace("<sheetPr>", '<sheetPr><pageSetUpPr fitToPage="1"/>', 1) \
                if "<sheetPr>" in xml else xml.replace("<dimension", '<sheetPr><pageSetUpPr fitToPage="1"/>'
                                                        "</sheetPr><dimension", 1)
        # show the cached values, as Excel does on opening: LibreOffice would recalculate the
        # array formulas (and cannot compute the CE_ functions)
        xml = re.sub(r"<f[^>]*/>|<f[^>]*>.*?</f>", "", xml, flags=re.S)
        members[sheet_xml_name] = xml.encode("utf-8")
    if new_names:
        if "<definedNames>" in wb:
            wb = wb.replace("<definedNames>", "<definedNames>" + "".join(new_names), 1)
        else:
            wb = wb.replace("</sheets>", "</sheets><definedNames>" + "".join(new_names) + "</definedNames>", 1)
    # the first visible sheet must be the active one
    wb = re.sub(r' activeTab="\d+"', "", wb)
    wb = wb.replace("<workbookView ", f'<workbookView activeTab="{first_visible}" ', 1)
    members["xl/workbook.xml"] = wb.encode("utf-8")
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in members.items():
            zout.writestr(name, data)
    return order


def _fit_one_page(attrs):
    attrs = re.sub(r'\s*fitToHeight="\d+"', "", attrs)
    attrs = re.sub(r'\s*fitToWidth="\d+"', "", attrs)
    return attrs.strip() + ' fitToWidth="1" fitToHeight="1"'


def render_previews(workbooks, out_dir, resolution=110):
    """Render the main sheets of ``workbooks`` (paths) to PNG files in ``out_dir``.

    Needs ``soffice`` (LibreOffice) and ``pdftoppm`` (poppler-utils). Returns the paths
    written.
    """
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    pdftoppm = shutil.which("pdftoppm")
    if not soffice or not pdftoppm:
        raise RuntimeError("previews need LibreOffice (soffice) and pdftoppm (poppler-utils)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        profile = (tmp / "profile").as_uri()
        for wb_path in workbooks:
            wb_path = Path(wb_path)
            areas = PREVIEW_AREAS.get(wb_path.name)
            if not areas:
                continue
            copy = tmp / wb_path.name
            order = _preview_copy(wb_path, copy, areas)
            subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
                            "--convert-to", "pdf", "--outdir", str(tmp), str(copy)],
                           check=True, capture_output=True, timeout=300)
            pdf = tmp / (copy.stem + ".pdf")
            prefix = tmp / copy.stem
            subprocess.run([pdftoppm, "-png", "-r", str(resolution), str(pdf), str(prefix)], check=True,
                           capture_output=True, timeout=300)
            pages = sorted(tmp.glob(copy.stem + "-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
            if len(pages) != len(order):
                raise RuntimeError(f"{wb_path.name}: {len(pages)} pages for {len(order)} sheets")
            for sheet, page in zip(order, pages):
                dest = out_dir / preview_name(wb_path.name, sheet)
                shutil.move(str(page), dest)
                written.append(dest)
    return written
