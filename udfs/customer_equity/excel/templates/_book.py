"""Shared machinery of the template builders: one look, one way to write each kind of cell.

Every template is written with XlsxWriter through :class:`Book` and :class:`Sheet`,
which give each kind of cell its style (the colour legend of the read-me sheets):

=============  ==========================================================  ==========
role           what the cell holds                                         look
=============  ==========================================================  ==========
``input``      a value the analyst types or pastes (unlocked)              yellow, blue text
``ce``         a CE_ function of the add-in, with the core's cached result  light blue
``native``     an ordinary Excel formula                                   white
``check``      a native Excel formula that recomputes a CE_ result         light green
``python``     written by the add-in's Refresh button (``ce_out_`` names,  lilac
               unlocked: Refresh writes them on the protected sheet)
=============  ==========================================================  ==========

How formulas are stored: every formula is a dynamic-array formula (XlsxWriter
``write_dynamic_array_formula``: ``<f t="array" ref=...>`` with ``cm="1"``), as Excel 365
stores what is typed into a cell, so that a formula taking arrays is never evaluated by
implicit intersection. CE_ functions are plain calls (``CE_LTV(...)``), the way Excel
stores a call to an add-in function, with the value the core computes as the cell's
cached result; a result that spills carries its first value in the anchor and the rest
in the other cells of the spill range. A named result is referred to by its spill
range (``=Sheet!$A$1#``, stored as ``_xlfn.ANCHORARRAY``), so that each CE_ calculation
runs once per recalculation however many cells read it. The
workbook says it was last calculated by a current Excel (``calcId`` 191029) and does
not ask for a full calculation on load, so Excel shows the cached numbers until
something they depend on changes, even before the add-in is loaded.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import sys
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from ..._files import atomic_path

#: All generated workbooks claim this creation time, so that a rebuild is byte-identical.
CREATED = _dt.datetime(2024, 1, 1, 0, 0, 0)

#: ``calcId`` of current Excel (365/2019+): an older id would make Excel recalculate the
#: whole workbook on opening, and the CE_ cells would show #NAME? until the add-in loads.
CALC_ID = 191029

MONEY = "#,##0;[Red]-#,##0"
MONEY2 = "#,##0.00;[Red]-#,##0.00"
PCT = "0.0%"
PCT0 = "0%"
RATE = "0.0%"
SCORE = "0.00"
INT = "0"
DIFF = "0.00;[Red]-0.00;0.00"
CHECKMARK = '"✓";"✓";"–"'

PALETTE = {
    "input_fill": "#FFF2CC",
    "input_font": "#1F3B8C",
    "ce_fill": "#DDEBF7",
    "check_fill": "#E2EFDA",
    "python_fill": "#E4DFEC",
    "header_fill": "#1F4E79",
    "header_font": "#FFFFFF",
    "subheader_fill": "#D9E1F2",
    "title_font": "#1F4E79",
    "note_font": "#595959",
    "border": "#BFBFBF",
    "ok_fill": "#C6EFCE",
    "ok_font": "#006100",
    "bad_fill": "#FFC7CE",
    "bad_font": "#9C0006",
}

ROLE_STYLE = {
    "input": {"bg_color": PALETTE["input_fill"], "font_color": PALETTE["input_font"], "locked": False,
              "border": 1, "border_color": PALETTE["border"]},
    "ce": {"bg_color": PALETTE["ce_fill"], "border": 1, "border_color": PALETTE["border"]},
    "native": {"border": 1, "border_color": PALETTE["border"]},
    "check": {"bg_color": PALETTE["check_fill"], "border": 1, "border_color": PALETTE["border"],
              "italic": True},
    "python": {"bg_color": PALETTE["python_fill"], "border": 1, "border_color": PALETTE["border"],
               "locked": False},
    "label": {},
    "bold": {"bold": True},
    "header": {"bold": True, "bg_color": PALETTE["header_fill"], "font_color": PALETTE["header_font"],
               "border": 1, "border_color": PALETTE["border"], "text_wrap": True, "valign": "vcenter"},
    "subheader": {"bold": True, "bg_color": PALETTE["subheader_fill"], "border": 1,
                  "border_color": PALETTE["border"], "text_wrap": True, "valign": "top"},
    "title": {"bold": True, "font_size": 16, "font_color": PALETTE["title_font"]},
    "section": {"bold": True, "font_size": 12, "font_color": PALETTE["title_font"], "bottom": 1,
                "bottom_color": PALETTE["title_font"]},
    "note": {"italic": True, "font_color": PALETTE["note_font"], "text_wrap": True, "valign": "top"},
    "text": {"text_wrap": True, "valign": "top"},
    "formula_text": {"font_name": "Consolas", "font_color": "#000000", "text_wrap": True, "valign": "top"},
    "big": {"bold": True, "font_size": 18, "bg_color": PALETTE["ce_fill"], "border": 1,
            "border_color": PALETTE["border"]},
    "big_check": {"bold": True, "font_size": 12, "bg_color": PALETTE["check_fill"], "border": 1,
                  "border_color": PALETTE["border"], "italic": True},
}


def cell(row, col, row_abs=True, col_abs=True):
    """A1 reference of a zero-indexed cell (absolute by default)."""
    return xl_rowcol_to_cell(row, col, row_abs, col_abs)


def area(r1, c1, r2, c2):
    """Absolute A1 reference of a zero-indexed range."""
    return f"{cell(r1, c1)}:{cell(r2, c2)}"


def sheet_ref(sheet_name, ref):
    """``'Sheet name'!ref``, quoted when needed."""
    if any(ch in sheet_name for ch in " -'!") or sheet_name[:1].isdigit():
        return "'" + sheet_name.replace("'", "''") + "'!" + ref
    return f"{sheet_name}!{ref}"


def spill_ref(sheet_name, row, col, height, width):
    """The definition of a name on the spill range of the dynamic array at (row, col).

    Excel 365 and 2021 read the spill range itself (``A1#``, stored as
    ``_xlfn.ANCHORARRAY``), which grows and shrinks with the result. Excel 2016/2019 and
    LibreOffice 7.4 know no spill ranges (``A1#`` is an unknown name there): they get the
    range the result covered when the file was written (``height`` x ``width`` cells), where
    they keep the array formula's cells. So every engine reads the same cells.

    >>> spill_ref("Step 2", 11, 4, 1000, 1)
    "=IF(ISERROR(ROWS(_xlfn.ANCHORARRAY('Step 2'!$E$12))),'Step 2'!$E$12:$E$1011,_xlfn.ANCHORARRAY('Step 2'!$E$12))"
    """
    spill = f"_xlfn.ANCHORARRAY({sheet_ref(sheet_name, cell(row, col))})"
    saved = sheet_ref(sheet_name, area(row, col, row + max(height, 1) - 1, col + max(width, 1) - 1))
    return f"=IF(ISERROR(ROWS({spill})),{saved},{spill})"


def _plain(v):
    """A cached value as XlsxWriter wants it (numpy scalars to Python, NaN to blank)."""
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return ""
    return v


#: A check agrees when the absolute difference is below this (money, 2 decimals shown).
TOLERANCE = 0.005


def largest_difference(a, b):
    """Largest absolute difference between two cached blocks (numbers; text must be equal).

    >>> largest_difference([[1.0, 2.0]], [[1.0, 2.001]])
    0.0009999999999998899
    >>> largest_difference("Follower", "Rational")
    inf
    """
    import numpy as np

    xa = np.asarray(a, dtype=object).reshape(-1)
    xb = np.asarray(b, dtype=object).reshape(-1)
    if xa.size != xb.size:
        return math.inf
    worst = 0.0
    for u, v in zip(xa, xb):
        u, v = _plain(u), _plain(v)
        if isinstance(u, str) or isinstance(v, str):
            if (u or "") != (v or ""):
                return math.inf
            continue
        if u is None or v is None:
            if (u or 0) != (v or 0):
                return math.inf
            continue
        worst = max(worst, abs(float(u) - float(v)))
    return worst


def status(difference, tolerance=TOLERANCE):
    """The text of a check cell for a difference: "OK" or "CHECK"."""
    return "OK" if abs(difference) < tolerance else "CHECK"


@dataclasses.dataclass
class Built:
    """What a builder wrote: the file, its defined names, its cross-check pairs, the result."""

    path: Path
    names: dict
    checks: list
    result: object = None


class Book:
    """An XlsxWriter workbook with the templates' conventions (formats, names, properties)."""

    def __init__(self, path, title, template_id, subject=""):
        # written to a temporary file beside ``path`` and renamed by close(): a failed build
        # leaves the workbook that was there
        self.path = Path(path)
        self._atomic = atomic_path(self.path)
        self.wb = xlsxwriter.Workbook(str(self._atomic.__enter__()), {"strings_to_numbers": False,
                                                  "strings_to_formulas": False,
                                                  "strings_to_urls": False})
        self.wb.set_properties({
            "title": title,
            "subject": subject,
            "author": "customer-equity",
            "company": "",
            "comments": "Generated by `customer-equity templates`; do not edit by hand, regenerate.",
            "created": CREATED,
        })
        self.wb.calc_on_load = False
        self.wb.set_calc_mode("auto", calc_id=CALC_ID)
        self.wb.set_size(1600, 1000)
        self._formats = {}
        self.names = {}
        self.checks = []
        self.define("CE_TEMPLATE", f'="{template_id}"')

    def fmt(self, role="native", num_format=None, **extra):
        """The format of a role (see the module table), with a number format and extras."""
        key = (role, num_format, tuple(sorted(extra.items())))
        if key not in self._formats:
            props = {"font_name": "Calibri", "font_size": 10, "valign": "vcenter"}
            props.update(ROLE_STYLE[role])
            if num_format:
                props["num_format"] = num_format
            props.update(extra)
            self._formats[key] = self.wb.add_format(props)
        return self._formats[key]

    def define(self, name, formula):
        """A workbook-level defined name (a range, a constant or a formula)."""
        if name in self.names:
            raise ValueError(f"name defined twice: {name}")
        self.names[name] = formula
        self.wb.define_name(name, formula)

    def define_spill(self, name, sheet_name, row, col, height, width=1):
        """A workbook name on the spill range of the dynamic array at (row, col) (see
        :func:`spill_ref`): each cell that reads the name reads the one result, so the
        formula that computes it runs once per recalculation."""
        self.define(name, spill_ref(sheet_name, row, col, height, width))

    def sheet(self, name, tab_color=None):
        """A new :class:`Sheet`."""
        ws = self.wb.add_worksheet(name)
        ws.hide_gridlines(2)
        ws.set_default_row(15)
        if tab_color:
            ws.set_tab_color(tab_color)
        ws.set_paper(9)
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
        ws.set_footer("&L&8&A&R&8Page &P of &N")
        return Sheet(self, ws, name)

    def close(self, result=None):
        """Write the file (to a temporary file, then renamed); returns a :class:`Built`."""
        try:
            self.wb.close()
        except BaseException:
            self._atomic.__exit__(*sys.exc_info())
            raise
        self._atomic.__exit__(None, None, None)
        return Built(self.path, dict(self.names), list(self.checks), result)


#: Said on every template's read-me: what a CE_ cell shows without the add-in, and what to send instead.
WITHOUT_ADDIN = ("Without the add-in, Excel shows the CE_ cells' saved values until it recalculates them (a "
                 "changed input, Ctrl+Alt+F9): then they, and the cells that read them, show #NAME?. LibreOffice "
                 "shows #NAME? at once. To share the numbers, send a copy made by the ribbon's Share as values "
                 "button (or customer-equity freeze): its CE_ cells hold their values everywhere.")


class Sheet:
    """One worksheet; methods write a kind of cell with its role's look."""

    def __init__(self, book, ws, name):
        self.book = book
        self.ws = ws
        self.name = name

    # references -----------------------------------------------------------------
    def ref(self, row, col, row2=None, col2=None):
        """Absolute sheet-qualified reference of a cell or range."""
        if row2 is None:
            return sheet_ref(self.name, cell(row, col))
        return sheet_ref(self.name, area(row, col, row2, col2))

    def name_range(self, name, row, col, row2=None, col2=None):
        """Define a workbook name for a cell or range of this sheet."""
        self.book.define(name, "=" + self.ref(row, col, row2, col2))

    def cross_check(self, check_range, ce_range, ce_sheet=None):
        """Record that the native cells ``check_range`` recompute the CE_ cells ``ce_range``.

        Ranges are A1 text on this sheet (``ce_sheet`` names another sheet for the CE_
        cells); the tests recalculate the check cells in LibreOffice and compare.
        """
        self.book.checks.append((self.name, check_range, ce_sheet or self.name, ce_range))

    # plain cells ------------------------------------------------------------------
    def text(self, row, col, value, role="text", **extra):
        """A label or a paragraph."""
        self.ws.write_string(row, col, value, self.book.fmt(role, **extra))

    def merged(self, row, col, row2, col2, value, role="text", **extra):
        """Text over merged cells."""
        self.ws.merge_range(row, col, row2, col2, value, self.book.fmt(role, **extra))

    def paragraphs(self, row, texts, height, col=1, col2=8):
        """One merged, wrapped paragraph per row from ``row + 1`` on (under a section title),
        each row at least ``height`` points and tall enough for its lines (about 130 characters
        a line across the read-me sheets' columns)."""
        for i, t in enumerate(texts):
            self.merged(row + 1 + i, col, row + 1 + i, col2, t, "text")
            self.ws.set_row(row + 1 + i, max(height, 13 * math.ceil(len(t) / 130) + 4))

    def value(self, row, col, value, role="input", num_format=None, **extra):
        """A value cell (an input, or a constant of the model)."""
        self._value_fmt(row, col, value, self.book.fmt(role, num_format, **extra))

    def named_input(self, row, label, value, name, num_format=None, *, note=None, note_to=None,
                    height=None):
        """One labelled input: the label in column B, the yellow cell named ``name`` in C,
        and a note from D (merged up to column ``note_to``)."""
        self.text(row, 1, label, "label")
        if isinstance(value, _dt.date):
            self.ws.write_datetime(row, 2, _dt.datetime(value.year, value.month, value.day),
                                   self.book.fmt("input", num_format))
        else:
            self.value(row, 2, value, "input", num_format)
        self.name_range(name, row, 2)
        if note:
            self.note(row, 3, note, note_to, height)

    def values(self, row, col, rows, role="input", num_formats=None, **extra):
        """A 2-D block of values; ``num_formats`` per column (a list) or one for all."""
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                nf = num_formats[j] if isinstance(num_formats, (list, tuple)) else num_formats
                self.value(row + i, col + j, v, role, nf, **extra)

    # formulas ------------------------------------------------------------------------
    def formula(self, row, col, formula, cached, role="native", num_format=None, **extra):
        """A one-cell dynamic-array formula with its cached result."""
        cached = _plain(cached)
        self.ws.write_dynamic_array_formula(row, col, row, col, formula,
                                            self.book.fmt(role, num_format, **extra),
                                            "" if cached is None else cached)

    def spill(self, row, col, formula, cached, role="ce", num_formats=None, header=None,
              label_col=False, **extra):
        """A dynamic-array formula at (row, col) whose result spills over ``cached``'s shape.

        ``cached`` is the 2-D result (list of rows) the core computes; the anchor
        carries its first value, the other cells of the spill range the rest.
        ``header`` (extra format properties) styles the first row as a header, and
        ``label_col`` makes the first column bold labels.
        """
        rows = [list(r) for r in cached]
        height, width = len(rows), len(rows[0])

        def fmt(i, j):
            if header is not None and i == 0:
                return self.book.fmt("header", **header)
            nf = num_formats[j] if isinstance(num_formats, (list, tuple)) else num_formats
            if label_col and j == 0:
                return self.book.fmt(role, None, bold=True, **extra)
            return self.book.fmt(role, nf, **extra)

        first = _plain(rows[0][0])
        self.ws.write_dynamic_array_formula(row, col, row + height - 1, col + width - 1, formula,
                                            fmt(0, 0), "" if first is None else first)
        for i in range(height):
            for j in range(width):
                if i == 0 and j == 0:
                    continue
                self._value_fmt(row + i, col + j, rows[i][j], fmt(i, j))
        return height, width

    def _value_fmt(self, row, col, value, fmt):
        value = _plain(value)
        if value is None or value == "":
            self.ws.write_blank(row, col, None, fmt)
        elif isinstance(value, bool):
            self.ws.write_boolean(row, col, value, fmt)
        elif isinstance(value, (int, float)):
            self.ws.write_number(row, col, value, fmt)
        else:
            self.ws.write_string(row, col, str(value), fmt)

    # layout -----------------------------------------------------------------------------
    def widths(self, widths, first_col=0):
        """Column widths, from ``first_col``."""
        for j, w in enumerate(widths):
            self.ws.set_column(first_col + j, first_col + j, w)

    def title(self, row, text, subtitle=None, width_cols=8):
        """Sheet title (and a one-line subtitle under it)."""
        self.ws.set_row(row, 24)
        self.text(row, 1, text, "title")
        if subtitle:
            self.merged(row + 1, 1, row + 1, width_cols, subtitle, "note")
            self.ws.set_row(row + 1, 30)

    def section(self, row, col, text, col2=None):
        """A section heading underlined across ``col..col2``."""
        if col2 is not None and col2 > col:
            self.merged(row, col, row, col2, text, "section")
        else:
            self.text(row, col, text, "section")

    def note(self, row, col, text, col2=None, height=None):
        """A short grey explanation beside or under a block."""
        if col2 is not None and col2 > col:
            self.merged(row, col, row, col2, text, "note")
        else:
            self.text(row, col, text, "note")
        if height:
            self.ws.set_row(row, height)

    def header(self, row, col, labels, role="header"):
        """A header row."""
        for j, label in enumerate(labels):
            self.text(row, col + j, label, role)

    def check_status(self, row, col, diff_ref, difference, tolerance=TOLERANCE):
        """Green OK / red CHECK from the absolute difference in ``diff_ref``.

        ``difference`` is the largest absolute difference between the cached values the
        check compares (see :func:`largest_difference`): the cached status is the real
        comparison, so a workbook written from other data never shows a false OK.
        """
        self.formula(row, col, f'=IF(ABS({diff_ref})<{tolerance},"OK","CHECK")',
                     status(difference, tolerance), "check", align="center", bold=True)
        self.ok_bad_format(row, col, row, col)

    def ok_bad_format(self, r1, c1, r2, c2):
        """Conditional format: cells saying OK green, others red."""
        ok = self.book.wb.add_format({"bg_color": PALETTE["ok_fill"], "font_color": PALETTE["ok_font"]})
        bad = self.book.wb.add_format({"bg_color": PALETTE["bad_fill"], "font_color": PALETTE["bad_font"]})
        self.ws.conditional_format(r1, c1, r2, c2, {"type": "cell", "criteria": "==", "value": '"OK"',
                                                    "format": ok})
        self.ws.conditional_format(r1, c1, r2, c2, {"type": "cell", "criteria": "!=", "value": '"OK"',
                                                    "format": bad})

    def protect(self):
        """Protect without a password: only the input cells (unlocked) can be edited."""
        self.ws.protect("", {
            "select_locked_cells": True,
            "select_unlocked_cells": True,
            "format_columns": True,
            "format_rows": True,
            "sort": False,
            "autofilter": True,
        })

    def print_setup(self, r1, c1, r2, c2, landscape=True, repeat=None, fit_tall=0):
        """Print area, orientation, one page wide (and ``fit_tall`` pages tall, 0 = any)."""
        self.ws.print_area(r1, c1, r2, c2)
        if landscape:
            self.ws.set_landscape()
        else:
            self.ws.set_portrait()
        self.ws.fit_to_pages(1, fit_tall)
        if repeat is not None:
            self.ws.repeat_rows(*repeat)


def legend(sheet, row, col, width=7):
    """The colour legend block over ``width`` columns after ``col``; returns the next free row."""
    sheet.section(row, col, "Colour legend", col + width)
    items = [
        ("input", "1,000", "Input: type or paste here. The only cells you can change on protected sheets."),
        ("ce", "2,345", "CE_ function of the Customer Equity add-in. Shows the value computed by the "
                        "Python core when the file was made; recalculates once the add-in is loaded."),
        ("check", "2,345", "Native Excel cross-check (NPV, PV, SUMPRODUCT, ...): the same figure "
                           "computed by Excel alone, beside the CE_ result."),
        ("native", "12.5%", "Ordinary Excel formula (shares, differences, labels)."),
        ("python", "3,456", "Written by the add-in's Refresh button (Python's measure()); "
                            "the only cells Python writes."),
    ]
    for i, (role, sample, text) in enumerate(items):
        sheet.text(row + 1 + i, col, sample, role, align="right", locked=True)
        sheet.merged(row + 1 + i, col + 1, row + 1 + i, col + width, text, "text")
        sheet.ws.set_row(row + 1 + i, 30)
    r = row + 1 + len(items)
    sheet.text(r, col, "OK", "check", align="center", bold=True, bg_color=PALETTE["ok_fill"],
               font_color=PALETTE["ok_font"])
    sheet.merged(r, col + 1, r, col + width, "A check that agrees (difference below 0.005). "
                 "CHECK in red means the CE_ result and Excel's own calculation differ.", "text")
    sheet.ws.set_row(r, 30)
    return r + 2
