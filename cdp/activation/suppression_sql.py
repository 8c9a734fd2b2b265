"""The SQL of suppression and channel choice (``cdp.activation.suppression`` runs it).

Each builder returns one query over the relations ``suppress`` registers and creates
(``audience``, ``consent``, ``latest_consent``, ``openids``, ``statuses`` ...); the order of the
checks is described in ``cdp.activation.suppression``. Configured values (official accounts,
event types, segment names) reach the SQL only as literals of ``cdp.sql_literals``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from cdp.activation.channels import IDENTIFIER_OF_CHANNEL
from cdp.activation.rules import ActivationRules
from cdp.sql_literals import STANDARD

MOBILE_PATTERN = "^1[3-9][0-9]{9}$"
#: the reason a person reached by no channel is counted under: the first that any of their
#: channels gave
REASON_PRECEDENCE = (
    "opted_out",
    "frequency_capped",
    "no_consent",
    "duplicate_identifier",
    "no_recent_interaction",
    "no_openid",
    "no_phone",
    "no_member_card",
)
#: identifier type in silver of the address each channel sends to
ADDRESS_TYPE = {"openid": "openid", "phone": "phone", "member_card": "member_card"}


def _ts(moment: datetime) -> str:
    return f"TIMESTAMPTZ '{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}+00'"


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
        WHERE topic IN ({STANDARD.strings([*topics, "all"])})
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


def openids_sql(cutoff: datetime, account_order: list[str], official_account: str | None) -> str:
    """Audience people's openids in the official accounts they follow as of ``cutoff``, with
    their last WeChat event there and a rank (configured account order, then the most
    recently used account, then app id)."""
    only = f"AND f.app_id = {STANDARD.string(official_account)}" if official_account else ""
    order = " ".join(f"WHEN {STANDARD.string(app)} THEN {i}" for i, app in enumerate(account_order))
    account_order_sql = (
        f"CASE followed.app_id {order} ELSE {len(account_order)} END" if order else "0"
    )
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
        WHERE event_type IN ({STANDARD.strings(event_types)})
          AND occurred_at >= {_ts(since)} AND occurred_at < {_ts(cutoff)}
        GROUP BY app_id, openid"""


def touch_history_sql(
    send_at: datetime, cutoff: datetime, segment: str, as_of: date, delivery_match_hours: int
) -> str:
    """Touches up to the send: our exports' (but this segment's own for this as-of day, which
    this export replaces) and WeChat template deliveries that are not the delivery of one of
    our own template touches."""
    this_export = f"segment = {STANDARD.string(segment)} AND as_of = DATE '{as_of.isoformat()}'"
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
                WHERE channel IN ({STANDARD.strings(cap.channels)})
                  AND touched_at > {_ts(since)} AND touched_at <= {_ts(send_at)}
                GROUP BY one_id HAVING count(*) >= {cap.max_touches}""")
    return " UNION ".join(parts) if parts else None


def candidates_sql(channel: str) -> str:
    """Every address a channel could use for each audience person, best first (``rank``)."""
    kind = IDENTIFIER_OF_CHANNEL[channel]
    if kind == "openid":
        customer_service = channel == "wechat_cs"
        ready = "i.last_interaction_at IS NOT NULL" if customer_service else "TRUE"
        order = (
            "i.last_interaction_at DESC, o.account_rank" if customer_service else "o.account_rank"
        )
        return f"""
            SELECT o.one_id, o.app_id, o.openid AS address,
                   o.app_id || '/' || o.openid AS identifier_value,
                   i.last_interaction_at, {ready} AS is_ready,
                   row_number() OVER (PARTITION BY o.one_id ORDER BY {order}) AS rank
            FROM openids AS o LEFT JOIN interactions AS i USING (app_id, openid)"""
    column = "phone" if kind == "phone" else "member_card_no"
    valid = (
        f"regexp_full_match({column}, '{MOBILE_PATTERN}')" if kind == "phone" else f"{column} <> ''"
    )
    return f"""
        SELECT one_id, NULL::VARCHAR AS app_id, {column} AS address,
               {column} AS identifier_value, NULL::TIMESTAMPTZ AS last_interaction_at,
               TRUE AS is_ready, 1 AS rank
        FROM audience WHERE {column} IS NOT NULL AND {valid}"""


def channel_status_sql(
    channel: str, consent: str, has_cap: bool, group_index: int, priority: int
) -> str:
    """One row per audience person for ``channel``: the address chosen, or the reason none
    is (see the module docstring for the order of the checks)."""
    kind = IDENTIFIER_OF_CHANNEL[channel]
    opt_in = consent == "opt_in"
    address_type = ADDRESS_TYPE[kind]
    consented = (
        f"EXISTS (SELECT 1 FROM consent_{channel} AS k WHERE k.status = 'opt_in' "
        f"AND k.identifier_type = '{address_type}' "
        f"AND k.identifier_value = c.identifier_value)"
        if opt_in
        else "TRUE"
    )
    no_address = "no_recent_interaction" if channel == "wechat_cs" else f"no_{kind}"
    capped = f"a.one_id IN (SELECT one_id FROM capped_{channel})" if has_cap else "FALSE"
    opted_out = (
        f"a.one_id IN (SELECT one_id FROM opted_out_{channel})" if consent != "none" else "FALSE"
    )
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
    precedence = " ".join(f"WHEN '{reason}' THEN {i}" for i, reason in enumerate(REASON_PRECEDENCE))
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
