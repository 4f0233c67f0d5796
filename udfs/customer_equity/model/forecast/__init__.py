"""Forecasts from a transaction log: BG/NBD purchases and Gamma-Gamma spend (SPEC 7), and
the models analysts reach for beside them.

In the style of lifetimes: :mod:`.data` turns a log into the per-customer
summary; :mod:`.bgnbd` and :mod:`.gamma_gamma` fit the models and predict with
array-in/array-out functions; :mod:`.value` turns the predictions into each
customer's purchase value per period (the PV stream of the typed model) and joins
it to a customer table; :class:`CustomerForecast` holds a fitted customer base.
Beside BG/NBD, on the same summary: :mod:`.pareto_nbd` (Pareto/NBD) and :mod:`.mbgnbd`
(MBG/NBD); for discrete purchase opportunities :mod:`.bgbb` (BG/BB); for contracts, a
cohort's survivors and :mod:`.sbg` (shifted-beta-geometric retention).

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the
easy way: an alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275-284.
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: using iso-value
curves for customer base analysis. *Journal of Marketing Research* 42(4), 415-430.
"""

from ._base import PARAMETER_NAMES, FittedModel, parameters
from .bgbb import bgbb_expected_purchases, bgbb_log_likelihood, bgbb_p_alive, bgbb_pmf, fit_bgbb
from .bgnbd import (
                    bgnbd_log_likelihood,
                    expected_purchases,
                    expected_purchases_new,
                    fit_bgnbd,
                    p_alive,
)
from ._mle import distinct_rows
from .data import UNITS, LogSummary, resolve_ends, summary_data
from .gamma_gamma import (
                    expected_spend,
                    fit_gamma_gamma,
                    frequency_spend_correlation,
                    gamma_gamma_log_likelihood,
                    spenders,
)
from .mbgnbd import (
                    fit_mbgnbd,
                    mbgnbd_expected_purchases,
                    mbgnbd_expected_purchases_new,
                    mbgnbd_log_likelihood,
                    mbgnbd_p_alive,
)
from .pareto_nbd import (
                    fit_pareto_nbd,
                    pareto_nbd_expected_purchases,
                    pareto_nbd_expected_purchases_new,
                    pareto_nbd_log_likelihood,
                    pareto_nbd_p_alive,
)
from .result import CustomerForecast, fit_forecast, fit_inputs
from .sample import generate_log, load_cdnow
from .sbg import (
                    fit_sbg,
                    sbg_derl,
                    sbg_log_likelihood,
                    sbg_ltv,
                    sbg_retention,
                    sbg_survival,
                    survivor_counts,
)
from .value import forecast_clv as forecast_clv  # the old name of forecast_ltv, still importable
from .value import (
                    ForecastJoin,
                    customer_lifetime_value,
                    forecast_ltv,
                    forecast_values,
                    join_forecast,
)

__all__ = [
    "PARAMETER_NAMES", "UNITS", "CustomerForecast", "FittedModel", "ForecastJoin", "LogSummary",
    "bgnbd_log_likelihood", "customer_lifetime_value", "expected_purchases", "expected_purchases_new", "expected_spend",
    "fit_bgnbd", "fit_forecast", "fit_gamma_gamma", "forecast_ltv", "forecast_values",
    "frequency_spend_correlation", "gamma_gamma_log_likelihood", "generate_log", "join_forecast",
    "load_cdnow",
    "p_alive", "summary_data",
    # beyond BG/NBD
    "bgbb_expected_purchases", "bgbb_log_likelihood", "bgbb_p_alive", "bgbb_pmf", "fit_bgbb",
    "fit_mbgnbd", "mbgnbd_expected_purchases", "mbgnbd_expected_purchases_new",
    "mbgnbd_log_likelihood", "mbgnbd_p_alive",
    "fit_pareto_nbd", "pareto_nbd_expected_purchases", "pareto_nbd_expected_purchases_new",
    "pareto_nbd_log_likelihood", "pareto_nbd_p_alive",
    "fit_sbg", "sbg_derl", "sbg_log_likelihood", "sbg_ltv", "sbg_retention", "sbg_survival",
    "survivor_counts",
    # the pieces a file job assembles itself (files/forecast.py on Dask)
    "distinct_rows", "fit_inputs", "resolve_ends", "spenders",
    # model parameters given by a user (a fitted table in Excel), checked
    "parameters",
]
