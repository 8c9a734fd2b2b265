"""Predicted customer value: BG/NBD (how often a person buys, and whether they are still a
customer) and Gamma-Gamma (how much they spend per purchase), with pymc-marketing.

``run`` reads every purchase with a one_id from the marts, splits the days at
``as_of - holdout_days``, fits both models (maximum a posteriori, which takes seconds once
PyTensor's compiled code is cached) on the calibration period and compares the purchases the
model expects in the holdout with those made, per group of calibration purchase counts: a
model that calibrates well has predicted close to actual in every group. The calibrated model
then values each person over ``horizon_days`` from their history through the as-of day.
pymc-marketing is the optional ``ltv`` extra (``pip install 'lakehouse-cdp[ltv]'``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

#: calibration purchase counts grouped for the holdout check (repeat purchases)
FREQUENCY_GROUPS = (0, 1, 2, 3, 5)


@dataclass(frozen=True)
class LtvCheck:
    """The holdout check and the people with the highest predicted value."""

    calibration: pd.DataFrame  # per group: people, predicted and actual holdout purchases
    top_customers: pd.DataFrame
    predicted_purchases: float
    actual_purchases: int
    mean_absolute_error: float

    def summary(self) -> str:
        gap = self.predicted_purchases / self.actual_purchases - 1 if self.actual_purchases else 0
        return (
            f"holdout: {self.predicted_purchases:,.0f} purchases predicted, "
            f"{self.actual_purchases:,} made ({gap:+.1%}); mean absolute error per person "
            f"{self.mean_absolute_error:.3f}"
        )


def _model_library():
    try:
        from pymc_marketing.clv import BetaGeoModel, GammaGammaModel, utils
    except ModuleNotFoundError:
        raise ValueError(
            "cdp insight ltv --predict needs pymc-marketing: pip install 'lakehouse-cdp[ltv]'"
        ) from None
    return BetaGeoModel, GammaGammaModel, utils


def purchases(database: Path) -> tuple[pd.DataFrame, date]:
    """(one_id, order_date, value in yuan) of every purchase with a one_id and a positive net
    amount, and the marts' as-of day."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        (as_of,) = con.sql("select as_of from intermediate.int_as_of").fetchone()
        frame = con.sql(
            "select one_id, order_date, net_amount_fen / 100.0 as value from fct_orders "
            "where is_purchase and one_id is not null and net_amount_fen > 0"
        ).df()
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    return frame, as_of


def _mean(draws) -> pd.Series:
    """The posterior mean per customer of a pymc-marketing prediction."""
    return draws.mean(("chain", "draw")).to_series()


def fit(summary: pd.DataFrame):
    """(BG/NBD, Gamma-Gamma) fitted on an RFM summary (customer_id, frequency, recency, T,
    monetary_value); Gamma-Gamma on the repeat buyers only, as the model requires."""
    beta_geo, gamma_gamma, _ = _model_library()
    transactions = beta_geo(data=summary[["customer_id", "frequency", "recency", "T"]])
    transactions.fit(fit_method="map", progressbar=False)
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    spend = gamma_gamma(data=repeat[["customer_id", "frequency", "monetary_value"]])
    spend.fit(fit_method="map", progressbar=False)
    return transactions, spend


def _groups(frequency: pd.Series) -> pd.Series:
    bounds = [*FREQUENCY_GROUPS, float("inf")]
    labels = [
        f"{lo}" if hi - lo == 1 else f"{lo}+" if hi == float("inf") else f"{lo}-{hi - 1}"
        for lo, hi in itertools.pairwise(bounds)
    ]
    return pd.cut(frequency, bounds, right=False, labels=labels)


def holdout_table(split: pd.DataFrame, predicted: pd.Series) -> pd.DataFrame:
    """Per group of calibration repeat purchases: people, predicted and actual holdout
    purchases (totals)."""
    frame = split.assign(predicted=predicted.to_numpy(), group=_groups(split["frequency"]))
    table = frame.groupby("group", observed=True).agg(
        people=("customer_id", "size"),
        predicted_purchases=("predicted", "sum"),
        actual_purchases=("test_frequency", "sum"),
    )
    return table.round(1).reset_index()


def run(
    database: Path, holdout_days: int, horizon_days: int, progress: Callable[[str], None]
) -> LtvCheck:
    """Fit on the days before the holdout, check on the holdout, value every person."""
    _, _, utils = _model_library()
    frame, as_of = purchases(database)
    cutoff = as_of - timedelta(days=holdout_days)
    if not (frame["order_date"] <= pd.Timestamp(cutoff)).any():
        raise ValueError(f"no purchases on or before {cutoff}: shorten --holdout-days")
    split = utils.rfm_train_test_split(
        frame, "one_id", "order_date", train_period_end=cutoff, test_period_end=as_of,
        monetary_value_col="value",
    )  # fmt: skip
    progress(f"fitting BG/NBD + Gamma-Gamma on {len(split):,} people's purchases to {cutoff}")
    transactions, spend = fit(split)
    predicted = _mean(transactions.expected_purchases(data=split, future_t=split["test_T"]))
    table = holdout_table(split, predicted)
    history = utils.rfm_summary(
        frame, "one_id", "order_date", monetary_value_col="value", observation_period_end=as_of
    )
    value = _mean(
        spend.expected_customer_lifetime_value(
            transaction_model=transactions, data=history, future_t=horizon_days / 30
        )
    )
    top = history.assign(predicted_value_yuan=value.to_numpy().round(2))
    top = top.nlargest(10, "predicted_value_yuan")[
        ["customer_id", "frequency", "recency", "T", "monetary_value", "predicted_value_yuan"]
    ]
    return LtvCheck(
        table,
        top.round(2),
        float(predicted.sum()),
        int(split["test_frequency"].sum()),
        float(np.abs(predicted.to_numpy() - split["test_frequency"].to_numpy()).mean()),
    )
