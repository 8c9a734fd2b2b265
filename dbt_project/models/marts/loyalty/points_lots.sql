{# Every lot of earned points as of the as-of day: what was earned, what burns, clawbacks and
   expiry took from it (nearest to expiry first, see points_allocations) and what is left. #}
with lots as (
    select * from {{ ref('int_loyalty__lots') }}
),

allocations as (
    select * from {{ ref('points_allocations') }}
    where lot_movement_id is not null
),

consumed as (
    select
        lot_movement_id,
        sum(case when movement_type = 'burn' then points else 0 end) as burned_points,
        sum(case when movement_type = 'clawback' then points else 0 end) as clawed_back_points,
        sum(case when movement_type = 'expire' then points else 0 end) as expired_points
    from allocations
    group by lot_movement_id
),

final as (
    select
        lots.movement_id as lot_movement_id,
        lots.one_id,
        lots.earn_reason,
        lots.earned_at,
        lots.earned_date,
        lots.expires_on,
        lots.order_key,
        lots.tier,
        lots.multiplier_milli,
        lots.points as earned_points,
        cast(coalesce(consumed.burned_points, 0) as bigint) as burned_points,
        cast(coalesce(consumed.clawed_back_points, 0) as bigint) as clawed_back_points,
        cast(coalesce(consumed.expired_points, 0) as bigint) as expired_points,
        cast(lots.points - coalesce(consumed.burned_points, 0)
             - coalesce(consumed.clawed_back_points, 0)
             - coalesce(consumed.expired_points, 0) as bigint) as remaining_points,
        lots.expires_on < {{ as_of() }} as is_expired
    from lots
    left join consumed on consumed.lot_movement_id = lots.movement_id
)

select * from final
