with source as (
    select * from {{ source('silver', 'consent') }}
),

renamed as (
    select
        event_id,
        identifier_type,
        identifier_value,
        identifier_is_valid,
        app_id,
        channel,
        status,
        source as consent_source,
        occurred_at
    from source
)

select * from renamed
