{# Per person, the first touch up to the as-of day, from behavioural events (WeChat pushes
   with their QR scene, H5 / web pages with their campaign tag, in-mall QR posters and tickets)
   and official-account follows (subscribe_scene, qr_scene_str), with whether and when the
   person purchased at or after it. Ties in time go to the follow record, then the event id. #}
with events as (
    select * from {{ ref('int_activity__events') }}
    where one_id is not null
),

follows as (
    select * from {{ ref('int_activity__follows') }}
    where one_id is not null and is_subscribed
),

purchases as (
    select one_id, ordered_at, net_amount_fen
    from {{ ref('fct_orders') }}
    where one_id is not null and is_purchase
),

touches as (
    select
        one_id,
        occurred_at as touched_at,
        event_source as channel,
        event_type as touch_type,
        app_id,
        scene as qr_scene,
        cast(null as varchar) as subscribe_scene,
        campaign,
        1 as tie_break,
        event_id as touch_id
    from events
    union all
    select
        one_id,
        occurred_at,
        'wechat',
        'follow',
        app_id,
        qr_scene,
        subscribe_scene,
        cast(null as varchar),
        0,
        md5(follower_key)
    from follows
),

first_touches as (
    -- the earliest touch of each person by an arg_min aggregate, which keeps one row per
    -- person: a row_number window sorted all the touches (14M at 1,000,000 customers)
    select unnest(arg_min(touches, (touches.touched_at, touches.tie_break, touches.touch_id)))
    from touches
    group by touches.one_id
),

purchases_after as (
    select
        first_touches.one_id,
        min(purchases.ordered_at) as first_purchase_at,
        count(*) as purchases,
        sum(purchases.net_amount_fen) as net_spend_fen
    from first_touches
    inner join purchases
        on purchases.one_id = first_touches.one_id
       and purchases.ordered_at >= first_touches.touched_at
    group by first_touches.one_id
),

final as (
    select
        first_touches.one_id,
        first_touches.touched_at as first_touch_at,
        {{ china_date('first_touches.touched_at') }} as first_touch_date,
        first_touches.channel as first_touch_channel,
        first_touches.touch_type as first_touch_type,
        first_touches.app_id as first_touch_app_id,
        first_touches.qr_scene as first_touch_qr_scene,
        first_touches.subscribe_scene as first_touch_subscribe_scene,
        -- a campaign tag, or the campaign a QR scene names (campaign_x, mall_campaign_x)
        coalesce(first_touches.campaign,
                 nullif(regexp_extract(first_touches.qr_scene, '(campaign_\w+)$', 1), ''))
            as first_touch_campaign,
        -- where the person came from: the QR scene, the campaign tag, the WeChat subscribe
        -- scene, else the touch itself (web pages without a tag are direct visits)
        coalesce(first_touches.qr_scene, first_touches.campaign, first_touches.subscribe_scene,
                 case when first_touches.channel = 'web' then 'direct'
                      else first_touches.touch_type end) as first_touch_source,
        purchases_after.one_id is not null as has_purchased_after,
        purchases_after.first_purchase_at,
        date_diff('day', {{ china_date('first_touches.touched_at') }},
                  {{ china_date('purchases_after.first_purchase_at') }}) as days_to_first_purchase,
        coalesce(purchases_after.purchases, 0) as purchases_after,
        coalesce(purchases_after.net_spend_fen, 0) as net_spend_after_fen
    from first_touches
    left join purchases_after on purchases_after.one_id = first_touches.one_id
)

select * from final
