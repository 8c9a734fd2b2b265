{# One row per buyer (a one_id with a sale or POS return up to the as-of day that is not
   cancelled), with purchase metrics over their lifetime and over the 7, 30, 90 and 365 days
   ending on the as-of day. Definitions: customer_metrics.yml. #}
{%- set periods = [("", none), ("_7d", 7), ("_30d", 30), ("_90d", 90), ("_365d", 365)] %}

with orders as (
    select * from {{ ref('int_customers__orders') }}
),

as_of as (
    select as_of from {{ ref('int_as_of') }}
),

favourites as (
    select * from {{ ref('int_customers__favourites') }}
),

dated as (
    select
        orders.*,
        as_of.as_of,
        as_of.as_of - orders.order_date as days_ago
    from orders
    cross join as_of
),

totals as (
    select
        one_id,
        any_value(as_of) as as_of,
        min(order_date) filter (where is_purchase) as first_purchase_date,
        max(order_date) filter (where is_purchase) as last_purchase_date,
        {%- for suffix, days in periods %}
        {%- set in_period = "days_ago < " ~ days if days else "true" %}
        count(*) filter (where is_purchase and {{ in_period }}) as order_count{{ suffix }},
        coalesce(sum(spend_fen) filter (where counts_towards_spend and {{ in_period }}), 0)
            ::bigint as spend_fen{{ suffix }},
        coalesce(sum(unit_count) filter (where counts_towards_spend and {{ in_period }}), 0)
            ::bigint as unit_count{{ suffix }},
        sum(line_count) filter (where is_purchase and {{ in_period }}) as line_count{{ suffix }},
        sum(gross_amount_fen) filter (where is_purchase and {{ in_period }})
            as gross_amount_fen{{ suffix }},
        sum(discount_fen) filter (where is_purchase and {{ in_period }})
            as discount_fen{{ suffix }},
        coalesce(sum(refund_count) filter (where {{ in_period }}), 0)::bigint
            as refund_count{{ suffix }},
        coalesce(sum(refund_amount_fen) filter (where {{ in_period }}), 0)::bigint
            as refund_amount_fen{{ suffix }}{{ "," if not loop.last }}
        {%- endfor %}
    from dated
    group by one_id
),

final as (
    select
        totals.one_id,
        totals.as_of,
        totals.first_purchase_date,
        totals.last_purchase_date,
        totals.as_of - totals.last_purchase_date as days_since_last_purchase,
        -- Orders per 30 days since the first purchase; tenures under 30 days count as 30, so
        -- a buyer of last week is not extrapolated to a monthly rate.
        round(totals.order_count * 30.0
              / greatest(totals.as_of - totals.first_purchase_date + 1, 30), 4)
            as purchase_frequency_30d,
        case when totals.order_count >= 2
            then round((totals.last_purchase_date - totals.first_purchase_date)
                       / (totals.order_count - 1), 2)
        end as average_days_between_purchases,
        {%- for suffix, days in periods %}
        totals.order_count{{ suffix }},
        totals.spend_fen{{ suffix }},
        round(totals.spend_fen{{ suffix }} / nullif(totals.order_count{{ suffix }}, 0), 2)
            as average_order_value_fen{{ suffix }},
        totals.unit_count{{ suffix }},
        round(totals.unit_count{{ suffix }} / nullif(totals.order_count{{ suffix }}, 0), 2)
            as units_per_transaction{{ suffix }},
        round(totals.line_count{{ suffix }} / nullif(totals.order_count{{ suffix }}, 0), 2)
            as attach_rate{{ suffix }},
        round(totals.discount_fen{{ suffix }} / nullif(totals.order_count{{ suffix }}, 0), 2)
            as average_discount_fen{{ suffix }},
        round(totals.discount_fen{{ suffix }} / nullif(totals.gross_amount_fen{{ suffix }}, 0), 4)
            as discount_rate{{ suffix }},
        totals.refund_count{{ suffix }},
        totals.refund_amount_fen{{ suffix }},
        {%- endfor %}
        favourites.favourite_category,
        favourites.favourite_business_format,
        favourites.favourite_store_code,
        favourites.favourite_city,
        coalesce(favourites.category_count, 0) as category_count,
        coalesce(favourites.category_count, 0) >= 2 as is_cross_category
    from totals
    left join favourites on favourites.one_id = totals.one_id
)

select * from final
