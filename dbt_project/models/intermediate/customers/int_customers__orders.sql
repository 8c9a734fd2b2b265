{# One row per purchase-metric unit of a known buyer up to the as-of day: a paid sale, with
   the POS returns that reference it netted in, or a return whose sale is not found. A sale is
   a purchase when fct_orders counts it (macros/purchases.sql) and its POS returns have not
   taken all of it back (the same rule as for refunds). #}
with tickets as (
    select * from {{ ref('int_customers__tickets') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

returns as (
    select
        tickets.attributed_order_key as order_key,
        count(*) as return_count,
        -sum(orders.net_amount_fen) as returned_amount_fen,
        -sum(orders.unit_count) as returned_unit_count
    from tickets
    inner join orders on orders.order_key = tickets.order_key
    where tickets.is_return and not tickets.is_unmatched_return
    group by tickets.attributed_order_key
),

sales as (
    select
        orders.order_key,
        tickets.one_id,
        orders.channel,
        orders.order_date,
        orders.store_code,
        orders.business_format,
        false as is_unmatched_return,
        orders.gross_amount_fen,
        orders.discount_fen,
        orders.line_count,
        orders.unit_count - coalesce(returns.returned_unit_count, 0) as unit_count,
        orders.net_amount_fen - coalesce(returns.returned_amount_fen, 0) as spend_fen,
        orders.refund_amount_fen + coalesce(returns.returned_amount_fen, 0) as refund_amount_fen,
        (orders.refund_amount_fen > 0)::integer + coalesce(returns.return_count, 0)
            as refund_count,
        orders.is_purchase
            and not {{ is_all_given_back('orders.net_amount_fen',
                                         'coalesce(returns.returned_amount_fen, 0)') }}
            as is_purchase
    from tickets
    inner join orders on orders.order_key = tickets.order_key
    left join returns on returns.order_key = tickets.order_key
    where not tickets.is_return
),

unmatched_returns as (
    select
        orders.order_key,
        tickets.one_id,
        orders.channel,
        orders.order_date,
        orders.store_code,
        orders.business_format,
        true as is_unmatched_return,
        0 as gross_amount_fen,
        0 as discount_fen,
        0 as line_count,
        orders.unit_count,
        orders.net_amount_fen as spend_fen,
        -orders.net_amount_fen as refund_amount_fen,
        1 as refund_count,
        false as is_purchase
    from tickets
    inner join orders on orders.order_key = tickets.order_key
    where tickets.is_unmatched_return
),

unioned as (
    select * from sales
    union all
    select * from unmatched_returns
),

final as (
    select
        *,
        -- What spend and units add up: purchases, and returns that no purchase absorbed.
        is_purchase or is_unmatched_return as counts_towards_spend
    from unioned
    where one_id is not null
)

select * from final
