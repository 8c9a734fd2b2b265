{# Orders up to the as-of day with the buyer's one_id (member card first, then phone, then
   the platform ids) and the canonical business format. #}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['channel', 'order_id'],
    pre_hook="{{ delete_touched_people() }}",
    stamped_rows=true
) }}
-- depends_on: {{ ref('int_identity__touched') }}, {{ ref('int_marts__new_batches') }}

{% set buyer_ids = [("member_card", "orders.member_card_no"), ("phone", "orders.member_phone"),
                    ("tmall_ouid", "orders.tmall_ouid"), ("jd_pin", "orders.jd_pin"),
                    ("douyin_open_id", "orders.douyin_open_id")] %}
with orders as (
    select orders.* from {{ ref('stg_silver__orders') }} as orders
    where orders.order_date <= {{ as_of() }}
    {% if is_incremental() -%}
    and {{ changed_since_last_build(
        'orders', ['orders.order_date', china_date('orders.updated_at')], buyer_ids) }}
    {%- endif %}
),

formats as (
    select * from {{ ref('business_format_names') }}
),

final as (
    select
        orders.*,
        coalesce(formats.business_format, orders.business_format) as business_format_name,
        {{ one_id_column(buyer_ids) }} as one_id,
        {{ marts_build_id() }} as marts_build_id
    from orders
    left join formats on formats.raw_name = orders.business_format
    {{ one_id_joins('orders', buyer_ids) }}
)

select * from final
