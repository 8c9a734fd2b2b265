{# One row per person OneID knows of on the as-of day (golden records first seen by then), with
   what decides their lifecycle stage: membership, following an official account, purchases.
   Members and followers are keyed to one_id through the identifiers they carry, strongest
   first. Follows are silver's latest snapshot: someone who has since unfollowed is not a
   follower, also on an earlier as-of day. #}
{% set member_ids = [("member_card", "members.member_card_no"), ("phone", "members.phone"),
                     ("unionid", "members.unionid"),
                     ("openid", "members.app_id || '/' || members.openid"),
                     ("tmall_ouid", "members.tmall_ouid"), ("jd_pin", "members.jd_pin")] %}
{% set follower_ids = [("unionid", "followers.unionid"),
                       ("openid", "followers.app_id || '/' || followers.openid")] %}
with as_of as (
    select as_of from {{ ref('int_as_of') }}
),

people as (
    select one_id, {{ china_date('first_seen_at') }} as first_seen_date
    from {{ ref('stg_silver__golden_records') }}
),

members as (
    select * from {{ ref('stg_silver__members') }}
    where joined_date <= {{ as_of() }}
),

followers as (
    select * from {{ ref('stg_silver__followers') }}
    where is_subscribed and subscribed_date <= {{ as_of() }}
),

orders as (
    select * from {{ ref('int_customers__orders') }}
),

memberships as (
    select
        {{ one_id_column(member_ids) }} as one_id,
        min(members.joined_date) as joined_date
    from members
    {{ one_id_joins('members', member_ids) }}
    group by all
),

follows as (
    select
        {{ one_id_column(follower_ids) }} as one_id,
        min(followers.subscribed_date) as followed_date
    from followers
    {{ one_id_joins('followers', follower_ids) }}
    group by all
),

purchases as (
    select
        one_id,
        count(*) filter (where is_purchase) as order_count,
        max(order_date) filter (where is_purchase) as last_purchase_date
    from orders
    group by one_id
),

final as (
    select
        people.one_id,
        as_of.as_of,
        people.first_seen_date,
        memberships.one_id is not null as is_member,
        memberships.joined_date as member_joined_date,
        as_of.as_of - memberships.joined_date as days_since_joined,
        follows.one_id is not null as is_follower,
        follows.followed_date,
        coalesce(purchases.order_count, 0) as order_count,
        purchases.last_purchase_date,
        as_of.as_of - purchases.last_purchase_date as days_since_last_purchase
    from people
    cross join as_of
    left join memberships on memberships.one_id = people.one_id
    left join follows on follows.one_id = people.one_id
    left join purchases on purchases.one_id = people.one_id
    where people.first_seen_date <= as_of.as_of
)

select * from final
