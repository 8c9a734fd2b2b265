{# Tag rules -> SQL. The definitions are var('tags') (config/tags.yml, validated by
   cdp/mart_rules/tags.py, which documents the format). The macros write CTEs that read the
   import CTEs of customer_tags: `people` (one row per one_id with its golden-record columns and
   first_seen_date), `events`, `coupon_events`, `orders` (paid sales and POS returns),
   `order_lines` (of those orders), all up to the as-of day, and `recommendations` (of the
   as-of day).

   Every condition becomes a CTE of (one_id, qualified_on): the people it holds for and the day
   it started to hold on the evidence in its window. A tag's `since` is the latest qualified_on
   of its conditions (all) or the earliest (any). qualified_on is:
     attribute       the day the person was first seen (the golden record keeps no history);
     counted rules   with a positive lower bound, the day the running total inside the window
                     first reached it; otherwise the window's first day (or the first-seen day
                     when later, or when there is no window);
     coupon_cities   the day of the event that completed the cities within the time limit;
     recommended     the as-of day (recommendations are recomputed for it, they keep no
                     history). #}

{# -- small pieces ------------------------------------------------------------------------ #}

{% macro tags_literal(value) -%}
  '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{% macro tags_list(values) -%}
  ({% for value in values %}{{ tags_literal(value) }}{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}

{# The first day of a window as a SQL date; none when the window is all history. #}
{% macro tags_window_start(window) -%}
  {%- if window and window.get('days') -%}
    ({{ as_of() }} - {{ window.days - 1 }})
  {%- elif window and window.get('start') -%}
    DATE '{{ window.start }}'
  {%- endif -%}
{%- endmacro %}

{# `column` (a China date) inside the window, never after the as-of day. #}
{% macro tags_in_window(column, window) -%}
  {{ column }} <= {{ as_of() }}
  {%- set start = tags_window_start(window) %}
  {%- if start %} and {{ column }} >= {{ start }}{% endif %}
  {%- if window and window.get('end') %} and {{ column }} <= DATE '{{ window.end }}'{% endif %}
{%- endmacro %}

{# The lower bound of a range as (operator, value), or none. #}
{% macro tags_lower(range) -%}
  {%- if range.get('gt') is not none -%}>|{{ range.gt }}
  {%- elif range.get('gte') is not none -%}>=|{{ range.gte }}
  {%- endif -%}
{%- endmacro %}

{% macro tags_upper(range) -%}
  {%- if range.get('lt') is not none -%}<|{{ range.lt }}
  {%- elif range.get('lte') is not none -%}<=|{{ range.lte }}
  {%- endif -%}
{%- endmacro %}

{# `expression` within the range; net_spend bounds are yuan, amounts fen. #}
{% macro tags_range_check(expression, range, scale) -%}
  {%- set checks = [] -%}
  {%- for bound in [tags_lower(range), tags_upper(range)] if bound -%}
    {%- set parts = bound.split('|') -%}
    {%- do checks.append(expression ~ ' ' ~ parts[0] ~ ' ' ~ parts[1] ~ scale) -%}
  {%- endfor -%}
  {{ checks | join(' and ') }}
{%- endmacro %}

{% macro tags_optional_in(column, values) -%}
  {%- if values %} and {{ column }} in {{ tags_list(values) }}{% endif -%}
{%- endmacro %}

{# -- conditions ------------------------------------------------------------------------- #}

{% macro tags_attribute_predicate(condition) -%}
  {%- set column = condition.column -%}
  {%- if column == 'age' -%}
    {%- set age -%}
      (year({{ as_of() }}) - year(people.birthday)
       - case when strftime({{ as_of() }}, '%m%d') < strftime(people.birthday, '%m%d')
              then 1 else 0 end)
    {%- endset -%}
    people.birthday is not null and {{ tags_range_check(age, condition.value, '') }}
  {%- elif condition.get('present') is not none -%}
    people.{{ column }} is {{ 'not ' if condition.present }}null
  {%- elif column == 'channels' -%}
    list_has_any(people.channels, [{% for v in condition['in'] %}{{ tags_literal(v) }}{{ ", " if not loop.last }}{% endfor %}])
  {%- else -%}
    people.{{ column }} in {{ tags_list(condition['in']) }}
  {%- endif -%}
{%- endmacro %}

{# Daily totals (one_id, day, amount) of a counted condition, inside its window. #}
{% macro tags_daily(condition) -%}
  {%- set window = condition.get('window') -%}
  {%- if condition.kind == 'events' -%}
    select one_id, event_date as day, count(*) as amount
    from events
    where {{ tags_in_window('event_date', window) }}
      and event_type in {{ tags_list(condition.event_type) }}
      {{- tags_optional_in('event_source', condition.get('source')) }}
      {{- tags_optional_in('scene', condition.get('scene')) }}
      {{- tags_optional_in('campaign', condition.get('campaign')) }}
      {%- if condition.get('page_url_prefix') %}
      and starts_with(page_url, {{ tags_literal(condition.page_url_prefix) }})
      {%- endif %}
    group by one_id, event_date
  {%- elif condition.kind == 'coupons' -%}
    select one_id, event_date as day, count(*) as amount
    from coupon_events
    where {{ tags_in_window('event_date', window) }}
      and event_type in {{ tags_list(condition.event_type) }}
      {{- tags_optional_in('campaign_id', condition.get('campaign_id')) }}
    group by one_id, event_date
  {%- elif condition.kind == 'purchases' -%}
    {%- set by_line = condition.get('category') -%}
    {%- set amount = {
          'orders': 'count(distinct order_key) filter (where is_purchase)',
          'units': 'coalesce(sum(' ~ ('quantity' if by_line else 'unit_count')
                   ~ ') filter (where is_purchase), 0)',
          'net_spend': 'sum(net_amount_fen)'}[condition.measure] -%}
    select one_id, order_date as day, {{ amount }} as amount
    from {{ 'order_lines' if by_line else 'orders' }}
    where {{ tags_in_window('order_date', window) }}
      {{- tags_optional_in('channel', condition.get('channel')) }}
      {{- tags_optional_in('business_format', condition.get('business_format')) }}
      {{- tags_optional_in('category', condition.get('category')) }}
    group by one_id, order_date
  {%- else -%}
    {{ exceptions.raise_compiler_error("tags: no daily totals for kind " ~ condition.kind) }}
  {%- endif -%}
{%- endmacro %}

{# The CTEs of one counted condition: daily totals, then (one_id, qualified_on). #}
{% macro tags_counted_ctes(condition, name) -%}
  {%- set range = condition.value if condition.kind == 'purchases' else condition.count -%}
  {%- set scale = ' * 100' if condition.get('measure') == 'net_spend' else '' -%}
  {%- set start = tags_window_start(condition.get('window')) -%}
  {%- set held_from -%}
    {%- if start -%}greatest({{ start }}, people.first_seen_date){%- else -%}people.first_seen_date{%- endif -%}
  {%- endset -%}
  {#- a positive lower bound: the condition needs activity, which has a first day -#}
  {%- set needs_activity = (range.get('gt') is not none and range.gt >= 0)
                           or (range.get('gte') is not none and range.gte > 0) -%}
{{ name }}_daily as (
    {{ tags_daily(condition) }}
),

{{ name }} as (
    select
        people.one_id,
        least(
            {%- if needs_activity %}
            crossed.crossed_on,
            {%- else %}
            {{ held_from }},
            {%- endif %}
            {{ as_of() }}) as qualified_on
    from people
    left join (
        select one_id, sum(amount) as total
        from {{ name }}_daily
        group by one_id
    ) as totals on totals.one_id = people.one_id
    {%- if needs_activity %}
    left join (
        select one_id, min(day) as crossed_on
        from (
            select
                one_id,
                day,
                sum(amount) over (partition by one_id order by day) as running_total
            from {{ name }}_daily
        ) as running
        where {{ tags_range_check('running_total', {'gt': range.get('gt'), 'gte': range.get('gte')}, scale) }}
        group by one_id
    ) as crossed on crossed.one_id = people.one_id
    {%- endif %}
    where {{ tags_range_check('coalesce(totals.total, 0)', range, scale) }}
)
{%- endmacro %}

{# The scalper flag: events of one campaign in `min_cities` cities within `within_hours`. #}
{% macro tags_coupon_cities_ctes(condition, name) -%}
{{ name }}_hits as (
    select
        one_id,
        event_date,
        count(distinct city) over (
            partition by one_id, campaign_id
            order by occurred_at
            range between interval {{ condition.within_hours }} hours preceding and current row
        ) as cities
    from coupon_events
    where {{ tags_in_window('event_date', condition.get('window')) }}
      and city is not null
      and event_type in {{ tags_list(condition.event_type) }}
),

{{ name }} as (
    select hits.one_id, min(hits.event_date) as qualified_on
    from {{ name }}_hits as hits
    inner join people on people.one_id = hits.one_id
    where hits.cities >= {{ condition.min_cities }}
    group by hits.one_id
)
{%- endmacro %}

{% macro tags_condition_ctes(condition, name) -%}
  {%- if condition.kind == 'attribute' -%}
{{ name }} as (
    select people.one_id, people.first_seen_date as qualified_on
    from people
    where {{ tags_attribute_predicate(condition) }}
)
  {%- elif condition.kind == 'coupon_cities' -%}
{{ tags_coupon_cities_ctes(condition, name) }}
  {%- elif condition.kind == 'recommended' -%}
{{ name }} as (
    select distinct people.one_id, {{ as_of() }} as qualified_on
    from people
    inner join recommendations on recommendations.one_id = people.one_id
    where recommendations.recommendation_rank <= {{ condition.top }}
      {{- tags_optional_in('recommendations.sku', condition.get('sku')) }}
      {{- tags_optional_in('recommendations.category', condition.get('category')) }}
)
  {%- else -%}
{{ tags_counted_ctes(condition, name) }}
  {%- endif -%}
{%- endmacro %}

{# -- tags ------------------------------------------------------------------------------- #}

{# One CTE per condition and one `tag_<n>` (one_id, since) per tag, each followed by a comma. #}
{% macro tags_rule_ctes(definitions) -%}
  {%- for tag in definitions %}
    {%- set t = loop.index -%}
    {%- set combinator = 'all' if tag.rule.get('all') else 'any' -%}
    {%- set conditions = tag.rule[combinator] -%}
    {%- for condition in conditions %}
{{ tags_condition_ctes(condition, 'tag_' ~ t ~ '_condition_' ~ loop.index) }},
    {% endfor %}
tag_{{ t }} as (
    {%- if combinator == 'all' %}
    select
        condition_1.one_id,
        {% if conditions | length > 1 -%}
        greatest({% for _ in conditions %}condition_{{ loop.index }}.qualified_on{{ ", " if not loop.last }}{% endfor %})
        {%- else -%}
        condition_1.qualified_on
        {%- endif %} as since
    from tag_{{ t }}_condition_1 as condition_1
    {%- for _ in conditions[1:] %}
    inner join tag_{{ t }}_condition_{{ loop.index + 1 }} as condition_{{ loop.index + 1 }}
        on condition_{{ loop.index + 1 }}.one_id = condition_1.one_id
    {%- endfor %}
    {%- else %}
    select one_id, min(qualified_on) as since
    from (
        {%- for _ in conditions %}
        select one_id, qualified_on from tag_{{ t }}_condition_{{ loop.index }}
        {{- "\n        union all" if not loop.last }}
        {%- endfor %}
    ) as held
    group by one_id
    {%- endif %}
),
  {% endfor %}
{%- endmacro %}

{# (one_id, tag, since) of every tag. #}
{% macro tags_union(definitions) -%}
  {%- for tag in definitions %}
    select one_id, {{ tags_literal(tag.name) }} as tag, since from tag_{{ loop.index }}
    {{- "\n    union all" if not loop.last }}
  {%- endfor %}
{%- endmacro %}
