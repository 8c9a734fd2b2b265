{# Per first-touch channel and source (QR scene, campaign tag, WeChat subscribe scene, or
   direct): how many people came in through it and how many of them purchased afterwards. #}
with people as (
    select * from {{ ref('first_touch_attribution') }}
),

final as (
    select
        first_touch_channel,
        first_touch_source,
        any_value(first_touch_campaign) as first_touch_campaign,
        count(*) as people,
        count(*) filter (where has_purchased_after) as purchasers,
        round(count(*) filter (where has_purchased_after) / count(*), 4) as purchase_rate,
        sum(net_spend_after_fen) as net_spend_after_fen,
        {{ as_of() }} as as_of
    from people
    group by first_touch_channel, first_touch_source
)

select * from final
