{# The top insight.recommendations.top_n items per customer as of the as-of day, none they
   already bought. Buyers get the items most similar to their last
   insight.recommendations.recent_items distinct items (the sum of the item-to-item
   similarities to those items: "people who bought what you bought also bought"), then, if
   fewer than N, the most popular items of their favourite category, then the most popular
   items; members and followers who never bought get the most popular items.
   recommended_by says which: similar_items, category_popular or popular.
   Memory stays bounded whatever the population: a person's candidates are at most
   recent_items x neighbours similar items, and the fallbacks are one small list per favourite
   category (fallback_lists), joined only to the people short of N similar items. #}
{%- set rules = var('insight')['recommendations'] %}
{%- set top_n = rules['top_n'] %}
with bought as (
    select
        one_id,
        sku,
        max(order_date) as last_bought
    from {{ ref('fct_order_lines') }}
    where is_purchase and one_id is not null and sku is not null
    group by one_id, sku
),

recent as (
    select one_id, sku
    from bought
    qualify row_number() over (
        partition by one_id order by last_bought desc, sku asc
    ) <= {{ rules['recent_items'] }}
),

popularity as (
    select * from {{ ref('insight_item_popularity') }}
),

sku_orders as (
    -- the SKU's place in alphabetical order: the tie-break of equal scores
    select
        sku,
        row_number() over (order by sku asc) as sku_order
    from popularity
),

similarity as (
    select
        similarity.item_sku,
        similarity.similar_sku,
        similarity.similarity,
        sku_orders.sku_order
    from {{ ref('insight_item_similarity') }} as similarity
    inner join sku_orders on sku_orders.sku = similarity.similar_sku
),

buyers as (
    select one_id, favourite_category from {{ ref('customer_metrics') }}
),

never_bought as (
    select
        lifecycle.one_id,
        cast(null as varchar) as favourite_category
    from {{ ref('customer_lifecycle') }} as lifecycle
    anti join buyers on buyers.one_id = lifecycle.one_id
    where lifecycle.lifecycle_stage in ('member', 'member_never_bought', 'follower')
),

people as (
    select * from buyers
    union all
    select * from never_bought
),

similar_scores as (
    select
        recent.one_id,
        similarity.similar_sku as sku,
        any_value(similarity.sku_order) as sku_order,
        -- 9 decimals: equal sums are equal whatever order the engine adds them in
        round(sum(similarity.similarity), 9) as score
    from recent
    inner join similarity on similarity.item_sku = recent.sku
    group by recent.one_id, similarity.similar_sku
),

unowned_similar as (
    select similar_scores.*
    from similar_scores
    anti join bought on bought.one_id = similar_scores.one_id and bought.sku = similar_scores.sku
),

similar_picks as (
    -- one integer key (score, then SKU order) so that DuckDB keeps a top-N heap per person
    -- (its rewrite of a row_number filter over a single ordering key) instead of sorting
    -- every candidate; 2^20 SKU places leave 2^43 for the score in nano units
    select
        one_id,
        sku,
        score,
        row_number() over (
            partition by one_id
            order by cast(score * 1e9 as bigint) * 1048576 + (1048576 - sku_order) desc
        ) as recommendation_rank
    from unowned_similar
    qualify recommendation_rank <= {{ top_n }}
),

categories as (
    -- null is a category too: the never-bought and buyers of uncategorised items
    select distinct favourite_category as category from people
),

fallback_items as (
    select
        categories.category,
        popularity.sku,
        popularity.buyers as score,
        2 as source_order,
        'category_popular' as recommended_by
    from categories
    inner join popularity
        on popularity.category = categories.category
        and popularity.category_rank <= {{ top_n }}
    union all
    select
        categories.category,
        popularity.sku,
        popularity.buyers as score,
        3 as source_order,
        'popular' as recommended_by
    from categories
    cross join popularity
    where popularity.popularity_rank <= {{ top_n }}
),

fallback_unique as (
    -- an item both popular in the category and overall is offered as the category's
    select * from fallback_items
    qualify row_number() over (partition by category, sku order by source_order) = 1
),

fallback_lists as (
    select
        *,
        row_number() over (
            partition by category order by source_order asc, score desc, sku asc
        ) as fallback_order
    from fallback_unique
),

picked as (
    select
        one_id,
        count(*) as picked
    from similar_picks
    group by one_id
),

short as (
    select
        people.one_id,
        people.favourite_category,
        coalesce(picked.picked, 0) as picked
    from people
    left join picked on picked.one_id = people.one_id
    where coalesce(picked.picked, 0) < {{ top_n }}
),

short_offers as (
    select
        short.one_id,
        short.picked,
        fallback_lists.sku,
        fallback_lists.score,
        fallback_lists.recommended_by,
        fallback_lists.fallback_order
    from short
    inner join fallback_lists
        on fallback_lists.category is not distinct from short.favourite_category
),

unowned_offers as (
    select short_offers.*
    from short_offers
    anti join bought on bought.one_id = short_offers.one_id and bought.sku = short_offers.sku
),

new_offers as (
    select unowned_offers.*
    from unowned_offers
    anti join similar_picks
        on similar_picks.one_id = unowned_offers.one_id
        and similar_picks.sku = unowned_offers.sku
),

fallback_offers as (
    -- a constant bound on the row number keeps DuckDB's top-N heap (see similar_picks)
    select
        one_id,
        sku,
        score,
        recommended_by,
        picked,
        row_number() over (partition by one_id order by fallback_order) as offer_number
    from new_offers
    qualify offer_number <= {{ top_n }}
),

fallback_picks as (
    select
        one_id,
        sku,
        score,
        recommended_by,
        picked + offer_number as recommendation_rank
    from fallback_offers
    where picked + offer_number <= {{ top_n }}
),

ranked as (
    select
        one_id,
        recommendation_rank,
        sku,
        'similar_items' as recommended_by,
        score
    from similar_picks
    union all
    select
        one_id,
        recommendation_rank,
        sku,
        recommended_by,
        score
    from fallback_picks
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
