"""What an export reads: the marts (DuckDB, read-only), OneID and suppression's tables.

Only this module of ``cdp.activation`` opens the marts file or scans lakehouse tables for the
compiler and suppression; both of those work on what it hands them (a connection, a lookup
function, Arrow tables).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cdp.activation import suppression
from cdp.activation.people_lists import IdentifierLookup
from cdp.config import Settings
from cdp.lakehouse import Lakehouse
from cdp.tables import CONSENT, EVENTS, FOLLOWERS, IDENTITY_MAP, TOUCHES, TOUCHES_SCHEMA

#: identifier types suppression reads from the OneID map: those consent is given for
CONSENT_IDENTIFIER_TYPES = ["phone", "openid", "email", "member_card"]


@contextmanager
def open_marts(settings: Settings):
    """The restricted marts file, read-only: the packs carry raw phones and names, and
    segments compile, preview and export on the same tables."""
    database = settings.restricted_marts_db
    if not database.exists():
        raise FileNotFoundError(f"{database}: no marts yet; run `cdp marts build`")
    con = duckdb.connect(str(database), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        yield con
    finally:
        con.close()


def identity_lookup(lakehouse: Lakehouse) -> IdentifierLookup:
    """Resolve identifier pairs to OneIDs through silver.identity_map."""

    def lookup(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        found = lakehouse.scan(
            IDENTITY_MAP,
            ["identifier_type", "identifier_value", "one_id"],
            pc.field("identifier_value").isin(sorted({v for _, v in pairs})),
        )
        wanted = set(pairs)
        return {
            (t, v): o
            for t, v, o in zip(
                *(
                    found.column(c).to_pylist()
                    for c in ("identifier_type", "identifier_value", "one_id")
                )
            )
            if (t, v) in wanted
        }

    return lookup


@dataclass(frozen=True)
class Contacts:
    """Suppression's tables that no send of a run changes: the OneID map's consent
    identifiers, consent, followers and WeChat events (the touches change with every send)."""

    identity_map: pa.Table
    consent: pa.Table
    followers: pa.Table
    wechat_events: pa.Table


def read_contacts(lakehouse: Lakehouse) -> Contacts:
    """Read the ``Contacts`` tables once, for every send of a run."""
    wechat = pc.field("source") == "wechat"
    return Contacts(
        identity_map=lakehouse.scan(
            IDENTITY_MAP,
            ["identifier_type", "identifier_value", "one_id"],
            pc.field("identifier_type").isin(CONSENT_IDENTIFIER_TYPES),
        ),
        consent=lakehouse.scan(
            CONSENT,
            [
                "identifier_type",
                "identifier_value",
                "identifier_is_valid",
                "channel",
                "status",
                "occurred_at",
            ],
        ),
        followers=lakehouse.scan(FOLLOWERS, ["app_id", "openid", "is_subscribed", "subscribed_at"]),
        wechat_events=lakehouse.scan(
            EVENTS, ["app_id", "openid", "event_type", "occurred_at"], wechat
        ),
    )


def suppression_inputs(
    lakehouse: Lakehouse, audience: pa.Table, contacts: Contacts | None = None
) -> suppression.Inputs:
    """Consent, followers, WeChat events, earlier touches and the OneID map, for ``audience``;
    ``contacts`` when a run already read them (the touches are read every time)."""
    contacts = contacts or read_contacts(lakehouse)
    return suppression.Inputs(
        audience=audience,
        identity_map=contacts.identity_map,
        consent=contacts.consent,
        followers=contacts.followers,
        wechat_events=contacts.wechat_events,
        touches=lakehouse.scan(TOUCHES, TOUCHES_SCHEMA.names, schema=TOUCHES_SCHEMA),
    )
