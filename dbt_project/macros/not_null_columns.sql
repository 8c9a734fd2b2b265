{# Every column of a model that must never be null, checked in one scan and one dbt node (a
   `not_null` test per column costs a node each: most of a small build's time). Each row
   returned names a column holding nulls and how many rows. #}
{% test not_null_columns(model, columns) %}
    select
        column_name,
        null_rows
    from (
        select
            {%- for column in columns %}
            count(*) filter (where {{ adapter.quote(column) }} is null)
            as {{ adapter.quote(column) }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ model }}
    ) unpivot (
        null_rows for column_name in (
            {%- for column in columns %}
            {{ adapter.quote(column) }}{{ "," if not loop.last }}
            {%- endfor %}
        )
    )
    where null_rows > 0
{% endtest %}
