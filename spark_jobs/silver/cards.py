"""Member card numbers in their canonical form, before any silver transform reads them.

A card typed with a zero-width space, pasted with an NBSP, in full-width digits or with its
leading zeros dropped by a spreadsheet is one card: every bronze column holding a card number
is rewritten once, on the pending bronze rows, so every silver table (and the members' key,
which is the card) sees the same spelling. The forms come from the identity rules'
``member_cards`` programmes (``identity.rules.CardProgramme``).
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import functions as F

from spark_jobs import normalise as n

#: bronze channel -> its columns that hold a member card number (web events name it user_id)
CARD_COLUMNS = {
    "miniprogram_members": ("member_card_no",),
    "pos_tickets": ("member_card_no",),
    "coupons": ("member_card_no",),
    "loyalty_events": ("member_card_no",),
    "web_events": ("user_id",),
}


def canonical_cards(df, columns: Sequence[str], programmes=()):
    """``df`` with each of ``columns`` in the canonical card form (pure)."""
    for column in columns:
        df = df.withColumn(column, F.expr(n.member_card(f"`{column}`", programmes)))
    return df


def with_canonical_cards(frames: dict, programmes=()) -> dict:
    """Bronze frames (channel -> DataFrame) with their card columns canonical (pure)."""
    return {
        channel: canonical_cards(df, CARD_COLUMNS.get(channel, ()), programmes)
        for channel, df in frames.items()
    }
