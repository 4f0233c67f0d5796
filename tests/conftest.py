import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
for _p in (_ROOT / "udfs", _ROOT / "tests"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))


import pytest  # noqa: E402


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
