with source as (
    select * from {{ source('silver', 'identity_map') }}
),

renamed as (
    select
        identifier_type,
        identifier_value,
        one_id
    from source
)

select * from renamed
