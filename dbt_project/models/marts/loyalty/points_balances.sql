{# One row per member (one_id) as of the as-of day: the recomputed points balance, what expires
   soon, lifetime totals by kind, and the balance the loyalty system recorded for comparison.
   balance = lifetime_earned - lifetime_clawed_back - lifetime_burned - lifetime_expired. #}
with members as (
    select * from {{ ref('int_loyalty__members') }}
),

cards as (
    select * from {{ ref('int_loyalty__member_cards') }}
),

ledger as (
    select * from {{ ref('points_ledger') }}
),

lots as (
    select * from {{ ref('points_lots') }}
),

recorded_points as (
    select * from {{ ref('stg_silver__points') }}
    where event_date <= {{ as_of() }}
),

totals as (
    select
        one_id,
        sum(points) as balance,
        sum(case when movement_type = 'earn' then points else 0 end) as lifetime_earned,
        sum(case when movement_type = 'earn' and reason = 'purchase' then points else 0 end)
            as lifetime_purchase_earned,
        sum(case when movement_type = 'earn' and reason <> 'purchase' then points else 0 end)
            as lifetime_interaction_earned,
        -sum(case when movement_type = 'clawback' then points else 0 end) as lifetime_clawed_back,
        -sum(case when movement_type = 'burn' then points else 0 end) as lifetime_burned,
        -sum(case when movement_type = 'expire' then points else 0 end) as lifetime_expired,
        max(occurred_at) as last_movement_at
    from ledger
    group by one_id
),

expiring as (
    select
        one_id,
        sum(case when expires_on < {{ as_of() }} + 30 then remaining_points else 0 end)
            as points_expiring_next_30_days,
        min(expires_on) as next_expires_on,
        sum(remaining_points) as remaining_in_lots
    from lots
    where remaining_points > 0
      and expires_on >= {{ as_of() }}
    group by one_id
),

next_expiry as (
    select
        lots.one_id,
        sum(lots.remaining_points) as points_expiring_on_next_expiry
    from lots
    inner join expiring
        on expiring.one_id = lots.one_id
       and expiring.next_expires_on = lots.expires_on
    group by lots.one_id
),

recorded as (
    select
        cards.one_id,
        sum(recorded_points.points) as recorded_balance
    from recorded_points
    inner join cards on cards.member_card_no = recorded_points.member_card_no
    group by cards.one_id
),

final as (
    select
        members.one_id,
        members.member_card_no,
        {{ as_of() }} as as_of,
        cast(coalesce(totals.balance, 0) as bigint) as balance,
        cast(coalesce(expiring.points_expiring_next_30_days, 0) as bigint)
            as points_expiring_next_30_days,
        expiring.next_expires_on,
        cast(coalesce(next_expiry.points_expiring_on_next_expiry, 0) as bigint)
            as points_expiring_on_next_expiry,
        cast(coalesce(totals.lifetime_earned, 0) as bigint) as lifetime_earned,
        cast(coalesce(totals.lifetime_purchase_earned, 0) as bigint) as lifetime_purchase_earned,
        cast(coalesce(totals.lifetime_interaction_earned, 0) as bigint)
            as lifetime_interaction_earned,
        cast(coalesce(totals.lifetime_clawed_back, 0) as bigint) as lifetime_clawed_back,
        cast(coalesce(totals.lifetime_burned, 0) as bigint) as lifetime_burned,
        cast(coalesce(totals.lifetime_expired, 0) as bigint) as lifetime_expired,
        cast(coalesce(expiring.remaining_in_lots, 0) - coalesce(totals.balance, 0) as bigint)
            as uncovered_points,
        totals.last_movement_at,
        cast(coalesce(recorded.recorded_balance, 0) as bigint) as recorded_balance,
        cast(coalesce(totals.balance, 0) - coalesce(recorded.recorded_balance, 0) as bigint)
            as balance_minus_recorded
    from members
    left join totals on totals.one_id = members.one_id
    left join expiring on expiring.one_id = members.one_id
    left join next_expiry on next_expiry.one_id = members.one_id
    left join recorded on recorded.one_id = members.one_id
)

select * from final
