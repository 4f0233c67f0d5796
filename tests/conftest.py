import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
for _p in (_ROOT / "udfs", _ROOT / "tests"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))


import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402
from xlwings_harness import OFFICEJS_EMPTY_CELLS, ComRuntime, OfficeJsRuntime  # noqa: E402

# Generated-input tests check answers, not speed: on a loaded 2-core machine an example took
# 359 ms against hypothesis' default 200 ms deadline and failed a law that holds. A hang is
# caught by the fuzz script's watched workers (benchmarks/fuzz_excel.py), not by a deadline.
settings.register_profile("project", deadline=None)
settings.load_profile("project")


@pytest.fixture(scope="session")
def libreoffice():
    """One headless LibreOffice over UNO for the session (tests/uno_port.py), or a skip."""
    import uno_port

    reason = uno_port.available()
    if reason:
        pytest.skip(reason)
    office = uno_port.LibreOffice()
    yield office
    office.close()


@pytest.fixture(scope="module")
def com():
    """The CE_ functions called the way Excel on Windows calls them: xlwings' COM server
    path (``xlwings.udfs.call_udf``) in the add-in ``customer_equity.xlam``."""
    with ComRuntime(workbook_name="customer_equity.xlam") as runtime:
        yield runtime


@pytest.fixture(scope="module", params=OFFICEJS_EMPTY_CELLS, ids=["blank=0", "blank=null"])
def ojs(request):
    """The CE_ functions called the way xlwings Lite calls them (Office.js custom functions),
    once with blank cells sent as 0 and once as null: Excel does both."""
    with OfficeJsRuntime(empty_cell=request.param) as runtime:
        yield runtime


@pytest.fixture(scope="module", params=["com", "officejs"])
def runtime(request, com):
    """Either runtime (COM, or Office.js with blank cells as null), for tests that run the same
    calls on both."""
    if request.param == "com":
        yield com
    else:
        with OfficeJsRuntime(empty_cell=None) as r:
            yield r
