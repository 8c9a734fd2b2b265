{# Treatment against control for every segment export, over the 60 days after its as-of day
   (or as many of them as the data has so far: `days_observed`). A person responds with a
   purchase in the window. Uplift is the treatment response rate minus the control one, with
   a 95% confidence interval from the normal approximation of a difference of proportions. #}
{% set window_days = 60 %}
with membership as (
    select * from {{ ref('int_activation__membership') }}
),

purchases as (
    select one_id, order_date, net_amount_fen
    from {{ ref('fct_orders') }}
    where is_purchase and one_id is not null
),

responses as (
    select
        membership.segment,
        membership.run_id,
        membership.as_of,
        membership.split_group,
        membership.one_id,
        count(purchases.one_id) as orders,
        coalesce(sum(purchases.net_amount_fen), 0) as spend_fen
    from membership
    left join purchases
        on purchases.one_id = membership.one_id
       and purchases.order_date > membership.as_of
       and purchases.order_date <= membership.as_of + {{ window_days }}
    group by all
),

per_group as (
    select
        segment,
        run_id,
        as_of,
        count(*) filter (where split_group = 'treatment') as treatment_people,
        count(*) filter (where split_group = 'control') as control_people,
        count(*) filter (where split_group = 'treatment' and orders > 0) as treatment_responders,
        count(*) filter (where split_group = 'control' and orders > 0) as control_responders,
        sum(orders) filter (where split_group = 'treatment') as treatment_orders,
        sum(orders) filter (where split_group = 'control') as control_orders,
        sum(spend_fen) filter (where split_group = 'treatment') as treatment_spend_fen,
        sum(spend_fen) filter (where split_group = 'control') as control_spend_fen
    from responses
    group by all
),

rates as (
    select
        *,
        treatment_responders / nullif(treatment_people, 0) as treatment_response_rate,
        control_responders / nullif(control_people, 0) as control_response_rate
    from per_group
),

final as (
    select
        segment,
        run_id,
        as_of,
        {{ window_days }} as window_days,
        greatest(0, least({{ window_days }}, {{ as_of() }} - as_of)) as days_observed,
        treatment_people,
        control_people,
        treatment_responders,
        control_responders,
        treatment_response_rate,
        control_response_rate,
        coalesce(treatment_orders, 0) as treatment_orders,
        coalesce(control_orders, 0) as control_orders,
        coalesce(treatment_spend_fen, 0) as treatment_spend_fen,
        coalesce(control_spend_fen, 0) as control_spend_fen,
        treatment_spend_fen / nullif(treatment_people, 0) as treatment_spend_per_person_fen,
        control_spend_fen / nullif(control_people, 0) as control_spend_per_person_fen,
        treatment_response_rate - control_response_rate as uplift,
        1.96 * sqrt(treatment_response_rate * (1 - treatment_response_rate)
                    / nullif(treatment_people, 0)
                    + control_response_rate * (1 - control_response_rate)
                    / nullif(control_people, 0)) as uplift_margin_95
    from rates
)

select
    *,
    uplift - uplift_margin_95 as uplift_low_95,
    uplift + uplift_margin_95 as uplift_high_95
from final
