with source as (
    select * from {{ source('silver', 'followers') }}
),

renamed as (
    select
        app_id,
        openid,
        unionid,
        is_subscribed,
        subscribed_at,
        {{ china_date('subscribed_at') }} as subscribed_date,
        subscribe_scene,
        qr_scene,
        qr_scene_str,
        snapshot_at,
        -- the silver batch that last wrote the row: incremental marts builds start from it
        _batch_id
    from source
)

select * from renamed
