{# Incremental builds (cdp/marts.py decides between incremental and full; see README.md here).
   A build after an earlier one recomputes only the silver rows that may have changed since:
   rows applied to silver in a batch after the previous build (new, late or corrected rows:
   silver keeps one row per key, so a correction carries its new batch), rows dated in the
   days the as-of day moved over, and rows carrying an identifier whose person changed in
   OneID (int_identity__touched). Each incremental model stamps the rows it writes with the
   build (marts_build_id), which is how models downstream and the data tests find them. #}

{# The dbt invocation writing this build: the id its rows carry. #}
{% macro marts_build_id() %}'{{ invocation_id }}'{% endmacro %}

{# The as-of day of the previous build (CDP_MARTS_PREVIOUS_AS_OF, set by cdp.marts). #}
{% macro previous_as_of() -%}
  date '{{ env_var("CDP_MARTS_PREVIOUS_AS_OF", "1970-01-01") }}'
{%- endmacro %}

{# True for a row of silver table alias `alias` that this build must recompute: `dates` are
   its business-date expressions, `identifiers` the (identifier_type, expression) pairs it is
   keyed to a person by (as in one_id_joins). #}
{% macro changed_since_last_build(alias, dates, identifiers) -%}
  (
    {{ alias }}._batch_id in (select batch_id from {{ ref('int_marts__new_batches') }})
    {%- for date in dates %}
    or {{ date }} > {{ previous_as_of() }}
    {%- endfor %}
    {%- for kind, expression in identifiers %}
    or {{ expression }} in (
        select identifier_value from {{ ref('int_identity__touched') }}
        where identifier_type = '{{ kind }}'
    )
    {%- endfor %}
  )
{%- endmacro %}

{# The rows of an incremental model written by this build. #}
{% macro written_by_this_build(alias=none) -%}
  {{ alias ~ '.' if alias }}marts_build_id = {{ marts_build_id() }}
{%- endmacro %}

{# Pre-hook of an incremental model keyed to people: the rows of everyone whose identifiers
   changed go, and come back with the rows recomputed (their identifiers are all touched). #}
{% macro delete_touched_people() -%}
  {% if is_incremental() %}
    delete from {{ this }}
    where one_id in (select one_id from {{ ref('int_identity__touched') }})
  {% endif %}
{%- endmacro %}

{# Data tests of an incremental model stamping its rows (config stamped_rows=true) check the
   rows this build wrote (all of them in a full refresh); dbt calls this macro for every test's model (overriding its own, which applies
   the test's `where` config). #}
{% macro get_where_subquery(relation) -%}
  {%- set where = config.get('where') -%}
  {%- set tested = graph.nodes.get(model.attached_node) if model.attached_node else none -%}
  {%- if tested and tested.config.get('stamped_rows') -%}
    {%- set built = "marts_build_id = " ~ marts_build_id() -%}
    {%- set where = "(" ~ where ~ ") and " ~ built if where else built -%}
  {%- endif -%}
  {%- if where -%}
    {%- set filtered -%}
      (select * from {{ relation }} where {{ where }}) dbt_subquery
    {%- endset -%}
    {%- do return(filtered) -%}
  {%- else -%}
    {%- do return(relation) -%}
  {%- endif -%}
{%- endmacro %}

{# Pre-hook of fct_order_lines: a new version of an order replaces all its lines (one it no
   longer has must go too). #}
{% macro delete_lines_of_changed_orders() -%}
  {% if is_incremental() %}
    delete from {{ this }}
    where order_key in (
        select order_key from {{ ref('fct_orders') }} where {{ written_by_this_build() }}
    )
  {% endif %}
{%- endmacro %}

{# The previous build's table `identifier` in this model's schema, or none (no previous build,
   a full refresh, or outside dbt, e.g. a linter rendering the SQL). #}
{% macro previous_build_of(identifier) -%}
  {%- if adapter is not defined or flags is not defined or flags.FULL_REFRESH -%}
    {%- do return(none) -%}
  {%- endif -%}
  {%- do return(adapter.get_relation(
      database=this.database, schema=this.schema, identifier=identifier)) -%}
{%- endmacro %}
