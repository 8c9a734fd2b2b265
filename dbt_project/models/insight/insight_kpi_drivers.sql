{# Which dimension value drives a change: per grain, period and breakdown dimension of
   insight_kpi_trends, the value whose net sales changed most (in absolute fen) against the
   previous period, with its change and its share of the total's change. #}
with trends as (
    select * from {{ ref('insight_kpi_trends') }}
),

totals as (
    select grain, period_start, net_sales_change_fen as total_change_fen
    from trends
    where dimension = 'total'
),

final as (
    select
        trends.grain,
        trends.period_start,
        trends.dimension,
        trends.dimension_value as driver,
        trends.net_sales_change_fen as driver_change_fen,
        totals.total_change_fen,
        trends.net_sales_change_fen / nullif(totals.total_change_fen, 0) as share_of_change
    from trends
    inner join totals
        on totals.grain = trends.grain and totals.period_start = trends.period_start
    where trends.dimension <> 'total'
    qualify row_number() over (
        partition by trends.grain, trends.period_start, trends.dimension
        order by abs(trends.net_sales_change_fen) desc, trends.dimension_value asc
    ) = 1
)

select * from final
