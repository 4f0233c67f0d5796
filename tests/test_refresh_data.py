"""Issue 20 at the Refresh button: the right cell for every error, rows pasted under a table,
duplicate customer ids, every template's inputs checked, dynamic arrays stripped by another
program. Refresh runs in LibreOffice over UNO (tests/uno_port.py), a real engine; nothing is
written when Refresh refuses."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from customer_equity.excel import refresh

ROOT = Path(__file__).resolve().parents[1]
WORKBOOKS = ROOT / "workbooks"
MEASUREMENT = WORKBOOKS / "customer-equity-measurement.xlsx"
WHAT_IF = WORKBOOKS / "customer-equity-what-if.xlsx"
TRANSACTIONS = WORKBOOKS / "customer-equity-from-transactions.xlsx"
LTV_MODELS = WORKBOOKS / "lifetime-value-models.xlsx"


def cell(book, name, row=1, column=1):
    """The UNO cell at (row, column) of a named range, and its A1 address."""
    from customer_equity.excel.book import _a1

    sheet, r1, c1, _, _ = book.area(name)
    target = book.sheet(sheet).getCellByPosition(c1 + column - 2, r1 + row - 2)
    return target, f"{sheet}!{_a1(r1 + row - 1, c1 + column - 1)}"


def refused(book):
    """Refresh's refusal; the outputs and every input as they were before."""
    names = [n for n in book.names() if n.lower().startswith(("ce_out_", "ce_in_"))]
    before = {n: book.read(n) for n in names}
    with pytest.raises(refresh.RefreshError) as caught:
        refresh.refresh_workbook(book)
    assert {n: book.read(n) for n in names} == before
    message = str(caught.value)
    assert "Traceback" not in message
    return message


# --- the measurement template --------------------------------------------------------------


@pytest.mark.parametrize("row", [1, 1000])
def test_an_error_raised_by_the_core_names_its_own_cell(libreoffice, row):
    """A share of 1.5 passes the refresher's reading (a number) and is refused by measure():
    the message names that very cell, for the first and for the last customer."""
    with libreoffice.opened(MEASUREMENT) as book:
        assert book.shape("ce_in_share") == (1000, 1)
        target, address = cell(book, "ce_in_share", row)
        target.setValue(1.5)
        message = refused(book)
    assert message.startswith(f"ce_in_share ({address}): must lie in [0, 1] (it holds 1.5)"), message
    assert address == ("Customers!L4" if row == 1 else "Customers!L1003")


def test_rows_pasted_under_the_customer_table_are_refused_naming_them(libreoffice):
    with libreoffice.opened(MEASUREMENT) as book:
        sheet_name, r1, c1, r2, c2 = book.table_area("ce_in_customers")
        sheet = book.sheet(sheet_name)
        if sheet.isProtected():
            sheet.unprotect("")  # an analyst pasting under the table
        last = sheet.getCellRangeByPosition(c1 - 1, r2 - 1, c2 - 1, r2 - 1).getDataArray()[0]
        pasted = [list(last), list(last)]
        for k, row in enumerate(pasted):
            row[0] = f"NEW{k + 1}"
        sheet.getCellRangeByPosition(c1 - 1, r2, c2 - 1, r2 + 1).setDataArray(tuple(map(tuple, pasted)))
        message = refused(book)
    assert message.startswith(f"Customers!A{r2 + 1}:T{r2 + 2}: 2 rows hold data under the table that "
                              "ce_in_"), message
    assert f"outside it (rows {r2 + 1} to {r2 + 2})" in message and "Resize Table" in message


def test_a_customer_id_met_twice_is_refused_naming_both_cells(libreoffice):
    with libreoffice.opened(MEASUREMENT) as book:
        first, first_address = cell(book, "ce_in_customer_id", 3)
        second, second_address = cell(book, "ce_in_customer_id", 40)
        customer = first.getString()
        second.setString(customer)
        message = refused(book)
    assert message.startswith(f"ce_in_customer_id ({second_address}) holds the customer id "
                              f"{customer!r} twice"), message
    assert f"(as {first_address})" in message


def test_a_placeholder_in_the_customer_table_is_refused_not_read_as_0(libreoffice):
    with libreoffice.opened(MEASUREMENT) as book:
        target, address = cell(book, "ce_in_capacity", 7)
        target.setString("n/a")
        message = refused(book)
    assert f"ce_in_capacity ({address})" in message and "'n/a', which stands for a missing value" in message


# --- the formula templates: every input checked --------------------------------------------


def test_what_if_levers_typed_as_words_are_refused_naming_the_cell(libreoffice):
    with libreoffice.opened(WHAT_IF) as book:
        target, address = cell(book, "ce_in_wi_retention_change", 2)
        target.setString("five points")
        message = refused(book)
    assert message.startswith(f"ce_in_wi_retention_change ({address}): expected a number, got text "
                              "(it holds 'five points')"), message


@pytest.mark.parametrize("setting, row, value, phrase", [
    ("timing", 2, "later", 'must be "end" (or 0) or "begin" (or 1)'),
    ("rate", 1, "ten", "a per-period rate must be a number > -1 (it holds 'ten')"),
])
def test_what_if_settings_are_read_as_the_functions_read_them(libreoffice, setting, row, value, phrase):
    with libreoffice.opened(WHAT_IF) as book:
        target, address = cell(book, "ce_in_wi_setting_values", row)
        target.setString(value)
        message = refused(book)
    assert message.startswith(f"ce_in_wi_setting_values ({address})") and phrase in message, message


def test_what_if_lever_names_of_the_grid_are_checked(libreoffice):
    with libreoffice.opened(WHAT_IF) as book:
        target, address = cell(book, "ce_in_wi_grid_row_lever")
        target.setString("retention")
        message = refused(book)
    assert message.startswith(f"ce_in_wi_grid_row_lever ({address}) holds 'retention': choose one of Retention change")


def test_the_pristine_formula_templates_pass_their_checks(libreoffice):
    for path in (WHAT_IF, TRANSACTIONS, LTV_MODELS):
        with libreoffice.opened(path) as book:
            result = refresh.refresh_workbook(book)
            assert result.recognised and result.written == ()
            assert "every input checked" in result.message


def test_transactions_observation_end_after_the_logs_last_date(libreoffice):
    with libreoffice.opened(TRANSACTIONS) as book:
        last = max(v[0] for v in book.read("ce_in_log_date"))
        target, address = cell(book, "ce_in_observation_end")
        target.setValue(last + 30)
        message = refused(book)
    assert message.startswith(f"ce_in_observation_end ({address}): ")
    assert "is after the last date of the log" in message


def test_transactions_a_text_date_in_the_log_is_refused_at_its_cell(libreoffice):
    with libreoffice.opened(TRANSACTIONS) as book:
        target, address = cell(book, "ce_in_log_date", 12)
        target.setString("31/01/2024")
        message = refused(book)
    assert message.startswith(f"ce_in_log_date ({address}): expected a date"), message


def test_transactions_unit_and_duplicate_customer_ids(libreoffice):
    with libreoffice.opened(TRANSACTIONS) as book:
        target, address = cell(book, "ce_in_unit")
        target.setString("fortnight")
        assert refused(book).startswith(f"ce_in_unit ({address}) holds 'fortnight': choose one of day")
        target.setString("week")
        first, first_address = cell(book, "ce_in_customer_id", 2)
        second, second_address = cell(book, "ce_in_customer_id", 5)
        second.setFormula(first.getFormula())
        message = refused(book)
    assert message.startswith(f"ce_in_customer_id ({second_address}) holds the customer id")
    assert f"(as {first_address})" in message


def test_ltv_models_a_text_rate_is_refused(libreoffice):
    with libreoffice.opened(LTV_MODELS) as book:
        target, address = cell(book, "ce_in_ret_rate")
        target.setString("10 %")
        message = refused(book)
    assert message.startswith(f"ce_in_ret_rate ({address}): expected a number, got text"), message


# --- dynamic arrays stripped by another program --------------------------------------------


def _saved_by_libreoffice(path, folder):
    """The workbook opened and saved as .xlsx by LibreOffice (its own converter)."""
    profile = folder / "profile"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{profile}",
                    "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(folder / "out"),
                    str(path)], check=True, capture_output=True, timeout=180)
    return folder / "out" / path.name


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_a_workbook_whose_dynamic_arrays_were_stripped_is_refused_with_how_to_restore(tmp_path):
    original = tmp_path / MEASUREMENT.name
    shutil.copy(MEASUREMENT, original)
    saved = _saved_by_libreoffice(original, tmp_path)
    before = saved.read_bytes()
    with pytest.raises(refresh.RefreshError) as caught:
        refresh.refresh_file(saved)
    message = str(caught.value)
    from customer_equity.excel.book import _a1
    from customer_equity.excel.templates.measurement_contract import ANCHORS

    lost = refresh.OpenpyxlBook.open(saved).lost_dynamic_arrays()
    assert {f"{s}!{_a1(r + 1, c + 1)}" for s, r, c in ANCHORS.values()} <= set(lost)
    assert message.startswith("This workbook has lost its dynamic arrays: the formulas at "
                              + ", ".join(lost[:5]))
    assert "no longer spill" in message
    assert "press F2 and then Enter" in message and "customer-equity templates" in message
    assert saved.read_bytes() == before  # nothing written
    assert refresh.OpenpyxlBook.open(original).lost_dynamic_arrays() == []
