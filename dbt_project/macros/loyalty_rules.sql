{# SQL expressions built from the loyalty rules (config/loyalty.yml, var('loyalty')). Models
   pass the rules in (`rules` = var('loyalty'), `tiers` = its `tiers` part) so that a unit test
   overriding var('loyalty') reaches these expressions too. Tiers are numbered by rank: 0 is
   the base tier, the last the highest. #}

{# A per-tier value (`upgrade_at`, `retain_at`, `multiplier_milli`, `name`) of the tier of rank
   `rank_expr`. #}
{% macro loyalty_tier_value(tiers, attribute, rank_expr) -%}
  case {{ rank_expr }}
  {%- for level in tiers['levels'] %}
    when {{ loop.index0 }} then {% if attribute == 'name' %}'{{ level['name'] }}'{% else %}{{ level[attribute] }}{% endif %}
  {%- endfor %}
  end
{%- endmacro %}

{# The rank of the highest tier whose `attribute` threshold (`upgrade_at` or `retain_at`) the
   qualifying value `value_expr` reaches. #}
{% macro loyalty_tier_reached(tiers, attribute, value_expr) -%}
  case
  {%- for level in tiers['levels'] | reverse %}
    {%- if not loop.last %}
    when {{ value_expr }} >= {{ level[attribute] }} then {{ loop.revindex0 }}
    {%- endif %}
  {%- endfor %}
    else 0
  end
{%- endmacro %}

{# The rank of the highest tier. #}
{% macro loyalty_top_rank(tiers) -%}
  {{ tiers['levels'] | length - 1 }}
{%- endmacro %}

{# The value tiers are decided on, from the rolling spend (fen) and the rolling interaction
   points: spend in yuan, or growth value (whole yuan spent + interaction points). #}
{% macro loyalty_qualifying_value(tiers, spend_fen_expr, interaction_points_expr) -%}
  {%- if tiers['basis'] == 'rolling_spend' -%}
    cast({{ spend_fen_expr }} / 100 as decimal(18, 2))
  {%- else -%}
    cast({{ spend_fen_expr }} // 100 + {{ interaction_points_expr }} as decimal(18, 2))
  {%- endif -%}
{%- endmacro %}

{# The growth value: whole yuan of the rolling spend + the rolling interaction points. #}
{% macro loyalty_growth_value(spend_fen_expr, interaction_points_expr) -%}
  ({{ spend_fen_expr }} // 100 + {{ interaction_points_expr }})
{%- endmacro %}

{# A date `months` months after `date_expr`. #}
{% macro loyalty_add_months(date_expr, months) -%}
  cast({{ date_expr }} + interval {{ months }} month as date)
{%- endmacro %}

{# The last day points earned on `date_expr` (a China date) can be used: a fixed day of the
   year `years_after_earning` later (the year after that if the day would fall before the
   earning), or the day before the relative term ends. #}
{% macro loyalty_expires_on(rules, date_expr) -%}
  {%- set expiry = rules['expiry'] -%}
  {%- if expiry['mode'] == 'fixed_date' -%}
    {%- set fixed = expiry['fixed_date'] -%}
    case
      when make_date(year({{ date_expr }}) + {{ fixed['years_after_earning'] }}, {{ fixed['month'] }}, {{ fixed['day'] }}) >= {{ date_expr }}
        then make_date(year({{ date_expr }}) + {{ fixed['years_after_earning'] }}, {{ fixed['month'] }}, {{ fixed['day'] }})
      else make_date(year({{ date_expr }}) + {{ fixed['years_after_earning'] }} + 1, {{ fixed['month'] }}, {{ fixed['day'] }})
    end
  {%- else -%}
    cast({{ date_expr }} + interval {{ expiry['relative_months'] }} month - interval 1 day as date)
  {%- endif -%}
{%- endmacro %}

{# Purchase points of `amount_fen_expr` fen at a tier multiplier given in thousandths:
   1 RMB = points_per_yuan points x multiplier, rounded down, in exact integer arithmetic. #}
{% macro loyalty_purchase_points(rules, amount_fen_expr, multiplier_milli_expr) -%}
  ((greatest({{ amount_fen_expr }}, 0) * {{ rules['earn']['purchase']['points_per_yuan'] }} * {{ multiplier_milli_expr }}) // 100000)
{%- endmacro %}

{# The UTC instant a business day starts (a day in the source time zone, see dates.sql). #}
{% macro loyalty_china_day_start(date_expr) -%}
  timezone({{ source_timezone() }}, cast({{ date_expr }} as timestamp))
{%- endmacro %}
