{# Business dates are China dates; silver timestamps are UTC. #}
{% macro china_date(ts) %}CAST(timezone('Asia/Shanghai', {{ ts }}) AS DATE){% endmacro %}

{# The as-of business day of this build (see int_as_of). #}
{% macro as_of() %}(SELECT as_of FROM {{ ref('int_as_of') }}){% endmacro %}
