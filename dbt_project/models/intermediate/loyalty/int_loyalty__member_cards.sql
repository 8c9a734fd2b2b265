{# Member cards of the loyalty programme opened up to the as-of day, with the holder's one_id
   and when the platform first saw the holder's member-centre profile complete. #}
{% set rules = var('loyalty') %}
{% set profile_fields = rules['earn']['complete_profile']['fields'] %}
with members as (
    select * from {{ ref('stg_silver__members') }}
    where member_card_no is not null
),

keys as (
    select * from {{ ref('int_identity__keys') }}
    where identifier_type = 'member_card'
),

cards as (
    select
        member_card_no,
        min(joined_at) as joined_at,
        -- silver keeps the latest version of a record: its updated_at is the first time the
        -- platform can vouch for the fields it carries
        min(case
            when
                {%- for field in profile_fields %}
                nullif(trim(cast({{ field }} as varchar)), '') is not null
                {{- " and" if not loop.last }}
                {%- endfor %}
                then greatest(updated_at, joined_at)
        end) as profile_completed_at
    from members
    group by member_card_no
),

final as (
    select
        cards.member_card_no,
        keys.one_id,
        cards.joined_at,
        {{ china_date('cards.joined_at') }} as joined_date,
        case
            when {{ china_date('cards.profile_completed_at') }} <= {{ as_of() }}
                then cards.profile_completed_at
        end as profile_completed_at
    from cards
    inner join keys on keys.identifier_value = cards.member_card_no
    where {{ china_date('cards.joined_at') }} <= {{ as_of() }}
)

select * from final
