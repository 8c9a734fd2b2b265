{# Per journey, step and group: how many instances reached the step, wait there, moved on or
   left from it (converted among them), and what became of its messages: sent, withheld
   (control group, step holdout), suppressed, or not sent for a past day. From the journeys'
   log up to the as-of day, so a past day's funnel can be recomputed. #}
with journey_events as (
    select * from {{ ref('int_journeys__events') }}
    where run_day <= {{ as_of() }}
),

arrivals as (
    select
        journey,
        to_step as step,
        split_group,
        count(*) as instances_arrived,
        count(distinct one_id) as people_arrived,
        min(seq) as step_depth
    from journey_events
    where action in ('entered', 'moved')
    group by journey, to_step, split_group
),

instance_positions as (
    select
        journey,
        one_id,
        instance,
        split_group,
        arg_max(action, seq) as last_action,
        arg_max(to_step, seq) as current_step
    from journey_events
    where action in ('entered', 'moved', 'exited')
    group by journey, one_id, instance, split_group
),

waiting as (
    select
        journey,
        current_step as step,
        split_group,
        count(*) as instances_waiting
    from instance_positions
    where last_action != 'exited'
    group by journey, current_step, split_group
),

step_outcomes as (
    select
        journey,
        step,
        split_group,
        count(*) filter (where action = 'moved') as moved_on,
        count(*) filter (where action = 'exited') as exited,
        count(*) filter (where action = 'exited' and reason = 'converted') as exited_converted,
        count(*) filter (where action = 'sent' and channel is not null) as messages_sent,
        count(*) filter (
            where action = 'sent' and reason in ('control_group', 'held_out')
        ) as messages_withheld,
        count(*) filter (where action = 'sent' and reason = 'past_day') as messages_past_day,
        count(*) filter (
            where action = 'sent' and channel is null
            and reason not in ('control_group', 'held_out', 'past_day')
        ) as messages_suppressed
    from journey_events
    where step is not null
    group by journey, step, split_group
),

final as (
    select
        arrivals.journey,
        arrivals.step,
        arrivals.split_group,
        arrivals.step_depth,
        arrivals.instances_arrived,
        arrivals.people_arrived,
        coalesce(waiting.instances_waiting, 0) as instances_waiting,
        coalesce(step_outcomes.moved_on, 0) as moved_on,
        coalesce(step_outcomes.exited, 0) as exited,
        coalesce(step_outcomes.exited_converted, 0) as exited_converted,
        coalesce(step_outcomes.messages_sent, 0) as messages_sent,
        coalesce(step_outcomes.messages_withheld, 0) as messages_withheld,
        coalesce(step_outcomes.messages_suppressed, 0) as messages_suppressed,
        coalesce(step_outcomes.messages_past_day, 0) as messages_past_day
    from arrivals
    left join waiting
        on
            waiting.journey = arrivals.journey
            and waiting.step = arrivals.step
            and waiting.split_group = arrivals.split_group
    left join step_outcomes
        on
            step_outcomes.journey = arrivals.journey
            and step_outcomes.step = arrivals.step
            and step_outcomes.split_group = arrivals.split_group
)

select * from final
