"""LibreOffice (headless) for the template tests: recalculate a workbook, render previews.

LibreOffice does not recalculate an ``.xlsx`` on loading by default ("never
recalculate" for Excel 2007+ files): :func:`recalculated` uses its own user profile
with ``OOXMLRecalcMode = 0`` (always), so every native formula is computed afresh. The
CE_ functions are unknown to LibreOffice: their cells become errors there, and the
tests compare the recomputed native cells against the CE_ values cached in the file.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice():
    """Path of the ``soffice`` executable, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def _profile(base: Path, recalc: bool) -> str:
    prof = base / ("lo-profile-recalc" if recalc else "lo-profile")
    user = prof / "user"
    user.mkdir(parents=True, exist_ok=True)
    if recalc:
        (user / "registrymodifications.xcu").write_text(_RECALC_ALWAYS, encoding="utf-8")
    return prof.resolve().as_uri()


def convert(src, out_dir, to="xlsx", recalc=True, timeout=240):
    """Convert ``src`` with LibreOffice into ``out_dir`` (``to`` = "xlsx", "pdf", ...)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    filt = {"xlsx": 'xlsx:Calc MS Excel 2007 XML', "pdf": "pdf:calc_pdf_Export"}.get(to, to)
    cmd = [soffice(), f"-env:UserInstallation={_profile(out_dir, recalc)}", "--headless",
           "--norestore", "--convert-to", filt, "--outdir", str(out_dir), str(src)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    out = out_dir / (Path(src).stem + "." + to)
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"LibreOffice failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
    return out


def recalculated(src, out_dir):
    """An ``.xlsx`` copy of ``src`` recalculated by LibreOffice."""
    return convert(src, out_dir, "xlsx", recalc=True)
