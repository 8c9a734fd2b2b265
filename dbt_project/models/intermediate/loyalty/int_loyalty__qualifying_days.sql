{# The tier-qualifying values of each member on every day they change, up to the as-of day:
   net spend and interaction points over the rolling window of config/loyalty.yml
   `tiers.window_days`. A purchase enters the window on its order day and leaves it
   window_days later; a refund or return reduces the spend from its day until the order
   leaves the window (refunds after that are ignored); interaction points enter and leave
   like purchases. #}
{% set tiers = var('loyalty')['tiers'] %}
{% set window_days = tiers['window_days'] %}
with orders as (
    select * from {{ ref('int_loyalty__orders') }}
),

refunds as (
    select * from {{ ref('int_loyalty__refunds') }}
),

interactions as (
    select * from {{ ref('int_loyalty__interaction_earns') }}
),

order_changes as (
    select one_id, order_date as changed_on, paid_amount_fen as spend_fen, 0 as interaction_points
    from orders
    union all
    select one_id, order_date + {{ window_days }}, -paid_amount_fen, 0
    from orders
),

refund_changes as (
    select refunds.one_id, refunds.refund_date as changed_on, -refunds.refund_fen as spend_fen,
           0 as interaction_points
    from refunds
    inner join orders on orders.order_key = refunds.order_key
    where refunds.refund_date < orders.order_date + {{ window_days }}
    union all
    select refunds.one_id, orders.order_date + {{ window_days }}, refunds.refund_fen, 0
    from refunds
    inner join orders on orders.order_key = refunds.order_key
    where refunds.refund_date < orders.order_date + {{ window_days }}
),

interaction_changes as (
    select one_id, earned_date as changed_on, 0 as spend_fen, points as interaction_points
    from interactions
    union all
    select one_id, earned_date + {{ window_days }}, 0, -points
    from interactions
),

changes as (
    select * from order_changes
    union all
    select * from refund_changes
    union all
    select * from interaction_changes
),

daily as (
    select
        one_id,
        changed_on,
        sum(spend_fen) as spend_change_fen,
        sum(interaction_points) as interaction_points_change
    from changes
    where changed_on <= {{ as_of() }}
    group by one_id, changed_on
),

rolling as (
    select
        one_id,
        changed_on,
        cast(sum(spend_change_fen) over running as bigint) as rolling_spend_fen,
        cast(sum(interaction_points_change) over running as bigint) as rolling_interaction_points,
        lead(changed_on) over (partition by one_id order by changed_on) as next_change_on
    from daily
    window running as (partition by one_id order by changed_on rows unbounded preceding)
),

final as (
    select
        one_id,
        changed_on,
        rolling_spend_fen,
        rolling_interaction_points,
        {{ loyalty_growth_value('rolling_spend_fen', 'rolling_interaction_points') }}
            as growth_value,
        {{ loyalty_qualifying_value(tiers, 'rolling_spend_fen', 'rolling_interaction_points') }}
            as qualifying_value,
        next_change_on
    from rolling
)

select * from final
