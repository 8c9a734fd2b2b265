{# Every paid sale (fct_orders.is_paid_sale) and POS return ticket up to the as-of day, with
   the sale each one counts towards: a return that references a sale counts towards that sale (and its
   buyer and day), like an online refund, which silver nets into the order itself; a return
   whose sale is not found counts on its own. #}
with orders as (
    select * from {{ ref('fct_orders') }}
    where is_paid_sale or is_return
),

sales as (
    select order_key, channel, order_id, one_id
    from orders
    where not is_return
),

returns as (
    select order_key, channel, original_order_id
    from orders
    where is_return
),

-- Matched in an inner join on equality keys only: a condition on the preserved side of a
-- left join (`is_return`) made DuckDB fall back to a nested-loop join (minutes at 1M people).
matched_returns as (
    select returns.order_key, sales.order_key as sale_order_key, sales.one_id as sale_one_id
    from returns
    inner join sales
        on sales.channel = returns.channel
       and sales.order_id = returns.original_order_id
),

final as (
    select
        orders.order_key,
        orders.is_return,
        coalesce(matched_returns.sale_order_key, orders.order_key) as attributed_order_key,
        orders.is_return and matched_returns.sale_order_key is null as is_unmatched_return,
        coalesce(matched_returns.sale_one_id, orders.one_id) as one_id
    from orders
    left join matched_returns on matched_returns.order_key = orders.order_key
)

select * from final
