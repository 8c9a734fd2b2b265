"""Suppression and channel choice: who of a campaign's treatment group gets which channel.

For every person and channel of the campaign, in this order (the first that applies is the
channel's reason; none = reachable):

1. ``opted_out``: an identifier of the person (any, through OneID) has opted out of one of
   the channel's consent topics or of ``all`` (silver.consent: the latest record per
   identifier and topic wins; on a tie, the opt-out);
2. ``no_<identifier>``: nothing to send to (no valid phone, no followed official account, no
   member card); for customer-service messages ``no_recent_interaction``: the person follows
   but has not interacted within the customer-service window (48 hours) before the send;
3. ``no_consent``: the channel needs an opt-in and the identifier sent to has none;
4. ``frequency_capped``: a cap covering the channel is reached by the touches in its window
   before the send: our exports' touches (gold.touches, other runs) plus WeChat
   ``template_delivered`` events that are not the delivery of one of our own template touches;
5. ``duplicate_identifier``: another person of the audience has the same address on this
   channel (the smallest OneID keeps it), so nobody is messaged twice.

A person gets at most one channel of each exclusive group: the first reachable one in priority
order. A person reached by no channel is suppressed under one reason, the first of
``REASON_PRECEDENCE`` among their channels' reasons. Everything runs as SQL (named builders
of ``cdp.activation.suppression_sql``) on an in-memory DuckDB over the Arrow tables given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from cdp.activation.channels import IDENTIFIER_OF_CHANNEL
from cdp.activation.definitions import Campaign
from cdp.activation.rules import ActivationRules
from cdp.activation.suppression_sql import (
    audience_identifiers_sql,
    capped_sql,
    channel_consent_sql,
    channel_counts_sql,
    channel_status_sql,
    first_reached_sql,
    interactions_sql,
    latest_consent_sql,
    openids_sql,
    opted_out_sql,
    outcome_sql,
    touch_history_sql,
)


def send_moment(as_of: date, send_time, tz: str) -> datetime:
    """When a campaign as of ``as_of`` goes out: ``send_time`` the next day in the source time
    zone ``tz`` (the settings' ``source_timezone``), as UTC."""
    local = datetime.combine(as_of + timedelta(days=1), send_time, tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC)


def data_cutoff(as_of: date, tz: str) -> datetime:
    """The end of the as-of day in time zone ``tz``: records after it are not known as of
    that day."""
    return datetime.combine(
        as_of + timedelta(days=1), datetime.min.time(), tzinfo=ZoneInfo(tz)
    ).astimezone(UTC)


@dataclass
class Inputs:
    """What suppression reads, as Arrow tables.

    ``audience``: one_id, phone, name, member_card_no (the treatment group);
    ``identity_map``: identifier_type, identifier_value, one_id; ``consent``: silver.consent;
    ``followers``: app_id, openid, is_subscribed, subscribed_at; ``wechat_events``: app_id,
    openid, event_type, occurred_at (WeChat events of silver.events); ``touches``: one_id,
    channel, touched_at, segment, as_of (gold.touches).
    """

    audience: pa.Table
    identity_map: pa.Table
    consent: pa.Table
    followers: pa.Table
    wechat_events: pa.Table
    touches: pa.Table


@dataclass
class Outcome:
    #: one_id, channel, app_id, address, last_interaction_at, reason: a row per channel
    #: reached, or one row with the reason for a person reached by none
    people: pa.Table
    #: channel -> {"exported": n, "suppressed": {reason: n}} over the people it was tried for
    channels: dict[str, dict]
    #: reason -> people reached by no channel
    suppressed: dict[str, int]
    exported: int


def suppress(
    inputs: Inputs, rules: ActivationRules, campaign: Campaign, as_of: date, segment: str, tz: str
) -> Outcome:
    """Choose each treatment person's channels, or the reason they get none; the as-of day
    and the send time are local to the source time zone ``tz``."""
    send_at = send_moment(as_of, campaign.send_time or rules.send_time, tz)
    cutoff = data_cutoff(as_of, tz)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        for name in (
            "audience",
            "identity_map",
            "consent",
            "followers",
            "wechat_events",
            "touches",
        ):
            con.register(name, getattr(inputs, name))
        con.execute(f"CREATE TEMP TABLE latest_consent AS {latest_consent_sql(cutoff)}")
        con.execute(f"CREATE TEMP TABLE audience_identifiers AS {audience_identifiers_sql()}")
        con.execute(
            "CREATE TEMP TABLE openids AS "
            + openids_sql(cutoff, rules.official_accounts, campaign.official_account)
        )
        since = send_at - timedelta(hours=rules.customer_service_window_hours)
        con.execute(
            "CREATE TEMP TABLE interactions AS "
            + interactions_sql(since, cutoff, rules.interaction_events)
        )
        con.execute(
            "CREATE TEMP TABLE touch_history AS "
            + touch_history_sql(send_at, cutoff, segment, as_of, rules.delivery_match_hours)
        )
        computed: dict[tuple, str] = {}  # what decides a channel's status -> that channel
        for group_index, group in enumerate(rules.groups_of(campaign.channels)):
            for channel in group:
                priority = rules.channel_priority.index(channel)
                rule = rules.channels[channel]
                caps = tuple(cap.name for cap in rules.frequency_caps if channel in cap.channels)
                kind = IDENTIFIER_OF_CHANNEL[channel]
                # the DMP channels send to the same phones under the same rules: computed once
                same = (kind, rule.consent, tuple(rule.consent_topics), caps)
                if kind != "openid" and same in computed:
                    con.execute(
                        f"INSERT INTO statuses SELECT * REPLACE ('{channel}' AS channel, "
                        f"{group_index} AS group_index, {priority} AS priority) "
                        f"FROM statuses WHERE channel = '{computed[same]}'"
                    )
                    continue
                if rule.consent != "none":
                    con.execute(
                        f"CREATE TEMP TABLE consent_{channel} AS "
                        + channel_consent_sql(rule.consent_topics)
                    )
                    con.execute(
                        f"CREATE TEMP TABLE opted_out_{channel} AS "
                        + opted_out_sql(f"consent_{channel}")
                    )
                cap = capped_sql(rules, channel, send_at)
                if cap:
                    con.execute(f"CREATE TEMP TABLE capped_{channel} AS {cap}")
                status = channel_status_sql(
                    channel, rule.consent, cap is not None, group_index, priority
                )
                if computed:
                    con.execute(f"INSERT INTO statuses {status}")
                else:
                    con.execute(f"CREATE TEMP TABLE statuses AS {status}")
                computed[same] = channel
        con.execute(f"CREATE TEMP TABLE first_reached AS {first_reached_sql()}")
        con.execute("CREATE TEMP TABLE outcome AS " + outcome_sql())
        people = con.sql("SELECT * FROM outcome ORDER BY one_id, channel").to_arrow_table()
        channels: dict[str, dict] = {
            c: {"exported": 0, "suppressed": {}} for c in campaign.channels
        }
        for channel, reason, count in con.sql(channel_counts_sql()).fetchall():
            if reason is None:
                channels[channel]["exported"] = count
            else:
                channels[channel]["suppressed"][reason] = count
        suppressed = dict(
            con.sql(
                "SELECT reason, count(*) FROM outcome "
                "WHERE reason IS NOT NULL GROUP BY reason ORDER BY reason"
            ).fetchall()
        )
        exported = con.sql(
            "SELECT count(DISTINCT one_id) FROM outcome WHERE reason IS NULL"
        ).fetchone()[0]
    finally:
        con.close()
    return Outcome(people, channels, suppressed, exported)
