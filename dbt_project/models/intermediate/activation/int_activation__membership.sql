{# Who each segment export put in treatment and control. Empty (with the same columns) until
   the first export has written gold.segment_membership. #}
{% if env_var('CDP_HAS_SEGMENT_EXPORTS', 'false') == 'true' %}
select segment, run_id, as_of, one_id, "group" as split_group
from {{ source('gold', 'segment_membership') }}
{% else %}
select
    cast(null as varchar) as segment,
    cast(null as varchar) as run_id,
    cast(null as date) as as_of,
    cast(null as varchar) as one_id,
    cast(null as varchar) as split_group
where false
{% endif %}
