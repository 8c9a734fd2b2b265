{# One row per member (one_id): the tier held at the close of the as-of day (config/loyalty.yml
   `tiers`), since when, when it is reviewed, the qualifying values it rests on, what is
   missing to reach the next tier and to keep this one, and the tier the loyalty system
   recorded last (silver points tier_change), for comparison. #}
{% set tiers = var('loyalty')['tiers'] %}
with members as (
    select * from {{ ref('int_loyalty__members') }}
),

cards as (
    select * from {{ ref('int_loyalty__member_cards') }}
),

tier_history as (
    select * from {{ ref('int_loyalty__tier_history') }}
),

qualifying_days as (
    select * from {{ ref('int_loyalty__qualifying_days') }}
),

recorded_changes as (
    select * from {{ ref('stg_silver__points') }}
    where event_type = 'tier_change'
      and event_date <= {{ as_of() }}
),

current_states as (
    select *
    from tier_history
    qualify row_number() over (partition by one_id order by evaluated_on desc) = 1
),

-- the qualifying values at the close of the as-of day (the tier rests on the same values)
current_values as (
    select *
    from qualifying_days
    qualify row_number() over (partition by one_id order by changed_on desc) = 1
),

last_changes as (
    select one_id, change_reason as last_change_reason
    from tier_history
    where change_reason is not null
    qualify row_number() over (partition by one_id order by evaluated_on desc) = 1
),

recorded as (
    select
        cards.one_id,
        arg_max(recorded_changes.tier_to, recorded_changes.occurred_at) as recorded_tier
    from recorded_changes
    inner join cards on cards.member_card_no = recorded_changes.member_card_no
    group by cards.one_id
),

joined as (
    select
        members.one_id,
        members.member_card_no,
        current_states.tier_rank,
        current_states.tier,
        current_states.tier_since,
        current_states.review_on,
        last_changes.last_change_reason,
        coalesce(current_values.rolling_spend_fen, 0) as rolling_spend_fen,
        coalesce(current_values.growth_value, 0) as growth_value,
        coalesce(current_values.qualifying_value, 0) as qualifying_value,
        recorded.recorded_tier
    from members
    inner join current_states on current_states.one_id = members.one_id
    left join current_values on current_values.one_id = members.one_id
    left join last_changes on last_changes.one_id = members.one_id
    left join recorded on recorded.one_id = members.one_id
),

final as (
    select
        one_id,
        member_card_no,
        {{ as_of() }} as as_of,
        tier,
        tier_rank,
        cast({{ loyalty_tier_value(tiers, 'multiplier_milli', 'tier_rank') }} / 1000
             as decimal(9, 3)) as multiplier,
        tier_since,
        review_on,
        last_change_reason,
        '{{ tiers["basis"] }}' as qualifying_basis,
        rolling_spend_fen,
        growth_value,
        qualifying_value,
        cast({{ loyalty_tier_value(tiers, 'retain_at', 'tier_rank') }} as decimal(18, 2))
            as retain_at,
        cast(greatest({{ loyalty_tier_value(tiers, 'retain_at', 'tier_rank') }}
                      - qualifying_value, 0) as decimal(18, 2)) as retain_gap,
        case when tier_rank < {{ loyalty_top_rank(tiers) }}
            then {{ loyalty_tier_value(tiers, 'name', 'tier_rank + 1') }}
        end as next_tier,
        case when tier_rank < {{ loyalty_top_rank(tiers) }}
            then cast({{ loyalty_tier_value(tiers, 'upgrade_at', 'tier_rank + 1') }}
                      as decimal(18, 2))
        end as next_tier_upgrade_at,
        case when tier_rank < {{ loyalty_top_rank(tiers) }}
            then cast(greatest({{ loyalty_tier_value(tiers, 'upgrade_at', 'tier_rank + 1') }}
                               - qualifying_value, 0) as decimal(18, 2))
        end as next_tier_gap,
        recorded_tier
    from joined
)

select * from final
