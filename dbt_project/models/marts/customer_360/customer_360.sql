{# One wide row per person known on the as-of day: golden record (with personal data),
   lifecycle stage, headline metrics, RFM segment, loyalty tier and points, tags, channels,
   first touch and timeline activity. For CRM use only: analysts use customer_360_masked. #}
with people as (
    select * from {{ ref('stg_silver__golden_records') }}
    where {{ china_date('first_seen_at') }} <= {{ as_of() }}
),

lifecycle as (
    select * from {{ ref('customer_lifecycle') }}
),

metrics as (
    select * from {{ ref('customer_metrics') }}
),

rfm as (
    select * from {{ ref('customer_rfm') }}
),

tiers as (
    select * from {{ ref('member_tiers') }}
),

points as (
    select * from {{ ref('points_balances') }}
),

tags as (
    select
        one_id,
        list(tag order by tag) as tags,
        count(*) as tag_count
    from {{ ref('customer_tags') }}
    group by one_id
),

first_touches as (
    select * from {{ ref('first_touch_attribution') }}
),

activity as (
    select
        one_id,
        list(distinct channel order by channel) as active_channels,
        count(*) as timeline_events,
        max(occurred_at) as last_activity_at
    from {{ ref('customer_timeline') }}
    group by one_id
),

final as (
    select
        people.one_id,
        {{ as_of() }} as as_of,
        -- golden record (personal)
        people.name,
        people.best_phone as phone,
        people.birthday,
        case when people.birthday is not null then
            year({{ as_of() }}) - year(people.birthday)
            - case when strftime({{ as_of() }}, '%m%d') < strftime(people.birthday, '%m%d')
                   then 1 else 0 end
        end as age,
        people.gender,
        people.city,
        people.member_card_no,
        people.first_seen_channel,
        people.first_seen_at,
        people.channels,
        people.identifier_count,
        -- lifecycle
        lifecycle.lifecycle_stage,
        coalesce(lifecycle.is_member, false) as is_member,
        lifecycle.member_joined_date,
        coalesce(lifecycle.is_follower, false) as is_follower,
        -- purchase metrics (all of them are in customer_metrics)
        metrics.first_purchase_date,
        metrics.last_purchase_date,
        metrics.days_since_last_purchase,
        coalesce(metrics.order_count, 0) as order_count,
        coalesce(metrics.spend_fen, 0) as spend_fen,
        metrics.average_order_value_fen,
        metrics.units_per_transaction,
        metrics.attach_rate,
        coalesce(metrics.refund_amount_fen, 0) as refund_amount_fen,
        coalesce(metrics.order_count_30d, 0) as order_count_30d,
        coalesce(metrics.spend_fen_30d, 0) as spend_fen_30d,
        coalesce(metrics.order_count_365d, 0) as order_count_365d,
        coalesce(metrics.spend_fen_365d, 0) as spend_fen_365d,
        metrics.favourite_category,
        metrics.favourite_business_format,
        metrics.favourite_store_code,
        metrics.favourite_city,
        coalesce(metrics.is_cross_category, false) as is_cross_category,
        -- RFM
        rfm.segment as rfm_segment,
        rfm.rfm_cell,
        rfm.r_score,
        rfm.f_score,
        rfm.m_score,
        -- loyalty
        tiers.tier,
        tiers.tier_since,
        points.balance as points_balance,
        points.points_expiring_next_30_days,
        points.next_expires_on as points_next_expire_on,
        -- tags
        coalesce(tags.tags, []) as tags,
        coalesce(tags.tag_count, 0) as tag_count,
        -- channels and activity
        coalesce(activity.active_channels, []) as active_channels,
        first_touches.first_touch_channel,
        first_touches.first_touch_source,
        first_touches.first_touch_at,
        coalesce(activity.timeline_events, 0) as timeline_events,
        activity.last_activity_at
    from people
    left join lifecycle on lifecycle.one_id = people.one_id
    left join metrics on metrics.one_id = people.one_id
    left join rfm on rfm.one_id = people.one_id
    left join tiers on tiers.one_id = people.one_id
    left join points on points.one_id = people.one_id
    left join tags on tags.one_id = people.one_id
    left join first_touches on first_touches.one_id = people.one_id
    left join activity on activity.one_id = people.one_id
)

select * from final
