{# One row per order or POS ticket of every channel up to the as-of day, keyed to one_id.
   Net amounts have refunds netted; a POS return is its own negative ticket. #}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='order_key',
    pre_hook="{{ delete_touched_people() }}",
    stamped_rows=true
) }}

-- depends_on: {{ ref('int_identity__touched') }}
with orders as (
    select * from {{ ref('int_orders__people') }}
    {% if is_incremental() -%}
    where {{ written_by_this_build() }}
    {%- endif %}
),

final as (
    select
        channel || ':' || order_id as order_key,
        channel,
        order_id,
        one_id,
        order_type,
        original_order_id,
        status,
        store_code,
        business_format_name as business_format,
        payment_method,
        ordered_at,
        order_date,
        gross_amount_fen,
        coalesce(discount_fen, 0) as discount_fen,
        paid_amount_fen,
        refund_amount_fen,
        paid_amount_fen - refund_amount_fen as net_amount_fen,
        line_count,
        unit_count,
        status in ('cancelled') as is_cancelled,
        order_type = 'return' as is_return,
        refund_amount_fen > 0 as has_refund,
        -- The definitions of a paid sale and of a purchase: macros/purchases.sql.
        {{ is_paid_sale() }} as is_paid_sale,
        {{ is_purchase() }} as is_purchase,
        marts_build_id
    from orders
)

select * from final
