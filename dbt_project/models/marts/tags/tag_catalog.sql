{# One row per tag definition of config/tags.yml with its member count on the as-of day. #}
{%- set definitions = var('tags') %}

with definitions as (
    {{ tags_definition_rows(definitions) }}
),

members as (
    select tag, count(*) as member_count
    from {{ ref('customer_tags') }}
    group by tag
),

final as (
    select
        definitions.tag,
        definitions.category,
        definitions.category_description,
        definitions.description,
        definitions.owner,
        definitions.tag_version,
        definitions.tag_kind,
        definitions.rule,
        coalesce(members.member_count, 0) as member_count,
        {{ as_of() }} as as_of
    from definitions
    left join members on members.tag = definitions.tag
)

select * from final
