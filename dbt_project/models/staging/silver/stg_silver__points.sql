with source as (
    select * from {{ source('silver', 'points') }}
),

renamed as (
    select
        event_id,
        member_card_no,
        event_type,
        points,
        reason,
        tier_from,
        tier_to,
        order_ref,
        occurred_at,
        {{ china_date('occurred_at') }} as event_date,
        -- the silver batch that last wrote the row: incremental marts builds start from it
        _batch_id
    from source
)

select * from renamed
