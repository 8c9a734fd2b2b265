{# Each buyer's favourite category, business format, store and city: the one with the largest
   net spend over their purchases up to the as-of day. Ties go to more purchases, then the most
   recent purchase, then the name in alphabetical order. Categories come from order lines (a
   POS return line reduces its category's spend); formats, stores and cities from orders
   (stores and cities: store purchases only). #}
with orders as (
    select * from {{ ref('int_customers__orders') }}
    where counts_towards_spend
),

tickets as (
    select * from {{ ref('int_customers__tickets') }}
),

lines as (
    select order_key, category, net_amount_fen
    from {{ ref('fct_order_lines') }}
),

store_cities as (
    select * from {{ ref('int_customers__store_cities') }}
),

category_spend as (
    select
        orders.one_id,
        'category' as dimension,
        lines.category as value,
        sum(lines.net_amount_fen) as spend_fen,
        count(distinct orders.order_key) filter (where orders.is_purchase) as order_count,
        max(orders.order_date) as last_order_date
    from orders
    inner join tickets on tickets.attributed_order_key = orders.order_key
    inner join lines on lines.order_key = tickets.order_key
    where lines.category is not null
    group by orders.one_id, lines.category
),

order_spend as (
    select
        orders.one_id,
        dimensions.dimension,
        dimensions.value,
        sum(orders.spend_fen) as spend_fen,
        count(*) filter (where orders.is_purchase) as order_count,
        max(orders.order_date) as last_order_date
    from orders
    left join store_cities on store_cities.store_code = orders.store_code
    cross join lateral (
        values ('business_format', orders.business_format),
               ('store', orders.store_code),
               ('city', store_cities.city)
    ) as dimensions (dimension, value)
    where dimensions.value is not null
    group by orders.one_id, dimensions.dimension, dimensions.value
),

spend as (
    select * from category_spend
    union all
    select * from order_spend
),

ranked as (
    select
        *,
        row_number() over (
            partition by one_id, dimension
            order by spend_fen desc, order_count desc, last_order_date desc, value asc
        ) as spend_rank
    from spend
    where spend_fen > 0
),

final as (
    select
        one_id,
        max(value) filter (where dimension = 'category' and spend_rank = 1)
            as favourite_category,
        max(value) filter (where dimension = 'business_format' and spend_rank = 1)
            as favourite_business_format,
        max(value) filter (where dimension = 'store' and spend_rank = 1) as favourite_store_code,
        max(value) filter (where dimension = 'city' and spend_rank = 1) as favourite_city,
        count(*) filter (where dimension = 'category') as category_count
    from ranked
    group by one_id
)

select * from final
