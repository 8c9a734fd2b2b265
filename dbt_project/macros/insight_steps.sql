{# The days on which people took an insight step (a purchase, or an event of a source and
   type; mart_rules/insight.py validates it), with the step's channel: a purchase's sales
   channel, an event's source. Columns one_id, day, channel. #}
{% macro insight_step_days(step) %}
    {%- if step['kind'] == 'purchase' %}
    select one_id, order_date as day, channel
    from {{ ref('fct_orders') }}
    where is_purchase and one_id is not null
    {%- else %}
    select one_id, event_date as day, event_source as channel
    from {{ ref('int_activity__events') }}
    where one_id is not null
        and event_source = '{{ step["source"] }}'
        and event_type = '{{ step["event_type"] }}'
    {%- endif %}
{% endmacro %}
