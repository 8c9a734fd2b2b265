{# Orders that earn purchase points: sale orders of every channel, not cancelled, with a paid
   amount, placed by a member (one_id) on or after joining the programme. #}
with orders as (
    select * from {{ ref('fct_orders') }}
    where order_type = 'sale'
      and not is_cancelled
      and paid_amount_fen > 0
),

members as (
    select * from {{ ref('int_loyalty__members') }}
),

final as (
    select
        orders.order_key,
        orders.one_id,
        orders.channel,
        orders.order_id,
        orders.ordered_at,
        orders.order_date,
        orders.paid_amount_fen
    from orders
    inner join members
        on members.one_id = orders.one_id
       and orders.ordered_at >= members.joined_at
)

select * from final
