{# One row per order line up to the as-of day, with the order's buyer, channel and format. #}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='line_key',
    pre_hook=["{{ delete_touched_people() }}", "{{ delete_lines_of_changed_orders() }}"],
    stamped_rows=true
) }}

-- depends_on: {{ ref('int_identity__touched') }}
with lines as (
    select * from {{ ref('stg_silver__order_items') }}
),

orders as (
    select order_key, channel, order_id, one_id, order_date, store_code, business_format,
           order_type, is_purchase, marts_build_id
    from {{ ref('fct_orders') }}
),

-- An order's lines follow the order: a line changes with a new version of its order.
changed_orders as (
    select * from orders
    {% if is_incremental() -%}
    where {{ written_by_this_build() }}
    {%- endif %}
),

formats as (
    select * from {{ ref('business_format_names') }}
),

final as (
    select
        orders.order_key || ':' || lines.line_id as line_key,
        orders.order_key,
        lines.line_id,
        orders.one_id,
        orders.channel,
        orders.order_date,
        orders.store_code,
        orders.business_format,
        lines.sku,
        lines.product_name,
        coalesce(formats.business_format, lines.category) as category,
        lines.quantity,
        lines.unit_price_fen,
        coalesce(lines.discount_fen, 0) as discount_fen,
        lines.paid_amount_fen,
        lines.refund_amount_fen,
        lines.paid_amount_fen - lines.refund_amount_fen as net_amount_fen,
        lines.refund_status,
        orders.is_purchase,
        {{ marts_build_id() }} as marts_build_id
    from lines
    inner join changed_orders as orders
        on orders.channel = lines.channel and orders.order_id = lines.order_id
    left join formats on formats.raw_name = lines.category
)

select * from final
