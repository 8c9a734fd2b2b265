"""Offline evaluation of recommendations on a time holdout.

Recommendations made as of a cutoff day are scored against what each person bought after it
and had not bought before (the mart never recommends an item already bought). Only people with
such a purchase count. ``precision@k`` = hits / (k x people), ``recall@k`` = hits / items
bought in the holdout, ``coverage`` = distinct items recommended / items sold up to the cutoff.
The baseline recommends every person the k most popular items they have not bought.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Scores:
    """How one recommender did on the holdout."""

    name: str
    people: int
    precision: float
    recall: float
    coverage: float

    def line(self, k: int) -> str:
        return (
            f"{self.name:<24} precision@{k} {self.precision:.4f}  recall@{k} {self.recall:.4f}"
            f"  coverage {self.coverage:.4f}  ({self.people:,} people)"
        )


def new_purchases(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Distinct (one_id, sku) bought in ``after`` and never in ``before``."""
    seen = before[["one_id", "sku"]].drop_duplicates()
    bought = after[["one_id", "sku"]].drop_duplicates()
    merged = bought.merge(seen, on=["one_id", "sku"], how="left", indicator=True)
    return merged.loc[merged["_merge"] == "left_only", ["one_id", "sku"]]


def popularity_baseline(
    before: pd.DataFrame, people: pd.Series | list[str], k: int
) -> pd.DataFrame:
    """(one_id, sku, recommendation_rank): the k items most people bought up to the cutoff,
    skipping those the person already bought."""
    ranked = (
        before.groupby("sku")["one_id"].nunique().reset_index(name="buyers")
        .sort_values(["buyers", "sku"], ascending=[False, True])
    )  # fmt: skip
    owned = before[["one_id", "sku"]].drop_duplicates()
    top = ranked["sku"].head(k + int(owned.groupby("one_id").size().max() or 0))
    grid = pd.DataFrame({"one_id": pd.unique(pd.Series(people))}).merge(
        pd.DataFrame({"sku": top.to_numpy(), "order": range(len(top))}), how="cross"
    )
    grid = grid.merge(owned, on=["one_id", "sku"], how="left", indicator=True)
    grid = grid[grid["_merge"] == "left_only"].sort_values(["one_id", "order"])
    grid["recommendation_rank"] = grid.groupby("one_id").cumcount() + 1
    return grid.loc[grid["recommendation_rank"] <= k, ["one_id", "sku", "recommendation_rank"]]


def score(
    name: str, recommended: pd.DataFrame, holdout: pd.DataFrame, catalogue: int, k: int
) -> Scores:
    """Scores of ``recommended`` (one_id, sku, recommendation_rank) on ``holdout`` (one_id,
    sku: new purchases), over the people of the holdout; ``catalogue`` = items sold."""
    people = holdout["one_id"].drop_duplicates()
    top = recommended[recommended["recommendation_rank"] <= k]
    top = top[top["one_id"].isin(people)]
    hits = len(top.merge(holdout, on=["one_id", "sku"]))
    n = len(people)
    return Scores(
        name,
        n,
        precision=hits / (k * n) if n else 0.0,
        recall=hits / len(holdout) if len(holdout) else 0.0,
        coverage=top["sku"].nunique() / catalogue if catalogue else 0.0,
    )


def evaluate(
    recommended: pd.DataFrame, before: pd.DataFrame, after: pd.DataFrame, k: int
) -> tuple[Scores, Scores]:
    """(the mart's scores, the popularity baseline's) for people who bought before the cutoff
    and bought something new after it. ``before`` / ``after``: purchase lines (one_id, sku)
    up to and after the cutoff; ``recommended``: the mart as of the cutoff."""
    holdout = new_purchases(before, after)
    holdout = holdout[holdout["one_id"].isin(before["one_id"])]
    catalogue = before["sku"].nunique()
    baseline = popularity_baseline(before, holdout["one_id"], k)
    return (
        score("item-to-item (mart)", recommended, holdout, catalogue, k),
        score("popularity baseline", baseline, holdout, catalogue, k),
    )


def _purchase_lines(database) -> pd.DataFrame:
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        return con.sql(
            "select one_id, sku, order_date from fct_order_lines "
            "where is_purchase and one_id is not null and sku is not null"
        ).df()


def _recommendations(database) -> pd.DataFrame:
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        return con.sql("select one_id, sku, recommendation_rank from customer_recommendations").df()


def holdout_evaluation(settings, holdout_days: int, k: int, progress=print):
    """Evaluate the recommendations on the last ``holdout_days`` days of a built workspace.

    Reads every purchase line of the marts, re-runs the recommendation models and their
    parents as of the cutoff (``as_of - holdout_days``; ``dbt run``, a full refresh: the data
    tests relating them to the marts left as of the later day would fail in between), scores
    them, and re-runs the same models as of the original day. Returns (cutoff, mart scores,
    baseline scores, seconds of the cutoff run)."""
    import time
    from datetime import timedelta

    from cdp.marts import run_dbt

    lines = _purchase_lines(settings.marts_db)
    as_of = pd.Timestamp(lines["order_date"].max()).date()
    cutoff = as_of - timedelta(days=holdout_days)
    select = "+customer_recommendations"
    progress(f"building the recommendations as of {cutoff} (holdout {holdout_days} days)")
    started = time.perf_counter()
    run_dbt(settings, ["run"], as_of=str(cutoff), select=select, full_refresh=True)
    seconds = time.perf_counter() - started
    recommended = _recommendations(settings.marts_db)
    progress(f"rebuilding them as of {as_of}")
    run_dbt(settings, ["run"], as_of=str(as_of), select=select, full_refresh=True)
    day = pd.to_datetime(lines["order_date"]).dt.date
    before, after = lines[day <= cutoff], lines[day > cutoff]
    mart, baseline = evaluate(recommended, before, after, k)
    return cutoff, mart, baseline, seconds
