with source as (
    select * from {{ source('silver', 'events') }}
),

renamed as (
    select
        event_id,
        source as event_source,
        event_type,
        occurred_at,
        event_date,
        app_id,
        openid,
        member_card_no,
        phone,
        device_id,
        cookie_id,
        device_mac_hash,
        mall_code,
        scene,
        page_url,
        campaign,
        amount_fen,
        -- the silver batch that last wrote the row: incremental marts builds start from it
        _batch_id
    from source
)

select * from renamed
