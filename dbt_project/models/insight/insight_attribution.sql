{# Orders attributed to the touches before them, five ways side by side. A touch is a
   behavioural event with a campaign or QR scene (campaign-tagged pages, QR scans, follows
   from a QR code, exhibition tickets); an order (a purchase with a one_id) can be claimed by
   its buyer's touches in the insight.attribution.lookback_days before it. Per order the
   weights of its n touches (in time order) sum to 1:
   first touch, last touch, linear (1/n), position-based (first_weight and last_weight to the
   first and last, the rest shared by the middle; two touches share in their weights' ratio)
   and time decay (2^(-days before the order / half_life_days), normalised).
   One row per touch channel and source: attributed orders (4 decimals) and net sales (whole
   fen) per model. Orders without a touch are not attributed. #}
{%- set rules = var('insight')['attribution'] %}
with events as (
    select one_id, event_id, event_source, campaign, scene, occurred_at
    from {{ ref('int_activity__events') }}
    where one_id is not null and (campaign is not null or scene is not null)
),

orders as (
    select order_key, one_id, ordered_at, net_amount_fen
    from {{ ref('fct_orders') }}
    where is_purchase and one_id is not null
),

order_touches as (
    select
        orders.order_key,
        orders.net_amount_fen,
        events.event_source as touch_channel,
        coalesce(events.campaign, events.scene) as touch_source,
        date_diff('second', events.occurred_at, orders.ordered_at) / 86400.0 as days_before,
        row_number() over (
            partition by orders.order_key order by events.occurred_at asc, events.event_id asc
        ) as touch_number,
        count(*) over (partition by orders.order_key) as touch_count
    from orders
    inner join events
        on events.one_id = orders.one_id
        and events.occurred_at <= orders.ordered_at
        and events.occurred_at
        > orders.ordered_at - interval '{{ rules["lookback_days"] }} days'
),

weighted as (
    select
        *,
        case when touch_number = 1 then 1.0 else 0.0 end as first_touch_weight,
        case when touch_number = touch_count then 1.0 else 0.0 end as last_touch_weight,
        1.0 / touch_count as linear_weight,
        case
            when touch_count = 1 then 1.0
            when touch_count = 2 and touch_number = 1
                then {{ rules['first_weight'] }}
                / ({{ rules['first_weight'] }} + {{ rules['last_weight'] }})
            when touch_count = 2
                then {{ rules['last_weight'] }}
                / ({{ rules['first_weight'] }} + {{ rules['last_weight'] }})
            when touch_number = 1 then {{ rules['first_weight'] }}
            when touch_number = touch_count then {{ rules['last_weight'] }}
            else (1 - {{ rules['first_weight'] }} - {{ rules['last_weight'] }})
                / (touch_count - 2)
        end as position_weight,
        pow(2, -days_before / {{ rules['half_life_days'] }})
        / sum(pow(2, -days_before / {{ rules['half_life_days'] }}))
            over (partition by order_key) as time_decay_weight
    from order_touches
),

final as (
    select
        touch_channel,
        touch_source,
        count(distinct order_key) as touched_orders,
        round(sum(first_touch_weight), 4) as first_touch_orders,
        round(sum(last_touch_weight), 4) as last_touch_orders,
        round(sum(linear_weight), 4) as linear_orders,
        round(sum(position_weight), 4) as position_based_orders,
        round(sum(time_decay_weight), 4) as time_decay_orders,
        cast(round(sum(first_touch_weight * net_amount_fen)) as bigint) as first_touch_sales_fen,
        cast(round(sum(last_touch_weight * net_amount_fen)) as bigint) as last_touch_sales_fen,
        cast(round(sum(linear_weight * net_amount_fen)) as bigint) as linear_sales_fen,
        cast(round(sum(position_weight * net_amount_fen)) as bigint) as position_based_sales_fen,
        cast(round(sum(time_decay_weight * net_amount_fen)) as bigint) as time_decay_sales_fen
    from weighted
    group by touch_channel, touch_source
)

select * from final
