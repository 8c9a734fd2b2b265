{# Orders up to the as-of day with the buyer's one_id (member card first, then phone, then
   the platform ids) and the canonical business format. #}
{% set buyer_ids = [("member_card", "orders.member_card_no"), ("phone", "orders.member_phone"),
                    ("tmall_ouid", "orders.tmall_ouid"), ("jd_pin", "orders.jd_pin"),
                    ("douyin_open_id", "orders.douyin_open_id")] %}
with orders as (
    select * from {{ ref('stg_silver__orders') }}
    where order_date <= {{ as_of() }}
),

formats as (
    select * from {{ ref('business_format_names') }}
),

final as (
    select
        orders.*,
        coalesce(formats.business_format, orders.business_format) as business_format_name,
        {{ one_id_column(buyer_ids) }} as one_id
    from orders
    left join formats on formats.raw_name = orders.business_format
    {{ one_id_joins('orders', buyer_ids) }}
)

select * from final
