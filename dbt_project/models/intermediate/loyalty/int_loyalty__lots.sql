{# Earned points as lots, one per earn (purchase or interaction) up to the as-of day, with the
   last day they can be used (config/loyalty.yml `expiry`). Burns, clawbacks and expiry
   consume lots nearest to expiry first (see points_allocations). #}
{% set rules = var('loyalty') %}
with purchase_earns as (
    select * from {{ ref('int_loyalty__purchase_earns') }}
),

interaction_earns as (
    select * from {{ ref('int_loyalty__interaction_earns') }}
),

earns as (
    select
        movement_id, one_id, 'purchase' as earn_reason, earned_at, earned_date, points,
        order_key, tier, multiplier_milli, cast(null as varchar) as source_event_id
    from purchase_earns
    union all
    select
        movement_id, one_id, earn_reason, earned_at, earned_date, points,
        cast(null as varchar), cast(null as varchar), cast(null as integer), source_event_id
    from interaction_earns
),

final as (
    select
        movement_id,
        one_id,
        earn_reason,
        earned_at,
        earned_date,
        points,
        {{ loyalty_expires_on(rules, 'earned_date') }} as expires_on,
        order_key,
        tier,
        multiplier_milli,
        source_event_id
    from earns
    where points > 0
)

select * from final
