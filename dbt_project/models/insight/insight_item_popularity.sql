{# Items (SKUs) by how many people bought them up to the as-of day: the popularity baseline and
   the fallback of the recommendations, overall and within each category. An item's name and
   category are the ones most of its lines carry. #}
with lines as (
    select one_id, sku, product_name, category
    from {{ ref('fct_order_lines') }}
    where is_purchase and one_id is not null and sku is not null
),

items as (
    select
        sku,
        -- ties broken by the value: mode() alone picks any of them (by the lines' order, which
        -- an incremental fct_order_lines does not keep), so two builds named items differently
        mode(product_name order by product_name) as product_name,
        mode(category order by category) as category,
        count(distinct one_id) as buyers
    from lines
    group by sku
),

final as (
    select
        sku,
        product_name,
        category,
        buyers,
        row_number() over (order by buyers desc, sku asc) as popularity_rank,
        row_number() over (
            partition by category order by buyers desc, sku asc
        ) as category_rank
    from items
)

select * from final
