{# Funnels of insight.funnels: ordered steps (an event of a source and type, or a purchase)
   that a person takes in order, each step at or after the previous one and within the
   funnel's window_days of the first. A person enters at their first step-1 event up to the
   as-of day. One row per funnel, step and group: everyone (segment and channel 'All'), per
   RFM segment (channel 'All') and per channel the person was first seen in (segment 'All'):
   people who reached the step, conversion from the previous step and from the first. #}
{%- set funnels = var('insight')['funnels'] %}
with events as (
    select one_id, event_source, event_type, occurred_at
    from {{ ref('int_activity__events') }}
    where one_id is not null
),

purchases as (
    select one_id, ordered_at as occurred_at
    from {{ ref('fct_orders') }}
    where is_purchase and one_id is not null
),

segments as (
    select one_id, segment from {{ ref('customer_rfm') }}
),

channels as (
    select one_id, first_seen_channel from {{ ref('stg_silver__golden_records') }}
),

{% for funnel in funnels %}
{%- set f = funnel['name'] %}
{%- for step in funnel['steps'] %}
{%- set n = loop.index %}
{{ f }}_step_{{ n }} as (
    select
        {%- if n == 1 %}
        step.one_id,
        min(step.occurred_at) as entered_at,
        min(step.occurred_at) as reached_at
        {%- else %}
        previous.one_id,
        previous.entered_at,
        min(step.occurred_at) as reached_at
        {%- endif %}
    {%- if step['kind'] == 'purchase' %}
    from purchases as step
    {%- else %}
    from events as step
    {%- endif %}
    {%- if n > 1 %}
    inner join {{ f }}_step_{{ n - 1 }} as previous
        on previous.one_id = step.one_id
        and previous.reached_at <= step.occurred_at
        and previous.entered_at + interval '{{ funnel["window_days"] }} days'
        >= step.occurred_at
    {%- endif %}
    {%- if step['kind'] == 'event' %}
    where step.event_source = '{{ step["source"] }}'
        and step.event_type = '{{ step["event_type"] }}'
    {%- endif %}
    group by {{ 'step.one_id' if n == 1 else 'previous.one_id, previous.entered_at' }}
),
{% endfor %}
{%- endfor %}

reached as (
    {%- for funnel in funnels %}
    {%- set outer = loop %}
    {%- for step in funnel['steps'] %}
    {%- set name = 'purchase' if step['kind'] == 'purchase'
        else step['source'] ~ ':' ~ step['event_type'] %}
    select
        '{{ funnel["name"] }}' as funnel,
        {{ loop.index }} as step_number,
        '{{ name }}' as step_name,
        one_id
    from {{ funnel['name'] }}_step_{{ loop.index }}
    {{ 'union all' if not (loop.last and outer.last) }}
    {%- endfor %}
    {%- endfor %}
),

by_group as (
    select
        reached.funnel,
        reached.step_number,
        reached.step_name,
        coalesce(segments.segment, 'No RFM segment') as segment,
        'All' as channel,
        count(*) as people
    from reached
    left join segments on segments.one_id = reached.one_id
    group by reached.funnel, reached.step_number, reached.step_name, segment
    union all
    select
        reached.funnel,
        reached.step_number,
        reached.step_name,
        'All' as segment,
        coalesce(channels.first_seen_channel, 'unknown') as channel,
        count(*) as people
    from reached
    left join channels on channels.one_id = reached.one_id
    group by reached.funnel, reached.step_number, reached.step_name, channel
    union all
    select funnel, step_number, step_name, 'All', 'All', count(*)
    from reached
    group by funnel, step_number, step_name
),

final as (
    select
        funnel,
        step_number,
        step_name,
        segment,
        channel,
        people,
        people / lag(people) over (
            partition by funnel, segment, channel order by step_number
        ) as conversion_from_previous,
        people / first_value(people) over (
            partition by funnel, segment, channel order by step_number
        ) as conversion_from_first
    from by_group
)

select * from final
