{# Loyalty events as the loyalty system recorded them, up to the as-of day, with the member's
   one_id (through the member card). #}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_id',
    pre_hook="{{ delete_touched_people() }}",
    stamped_rows=true
) }}
-- depends_on: {{ ref('int_identity__touched') }}, {{ ref('int_marts__new_batches') }}

{% set member_ids = [("member_card", "points.member_card_no")] %}
with points as (
    select points.* from {{ ref('stg_silver__points') }} as points
    where points.event_date <= {{ as_of() }}
    {% if is_incremental() -%}
    and {{ changed_since_last_build('points', ['points.event_date'], member_ids) }}
    {%- endif %}
),

final as (
    select
        points.event_id,
        {{ one_id_column(member_ids) }} as one_id,
        points.event_type,
        points.points,
        points.reason,
        points.tier_from,
        points.tier_to,
        points.order_ref,
        points.occurred_at,
        points.event_date,
        {{ marts_build_id() }} as marts_build_id
    from points
    {{ one_id_joins('points', member_ids) }}
)

select * from final
