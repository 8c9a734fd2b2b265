{# Behavioural events (WeChat, H5 / web, in-mall) up to the as-of day with the person's one_id:
   member card first, then phone, openid, and the weak ids OneID attached to a person (Wi-Fi
   MAC, device, cookie). Identifiers stay out: only the one_id leaves this model. #}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_id',
    pre_hook="{{ delete_touched_people() }}",
    stamped_rows=true
) }}
-- depends_on: {{ ref('int_identity__touched') }}, {{ ref('int_marts__new_batches') }}

{% set person_ids = [("member_card", "events.member_card_no"), ("phone", "events.phone"),
                     ("openid", "events.app_id || '/' || events.openid"),
                     ("device_mac_hash", "events.device_mac_hash"),
                     ("device_id", "events.device_id"), ("cookie_id", "events.cookie_id")] %}
with events as (
    select events.* from {{ ref('stg_silver__events') }} as events
    where events.event_date <= {{ as_of() }}
    {% if is_incremental() -%}
    and {{ changed_since_last_build('events', ['events.event_date'], person_ids) }}
    {%- endif %}
),

final as (
    select
        events.event_id,
        {{ one_id_column(person_ids) }} as one_id,
        events.event_source,
        events.event_type,
        events.occurred_at,
        events.event_date,
        events.app_id,
        events.mall_code,
        events.scene,
        events.page_url,
        events.campaign,
        events.amount_fen,
        {{ marts_build_id() }} as marts_build_id
    from events
    {{ one_id_joins('events', person_ids) }}
)

select * from final
