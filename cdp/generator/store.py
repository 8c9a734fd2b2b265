"""Store POS tickets: one CSV row per ticket line, per store and day.

Cashiers identify members by card (in many spellings) or phone, type a dummy or the store's
own phone for walk-ins, and sometimes ring up a return that references the original ticket.
A few tickets are re-exported a day later with a corrected amount (``..._correction.csv``),
and the members of the two-person realities (see ``realities``) get tickets of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from cdp.generator import spelling
from cdp.generator.basket import Line, baskets
from cdp.generator.baskets import with_affinities
from cdp.generator.catalog import (
    CATEGORIES,
    CITIES,
    FORMAT_CHINESE,
    PAYMENT_METHODS,
    PAYMENT_WEIGHTS,
    TEST_PHONES,
    Store,
)
from cdp.generator.clock import DAY
from cdp.generator.commerce import order_numbers
from cdp.generator.context import Batch, Context, expand, yuan

CORRECTED_SHARE = 0.01  # of sales, re-exported with a corrected amount
_FIELDS = (
    "store_code",
    "business_format",
    "ticket_no",
    "line_no",
    "ticket_type",
    "original_ticket_no",
    "ticket_time",
    "member_phone",
    "member_card_no",
    "sku",
    "item_name",
    "category",
    "quantity",
    "unit_price",
    "discount",
    "line_amount",
    "payment_method",
)
# How the cashier identified the customer: card, phone, a shared/dummy phone, or nobody.
_MEMBER_ID_P = np.array([0.45, 0.30, 0.05, 0.20])
_GUEST_ID_P = np.array([0.0, 0.30, 0.10, 0.60])


def pos_tickets(ctx: Context) -> list[Batch]:
    people, rng, catalog = ctx.people, ctx.rng, ctx.catalog
    stores_by_city = [[s for s in catalog.stores if s.city == city] for city in CITIES]
    shoppers = np.flatnonzero(people.active["pos"])
    counts = 1 + ctx.poisson(1.2, shoppers.size)
    owner = shoppers[expand(counts)]
    n = owner.size
    k = np.concatenate([np.arange(c) for c in counts.tolist()]) if n else owner
    home = rng.integers(0, 8, shoppers.size)[expand(counts)]
    stray = rng.random(n) < 0.3
    choice = np.where(stray, rng.integers(0, 8, n), home)
    stores = [
        stores_by_city[c][s % len(stores_by_city[c])]
        for c, s in zip(people.city[owner].tolist(), choice.tolist())
    ]
    # Stores trade from 10:00 to 22:00.
    day = ctx.days_between(np.zeros(n), ctx.days)
    at = day * DAY + 10 * 3600 + rng.integers(0, 12 * 3600, n)
    member = people.is_member[owner]
    how = np.where(member, rng.choice(4, n, p=_MEMBER_ID_P), rng.choice(4, n, p=_GUEST_ID_P))
    items = baskets(rng, n, np.array([s.category_index for s in stores]))
    items = with_affinities(ctx, owner, items, "pos", keep_category=True)
    pay = rng.choice(len(PAYMENT_METHODS), n, p=np.array(PAYMENT_WEIGHTS)).tolist()
    tickets = order_numbers(people.first, owner, k, 12)

    phone_idx = np.flatnonzero(how == 1)
    spelled = dict(zip(phone_idx.tolist(), ctx.spelled_phones(owner[phone_idx], at[phone_idx])))
    card_idx = np.flatnonzero(how == 0)
    ctx.usage.mark("member_card", owner[card_idx])
    cards = dict(
        zip(card_idx.tolist(), ctx.spelled_cards(owner[card_idx], np.ones(card_idx.size, bool)))
    )
    dummy = rng.random(n)
    _ensure_dummies(how, dummy)
    tickets_of = []
    for i, (h, p, store) in enumerate(zip(how.tolist(), owner.tolist(), stores)):
        if h == 0:
            phone, card = None, cards[i]
        elif h == 1:
            phone, card = spelled[i], None
        elif h == 2:
            d = dummy[i]
            phone = store.phone if d < 0.5 else TEST_PHONES[0] if d < 0.85 else TEST_PHONES[1]
            card = None
        else:
            phone, card = None, None
        tickets_of.append(
            _Ticket(
                store,
                f"{store_prefix(store.code)}{tickets[i]}",
                "SALE",
                None,
                int(at[i]),
                phone,
                card,
                items[i],
                PAYMENT_METHODS[pay[i]],
            )
        )

    # A few sales come back within days: a RETURN ticket with negative quantities.
    returned = np.flatnonzero(rng.random(n) < 0.04)
    back_at = at[returned] + DAY * rng.integers(1, 6, returned.size)
    return_no = order_numbers(people.first, owner[returned], k[returned] + 32, 12)
    returns = [
        _Ticket(
            sale.store,
            f"{store_prefix(sale.store.code)}{return_no[r]}",
            "RETURN",
            sale.ticket_no,
            int(back_at[r]),
            sale.phone,
            sale.card,
            sale.lines[: 1 + (len(sale.lines) > 2)],
            sale.payment,
            sign=-1,
        )
        for r, sale in enumerate(tickets_of[i] for i in returned.tolist())
    ]
    planned = _planned_tickets(ctx, stores_by_city, rng)
    batches = [_batch(ctx, tickets_of + returns + planned)]
    corrections = _corrections(ctx, tickets_of, rng)
    if corrections:
        batches.append(_batch(ctx, corrections, suffix="_correction", lag=1))
    return batches


def _ensure_dummies(how: np.ndarray, dummy: np.ndarray) -> None:
    """Small runs too show the store's phone and both dummy numbers: the first tickets without
    any id get those no ticket drew (``how`` 2 = a dummy, 3 = nobody; ``dummy`` picks which)."""
    kind = np.where(dummy < 0.5, 0, np.where(dummy < 0.85, 1, 2))
    missing = [k for k in range(3) if not np.any((how == 2) & (kind == k))]
    for i, k in zip(np.flatnonzero(how == 3)[: len(missing)].tolist(), missing):
        how[i], dummy[i] = 2, (0.25, 0.6, 0.9)[k]


@dataclass(frozen=True)
class _Ticket:
    store: Store
    ticket_no: str
    kind: str  # SALE or RETURN
    original: str | None
    at: int
    phone: str | None
    card: str | None
    lines: list[Line]
    payment: str
    sign: int = 1


def _batch(ctx: Context, tickets: list[_Ticket], suffix: str = "", lag: int = 0) -> Batch:
    """One CSV row per ticket line. Times before the window (history) are formatted slowly."""
    rows: dict[str, list] = {f: [] for f in _FIELDS}
    ts_out, keys = [], []
    clock = ctx.clock
    for t in tickets:
        store = t.store
        chinese = store.business_format in FORMAT_CHINESE.values()
        when_text = (
            clock.pos([t.at])[0] if t.at >= 0 else clock.history_text(t.at, "%Y/%m/%d %H:%M:%S")
        )
        for j, line in enumerate(t.lines):
            category = CATEGORIES[line.category]
            values = (
                store.code,
                store.business_format,
                t.ticket_no,
                j + 1,
                t.kind,
                t.original,
                when_text,
                t.phone,
                t.card,
                line.sku,
                line.title_cn if chinese else line.title,
                FORMAT_CHINESE[category] if chinese else category,
                t.sign * line.num,
                yuan(line.price),
                yuan(line.discount),
                yuan(t.sign * line.amount),
                t.payment,
            )
            for name, value in zip(_FIELDS, values):
                rows[name].append(value)
            ts_out.append(t.at)
            keys.append(store.code)
    return Batch("pos_tickets", np.array(ts_out, dtype=np.int64), rows, keys, suffix, lag)


def _planned_tickets(ctx: Context, stores_by_city, rng: np.random.Generator) -> list[_Ticket]:
    """Tickets that make the two-person realities visible, each with the phone and the card.

    A reassigned phone: the previous owner's tickets before the gap, the current owner's
    after it (history backfill) and in the window. A foreign look-alike: both people shop.
    """
    people, plan = ctx.people, ctx.plan
    wanted: list[tuple[int, int, str]] = []  # (person, time, phone as typed)
    for r in plan.reassigned:
        wanted += [
            (r.previous, r.previous_first + 30 * DAY, r.phone),
            (r.previous, r.previous_last, r.phone),
            (r.current, r.current_first, r.phone),
        ]
        for person in (r.previous, r.current):
            ctx.usage.mark("phone_0", [person])
            wanted.append((person, _shop_time(ctx, rng), people.phone[person]))
    if plan.lookalike:
        for person in (plan.lookalike.foreign, plan.lookalike.mainland):
            ctx.usage.mark("phone_0", [person])
            # Spaced, as tills keep it: "+1 310 718 8897".
            phone = (
                spelling.spell_foreign(people.phone[person], 1)
                if plan.foreign[person]
                else people.phone[person]
            )
            wanted.append((person, _shop_time(ctx, rng), phone))
    out = []
    for j, (person, at, phone) in enumerate(wanted):
        ctx.usage.mark("member_card", [person])
        city_stores = stores_by_city[people.city[person]]
        store = city_stores[person % len(city_stores)]
        number = order_numbers(people.first, np.array([person]), np.array([48 + j % 16]), 12)[0]
        lines = baskets(rng, 1, np.array([store.category_index]))[0]
        out.append(
            _Ticket(
                store,
                f"{store_prefix(store.code)}{number}",
                "SALE",
                None,
                at,
                phone,
                people.member_card[person],
                lines,
                PAYMENT_METHODS[0],
            )
        )
    return out


def _shop_time(ctx: Context, rng: np.random.Generator) -> int:
    return int(rng.integers(0, ctx.days)) * DAY + 10 * 3600 + int(rng.integers(0, 12 * 3600))


def _corrections(ctx: Context, sales: list[_Ticket], rng: np.random.Generator) -> list[_Ticket]:
    """Sales the store re-exports a day later with a corrected discount on the first line
    (a promotion the till missed, or one it applied wrongly); same ticket, line and time."""
    last = ctx.days - 2  # the corrected file must still arrive inside the window
    candidates = [t for t in sales if t.at // DAY <= last]
    chosen = [t for t in candidates if rng.random() < CORRECTED_SHARE]
    if not chosen and candidates:
        chosen = candidates[:1]
    out = []
    for t in chosen:
        first = t.lines[0]
        discount = 0 if first.discount else max(100, first.gross // 10 // 100 * 100)
        fixed = replace(first, discount=min(discount, first.gross))
        out.append(replace(t, lines=[fixed, *t.lines[1:]]))
        ctx.shared.setdefault("corrections", []).append(
            (
                "pos_tickets",
                f"{t.store.code}|{t.ticket_no}|1",
                "line_amount",
                yuan(first.amount),
                yuan(fixed.amount),
            )
        )
    return out


def store_prefix(code: str) -> str:
    return f"T{code}"
