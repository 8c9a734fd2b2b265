{# Purchase retention by cohort: a person's cohort is the week and the month of their first
   purchase; they return with a purchase on a later day. For each window N of
   insight.retention.return_days, returned_people counts those back within N days of the first
   purchase, out of eligible_people, the cohort's people whose first purchase is at least N days
   before the as-of day (a younger one could not have returned yet); return_window_days null
   is unbounded: back at any time up to the as-of day, out of the whole cohort. #}
{%- set windows = var('insight')['retention']['return_days'] %}
with purchases as (
    select one_id, order_date
    from {{ ref('fct_orders') }}
    where is_purchase and one_id is not null
),

as_of as (
    select as_of from {{ ref('int_as_of') }}
),

firsts as (
    select one_id, min(order_date) as first_purchase_date
    from purchases
    group by one_id
),

people as (
    select
        firsts.one_id,
        firsts.first_purchase_date,
        min(purchases.order_date) as return_date
    from firsts
    left join purchases
        on purchases.one_id = firsts.one_id
        and purchases.order_date > firsts.first_purchase_date
    group by firsts.one_id, firsts.first_purchase_date
),

grains as (
    select unnest(['week', 'month']) as cohort_grain
),

windows as (
    select unnest([{{ windows | join(', ') }}, null]) as return_window_days
),

cohorts as (
    select
        grains.cohort_grain,
        cast(date_trunc(grains.cohort_grain, people.first_purchase_date) as date) as cohort_start,
        windows.return_window_days,
        people.first_purchase_date,
        people.return_date
    from people
    cross join grains
    cross join windows
),

final as (
    select
        cohorts.cohort_grain,
        cohorts.cohort_start,
        cohorts.return_window_days,
        count(*) as cohort_people,
        count(*) filter (
            where cohorts.return_window_days is null
            or cohorts.first_purchase_date + cohorts.return_window_days <= as_of.as_of
        ) as eligible_people,
        count(*) filter (
            where cohorts.return_date is not null
            and (
                cohorts.return_window_days is null
                or (
                    cohorts.return_date - cohorts.first_purchase_date
                    <= cohorts.return_window_days
                    and cohorts.first_purchase_date + cohorts.return_window_days <= as_of.as_of
                )
            )
        ) as returned_people,
        returned_people / nullif(eligible_people, 0) as retention_rate
    from cohorts
    cross join as_of
    group by cohorts.cohort_grain, cohorts.cohort_start, cohorts.return_window_days
)

select * from final
