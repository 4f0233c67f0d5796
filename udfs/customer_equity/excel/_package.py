"""Write cell values into an existing ``.xlsx`` package, leaving every other part as it is.

openpyxl rewrites a whole workbook when it saves it and drops what it does not model
(``xl/metadata.xml``, which makes a formula a dynamic array in Excel 365; charts it did
not read; the cached results of formulas). :func:`replace_cells` instead edits only the
``<c>`` elements of the cells given, in the sheet parts that hold them, and copies every
other part of the package byte for byte (same order, same compression).
"""

from __future__ import annotations

import math
import posixpath
import re
import zipfile
from pathlib import Path
from typing import Any, Mapping
from xml.sax.saxutils import escape

from ..errors import CustomerEquityError

_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _column_letters(col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _unescape_attr(text: str) -> str:
    return (text.replace("&quot;", '"').replace("&apos;", "'").replace("&lt;", "<")
            .replace("&gt;", ">").replace("&amp;", "&"))


def sheet_parts(members: Mapping[str, bytes]) -> dict[str, str]:
    """``{sheet name: part path}`` from ``xl/workbook.xml`` and its relationships."""
    workbook = members["xl/workbook.xml"].decode("utf-8")
    rels = members["xl/_rels/workbook.xml.rels"].decode("utf-8")
    targets = {}
    for rel in re.findall(r"<Relationship\b[^>]*>", rels):
        rid = re.search(r'\bId="([^"]+)"', rel)
        target = re.search(r'\bTarget="([^"]+)"', rel)
        if rid and target:
            t = target.group(1)
            targets[rid.group(1)] = t.lstrip("/") if t.startswith("/") else posixpath.normpath(
                posixpath.join("xl", t))
    out = {}
    for tag in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", workbook):
        name = re.search(r'\bname="([^"]*)"', tag)
        rid = re.search(r'\br:id="([^"]+)"', tag) or re.search(r'\b\w+:id="([^"]+)"', tag)
        if name and rid and rid.group(1) in targets:
            out[_unescape_attr(name.group(1))] = targets[rid.group(1)]
    return out


def _cell_xml(ref: str, style: str | None, value: Any) -> str:
    s = f' s="{style}"' if style is not None else ""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))) \
            or value == "":
        return f'<c r="{ref}"{s}/>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"{s}><v>{repr(float(value)) if isinstance(value, float) else value}</v></c>'
    text = escape(str(value))
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


_CELL = re.compile(r'<c\b(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</c>)', re.S)
_ROW = re.compile(r'<row\b(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</row>)', re.S)


def _attr(attrs: str, name: str) -> str | None:
    m = re.search(rf'\b{name}="([^"]*)"', attrs)
    return m.group(1) if m else None


def _patch_row(body: str, row: int, cells: Mapping[int, Any], sheet: str) -> str:
    existing = []  # (column, start, end, attrs, body)
    for m in _CELL.finditer(body):
        ref = _attr(m.group("attrs"), "r")
        if ref is None:
            raise CustomerEquityError(sheet, "a cell without an address in the sheet part; "
                                      "save the workbook in Excel first")
        existing.append((_column_number(re.match(r"[A-Z]+", ref).group(0)), m.start(), m.end(),
                         m.group("attrs"), m.group("body") or ""))
    pieces, pos = [], 0
    todo = dict(sorted(cells.items()))
    for col, start, end, attrs, cbody in existing:
        for new_col in [c for c in todo if c < col]:
            pieces.append(body[pos:start] if pos < start else "")
            pos = max(pos, start)
            pieces.append(_cell_xml(f"{_column_letters(new_col)}{row}", None, todo.pop(new_col)))
        if col in todo:
            if re.search(r'<f\b[^>]*\bt="(?:shared|array)"[^>]*\bref=', cbody):
                raise CustomerEquityError(
                    f"{sheet}!{_column_letters(col)}{row}", "an output cell holds the first cell of "
                    "a shared or array formula; clear it in Excel, then refresh")
            pieces.append(body[pos:start])
            pieces.append(_cell_xml(f"{_column_letters(col)}{row}", _attr(attrs, "s"), todo.pop(col)))
            pos = end
    pieces.append(body[pos:])
    for col, value in todo.items():
        pieces.append(_cell_xml(f"{_column_letters(col)}{row}", None, value))
    return "".join(pieces)


def patch_sheet(xml: str, cells: Mapping[tuple[int, int], Any], sheet: str = "sheet") -> str:
    """A worksheet part with ``cells`` (``{(row, column): value}``, 1-based) rewritten.

    A cell keeps its style; values become numbers, booleans, inline strings or blanks.
    """
    by_row: dict[int, dict[int, Any]] = {}
    for (r, c), v in cells.items():
        by_row.setdefault(r, {})[c] = v
    m = re.search(r"<sheetData\b[^>]*?(?:/>|>(?P<body>.*?)</sheetData>)", xml, re.S)
    if m is None:
        raise CustomerEquityError(sheet, "the sheet part has no cell data; save it in Excel first")
    body = m.group("body") or ""
    pieces, pos = [], 0
    for rm in _ROW.finditer(body):
        r = int(_attr(rm.group("attrs"), "r") or 0)
        if r == 0:
            raise CustomerEquityError(sheet, "a row without a number in the sheet part; "
                                      "save the workbook in Excel first")
        for new_r in [x for x in sorted(by_row) if x < r]:
            pieces.append(body[pos:rm.start()])
            pos = rm.start()
            pieces.append(f'<row r="{new_r}">{_patch_row("", new_r, by_row.pop(new_r), sheet)}</row>')
        if r in by_row:
            attrs = re.sub(r'\s+spans="[^"]*"', "", rm.group("attrs"))  # spans are a hint only
            pieces.append(body[pos:rm.start()])
            pieces.append(f"<row{attrs}>{_patch_row(rm.group('body') or '', r, by_row.pop(r), sheet)}"
                          "</row>")
            pos = rm.end()
    pieces.append(body[pos:])
    for r in sorted(by_row):
        pieces.append(f'<row r="{r}">{_patch_row("", r, by_row[r], sheet)}</row>')
    new_body = "".join(pieces)
    return xml[:m.start()] + f"<sheetData>{new_body}</sheetData>" + xml[m.end():]


def replace_cells(src, dst, cells: Mapping[str, Mapping[tuple[int, int], Any]]) -> Path:
    """Copy the package ``src`` to ``dst`` with the cells ``{sheet: {(row, col): value}}`` replaced."""
    src, dst = Path(src), Path(dst)
    with zipfile.ZipFile(src) as zin:
        infos = zin.infolist()
        members = {i.filename: zin.read(i.filename) for i in infos}
    parts = sheet_parts(members)
    patched = {}
    for sheet, sheet_cells in cells.items():
        if not sheet_cells:
            continue
        part = parts.get(sheet)
        if part is None or part not in members:
            raise CustomerEquityError(sheet, "no such sheet in the workbook package")
        patched[part] = patch_sheet(members[part].decode("utf-8"), sheet_cells, sheet).encode("utf-8")
    with zipfile.ZipFile(dst, "w") as zout:
        for info in infos:
            zout.writestr(info, patched.get(info.filename, members[info.filename]),
                          compress_type=info.compress_type)
    return dst
