{# Which earned lots every burn, clawback and expiry consumed, up to the as-of day: one row per
   (movement, lot), plus one row without a lot for the part of a debit the balance did not cover.

   Lots are consumed nearest to expiry first (earlier earned first on the same day). Picture a
   member's lots laid end to end in that order on a line of points; a position on the line
   marks how much has been consumed. A debit moves the position forward by its points; when
   the lots of an expiry day expire (at the start of the next China day) the position jumps to
   the end of those lots, taking whatever of them is left. The lots a movement consumed are
   those under the stretch the position moved. As lots expiring earlier are earned earlier
   under one expiry rule, this is the same as consuming, at every moment, the available points
   nearest to expiry. The position after n events is
     debits so far + max(0, max over expiries so far of (end of the expired lots - debits then)),
   a running sum and a running maximum: no row-by-row loop. A debit beyond the points earned
   so far leaves the balance negative; later earns first settle it. #}
with lots as (
    select * from {{ ref('int_loyalty__lots') }}
),

debits as (
    select * from {{ ref('int_loyalty__debits') }}
),

lot_positions as (
    select
        lots.*,
        sum(lots.points) over (
            partition by lots.one_id order by lots.expires_on, lots.earned_at, lots.movement_id
            rows unbounded preceding
        ) as position_end
    from lots
),

expiry_days as (
    select
        one_id,
        expires_on,
        max(position_end) as expired_through
    from lot_positions
    where expires_on < {{ as_of() }}
    group by one_id, expires_on
),

timeline as (
    select
        one_id,
        'expire:' || one_id || ':' || strftime(expires_on, '%Y-%m-%d') as movement_id,
        'expire' as movement_type,
        {{ loyalty_china_day_start('expires_on + 1') }} as occurred_at,
        0 as sort_order,
        cast(0 as bigint) as points,
        expired_through,
        expires_on
    from expiry_days
    union all
    select
        one_id,
        movement_id,
        movement_type,
        occurred_at,
        1,
        points,
        cast(null as bigint),
        cast(null as date)
    from debits
),

running as (
    select
        timeline.*,
        sum(timeline.points) over events_so_far as debited_through,
        timeline.expired_through - sum(timeline.points) over events_so_far as catch_up
    from timeline
    window events_so_far as (
        partition by one_id order by occurred_at, sort_order, movement_id
        rows unbounded preceding
    )
),

positioned as (
    select
        running.*,
        running.debited_through + greatest(0, coalesce(max(running.catch_up) over events_so_far, 0))
            as position_after,
        running.debited_through - running.points
            + greatest(0, coalesce(max(running.catch_up) over events_before, 0)) as position_before
    from running
    window
        events_so_far as (
            partition by one_id order by occurred_at, sort_order, movement_id
            rows unbounded preceding
        ),
        events_before as (
            partition by one_id order by occurred_at, sort_order, movement_id
            rows between unbounded preceding and 1 preceding
        )
),

allocated as (
    select
        positioned.movement_type,
        case
            when positioned.movement_type = 'expire' then 'expire:' || lot_positions.movement_id
            else positioned.movement_id
        end as movement_id,
        positioned.one_id,
        positioned.occurred_at,
        lot_positions.movement_id as lot_movement_id,
        lot_positions.earned_at as lot_earned_at,
        lot_positions.expires_on as lot_expires_on,
        least(lot_positions.position_end, positioned.position_after)
            - greatest(lot_positions.position_end - lot_positions.points,
                       positioned.position_before) as points
    from positioned
    inner join lot_positions
        on lot_positions.one_id = positioned.one_id
       and lot_positions.position_end - lot_positions.points < positioned.position_after
       and lot_positions.position_end > positioned.position_before
),

uncovered as (
    select
        debits.movement_type,
        debits.movement_id,
        debits.one_id,
        debits.occurred_at,
        cast(null as varchar) as lot_movement_id,
        cast(null as timestamp with time zone) as lot_earned_at,
        cast(null as date) as lot_expires_on,
        debits.points - coalesce(sum(allocated.points), 0) as points
    from debits
    left join allocated on allocated.movement_id = debits.movement_id
    group by debits.movement_type, debits.movement_id, debits.one_id, debits.occurred_at,
             debits.points
    having debits.points - coalesce(sum(allocated.points), 0) > 0
),

final as (
    select
        movement_id || '>' || coalesce(lot_movement_id, 'uncovered') as allocation_key,
        movement_id,
        movement_type,
        one_id,
        occurred_at,
        {{ china_date('occurred_at') }} as movement_date,
        lot_movement_id,
        lot_earned_at,
        lot_expires_on,
        cast(points as bigint) as points
    from (
        select * from allocated
        union all
        select * from uncovered
    ) as allocations
    where points > 0
)

select * from final
