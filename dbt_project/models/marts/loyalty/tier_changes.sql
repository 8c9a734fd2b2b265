{# Tier history: one row per member (one_id) and change up to the as-of day. join: the base
   tier on joining; upgrade: the qualifying value reached a higher tier; retention: the
   review found the tier's retain_at met (the tier is kept for another period); downgrade:
   the review found it missed. Changes decided at the close of changed_on; purchases earn at
   the new multiplier from the next day. #}
with tier_history as (
    select * from {{ ref('int_loyalty__tier_history') }}
),

final as (
    select
        one_id || ':' || strftime(
            case when change_reason = 'join' then tier_since else evaluated_on end, '%Y-%m-%d')
            || ':' || change_reason as tier_change_key,
        one_id,
        case when change_reason = 'join' then tier_since else evaluated_on end as changed_on,
        change_reason,
        previous_tier as tier_from,
        tier as tier_to,
        tier_rank - coalesce(previous_tier_rank, 0) as rank_change,
        rolling_spend_fen,
        growth_value,
        qualifying_value,
        review_on
    from tier_history
    where change_reason is not null
)

select * from final
