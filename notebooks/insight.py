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
# # Insight: KPIs, funnels, retention, paths, distributions, attribution, value, portraits
#
# One chart per insight mart (`dbt_project/models/insight/`, parameters in
# `dbt_project/config/insight.yml`). The funnel, retention, paths, attribution, value and
# recommendation charts are the ones `cdp insight <command> --png` draws (`cdp.insight.views`).
# The marts file is opened **read-only** (`load_settings().marts_db`); set
# `CDP_NOTEBOOK_FIGURES` to a folder to save the figures as PNG (the tests do).

# %%
import os
from pathlib import Path

import duckdb
import matplotlib.pyplot as plt

from cdp.config import load_settings
from cdp.insight import views

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


def chart(view: views.View):
    """Draw a cdp insight view and return its rows."""
    rows = con.sql(view.sql).df()
    figure, ax = plt.subplots(figsize=(10, 5))
    view.draw(rows, ax)
    ax.set_title(view.title)
    save(figure, view.name)
    return rows


# %% [markdown]
# ## KPI trends: net sales per week, in total and by channel, and what drove the last change

# %%
kpi = con.sql(
    "select period_start, dimension_value, net_sales_fen / 100 as net_sales_yuan "
    "from insight_kpi_trends where grain = 'week' and dimension in ('total', 'channel') "
    "order by period_start"
).df()
weekly = kpi.pivot_table(index="period_start", columns="dimension_value", values="net_sales_yuan")
figure, ax = plt.subplots(figsize=(10, 5))
weekly.plot(ax=ax, marker="o")
ax.set_ylabel("net sales (yuan)")
ax.set_title("Weekly net sales")
save(figure, "kpi_trends")
drivers = con.sql(
    "select * from insight_kpi_drivers where grain = 'week' "
    "and period_start = (select max(period_start) from insight_kpi_drivers)"
).df()
print(drivers.to_string(index=False))

# %% [markdown]
# ## Funnels, retention and paths

# %%
funnels = chart(views.funnel(None, "All"))
retention = chart(views.retention("week"))
paths = chart(views.paths(10))

# %% [markdown]
# ## Distributions: people by purchase frequency and spend, sessions by length

# %%
bands = con.sql("select * from insight_distributions order by distribution, band_lower").df()
figure, axes = plt.subplots(1, 3, figsize=(15, 4))
for ax, (name, rows) in zip(axes, bands.groupby("distribution")):
    ax.bar(rows["band"], rows["band_count"])
    ax.set_title(f"{name} ({rows['counted'].iloc[0]})")
save(figure, "distributions")

# %% [markdown]
# ## Attribution (five models side by side), value by cohort, recommendations

# %%
attribution = chart(views.attribution(10))
value = chart(views.ltv_cohorts())
recommended = chart(views.recommendations(None, 15))

# %% [markdown]
# ## Group portraits: what over-represents each RFM segment (lift)

# %%
portraits = con.sql(
    "select segment, trait || ': ' || trait_value as trait, lift from insight_portraits "
    "where people_with_value >= 3 qualify row_number() over "
    "(partition by segment order by lift desc) <= 3 order by segment, lift desc"
).df()
figure, ax = plt.subplots(figsize=(10, 6))
ax.barh(portraits["segment"] + " | " + portraits["trait"], portraits["lift"])
ax.invert_yaxis()
ax.axvline(1, color="grey", linewidth=1)
ax.set_xlabel("lift (segment share / base share)")
ax.set_title("What sets each segment apart")
save(figure, "portraits")
print(portraits.to_string(index=False))
