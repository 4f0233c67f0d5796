"""The data report: what was read, what was used, and what was set aside and why.

Every door that reads data (the command's files, ``CE_LOG_CHECK`` in Excel, the
from-transactions template) shows the same report, built here in the core:

=====================  ==========================================================================
rows read              the rows of the data (a file's lines, a range's rows)
rows used              the rows the calculation uses: rows read = rows used + rows set aside
set aside              rows left out, by reason, each with its count and its first rows (as the user
                       numbers them: a file's line, a range's row)
kept, for a look       rows used but worth a look (exact duplicates, which ``duplicates="drop"`` sets
                       aside instead; zero amounts)
customers              customers read, used, and left out by reason (returns only, ...)
dates                  the first and last date used; the calibration and holdout windows
=====================  ==========================================================================

lifetimes, pymc-marketing and CLVTools report none of this: a typo in a year or an
export run twice changes their answers without a word.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np

__all__ = ["FIRST_ROWS", "REASONS", "RowGroup", "DataReport"]

#: How many row numbers a report lists for each reason.
FIRST_ROWS = 5

#: What each reason means, as the report says it ({today}, {end}: the dates in force).
REASONS = {
    "blank_rows": "blank rows (nothing in any column read)",
    "returns": "returns (negative amounts): not purchases",
    "future": "dated after today ({today}): a typo in the year?",
    "after_observation_end": "dated after the observation end ({end})",
    "duplicates": "exact duplicates of an earlier row (same customer, day and amount)",
    "first_purchase_after_calibration": "of customers whose first purchase is after the "
                                        "calibration end (new in the holdout)",
    "zero_amounts": "zero amounts (a free item is still a visit)",
}


@dataclasses.dataclass
class RowGroup:
    """Rows of one reason: how many, and the first :data:`FIRST_ROWS` of them (ascending).

    >>> g = RowGroup()
    >>> g.add([9, 4]); g.add([2, 30, 7, 5])
    >>> g.count, g.first_rows
    (6, [2, 4, 5, 7, 9])
    """

    count: int = 0
    first_rows: list = dataclasses.field(default_factory=list)

    def add(self, rows, count=None):
        """Add rows (user row numbers); ``count`` when only the first rows are given."""
        rows = [int(r) for r in np.asarray(rows, dtype=np.int64).ravel()]
        self.count += len(rows) if count is None else int(count)
        self.first_rows = sorted(set(self.first_rows) | set(rows))[:FIRST_ROWS]

    def rows_text(self) -> str:
        """The first rows as text: ``"4, 9, 12"``, with ``", ..."`` when there are more."""
        more = ", ..." if self.count > len(self.first_rows) else ""
        return ", ".join(str(r) for r in self.first_rows) + more

    def shown(self, what) -> str:
        """``"3 returns (rows 4, 9, 12)"``: the count, ``what`` they are, and the first rows."""
        if not self.first_rows:
            return f"{self.count:,} {what}"
        word = "row" if self.count == 1 else "rows"
        return f"{self.count:,} {what} ({word} {self.rows_text()})"


def _day(value):
    return None if value is None else value.isoformat()


@dataclasses.dataclass
class DataReport:
    """What a reading of data did, in numbers (see the module's table).

    Attributes
    ----------
    source : str
        What was read (a file name, ``"log"``).
    rows_read, rows_used : int
    set_aside : dict of str to RowGroup
        Rows left out, by reason (the keys of :data:`REASONS`), in the order met.
    reported : dict of str to RowGroup
        Rows kept and reported (duplicates kept, zero amounts).
    customers : dict of str to int
        ``read`` (distinct customers of the rows read), ``used``, and those left out by
        reason: ``returns_only``, ``set_aside_only`` (every row set aside by date),
        ``first_purchase_after_calibration``.
    first_date, last_date : datetime.date or None
        The first and last date of the rows used.
    calibration : tuple of date or None
        ``(first day, calibration end)``.
    holdout : tuple of date or None
        ``(first day, observation end)`` of the holdout, None without one.
    today, observation_end : datetime.date or None
        The dates the rules used.
    duplicates : {"keep", "drop"}
        What was done with exact duplicates.

    Examples
    --------
    >>> r = DataReport("log", rows_read=6, rows_used=4, today=dt.date(2025, 7, 1))
    >>> r.set_aside_rows("returns", [3]); r.set_aside_rows("future", [6])
    >>> r.lines(today=False)[1:]
    ['  set aside: 1 returns (negative amounts): not purchases (row 3)', '  set aside: 1 dated after today (2025-07-01): a typo in the year? (row 6)']
    """

    source: str = "data"
    rows_read: int = 0
    rows_used: int = 0
    set_aside: dict = dataclasses.field(default_factory=dict)
    reported: dict = dataclasses.field(default_factory=dict)
    customers: dict = dataclasses.field(default_factory=dict)
    first_date: dt.date | None = None
    last_date: dt.date | None = None
    calibration: tuple | None = None
    holdout: tuple | None = None
    today: dt.date | None = None
    observation_end: dt.date | None = None
    duplicates: str = "keep"

    # --- building -------------------------------------------------------------------

    def set_aside_rows(self, reason, rows, count=None):
        """Count ``rows`` (user row numbers) as set aside for ``reason``."""
        self.set_aside.setdefault(reason, RowGroup()).add(rows, count)

    def report_rows(self, reason, rows, count=None):
        """Count ``rows`` as kept but reported for ``reason``."""
        self.reported.setdefault(reason, RowGroup()).add(rows, count)

    def merge(self, other: "DataReport"):
        """Add another part's rows, reasons and customers (a batch of a streamed file)."""
        self.rows_read += other.rows_read
        self.rows_used += other.rows_used
        for mine, theirs in ((self.set_aside, other.set_aside), (self.reported, other.reported)):
            for reason, group in theirs.items():
                mine.setdefault(reason, RowGroup()).add(group.first_rows, group.count)
        for key, n in other.customers.items():
            self.customers[key] = self.customers.get(key, 0) + n
        return self

    # --- reading --------------------------------------------------------------------

    @property
    def rows_set_aside(self) -> int:
        """Rows left out, all reasons together."""
        return sum(g.count for g in self.set_aside.values())

    def reason(self, key) -> str:
        """The words of a reason, with the dates in force."""
        return REASONS.get(key, key.replace("_", " ")).format(
            today=self.today, end=self.observation_end)

    def lines(self, today=True) -> list[str]:
        """The report in a few lines, as the command prints it.

        ``today=False`` leaves out the line of the date used as today.
        """
        out = [f"Data read from {self.source}: {self.rows_read:,} rows, {self.rows_used:,} used"]
        if not self.set_aside:
            out.append("  set aside: none")
        for key, group in self.set_aside.items():
            out.append(f"  set aside: {group.shown(self.reason(key))}")
        for key, group in self.reported.items():
            out.append(f"  kept, for a look: {group.shown(self.reason(key))}")
        c = self.customers
        if c:
            gone = [f"{c[k]:,} {label}" for k, label in (
                ("returns_only", "with returns only"),
                ("set_aside_only", "with every row set aside"),
                ("first_purchase_after_calibration", "first buying after the calibration end"))
                if c.get(k)]
            out.append(f"  customers: {c.get('read', 0):,} read, {c.get('used', 0):,} used"
                       + (f"; left out: {', '.join(gone)}" if gone else ""))
        if self.first_date is not None:
            out.append(f"  dates used: {self.first_date} to {self.last_date}")
        if self.calibration is not None:
            window = f"  calibration: {self.calibration[0]} to {self.calibration[1]}"
            if self.holdout is not None:
                window += f"; holdout: {self.holdout[0]} to {self.holdout[1]}"
            out.append(window)
        if today and self.today is not None and "future" not in self.set_aside:
            out.append(f"  no row is dated after today ({self.today})")
        return out

    def to_dict(self) -> dict:
        """Plain data (JSON-ready)."""
        def groups(d):
            return {k: {"rows": g.count, "first_rows": list(g.first_rows), "why": self.reason(k)}
                    for k, g in d.items()}

        return {"source": self.source, "rows_read": self.rows_read, "rows_used": self.rows_used,
                "rows_set_aside": self.rows_set_aside, "set_aside": groups(self.set_aside),
                "reported": groups(self.reported), "duplicates": self.duplicates,
                "customers": dict(self.customers), "first_date": _day(self.first_date),
                "last_date": _day(self.last_date),
                "calibration": None if self.calibration is None else list(map(_day, self.calibration)),
                "holdout": None if self.holdout is None else list(map(_day, self.holdout)),
                "today": _day(self.today), "observation_end": _day(self.observation_end)}

    def table(self) -> list[list]:
        """The report as rows of cells (item, count, first rows), as ``CE_LOG_CHECK`` spills it
        and the ``--out .xlsx`` report sheet shows it: counts are numbers, dates are text
        (YYYY-MM-DD), first rows are text (``"4, 9, 12"``). Today's date appears only in the
        reason of rows dated after it, so that the same log gives the same cells every day."""
        out = [["item", "count", "first rows"],
               ["rows read", float(self.rows_read), ""],
               ["rows used", float(self.rows_used), ""]]
        for key, g in self.set_aside.items():
            out.append([f"set aside: {self.reason(key)}", float(g.count), g.rows_text()])
        for key, g in self.reported.items():
            out.append([f"kept, for a look: {self.reason(key)}", float(g.count), g.rows_text()])
        for key, label in (("read", "customers read"), ("used", "customers used"),
                           ("returns_only", "customers with returns only (left out)"),
                           ("set_aside_only", "customers with every row set aside (left out)"),
                           ("first_purchase_after_calibration",
                            "customers first buying after the calibration end (left out)")):
            if key in self.customers and (key in ("read", "used") or self.customers[key]):
                out.append([label, float(self.customers[key]), ""])
        for label, value in (("first date used", self.first_date), ("last date used", self.last_date)):
            if value is not None:
                out.append([label, _day(value), ""])
        if self.calibration is not None:
            out.append(["calibration", f"{self.calibration[0]} to {self.calibration[1]}", ""])
        if self.holdout is not None:
            out.append(["holdout", f"{self.holdout[0]} to {self.holdout[1]}", ""])
        return out
