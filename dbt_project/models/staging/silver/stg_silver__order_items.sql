with source as (
    select * from {{ source('silver', 'order_items') }}
),

renamed as (
    select
        channel,
        order_id,
        line_id,
        sku,
        product_name,
        category,
        quantity,
        unit_price_fen,
        discount_fen,
        paid_amount_fen,
        coalesce(refund_amount_fen, 0) as refund_amount_fen,
        refund_status,
        updated_at,
        -- the silver batch that last wrote the row: incremental marts builds start from it
        _batch_id
    from source
)

select * from renamed
