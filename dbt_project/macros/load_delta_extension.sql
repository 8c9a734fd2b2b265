{% macro load_delta_extension() %}
  LOAD '{{ env_var("CDP_DUCKDB_DELTA_EXTENSION") }}'
{% endmacro %}
