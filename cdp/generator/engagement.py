"""Coupons, loyalty points and consent: the CRM systems around the member card.

Coupon and loyalty systems receive the card as typed or pasted (see ``spelling.card_forms``).
"""

from __future__ import annotations

import numpy as np

from cdp.generator.catalog import CAMPAIGNS, CITIES, CITY_CODES, TIERS
from cdp.generator.clock import DAY
from cdp.generator.commerce import order_numbers
from cdp.generator.context import Batch, Context, expand, yuan

#: a coupon event's fields, as the coupon system exports them (the journeys' campaign coupons too)
COUPON_FIELDS = (
    "event_id",
    "coupon_id",
    "campaign_id",
    "event_type",
    "occurred_at",
    "member_card_no",
    "app_id",
    "openid",
    "face_value",
    "threshold",
    "order_ref",
    "store_code",
    "city",
)

# (face value, threshold) in fen.
COUPON_TYPES = ((2000, 20000), (5000, 50000), (10000, 100000), (1000, 0))
_CARD_SLOT = {"issue": 0, "claim": 1}  # then redeem or expire


def coupons(ctx: Context) -> list[Batch]:
    people, rng, catalog = ctx.people, ctx.rng, ctx.catalog
    reachable = people.is_member | people.follows.any(axis=1)
    holders = np.flatnonzero(reachable & (rng.random(people.n) < 0.5))
    counts = rng.integers(1, 4, holders.size)
    owner = holders[expand(counts)]
    n = owner.size
    k = np.concatenate([np.arange(c) for c in counts.tolist()]) if n else owner
    coupon_ids = [f"CP{v}" for v in order_numbers(people.first, owner, k, 12)]
    ctype = rng.integers(0, len(COUPON_TYPES), n).tolist()
    campaign = ctx.pick(CAMPAIGNS, n)
    issued = ctx.times_on(ctx.days_between(np.zeros(n), ctx.days))
    claimed = issued + rng.integers(600, 2 * DAY, n)
    claims = rng.random(n) < 0.8
    redeemed = claimed + rng.integers(3600, 10 * DAY, n)
    redeems = claims & (rng.random(n) < 0.45)
    expired = issued + 14 * DAY
    staff = rng.random(n) < 0.04  # a clerk claims with their own WeChat for the customer
    staff_pick = rng.integers(0, len(catalog.staff_openids), n).tolist()
    mp = len(catalog.official_accounts)
    rows: dict[str, list] = {f: [] for f in COUPON_FIELDS}
    ts = []
    end, cn = ctx.clock.end, ctx.clock.cn
    seen_openid: list[list[int]] = [[] for _ in catalog.apps]
    seen_card: list[int] = []
    face_text = [(yuan(f), yuan(t)) for f, t in COUPON_TYPES]
    # Each event types the card anew: issue, claim and redeem may spell it differently.
    card_steps = np.repeat(owner, 3)
    step_at = np.stack(
        [
            issued,
            np.where(claims, claimed, end),  # no claim: never written
            np.where(redeems, redeemed, expired),
        ],
        axis=1,
    ).ravel()
    typed_cards = ctx.spelled_cards(card_steps, step_at < end)
    for i, p in enumerate(owner.tolist()):
        followed = np.flatnonzero(people.follows[p])
        a = int(followed[0]) if followed.size else mp
        app_id, openid = catalog.apps[a].app_id, people.openid[p][a]
        card = people.member_card[p]
        face, threshold = face_text[ctype[i]]
        city = CITIES[people.city[p]]
        steps = [("issue", int(issued[i]))]
        if claims[i]:
            steps.append(("claim", int(claimed[i])))
        if redeems[i]:
            steps.append(("redeem", int(redeemed[i])))
        else:
            steps.append(("expire", int(expired[i])))
        for step, at in steps:
            typed_card = typed_cards[3 * i + _CARD_SLOT.get(step, 2)]
            who_app, who = app_id, openid
            if step == "claim" and staff[i] and card:
                who_app, who = catalog.staff_openids[staff_pick[i]]
            elif at < end and step in ("issue", "claim"):
                seen_openid[a].append(p)
            if card and at < end:
                seen_card.append(p)
            redeem = step == "redeem"
            with_openid = step in ("issue", "claim")
            rows["coupon_id"].append(coupon_ids[i])
            rows["campaign_id"].append(campaign[i])
            rows["event_type"].append(step)
            rows["member_card_no"].append(typed_card)
            rows["app_id"].append(who_app if with_openid else None)
            rows["openid"].append(who if with_openid else None)
            rows["face_value"].append(face)
            rows["threshold"].append(threshold)
            rows["order_ref"].append(
                f"T{CITY_CODES[city]}001{coupon_ids[i][2:]}" if redeem else None
            )
            rows["store_code"].append(f"{CITY_CODES[city]}001" if redeem else None)
            rows["city"].append(city)
            ts.append(at)
    for a, seen in enumerate(seen_openid):
        ctx.usage.mark(f"openid_{a}", seen)
    ctx.usage.mark("member_card", seen_card)
    rows["occurred_at"] = cn(ts)
    rows["event_id"] = ctx.event_ids(len(ts))
    return [Batch("coupons", np.array(ts, dtype=np.int64), rows, "all")]


def loyalty(ctx: Context) -> list[Batch]:
    people, rng = ctx.people, ctx.rng
    members = np.flatnonzero(people.is_member)
    registered = ctx.shared["registered_ts"]
    reg = np.array([registered[p] for p in members.tolist()], dtype=np.int64)
    earns = ctx.poisson(1.5, members.size)
    owner = expand(earns)
    earn_at = ctx.times_on(ctx.days_between(reg[owner] // DAY, ctx.days))
    earn_at = np.maximum(earn_at, reg[owner] + 60)
    spend = (rng.lognormal(5.5, 0.8, owner.size)).astype(np.int64) + 1
    burn_owner = np.flatnonzero(rng.random(members.size) < 0.12)
    burn_at = ctx.times_on(ctx.days_between(reg[burn_owner] // DAY, ctx.days)) + 120
    expire_owner = np.flatnonzero(rng.random(members.size) < 0.05)
    expire_at = ctx.times_on(ctx.days_between(reg[expire_owner] // DAY, ctx.days)) + 180
    tier_owner = np.flatnonzero(rng.random(members.size) < 0.06)
    tier_at = ctx.times_on(ctx.days_between(reg[tier_owner] // DAY, ctx.days)) + 240
    tier_from = rng.integers(0, len(TIERS) - 1, tier_owner.size)
    refs = order_numbers(people.first, members[owner], np.arange(owner.size) % 32, 12)
    parts = [
        # (owner index into members, type, points, reason, tier_from, tier_to, ref, time)
        (
            np.arange(members.size),
            "earn",
            [200] * members.size,
            "register",
            None,
            None,
            None,
            reg + 30,
        ),
        (owner, "earn", spend.tolist(), "purchase", None, None, refs, earn_at),
        (
            burn_owner,
            "burn",
            (-100 * rng.integers(1, 10, burn_owner.size)).tolist(),
            "redeem_gift",
            None,
            None,
            None,
            burn_at,
        ),
        (
            expire_owner,
            "expire",
            (-rng.integers(10, 500, expire_owner.size)).tolist(),
            "points_expiry",
            None,
            None,
            None,
            expire_at,
        ),
        (
            tier_owner,
            "tier_change",
            [None] * tier_owner.size,
            "rolling_spend",
            [TIERS[t] for t in tier_from.tolist()],
            [TIERS[t + 1] for t in tier_from.tolist()],
            None,
            tier_at,
        ),
    ]
    rows: dict[str, list] = {
        f: []
        for f in (
            "event_id",
            "member_card_no",
            "event_type",
            "points",
            "reason",
            "tier_from",
            "tier_to",
            "order_ref",
            "occurred_at",
        )
    }
    ts = []
    for idx, kind, points, reason, t_from, t_to, ref, at in parts:
        m = idx.size
        rows["member_card_no"] += ctx.spelled_cards(members[idx], at < ctx.clock.end)
        rows["event_type"] += [kind] * m
        rows["points"] += points
        rows["reason"] += [reason] * m
        rows["tier_from"] += t_from if t_from is not None else [None] * m
        rows["tier_to"] += t_to if t_to is not None else [None] * m
        rows["order_ref"] += [f"T{r}" for r in ref] if ref is not None else [None] * m
        rows["occurred_at"] += ctx.clock.cn(at.tolist())
        ts.append(at)
    all_ts = np.concatenate(ts)
    rows["event_id"] = ctx.event_ids(all_ts.size)
    return [Batch("loyalty_events", all_ts, rows, "all")]


def consent(ctx: Context) -> list[Batch]:
    """Opt-ins when people register or follow; some opt out later."""
    people, rng, catalog = ctx.people, ctx.rng, ctx.catalog
    rows: dict[str, list] = {
        f: []
        for f in (
            "event_id",
            "identifier_type",
            "identifier_value",
            "app_id",
            "channel",
            "status",
            "source",
            "occurred_at",
        )
    }
    ts = []

    def add(
        person: np.ndarray, kind: str, values: list, app_ids: list, channel: str, source: str
    ) -> None:
        m = person.size
        at = ctx.times_on(ctx.days_between(np.zeros(m), ctx.days))
        out = rng.random(m) < 0.1
        later = np.where(
            at // DAY < ctx.days - 1,
            ctx.times_on(ctx.days_between(at // DAY + 1, max(ctx.days, 2))),
            at + 60,
        )
        for when, status, pick in ((at, "opt_in", np.ones(m, bool)), (later, "opt_out", out)):
            sel = np.flatnonzero(pick)
            rows["identifier_type"] += [kind] * sel.size
            rows["identifier_value"] += [values[i] for i in sel.tolist()]
            rows["app_id"] += [app_ids[i] for i in sel.tolist()]
            rows["channel"] += [channel] * sel.size
            rows["status"] += [status] * sel.size
            rows["source"] += [source] * sel.size
            rows["occurred_at"] += ctx.clock.cn(when[sel].tolist())
            ts.append(when[sel])

    sms = np.flatnonzero(people.is_member & (rng.random(people.n) < 0.5))
    if sms.size:
        add(
            sms,
            "phone",
            ctx.spelled_phones(sms, np.zeros(sms.size, np.int64)),
            [None] * sms.size,
            "sms",
            "member_centre",
        )
    acc = catalog.official_accounts
    template = np.flatnonzero(people.follows.any(axis=1) & (rng.random(people.n) < 0.2))
    first = [int(np.flatnonzero(people.follows[p])[0]) for p in template.tolist()]
    for a in range(len(acc)):
        ctx.usage.mark(f"openid_{a}", template[np.array(first, dtype=np.int64) == a])
    if template.size:
        add(
            template,
            "openid",
            [people.openid[p][a] for p, a in zip(template.tolist(), first)],
            [acc[a].app_id for a in first],
            "wechat_template",
            "subscribe_message",
        )
    mail = np.flatnonzero(
        np.array([e is not None for e in people.email], bool) & (rng.random(people.n) < 0.3)
    )
    ctx.usage.mark("email", mail)
    if mail.size:
        add(
            mail,
            "email",
            [people.email[p] for p in mail.tolist()],
            [None] * mail.size,
            "email",
            "newsletter_form",
        )
    rows["event_id"] = ctx.event_ids(sum(t.size for t in ts))
    return [Batch("consent", np.concatenate(ts) if ts else np.zeros(0, np.int64), rows, "all")]
