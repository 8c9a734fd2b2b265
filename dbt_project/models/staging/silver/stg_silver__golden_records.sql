with source as (
    select * from {{ source('silver', 'golden_records') }}
),

renamed as (
    select
        one_id,
        name,
        gender,
        birthday,
        city,
        best_phone,
        member_card_no,
        tier,
        first_seen_channel,
        first_seen_at,
        channels,
        identifiers as identifier_count
    from source
)

select * from renamed
