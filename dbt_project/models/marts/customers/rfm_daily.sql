{# The RFM snapshot of each day built: customer_rfm appended by as-of day. Building a day again
   replaces that day only (the pre-hook empties it, also when the new build has no rows, and
   delete+insert on as_of); other days are kept, also through --full-refresh, so the segment
   distribution over time and each customer's segment moves can be queried. #}
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
with rfm as (
    select * from {{ ref('customer_rfm') }}
),

final as (
    select
        as_of,
        one_id,
        recency_days,
        frequency,
        monetary_fen,
        r_score,
        f_score,
        m_score,
        fm_score,
        rfm_cell,
        segment
    from rfm
)

select * from final
