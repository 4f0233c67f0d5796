"""Draw docs/forecast-holdout.png: CDNOW calibration vs holdout purchases by frequency.

No plotting library is needed: an XlsxWriter chart on a chart sheet, printed to PDF by
LibreOffice (``soffice``) and rasterised by ``pdftoppm`` (poppler).

    python docs/forecast_figure.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "udfs"))

from customer_equity.model.forecast import fit_forecast, load_cdnow, summary_data


def main(out=HERE / "forecast-holdout.png"):
    import xlsxwriter

    summary = summary_data(load_cdnow(), unit="week", calibration_end="1997-09-30",
                           observation_end="1998-06-30")
    table = fit_forecast(summary).holdout_table()
    with tempfile.TemporaryDirectory() as tmp:
        book_path = Path(tmp) / "holdout.xlsx"
        book = xlsxwriter.Workbook(str(book_path))
        sheet = book.add_chartsheet("chart")  # first: page 1 of the PDF
        data = book.add_worksheet("data")
        data.write_row(0, 0, ["repeat purchases in calibration", "actual", "BG/NBD"])
        for r, (label, row) in enumerate(table.iterrows(), start=1):
            data.write_row(r, 0, [label, row["actual"], row["predicted"]])
        n = len(table)
        chart = book.add_chart({"type": "line"})
        for col, color, dash in ((1, "#1f4e79", "solid"), (2, "#c55a11", "dash")):
            chart.add_series({
                "name": ["data", 0, col], "categories": ["data", 1, 0, n, 0],
                "values": ["data", 1, col, n, col],
                "line": {"color": color, "width": 2.25, "dash_type": dash},
                "marker": {"type": "circle", "size": 6, "border": {"color": color},
                           "fill": {"color": color}}})
        chart.set_title({"name": "CDNOW: purchases in the 39-week holdout, by calibration frequency",
                         "name_font": {"size": 13}})
        chart.set_x_axis({"name": "repeat purchases in the 39-week calibration period"})
        chart.set_y_axis({"name": "mean purchases per customer in the holdout",
                          "major_gridlines": {"visible": True, "line": {"color": "#d9d9d9"}}})
        chart.set_legend({"position": "bottom"})
        sheet.set_chart(chart)
        sheet.activate()
        sheet.set_landscape()
        book.close()
        soffice = shutil.which("soffice") or shutil.which("libreoffice")
        subprocess.run([soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless",
                        "--convert-to", "pdf", "--outdir", tmp, str(book_path)], check=True,
                       capture_output=True, timeout=180)
        pdf = Path(tmp) / "holdout.pdf"
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-singlefile", "-f", "1", "-l", "1",
                        "-x", "40", "-y", "40", "-W", "655", "-H", "440",  # the chart, no margins
                        str(pdf), str(Path(tmp) / "page")], check=True)
        shutil.copy(Path(tmp) / "page.png", out)
    print(out)


if __name__ == "__main__":
    main()
