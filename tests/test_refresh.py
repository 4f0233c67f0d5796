"""Refresh logic (customer_equity.excel.refresh) against workbooks held in files, without Excel."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import openpyxl
import pytest
from openpyxl.workbook.defined_name import DefinedName

from customer_equity.excel import refresh
from customer_equity.excel.addin import sync as udf_sync

TEST_TEMPLATE = "refresh-test/1"


@pytest.fixture(autouse=True)
def registered():
    """A refresher for the tests only (product templates are not defined here)."""
    calls = []

    @refresh.register(TEST_TEMPLATE)
    def summarise(inputs):
        calls.append(inputs)
        rates = [row[0] for row in inputs["ce_in_rates"]]
        label = inputs["ce_in_label"][0][0]
        return {
            "ce_out_table": [[f"{label} {i + 1}", r * 100] for i, r in enumerate(rates)],
            "ce_out_total": [[sum(rates)]],
        }

    yield calls
    refresh.unregister(TEST_TEMPLATE)


def _name(wb, name, text):
    wb.defined_names[name] = DefinedName(name, attr_text=text)


def make_template(path: Path, template: str | None = TEST_TEMPLATE) -> Path:
    """A small workbook following the template contract (or a plain one if template=None)."""
    wb = openpyxl.Workbook()
    inputs = wb.active
    inputs.title = "Inputs"
    inputs["A1"] = "Retention rates"
    for i, rate in enumerate([0.8, 0.7, 0.6], start=2):
        inputs.cell(i, 2).value = rate
        inputs.cell(i, 3).value = f"=B{i}*2"  # an analyst's own formula next to the inputs
    inputs["A6"] = "Label"
    inputs["B6"] = "Cohort"
    out = wb.create_sheet("Outputs")
    out["A1"] = "Table (written by Python)"
    for r in range(2, 6):
        out.cell(r, 1).value = "stale"
        out.cell(r, 2).value = -1
    out["D1"] = "stale stamp"
    out["F1"] = "=SUM(B2:B5)"  # depends on an output range
    out["H1"] = "total"
    if template is not None:
        _name(wb, "CE_TEMPLATE", f'"{template}"')
    _name(wb, "ce_in_rates", "Inputs!$B$2:$B$4")
    _name(wb, "ce_in_label", "Inputs!$B$6")
    _name(wb, "ce_out_table", "Outputs!$A$2:$B$5")  # 4 rows; the refresher fills 3
    _name(wb, "ce_out_total", "Outputs!$I$1")
    _name(wb, "ce_out_refreshed", "Outputs!$D$1")
    wb.save(path)
    return path


def snapshot(path: Path) -> dict:
    """Every cell (values and formulas as stored) and every defined name of a file."""
    wb = openpyxl.load_workbook(path)
    cells = {
        (ws.title, c.coordinate): c.value
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    }
    names = {k: v.attr_text for k, v in wb.defined_names.items()}
    return {"cells": cells, "names": names}


def output_cells(path: Path) -> set[tuple[str, str]]:
    """(sheet, coordinate) of every cell inside a ce_out_* range."""
    from openpyxl.utils.cell import get_column_letter, range_boundaries

    wb = openpyxl.load_workbook(path)
    found = set()
    for name, dn in wb.defined_names.items():
        if not name.lower().startswith("ce_out_"):
            continue
        for sheet, coord in dn.destinations:
            c0, r0, c1, r1 = range_boundaries(coord.replace("$", ""))
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    found.add((sheet, f"{get_column_letter(c)}{r}"))
    return found


def test_output_ranges_are_rewritten(tmp_path):
    path = make_template(tmp_path / "t.xlsx")
    result = refresh.refresh_file(path)
    assert result.recognised and result.template == TEST_TEMPLATE
    assert result.written == ("ce_out_refreshed", "ce_out_table", "ce_out_total")
    ws = openpyxl.load_workbook(path)["Outputs"]
    table = [[ws.cell(r, c).value for c in (1, 2)] for r in range(2, 6)]
    assert table == [["Cohort 1", 80.0], ["Cohort 2", 70.0], ["Cohort 3", 60.0], [None, None]]
    assert ws["I1"].value == pytest.approx(2.1)
    assert ws["D1"].value.startswith("customer_equity ")
    assert TEST_TEMPLATE in ws["D1"].value


def test_input_cells_and_everything_else_untouched(tmp_path):
    path = make_template(tmp_path / "t.xlsx")
    before = snapshot(path)
    outs = output_cells(path)
    refresh.refresh_file(path)
    after = snapshot(path)
    assert after["names"] == before["names"]
    keep_before = {k: v for k, v in before["cells"].items() if k not in outs}
    keep_after = {k: v for k, v in after["cells"].items() if k not in outs}
    assert keep_after == keep_before
    assert ("Inputs", "C2") in keep_after and keep_after[("Inputs", "C2")] == "=B2*2"
    changed = {k for k in outs if before["cells"].get(k) != after["cells"].get(k)}
    assert changed, "the output ranges should have changed"


def test_refreshing_twice_gives_the_same_workbook(tmp_path):
    path = make_template(tmp_path / "t.xlsx")
    refresh.refresh_file(path)
    first = snapshot(path)
    refresh.refresh_file(path)
    assert snapshot(path) == first


def test_stamp_follows_the_inputs(tmp_path):
    path = make_template(tmp_path / "t.xlsx")
    refresh.refresh_file(path)
    stamp = openpyxl.load_workbook(path)["Outputs"]["D1"].value
    wb = openpyxl.load_workbook(path)
    wb["Inputs"]["B2"] = 0.81
    wb.save(path)
    refresh.refresh_file(path)
    assert openpyxl.load_workbook(path)["Outputs"]["D1"].value != stamp


def test_workbook_without_template_is_only_recalculated(tmp_path, registered):
    path = make_template(tmp_path / "plain.xlsx", template=None)
    before = snapshot(path)
    result = refresh.refresh_file(path)
    assert not result.recognised and result.template is None and result.written == ()
    assert "not made from a Customer Equity template" in result.message
    assert "CE_TEMPLATE" in result.message
    assert snapshot(path) == before
    assert registered == []  # no refresher ran


def test_unknown_template_is_only_recalculated_with_a_clear_message(tmp_path):
    path = make_template(tmp_path / "other.xlsx", template="no-such-template/9")
    before = snapshot(path)
    result = refresh.refresh_file(path)
    assert result.template == "no-such-template/9" and not result.recognised
    assert "'no-such-template/9' is unknown" in result.message
    assert TEST_TEMPLATE in result.message  # lists what this version knows
    assert snapshot(path) == before


def test_family_registration_serves_other_versions(tmp_path):
    refresh.register("family-test")(lambda inputs: {"ce_out_total": [[42]]})
    try:
        path = make_template(tmp_path / "t.xlsx", template="family-test/3")
        result = refresh.refresh_file(path)
        assert result.recognised
        assert openpyxl.load_workbook(path)["Outputs"]["I1"].value == 42
    finally:
        refresh.unregister("family-test")


@pytest.mark.parametrize(
    "outputs, complaint",
    [
        ({"ce_in_rates": [[1], [2], [3]]}, "which is not a ce_out_"),
        ({"ce_out_table": [[1, 2, 3]]}, "do not fit"),
        ({"ce_out_total": [[1], [2]]}, "do not fit"),
        ({"ce_out_missing": [[1]]}, "lost the output name ce_out_missing"),
        ({"ce_out_total": 5}, "2-D list"),
        ({"ce_out_table": [[1, 2], [3]]}, "same, non-zero length"),
        ({"ce_out_total": [[object()]]}, "not a cell value"),
    ],
)
def test_contract_violations_write_nothing(tmp_path, outputs, complaint):
    refresh.register("bad-test/1")(
        lambda inputs: {"ce_out_refreshed": [["would be written"]], **outputs}
    )
    try:
        path = make_template(tmp_path / "t.xlsx", template="bad-test/1")
        book = refresh.OpenpyxlBook.open(path)
        before = snapshot(path)
        with pytest.raises(refresh.RefreshError, match=complaint):
            refresh.refresh_workbook(book)
        assert book.written == {}  # refused before any write
        with pytest.raises(refresh.RefreshError, match=complaint):
            refresh.refresh_file(path)
        assert snapshot(path) == before
    finally:
        refresh.unregister("bad-test/1")


def test_refresher_gets_every_input_name_read_only(tmp_path, registered):
    path = make_template(tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    _name(wb, "CE_IN_EXTRA", "Inputs!$A$1")  # Excel names are case-insensitive
    wb.save(path)
    refresh.refresh_file(path)
    assert set(registered[0]) == {"CE_IN_EXTRA", "ce_in_label", "ce_in_rates"}
    assert registered[0]["CE_IN_EXTRA"] == [["Retention rates"]]
    assert registered[0]["ce_in_rates"] == [[0.8], [0.7], [0.6]]
    with pytest.raises(TypeError):  # the mapping of inputs is read-only
        registered[0]["new"] = 1


def test_fit_values_pads_and_converts_numpy_and_nan():
    np = pytest.importorskip("numpy")
    assert refresh.fit_values("ce_out_x", [[np.float64(1.5), float("nan")]], (2, 3)) == [
        [1.5, None, None],
        [None, None, None],
    ]


# ---------------------------------------------------------------------------------------
# The function catalogue stamp and the UDF import decision
# ---------------------------------------------------------------------------------------


def _module(source: str, name: str = "ce_fake_excel") -> types.ModuleType:
    module = types.ModuleType(name)
    exec(textwrap.dedent(source), module.__dict__)  # functions get __module__ == name
    return module


BASE = '''
from math import sqrt
from textwrap import dedent
def CE_CLV(margin, retention, discount=0.1):
    """Customer lifetime value."""
    return margin
def _helper(x):
    return x
'''


def test_catalogue_stamp_is_stable_and_ignores_private_and_imported_names():
    a = udf_sync.catalogue_stamp(_module(BASE))
    assert a == udf_sync.catalogue_stamp(_module(BASE))
    assert a == udf_sync.catalogue_stamp(_module(BASE + "\ndef _other():\n    pass\n"))
    assert a == udf_sync.catalogue_stamp(_module(BASE.replace("return margin", "return 0")))
    # imported functions are not part of the catalogue
    assert a == udf_sync.catalogue_stamp(_module(BASE.replace("from textwrap import dedent", "")))


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.replace("discount=0.1", "discount=0.2"),  # signature
        lambda s: s.replace("retention,", "retention, periods,"),  # new argument
        lambda s: s.replace("Customer lifetime value.", "CLV."),  # help text in Excel
        lambda s: s + "\ndef CE_NEW(x):\n    return x\n",  # new function
        lambda s: s.replace("CE_CLV", "CE_LTV"),  # renamed
    ],
)
def test_catalogue_stamp_changes_with_the_catalogue(change):
    assert udf_sync.catalogue_stamp(_module(change(BASE))) != udf_sync.catalogue_stamp(
        _module(BASE)
    )


def test_needs_udf_import():
    assert udf_sync.needs_udf_import("abc", None)
    assert udf_sync.needs_udf_import("abc", "")
    assert udf_sync.needs_udf_import("abc", "abd")
    assert not udf_sync.needs_udf_import("abc", "abc")


def test_vba_access_refusal_is_recognised_and_names_the_trust_center_setting():
    # The shape of pywintypes.com_error when "Trust access to the VBA project object model"
    # is off (Excel error 1004 through COM).
    refused = Exception(
        -2147352567,
        "Exception occurred.",
        (0, "Microsoft Excel", "Programmatic access to Visual Basic Project is not trusted\n",
         "xlmain11.chm", 0, -2146827284),
        None,
    )
    assert udf_sync.is_vba_access_refused(refused)
    assert not udf_sync.is_vba_access_refused(Exception("Could not find Interpreter!"))
    message = udf_sync.vba_access_message()
    assert (
        "File > Options > Trust Center > Trust Center Settings > Macro Settings > "
        "Trust access to the VBA project object model"
    ) in message


def test_sync_udfs_does_nothing_outside_windows(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert udf_sync.sync_udfs(book=object()) is None


# ---------------------------------------------------------------------------------------
# main() through the xlwings adapter, with a stand-in for xlwings' Book/Range/Name objects
# ---------------------------------------------------------------------------------------


class FakeRange:
    def __init__(self, sheet, r0, c0, rows, cols, sheet_name="Sheet"):
        self.cells, self.r0, self.c0, self.shape = sheet, r0, c0, (rows, cols)
        self.sheet = types.SimpleNamespace(name=sheet_name)
        self.row, self.column = r0 + 1, c0 + 1
        self.color = None

    @property
    def last_cell(self):
        return types.SimpleNamespace(row=self.r0 + self.shape[0], column=self.c0 + self.shape[1])

    def options(self, ndim):
        assert ndim == 2
        return self

    def __getitem__(self, rc):
        cell = FakeRange(self.cells, self.r0 + rc[0], self.c0 + rc[1], 1, 1, self.sheet.name)
        cell.scalar = True  # xlwings gives a single cell's value as a scalar
        return cell

    scalar = False

    @property
    def value(self):
        rows, cols = self.shape
        values = [
            [self.cells.get((self.r0 + i, self.c0 + j)) for j in range(cols)]
            for i in range(rows)
        ]
        return values[0][0] if self.scalar else values

    @value.setter
    def value(self, values):
        for i, row in enumerate(values):
            for j, v in enumerate(row):
                self.cells[(self.r0 + i, self.c0 + j)] = v


class FakeName:
    def __init__(self, name, refers_to, rng=None):
        self.name, self.refers_to, self._rng = name, refers_to, rng

    @property
    def refers_to_range(self):
        return self._rng


class FakeBook:
    def __init__(self, names):
        self._names = {n.name.lower(): n for n in names}
        self.app = types.SimpleNamespace(
            calculations=0, status_bar=None, alerts=[], books={}
        )
        self.app.calculate = lambda: setattr(self.app, "calculations", self.app.calculations + 1)
        self.app.alert = lambda prompt, title=None: self.app.alerts.append(prompt)

    @property
    def names(self):
        outer = self

        class Names:
            def __iter__(self):
                return iter(outer._names.values())

            def __getitem__(self, key):
                return outer._names[key.lower()]

        return Names()


def fake_template_book(template):
    cells = {(0, 0): 0.8, (1, 0): 0.7, (2, 0): 0.6, (5, 0): "Cohort", (9, 9): "analyst note"}
    names = [
        FakeName("ce_in_rates", "=Inputs!$A$1:$A$3", FakeRange(cells, 0, 0, 3, 1, "Inputs")),
        FakeName("ce_in_label", "=Inputs!$A$6", FakeRange(cells, 5, 0, 1, 1, "Inputs")),
        FakeName("ce_out_table", "=Out!$B$1:$C$3", FakeRange(cells, 0, 1, 3, 2, "Out")),
        FakeName("ce_out_total", "=Out!$E$1", FakeRange(cells, 0, 4, 1, 1, "Out")),
        FakeName("Sheet1!ce_out_local", "=Sheet1!$Z$1", FakeRange(cells, 0, 25, 1, 1)),
    ]
    if template:
        names.append(FakeName("CE_TEMPLATE", f'="{template}"'))
    return FakeBook(names), cells


def test_main_refreshes_the_calling_book_through_xlwings(monkeypatch):
    import xlwings

    book, cells = fake_template_book(TEST_TEMPLATE)
    monkeypatch.setattr(sys, "platform", "darwin")  # no COM functions to import
    monkeypatch.setattr(xlwings.Book, "caller", staticmethod(lambda: book))
    result = refresh.main()
    assert result.recognised and result.written == ("ce_out_table", "ce_out_total")
    assert cells[(0, 1)] == "Cohort 1" and cells[(2, 2)] == pytest.approx(60.0)
    assert cells[(0, 4)] == pytest.approx(2.1)
    assert cells[(9, 9)] == "analyst note" and cells[(0, 0)] == 0.8
    assert book.app.calculations == 2  # before reading inputs, after writing outputs
    assert book.app.status_bar == result.message and book.app.alerts == []


def test_main_on_an_unknown_workbook_only_recalculates(monkeypatch):
    import xlwings

    book, cells = fake_template_book(None)
    before = dict(cells)
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(xlwings.Book, "caller", staticmethod(lambda: book))
    result = refresh.main()
    assert not result.recognised and cells == before
    assert book.app.calculations == 1
    assert "not made from a Customer Equity template" in book.app.status_bar


def test_package_import_does_not_import_xlwings():
    code = "import sys, customer_equity; assert callable(customer_equity.main); " \
           "assert 'xlwings' not in sys.modules, 'xlwings imported eagerly'"
    env = dict(os.environ, PYTHONPATH=str(Path(refresh.__file__).parents[2]))
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


# ---------------------------------------------------------------------------------------
# Refresh in LibreOffice (tests/uno_port.py): a real engine with sheet protection
# ---------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
WORKBOOKS = ROOT / "workbooks"
TEMPLATE_FILES = {
    "measurement/1": WORKBOOKS / "customer-equity-measurement.xlsx",
    "ltv-models/1": WORKBOOKS / "lifetime-value-models.xlsx",
    "what-if/2": WORKBOOKS / "customer-equity-what-if.xlsx",
}


def _names_with(book, prefix):
    return sorted(n for n in book.names() if n.lower().startswith(prefix))


def _sheet_values(book, skip):
    """Every sheet's values, the cells of ``skip`` (sheet, row, col) blanked."""
    out = {}
    for sheet in book.doc.Sheets.ElementNames:
        rows = [list(r) for r in book.used_values(sheet)]
        for s, r, c in skip:
            if s == sheet and r - 1 < len(rows) and c - 1 < len(rows[r - 1]):
                rows[r - 1][c - 1] = "<output>"
        out[sheet] = rows
    return out


def _output_cells(book):
    cells = set()
    for name in _names_with(book, "ce_out_"):
        sheet, r1, c1, r2, c2 = book.area(name)
        cells |= {(sheet, r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
    return cells


@pytest.mark.parametrize("template", sorted(TEMPLATE_FILES))
def test_refresh_in_libreoffice_writes_outputs_only_and_is_idempotent(libreoffice, template):
    import uno_port

    with libreoffice.opened(TEMPLATE_FILES[template]) as book:
        assert refresh.template_id(book) == template
        inputs = {n: (book.read(n), book.formulas(n)) for n in _names_with(book, "ce_in_")}
        assert inputs, "every template has inputs"
        outs = _output_cells(book)
        before = _sheet_values(book, outs)
        result = refresh.refresh_workbook(book)
        assert result.recognised and result.template == template
        assert "unknown" not in result.message
        # no formula of any sheet is an error after LibreOffice recalculated everything
        assert {s: book.errors(s) for s in book.doc.Sheets.ElementNames} == \
            {s: [] for s in book.doc.Sheets.ElementNames}
        assert {n: (book.read(n), book.formulas(n)) for n in inputs} == inputs  # inputs untouched
        after = _sheet_values(book, outs)
        assert after == before  # nothing but the outputs changed
        if template == "measurement/1":
            import customer_equity as ce

            m = ce.measure(ce.load_sample(), ce.sample_config())
            assert result.written == ("ce_out_by_type", "ce_out_stamp")
            table = book.read("ce_out_by_type")
            assert [r[0] for r in table[1:]] == list(m.by_type.index)
            assert [r[2] for r in table[1:]] == pytest.approx(list(m.by_type["equity"]), rel=1e-12)
            assert book.read("ce_out_stamp")[0][0].startswith("measure() on 1,000 customers")
        else:
            assert result.written == () and "Recalculated" in result.message
        snapshot_1 = _sheet_values(book, set())
        again = refresh.refresh_workbook(book)
        assert again.written == result.written
        assert _sheet_values(book, set()) == snapshot_1  # refreshing twice changes nothing
        assert uno_port.available() is None


@pytest.mark.parametrize("template", sorted(TEMPLATE_FILES))
def test_every_output_cell_is_unlocked_on_its_protected_sheet(libreoffice, template):
    with libreoffice.opened(TEMPLATE_FILES[template], hold_ce=False) as book:
        outputs = _names_with(book, "ce_out_")
        if template != "measurement/1":
            assert outputs == []
            return
        assert outputs == ["ce_out_by_type", "ce_out_stamp"]
        for name in outputs:
            sheet_name, r1, c1, r2, c2 = book.area(name)
            sheet = book.sheet(sheet_name)
            assert sheet.isProtected()
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    cell = sheet.getCellByPosition(c - 1, r - 1)
                    assert not cell.CellProtection.IsLocked, f"{name}: {cell.AbsoluteName} is locked"
        # the engine does enforce protection: a locked cell next to the outputs refuses a write
        locked = book.sheet(sheet_name).getCellByPosition(c2, r1 - 1)
        assert locked.CellProtection.IsLocked
        with pytest.raises(Exception):  # noqa: B017 - com.sun.star.uno.RuntimeException, not importable as a class here
            locked.setDataArray((("x",),))


def _measurement_edit(libreoffice, edit):
    """Open the measurement template in LibreOffice, apply ``edit(book)``, refresh."""
    with libreoffice.opened(TEMPLATE_FILES["measurement/1"]) as book:
        edit(book)
        outputs = {n: book.read(n) for n in ("ce_out_by_type", "ce_out_stamp") if n in book.names()}
        kept = "Assumptions" in book.doc.Sheets.ElementNames
        rate = book.sheet("Assumptions").getCellRangeByName("C5").getFormula() if kept else None
        with pytest.raises(refresh.RefreshError) as caught:
            refresh.refresh_workbook(book)
        assert {n: book.read(n) for n in outputs} == outputs  # nothing written
        if kept:
            assert book.sheet("Assumptions").getCellRangeByName("C5").getFormula() == rate
        return str(caught.value)


def _set(book, sheet, cell, formula):
    book.sheet(sheet).getCellRangeByName(cell).setFormula(formula)


def _type_true(book, sheet, cell):
    """TRUE typed into a cell: a boolean (LibreOffice, like Excel, gives it a logical format)."""
    import uno_port

    target = book.sheet(sheet).getCellRangeByName(cell)
    target.setFormula("=TRUE()")
    locale = uno_port.struct("com.sun.star.lang.Locale")
    target.NumberFormat = book.doc.NumberFormats.getStandardFormat(1024, locale)  # LOGICAL


def _redefine(book, name, content):
    names = book.doc.NamedRanges
    names.getByName(name).setContent(content)


BAD_EDITS = {
    "deleted input name": (lambda b: b.doc.NamedRanges.removeByName("ce_in_rate"),
                           ["ce_in_rate", "Name Manager"]),
    # LibreOffice re-points the names of a deleted sheet at a neighbour: the values there
    # are refused by name; Excel turns them into #REF!, refused as not referring to cells
    "deleted sheet": (lambda b: b.doc.Sheets.removeByName("Assumptions"), ["ce_in_", "Customers!"]),
    "name turned #REF!": (lambda b: _redefine(b, "ce_in_rate", "#REF!"),
                          ["ce_in_rate", "does not refer to cells", "Name Manager"]),
    "text rate": (lambda b: _set(b, "Assumptions", "C5", "ten percent"),
                  ["ce_in_rate (Assumptions!C5)", "text 'ten percent'", "type a number"]),
    "TRUE rate": (lambda b: _type_true(b, "Assumptions", "C5"),
                  ["ce_in_rate (Assumptions!C5)", "TRUE", "type a number"]),
    "blank rate": (lambda b: _set(b, "Assumptions", "C5", ""),
                   ["ce_in_rate (Assumptions!C5)", "blank"]),
    "text in the table": (lambda b: _set(b, "Customers", "L7", "abc"),
                          ["ce_in_share (Customers!L7)", "customer 4", "'abc'"]),
    "output over the rate": (lambda b: _redefine(b, "ce_out_stamp", "$Assumptions.$C$5"),
                             ["ce_out_stamp (Assumptions!C5)", "overlaps the input ce_in_rate",
                              "Name Manager"]),
    "output over a yellow cell": (lambda b: _redefine(b, "ce_out_stamp", "$Assumptions.$F$5"),
                                  ["ce_out_stamp (Assumptions!F5)", "yellow", "Name Manager"]),
}


@pytest.mark.parametrize("edit", sorted(BAD_EDITS))
def test_bad_edits_are_refused_with_a_message_naming_the_cell(libreoffice, edit):
    change, phrases = BAD_EDITS[edit]
    message = _measurement_edit(libreoffice, change)
    for phrase in phrases:
        assert phrase in message, message
    assert "Traceback" not in message


def test_a_renamed_sheet_is_followed_by_the_names(libreoffice):
    with libreoffice.opened(TEMPLATE_FILES["measurement/1"]) as book:
        book.sheet("Assumptions").setName("My assumptions")
        book.sheet("Step 3 Equity").setName("Results")
        assert book.area("ce_in_rate")[0] == "My assumptions"
        result = refresh.refresh_workbook(book)
        assert result.written == ("ce_out_by_type", "ce_out_stamp")
        assert book.area("ce_out_stamp")[0] == "Results"


# ---------------------------------------------------------------------------------------
# refresh_file: atomic, and the package kept as it was apart from the outputs
# ---------------------------------------------------------------------------------------


def _parts(path):
    import zipfile

    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i.filename) for i in z.infolist()}


def test_refresh_file_keeps_every_other_part_and_the_cached_results(tmp_path):
    import shutil

    from customer_equity.excel._package import sheet_parts

    src = TEMPLATE_FILES["measurement/1"]
    path = tmp_path / "m.xlsx"
    shutil.copy(src, path)
    wb = openpyxl.load_workbook(path)
    (sheet, coord), = list(wb.defined_names["ce_out_by_type"].destinations)
    # stale outputs, so that Refresh has something to write
    broken = tmp_path / "stale.xlsx"
    ws = wb[sheet]
    before_parts = _parts(path)
    part = sheet_parts(before_parts)[sheet]
    xml = before_parts[part].decode()
    import re as _re

    stale = _re.sub(r'(<c r="D40"[^>]*>)<v>[^<]*</v>', r"\g<1><v>1</v>", xml)
    assert stale != xml
    import zipfile

    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(broken, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, stale.encode() if info.filename == part else zin.read(info.filename),
                          compress_type=info.compress_type)
    before = _parts(broken)
    result = refresh.refresh_file(broken)
    assert result.written == ("ce_out_by_type", "ce_out_stamp")
    after = _parts(broken)
    assert list(after) == list(before)  # same parts, same order
    assert "xl/metadata.xml" in after
    changed = [p for p in after if after[p] != before[p]]
    assert changed == [part]
    # in the sheet that holds the outputs, every other cell keeps its formula and cached result
    old = openpyxl.load_workbook(src, data_only=True)[sheet]
    new = openpyxl.load_workbook(broken, data_only=True)[sheet]
    outs = {c.coordinate for row in ws[coord.replace("$", "")] for c in row} | {"B46"}
    for row in old.iter_rows():
        for c in row:
            if c.coordinate not in outs:
                assert new[c.coordinate].value == c.value, c.coordinate
    assert new["D40"].value == pytest.approx(old["D40"].value, rel=1e-15)  # rewritten by measure()
    assert _parts(broken)[part].count(b"<f") == before[part].count(b"<f")
    # refreshing again changes nothing
    refresh.refresh_file(broken)
    assert _parts(broken) == after


def test_refresh_file_is_atomic(tmp_path, monkeypatch):
    import customer_equity.excel._package as package

    path = make_template(tmp_path / "t.xlsx")
    original = path.read_bytes()

    def fail(src, dst, cells):
        Path(dst).write_bytes(b"half a workbook")
        raise OSError("disk full")

    monkeypatch.setattr(package, "replace_cells", fail)
    with pytest.raises(OSError):
        refresh.refresh_file(path)
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.xlsx"]


@pytest.mark.parametrize("content", [b"", b"customer_id,periods\nC1,3\n", b"PK\x03\x04 not really"])
def test_refresh_file_refuses_a_file_that_is_not_a_workbook(tmp_path, content):
    path = tmp_path / "customers.xlsx"
    path.write_bytes(content)
    with pytest.raises(refresh.RefreshError, match="not an Excel workbook"):
        refresh.refresh_file(path)
    assert path.read_bytes() == content


def test_outputs_over_inputs_are_refused_in_files_too(tmp_path):
    path = make_template(tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    _name(wb, "ce_out_total", "Inputs!$B$3")  # now points at a rate
    wb.save(path)
    before = path.read_bytes()
    with pytest.raises(refresh.RefreshError, match=r"ce_out_total \(Inputs!B3\) overlaps the input ce_in_rates"):
        refresh.refresh_file(path)
    assert path.read_bytes() == before


def test_pressing_refresh_imports_neither_xlsxwriter_nor_the_builders():
    code = textwrap.dedent("""
        import sys
        from customer_equity.excel import refresh
        assert refresh.find_refresher("measurement/1") is not None
        for mod in ("xlsxwriter", "customer_equity.excel.templates.measurement",
                    "customer_equity.excel.templates._book"):
            assert mod not in sys.modules, mod + " imported by Refresh"
        assert refresh.find_refresher("measurement/1") is not None
        print("light")
    """)
    env = dict(os.environ, PYTHONPATH=str(Path(refresh.__file__).parents[2]))
    out = subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "light"
