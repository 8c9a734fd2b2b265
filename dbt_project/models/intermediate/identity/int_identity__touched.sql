{# The identifiers whose person changed since the previous marts build, and every other
   identifier of those people (before and after): OneID merged, split or re-keyed them, or
   they are new or gone. An incremental build recomputes the rows carrying any of them and
   drops the rows of these one_ids first (delete_touched_people). Compares the previous
   build's int_identity__keys, still in the file (this model runs before it is rebuilt), with
   the map now; empty when there is no previous build (everything is computed anyway). #}
-- depends_on: {{ ref('stg_silver__identity_map') }}
{% set previous = previous_build_of('int_identity__keys') %}
{% if previous is none %}
select
    null::varchar as identifier_type,
    null::varchar as identifier_value,
    null::varchar as one_id
where false
{% else %}
with current_keys as (
    select identifier_type, identifier_value, one_id
    from {{ ref('stg_silver__identity_map') }}
),

previous_keys as (
    select identifier_type, identifier_value, one_id from {{ previous }}
),

changed as (
    select
        coalesce(current_keys.identifier_type, previous_keys.identifier_type)
            as identifier_type,
        coalesce(current_keys.identifier_value, previous_keys.identifier_value)
            as identifier_value,
        current_keys.one_id as current_one_id,
        previous_keys.one_id as previous_one_id
    from current_keys
    full outer join previous_keys
        on previous_keys.identifier_type = current_keys.identifier_type
       and previous_keys.identifier_value = current_keys.identifier_value
    where current_keys.one_id is distinct from previous_keys.one_id
),

people as (
    select current_one_id as one_id
    from changed
    where current_one_id is not null
    union
    select previous_one_id
    from changed
    where previous_one_id is not null
),

both_keys as (
    select * from current_keys
    union all
    select * from previous_keys
),

final as (
    select identifier_type, identifier_value, current_one_id as one_id from changed
    union
    select both_keys.identifier_type, both_keys.identifier_value, both_keys.one_id
    from both_keys
    inner join people on people.one_id = both_keys.one_id
)

select * from final
{% endif %}
