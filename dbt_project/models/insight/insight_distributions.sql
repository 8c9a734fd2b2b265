{# How people spread over bands: purchase frequency (purchases up to the as-of day) and net
   spend (yuan) of every buyer, and sessions by their number of events (a gap of
   insight.distributions.session_gap_minutes or more between a person's events starts a new
   session; minutes on the clock: 10:00:59 to 10:30:00 is a gap of 30). Bands are
   [lower, next lower) from the lower bounds in insight.distributions; the last band is open.
   counted says what band_count counts: people or sessions. #}
{%- set rules = var('insight')['distributions'] %}
{%- set kinds = [
    ('purchase_frequency', 'people', rules['frequency_bands']),
    ('net_spend_yuan', 'people', rules['spend_bands_yuan']),
    ('session_events', 'sessions', rules['session_event_bands']),
] %}
with metrics as (
    select order_count, spend_fen from {{ ref('customer_metrics') }}
),

events as (
    -- A person's events by the minute they fall in, counted: the gap is counted in minute
    -- boundaries crossed (as date_diff('minute') counts them), so events of one minute are
    -- always one session. Whole minutes since the epoch are integers, much cheaper to sort and
    -- subtract than time-zone-aware timestamps, and one row per minute leaves no ties for the
    -- two window passes below to order differently.
    select
        one_id,
        epoch_us(occurred_at) // 60000000 as event_minute,
        count(*) as event_count
    from {{ ref('int_activity__events') }}
    where one_id is not null
    group by one_id, event_minute
),

gaps as (
    select
        one_id,
        event_minute,
        event_count,
        coalesce(
            event_minute - lag(event_minute) over (partition by one_id order by event_minute)
            >= {{ rules['session_gap_minutes'] }},
            true
        ) as starts_session
    from events
),

numbered as (
    select
        one_id,
        event_count,
        sum(case when starts_session then 1 else 0 end) over (
            partition by one_id order by event_minute rows unbounded preceding
        ) as session_number
    from gaps
),

sessions as (
    select sum(event_count) as event_count
    from numbered
    group by one_id, session_number
),

measures as (
    select 'purchase_frequency' as distribution, order_count as measure from metrics
    union all
    select 'net_spend_yuan', spend_fen / 100.0 from metrics
    union all
    select 'session_events', event_count from sessions
),

bands as (
    {%- for name, counted, lowers in kinds %}
    {%- set outer = loop %}
    {%- for lower in lowers %}
    select
        '{{ name }}' as distribution,
        '{{ counted }}' as counted,
        {{ lower }} as band_lower,
        {{ lowers[loop.index] if not loop.last else 'null' }} as band_upper
    {{ 'union all' if not (loop.last and outer.last) }}
    {%- endfor %}
    {%- endfor %}
),

final as (
    select
        bands.distribution,
        bands.counted,
        bands.band_lower,
        bands.band_upper,
        bands.band_lower || coalesce('-' || bands.band_upper, '+') as band,
        count(measures.measure) as band_count,
        band_count / sum(band_count) over (partition by bands.distribution) as band_share
    from bands
    left join measures
        on measures.distribution = bands.distribution
        and measures.measure >= bands.band_lower
        and (bands.band_upper is null or measures.measure < bands.band_upper)
    group by bands.distribution, bands.counted, bands.band_lower, bands.band_upper
)

select * from final
