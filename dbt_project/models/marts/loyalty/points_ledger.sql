{# The points ledger recomputed from history as of the as-of day: one row per points movement
   per member (one_id). Earns (purchase, at the tier multiplier of the day; interactions) are
   positive and carry the day they expire; clawbacks, burns and expiries are negative. Burns
   and clawbacks take the lots nearest to expiry first, and each lot's unused points expire
   at the start of the day after its expires_on (one expire row per lot); which lots a
   movement took is in points_allocations. #}
with lots as (
    select * from {{ ref('int_loyalty__lots') }}
),

debits as (
    select * from {{ ref('int_loyalty__debits') }}
),

expiries as (
    select * from {{ ref('points_allocations') }}
    where movement_type = 'expire'
),

members as (
    select * from {{ ref('int_loyalty__members') }}
),

movements as (
    select
        movement_id,
        one_id,
        'earn' as movement_type,
        earn_reason as reason,
        points,
        earned_at as occurred_at,
        earned_date as movement_date,
        expires_on,
        order_key,
        tier,
        multiplier_milli,
        cast(null as varchar) as lot_movement_id,
        source_event_id
    from lots
    union all
    select
        movement_id,
        one_id,
        movement_type,
        reason,
        -points,
        occurred_at,
        movement_date,
        cast(null as date),
        order_key,
        cast(null as varchar),
        cast(null as integer),
        cast(null as varchar),
        source_event_id
    from debits
    union all
    select
        movement_id,
        one_id,
        'expire',
        'points_expiry',
        -points,
        occurred_at,
        movement_date,
        lot_expires_on,
        cast(null as varchar),
        cast(null as varchar),
        cast(null as integer),
        lot_movement_id,
        cast(null as varchar)
    from expiries
),

final as (
    select
        movements.movement_id,
        movements.one_id,
        members.member_card_no,
        movements.movement_type,
        movements.reason,
        cast(movements.points as bigint) as points,
        movements.occurred_at,
        movements.movement_date,
        movements.expires_on,
        movements.order_key,
        movements.tier,
        cast(movements.multiplier_milli / 1000 as decimal(9, 3)) as multiplier,
        movements.lot_movement_id,
        movements.source_event_id,
        cast(sum(movements.points) over (
            partition by movements.one_id
            order by movements.occurred_at asc, movements.movement_type = 'earn' desc,
                     movements.movement_id asc
            rows unbounded preceding
        ) as bigint) as balance_after
    from movements
    inner join members on members.one_id = movements.one_id
)

select * from final
