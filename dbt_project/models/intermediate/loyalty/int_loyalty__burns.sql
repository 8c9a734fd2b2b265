{# Redemptions the loyalty system recorded (silver points, event_type burn: gifts, coupons,
   cash) up to the as-of day, on the account of the card holder's one_id. The recomputed
   ledger takes burns from the loyalty system: they are decisions of the member, not rules. #}
with points as (
    select * from {{ ref('stg_silver__points') }}
    where event_type = 'burn'
      and event_date <= {{ as_of() }}
),

cards as (
    select * from {{ ref('int_loyalty__member_cards') }}
),

final as (
    select
        'burn:' || points.event_id as movement_id,
        cards.one_id,
        points.member_card_no,
        points.event_id as source_event_id,
        points.reason as burn_reason,
        points.occurred_at as burned_at,
        points.event_date as burned_date,
        cast(abs(points.points) as bigint) as points
    from points
    inner join cards on cards.member_card_no = points.member_card_no
    where points.points is not null and points.points <> 0
)

select * from final
