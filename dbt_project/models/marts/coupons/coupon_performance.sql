{# One row per coupon up to the as-of day: its campaign and holder (one_id), when it was
   issued, claimed, redeemed or expired, its status, and the order it was redeemed on.

   Holder: the member card the coupon system names, else the openid it was issued to (the
   claim's openid is not used: store clerks sometimes claim with their own WeChat).
   Redeeming order: a redeem event carries the ticket number (order_ref) and the store; POS
   order ids are `<store_code>-<ticket>`, so the ticket is looked up in fct_orders as
   pos:<store_code>-<order_ref>, then as an order id of any channel equal to order_ref (the
   first that exists wins). Tickets of stores whose POS files are not delivered stay unmatched
   (redeemed_order_key null). #}
{% set holder_ids = [("member_card", "coupons.member_card_no"),
                     ("openid", "coupons.issued_app_id || '/' || coupons.issued_openid")] %}
with coupon_events as (
    select * from {{ ref('stg_silver__coupon_events') }}
    where event_date <= {{ as_of() }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

coupons as (
    select
        coupon_id,
        arg_min(campaign_id, occurred_at) as campaign_id,
        min(case when event_type = 'issue' then occurred_at end) as issued_at,
        min(case when event_type = 'claim' then occurred_at end) as claimed_at,
        min(case when event_type = 'redeem' then occurred_at end) as redeemed_at,
        min(case when event_type = 'expire' then occurred_at end) as expired_at,
        arg_min(member_card_no, occurred_at) filter (where member_card_no is not null)
            as member_card_no,
        arg_min(app_id, occurred_at) filter (where event_type = 'issue') as issued_app_id,
        arg_min(openid, occurred_at) filter (where event_type = 'issue') as issued_openid,
        arg_min(app_id, occurred_at) filter (where event_type = 'claim') as claimed_app_id,
        arg_min(openid, occurred_at) filter (where event_type = 'claim') as claimed_openid,
        arg_min(face_value_fen, occurred_at) filter (where face_value_fen is not null)
            as face_value_fen,
        arg_min(threshold_fen, occurred_at) filter (where threshold_fen is not null)
            as threshold_fen,
        arg_min(order_ref, occurred_at) filter (where event_type = 'redeem') as redeemed_order_ref,
        arg_min(store_code, occurred_at) filter (where event_type = 'redeem')
            as redeemed_store_code,
        arg_min(city, occurred_at) filter (where city is not null) as city
    from coupon_events
    group by coupon_id
),

redeemed as (
    select coupon_id, redeemed_order_ref, redeemed_store_code
    from coupons
    where redeemed_order_ref is not null
),

order_candidates as (
    select redeemed.coupon_id, 1 as match_priority, orders.order_key, orders.net_amount_fen
    from redeemed
    inner join orders
        on orders.channel = 'pos'
       and orders.order_id = redeemed.redeemed_store_code || '-' || redeemed.redeemed_order_ref
    union all
    select redeemed.coupon_id, 2, orders.order_key, orders.net_amount_fen
    from redeemed
    inner join orders on orders.order_id = redeemed.redeemed_order_ref
),

order_matches as (
    select *
    from order_candidates
    qualify row_number() over (
        partition by coupon_id order by match_priority, order_key) = 1
),

holders as (
    select
        coupons.*,
        {{ one_id_column(holder_ids) }} as holder_one_id
    from coupons
    {{ one_id_joins('coupons', holder_ids) }}
),

final as (
    select
        holders.coupon_id,
        holders.campaign_id,
        holders.holder_one_id,
        holders.member_card_no,
        holders.city,
        holders.face_value_fen,
        holders.threshold_fen,
        holders.issued_at,
        holders.claimed_at,
        holders.redeemed_at,
        holders.expired_at,
        case
            when holders.redeemed_at is not null then 'redeemed'
            when holders.expired_at is not null then 'expired'
            when holders.claimed_at is not null then 'claimed'
            else 'issued'
        end as status,
        (
            holders.claimed_at is not null
            and holders.claimed_openid is distinct from holders.issued_openid
        ) as is_claimed_by_other_wechat,
        round(date_diff('second', holders.issued_at, holders.claimed_at) / 3600, 2)
            as hours_to_claim,
        round(date_diff('second', holders.issued_at, holders.redeemed_at) / 3600, 2)
            as hours_to_redeem,
        holders.redeemed_order_ref,
        holders.redeemed_store_code,
        order_matches.order_key as redeemed_order_key,
        order_matches.net_amount_fen as redeemed_order_net_amount_fen
    from holders
    left join order_matches on order_matches.coupon_id = holders.coupon_id
)

select * from final
