{# Every journey transition the journey runs recorded (gold.journey_events). Empty (with the
   same columns) until the first journey run has written it. #}
{% if env_var('CDP_HAS_JOURNEY_RUNS', 'false') == 'true' %}
select
    journey,
    run_day,
    one_id,
    instance,
    seq,
    event_at,
    action,
    step,
    to_step,
    reason,
    channel,
    split_group
from {{ source('gold', 'journey_events') }}
{% else %}
select
    cast(null as varchar) as journey,
    cast(null as date) as run_day,
    cast(null as varchar) as one_id,
    cast(null as bigint) as instance,
    cast(null as bigint) as seq,
    cast(null as timestamptz) as event_at,
    cast(null as varchar) as action,  -- noqa: RF04
    cast(null as varchar) as step,
    cast(null as varchar) as to_step,
    cast(null as varchar) as reason,
    cast(null as varchar) as channel,
    cast(null as varchar) as split_group
where false
{% endif %}
