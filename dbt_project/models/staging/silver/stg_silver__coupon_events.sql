with source as (
    select * from {{ source('silver', 'coupon_events') }}
),

renamed as (
    select
        event_id,
        coupon_id,
        campaign_id,
        event_type,
        occurred_at,
        {{ china_date('occurred_at') }} as event_date,
        member_card_no,
        app_id,
        openid,
        face_value_fen,
        threshold_fen,
        order_ref,
        store_code,
        city,
        -- the silver batch that last wrote the row: incremental marts builds start from it
        _batch_id
    from source
)

select * from renamed
