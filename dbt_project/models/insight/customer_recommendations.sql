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
with popularity as (
    select * from {{ ref('insight_item_popularity') }}
),

items as (
    -- an integer per SKU, in alphabetical order (the tie-break of equal scores): the joins and
    -- rankings below carry 4-byte integers, not strings (at 1M customers the candidates are
    -- 27M rows, and with strings or 8-byte keys they went past DuckDB's memory limit)
    select
        sku,
        product_name,
        category,
        cast(row_number() over (order by sku asc) as integer) as item
    from popularity
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

purchase_lines as (
    select one_id, sku, order_date
    from {{ ref('fct_order_lines') }}
    where is_purchase and one_id is not null and sku is not null
),

person_keys as (
    -- an integer per person, for the same reason as items: the people offered fallbacks and
    -- everyone who bought (a buyer whose purchases were all returned is not in
    -- customer_metrics but still gets the items similar to what they bought)
    select
        one_id,
        cast(row_number() over (order by one_id asc) as integer) as person
    from (
        select one_id from people
        union
        select one_id from purchase_lines
    ) as everyone
),

bought as (
    select
        person_keys.person,
        items.item,
        max(purchase_lines.order_date) as last_bought
    from purchase_lines
    inner join person_keys on person_keys.one_id = purchase_lines.one_id
    inner join items on items.sku = purchase_lines.sku
    group by person_keys.person, items.item
),

recent as (
    select person, item
    from bought
    qualify row_number() over (
        partition by person order by last_bought desc, item asc
    ) <= {{ rules['recent_items'] }}
),

similarity as (
    select
        item.item,
        similar_item.item as similar_item,
        similarity.similarity
    from {{ ref('insight_item_similarity') }} as similarity
    inner join items as item on item.sku = similarity.item_sku
    inner join items as similar_item on similar_item.sku = similarity.similar_sku
),

similar_scores as (
    select
        recent.person,
        similarity.similar_item as item,
        -- 9 decimals: equal sums are equal whatever order the engine adds them in
        round(sum(similarity.similarity), 9) as score
    from recent
    inner join similarity on similarity.item = recent.item
    group by recent.person, similarity.similar_item
),

unowned_similar as (
    -- one integer per candidate, the score and then the SKU order: 2^20 SKU places leave 2^43
    -- for the score in nano units
    select
        similar_scores.person,
        cast(round(similar_scores.score * 1e9) as bigint) * 1048576
        + (1048576 - similar_scores.item) as similar_key
    from similar_scores
    anti join bought
        on bought.person = similar_scores.person and bought.item = similar_scores.item
),

similar_top as (
    -- a top-N aggregate (max with a count keeps a heap of N keys per person, in descending
    -- order): a row_number window over the same candidates needed half as much memory again
    select
        person,
        max(similar_key, {{ top_n }}) as similar_keys
    from unowned_similar
    group by person
),

similar_picks as (
    -- a key's position in the list is its rank
    select
        unnested.person,
        cast(1048576 - unnested.similar_key % 1048576 as integer) as item,
        (unnested.similar_key // 1048576) / 1e9 as score,
        unnested.recommendation_rank
    from (
        select
            person,
            unnest(similar_keys) as similar_key,
            generate_subscripts(similar_keys, 1) as recommendation_rank
        from similar_top
    ) as unnested
),

categories as (
    -- null is a category too: the never-bought and buyers of uncategorised items
    select distinct favourite_category as category from people
),

fallback_items as (
    -- source 2: popular in the category, 3: popular overall
    select
        categories.category,
        items.item,
        popularity.buyers as score,
        2 as source_order
    from categories
    inner join popularity
        on popularity.category = categories.category
        and popularity.category_rank <= {{ top_n }}
    inner join items on items.sku = popularity.sku
    union all
    select
        categories.category,
        items.item,
        popularity.buyers as score,
        3 as source_order
    from categories
    cross join popularity
    inner join items on items.sku = popularity.sku
    where popularity.popularity_rank <= {{ top_n }}
),

fallback_unique as (
    -- an item both popular in the category and overall is offered as the category's
    select * from fallback_items
    qualify row_number() over (partition by category, item order by source_order) = 1
),

fallback_lists as (
    select
        *,
        row_number() over (
            partition by category order by source_order asc, score desc, item asc
        ) as fallback_order
    from fallback_unique
),

picked as (
    select
        person,
        count(*) as picked
    from similar_picks
    group by person
),

short as (
    select
        person_keys.person,
        people.favourite_category,
        coalesce(picked.picked, 0) as picked
    from people
    inner join person_keys on person_keys.one_id = people.one_id
    left join picked on picked.person = person_keys.person
    where coalesce(picked.picked, 0) < {{ top_n }}
),

short_offers as (
    select
        short.person,
        short.picked,
        short.favourite_category,
        fallback_lists.item,
        fallback_lists.fallback_order
    from short
    inner join fallback_lists
        on fallback_lists.category is not distinct from short.favourite_category
),

unowned_offers as (
    select short_offers.*
    from short_offers
    anti join bought
        on bought.person = short_offers.person and bought.item = short_offers.item
),

new_offers as (
    select unowned_offers.*
    from unowned_offers
    anti join similar_picks
        on similar_picks.person = unowned_offers.person
        and similar_picks.item = unowned_offers.item
),

fallback_top as (
    -- a top-N aggregate again (see similar_top)
    select
        person,
        picked,
        favourite_category,
        min(fallback_order, {{ top_n }}) as fallback_orders
    from new_offers
    group by person, picked, favourite_category
),

fallback_offers as (
    select
        unnested.person,
        unnested.picked,
        unnested.offer_number,
        fallback_lists.item,
        fallback_lists.score,
        fallback_lists.source_order
    from (
        select
            person,
            picked,
            favourite_category,
            unnest(fallback_orders) as fallback_order,
            generate_subscripts(fallback_orders, 1) as offer_number
        from fallback_top
    ) as unnested
    inner join fallback_lists
        on fallback_lists.category is not distinct from unnested.favourite_category
        and fallback_lists.fallback_order = unnested.fallback_order
),

fallback_picks as (
    select
        person,
        item,
        score,
        source_order,
        picked + offer_number as recommendation_rank
    from fallback_offers
    where picked + offer_number <= {{ top_n }}
),

ranked as (
    select
        person,
        recommendation_rank,
        item,
        1 as source_order,
        score
    from similar_picks
    union all
    select
        person,
        recommendation_rank,
        item,
        source_order,
        score
    from fallback_picks
),

final as (
    select
        person_keys.one_id,
        ranked.recommendation_rank,
        items.sku,
        items.product_name,
        items.category,
        case ranked.source_order
            when 1 then 'similar_items'
            when 2 then 'category_popular'
            else 'popular'
        end as recommended_by,
        ranked.score
    from ranked
    inner join person_keys on person_keys.person = ranked.person
    inner join items on items.item = ranked.item
)

select * from final
