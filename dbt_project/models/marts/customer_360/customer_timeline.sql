{# One row per thing a person did, across channels, up to the as-of day: orders and POS
   returns, refunds of orders, behavioural events, coupon events, loyalty events and
   official-account follows. Only records mapped to a one_id; no identifiers, phones or names
   (descriptions are built from ids of records, stores, campaigns and pages only). #}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='timeline_key',
    pre_hook="{{ delete_touched_people() }}",
    stamped_rows=true
) }}

-- depends_on: {{ ref('int_identity__touched') }}
with orders as (
    select * from {{ ref('fct_orders') }}
    where one_id is not null
    {% if is_incremental() -%}
    and {{ written_by_this_build() }}
    {%- endif %}
),

order_versions as (
    select channel, order_id, updated_at from {{ ref('int_orders__people') }}
),

events as (
    select * from {{ ref('int_activity__events') }}
    where one_id is not null
    {% if is_incremental() -%}
    and {{ written_by_this_build() }}
    {%- endif %}
),

coupon_events as (
    select * from {{ ref('int_activity__coupon_events') }}
    where one_id is not null
    {% if is_incremental() -%}
    and {{ written_by_this_build() }}
    {%- endif %}
),

points as (
    select * from {{ ref('int_activity__points') }}
    where one_id is not null
    {% if is_incremental() -%}
    and {{ written_by_this_build() }}
    {%- endif %}
),

follows as (
    select * from {{ ref('int_activity__follows') }}
    where one_id is not null
    {% if is_incremental() -%}
    and {{ written_by_this_build() }}
    {%- endif %}
),

order_rows as (
    select
        'order:' || order_key as timeline_key,
        one_id,
        ordered_at as occurred_at,
        order_date as event_date,
        channel,
        'order' as record_type,
        case when is_return then 'return' else 'order' end as event_type,
        channel || ' ' || order_type || ' ' || order_id
            || coalesce(' at ' || store_code, '')
            || coalesce(' (' || business_format || ')', '')
            || ', ' || coalesce(abs(unit_count), 0) || ' item(s), ' || status as description,
        paid_amount_fen as amount_fen,
        cast(null as bigint) as points
    from orders
),

-- A refund arrives as a later version of the order: its time is the version's.
refund_rows as (
    select
        'refund:' || orders.order_key as timeline_key,
        orders.one_id,
        order_versions.updated_at as occurred_at,
        {{ china_date('order_versions.updated_at') }} as event_date,
        orders.channel,
        'refund' as record_type,
        'refund' as event_type,
        'refund of ' || orders.channel || ' order ' || orders.order_id as description,
        -orders.refund_amount_fen as amount_fen,
        cast(null as bigint) as points
    from orders
    inner join order_versions
        on order_versions.channel = orders.channel and order_versions.order_id = orders.order_id
    where orders.has_refund
      and {{ china_date('order_versions.updated_at') }} <= {{ as_of() }}
),

event_rows as (
    select
        'event:' || event_id as timeline_key,
        one_id,
        occurred_at,
        event_date,
        event_source as channel,
        'event' as record_type,
        event_type,
        event_type
            || coalesce(' ' || page_url, '')
            || coalesce(' scene ' || scene, '')
            || coalesce(' campaign ' || campaign, '')
            || coalesce(' at ' || mall_code, '') as description,
        amount_fen,
        cast(null as bigint) as points
    from events
),

coupon_rows as (
    select
        'coupon:' || event_id as timeline_key,
        one_id,
        occurred_at,
        event_date,
        'coupons' as channel,
        'coupon' as record_type,
        event_type,
        event_type || ' coupon ' || coupon_id || ' of ' || campaign_id
            || coalesce(' at ' || store_code, '') as description,
        face_value_fen as amount_fen,
        cast(null as bigint) as points
    from coupon_events
),

points_rows as (
    select
        'points:' || event_id as timeline_key,
        one_id,
        occurred_at,
        event_date,
        'loyalty' as channel,
        'points' as record_type,
        event_type,
        case
            when event_type = 'tier_change'
                then 'tier ' || coalesce(tier_from, 'none') || ' -> ' || coalesce(tier_to, 'none')
            else event_type || ' ' || coalesce(points, 0) || ' points'
        end || coalesce(' (' || reason || ')', '') as description,
        cast(null as bigint) as amount_fen,
        points
    from points
),

follow_rows as (
    select
        -- the follower key holds the openid: hashed, so the timeline carries no identifier
        'follow:' || md5(follower_key) as timeline_key,
        one_id,
        occurred_at,
        event_date,
        'wechat' as channel,
        'follow' as record_type,
        event_type,
        event_type || ' official account ' || app_id
            || coalesce(' via ' || coalesce(qr_scene, subscribe_scene), '') as description,
        cast(null as bigint) as amount_fen,
        cast(null as bigint) as points
    from follows
),

rows as (
    select * from order_rows
    union all
    select * from refund_rows
    union all
    select * from event_rows
    union all
    select * from coupon_rows
    union all
    select * from points_rows
    union all
    select * from follow_rows
),

final as (
    select
        *,
        {{ marts_build_id() }} as marts_build_id
    from rows
)

select * from final
