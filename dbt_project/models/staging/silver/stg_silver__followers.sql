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
        snapshot_at
    from source
)

select * from renamed
