{# Refunds of orders that earned points, one row per refund event up to the as-of day: the
   refunded amount of an online order (when its latest version recorded it) and every POS
   return ticket (a negative ticket naming the original ticket). #}
with member_orders as (
    select * from {{ ref('int_loyalty__orders') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

order_versions as (
    select channel, order_id, updated_at from {{ ref('stg_silver__orders') }}
),

online_refunds as (
    -- silver holds an order's latest version: its update time is when the refund was recorded
    select
        'refund:' || orders.order_key as refund_key,
        orders.order_key,
        'refund' as refund_kind,
        order_versions.updated_at as refunded_at,
        orders.refund_amount_fen as refund_fen
    from orders
    inner join order_versions
        on order_versions.channel = orders.channel
       and order_versions.order_id = orders.order_id
    where orders.order_type = 'sale'
      and orders.refund_amount_fen > 0
),

pos_returns as (
    select
        'return:' || returns.order_key as refund_key,
        returns.channel || ':' || returns.original_order_id as order_key,
        'pos_return' as refund_kind,
        returns.ordered_at as refunded_at,
        -returns.paid_amount_fen as refund_fen
    from orders as returns
    where returns.order_type = 'return'
      and returns.original_order_id is not null
      and returns.paid_amount_fen < 0
),

refunds as (
    select * from online_refunds
    union all
    select * from pos_returns
),

final as (
    select
        refunds.refund_key,
        refunds.order_key,
        member_orders.one_id,
        refunds.refund_kind,
        refunds.refunded_at,
        {{ china_date('refunds.refunded_at') }} as refund_date,
        refunds.refund_fen
    from refunds
    inner join member_orders on member_orders.order_key = refunds.order_key
    where {{ china_date('refunds.refunded_at') }} <= {{ as_of() }}
)

select * from final
