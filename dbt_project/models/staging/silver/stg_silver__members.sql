with source as (
    select * from {{ source('silver', 'members') }}
),

renamed as (
    select
        source as member_source,
        member_id,
        member_card_no,
        app_id,
        openid,
        unionid,
        tmall_ouid,
        jd_pin,
        phone,
        name,
        gender,
        birthday,
        city,
        email,
        register_channel,
        register_store,
        joined_at,
        {{ china_date('joined_at') }} as joined_date,
        updated_at
    from source
)

select * from renamed
