{# Each person's lifecycle stage on the as-of day, from the thresholds in config/lifecycle.yml
   (var 'lifecycle'). Purchases decide first, then membership, then following; the stages
   are described in customer_lifecycle.yml. #}
{% set rules = var('lifecycle') %}
with signals as (
    select * from {{ ref('int_customers__lifecycle_signals') }}
),

staged as (
    select
        *,
        case
            when order_count > 0
                and days_since_last_purchase >= {{ rules['churned_after_days'] }} then 'churned'
            when order_count > 0
                and days_since_last_purchase >= {{ rules['at_risk_after_days'] }} then 'at_risk'
            when order_count > 0
                and days_since_last_purchase >= {{ rules['dormant_after_days'] }} then 'dormant'
            when order_count = 1
                and days_since_last_purchase < {{ rules['first_purchase_days'] }}
                then 'first_purchase'
            when order_count > 0 then 'active'
            when is_member and days_since_joined < {{ rules['new_member_days'] }} then 'member'
            when is_member then 'member_never_bought'
            when is_follower then 'follower'
            else 'visitor'
        end as lifecycle_stage
    from signals
),

final as (
    select
        as_of,
        one_id,
        lifecycle_stage,
        is_member,
        member_joined_date,
        is_follower,
        order_count,
        last_purchase_date,
        days_since_last_purchase
    from staged
)

select * from final
