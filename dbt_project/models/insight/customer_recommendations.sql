{# The top insight.recommendations.top_n items per customer as of the as-of day, none they
   already bought. Buyers get the items most similar to what they bought (the sum of the
   item-to-item similarities to their items: "people who bought what you bought also bought"),
   then, if fewer than N, the most popular items of their favourite category, then the most
   popular items; members and followers who never bought get the most popular items.
   recommended_by says which: similar_items, category_popular or popular. #}
{%- set top_n = var('insight')['recommendations']['top_n'] %}
with bought as (
    select distinct one_id, sku
    from {{ ref('fct_order_lines') }}
    where is_purchase and one_id is not null and sku is not null
),

similarity as (
    select * from {{ ref('insight_item_similarity') }}
),

popularity as (
    select * from {{ ref('insight_item_popularity') }}
),

buyers as (
    select one_id, favourite_category from {{ ref('customer_metrics') }}
),

never_bought as (
    select one_id, cast(null as varchar) as favourite_category
    from {{ ref('customer_lifecycle') }}
    where lifecycle_stage in ('member', 'member_never_bought', 'follower')
        and one_id not in (select buyers.one_id from buyers)
),

people as (
    select * from buyers
    union all
    select * from never_bought
),

similar_items as (
    select
        bought.one_id,
        similarity.similar_sku as sku,
        sum(similarity.similarity) as score,
        1 as source_order,
        'similar_items' as recommended_by
    from bought
    inner join similarity on similarity.item_sku = bought.sku
    group by bought.one_id, similarity.similar_sku
),

top_popular as (
    select * from popularity
    where popularity_rank <= {{ top_n }}
),

category_popular as (
    select
        people.one_id,
        popularity.sku,
        popularity.buyers as score,
        2 as source_order,
        'category_popular' as recommended_by
    from people
    inner join popularity
        on popularity.category = people.favourite_category
        and popularity.category_rank <= {{ top_n }}
),

popular as (
    select
        people.one_id,
        top_popular.sku,
        top_popular.buyers as score,
        3 as source_order,
        'popular' as recommended_by
    from people
    cross join top_popular
),

candidates as (
    select * from similar_items
    union all
    select * from category_popular
    union all
    select * from popular
),

unowned as (
    select candidates.*
    from candidates
    anti join bought on bought.one_id = candidates.one_id and bought.sku = candidates.sku
),

best as (
    -- an item offered by two sources keeps its first (most personal) one
    select * from unowned
    qualify row_number() over (partition by one_id, sku order by source_order) = 1
),

ranked as (
    select
        *,
        row_number() over (
            partition by one_id order by source_order asc, score desc, sku asc
        ) as recommendation_rank
    from best
    qualify recommendation_rank <= {{ top_n }}
),

final as (
    select
        ranked.one_id,
        ranked.recommendation_rank,
        ranked.sku,
        popularity.product_name,
        popularity.category,
        ranked.recommended_by,
        ranked.score
    from ranked
    inner join popularity on popularity.sku = ranked.sku
)

select * from final
