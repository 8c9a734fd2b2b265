{# Points clawed back on refunds and POS returns, one row per refund of an order that earned
   points. The points an order keeps are those its remaining amount (paid - refunded so far)
   would have earned at the same multiplier; each refund takes back the difference to what
   the order kept before it, so an order never loses more than it earned. #}
{% set rules = var('loyalty') %}
with refunds as (
    select * from {{ ref('int_loyalty__refunds') }}
),

earns as (
    select * from {{ ref('int_loyalty__purchase_earns') }}
),

cumulated as (
    select
        refunds.refund_key,
        refunds.order_key,
        refunds.one_id,
        refunds.refund_kind,
        refunds.refunded_at,
        refunds.refund_date,
        refunds.refund_fen,
        earns.movement_id as earn_movement_id,
        earns.tier,
        earns.multiplier_milli,
        earns.points as earned_points,
        earns.points - {{ loyalty_purchase_points(rules,
            'earns.paid_amount_fen - sum(refunds.refund_fen) over refunds_so_far',
            'earns.multiplier_milli') }} as clawed_back_so_far
    from refunds
    inner join earns on earns.order_key = refunds.order_key
    window refunds_so_far as (
        partition by refunds.order_key
        order by refunds.refunded_at, refunds.refund_key
        rows unbounded preceding
    )
),

final as (
    select
        'clawback:' || refund_key as movement_id,
        one_id,
        order_key,
        refund_key,
        refund_kind,
        refunded_at,
        refund_date,
        refund_fen,
        earn_movement_id,
        tier,
        multiplier_milli,
        cast(clawed_back_so_far - coalesce(lag(clawed_back_so_far) over (
            partition by order_key order by refunded_at, refund_key), 0) as bigint) as points
    from cumulated
)

select * from final
