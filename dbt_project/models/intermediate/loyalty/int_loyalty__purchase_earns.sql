{# Purchase points of every order that earns them: 1 RMB paid = points_per_yuan points x the
   multiplier of the tier the member held when the order was placed (the tier at the close of
   the day before the order: a purchase that lifts a member earns at the old rate, the next
   day's at the new one), rounded down. #}
{% set rules = var('loyalty') %}
with orders as (
    select * from {{ ref('int_loyalty__orders') }}
),

tier_history as (
    select * from {{ ref('int_loyalty__tier_history') }}
),

tiered as (
    select
        orders.*,
        tier_history.tier_rank
    from orders
    asof left join tier_history
        on tier_history.one_id = orders.one_id
       and tier_history.evaluated_on < orders.order_date
),

final as (
    select
        'earn:purchase:' || order_key as movement_id,
        one_id,
        order_key,
        ordered_at as earned_at,
        order_date as earned_date,
        paid_amount_fen,
        {{ loyalty_tier_value(rules['tiers'], 'name', 'coalesce(tier_rank, 0)') }} as tier,
        cast(
            {{ loyalty_tier_value(rules['tiers'], 'multiplier_milli', 'coalesce(tier_rank, 0)') }}
            as integer
        ) as multiplier_milli,
        cast({{ loyalty_purchase_points(rules, 'paid_amount_fen',
                 loyalty_tier_value(rules['tiers'], 'multiplier_milli', 'coalesce(tier_rank, 0)')) }} as bigint)
            as points
    from tiered
)

select * from final
