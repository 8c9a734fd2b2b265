{# Retention by cohort: a person's cohort is the week and the month of their first start
   event (insight.retention.start: a purchase or an event of a source and type) and its
   channel (a purchase's sales channel, an event's source); they return with a return event
   (insight.retention.return_event) on a later day. For each window N of
   insight.retention.return_days, returned_people counts those back within N days of the
   start, out of eligible_people, the cohort's people whose start is at least N days before
   the as-of day (a younger one could not have returned yet); return_window_days null is
   unbounded: back at any time up to the as-of day, out of the whole cohort. Each cohort is
   given for every channel ('All') and per channel. #}
{%- set rules = var('insight')['retention'] %}
{%- set windows = rules['return_days'] %}
-- depends_on: {{ ref('fct_orders') }}, {{ ref('int_activity__events') }}
with starts as (
    {{- insight_step_days(rules['start']) }}
),

returns as (
    {{- insight_step_days(rules['return_event']) }}
),

as_of as (
    select as_of from {{ ref('int_as_of') }}
),

firsts as (
    -- a person's first start; of two on that day, the channel first in alphabetical order
    select
        one_id,
        day as first_day,
        coalesce(channel, 'unknown') as channel
    from starts
    qualify row_number() over (partition by one_id order by day asc, channel asc nulls last) = 1
),

people as (
    select
        firsts.one_id,
        firsts.first_day,
        firsts.channel,
        min(returns.day) as return_date
    from firsts
    left join returns
        on returns.one_id = firsts.one_id
        and returns.day > firsts.first_day
    group by firsts.one_id, firsts.first_day, firsts.channel
),

grains as (
    select unnest(['week', 'month']) as cohort_grain
),

windows as (
    select unnest([{{ windows | join(', ') }}, null]) as return_window_days
),

channels as (
    -- every person counts in their channel and in All
    select one_id, channel from people
    union all
    select one_id, 'All' from people
),

cohorts as (
    select
        grains.cohort_grain,
        cast(date_trunc(grains.cohort_grain, people.first_day) as date) as cohort_start,
        channels.channel,
        windows.return_window_days,
        people.first_day,
        people.return_date
    from people
    inner join channels on channels.one_id = people.one_id
    cross join grains
    cross join windows
),

final as (
    select
        cohorts.cohort_grain,
        cohorts.cohort_start,
        cohorts.channel,
        cohorts.return_window_days,
        count(*) as cohort_people,
        count(*) filter (
            where cohorts.return_window_days is null
            or cohorts.first_day + cohorts.return_window_days <= as_of.as_of
        ) as eligible_people,
        count(*) filter (
            where cohorts.return_date is not null
            and (
                cohorts.return_window_days is null
                or (
                    cohorts.return_date - cohorts.first_day
                    <= cohorts.return_window_days
                    and cohorts.first_day + cohorts.return_window_days <= as_of.as_of
                )
            )
        ) as returned_people,
        returned_people / nullif(eligible_people, 0) as retention_rate
    from cohorts
    cross join as_of
    group by
        cohorts.cohort_grain, cohorts.cohort_start, cohorts.channel, cohorts.return_window_days
)

select * from final
