{# RFM scores and segment, as of the day, of every customer of the active base: buyers with a
   purchase in the 365 days ending on the as-of day. Scores are quintiles of percent_rank over
   the active base (ties share a score); the segment comes from the rfm_segment_map seed.
   Method: customer_rfm.yml. #}
with metrics as (
    select
        one_id,
        as_of,
        days_since_last_purchase as recency_days,
        order_count_365d as frequency,
        spend_fen_365d as monetary_fen
    from {{ ref('customer_metrics') }}
    where order_count_365d > 0
),

segment_map as (
    select * from {{ ref('rfm_segment_map') }}
),

ranked as (
    select
        *,
        -- Recency is reversed: the fewer days since the last purchase, the higher the rank.
        percent_rank() over (order by recency_days desc) as recency_rank,
        percent_rank() over (order by frequency) as frequency_rank,
        percent_rank() over (order by monetary_fen) as monetary_rank
    from metrics
),

scored as (
    select
        as_of,
        one_id,
        recency_days,
        frequency,
        monetary_fen,
        -- percent_rank in [0, 0.2) -> 1, ..., [0.8, 1] -> 5
        least(5, 1 + floor(5 * recency_rank))::integer as r_score,
        least(5, 1 + floor(5 * frequency_rank))::integer as f_score,
        least(5, 1 + floor(5 * monetary_rank))::integer as m_score
    from ranked
),

combined as (
    select
        *,
        -- The mean of F and M, rounded half up.
        (f_score + m_score + 1) // 2 as fm_score
    from scored
),

final as (
    select
        combined.as_of,
        combined.one_id,
        combined.recency_days,
        combined.frequency,
        combined.monetary_fen,
        combined.r_score,
        combined.f_score,
        combined.m_score,
        combined.fm_score,
        combined.r_score::varchar || combined.f_score::varchar || combined.m_score::varchar
            as rfm_cell,
        segment_map.segment,
        segment_map.segment_order
    from combined
    left join segment_map
        on combined.r_score between segment_map.r_score_min and segment_map.r_score_max
       and combined.fm_score between segment_map.fm_score_min and segment_map.fm_score_max
)

select * from final
