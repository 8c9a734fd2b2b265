{# Loyalty events as the loyalty system recorded them, up to the as-of day, with the member's
   one_id (through the member card). #}
{% set member_ids = [("member_card", "points.member_card_no")] %}
with points as (
    select * from {{ ref('stg_silver__points') }}
    where event_date <= {{ as_of() }}
),

final as (
    select
        points.event_id,
        {{ one_id_column(member_ids) }} as one_id,
        points.event_type,
        points.points,
        points.reason,
        points.tier_from,
        points.tier_to,
        points.order_ref,
        points.occurred_at,
        points.event_date
    from points
    {{ one_id_joins('points', member_ids) }}
)

select * from final
