"""The Excel add-in: build ``customer_equity.xlam``, install it, report which route is active.

- :mod:`.build`: the add-in from xlwings' own template, our ribbon (``addin/customUI.xml``
  in the repository, the package data ``customer_equity.addin_data`` once installed) and the
  configuration sheet; and the Share as values add-in, the same template with the ribbon
  ``addin/customUI_share.xml``;
- :mod:`.startup`: Excel's startup folder (XLSTART), install, remove, status, and the two
  routes of the Excel functions (COM add-in, or xlwings Lite with the add-in serving Refresh).

Keeping the add-in's imported functions in step with ``customer_equity.excel.functions`` is Refresh's
job (:func:`customer_equity.excel.refresh.sync_udfs`).
"""

from __future__ import annotations

from .build import (ADDIN_BASENAME, ADDIN_FILENAME, BUILD_NAME, FUNCTION_ROUTES, RIBBON_PART,
                    RIBBON_SOURCE, SHARE_BASENAME, SHARE_FILENAME, SHARE_RIBBON_SOURCE, UDF_MODULES,
                    AddinConfig, AddinError, build, build_share, build_stamp,
                    check_ribbon, config_sheet_name, read_build_stamp, read_config_sheet,
                    ribbon_callback_refs, ribbon_callbacks, ribbon_source_path,
                    route_of_udf_modules, template_path, vba_modules, vba_project_name)
from .startup import (ExcelNotFound, Status, excel_installed, excel_startup_dir,
                      functions_in_addin, install, remove, status)

__all__ = [
    "ADDIN_BASENAME", "ADDIN_FILENAME", "BUILD_NAME", "FUNCTION_ROUTES", "RIBBON_PART",
    "RIBBON_SOURCE", "SHARE_BASENAME", "SHARE_FILENAME", "SHARE_RIBBON_SOURCE", "UDF_MODULES",
    "AddinConfig", "AddinError", "ExcelNotFound", "Status", "build", "build_share", "build_stamp", "check_ribbon", "config_sheet_name", "excel_installed",
    "excel_startup_dir", "functions_in_addin", "install", "read_build_stamp",
    "read_config_sheet", "remove", "ribbon_callback_refs", "ribbon_callbacks",
    "ribbon_source_path", "route_of_udf_modules", "status", "template_path", "vba_modules",
    "vba_project_name",
]
