"""Online stores: Tmall and JD (orders and membership joins) and the Douyin shop.

An order is delivered once per status change, each time with a later modification time; a
version modified after the window has not been delivered yet and is dropped by the writer.
A few Tmall versions are re-sent later with the same ``modified`` and corrected content; some
JD orders list the same skuId on two lines.
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import numpy as np

from cdp.generator.basket import Line, baskets
from cdp.generator.baskets import with_affinities
from cdp.generator.catalog import CATEGORIES
from cdp.generator.clock import DAY
from cdp.generator.context import Batch, Context, Raw, expand, yuan

_SCRAMBLE = 2_654_435_761
CORRECTED_SHARE = 0.01  # of the Tmall trade versions that can be corrected
CORRECTION_LAG = 2  # days after the version's modification
REPEATED_SKU_SHARE = 0.06  # of JD orders
_PRIME = 9_999_999_967


def order_numbers(first: int, person: np.ndarray, k: np.ndarray, width: int = 12) -> list[str]:
    """Unique, meaningless order numbers of ``width`` digits (>= 12).

    The last ten digits are a bijection of (person, order counter); the leading digits only
    make the number look like the platform's.
    """
    g = (first + np.asarray(person, dtype=np.int64)) * 64 + np.asarray(k, dtype=np.int64) + 4_099
    low = (g * _SCRAMBLE) % _PRIME
    head_width = width - 10
    high = 10 ** (head_width - 1) + (g * 7_919) % (9 * 10 ** (head_width - 1))
    return [f"{h}{v:010d}" for h, v in zip(high.tolist(), low.tolist())]


def _orders(ctx: Context, active: np.ndarray, rate: float, channel: str):
    """Owners, creation times and baskets of the orders of active people (>= 1 each)."""
    people = np.flatnonzero(active)
    counts = 1 + ctx.poisson(rate, people.size)
    owner = people[expand(counts)]
    k = np.concatenate([np.arange(c) for c in counts.tolist()]) if owner.size else owner
    # Created before the last day so that at least the first version is delivered.
    created = ctx.times_on(ctx.days_between(np.zeros(owner.size), max(ctx.days - 1, 1)))
    fav = ctx.rng.integers(0, len(CATEGORIES), ctx.people.n)[owner]
    items = with_affinities(ctx, owner, baskets(ctx.rng, owner.size, fav), channel, False)
    return people, owner, k, created, items


def _timeline(ctx: Context, created: np.ndarray):
    """Pay, ship and finish times, and whether an order is unpaid or refunded."""
    rng, n = ctx.rng, created.size
    paid = created + rng.integers(30, 900, n)
    shipped = paid + rng.integers(DAY // 2, 2 * DAY, n)
    finished = shipped + rng.integers(2 * DAY, 7 * DAY, n)
    unpaid = rng.random(n) < 0.05
    refunded = ~unpaid & (rng.random(n) < 0.08)
    return paid, shipped, finished, unpaid, refunded


def tmall(ctx: Context) -> list[Batch]:
    shop = ctx.catalog.tmall_shop
    people = ctx.people
    buyers, owner, k, created, items = _orders(ctx, people.active["tmall"], 0.7, "tmall")
    ctx.usage.mark("tmall_ouid", buyers)
    paid, shipped, finished, unpaid, refunded = _timeline(ctx, created)
    tids = order_numbers(people.first, owner, k, 18)
    post = np.where(ctx.rng.random(owner.size) < 0.3, 1000, 0).tolist()
    cn = ctx.clock.cn
    rows: dict[str, list] = {
        f: []
        for f in (
            "tid",
            "shop_id",
            "status",
            "buyer_nick",
            "ouid",
            "total_fee",
            "payment",
            "discount_fee",
            "post_fee",
            "created",
            "pay_time",
            "end_time",
            "modified",
            "orders",
        )
    }
    ts_out = []
    created_t, paid_t, end_t = cn(created.tolist()), cn(paid.tolist()), cn(finished.tolist())
    versions_of = []
    for i in range(owner.size):
        if unpaid[i]:
            versions_of.append(
                [
                    ("WAIT_BUYER_PAY", created[i], False, False),
                    ("TRADE_CLOSED_BY_TAOBAO", created[i] + DAY, False, True),
                ]
            )
        else:
            last = "TRADE_CLOSED" if refunded[i] else "TRADE_FINISHED"
            versions_of.append(
                [
                    ("WAIT_SELLER_SEND_GOODS", paid[i], True, False),
                    ("WAIT_BUYER_CONFIRM_GOODS", shipped[i], True, False),
                    (last, finished[i], True, True),
                ]
            )
    modified_t = {}
    rows_of_trade: list[list[int]] = []
    for i, versions in enumerate(versions_of):
        rows_of_trade.append(list(range(len(ts_out), len(ts_out) + len(versions))))
        lines: list[Line] = items[i]
        tid = tids[i]
        gross = sum(line.gross for line in lines)
        discount = sum(line.discount for line in lines)
        p = int(owner[i])
        subs = {}
        for status, at, is_paid, ended in versions:
            refund = status == "TRADE_CLOSED"
            if refund not in subs:
                subs[refund] = Raw(
                    "["
                    + ",".join(
                        f'{{"oid":"{tid}{j + 1:02d}","num_iid":"6{line.sku[2:]}{line.category}",'
                        f'"sku_id":"{line.sku}","title":"{line.title}",'
                        f'"category":"{CATEGORIES[line.category]}","price":"{yuan(line.price)}",'
                        f'"num":"{line.num}","payment":"{yuan(line.amount)}",'
                        f'"discount_fee":"{yuan(line.discount)}",'
                        f'"refund_status":"{"SUCCESS" if refund else "NO_REFUND"}",'
                        f'"refund_fee":"{yuan(line.amount if refund else 0)}"}}'
                        for j, line in enumerate(lines)
                    )
                    + "]"
                )
            at = int(at)
            if at not in modified_t:
                modified_t[at] = cn([at])[0]
            rows["tid"].append(tid)
            rows["shop_id"].append(shop)
            rows["status"].append(status)
            rows["buyer_nick"].append(people.buyer_nick[p])
            rows["ouid"].append(people.tmall_ouid[p])
            rows["total_fee"].append(yuan(gross))
            rows["payment"].append(yuan(gross - discount + post[i]))
            rows["discount_fee"].append(yuan(discount))
            rows["post_fee"].append(yuan(post[i]))
            rows["created"].append(created_t[i])
            rows["pay_time"].append(paid_t[i] if is_paid else None)
            rows["end_time"].append((end_t[i] if is_paid else modified_t[at]) if ended else None)
            rows["modified"].append(modified_t[at])
            rows["orders"].append(subs[refund])
            ts_out.append(at)
    batches = [Batch("tmall_orders", np.array(ts_out, dtype=np.int64), rows, shop)]
    corrected = _corrected_trades(ctx, rows, ts_out, rows_of_trade)
    if corrected is not None:
        batches.append(corrected)
    # Membership joins: the only Tmall record with a phone.
    joiners = buyers[ctx.rng.random(buyers.size) < 0.4]
    joined = ctx.times_on(ctx.days_between(np.zeros(joiners.size), ctx.days))
    batches.append(
        Batch(
            "tmall_members",
            joined,
            {
                "shop_id": [shop] * joiners.size,
                "ouid": [people.tmall_ouid[p] for p in joiners.tolist()],
                "buyer_nick": [people.buyer_nick[p] for p in joiners.tolist()],
                "mobile": ctx.spelled_phones(joiners, joined),
                "member_grade": ctx.rng.integers(1, 4, joiners.size).tolist(),
                "joined_at": cn(joined.tolist()),
            },
            shop,
        )
    )
    return batches


def _corrected_trades(
    ctx: Context, rows: dict[str, list], ts: list[int], rows_of_trade: list[list[int]]
) -> Batch | None:
    """Trade versions the platform re-sends days later with the same ``modified`` but
    corrected content (the post fee charged or waived after all), in a corrections file.

    Only a version still the trade's latest when the correction arrives is corrected, so the
    correction is the trade's final state until its next status change.
    """
    lag, last = CORRECTION_LAG, ctx.days - 1
    candidates = []
    for trade in rows_of_trade:
        for v, r in enumerate(trade):
            arrives = ts[r] // DAY + lag
            nxt = trade[v + 1] if v + 1 < len(trade) else None
            if arrives <= last and (nxt is None or ts[nxt] // DAY > arrives):
                candidates.append(r)
    chosen = [r for r in candidates if ctx.rng.random() < CORRECTED_SHARE] or candidates[:1]
    if not chosen:
        return None
    fixed = {k: [v[r] for r in chosen] for k, v in rows.items()}
    for j, r in enumerate(chosen):
        post = 1000 if rows["post_fee"][r] == "0.00" else 0
        payment = (Decimal(rows["total_fee"][r]) - Decimal(rows["discount_fee"][r])) * 100 + post
        fixed["post_fee"][j], fixed["payment"][j] = yuan(post), yuan(int(payment))
        ctx.shared.setdefault("corrections", []).append(
            (
                "tmall_orders",
                f"{rows['tid'][r]}|{rows['modified'][r]}",
                "payment",
                rows["payment"][r],
                fixed["payment"][j],
            )
        )
    return Batch(
        "tmall_orders",
        np.array([ts[r] for r in chosen], dtype=np.int64),
        fixed,
        ctx.catalog.tmall_shop,
        suffix="_correction",
        lag=lag,
    )


def _repeat_sku(rng: np.random.Generator, lines: list[Line]) -> list[Line]:
    """JD orders sometimes carry the same skuId twice: a free gift line or a second size."""
    roll = rng.random()
    if roll >= REPEATED_SKU_SHARE:
        return lines
    first = lines[0]
    if roll < REPEATED_SKU_SHARE / 2:
        extra = replace(first, title_cn=f"赠品{first.title_cn}", price=0, num=1, discount=0)
    else:
        extra = replace(first, num=1, discount=0)
    return [*lines, extra]


def jd(ctx: Context) -> list[Batch]:
    vender = ctx.catalog.jd_vender
    people = ctx.people
    buyers, owner, k, created, items = _orders(ctx, people.active["jd"], 0.5, "jd")
    paid, shipped, finished, unpaid, refunded = _timeline(ctx, created)
    ctx.usage.mark("jd_pin", owner[~unpaid])
    ids = order_numbers(people.first, owner, k, 12)
    freight = np.where(ctx.rng.random(owner.size) < 0.4, 600, 0).tolist()
    cn = ctx.clock.cn
    names = (
        "orderId",
        "venderId",
        "orderState",
        "pin",
        "orderTotalPrice",
        "orderSellerPrice",
        "orderPayment",
        "sellerDiscount",
        "freightPrice",
        "refundAmount",
        "orderStartTime",
        "paymentConfirmTime",
        "modified",
        "itemInfoList",
    )
    rows: dict[str, list] = {f: [] for f in names}
    ts_out = []
    created_t, paid_t = cn(created.tolist()), cn(paid.tolist())
    for i in range(owner.size):
        lines = _repeat_sku(ctx.rng, items[i])
        gross = sum(line.gross for line in lines)
        discount = sum(line.discount for line in lines)
        seller = gross - discount
        sub = Raw(
            "["
            + ",".join(
                f'{{"skuId":"{line.sku}","skuName":"{line.title_cn}",'
                f'"category":"{CATEGORIES[line.category]}","jdPrice":"{yuan(line.price)}",'
                f'"itemTotal":"{line.num}"}}'
                for line in lines
            )
            + "]"
        )
        if unpaid[i]:
            continue  # JD only exports paid orders
        last = "TRADE_CANCELED" if refunded[i] else "FINISHED_L"
        versions = (
            ("WAIT_SELLER_STOCK_OUT", paid[i]),
            ("WAIT_GOODS_RECEIVE_CONFIRM", shipped[i]),
            (last, finished[i]),
        )
        p = int(owner[i])
        for state, at in versions:
            at = int(at)
            rows["orderId"].append(ids[i])
            rows["venderId"].append(vender)
            rows["orderState"].append(state)
            rows["pin"].append(people.jd_pin[p])
            rows["orderTotalPrice"].append(yuan(gross))
            rows["orderSellerPrice"].append(yuan(seller))
            rows["orderPayment"].append(yuan(seller + freight[i]))
            rows["sellerDiscount"].append(yuan(discount))
            rows["freightPrice"].append(yuan(freight[i]))
            rows["refundAmount"].append(
                yuan(seller + freight[i] if state == "TRADE_CANCELED" else 0)
            )
            rows["orderStartTime"].append(created_t[i])
            rows["paymentConfirmTime"].append(paid_t[i])
            rows["modified"].append(cn([at])[0])
            rows["itemInfoList"].append(sub)
            ts_out.append(at)
    batches = [Batch("jd_orders", np.array(ts_out, dtype=np.int64), rows, vender)]
    joiners = buyers[ctx.rng.random(buyers.size) < 0.35]
    ctx.usage.mark("jd_pin", joiners)
    joined = ctx.times_on(ctx.days_between(np.zeros(joiners.size), ctx.days))
    batches.append(
        Batch(
            "jd_members",
            joined,
            {
                "venderId": [vender] * joiners.size,
                "pin": [people.jd_pin[p] for p in joiners.tolist()],
                "mobile": ctx.spelled_phones(joiners, joined),
                "joined_at": cn(joined.tolist()),
            },
            vender,
        )
    )
    return batches


def douyin(ctx: Context) -> list[Batch]:
    shop = ctx.catalog.douyin_shop
    people = ctx.people
    buyers, owner, k, created, items = _orders(ctx, people.active["douyin"], 0.5, "douyin")
    ctx.usage.mark("douyin_open_id", buyers)
    paid, shipped, finished, unpaid, refunded = _timeline(ctx, created)
    ids = order_numbers(people.first, owner, k, 19)
    epoch0 = ctx.clock.epoch0
    names = (
        "order_id",
        "shop_id",
        "open_id",
        "order_status",
        "order_amount",
        "pay_amount",
        "promotion_amount",
        "post_amount",
        "refund_amount",
        "create_time",
        "pay_time",
        "update_time",
        "sku_order_list",
    )
    rows: dict[str, list] = {f: [] for f in names}
    ts_out = []
    for i in range(owner.size):
        lines = items[i]
        gross = sum(line.gross for line in lines)
        promo = sum(line.discount for line in lines)
        sub = Raw(
            "["
            + ",".join(
                json.dumps(
                    {
                        "sku_order_id": f"{ids[i]}{j + 1}",
                        "product_id": f"3{line.sku[2:]}{line.category}",
                        "product_name": line.title_cn,
                        "category": CATEGORIES[line.category],
                        "item_num": line.num,
                        "origin_amount": line.gross,
                        "pay_amount": line.amount,
                    },
                    ensure_ascii=False,
                    separators=(",", ":"),
                )
                for j, line in enumerate(lines)
            )
            + "]"
        )
        if unpaid[i]:
            versions = ((1, created[i], False), (4, created[i] + DAY // 2, False))
        else:
            versions = (
                (2, paid[i], True),
                (3, shipped[i], True),
                (4 if refunded[i] else 5, finished[i], True),
            )
        p = int(owner[i])
        for status, at, is_paid in versions:
            at = int(at)
            rows["order_id"].append(ids[i])
            rows["shop_id"].append(shop)
            rows["open_id"].append(people.douyin_open_id[p])
            rows["order_status"].append(status)
            rows["order_amount"].append(gross)
            rows["pay_amount"].append(gross - promo if is_paid else 0)
            rows["promotion_amount"].append(promo)
            rows["post_amount"].append(0)
            rows["refund_amount"].append(gross - promo if status == 4 and is_paid else 0)
            rows["create_time"].append(int(created[i]) + epoch0)
            rows["pay_time"].append(int(paid[i]) + epoch0 if is_paid else None)
            rows["update_time"].append(at + epoch0)
            rows["sku_order_list"].append(sub)
            ts_out.append(at)
    return [Batch("douyin_orders", np.array(ts_out, dtype=np.int64), rows, shop)]
