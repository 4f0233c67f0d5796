"""``customer-equity freeze``: a copy of a workbook with its CE_ formulas replaced by their values.

What is checked, and against what:

- every template, frozen through the command, opened in LibreOffice 7.4 over UNO (which has no
  add-in) as it is, nothing held or rewritten, and fully recalculated: no error cell, and every
  cell shows the value Excel saved in the template (the CE_ results, and the native formulas
  recomputed by LibreOffice from them);
- no CE_ formula is left, every ordinary formula is kept, the first sheet says what was frozen
  and when, and lists each frozen formula;
- the copy still computes: a changed input moves the native formulas and not the frozen values;
- formulas Excel shares between cells, text results, names that are CE_ formulas;
- refusals name the file and write nothing.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from customer_equity import cli
from customer_equity.excel.freeze import NOTE_SHEET, calls_ce, freeze_file
from customer_equity.excel.templates import TEMPLATES

import templates_engine as E
import templates_files as F

ROOT = Path(__file__).resolve().parents[1]
FILES = {module: ROOT / "workbooks" / filename for module, filename, _ in TEMPLATES}
WHEN = dt.datetime(2025, 3, 14, 9, 26, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def _serial(v):
    """A date as the number a spreadsheet stores (LibreOffice hands dates over as numbers)."""
    if isinstance(v, dt.datetime):
        return (v - dt.datetime(1899, 12, 30)).total_seconds() / 86400
    return float(v) if isinstance(v, bool) else v


def values_differing(book, path, limit=10):
    """Cells of ``path`` (every non-empty cell, formulas and values) whose value in the open
    LibreOffice document ``book`` differs from the value saved in ``path``."""
    shown = F.shown_values(book)
    bad = []
    for (sheet, coord), saved in F.cached_values(path).items():
        got = shown(sheet, coord)
        if not E.same(got, _serial(saved), rel=1e-9, abs_tol=1e-9):
            bad.append(f"{sheet}!{coord}: LibreOffice {got!r}, saved {saved!r}")
            if len(bad) >= limit:
                break
    return bad


@pytest.fixture(scope="module")
def frozen(tmp_path_factory):
    """Each template frozen by the command: {module: (copy, printed message)}."""
    out = tmp_path_factory.mktemp("frozen")
    copies = {}
    for module, path in FILES.items():
        copy = out / f"{path.stem} (values).xlsx"
        assert cli.main(["freeze", str(path), "--out", str(copy)]) == 0
        copies[module] = copy
    return copies


@pytest.mark.parametrize("module", list(FILES))
def test_the_frozen_copy_computes_in_libreoffice_with_the_templates_numbers(module, frozen, libreoffice):
    with libreoffice.opened(frozen[module], hold_ce=False) as book:
        book.recalculate()
        for sheet in book.doc.Sheets.ElementNames:
            assert book.errors(sheet) == [], sheet
        assert book.doc.Sheets.ElementNames[0] == NOTE_SHEET
        assert values_differing(book, FILES[module]) == []
        assert F.ok_statuses(book, frozen[module]) == {"OK"}


@pytest.mark.parametrize("module", list(FILES))
def test_no_ce_formula_is_left_and_every_other_formula_is_kept(module, frozen):
    original, copy = F.formula_cells(FILES[module]), F.formula_cells(frozen[module])
    native = {k: f for k, f in original.items() if not calls_ce(f)}
    assert native and len(native) < len(original)
    assert not any(calls_ce(f) for f in copy.values())
    assert copy == native
    # the copy's names read the cells Excel 2016 and LibreOffice can read: no spill reference left
    names = openpyxl.load_workbook(frozen[module]).defined_names
    assert not any("ANCHORARRAY" in (dn.attr_text or "").upper() for dn in names.values())
    assert not any(calls_ce(dn.attr_text or "") for dn in names.values())


def test_the_first_sheet_says_what_was_frozen_and_when(tmp_path):
    path = FILES["ltv_models"]
    result = freeze_file(path, tmp_path / "copy.xlsx", now=WHEN)
    wb = openpyxl.load_workbook(tmp_path / "copy.xlsx")
    assert wb.sheetnames == [NOTE_SHEET, *openpyxl.load_workbook(path).sheetnames]
    assert wb.active.title == NOTE_SHEET and [ws.sheet_view.tabSelected for ws in wb.worksheets].count(True) == 1
    text = [c.value for row in wb[NOTE_SHEET].iter_rows() for c in row if c.value]
    assert "This copy of lifetime-value-models.xlsx was made on 2025-03-14 09:26 (UTC+01:00)" in text[1]
    ce_cells = {k: f for k, f in F.formula_cells(path).items() if calls_ce(f)}
    assert f"{len(result.frozen)} formula(s) that call the Customer Equity add-in's CE_ functions " \
           f"({len(ce_cells)} cells)" in text[2]
    listed = dict(zip(text[text.index("Frozen formulas") + 2::2], text[text.index("Frozen formulas") + 3::2]))
    # one listed per cell that calls a CE_ function, as the formula engine finds them in the book
    assert len(listed) == len(result.frozen) == len(F.ce_evaluations(path)[1])
    for (sheet, ref), formula in zip([(s, r) for s, r, _ in result.frozen], listed.values()):
        anchor = ref.split(":")[0]
        assert formula == ce_cells[(sheet.upper(), anchor)], (sheet, ref)
    # the print areas, names that belong to a sheet, follow their sheets
    for k, ws in enumerate(openpyxl.load_workbook(path).worksheets):
        assert wb.worksheets[k + 1].print_area == ws.print_area


def test_the_copy_still_computes_its_native_formulas(tmp_path, libreoffice):
    """A rate typed into the copy moves Excel's own NPV check, not the frozen CE_LTV value."""
    copy = freeze_file(FILES["ltv_models"], tmp_path / "copy.xlsx").path
    wb = openpyxl.load_workbook(copy, data_only=True)
    (rate_key,), = F.name_cells(wb, "ce_in_contrib_rate")
    (ce_key,), = F.name_cells(wb, "ce_contrib_ltv")
    (check_key,), = F.name_cells(wb, "chk_contrib_ltv")
    margins = [v for row in F.name_values(wb, "ce_in_contrib_margins") for v in row]
    assert rate_key[0] == ce_key[0] == check_key[0] == "LTV MODELS"
    with libreoffice.opened(copy, hold_ce=False) as book:
        sheet = book.sheet("LTV models")
        sheet.getCellRangeByName(rate_key[1]).setValue(0.2)  # an input: unlocked on the protected sheet
        book.recalculate()
        assert sheet.getCellRangeByName(check_key[1]).getValue() == pytest.approx(
            sum(a / 1.2 ** (t + 1) for t, a in enumerate(margins)), rel=1e-12)
        assert sheet.getCellRangeByName(ce_key[1]).getValue() == wb["LTV models"][ce_key[1]].value
        assert "CHECK" in F.ok_statuses(book, copy)  # the frozen value and Excel's own now differ


def _hand_made_workbook(path):
    """A workbook as Excel saves formulas the templates never use: a formula shared down a column,
    a CE_ formula with a text result, a CE_ call stored with Excel's ``_xludf.`` prefix, a name
    that is a CE_ formula, and a calculation chain."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Data")
    for r in range(3):
        ws.write_number(r, 1, 100.0 * (r + 1))
        ws.write_number(r, 2, 0.5)
        ws.write_number(r, 3, 0.2)
    for r in range(3):
        ws.write_formula(r, 0, f"=CE_PV(B{r + 1},C{r + 1},D{r + 1})", None, 10.0 * (r + 1))
    ws.write_formula("E1", "=CE_SEGMENT(4.5)", None, "Lighthouse")
    ws.write_formula("E2", "=_xludf.CE_VERSION()", None, "0.1.0")
    ws.write_formula("F1", "=SUM(A1:A3)", None, 60.0)
    ws.write_formula("F2", '=E1&" customers"', None, "Lighthouse customers")
    ws.write_formula("E3", "=CE_LTV(0.1,B1:B3,-1)", None, "#VALUE!")  # saved showing an error
    wb.define_name("named_pv", "=CE_PV(Data!$B$1,Data!$C$1,Data!$D$1)")
    wb.close()
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i.filename) for i in z.infolist()}
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    for r in (1, 2, 3):  # Excel's storage of one formula filled down: a master and two followers
        old = sheet[sheet.index(f'<c r="A{r}"'):]
        old = old[:old.index("</c>") + 4]
        f = '<f t="shared" ref="A1:A3" si="0">CE_PV(B1,C1,D1)</f>' if r == 1 else '<f t="shared" si="0"/>'
        sheet = sheet.replace(old, f'<c r="A{r}">{f}<v>{10.0 * r}</v></c>')
    members["xl/worksheets/sheet1.xml"] = sheet.encode()
    members["xl/calcChain.xml"] = b'<?xml version="1.0"?><calcChain xmlns="http://schemas.openxmlformats.org/' \
                                  b'spreadsheetml/2006/main"><c r="A1" i="1"/></calcChain>'
    rels = members["xl/_rels/workbook.xml.rels"].decode().replace(
        "</Relationships>", '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/calcChain" Target="calcChain.xml"/></Relationships>')
    members["xl/_rels/workbook.xml.rels"] = rels.encode()
    types = members["[Content_Types].xml"].decode().replace(
        "</Types>", '<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.calcChain+xml"/></Types>')
    members["[Content_Types].xml"] = types.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_shared_formulas_text_results_and_named_ce_formulas(tmp_path, libreoffice):
    src = _hand_made_workbook(tmp_path / "made.xlsx")
    result = freeze_file(src, tmp_path / "copy.xlsx", now=WHEN)
    assert [(s, r) for s, r, _ in result.frozen] == [("Data", "A1"), ("Data", "E1"), ("Data", "E2"), ("Data", "E3")]
    assert result.cells == 6 and result.kept == 2 and result.names_left == ["named_pv"]
    assert "named_pv" in result.message
    assert result.errors == [("Data", "E3", "#VALUE!")] and "Data!E3 #VALUE!" in result.message
    copy = openpyxl.load_workbook(tmp_path / "copy.xlsx")
    assert [copy["Data"][f"A{r}"].value for r in (1, 2, 3)] == [10.0, 20.0, 30.0]
    assert copy["Data"]["E1"].value == "Lighthouse" and copy["Data"]["E1"].data_type == "s"
    assert copy["Data"]["F2"].value == '=E1&" customers"'
    with zipfile.ZipFile(tmp_path / "copy.xlsx") as z:
        assert "xl/calcChain.xml" not in z.namelist()
        assert "calcChain" not in z.read("xl/_rels/workbook.xml.rels").decode()
        assert "calcChain" not in z.read("[Content_Types].xml").decode()
    with libreoffice.opened(tmp_path / "copy.xlsx", hold_ce=False) as book:
        book.recalculate()
        assert book.errors("Data") == [("$Data.$E$3", "#VALUE!")]  # the error it was saved with, reported
        data = book.sheet("Data").getCellRangeByName("A1:F3").getDataArray()
        assert [r[0] for r in data] == [10.0, 20.0, 30.0]
        assert data[0][5] == 60.0 and data[1][5] == "Lighthouse customers"


def test_refusals_name_the_file_and_write_nothing(tmp_path, capsys):
    book = FILES["ltv_models"]
    existing = tmp_path / "copy.xlsx"
    existing.write_bytes(b"the copy made yesterday")
    text = tmp_path / "notes.xlsx"
    text.write_text("not a workbook", encoding="utf-8")
    macros = tmp_path / "macros.xlsm"
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(macros, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info.filename))
        zout.writestr("xl/vbaProject.bin", b"\0")
    cases = [
        ([str(text), "--out", str(existing)], "notes.xlsx: not an Excel workbook"),
        ([str(tmp_path / "missing.xlsx"), "--out", str(existing)], "missing.xlsx: no such file"),
        ([str(book), "--out", str(book)], "the copy would overwrite the workbook"),
        ([str(macros), "--out", str(existing)], "copy.xlsx: the workbook holds macros"),
        ([str(book), "--out", str(tmp_path / "no folder" / "copy.xlsx")], "the folder does not exist"),
    ]
    for argv, message in cases:
        assert cli.main(["freeze", *argv]) == 2, argv
        err = capsys.readouterr().err
        assert message in err, (argv, err)
    assert existing.read_bytes() == b"the copy made yesterday"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.xlsx", "macros.xlsm", "notes.xlsx"]


def test_the_default_copy_sits_beside_the_workbook(tmp_path, capsys):
    book = tmp_path / "my book.xlsx"
    book.write_bytes(FILES["ltv_models"].read_bytes())
    assert cli.main(["freeze", str(book)]) == 0
    assert (tmp_path / "my book (values).xlsx").is_file()
    formulas = len(F.ce_evaluations(book)[1])  # the cells that call a CE_ function
    assert f"my book (values).xlsx: {formulas} CE_ formula(s) (" in capsys.readouterr().out
