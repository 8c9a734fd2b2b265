{# Schemas as named (staging, intermediate), marts in the default schema: analysts open the
   file and query marts without a prefix. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
  {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
