with source as (
    select * from {{ source('silver', 'orders') }}
),

renamed as (
    select
        channel,
        order_id,
        order_type,
        original_order_id,
        shop_id,
        store_code,
        business_format,
        status,
        source_status,
        tmall_ouid,
        jd_pin,
        douyin_open_id,
        member_phone,
        member_card_no,
        ordered_at,
        order_date,
        paid_at,
        updated_at,
        gross_amount_fen,
        discount_fen,
        freight_fen,
        paid_amount_fen,
        coalesce(refund_amount_fen, 0) as refund_amount_fen,
        line_count,
        unit_count,
        payment_method,
        -- the silver batch that last wrote the row: incremental marts builds start from it
        _batch_id
    from source
)

select * from renamed
