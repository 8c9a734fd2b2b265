# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # RFM segments and monthly cohorts
#
# For analysts: the RFM segment distribution on the as-of day (`customer_rfm`) and over the
# days built so far (`rfm_daily`), and monthly purchase cohorts (`fct_orders`): customers by
# the month of their first purchase, and the share of each cohort that purchases again
# 0, 1, 2, ... months later.
#
# The marts file is opened **read-only**. Its path is `load_settings().marts_db` (the
# workspace of `CDP_HOME`, `<workspace>/marts/cdp.duckdb`). Set `CDP_NOTEBOOK_FIGURES` to a
# folder to also save the figures there as PNG (the tests do). Build the marts first:
# `cdp demo` builds a demo workspace with them.

# %%
import os
from pathlib import Path

import duckdb
import matplotlib.pyplot as plt
import pandas as pd

from cdp.config import load_settings

MARTS_DB = load_settings().marts_db
FIGURES = (
    Path(os.environ["CDP_NOTEBOOK_FIGURES"]) if os.environ.get("CDP_NOTEBOOK_FIGURES") else None
)

con = duckdb.connect(str(MARTS_DB), read_only=True)


def save(figure, name: str) -> None:
    """Save a figure as PNG when CDP_NOTEBOOK_FIGURES names a folder."""
    if FIGURES is not None:
        FIGURES.mkdir(parents=True, exist_ok=True)
        figure.savefig(FIGURES / f"{name}.png", dpi=100, bbox_inches="tight")


as_of = con.sql("select max(as_of) from customer_rfm").fetchone()[0]
print(f"marts: {MARTS_DB}, as of {as_of}")

# %% [markdown]
# ## RFM segments on the as-of day
#
# The 11 classic segments, in their display order (`segment_order`: Champions first, Lost
# last), with people, share of the active base and their net spend over the last 365 days.

# %%
segments = con.sql("""
    select
        segment,
        segment_order,
        count(*) as customers,
        round(count(*) / sum(count(*)) over (), 4) as share,
        sum(monetary_fen) / 100 as spend_365d_yuan,
        round(avg(recency_days), 1) as avg_recency_days,
        round(avg(frequency), 2) as avg_frequency
    from customer_rfm
    group by segment, segment_order
    order by segment_order
""").df()
print(segments.to_string(index=False))

# %%
figure, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5))
ordered = segments.iloc[::-1]
left.barh(ordered.segment, ordered.customers, color="tab:blue")
left.set_title(f"Customers per RFM segment, {as_of}")
left.set_xlabel("customers")
right.barh(ordered.segment, ordered.spend_365d_yuan, color="tab:green")
right.set_title("Net spend, last 365 days (yuan)")
right.set_xlabel("yuan")
right.tick_params(labelleft=False)
right.xaxis.set_major_formatter(lambda value, _: f"{value:,.0f}")
figure.tight_layout()
save(figure, "rfm_segments")

# %% [markdown]
# ## Segment distribution over time
#
# `rfm_daily` keeps one snapshot per as-of day built (a daily build adds a day). Shares of the
# active base per day; with a single day built, this is one column.

# %%
daily = con.sql("""
    select as_of, segment, count(*) as customers
    from rfm_daily
    group by as_of, segment
""").df()
# the display order of the segments is the segment map's (a seed)
order = [
    segment
    for (segment,) in con.sql(
        "select segment from intermediate.rfm_segment_map group by segment "
        "order by min(segment_order)"
    ).fetchall()
]
shares = daily.pivot_table(
    index="as_of", columns="segment", values="customers", aggfunc="sum", fill_value=0
).reindex(columns=order, fill_value=0)
shares = shares.div(shares.sum(axis=1), axis=0)
print(shares.round(3).to_string())

# %%
figure, ax = plt.subplots(figsize=(10, 4.5))
bottom = pd.Series(0.0, index=shares.index)
labels = [str(day) for day in shares.index]
for segment in shares.columns:
    ax.bar(labels, shares[segment], bottom=bottom, label=segment)
    bottom += shares[segment]
ax.set_ylabel("share of the active base")
ax.set_title("RFM segments per as-of day")
ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", fontsize="small")
ax.tick_params(axis="x", labelrotation=45)
figure.tight_layout()
save(figure, "rfm_segments_over_time")

# %% [markdown]
# ## Monthly cohorts
#
# A cohort is the customers whose first purchase (`fct_orders.is_purchase`: a sale bought,
# i.e. paid, shipped or completed, and not fully refunded) fell in a month. Cell (cohort, k): the share of the cohort
# that purchased in the k-th month after it (k = 0 is the first month itself, so 100%).

# %%
cohorts = con.sql("""
    with purchases as (
        select one_id, date_trunc('month', order_date) as purchase_month
        from fct_orders
        where is_purchase and one_id is not null
    ),

    first_months as (
        select one_id, min(purchase_month) as cohort_month
        from purchases
        group by one_id
    )

    select
        first_months.cohort_month,
        date_diff('month', first_months.cohort_month, purchases.purchase_month)
            as months_since_first,
        count(distinct purchases.one_id) as customers
    from purchases
    inner join first_months on first_months.one_id = purchases.one_id
    group by all
    order by 1, 2
""").df()
cohort_sizes = cohorts[cohorts.months_since_first == 0].set_index("cohort_month").customers
retention = cohorts.pivot(
    index="cohort_month", columns="months_since_first", values="customers"
).div(cohort_sizes, axis=0)
retention.index = [month.strftime("%Y-%m") for month in retention.index]
print(retention.round(3).to_string())

# %%
figure, ax = plt.subplots(figsize=(1.2 * retention.shape[1] + 4, 0.5 * len(retention) + 2))
image = ax.imshow(retention.to_numpy(dtype=float), cmap="Blues", vmin=0, vmax=1, aspect="auto")
ax.set_xticks(range(retention.shape[1]), [str(k) for k in retention.columns])
ax.set_yticks(
    range(len(retention)),
    [f"{month} (n={cohort_sizes.iloc[i]:,})" for i, month in enumerate(retention.index)],
)
ax.set_xlabel("months since first purchase")
ax.set_title("Monthly cohorts: share purchasing again")
for (row, column), value in pd.DataFrame(retention.to_numpy()).stack().items():
    ax.text(
        column,
        row,
        f"{value:.0%}",
        ha="center",
        va="center",
        color="white" if value > 0.6 else "black",
    )
figure.colorbar(image, ax=ax, format=lambda value, _: f"{value:.0%}")
figure.tight_layout()
save(figure, "monthly_cohorts")

# %%
con.close()
