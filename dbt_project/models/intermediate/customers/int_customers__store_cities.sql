{# The city of each store a purchase was made in. Silver has no store dimension: store codes
   start with the city's two-letter code (SH001 is in Shanghai), and coupon redemptions are the
   one silver record that names the city of the store they happen in, so the code -> city pairs
   are read from them. To be replaced by a store dimension when one lands in silver. #}
with orders as (
    select distinct store_code
    from {{ ref('fct_orders') }}
    where store_code is not null
),

redemptions as (
    select store_code, city
    from {{ ref('stg_silver__coupon_events') }}
    where event_type = 'redeem' and store_code is not null and city is not null
),

city_codes as (
    select left(store_code, 2) as city_code, mode(city) as city
    from redemptions
    group by city_code
),

final as (
    select
        orders.store_code,
        city_codes.city
    from orders
    left join city_codes on city_codes.city_code = left(orders.store_code, 2)
)

select * from final
