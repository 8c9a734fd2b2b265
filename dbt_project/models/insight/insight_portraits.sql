{# Group portraits: how each RFM segment differs from the base (every customer with an RFM
   segment) on each attribute (gender, city, favourite category, lifecycle stage) and tag:
   the share of the segment holding the value, the share of the base, and the lift
   (segment share / base share; above 1 = over-represented). #}
with people as (
    select one_id, rfm_segment, gender, city, favourite_category, lifecycle_stage
    from {{ ref('customer_360') }}
    where rfm_segment is not null
),

tags as (
    select one_id, tag from {{ ref('customer_tags') }}
),

traits as (
    select one_id, 'gender' as trait, coalesce(gender, '(none)') as trait_value
    from people
    union all
    select one_id, 'city', coalesce(city, '(none)') from people
    union all
    select one_id, 'favourite_category', coalesce(favourite_category, '(none)') from people
    union all
    select one_id, 'lifecycle_stage', lifecycle_stage from people
    union all
    select tags.one_id, 'tag', tags.tag
    from tags
    inner join people on people.one_id = tags.one_id
),

sizes as (
    select rfm_segment, count(*) as segment_people
    from people
    group by rfm_segment
),

base as (
    select trait, trait_value, count(*) / (select count(*) from people) as base_share
    from traits
    group by trait, trait_value
),

segment_counts as (
    select
        people.rfm_segment,
        traits.trait,
        traits.trait_value,
        count(*) as people_with_value
    from traits
    inner join people on people.one_id = traits.one_id
    group by people.rfm_segment, traits.trait, traits.trait_value
),

final as (
    select
        segment_counts.rfm_segment as segment,
        segment_counts.trait,
        segment_counts.trait_value,
        sizes.segment_people,
        segment_counts.people_with_value,
        segment_counts.people_with_value / sizes.segment_people as segment_share,
        base.base_share,
        segment_share / base.base_share as lift
    from segment_counts
    inner join sizes on sizes.rfm_segment = segment_counts.rfm_segment
    inner join base
        on base.trait = segment_counts.trait
        and base.trait_value = segment_counts.trait_value
)

select * from final
