{# The business day this build is computed as of: CDP_AS_OF (`cdp marts build --as-of`),
   else the last day with orders or events, else (nothing delivered yet) today's China date,
   so that a first build makes every mart, empty. Everything downstream filters on it, so a
   past day can be recomputed. #}
with last_day as (
    select max(day) as last_day
    from (
        select max(order_date) as day from {{ ref('stg_silver__orders') }}
        union all
        select max(event_date) from {{ ref('stg_silver__events') }}
    ) as days
),

final as (
    select
        {% if env_var('CDP_AS_OF', '') -%}
        date '{{ env_var("CDP_AS_OF") }}'
        {%- else -%}
        coalesce(last_day, {{ china_date('current_timestamp') }})
        {%- endif %} as as_of,
        last_day as last_data_day
    from last_day
)

select * from final
