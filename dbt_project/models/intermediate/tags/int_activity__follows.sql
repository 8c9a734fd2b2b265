{# One row per official-account follower (latest snapshot) with the person's one_id (openid,
   then unionid): a follow at subscribed_at, or, once unfollowed (the snapshot keeps no follow
   time), an unfollow at the snapshot time. Up to the as-of day. #}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='follower_key',
    pre_hook="{{ delete_touched_people() }}",
    stamped_rows=true
) }}
-- depends_on: {{ ref('int_identity__touched') }}, {{ ref('int_marts__new_batches') }}

{% set follower_ids = [("openid", "followers.app_id || '/' || followers.openid"),
                       ("unionid", "followers.unionid")] %}
with followers as (
    select
        followers.*,
        coalesce(followers.subscribed_at, followers.snapshot_at) as occurred_at
    from {{ ref('stg_silver__followers') }} as followers
    {% if is_incremental() -%}
    where {{ changed_since_last_build(
        'followers', [china_date('coalesce(followers.subscribed_at, followers.snapshot_at)')],
        follower_ids) }}
    {%- endif %}
),

final as (
    select
        followers.app_id || '/' || followers.openid as follower_key,
        {{ one_id_column(follower_ids) }} as one_id,
        followers.app_id,
        case when followers.is_subscribed then 'follow' else 'unfollow' end as event_type,
        followers.occurred_at,
        {{ china_date('followers.occurred_at') }} as event_date,
        followers.is_subscribed,
        followers.subscribe_scene,
        nullif(followers.qr_scene_str, '') as qr_scene,
        {{ marts_build_id() }} as marts_build_id
    from followers
    {{ one_id_joins('followers', follower_ids) }}
    where {{ china_date('followers.occurred_at') }} <= {{ as_of() }}
)

select * from final
