{# Historical customer value by cohort: a cohort is the month of its people's first purchase;
   per month since then (0 = the first month, up to insight.ltv.cohort_months - 1 and the
   as-of month) the cohort's net spend in that month, cumulated, and per customer of the
   cohort. The predicted value (BG/NBD + Gamma-Gamma) is `cdp insight ltv`'s, in Python. #}
{%- set months = var('insight')['ltv']['cohort_months'] %}
with purchases as (
    select one_id, order_date, net_amount_fen
    from {{ ref('fct_orders') }}
    where is_purchase and one_id is not null
),

as_of as (
    select as_of from {{ ref('int_as_of') }}
),

firsts as (
    select one_id, cast(date_trunc('month', min(order_date)) as date) as cohort_month
    from purchases
    group by one_id
),

cohorts as (
    select cohort_month, count(*) as cohort_people
    from firsts
    group by cohort_month
),

offsets as (
    select unnest(range(0, {{ months }})) as months_since_first_purchase
),

grid as (
    select
        cohorts.cohort_month,
        cohorts.cohort_people,
        offsets.months_since_first_purchase
    from cohorts
    cross join offsets
    cross join as_of
    where cohorts.cohort_month + to_months(offsets.months_since_first_purchase) <= as_of.as_of
),

monthly as (
    select
        firsts.cohort_month,
        date_diff('month', firsts.cohort_month, purchases.order_date)
            as months_since_first_purchase,
        sum(purchases.net_amount_fen) as net_spend_fen
    from purchases
    inner join firsts on firsts.one_id = purchases.one_id
    group by firsts.cohort_month, months_since_first_purchase
),

final as (
    select
        grid.cohort_month,
        grid.months_since_first_purchase,
        grid.cohort_people,
        coalesce(monthly.net_spend_fen, 0) as net_spend_fen,
        sum(coalesce(monthly.net_spend_fen, 0)) over (
            partition by grid.cohort_month order by grid.months_since_first_purchase
        ) as cumulative_net_spend_fen,
        cumulative_net_spend_fen / grid.cohort_people as value_per_customer_fen
    from grid
    left join monthly
        on monthly.cohort_month = grid.cohort_month
        and monthly.months_since_first_purchase = grid.months_since_first_purchase
)

select * from final
