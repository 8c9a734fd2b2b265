{# No two rows share the values of `columns` (rows with a null in any of them are left out, as
   dbt's unique test leaves out a null value). Grouping by the columns themselves: a unique
   test over a concatenated string built a string per row (27M at 1M customers for the
   recommendations) and could take 'a|b' + 'c' for 'a' + 'b|c'. Each row returned is a
   duplicated combination and how many rows hold it. #}
{% test unique_columns(model, columns) %}
    select
        {%- for column in columns %}
        {{ adapter.quote(column) }},
        {%- endfor %}
        count(*) as duplicate_rows
    from {{ model }}
    where
        {%- for column in columns %}
        {{ adapter.quote(column) }} is not null{{ " and" if not loop.last }}
        {%- endfor %}
    group by all
    having count(*) > 1
{% endtest %}
