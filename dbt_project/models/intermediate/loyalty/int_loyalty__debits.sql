{# Points taken from a member's balance by a decision or a refund, up to the as-of day: burns
   (redemptions recorded by the loyalty system) and clawbacks (refunds and returns). Expiry is
   not here: it depends on what these leave of each lot (see points_allocations). #}
with burns as (
    select * from {{ ref('int_loyalty__burns') }}
),

clawbacks as (
    select * from {{ ref('int_loyalty__clawbacks') }}
),

final as (
    select
        movement_id, one_id, 'burn' as movement_type, burn_reason as reason,
        burned_at as occurred_at, burned_date as movement_date, points,
        cast(null as varchar) as order_key, source_event_id
    from burns
    union all
    select
        movement_id, one_id, 'clawback', refund_kind, refunded_at, refund_date, points,
        order_key, cast(null as varchar)
    from clawbacks
    where points > 0
)

select * from final
