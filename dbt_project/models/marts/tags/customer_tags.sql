{# One row per person and tag held on the as-of day. The rules come from config/tags.yml
   (var('tags')) and are compiled by macros/tags_rules.sql, which also defines `since`. The
   import CTEs below are the inputs those macros read. #}
{%- set definitions = var('tags') %}

with people as (
    select
        one_id,
        gender,
        city,
        tier,
        first_seen_channel,
        channels,
        member_card_no,
        best_phone,
        birthday,
        {{ china_date('first_seen_at') }} as first_seen_date
    from {{ ref('stg_silver__golden_records') }}
    where {{ china_date('first_seen_at') }} <= {{ as_of() }}
),

events as (
    select one_id, event_source, event_type, event_date, page_url, scene, campaign
    from {{ ref('int_activity__events') }}
    where one_id is not null
),

coupon_events as (
    select one_id, campaign_id, event_type, occurred_at, event_date, city
    from {{ ref('int_activity__coupon_events') }}
    where one_id is not null
),

orders as (
    select order_key, one_id, channel, business_format, order_date, is_purchase,
           unit_count, net_amount_fen
    from {{ ref('fct_orders') }}
    where one_id is not null and (is_paid_sale or is_return)
),

order_lines as (
    select lines.order_key, lines.one_id, lines.channel, lines.business_format, lines.category,
           lines.order_date, lines.is_purchase, lines.quantity, lines.net_amount_fen
    from {{ ref('fct_order_lines') }} as lines
    inner join orders on orders.order_key = lines.order_key
),

recommendations as (
    select one_id, sku, category, recommendation_rank
    from {{ ref('customer_recommendations') }}
),

definitions as (
    {{ tags_definition_rows(definitions) }}
),

{{ tags_rule_ctes(definitions.tags) }}

held as (
    {{- tags_union(definitions.tags) }}
),

final as (
    select
        held.one_id,
        held.tag,
        definitions.category,
        definitions.tag_version,
        held.since,
        {{ as_of() }} as as_of
    from held
    inner join definitions on definitions.tag = held.tag
)

select * from final
