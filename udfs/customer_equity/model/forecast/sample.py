"""The CDNOW sample transaction log shipped with the package (see data/cdnow_sample.md)."""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["cdnow_path", "load_cdnow"]


def cdnow_path():
    """Path of the bundled ``cdnow_sample.csv`` (customer_id, date, amount)."""
    return resources.files("customer_equity") / "data" / "cdnow_sample.csv"


def load_cdnow() -> pd.DataFrame:
    """The CDNOW 1/10 sample: 6,919 transactions of 2,357 customers, 1997-01-01 to 1998-06-30.

    Fader, Hardie & Lee (2005), "Counting your customers the easy way"; as distributed
    in lifetimes (MIT).

    >>> log = load_cdnow()
    >>> len(log), log["customer_id"].nunique(), float(log["amount"].sum().round(2))
    (6919, 2357, 244091.94)
    """
    with resources.as_file(cdnow_path()) as path:
        return pd.read_csv(path, parse_dates=["date"])
