{# The most common paths after (or before, insight.paths.direction) the anchor event of
   insight.paths: for each person's first anchor event up to the as-of day, the next
   insight.paths.length events (source:event_type, purchases as 'purchase') in time order,
   joined with ' > ' (event_path). A path can be shorter when the person did less. One row per path with
   how many people took it, their share (people_share) and the rank. #}
{%- set rules = var('insight')['paths'] %}
{%- set anchor = rules['anchor'] %}
{%- set after = rules['direction'] == 'after' %}
{%- set anchor_name = 'purchase' if anchor['kind'] == 'purchase'
    else anchor['source'] ~ ':' ~ anchor['event_type'] %}
with events as (
    select
        one_id,
        event_source || ':' || event_type as step,
        {%- if anchor['kind'] == 'event' %}
        event_source = '{{ anchor["source"] }}'
        and event_type = '{{ anchor["event_type"] }}' as is_anchor,
        {%- else %}
        false as is_anchor,
        {%- endif %}
        occurred_at,
        event_id as tie_break
    from {{ ref('int_activity__events') }}
    where one_id is not null
    union all
    select
        one_id,
        'purchase',
        {{ 'true' if anchor['kind'] == 'purchase' else 'false' }},
        ordered_at,
        order_key
    from {{ ref('fct_orders') }}
    where is_purchase and one_id is not null
),

anchors as (
    select one_id, occurred_at, tie_break
    from events
    where is_anchor
    qualify row_number() over (partition by one_id order by occurred_at asc, tie_break asc) = 1
),

following as (
    select
        events.one_id,
        events.step,
        row_number() over (
            partition by events.one_id
            order by events.occurred_at {{ 'asc' if after else 'desc' }},
            events.tie_break {{ 'asc' if after else 'desc' }}
        ) as step_position
    from events
    inner join anchors on anchors.one_id = events.one_id
    where
        (events.occurred_at, events.tie_break)
        {{ '>' if after else '<' }} (anchors.occurred_at, anchors.tie_break)
),

paths as (
    select
        one_id,
        string_agg(
            step, ' > ' order by step_position {{ 'asc' if after else 'desc' }}
        ) as event_path
    from following
    where step_position <= {{ rules['length'] }}
    group by one_id
),

final as (
    select
        '{{ anchor_name }}' as anchor,
        '{{ rules["direction"] }}' as direction,
        event_path,
        count(*) as people,
        count(*) / sum(count(*)) over () as people_share,
        row_number() over (order by count(*) desc, event_path asc) as path_rank
    from paths
    group by event_path
)

select * from final
