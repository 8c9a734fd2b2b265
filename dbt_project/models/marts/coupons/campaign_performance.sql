{# One row per coupon campaign up to the as-of day: coupons issued, claimed, redeemed and
   expired, claim and redemption rates, face value redeemed, and the sales of the orders the
   coupons were redeemed on (each order counted once per campaign, net of refunds; only
   redemptions whose ticket was found in fct_orders, see coupon_performance). #}
with coupons as (
    select * from {{ ref('coupon_performance') }}
),

redeeming_orders as (
    select distinct campaign_id, redeemed_order_key, redeemed_order_net_amount_fen
    from coupons
    where redeemed_order_key is not null
),

sales as (
    select
        campaign_id,
        count(*) as redeeming_orders,
        sum(redeemed_order_net_amount_fen) as sales_on_redeeming_orders_fen
    from redeeming_orders
    group by campaign_id
),

counts as (
    select
        campaign_id,
        count(*) as coupons,
        count(issued_at) as issued,
        count(claimed_at) as claimed,
        count(redeemed_at) as redeemed,
        count(expired_at) as expired,
        count(*) filter (where status in ('issued', 'claimed')) as open_coupons,
        count(*) filter (where is_claimed_by_other_wechat) as claimed_by_other_wechat,
        count(distinct holder_one_id) as holders,
        count(redeemed_order_key) as redemptions_matched_to_orders,
        coalesce(sum(face_value_fen) filter (where redeemed_at is not null), 0)
            as face_value_redeemed_fen,
        min(issued_at) as first_issued_at,
        greatest(max(issued_at), max(claimed_at), max(redeemed_at), max(expired_at))
            as last_event_at
    from coupons
    group by campaign_id
),

final as (
    select
        counts.campaign_id,
        {{ as_of() }} as as_of,
        counts.coupons,
        counts.issued,
        counts.claimed,
        counts.redeemed,
        counts.expired,
        counts.open_coupons,
        counts.claimed_by_other_wechat,
        counts.holders,
        cast(counts.claimed / nullif(counts.issued, 0) as decimal(9, 4)) as claim_rate,
        cast(counts.redeemed / nullif(counts.claimed, 0) as decimal(9, 4)) as redemption_rate,
        cast(counts.redeemed / nullif(counts.issued, 0) as decimal(9, 4))
            as issued_redemption_rate,
        counts.face_value_redeemed_fen,
        counts.redemptions_matched_to_orders,
        coalesce(sales.redeeming_orders, 0) as redeeming_orders,
        coalesce(sales.sales_on_redeeming_orders_fen, 0) as sales_on_redeeming_orders_fen,
        counts.first_issued_at,
        counts.last_event_at
    from counts
    left join sales on sales.campaign_id = counts.campaign_id
)

select * from final
