{# KPI trends by day, week and month (insight.kpi.grains), in total and broken down by each of
   insight.kpi.dimensions (channel; region = the store's city; mall = the store's mall, from
   dim_stores; store; business_format): net
   sales (paid sales less refunds, POS returns on their own day, as daily_sales_by_store),
   orders and buyers (paid sales that are not returns), average order value, and for the total
   the members who joined, the members who bought and the coupons redeemed. Each row has the
   previous period's and the same period a year earlier's values and the changes (a week's
   year-ago week is 52 weeks earlier, so weekdays line up). is_complete is false for the
   period holding the as-of day. #}
{%- set rules = var('insight')['kpi'] %}
{%- set grain_list = "'" ~ rules['grains'] | join("', '") ~ "'" %}
{%- set expressions = {
    'total': "'total'",
    'channel': 'orders.channel',
    'region': 'stores.city',
    'mall': 'malls.mall_code',
    'store': 'orders.store_code',
    'business_format': 'orders.business_format',
} %}
with orders as (
    select * from {{ ref('fct_orders') }}
    where is_paid_sale or is_return
),

stores as (
    select * from {{ ref('int_customers__store_cities') }}
),

malls as (
    select store_code, mall_code from {{ ref('dim_stores') }}
),

members as (
    select one_id, member_joined_date
    from {{ ref('customer_lifecycle') }}
    where is_member
),

redemptions as (
    select event_date
    from {{ ref('int_activity__coupon_events') }}
    where event_type = 'redeem'
),

as_of as (
    select as_of from {{ ref('int_as_of') }}
),

grains as (
    select unnest([{{ grain_list }}]) as grain
),

sales as (
    {%- for dimension in ['total'] + rules['dimensions'] %}
    select
        '{{ dimension }}' as dimension,
        coalesce({{ expressions[dimension] }}, '(none)') as dimension_value,
        orders.order_date,
        orders.one_id,
        orders.is_return,
        orders.net_amount_fen,
        members.one_id is not null as is_member_order
    from orders
    {%- if dimension == 'region' %}
    left join stores on stores.store_code = orders.store_code
    {%- elif dimension == 'mall' %}
    left join malls on malls.store_code = orders.store_code
    {%- endif %}
    left join members on members.one_id = orders.one_id
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

periods as (
    select
        grains.grain,
        sales.dimension,
        sales.dimension_value,
        cast(date_trunc(grains.grain, sales.order_date) as date) as period_start,
        sum(sales.net_amount_fen) as net_sales_fen,
        count(*) filter (where not sales.is_return) as orders,
        count(distinct sales.one_id) filter (where not sales.is_return) as buyers,
        count(distinct sales.one_id) filter (
            where not sales.is_return and sales.is_member_order
        ) as active_members
    from sales
    cross join grains
    group by grains.grain, sales.dimension, sales.dimension_value, period_start
),

joins as (
    select
        grains.grain,
        cast(date_trunc(grains.grain, members.member_joined_date) as date) as period_start,
        count(*) as new_members
    from members
    cross join grains
    where members.member_joined_date is not null
    group by grains.grain, period_start
),

redeemed as (
    select
        grains.grain,
        cast(date_trunc(grains.grain, redemptions.event_date) as date) as period_start,
        count(*) as coupon_redemptions
    from redemptions
    cross join grains
    group by grains.grain, period_start
),

measured as (
    select
        periods.*,
        periods.net_sales_fen / nullif(periods.orders, 0) as average_order_value_fen,
        case when periods.dimension = 'total' then coalesce(joins.new_members, 0) end
            as new_members,
        case when periods.dimension = 'total' then coalesce(redeemed.coupon_redemptions, 0) end
            as coupon_redemptions
    from periods
    left join joins on joins.grain = periods.grain and joins.period_start = periods.period_start
    left join redeemed
        on redeemed.grain = periods.grain and redeemed.period_start = periods.period_start
),

final as (
    select
        measured.grain,
        measured.dimension,
        measured.dimension_value,
        measured.period_start,
        measured.period_start
        + case measured.grain
            when 'day' then interval 1 day
            when 'week' then interval 7 day
            else interval 1 month
        end <= as_of.as_of + interval 1 day as is_complete,
        measured.net_sales_fen,
        measured.orders,
        measured.buyers,
        measured.average_order_value_fen,
        measured.active_members,
        measured.new_members,
        measured.coupon_redemptions,
        coalesce(previous.net_sales_fen, 0) as previous_net_sales_fen,
        coalesce(previous.orders, 0) as previous_orders,
        coalesce(year_ago.net_sales_fen, 0) as year_ago_net_sales_fen,
        coalesce(year_ago.orders, 0) as year_ago_orders,
        measured.net_sales_fen - coalesce(previous.net_sales_fen, 0) as net_sales_change_fen,
        (measured.net_sales_fen - previous.net_sales_fen)
        / nullif(abs(previous.net_sales_fen), 0) as net_sales_change_rate,
        (measured.orders - previous.orders) / nullif(previous.orders, 0) as orders_change_rate,
        (measured.net_sales_fen - year_ago.net_sales_fen)
        / nullif(abs(year_ago.net_sales_fen), 0) as net_sales_yoy_rate,
        (measured.orders - year_ago.orders) / nullif(year_ago.orders, 0) as orders_yoy_rate
    from measured
    cross join as_of
    left join measured as previous
        on previous.grain = measured.grain
        and previous.dimension = measured.dimension
        and previous.dimension_value = measured.dimension_value
        and previous.period_start = measured.period_start
        - case measured.grain
            when 'day' then interval 1 day
            when 'week' then interval 7 day
            else interval 1 month
        end
    left join measured as year_ago
        on year_ago.grain = measured.grain
        and year_ago.dimension = measured.dimension
        and year_ago.dimension_value = measured.dimension_value
        and year_ago.period_start = measured.period_start
        - case measured.grain when 'week' then interval 364 day else interval 1 year end
)

select * from final
