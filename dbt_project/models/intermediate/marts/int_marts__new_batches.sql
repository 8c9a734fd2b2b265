{# The silver batches applied since the previous marts build (CDP_MARTS_SINCE, the last
   applied_at that build saw; set by cdp.marts): the rows an incremental build recomputes.
   Empty for a first build or a full refresh, which recompute everything. #}
with applied as (
    select * from {{ source('meta', 'silver_applied') }}
),

final as (
    select distinct batch_id
    from applied
    {% if env_var('CDP_MARTS_SINCE', '') -%}
    where applied_at > timestamptz '{{ env_var("CDP_MARTS_SINCE") }}'
    {%- endif %}
)

select * from final
