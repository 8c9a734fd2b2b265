{# Interaction points up to the as-of day, one row per rewarded interaction of a member:
   registration (the first card's joined_at), a completed profile, and the behavioural events
   of config/loyalty.yml `earn.events` (each capped per China day), counted from joining on. #}
{% set rules = var('loyalty') %}
{% set event_rules = rules['earn']['events'] | selectattr('events') | selectattr('points') | list %}
{% set event_ids = [("member_card", "events.member_card_no"),
                    ("openid", "events.app_id || '/' || events.openid"),
                    ("phone", "events.phone")] %}
with members as (
    select * from {{ ref('int_loyalty__members') }}
),

events as (
    select * from {{ ref('stg_silver__events') }}
    where event_date <= {{ as_of() }}
),

registrations as (
    select
        'earn:register:' || one_id as movement_id,
        one_id,
        'register' as earn_reason,
        joined_at as earned_at,
        {{ rules['earn']['register']['points'] }} as points,
        cast(null as varchar) as source_event_id
    from members
    where {{ rules['earn']['register']['points'] }} > 0
),

completed_profiles as (
    select
        'earn:complete_profile:' || one_id as movement_id,
        one_id,
        'complete_profile' as earn_reason,
        profile_completed_at as earned_at,
        {{ rules['earn']['complete_profile']['points'] }} as points,
        cast(null as varchar) as source_event_id
    from members
    where profile_completed_at is not null
      and {{ rules['earn']['complete_profile']['points'] }} > 0
),

rewarded_events as (
    {%- for rule in event_rules %}
    select
        '{{ rule["name"] }}' as earn_reason,
        {{ rule['points'] }} as points,
        {{ rule['max_per_day'] if rule['max_per_day'] else 'null' }} as max_per_day,
        events.event_id,
        events.occurred_at,
        events.event_date,
        events.member_card_no,
        events.app_id,
        events.openid,
        events.phone
    from events
    where
        {%- for match in rule['events'] %}
        (events.event_source = '{{ match["source"] }}'
            and events.event_type = '{{ match["event_type"] }}'){{ " or" if not loop.last }}
        {%- endfor %}
    {{ "union all" if not loop.last }}
    {%- else %}
    select
        cast(null as varchar) as earn_reason,
        0 as points,
        cast(null as integer) as max_per_day,
        cast(null as varchar) as event_id,
        cast(null as timestamp with time zone) as occurred_at,
        cast(null as date) as event_date,
        cast(null as varchar) as member_card_no,
        cast(null as varchar) as app_id,
        cast(null as varchar) as openid,
        cast(null as varchar) as phone
    where false
    {%- endfor %}
),

event_people as (
    select
        events.earn_reason,
        events.points,
        events.max_per_day,
        events.event_id,
        events.occurred_at,
        events.event_date,
        {{ one_id_column(event_ids) }} as one_id
    from rewarded_events as events
    {{ one_id_joins('events', event_ids) }}
),

member_events as (
    select
        event_people.*,
        row_number() over (
            partition by event_people.one_id, event_people.earn_reason, event_people.event_date
            order by event_people.occurred_at, event_people.event_id
        ) as rank_in_day
    from event_people
    inner join members
        on members.one_id = event_people.one_id
       and members.joined_at <= event_people.occurred_at
),

capped_events as (
    select
        'earn:' || earn_reason || ':' || event_id as movement_id,
        one_id,
        earn_reason,
        occurred_at as earned_at,
        points,
        event_id as source_event_id
    from member_events
    where max_per_day is null or rank_in_day <= max_per_day
),

earns as (
    select * from registrations
    union all
    select * from completed_profiles
    union all
    select * from capped_events
),

final as (
    select
        movement_id,
        one_id,
        earn_reason,
        earned_at,
        {{ china_date('earned_at') }} as earned_date,
        cast(points as bigint) as points,
        source_event_id
    from earns
)

select * from final
