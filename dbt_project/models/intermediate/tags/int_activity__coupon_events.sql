{# Coupon events up to the as-of day with the holder's one_id: the member card, else the
   openid the event carries, else (redeem and expire carry neither for non-members) the
   holder found on the coupon's other events, the issue first. #}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_id',
    pre_hook="{{ delete_touched_people() }}",
    stamped_rows=true
) }}
-- depends_on: {{ ref('int_identity__touched') }}, {{ ref('int_marts__new_batches') }}

{% set holder_ids = [("member_card", "coupon_events.member_card_no"),
                     ("openid", "coupon_events.app_id || '/' || coupon_events.openid")] %}
{% set changed_ids = [("member_card", "changed.member_card_no"),
                      ("openid", "changed.app_id || '/' || changed.openid")] %}
-- A coupon's holder comes from all its events: a changed event recomputes its coupon's.
with coupon_events as (
    select coupon_events.* from {{ ref('stg_silver__coupon_events') }} as coupon_events
    where coupon_events.event_date <= {{ as_of() }}
    {% if is_incremental() -%}
    and coupon_events.coupon_id in (
        select changed.coupon_id
        from {{ ref('stg_silver__coupon_events') }} as changed
        where {{ changed_since_last_build('changed', ['changed.event_date'], changed_ids) }}
    )
    {%- endif %}
),

own_ids as (
    select
        coupon_events.*,
        {{ one_id_column(holder_ids) }} as own_one_id
    from coupon_events
    {{ one_id_joins('coupon_events', holder_ids) }}
),

coupon_holders as (
    select
        coupon_id,
        arg_min(own_one_id, case event_type when 'issue' then 0 else 1 end)
            filter (where own_one_id is not null) as holder_one_id
    from own_ids
    group by coupon_id
),

final as (
    select
        own_ids.event_id,
        coalesce(own_ids.own_one_id, coupon_holders.holder_one_id) as one_id,
        own_ids.coupon_id,
        own_ids.campaign_id,
        own_ids.event_type,
        own_ids.occurred_at,
        own_ids.event_date,
        own_ids.face_value_fen,
        own_ids.threshold_fen,
        own_ids.order_ref,
        own_ids.store_code,
        own_ids.city,
        {{ marts_build_id() }} as marts_build_id
    from own_ids
    left join coupon_holders on coupon_holders.coupon_id = own_ids.coupon_id
)

select * from final
