{# Every sale and POS return ticket up to the as-of day that is not cancelled, with the sale
   each one counts towards: a return that references a sale counts towards that sale (and its
   buyer and day), like an online refund, which silver nets into the order itself; a return
   whose sale is not found counts on its own. #}
with orders as (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled
),

sales as (
    select order_key, channel, order_id, one_id
    from orders
    where not is_return
),

final as (
    select
        orders.order_key,
        orders.is_return,
        coalesce(sales.order_key, orders.order_key) as attributed_order_key,
        orders.is_return and sales.order_key is null as is_unmatched_return,
        coalesce(sales.one_id, orders.one_id) as one_id
    from orders
    left join sales
        on orders.is_return
       and sales.channel = orders.channel
       and sales.order_id = orders.original_order_id
)

select * from final
