{# One loyalty account per person (one_id): the cards of one person share one points balance
   and one tier, opened when their first card was. #}
with cards as (
    select * from {{ ref('int_loyalty__member_cards') }}
),

final as (
    select
        one_id,
        first(member_card_no order by joined_at, member_card_no) as member_card_no,
        count(*) as member_card_count,
        min(joined_at) as joined_at,
        min(joined_date) as joined_date,
        min(profile_completed_at) as profile_completed_at
    from cards
    group by one_id
)

select * from final
