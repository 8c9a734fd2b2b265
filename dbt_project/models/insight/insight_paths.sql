{# The most common paths after (or before, insight.paths.direction) the anchor event of
   insight.paths: for each person's first anchor event up to the as-of day, the next
   insight.paths.length events (source:event_type, purchases as 'purchase') in time order,
   joined with ' > ' (event_path). A path can be shorter when the person did less. One row per
   group and path with how many people took it, their share of the group's people with a path
   (people_share) and the rank in the group; the groups are everyone (segment and channel
   'All'), each RFM segment (channel 'All') and each channel the person was first seen in
   (segment 'All'), as in insight_funnels. #}
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

segments as (
    select one_id, segment from {{ ref('customer_rfm') }}
),

channels as (
    select one_id, first_seen_channel from {{ ref('stg_silver__golden_records') }}
),

by_group as (
    select
        coalesce(segments.segment, 'No RFM segment') as segment,
        'All' as channel,
        paths.event_path,
        count(*) as people
    from paths
    left join segments on segments.one_id = paths.one_id
    group by all
    union all
    select
        'All' as segment,
        coalesce(channels.first_seen_channel, 'unknown') as channel,
        paths.event_path,
        count(*) as people
    from paths
    left join channels on channels.one_id = paths.one_id
    group by all
    union all
    select 'All', 'All', event_path, count(*)
    from paths
    group by event_path
),

final as (
    select
        '{{ anchor_name }}' as anchor,
        '{{ rules["direction"] }}' as direction,
        segment,
        channel,
        event_path,
        people,
        people / sum(people) over (partition by segment, channel) as people_share,
        row_number() over (
            partition by segment, channel order by people desc, event_path asc
        ) as path_rank
    from by_group
)

select * from final
