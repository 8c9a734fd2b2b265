{# Business dates are days in the time zone sources write local times in (the settings'
   source_timezone, handed over by cdp.marts as var('source_timezone')); silver timestamps
   are UTC. #}
{% macro source_timezone() %}'{{ var("source_timezone", "Asia/Shanghai") }}'{% endmacro %}

{% macro china_date(ts) %}CAST(timezone({{ source_timezone() }}, {{ ts }}) AS DATE){% endmacro %}

{# The as-of business day of this build (see int_as_of). #}
{% macro as_of() %}(SELECT as_of FROM {{ ref('int_as_of') }}){% endmacro %}
