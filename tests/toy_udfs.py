"""A toy UDF module for the xlwings harness tests (not part of the product).

Written the way the product's Excel module will be: plain ``xlwings`` decorators, so
the same file serves classic COM UDFs and Office.js custom functions.
"""

import functools

import numpy as np
import pandas as pd

import xlwings as xw


class ToyError(ValueError):
    """A user-facing error (stands in for the product's own error class)."""


def _runtime():
    """Which decorator implementation ``xlwings.func`` is bound to right now."""
    module = getattr(xw.func, "__module__", "")
    if module == "xlwings.udfs":
        return "com"
    if module == "xlwings.pro.udfs_officejs":
        return "officejs"
    return "python"


def readable_errors(f):
    """Turn ToyError into something readable in the cell, per runtime.

    Applied *below* ``@xw.func``: ``functools.wraps`` keeps the name, docstring,
    annotations and (through ``__wrapped__``) the signature that xlwings inspects.
    """
    runtime = _runtime()  # decided when the module is imported, like xw.func itself

    @functools.wraps(f)
    def wrapper(*args):
        try:
            return f(*args)
        except ToyError as e:
            if runtime == "officejs":
                # #VALUE! with the message on the error flag (xlwings Server shows
                # str() of XlwingsError only; other exceptions are hidden in prod).
                raise xw.XlwingsError(str(e)) from None
            if runtime == "com":
                return f"#VALUE! {e}"  # a text; COM UDFs can't return error values
            raise

    return wrapper


@xw.func(category="Toy")
@xw.arg("x", doc="A number")
@xw.arg("y", doc="Another number")
def toy_add(x, y):
    """Adds two numbers."""
    return x + y


@xw.func
@xw.arg("values", ndim=2, doc="Any range")
def toy_types(values):
    """The Python type name of every cell as it arrives (2-D list, raw values)."""
    return [[type(v).__name__ for v in row] for row in values]


@xw.func
@xw.arg("values", ndim=2)
def toy_echo(values):
    """repr() of every cell as it arrives."""
    return [[repr(v) for v in row] for row in values]


@xw.func
@xw.arg("x", np.array, ndim=2, doc="A numeric range")
def toy_double(x):
    """Doubles a range with numpy and spills the result."""
    return x * 2


@xw.func
@xw.arg("x", np.array, ndim=2)
def toy_array_echo(x):
    """dtype and repr of a range read with the numpy converter."""
    return [[str(x.dtype), repr(x.tolist())]]


@xw.func
@xw.arg("df", pd.DataFrame, index=False, header=True)
def toy_frame_echo(df):
    """dtypes and values of a range read with the DataFrame converter."""
    return [[str(dict(df.dtypes.astype(str))), repr(df.values.tolist())]]


@xw.func
def toy_optional(x, rate=0.1, label="none"):
    """Shows which value each optional argument got."""
    return f"{x!r}|{rate!r}|{label!r}"


@xw.func
def toy_scalar(x):
    """repr() of a scalar argument as it arrives (no ndim)."""
    return repr(x)


@xw.func
def toy_fail(x):
    """Always raises a ValueError."""
    raise ValueError(f"bad x: {x}")


@xw.func
def toy_fail_xlwings(x):
    """Always raises an XlwingsError."""
    raise xw.XlwingsError(f"bad x: {x}")


@xw.func
@readable_errors
def toy_checked_rate(rate):
    """Returns the rate if 0 <= rate < 1, else a readable error."""
    if not isinstance(rate, (int, float)) or isinstance(rate, bool):
        raise ToyError(f"rate must be a number, got {rate!r}")
    if not 0 <= rate < 1:
        raise ToyError(f"rate must be in [0, 1), got {rate}")
    return rate


@xw.func
def toy_specials():
    """Returns Excel-error strings, NaN and None to see how each runtime writes them."""
    return [["#N/A", "#VALUE!", "#NUM! too big", float("nan"), None, -2146826273]]


@xw.func
@xw.ret(index=False)
def toy_frame():
    """Returns a DataFrame with a missing value."""
    return pd.DataFrame({"a": [1.0, np.nan], "b": ["x", None]})


@xw.func(volatile=True, category="Toy")
def toy_volatile():
    """A volatile function."""
    return 1
