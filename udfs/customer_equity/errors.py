"""The one exception type the product raises for bad input."""

from __future__ import annotations

import datetime as dt


class CustomerEquityError(ValueError):
    """Invalid input: names the argument, the offending position and the rule broken.

    Attributes
    ----------
    argument : str
        The argument (or table column) that holds the bad value.
    rule : str
        What the value should have been, in words an analyst reads.
    row, column : int or None
        1-based position inside the argument (row = customer, column = period),
        ``None`` where the argument is a single value or a whole-argument rule.
    value : object
        The offending value, when there is one.

    Examples
    --------
    >>> err = CustomerEquityError("share", "must lie in [0, 1]", row=3, column=1, value=1.2)
    >>> str(err)
    'share, row 3, column 1: must lie in [0, 1] (got 1.2)'
    """

    _NO_VALUE = object()

    def __init__(self, argument, rule, *, row=None, column=None, value=_NO_VALUE):
        self.argument = argument
        self.rule = rule
        self.row = row
        self.column = column
        self.value = None if value is self._NO_VALUE else value
        self.has_value = value is not self._NO_VALUE
        super().__init__(self._message())

    @property
    def position(self) -> str:
        parts = []
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def _message(self) -> str:
        where = f"{self.argument}, {self.position}" if self.position else self.argument
        got = f" (got {_show(self.value)})" if self.has_value else ""
        return f"{where}: {self.rule}{got}"

    def relocated(self, *, argument=None, row_offset=0, column=_NO_VALUE):
        """A copy pointing at another place, e.g. a file row instead of an array row.

        ``column=None`` drops the column (when ``argument`` already names it).
        """
        kwargs = {"row": None if self.row is None else self.row + row_offset,
                  "column": self.column if column is self._NO_VALUE else column}
        if self.has_value:
            kwargs["value"] = self.value
        return CustomerEquityError(argument or self.argument, self.rule, **kwargs)


def _show(value) -> str:
    """The offending value as the user typed it: text quoted, TRUE/FALSE, a date as a date.

    >>> [_show(v) for v in ("12%", True, 2.0, 0.25, dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 2, 9, 30))]
    ["'12%'", 'TRUE', '2.0', '0.25', '2024-01-02', '2024-01-02 09:30']
    """
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        value = value.item()  # np.str_('12%') is '12%' to the user
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d" if value.time() == dt.time() else "%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    if isinstance(value, str):
        return repr(value)
    return str(value)
