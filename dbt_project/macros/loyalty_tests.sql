{# Generic data test: every row of the model satisfies `expression` (SQL over its columns).
   Used for the loyalty invariants (balances add up, no negative lot, ...); on a column the
   expression still names the column itself. #}
{% test loyalty_holds(model, expression, column_name=none) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}
