{# The tiers of config/loyalty.yml as a table: thresholds and multiplier per tier, lowest
   first, so analysts can join tier names to their rules. #}
{% set tiers = var('loyalty')['tiers'] %}
with levels as (
    select * from (values
    {%- for level in tiers['levels'] %}
        ({{ loop.index0 }}, '{{ level["name"] }}', {{ level['upgrade_at'] }},
         {{ level['retain_at'] }}, {{ level['multiplier_milli'] }}){{ "," if not loop.last }}
    {%- endfor %}
    -- the alias names the columns of the values list (select * uses them, not the alias)
    ) as levels (tier_rank, tier, upgrade_at, retain_at, multiplier_milli)  -- noqa: AL05
),

final as (
    select
        tier,
        cast(tier_rank as integer) as tier_rank,
        tier_rank = 0 as is_base_tier,
        cast(upgrade_at as decimal(18, 2)) as upgrade_at,
        cast(retain_at as decimal(18, 2)) as retain_at,
        cast(multiplier_milli / 1000 as decimal(9, 3)) as multiplier,
        '{{ tiers["basis"] }}' as qualifying_basis,
        {{ tiers['window_days'] }} as window_days,
        {{ tiers['validity_months'] }} as validity_months,
        '{{ tiers["downgrade"] }}' as downgrade_rule
    from levels
)

select * from final
