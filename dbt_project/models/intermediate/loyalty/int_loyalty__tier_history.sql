{# Every member's tier, evaluated at the close of each day that can change it, up to the
   as-of day (config/loyalty.yml `tiers`). A member starts in the base tier on joining (the
   `join` row, dated the day before joining: the state the joining day starts in). At the close
   of a day:
   - upgrade: the qualifying value reaches the upgrade_at of a higher tier -> the highest such
     tier, reviewed validity_months later;
   - on the review day of a tier above the base: retention if the qualifying value is at least
     the tier's retain_at (reviewed again validity_months later), otherwise a downgrade (one
     level, or to the highest lower tier whose retain_at is met, per `downgrade`).
   Only days where the qualifying value changes or a review falls are evaluated: the recursion
   walks from one such day to the next. #}
{% set tiers = var('loyalty')['tiers'] %}
{% set months = tiers['validity_months'] %}
with recursive members as (
    select * from {{ ref('int_loyalty__members') }}
),

qualifying_days as (
    select * from {{ ref('int_loyalty__qualifying_days') }}
),

as_of as (
    select as_of from {{ ref('int_as_of') }}
),

first_changes as (
    select one_id, min(changed_on) as first_change_on
    from qualifying_days
    group by one_id
),

states as (
    select
        members.one_id,
        cast(members.joined_date - 1 as date) as evaluated_on,
        0 as tier_rank,
        cast(null as integer) as previous_tier_rank,
        'join' as change_reason,
        members.joined_date as tier_since,
        cast(null as date) as review_on,
        cast(0 as bigint) as rolling_spend_fen,
        cast(0 as bigint) as rolling_interaction_points,
        first_changes.first_change_on as next_change_on
    from members
    left join first_changes on first_changes.one_id = members.one_id

    union all

    select
        one_id,
        evaluated_on,
        case
            when is_upgrade then reached_rank
            when is_review and is_retained then previous_tier_rank
            when is_review then downgraded_rank
            else previous_tier_rank
        end as tier_rank,
        previous_tier_rank,
        case
            when is_upgrade then 'upgrade'
            when is_review and is_retained then 'retention'
            when is_review then 'downgrade'
        end as change_reason,
        case
            when is_upgrade or (is_review and not is_retained) then evaluated_on
            else previous_tier_since
        end as tier_since,
        case
            when is_upgrade then {{ loyalty_add_months('evaluated_on', months) }}
            when is_review and is_retained
                then {{ loyalty_add_months('previous_review_on', months) }}
            when is_review and downgraded_rank > 0
                then {{ loyalty_add_months('evaluated_on', months) }}
            when is_review then cast(null as date)
            else previous_review_on
        end as review_on,
        rolling_spend_fen,
        rolling_interaction_points,
        next_change_on
    from (
        select
            evaluated.*,
            evaluated.reached_rank > evaluated.previous_tier_rank as is_upgrade,
            evaluated.previous_review_on = evaluated.evaluated_on as is_review,
            evaluated.qualifying_value
                >= {{ loyalty_tier_value(tiers, 'retain_at', 'evaluated.previous_tier_rank') }}
                as is_retained,
            {% if tiers['downgrade'] == 'one_level' -%}
            evaluated.previous_tier_rank - 1
            {%- else -%}
            least(evaluated.previous_tier_rank - 1,
                  {{ loyalty_tier_reached(tiers, 'retain_at', 'evaluated.qualifying_value') }})
            {%- endif %} as downgraded_rank
        from (
            select
                stepped.*,
                {{ loyalty_tier_reached(tiers, 'upgrade_at', 'stepped.qualifying_value') }}
                    as reached_rank
            from (
                select
                    states.one_id,
                    least(states.next_change_on, states.review_on) as evaluated_on,
                    states.tier_rank as previous_tier_rank,
                    states.tier_since as previous_tier_since,
                    states.review_on as previous_review_on,
                    coalesce(qualifying_days.rolling_spend_fen, states.rolling_spend_fen)
                        as rolling_spend_fen,
                    coalesce(qualifying_days.rolling_interaction_points,
                             states.rolling_interaction_points) as rolling_interaction_points,
                    {{ loyalty_qualifying_value(tiers,
                           'coalesce(qualifying_days.rolling_spend_fen, states.rolling_spend_fen)',
                           'coalesce(qualifying_days.rolling_interaction_points, states.rolling_interaction_points)') }}
                        as qualifying_value,
                    case
                        when qualifying_days.one_id is not null then qualifying_days.next_change_on
                        else states.next_change_on
                    end as next_change_on
                from states
                left join qualifying_days
                    on qualifying_days.one_id = states.one_id
                   and qualifying_days.changed_on = least(states.next_change_on, states.review_on)
                where least(states.next_change_on, states.review_on)
                    <= (select as_of.as_of from as_of)
            ) as stepped
        ) as evaluated
    ) as decided
),

final as (
    select
        one_id,
        evaluated_on,
        tier_rank,
        {{ loyalty_tier_value(tiers, 'name', 'tier_rank') }} as tier,
        previous_tier_rank,
        {{ loyalty_tier_value(tiers, 'name', 'previous_tier_rank') }} as previous_tier,
        change_reason,
        tier_since,
        review_on,
        rolling_spend_fen,
        rolling_interaction_points,
        {{ loyalty_growth_value('rolling_spend_fen', 'rolling_interaction_points') }}
            as growth_value,
        {{ loyalty_qualifying_value(tiers, 'rolling_spend_fen', 'rolling_interaction_points') }}
            as qualifying_value
    from states
)

select * from final
