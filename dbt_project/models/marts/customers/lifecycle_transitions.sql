{# Lifecycle stage changes by as-of day: for each day built, the people whose stage differs
   from their stage on the last earlier day built (from_stage null: first seen). Days are meant
   to be built in order; building a day again replaces that day only (the pre-hook empties it,
   also when the new build has no changes), and --full-refresh keeps the history.
   Who went dormant: select * from lifecycle_transitions where to_stage = 'dormant' #}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='as_of',
    pre_hook="{% if is_incremental() %}
        delete from {{ this }} where as_of = {{ as_of() }}
    {% endif %}",
    full_refresh=false,
    on_schema_change='append_new_columns'
) }}

-- depends_on: {{ ref('int_as_of') }}
with stages as (
    select as_of, one_id, lifecycle_stage from {{ ref('customer_lifecycle') }}
),

previous as (
    {% if is_incremental() %}
    select one_id, to_stage as stage, as_of as stage_since
    from {{ this }}
    where as_of < {{ as_of() }}
    qualify row_number() over (partition by one_id order by as_of desc) = 1
    {% else %}
    select null::varchar as one_id, null::varchar as stage, null::date as stage_since
    where false
    {% endif %}
),

final as (
    select
        stages.as_of,
        stages.one_id,
        previous.stage as from_stage,
        stages.lifecycle_stage as to_stage,
        previous.stage_since as from_stage_since
    from stages
    left join previous on previous.one_id = stages.one_id
    where previous.stage is distinct from stages.lifecycle_stage
)

select * from final
