"""``forecast --plots DIR``: the diagnostics that show whether a fit is right, as PNG files.

Three pictures, as lifetimes draws them (its most used part) and Fader, Hardie & Lee (2005)
report them: customers by repeat purchases in the calibration, observed against the model;
with a holdout, the purchases in it by calibration frequency, actual against predicted; and
P(alive) by frequency and recency. The numbers come from the fitted forecast
(:meth:`~customer_equity.model.forecast.CustomerForecast.purchase_counts`,
:meth:`~customer_equity.model.forecast.CustomerForecast.holdout_table`,
:meth:`~customer_equity.model.forecast.CustomerForecast.p_alive_grid`); matplotlib (the
``plots`` extra) draws them, each file written to a temporary name and renamed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._files import atomic_path
from ..errors import CustomerEquityError

__all__ = ["PLOTS", "write_plots"]

#: The files written, in order.
PLOTS = ("purchases-per-customer.png", "calibration-vs-holdout.png", "p-alive.png")


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise CustomerEquityError("--plots", "needs matplotlib: pip install "
                                  "'customer-equity[plots]'") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})


def write_plots(forecast, folder) -> list[Path]:
    """Draw the diagnostics of ``forecast`` (a fitted CustomerForecast) into ``folder``.

    Returns the files written (the holdout picture only with a holdout).
    """
    from ..model.forecast.purchases import PURCHASE_MODELS

    plt = _pyplot()
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise CustomerEquityError(str(folder), "is a file; --plots names a folder")
    folder.mkdir(parents=True, exist_ok=True)
    name = {**PURCHASE_MODELS, "bgbb": "BG/BB"}[forecast.purchase_model.model]
    discrete = forecast.purchase_model.model == "bgbb"
    s = forecast.summary
    taken = "opportunities taken" if discrete else "repeat purchases"
    written = []

    counts = forecast.purchase_counts()
    fig, ax = plt.subplots(figsize=(7, 4))
    at = np.arange(len(counts))
    ax.bar(at - 0.2, counts["observed"], 0.4, label="observed", color="#2E75B6")
    ax.bar(at + 0.2, counts["model"], 0.4, label=name, color="#F4B183")
    ax.set_xticks(at, counts.index)
    ax.set_xlabel(f"{taken} in the calibration (to {s.calibration_end})")
    ax.set_ylabel("customers")
    ax.set_title(f"Customers by {taken}: observed and {name}")
    ax.legend()
    _save(fig, folder / PLOTS[0])
    plt.close(fig)
    written.append(folder / PLOTS[0])

    if s.holdout:
        table = forecast.holdout_table()
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot(table.index.astype(str), table["actual"], "o-", label="actual", color="#2E75B6")
        ax.plot(table.index.astype(str), table["predicted"], "s--", label=name, color="#C55A11")
        ax.set_xlabel(f"{taken} in the calibration")
        ax.set_ylabel(f"mean {taken} in the {s.unit}s to {s.observation_end}" if discrete else
                      f"mean purchases in the {s.holdout_length:g} {s.unit}s after")
        ax.set_title("Calibration vs holdout: purchases per customer")
        ax.legend()
        _save(fig, folder / PLOTS[1])
        plt.close(fig)
        written.append(folder / PLOTS[1])

    freq, rec, alive = forecast.p_alive_grid()
    half = 0.5 if discrete else 0.0  # whole opportunities: each column centred on its recency
    fig, ax = plt.subplots(figsize=(7, 4.5))
    image = ax.imshow(alive, origin="lower", aspect="auto", cmap="RdYlGn", vmin=0, vmax=1,
                      extent=(rec[0] - half, rec[-1] + half, freq[0] - 0.5, freq[-1] + 0.5))
    fig.colorbar(image, ax=ax, label="P(alive)")
    if discrete:
        ax.set_xlabel(f"recency: the opportunity ({s.unit}) of the last purchase")
        ax.set_ylabel("opportunities taken (frequency)")
        ax.set_title(f"P(alive at the next opportunity), n = {rec[-1]:.0f} opportunities ({name})")
    else:
        ax.set_xlabel(f"recency: {s.unit}s from the first purchase to the last")
        ax.set_ylabel("repeat purchases (frequency)")
        ax.set_title(f"P(alive) at the calibration end, T = {rec[-1]:.1f} {s.unit}s ({name})")
    _save(fig, folder / PLOTS[2])
    plt.close(fig)
    written.append(folder / PLOTS[2])
    return written
