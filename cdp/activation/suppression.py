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
below) on an in-memory DuckDB over the Arrow tables given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import duckdb
import pyarrow as pa

from cdp.activation.rules import IDENTIFIER_OF_CHANNEL, ActivationRules, Campaign

CHINA = timezone(timedelta(hours=8))
MOBILE_PATTERN = "^1[3-9][0-9]{9}$"
#: the reason a person reached by no channel is counted under: the first that any of their
#: channels gave
REASON_PRECEDENCE = ("opted_out", "frequency_capped", "no_consent", "duplicate_identifier",
                     "no_recent_interaction", "no_openid", "no_phone", "no_member_card")
#: identifier type in silver of the address each channel sends to
ADDRESS_TYPE = {"openid": "openid", "phone": "phone", "member_card": "member_card"}


def send_moment(as_of: date, send_time) -> datetime:
    """When a campaign as of ``as_of`` goes out: ``send_time`` China time the next day (UTC)."""
    local = datetime.combine(as_of + timedelta(days=1), send_time, tzinfo=CHINA)
    return local.astimezone(UTC)


def data_cutoff(as_of: date) -> datetime:
    """The end of the as-of day (China): records after it are not known as of that day."""
    return datetime.combine(as_of + timedelta(days=1), datetime.min.time(),
                            tzinfo=CHINA).astimezone(UTC)


def _ts(moment: datetime) -> str:
    return f"TIMESTAMPTZ '{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}+00'"


def _in(values) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


# -- SQL builders -------------------------------------------------------------------------------
def latest_consent_sql(cutoff: datetime) -> str:
    """The latest valid consent record per identifier and topic known by ``cutoff``."""
    return f"""
        SELECT identifier_type, identifier_value, channel AS topic, status, occurred_at
        FROM consent
        WHERE identifier_is_valid AND occurred_at < {_ts(cutoff)}
        QUALIFY row_number() OVER (PARTITION BY identifier_type, identifier_value, channel
                                   ORDER BY occurred_at DESC, status = 'opt_out' DESC) = 1"""


def channel_consent_sql(topics: list[str]) -> str:
    """Per identifier, the status that governs a channel: the latest over its topics and
    ``all``."""
    return f"""
        SELECT identifier_type, identifier_value, status
        FROM latest_consent
        WHERE topic IN ({_in([*topics, 'all'])})
        QUALIFY row_number() OVER (PARTITION BY identifier_type, identifier_value
                                   ORDER BY occurred_at DESC, status = 'opt_out' DESC) = 1"""


def audience_identifiers_sql() -> str:
    """The identifiers of the audience's people of the kinds consent is given for."""
    return """
        SELECT identifier_type, identifier_value, one_id
        FROM identity_map
        WHERE one_id IN (SELECT one_id FROM audience)
          AND identifier_type IN (SELECT DISTINCT identifier_type FROM consent)"""


def opted_out_sql(consent_relation: str) -> str:
    """People of the audience with an identifier opted out under ``consent_relation``."""
    return f"""
        SELECT DISTINCT m.one_id
        FROM {consent_relation} AS c
        JOIN audience_identifiers AS m USING (identifier_type, identifier_value)
        WHERE c.status = 'opt_out'"""


def openids_sql(cutoff: datetime, account_order: list[str], official_account: str | None
                ) -> str:
    """Audience people's openids in the official accounts they follow as of ``cutoff``, with
    their last WeChat event there and a rank (configured account order, then the most
    recently used account, then app id)."""
    only = f"AND f.app_id = '{official_account}'" if official_account else ""
    order = " ".join(f"WHEN '{app}' THEN {i}" for i, app in enumerate(account_order))
    account_order_sql = (f"CASE followed.app_id {order} ELSE {len(account_order)} END"
                         if order else "0")
    return f"""
        WITH followed AS (
            SELECT m.one_id, f.app_id, f.openid
            FROM followers AS f
            JOIN identity_map AS m
              ON m.identifier_type = 'openid' AND m.identifier_value = f.app_id || '/' || f.openid
            WHERE f.is_subscribed AND f.subscribed_at < {_ts(cutoff)} {only}
              AND m.one_id IN (SELECT one_id FROM audience)
        ),
        last_seen AS (
            SELECT app_id, openid, max(occurred_at) AS last_event_at
            FROM wechat_events WHERE occurred_at < {_ts(cutoff)}
            GROUP BY app_id, openid
        )
        SELECT followed.*, last_seen.last_event_at,
               row_number() OVER (PARTITION BY followed.one_id
                                  ORDER BY {account_order_sql},
                                           last_seen.last_event_at DESC NULLS LAST,
                                           followed.app_id) AS account_rank
        FROM followed
        LEFT JOIN last_seen USING (app_id, openid)"""


def interactions_sql(since: datetime, cutoff: datetime, event_types: list[str]) -> str:
    """The last interaction that opens the customer-service window, per account and openid."""
    return f"""
        SELECT app_id, openid, max(occurred_at) AS last_interaction_at
        FROM wechat_events
        WHERE event_type IN ({_in(event_types)})
          AND occurred_at >= {_ts(since)} AND occurred_at < {_ts(cutoff)}
        GROUP BY app_id, openid"""


def touch_history_sql(send_at: datetime, cutoff: datetime, segment: str, as_of: date,
                      delivery_match_hours: int) -> str:
    """Touches up to the send: our exports' (but this segment's own for this as-of day, which
    this export replaces) and WeChat template deliveries that are not the delivery of one of
    our own template touches."""
    this_export = f"segment = {_in([segment])} AND as_of = DATE '{as_of.isoformat()}'"
    return f"""
        WITH own AS (
            SELECT one_id, channel, touched_at FROM touches
            WHERE NOT ({this_export}) AND touched_at <= {_ts(send_at)}
        ),
        delivered AS (
            SELECT m.one_id, 'wechat_template' AS channel, e.occurred_at AS touched_at
            FROM wechat_events AS e
            JOIN identity_map AS m
              ON m.identifier_type = 'openid' AND m.identifier_value = e.app_id || '/' || e.openid
            WHERE e.event_type = 'template_delivered' AND e.occurred_at < {_ts(cutoff)}
        )
        SELECT * FROM own
        UNION ALL
        SELECT d.* FROM delivered AS d
        WHERE NOT EXISTS (
            SELECT 1 FROM own AS o
            WHERE o.one_id = d.one_id AND o.channel = 'wechat_template'
              AND d.touched_at >= o.touched_at
              AND d.touched_at < o.touched_at + INTERVAL {int(delivery_match_hours)} HOUR)"""


def capped_sql(rules: ActivationRules, channel: str, send_at: datetime) -> str | None:
    """People over a frequency cap covering ``channel``; None when no cap covers it."""
    parts = []
    for cap in rules.frequency_caps:
        if channel in cap.channels:
            since = send_at - timedelta(days=cap.window_days)
            parts.append(f"""
                SELECT one_id FROM touch_history
                WHERE channel IN ({_in(cap.channels)})
                  AND touched_at > {_ts(since)} AND touched_at <= {_ts(send_at)}
                GROUP BY one_id HAVING count(*) >= {cap.max_touches}""")
    return " UNION ".join(parts) if parts else None


def candidates_sql(channel: str) -> str:
    """Every address a channel could use for each audience person, best first (``rank``)."""
    kind = IDENTIFIER_OF_CHANNEL[channel]
    if kind == "openid":
        customer_service = channel == "wechat_cs"
        ready = "i.last_interaction_at IS NOT NULL" if customer_service else "TRUE"
        order = ("i.last_interaction_at DESC, o.account_rank" if customer_service
                 else "o.account_rank")
        return f"""
            SELECT o.one_id, o.app_id, o.openid AS address,
                   o.app_id || '/' || o.openid AS identifier_value,
                   i.last_interaction_at, {ready} AS is_ready,
                   row_number() OVER (PARTITION BY o.one_id ORDER BY {order}) AS rank
            FROM openids AS o LEFT JOIN interactions AS i USING (app_id, openid)"""
    column = "phone" if kind == "phone" else "member_card_no"
    valid = (f"regexp_full_match({column}, '{MOBILE_PATTERN}')" if kind == "phone"
             else f"{column} <> ''")
    return f"""
        SELECT one_id, NULL::VARCHAR AS app_id, {column} AS address,
               {column} AS identifier_value, NULL::TIMESTAMPTZ AS last_interaction_at,
               TRUE AS is_ready, 1 AS rank
        FROM audience WHERE {column} IS NOT NULL AND {valid}"""


def channel_status_sql(channel: str, consent: str, has_cap: bool, group_index: int,
                       priority: int) -> str:
    """One row per audience person for ``channel``: the address chosen, or the reason none
    is (see the module docstring for the order of the checks)."""
    kind = IDENTIFIER_OF_CHANNEL[channel]
    opt_in = consent == "opt_in"
    address_type = ADDRESS_TYPE[kind]
    consented = (f"EXISTS (SELECT 1 FROM consent_{channel} AS k WHERE k.status = 'opt_in' "
                 f"AND k.identifier_type = '{address_type}' "
                 f"AND k.identifier_value = c.identifier_value)" if opt_in else "TRUE")
    no_address = "no_recent_interaction" if channel == "wechat_cs" else f"no_{kind}"
    capped = f"a.one_id IN (SELECT one_id FROM capped_{channel})" if has_cap else "FALSE"
    opted_out = (f"a.one_id IN (SELECT one_id FROM opted_out_{channel})"
                 if consent != "none" else "FALSE")
    return f"""
        WITH usable AS (
            SELECT c.*, row_number() OVER (PARTITION BY c.one_id ORDER BY c.rank) AS pick
            FROM ({candidates_sql(channel)}) AS c
            WHERE c.is_ready AND {consented}
        ),
        known AS (
            SELECT one_id, bool_or(is_ready) AS has_ready
            FROM ({candidates_sql(channel)}) GROUP BY one_id
        ),
        chosen AS (
            SELECT a.one_id, u.app_id, u.address, u.last_interaction_at,
                   CASE
                     WHEN {opted_out} THEN 'opted_out'
                     WHEN k.one_id IS NULL THEN 'no_{kind}'
                     WHEN NOT k.has_ready THEN '{no_address}'
                     WHEN u.one_id IS NULL THEN 'no_consent'
                     WHEN {capped} THEN 'frequency_capped'
                   END AS reason
            FROM audience AS a
            LEFT JOIN known AS k USING (one_id)
            LEFT JOIN usable AS u ON u.one_id = a.one_id AND u.pick = 1
        ),
        keyed AS (
            SELECT *, CASE WHEN reason IS NULL THEN coalesce(app_id, '') || '/' || address
                      END AS address_key
            FROM chosen
        )
        SELECT one_id, '{channel}' AS channel, {group_index} AS group_index,
               {priority} AS priority,
               CASE WHEN reason IS NULL THEN app_id END AS app_id,
               CASE WHEN reason IS NULL THEN address END AS address,
               CASE WHEN reason IS NULL THEN last_interaction_at END AS last_interaction_at,
               CASE
                 WHEN reason IS NULL
                      AND one_id <> min(one_id) OVER (PARTITION BY address_key)
                 THEN 'duplicate_identifier'
                 ELSE reason
               END AS reason
        FROM keyed"""


def first_reached_sql() -> str:
    """Per person and exclusive group, the priority of the first channel that reaches them."""
    return """
        SELECT one_id, group_index, min(priority) AS priority
        FROM statuses WHERE reason IS NULL GROUP BY one_id, group_index"""


def outcome_sql() -> str:
    """Per person: the channels reached (first reachable of each group), else one reason."""
    precedence = " ".join(f"WHEN '{reason}' THEN {i}" for i, reason in
                          enumerate(REASON_PRECEDENCE))
    return f"""
        WITH reached AS (
            SELECT s.one_id, s.channel, s.app_id, s.address, s.last_interaction_at
            FROM statuses AS s JOIN first_reached USING (one_id, group_index, priority)
            WHERE s.reason IS NULL
        ),
        unreached AS (
            SELECT one_id, arg_min(reason, CASE reason {precedence} ELSE 99 END) AS reason
            FROM statuses
            GROUP BY one_id
            HAVING bool_and(reason IS NOT NULL)
        )
        SELECT one_id, channel, app_id, address, last_interaction_at, NULL AS reason
        FROM reached
        UNION ALL
        SELECT one_id, NULL, NULL, NULL, NULL, reason FROM unreached"""


def channel_counts_sql() -> str:
    """Per channel: people it was tried for (not reached by a channel before it in its group)
    by outcome (NULL = reached)."""
    return """
        SELECT s.channel, s.reason, count(*) AS people
        FROM statuses AS s
        LEFT JOIN first_reached AS f USING (one_id, group_index)
        WHERE f.priority IS NULL OR s.priority <= f.priority
        GROUP BY s.channel, s.reason
        ORDER BY s.channel, s.reason NULLS FIRST"""


# -- running it ---------------------------------------------------------------------------------
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


def suppress(inputs: Inputs, rules: ActivationRules, campaign: Campaign, as_of: date,
             segment: str) -> Outcome:
    """Choose each treatment person's channels, or the reason they get none."""
    send_at = send_moment(as_of, campaign.send_time or rules.send_time)
    cutoff = data_cutoff(as_of)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        for name in ("audience", "identity_map", "consent", "followers", "wechat_events",
                     "touches"):
            con.register(name, getattr(inputs, name))
        con.execute(f"CREATE TEMP TABLE latest_consent AS {latest_consent_sql(cutoff)}")
        con.execute(f"CREATE TEMP TABLE audience_identifiers AS {audience_identifiers_sql()}")
        con.execute("CREATE TEMP TABLE openids AS " + openids_sql(
            cutoff, rules.official_accounts, campaign.official_account))
        since = send_at - timedelta(hours=rules.customer_service_window_hours)
        con.execute("CREATE TEMP TABLE interactions AS " + interactions_sql(
            since, cutoff, rules.interaction_events))
        con.execute("CREATE TEMP TABLE touch_history AS " + touch_history_sql(
            send_at, cutoff, segment, as_of, rules.delivery_match_hours))
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
                    con.execute(f"INSERT INTO statuses SELECT * REPLACE ('{channel}' AS channel, "
                                f"{group_index} AS group_index, {priority} AS priority) "
                                f"FROM statuses WHERE channel = '{computed[same]}'")
                    continue
                if rule.consent != "none":
                    con.execute(f"CREATE TEMP TABLE consent_{channel} AS "
                                + channel_consent_sql(rule.consent_topics))
                    con.execute(f"CREATE TEMP TABLE opted_out_{channel} AS "
                                + opted_out_sql(f"consent_{channel}"))
                cap = capped_sql(rules, channel, send_at)
                if cap:
                    con.execute(f"CREATE TEMP TABLE capped_{channel} AS {cap}")
                status = channel_status_sql(channel, rule.consent, cap is not None, group_index,
                                            priority)
                if computed:
                    con.execute(f"INSERT INTO statuses {status}")
                else:
                    con.execute(f"CREATE TEMP TABLE statuses AS {status}")
                computed[same] = channel
        con.execute(f"CREATE TEMP TABLE first_reached AS {first_reached_sql()}")
        con.execute("CREATE TEMP TABLE outcome AS " + outcome_sql())
        people = con.sql("SELECT * FROM outcome ORDER BY one_id, channel").to_arrow_table()
        channels: dict[str, dict] = {c: {"exported": 0, "suppressed": {}}
                                     for c in campaign.channels}
        for channel, reason, count in con.sql(channel_counts_sql()).fetchall():
            if reason is None:
                channels[channel]["exported"] = count
            else:
                channels[channel]["suppressed"][reason] = count
        suppressed = dict(con.sql("SELECT reason, count(*) FROM outcome "
                                  "WHERE reason IS NOT NULL GROUP BY reason ORDER BY reason"
                                  ).fetchall())
        exported = con.sql("SELECT count(DISTINCT one_id) FROM outcome "
                           "WHERE reason IS NULL").fetchone()[0]
    finally:
        con.close()
    return Outcome(people, channels, suppressed, exported)
