{# Orders that earn purchase points: paid sales of every channel (fct_orders.is_paid_sale; a
   later refund claws the points back) with an amount to earn on, placed by a member (one_id)
   on or after joining the programme. #}
with orders as (
    select * from {{ ref('fct_orders') }}
    where is_paid_sale
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
       and members.joined_at <= orders.ordered_at
)

select * from final
