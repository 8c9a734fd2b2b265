"""Store POS tickets: one CSV row per ticket line, per store and day.

Cashiers identify members by card or phone, type a dummy or the store's own phone for
walk-ins, and sometimes ring up a return that references the original ticket.
"""

from __future__ import annotations

import numpy as np

from cdp.generator.basket import baskets
from cdp.generator.catalog import (
    CATEGORIES,
    CITIES,
    FORMAT_CHINESE,
    PAYMENT_METHODS,
    PAYMENT_WEIGHTS,
    TEST_PHONES,
)
from cdp.generator.clock import DAY
from cdp.generator.commerce import order_numbers
from cdp.generator.context import Batch, Context, expand, yuan

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
    stores = [stores_by_city[c][s % len(stores_by_city[c])]
              for c, s in zip(people.city[owner].tolist(), choice.tolist())]
    # Stores trade from 10:00 to 22:00.
    day = ctx.days_between(np.zeros(n), ctx.days)
    at = day * DAY + 10 * 3600 + rng.integers(0, 12 * 3600, n)
    member = people.is_member[owner]
    how = np.where(member, rng.choice(4, n, p=_MEMBER_ID_P), rng.choice(4, n, p=_GUEST_ID_P))
    items = baskets(rng, n, np.array([s.category_index for s in stores]))
    pay = rng.choice(len(PAYMENT_METHODS), n, p=np.array(PAYMENT_WEIGHTS)).tolist()
    tickets = order_numbers(people.first, owner, k, 12)

    phone_idx = np.flatnonzero(how == 1)
    spelled = dict(zip(phone_idx.tolist(), ctx.spelled_phones(owner[phone_idx], at[phone_idx])))
    card_idx = np.flatnonzero(how == 0)
    ctx.usage.mark("member_card", owner[card_idx])
    dummy = rng.random(n)
    ticket_phone, ticket_card = [], []
    for i, (h, p, store) in enumerate(zip(how.tolist(), owner.tolist(), stores)):
        if h == 0:
            ticket_phone.append(None)
            ticket_card.append(people.member_card[p])
        elif h == 1:
            ticket_phone.append(spelled[i])
            ticket_card.append(None)
        elif h == 2:
            d = dummy[i]
            ticket_phone.append(store.phone if d < 0.5 else TEST_PHONES[0] if d < 0.85
                                else TEST_PHONES[1])
            ticket_card.append(None)
        else:
            ticket_phone.append(None)
            ticket_card.append(None)

    # A few sales come back within days: a RETURN ticket with negative quantities.
    returned = np.flatnonzero(rng.random(n) < 0.04)
    back_at = at[returned] + DAY * rng.integers(1, 6, returned.size)
    return_no = order_numbers(people.first, owner[returned], k[returned] + 32, 12)

    names = ("store_code", "business_format", "ticket_no", "line_no", "ticket_type",
             "original_ticket_no", "ticket_time", "member_phone", "member_card_no", "sku",
             "item_name", "category", "quantity", "unit_price", "discount", "line_amount",
             "payment_method")
    rows: dict[str, list] = {f: [] for f in names}
    ts_out, keys = [], []
    pos_time = ctx.clock.pos

    def add(i: int, ticket: str, kind: str, original: str | None, when: int, sign: int,
            lines) -> None:
        store = stores[i]
        chinese = store.business_format in FORMAT_CHINESE.values()
        when_text = pos_time([when])[0]
        for j, line in enumerate(lines):
            category = CATEGORIES[line.category]
            rows["store_code"].append(store.code)
            rows["business_format"].append(store.business_format)
            rows["ticket_no"].append(ticket)
            rows["line_no"].append(j + 1)
            rows["ticket_type"].append(kind)
            rows["original_ticket_no"].append(original)
            rows["ticket_time"].append(when_text)
            rows["member_phone"].append(ticket_phone[i])
            rows["member_card_no"].append(ticket_card[i])
            rows["sku"].append(line.sku)
            rows["item_name"].append(line.title_cn if chinese else line.title)
            rows["category"].append(FORMAT_CHINESE[category] if chinese else category)
            rows["quantity"].append(sign * line.num)
            rows["unit_price"].append(yuan(line.price))
            rows["discount"].append(yuan(line.discount))
            rows["line_amount"].append(yuan(sign * line.amount))
            rows["payment_method"].append(PAYMENT_METHODS[pay[i]])
            ts_out.append(when)
            keys.append(store.code)

    for i in range(n):
        add(i, f"{store_prefix(stores[i].code)}{tickets[i]}", "SALE", None, int(at[i]), 1, items[i])
    for r, i in enumerate(returned.tolist()):
        original = f"{store_prefix(stores[i].code)}{tickets[i]}"
        add(i, f"{store_prefix(stores[i].code)}{return_no[r]}", "RETURN", original,
            int(back_at[r]), -1, items[i][:1 + (len(items[i]) > 2)])
    return [Batch("pos_tickets", np.array(ts_out, dtype=np.int64), rows, keys)]


def store_prefix(code: str) -> str:
    return f"T{code}"
