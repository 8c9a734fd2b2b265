{# Left joins that resolve a record's one_id from the identifiers it carries, in priority
   order: `identifiers` is a list of (identifier_type, SQL expression) pairs, `alias` the
   record's table alias. Use one_id_joins() in FROM and one_id_column() in SELECT. #}
{% macro one_id_joins(alias, identifiers) -%}
  {%- for kind, expression in identifiers %}
    left join {{ ref('int_identity__keys') }} as id_{{ loop.index }}
      on id_{{ loop.index }}.identifier_type = '{{ kind }}'
     and id_{{ loop.index }}.identifier_value = {{ expression }}
  {%- endfor %}
{%- endmacro %}

{% macro one_id_column(identifiers) -%}
  coalesce({% for _ in identifiers %}id_{{ loop.index }}.one_id{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}
