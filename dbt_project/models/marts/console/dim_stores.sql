{# The organisation tree the console scopes users by: group -> region -> city -> mall -> store,
   with each store's business format. Silver has no store dimension: cities come from
   int_customers__store_cities, and the mall of a city from the in-mall touchpoints, whose mall
   codes carry the city's two-letter code (MALL_SH01 is in Shanghai; one mall per city). Online
   shops have no city: they sit under the region Online. Regions group the cities as the
   mall group reports them (a city missing here falls under Other). #}
with orders as (
    select
        store_code,
        mode(business_format) as business_format,
        bool_or(channel = 'pos') as is_physical
    from {{ ref('daily_sales_by_store') }}
    group by store_code
),

cities as (
    select store_code, city from {{ ref('int_customers__store_cities') }}
),

malls as (
    select substr(mall_code, 6, 2) as city_code, min(mall_code) as mall_code
    from {{ ref('int_activity__events') }}
    where mall_code like 'MALL\___%' escape '\'
    group by city_code
),

regions (city, region) as (
    values
    ('Shanghai', 'East China'),
    ('Hangzhou', 'East China'),
    ('Beijing', 'North China'),
    ('Chengdu', 'Southwest China'),
    ('Shenzhen', 'South China'),
    ('Guangzhou', 'South China')
),

final as (
    select
        orders.store_code,
        orders.business_format,
        case
            when not orders.is_physical then 'Online'
            else coalesce(regions.region, 'Other')
        end as region,
        case when orders.is_physical then cities.city end as city,
        case when orders.is_physical then malls.mall_code end as mall_code,
        orders.is_physical
    from orders
    left join cities on cities.store_code = orders.store_code
    left join malls on malls.city_code = left(orders.store_code, 2)
    left join regions on regions.city = cities.city
)

select * from final
