{# Mall and store operations: one row per business day, channel, store and business format,
   up to the as-of day. Online channels have no store: their shop id stands in. Paid sales
   (fct_orders.is_paid_sale) and POS returns count; unpaid and cancelled orders do not; a POS
   return counts on its own day, an online refund on the day of the
   order it refunds (the refund's own day is only known from the order's latest version). #}
with orders as (
    select * from {{ ref('fct_orders') }}
    where is_paid_sale or is_return
),

shops as (
    select channel, order_id, shop_id from {{ ref('int_orders__people') }}
),

sales as (
    select
        orders.order_date,
        orders.channel,
        coalesce(orders.store_code, shops.shop_id) as store_code,
        orders.business_format,
        orders.one_id,
        orders.is_return,
        orders.unit_count,
        orders.paid_amount_fen,
        orders.refund_amount_fen,
        orders.net_amount_fen
    from orders
    left join shops on shops.channel = orders.channel and shops.order_id = orders.order_id
),

final as (
    select
        order_date as sales_date,
        channel,
        store_code,
        business_format,
        count(*) filter (where not is_return) as orders,
        count(distinct one_id) filter (where not is_return) as buyers,
        count(*) filter (where not is_return and one_id is null) as anonymous_orders,
        coalesce(sum(unit_count) filter (where not is_return), 0) as units,
        coalesce(-sum(unit_count) filter (where is_return), 0) as units_returned,
        coalesce(sum(paid_amount_fen) filter (where not is_return), 0) as gross_sales_fen,
        coalesce(sum(refund_amount_fen) filter (where not is_return), 0)
            + coalesce(-sum(paid_amount_fen) filter (where is_return), 0) as refunds_fen,
        count(*) filter (where is_return or refund_amount_fen > 0) as refunds,
        sum(net_amount_fen) as net_sales_fen
    from sales
    group by order_date, channel, store_code, business_format
)

select * from final
