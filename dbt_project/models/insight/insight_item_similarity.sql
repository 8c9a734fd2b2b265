{# Item-to-item similarity from purchases up to the as-of day: two SKUs are similar when the same
   people bought both. Cosine similarity of the items' buyer sets,
   co_buyers / sqrt(buyers_a * buyers_b); a pair needs at least
   insight.recommendations.min_co_buyers co-buyers, so one shopper's basket is not a pattern.
   Each item keeps its insight.recommendations.neighbours most similar items (item-kNN; ties
   by SKU), so the recommendation join grows with the catalogue, not its square. Both
   directions are kept (item_sku -> similar_sku), so a lookup is one equality. #}
{%- set rules = var('insight')['recommendations'] %}
with bought as (
    select distinct one_id, sku
    from {{ ref('fct_order_lines') }}
    where is_purchase and one_id is not null and sku is not null
),

popularity as (
    select sku, buyers from {{ ref('insight_item_popularity') }}
),

pairs as (
    select
        a.sku as item_sku,
        b.sku as similar_sku,
        count(*) as co_buyers
    from bought as a
    inner join bought as b on b.one_id = a.one_id and b.sku <> a.sku
    group by a.sku, b.sku
    having count(*) >= {{ rules['min_co_buyers'] }}
),

final as (
    select
        pairs.item_sku,
        pairs.similar_sku,
        pairs.co_buyers,
        pairs.co_buyers / sqrt(item.buyers * similar_item.buyers) as similarity
    from pairs
    inner join popularity as item on item.sku = pairs.item_sku
    inner join popularity as similar_item on similar_item.sku = pairs.similar_sku
    qualify row_number() over (
        partition by pairs.item_sku order by similarity desc, pairs.similar_sku asc
    ) <= {{ rules['neighbours'] }}
)

select * from final
