"""Install the add-in into Excel's startup folder (XLSTART), remove it, report its state.

``install`` builds the add-in and copies it into XLSTART, as ``xlwings addin install``
does, and finds that folder the way xlwings does (:func:`xlwings.cli.get_addin_dir`,
which asks Excel). ``remove`` and ``status`` mirror ``xlwings addin remove/status``.
Without Excel they raise :class:`ExcelNotFound` and write nothing; every command takes an
explicit folder instead (``--xlstart DIR``: a shared startup folder, or a test's).

Two routes for the Excel functions (:data:`~.build.FUNCTION_ROUTES`):

``com``
    The functions are imported into the add-in's VBA project (Windows desktop Excel). The
    import needs the Trust Center setting "Trust access to the VBA project object model",
    which security guides advise against and many firms lock.
``lite``
    The functions come from xlwings Lite (an Office add-in that runs Python inside Excel on
    Windows, Mac and the web); this add-in serves the Refresh button only and never touches
    its own VBA project, so no Trust Center setting changes.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .build import (ADDIN_FILENAME, FUNCTION_ROUTES, SHARE_FILENAME, AddinConfig, AddinError, build,
                    build_share, build_stamp, read_build_stamp, read_config_sheet, route_of_udf_modules)

NO_EXCEL = (
    "Microsoft Excel was not found on this machine ({platform}). The add-in needs desktop "
    "Excel on Windows or macOS; nothing was written. `customer-equity addin build` writes "
    "customer_equity.xlam here; `--xlstart DIR` installs into a folder you name."
)


class ExcelNotFound(AddinError):
    """No desktop Excel to ask for its startup folder (and none was given)."""


def excel_installed() -> bool:
    """Whether desktop Excel is installed (Windows registry / macOS application folder)."""
    if sys.platform.startswith("win"):
        try:
            import winreg

            winreg.CloseKey(winreg.OpenKey(winreg.HKEY_CLASSES_ROOT, r"Excel.Application"))
            return True
        except OSError:
            return False
    if sys.platform == "darwin":
        return any(
            Path(p).expanduser().is_dir()
            for p in ("/Applications/Microsoft Excel.app", "~/Applications/Microsoft Excel.app")
        )
    return False


def excel_startup_dir() -> Path:
    """Excel's XLSTART folder, as xlwings finds it; raises :class:`ExcelNotFound` without Excel."""
    if excel_installed():
        try:
            from xlwings.cli import get_addin_dir

            return Path(get_addin_dir())
        except Exception:  # noqa: BLE001 - Excel present but not scriptable: treat as absent
            pass
    raise ExcelNotFound(NO_EXCEL.format(platform=sys.platform))


def _close_in_running_excel(name: str) -> None:
    """Close the add-in in every running Excel so that its file can be replaced."""
    try:
        import xlwings as xw

        for app in xw.apps:
            try:
                app.books[name].close()
            except Exception:  # noqa: BLE001 - not open in this instance
                pass
    except Exception:  # noqa: BLE001 - no Excel engine on this platform
        pass


def _target_dir(xlstart: Path | str | None) -> tuple[Path, bool]:
    """The folder given, or Excel's own (and whether Excel was asked)."""
    if xlstart is not None:
        return Path(xlstart), False
    return excel_startup_dir(), True


def install(xlstart: Path | str | None = None, *, functions: str = "com") -> Path:
    """Build the add-in for ``functions`` (``"com"`` or ``"lite"``) and copy it into XLSTART.

    The Share as values add-in (:func:`~.build.build_share`) is built and installed beside it.
    ``xlstart`` defaults to Excel's startup folder. Returns the installed main add-in; raises
    :class:`AddinError` (:class:`ExcelNotFound` without Excel) having written nothing.
    """
    target_dir, asked_excel = _target_dir(xlstart)
    if target_dir.exists() and not target_dir.is_dir():
        raise AddinError(f"{target_dir} is a file, not a startup folder.")
    target = target_dir / ADDIN_FILENAME
    with tempfile.TemporaryDirectory() as tmp:
        config = AddinConfig.for_this_python(functions)
        built = [(build(tmp, config=config), target),
                 (build_share(tmp, config=config), target_dir / SHARE_FILENAME)]
        if asked_excel:
            _close_in_running_excel(ADDIN_FILENAME)
            _close_in_running_excel(SHARE_FILENAME)
        try:
            target_dir.mkdir(parents=True, exist_ok=True)
            for source, destination in built:
                shutil.copyfile(source, destination)
        except OSError as exc:
            raise AddinError(
                f"could not write {target} ({exc.strerror or exc}). If Excel is running, quit "
                "Excel and try again."
            ) from None
    if asked_excel and sys.platform == "darwin":
        from xlwings.cli import runpython_install

        runpython_install(None)  # the AppleScript RunPython needs on macOS
    return target


def remove(xlstart: Path | str | None = None) -> Path:
    """Delete the add-in (and the Share as values add-in) from XLSTART; returns the removed
    main add-in's path, raises :class:`AddinError`."""
    target_dir, asked_excel = _target_dir(xlstart)
    path = target_dir / ADDIN_FILENAME
    if not path.is_file():
        raise AddinError(f"the add-in is not installed (no {path}).")
    share = target_dir / SHARE_FILENAME
    if asked_excel:
        _close_in_running_excel(ADDIN_FILENAME)
        _close_in_running_excel(SHARE_FILENAME)
    try:
        if share.is_file():  # installs before the button have none
            share.unlink()
        path.unlink()
    except OSError as exc:
        raise AddinError(
            f"could not remove {path} ({exc.strerror or exc}). If Excel is running, quit Excel "
            "and try again, or delete the file by hand."
        ) from None
    return path


@dataclass(frozen=True)
class Status:
    """What ``customer-equity addin status`` reports.

    Attributes
    ----------
    path : Path
        Where the add-in is (or would be) installed.
    installed : bool
    functions : str or None
        The active route of the Excel functions, ``"com"`` or ``"lite"`` (None when not
        installed).
    built_for, current : str or None
        The build stamp in the installed file and the one this Python would write.
    share : bool
        Whether the Share as values add-in is installed beside it.
    """

    path: Path
    installed: bool
    functions: str | None = None
    built_for: str | None = None
    current: str | None = None
    share: bool = False

    @property
    def stale(self) -> bool:
        """Whether the installed add-in was built for another package or xlwings version."""
        return self.installed and self.built_for != self.current

    def lines(self) -> list[str]:
        """The report, one line each."""
        if not self.installed:
            return ["The add-in is not installed.",
                    f'"customer-equity addin install" will install it at: {self.path}']
        out = [f"The add-in is installed at {self.path}",
               f"Functions route: {self.functions} - {FUNCTION_ROUTES[self.functions]}."]
        if self.stale:
            out.append(
                f"It was built for {self.built_for or 'an unknown version'}, but this Python has "
                f'{self.current}: run "customer-equity addin install" again so that its VBA '
                "matches xlwings.")
        if not self.share:
            out.append(f'The Share as values button ({SHARE_FILENAME}) is missing: run "customer-equity '
                       'addin install" again to add it.')
        out.append('Use "customer-equity addin remove" to uninstall it.')
        return out


def status(xlstart: Path | str | None = None) -> Status:
    """The state of the add-in in XLSTART (raises :class:`ExcelNotFound` without Excel)."""
    target_dir, _ = _target_dir(xlstart)
    path = target_dir / ADDIN_FILENAME
    if not path.is_file():
        return Status(path, installed=False)
    try:
        udf_modules = read_config_sheet(path).get("UDF Modules")
        stamp = read_build_stamp(path)
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file under our name
        raise AddinError(f"{path} is not a readable Customer Equity add-in ({exc}); run "
                         '"customer-equity addin install" to replace it.') from None
    return Status(path, installed=True, functions=route_of_udf_modules(udf_modules),
                  built_for=stamp, current=build_stamp(), share=(target_dir / SHARE_FILENAME).is_file())


def functions_in_addin(book) -> bool:
    """Whether an add-in open in Excel (an xlwings Book) imports the functions (COM route).

    Refresh asks this before importing the functions, so that an add-in installed for the
    xlwings Lite route never touches its VBA project.
    """
    from .build import UDF_MODULES

    try:
        values = book.sheets["myaddin.conf"].range("A1:B20").value
    except Exception:  # noqa: BLE001 - an add-in without the sheet: the COM default
        return True
    for key, value in values or []:
        if str(key or "").strip().upper() == "UDF MODULES":
            return route_of_udf_modules(value) == "com"
    return bool(UDF_MODULES)
