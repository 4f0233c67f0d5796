"""Share as values: a copy of a workbook for people without the Customer Equity add-in.

Every formula that calls a CE_ function is replaced by the value it shows (the value Excel
saved with the file), so the copy shows the same numbers in any Excel, on the web and in
LibreOffice, where the add-in's functions are unknown and would show ``#NAME?`` as soon as
they recalculate. Ordinary formulas are kept and still recalculate.

What else changes, so that the copy computes in Excel 2016 and LibreOffice 7.4 too:

- a name on a spill range (Excel's ``A1#``, stored as ``_xlfn.ANCHORARRAY``) and any formula
  that uses ``A1#`` point at the range the spill covers in the file; the templates' names
  that fall back to a saved range where ``A1#`` is unknown
  (:func:`customer_equity.excel.templates._book.spill_ref`) become that range;
- a new first sheet, *Shared as values*, says what was frozen and when, and lists every
  frozen formula with its address;
- Excel's calculation chain (``xl/calcChain.xml``, which lists formula cells) is dropped:
  Excel rebuilds it.

Everything else (values, styles, protection, names, tables, charts, the dynamic-array
metadata of the formulas that stay) is copied as it is. The copy is written to a temporary
file and renamed (:func:`customer_equity._files.atomic_path`). The ribbon's *Share as
values* button runs the same on a copy of the active workbook (:func:`share_active_workbook`).
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from .._files import atomic_path
from .._version import __version__
from ..errors import CustomerEquityError
from ._package import sheet_parts

__all__ = ["FreezeResult", "NOTE_SHEET", "default_copy_path", "freeze_file", "main", "share_active_workbook"]

#: The name of the sheet the copy opens on.
NOTE_SHEET = "Shared as values"

#: A call of a CE_ function, with any prefix Excel stores before an add-in's function name.
_CE_CALL = re.compile(r"(?<![\w.])(?:[A-Za-z_][\w]*\.)*CE_[A-Z0-9_]*\s*\(", re.IGNORECASE)
_STRING = re.compile(r'"(?:[^"]|"")*"')
_CELL = re.compile(r"<c\b(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</c>)", re.S)
_FORMULA = re.compile(r"<f\b(?P<attrs>[^>]*?)(?:/>|>(?P<text>.*?)</f>)", re.S)
_ANCHOR = re.compile(r"_xlfn\.ANCHORARRAY\((?:(?P<sheet>'(?:[^']|'')+'|[A-Za-z0-9_.]+)!)?"
                     r"\$?(?P<col>[A-Z]{1,3})\$?(?P<row>\d+)\)", re.IGNORECASE)
_FALLBACK = re.compile(r"IF\(ISERROR\(ROWS\([^()]+\)\),[^(),]+,(?P<expr>.+)\)", re.IGNORECASE)
_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_REL_WORKSHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"


@dataclass
class FreezeResult:
    """What :func:`freeze_file` wrote."""

    path: Path
    made: str
    frozen: list = field(default_factory=list)  # (sheet, range, formula) of each CE_ formula
    cells: int = 0  # cells those formulas fill
    kept: int = 0  # ordinary formulas kept
    names_left: list = field(default_factory=list)  # names that are CE_ formulas (no value to keep)
    errors: list = field(default_factory=list)  # (sheet, cell, error) of frozen formulas showing one

    @property
    def message(self) -> str:
        """One paragraph for the command line and the ribbon's alert."""
        text = (f"Wrote {self.path}: {len(self.frozen):,} CE_ formula(s) ({self.cells:,} cells) replaced by "
                f"their values, {self.kept:,} ordinary formula(s) kept. Its first sheet, "
                f"'{NOTE_SHEET}', says what was frozen and when.")
        if self.errors:
            text += (f" {len(self.errors):,} frozen formula(s) show an error value, frozen as it is (was the "
                     "add-in loaded when the workbook was last calculated?): "
                     + ", ".join(f"{s}!{c} {e}" for s, c, e in self.errors[:5])
                     + (" ..." if len(self.errors) > 5 else "") + ".")
        if self.names_left:
            text += (" These names compute with CE_ functions and have no saved value to keep; they show "
                     f"#NAME? without the add-in: {', '.join(self.names_left)}.")
        return text


def calls_ce(formula: str) -> bool:
    """Whether a formula calls a CE_ function (text in quotes does not count).

    >>> calls_ce('CE_LTV(0.1,A1:C1)'), calls_ce('SUM(ce_types="CE_PV(")'), calls_ce('_xludf.CE_PV(1,2,3)')
    (True, False, True)
    """
    return bool(_CE_CALL.search(_STRING.sub('""', formula)))


def _unescape(text: str) -> str:
    return text.replace("&quot;", '"').replace("&apos;", "'").replace("&lt;", "<").replace(
        "&gt;", ">").replace("&amp;", "&")


def _attr(attrs: str, name: str) -> str | None:
    m = re.search(rf'(?<![\w:]){name}="([^"]*)"', attrs)
    return m.group(1) if m else None


def _without(attrs: str, name: str) -> str:
    return re.sub(rf'\s+{name}="[^"]*"', "", attrs)


def _quoted(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'" if re.search(r"[^A-Za-z0-9_.]", sheet) or \
        sheet[:1].isdigit() else sheet


def _absolute(ref: str) -> str:
    return ":".join(re.sub(r"^([A-Z]+)(\d+)$", r"$\1$\2", part) for part in ref.split(":"))


def _cell_count(ref: str) -> int:
    def rc(a1):
        m = re.match(r"([A-Z]+)(\d+)", a1)
        col = 0
        for ch in m.group(1):
            col = col * 26 + ord(ch) - 64
        return int(m.group(2)), col

    parts = ref.split(":")
    (r1, c1), (r2, c2) = rc(parts[0]), rc(parts[-1])
    return (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1)


class _Spills:
    """Where each array formula's result lies in the file: ``{(sheet, "A1"): "A1:B10"}``."""

    def __init__(self, sheets: dict[str, str]):
        self.ranges = {}
        for sheet, xml in sheets.items():
            for m in _CELL.finditer(xml):
                body = m.group("body") or ""
                f = _FORMULA.search(body)
                if f and _attr(f.group("attrs"), "t") == "array":
                    self.ranges[(sheet, _attr(m.group("attrs"), "r"))] = _attr(f.group("attrs"), "ref")

    def static(self, formula: str, home: str | None) -> str:
        """``formula`` with each ``A1#`` replaced by the range its spill covers in the file."""

        def replace(m):
            sheet = home if m.group("sheet") is None else m.group("sheet")
            if sheet is None:
                return m.group(0)
            name = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
            anchor = f"{m.group('col').upper()}{m.group('row')}"
            ref = self.ranges.get((name, anchor)) or anchor
            prefix = "" if m.group("sheet") is None else sheet + "!"
            return prefix + _absolute(ref)

        text = _ANCHOR.sub(replace, formula)
        fallback = _FALLBACK.fullmatch(text)
        if fallback and re.match(r"IF\(ISERROR\(ROWS\(_xlfn\.ANCHORARRAY\(", formula, re.IGNORECASE):
            text = fallback.group("expr")  # a spill name's fallback: the range itself now
        return text


def _freeze_sheet(xml: str, sheet: str, spills: _Spills, result: FreezeResult) -> str:
    shared_ce = set()
    for m in _CELL.finditer(xml):
        f = _FORMULA.search(m.group("body") or "")
        if f and _attr(f.group("attrs"), "t") == "shared" and f.group("text") and \
                calls_ce(_unescape(f.group("text"))):
            shared_ce.add(_attr(f.group("attrs"), "si"))

    def cell(m):
        attrs, body = m.group("attrs"), m.group("body")
        f = _FORMULA.search(body or "")
        if not f:
            return m.group(0)
        fattrs, text = f.group("attrs"), _unescape(f.group("text") or "")
        kind = _attr(fattrs, "t")
        frozen = calls_ce(text) or (kind == "shared" and _attr(fattrs, "si") in shared_ce)
        if not frozen:
            result.kept += 1 if text else 0
            if "ANCHORARRAY" not in text.upper():
                return m.group(0)
            new_text = escape(spills.static(text, sheet))
            return m.group(0).replace(f.group(0), f"<f{fattrs}>{new_text}</f>" if f.group("text") is not None
                                      else f.group(0))
        ref = _attr(fattrs, "ref") if kind == "array" else _attr(attrs, "r")
        result.cells += _cell_count(ref) if kind == "array" else 1
        if text:  # not one of the cells that share the formula of another
            result.frozen.append((sheet, ref, "=" + text))
        if _attr(attrs, "t") == "e":
            shown = re.search(r"<v>(.*?)</v>", body or "", re.S)
            result.errors.append((sheet, _attr(attrs, "r"), _unescape(shown.group(1)) if shown else "#N/A"))
        body = body.replace(f.group(0), "", 1)
        attrs = _without(attrs, "cm")
        value = re.search(r"<v>(.*?)</v>", body, re.S)
        if _attr(attrs, "t") == "str":  # a formula's text result becomes a constant text
            attrs = _without(attrs, "t")
            if value is None:
                return f"<c{attrs}/>"
            return f'<c{attrs} t="inlineStr"><is><t xml:space="preserve">{value.group(1)}</t></is></c>'
        if value is None:
            return f"<c{_without(attrs, 't')}/>"
        return f"<c{attrs}>{body}</c>"

    xml = re.sub(r'(<sheetView\b[^>]*?)\s+tabSelected="1"', r"\1", xml)  # the note's sheet is selected
    return _CELL.sub(cell, xml)


def _note_sheet(result: FreezeResult, source: str) -> str:
    lines = [
        NOTE_SHEET,
        f"This copy of {source} was made on {result.made} with Customer Equity's Share as values "
        f"(customer-equity {__version__}).",
        f"{len(result.frozen):,} formula(s) that call the Customer Equity add-in's CE_ functions "
        f"({result.cells:,} cells) now hold the values they showed: they no longer follow their inputs.",
        f"{result.kept:,} ordinary formula(s) are kept and recalculate in any Excel and in LibreOffice; "
        "names on spill ranges point at the ranges the results covered.",
        "To compute the CE_ results again, open the original workbook with the Customer Equity add-in.",
    ]
    if result.errors:
        lines.append(f"{len(result.errors):,} frozen formula(s) show an error value, frozen as it is: "
                     + ", ".join(f"{s}!{c} {e}" for s, c, e in result.errors[:20])
                     + (" ..." if len(result.errors) > 20 else "") + ".")
    if result.names_left:
        lines.append("Names that compute with CE_ functions, left as they are (they show #NAME? without the "
                     "add-in): " + ", ".join(result.names_left) + ".")
    rows = [[line] for line in lines] + [[]]
    if result.frozen:
        rows.append(["Frozen formulas", "Formula"])
        rows += [[f"{sheet}!{ref}", formula] for sheet, ref, formula in result.frozen]

    def cell(r, c, text):
        col = "AB"[c]
        return (f'<c r="{col}{r}" t="inlineStr"><is><t xml:space="preserve">{escape(text)}</t></is></c>')

    data = "".join(f'<row r="{i}">' + "".join(cell(i, j, t) for j, t in enumerate(row)) + "</row>"
                   for i, row in enumerate(rows, start=1) if row)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<dimension ref="A1"/><sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
            '<sheetFormatPr defaultRowHeight="15"/><cols><col min="1" max="1" width="28" customWidth="1"/>'
            '<col min="2" max="2" width="110" customWidth="1"/></cols>'
            f"<sheetData>{data}</sheetData>"
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
            "</worksheet>")


def _add_note_sheet(members: dict[str, bytes], xml: str) -> None:
    """Insert ``xml`` as the first sheet of the package, the one the workbook opens on."""
    workbook = members["xl/workbook.xml"].decode("utf-8")
    rels = members["xl/_rels/workbook.xml.rels"].decode("utf-8")
    number = 1
    while f"xl/worksheets/sheet{number}.xml" in members:
        number += 1
    part = f"xl/worksheets/sheet{number}.xml"
    ids = set(re.findall(r'\bId="([^"]+)"', rels))
    k = 1
    while f"rId{k}" in ids:
        k += 1
    rid = f"rId{k}"
    members[part] = xml.encode("utf-8")
    rels = rels.replace("</Relationships>", f'<Relationship Id="{rid}" Type="{_REL_WORKSHEET}" '
                        f'Target="worksheets/sheet{number}.xml"/></Relationships>')
    types = members["[Content_Types].xml"].decode("utf-8")
    types = types.replace("</Types>", f'<Override PartName="/{part}" ContentType="{_WORKSHEET}"/></Types>')
    sheet_tags = re.findall(r"<(?:\w+:)?sheet\b[^>]*>", workbook)
    names = {_unescape(_attr(t, "name") or "") for t in sheet_tags}
    name, k = NOTE_SHEET, 1
    while name.lower() in {n.lower() for n in names}:
        k += 1
        name = f"{NOTE_SHEET} ({k})"
    sheet_ids = [int(_attr(t, "sheetId") or 0) for t in sheet_tags]
    prefix = re.search(r"\b(\w+):id=", sheet_tags[0]).group(1) if sheet_tags else "r"
    tag = f'<sheet name="{escape(name)}" sheetId="{max(sheet_ids, default=0) + 1}" {prefix}:id="{rid}"/>'
    workbook = re.sub(r"(<(?:\w+:)?sheets>)", lambda m: m.group(1) + tag, workbook, count=1)
    workbook = re.sub(r'localSheetId="(\d+)"', lambda m: f'localSheetId="{int(m.group(1)) + 1}"', workbook)
    workbook = re.sub(r'\s(?:activeTab|firstSheet)="\d+"', "", workbook)
    members["xl/workbook.xml"] = workbook.encode("utf-8")
    members["xl/_rels/workbook.xml.rels"] = rels.encode("utf-8")
    members["[Content_Types].xml"] = types.encode("utf-8")
    app = members.get("docProps/app.xml")
    if app is not None:  # the sheet names Excel lists in the file's properties
        text = app.decode("utf-8")
        pairs = re.search(r"(<vt:lpstr>Worksheets</vt:lpstr></vt:variant><vt:variant><vt:i4>)(\d+)(</vt:i4>)", text)
        titles = re.search(r'(<TitlesOfParts><vt:vector size=")(\d+)(" baseType="lpstr">)', text)
        if pairs and titles:
            text = text.replace(pairs.group(0), pairs.group(1) + str(int(pairs.group(2)) + 1) + pairs.group(3))
            text = text.replace(titles.group(0), titles.group(1) + str(int(titles.group(2)) + 1)
                                + titles.group(3) + f"<vt:lpstr>{escape(name)}</vt:lpstr>")
            members["docProps/app.xml"] = text.encode("utf-8")


def _drop_calc_chain(members: dict[str, bytes]) -> None:
    if "xl/calcChain.xml" not in members:
        return
    del members["xl/calcChain.xml"]
    rels = members["xl/_rels/workbook.xml.rels"].decode("utf-8")
    rels = re.sub(r'<Relationship\b[^>]*Target="[^"]*calcChain\.xml"[^>]*/>', "", rels)
    members["xl/_rels/workbook.xml.rels"] = rels.encode("utf-8")
    types = members["[Content_Types].xml"].decode("utf-8")
    types = re.sub(r'<Override\b[^>]*PartName="/xl/calcChain\.xml"[^>]*/>', "", types)
    members["[Content_Types].xml"] = types.encode("utf-8")


def _freeze_names(workbook: str, spills: _Spills, result: FreezeResult) -> str:
    def name(m):
        attrs, text = m.group(1), _unescape(m.group(2))
        if calls_ce(text):
            result.names_left.append(_unescape(_attr(attrs, "name") or "?"))
            return m.group(0)
        if "ANCHORARRAY" not in text.upper():
            return m.group(0)
        return f"<definedName{attrs}>{escape(spills.static(text, None))}</definedName>"

    return re.sub(r"<definedName\b([^>]*)>(.*?)</definedName>", name, workbook, flags=re.S)


def _when(moment: dt.datetime) -> str:
    """``2025-03-14 09:26 (UTC+01:00)``: the time a copy was made, with its offset when known.

    >>> _when(dt.datetime(2025, 3, 14, 9, 26, tzinfo=dt.timezone(dt.timedelta(hours=-5))))
    '2025-03-14 09:26 (UTC-05:00)'
    """
    text = moment.strftime("%Y-%m-%d %H:%M")
    offset = moment.utcoffset()
    if offset is None:
        return text
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{text} (UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"


def default_copy_path(path) -> Path:
    """Where the copy goes when no other file is named: ``BOOK (values).xlsx`` beside the book."""
    path = Path(path)
    return path.with_name(f"{path.stem} (values){path.suffix or '.xlsx'}")


def freeze_file(path, out=None, *, now: dt.datetime | None = None, source_name: str | None = None) -> FreezeResult:
    """Write a copy of the workbook ``path`` with every CE_ formula replaced by its saved value.

    Parameters
    ----------
    path : str or Path
        An Excel workbook (``.xlsx``, or ``.xlsm`` for a copy that keeps its macros).
    out : str or Path, optional
        The copy to write; by default ``BOOK (values).xlsx`` beside the workbook. It must
        not be the workbook itself.
    now : datetime, optional
        When the copy is made (the note says so); the local time by default.
    source_name : str, optional
        The workbook's name as the note gives it (default: the file name of ``path``).

    Returns
    -------
    FreezeResult
        The copy's path, the frozen formulas and cells, the ordinary formulas kept, and any
        name that computes with CE_ functions (kept as it is: a name has no saved value).

    Raises
    ------
    CustomerEquityError
        A file that is not a workbook package, a binary workbook (``.xlsb``), a copy that
        would overwrite the workbook, or a workbook with macros copied to ``.xlsx``.
    """
    path = Path(path)
    out = default_copy_path(path) if out is None else Path(out)
    if not path.is_file():
        raise CustomerEquityError(str(path), "no such file")
    if out.resolve() == path.resolve():
        raise CustomerEquityError(str(out), "the copy would overwrite the workbook; name another file")
    if not zipfile.is_zipfile(path):
        raise CustomerEquityError(str(path), "not an Excel workbook (.xlsx): open it in Excel and save it as "
                                  "an Excel Workbook first")
    with zipfile.ZipFile(path) as zin:
        infos = zin.infolist()
        members = {i.filename: zin.read(i.filename) for i in infos}
    if "xl/workbook.xml" not in members:
        raise CustomerEquityError(str(path), "not an Excel workbook with XML parts (a binary .xlsb?): save it "
                                  "as an Excel Workbook (.xlsx) first")
    if "xl/vbaProject.bin" in members and out.suffix.lower() == ".xlsx":
        raise CustomerEquityError(str(out), "the workbook holds macros, which an .xlsx file cannot: name the "
                                  "copy .xlsm")
    result = FreezeResult(out, _when(now or dt.datetime.now().astimezone()))
    parts = sheet_parts(members)
    sheets = {sheet: members[part].decode("utf-8") for sheet, part in parts.items() if part in members
              and posixpath.dirname(part) == "xl/worksheets"}
    spills = _Spills(sheets)
    for sheet, xml in sheets.items():
        members[parts[sheet]] = _freeze_sheet(xml, sheet, spills, result).encode("utf-8")
    workbook = _freeze_names(members["xl/workbook.xml"].decode("utf-8"), spills, result)
    members["xl/workbook.xml"] = workbook.encode("utf-8")
    _drop_calc_chain(members)
    _add_note_sheet(members, _note_sheet(result, source_name or path.name))
    order = [i.filename for i in infos if i.filename in members]
    order += [name for name in members if name not in order]
    kinds = {i.filename: i for i in infos}
    with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in order:
            info = kinds.get(name)
            if info is not None:
                zout.writestr(info, members[name], compress_type=info.compress_type)
            else:
                zout.writestr(name, members[name])
    return result


def share_active_workbook():
    """What the ribbon's *Share as values* button runs: a frozen copy of the active workbook.

    Excel saves a copy of the workbook as it is now (``SaveCopyAs``, which leaves the open
    workbook, its file and its "unsaved changes" state alone) into a temporary folder; that
    copy is frozen (:func:`freeze_file`) into ``BOOK (values).xlsx`` beside the workbook, and
    an alert says where. A workbook never saved has no folder: the alert asks to save it.
    """
    import shutil
    import tempfile

    import xlwings as xw

    book = xw.Book.caller()
    full = Path(book.fullname)
    if not full.parent.is_dir():
        book.app.alert("Save the workbook first: the copy is written beside it.", title="Customer Equity")
        return None
    suffix = full.suffix if full.suffix.lower() in (".xlsx", ".xlsm") else ".xlsx"
    tmp = Path(tempfile.mkdtemp(prefix="ce-share-"))
    try:
        snapshot = tmp / f"snapshot{suffix}"
        try:
            book.api.SaveCopyAs(str(snapshot))  # Windows (COM)
        except Exception:  # noqa: BLE001 - Excel for Mac: the file as last saved
            shutil.copyfile(full, snapshot)
        try:
            result = freeze_file(snapshot, default_copy_path(full.with_suffix(suffix)), source_name=full.name)
        except CustomerEquityError as exc:
            book.app.alert(f"Share as values stopped, nothing was written: {exc}", title="Customer Equity")
            return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    book.app.alert(result.message, title="Customer Equity")
    return result


def main():
    """What the Share as values add-in's ribbon button runs (:func:`share_active_workbook`).

    The button's add-in is called ``customer_equity.excel.freeze.xlam``; xlwings' ribbon
    callback ``RunMain`` runs ``import <file name>; <file name>.main()``, which lands here
    (see :mod:`customer_equity.excel.addin.build`).
    """
    return share_active_workbook()
