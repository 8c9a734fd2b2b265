"""The events the example journeys react to: add-to-cart in the member mini-program, scans of
the National Day campaign's parametric QR codes in the malls, and that campaign's coupons.

Names and fields follow what the platforms send:

- **add-to-cart** is the standard ``add_to_cart`` behaviour of Tencent Youshu's mini-program
  SDK: the page path with the ``sku_id``, the mini-program's ``app_id`` and the user's
  ``open_id``, here also the member card the member centre knows (``user_id``); delivered by
  the mini-program's tracking export as ``web_events`` (file key ``miniprogram``);
- a **campaign scan** is the official account's ``SCAN`` push of a parametric QR code
  (``QR_LIMIT_STR_SCENE``) whose scene string names the campaign and the poster's spot
  (``mall_qr_national_day_atrium``), with the followed account's openid (else the
  mini-program's), delivered by the mall's campaign platform as ``mall_events``;
- the campaign's **coupon** (50 yuan off 300) is issued by the scan's landing page, claimed
  into the card wallet by most scanners within hours (some only days later), and redeemed in a
  store by some within days; a few scalpers scan and claim in a second city's mall the same
  day (what the ``coupon_scalper`` tag finds).

Every row draws from a random stream of its own (as ``baskets`` does), the rows go to files of
their own, and they carry only identifiers the person already shows in other channels (the
member's mini-program openid and card, a followed account's openid): every other file the
generator writes for a seed, and the ground truth, stay byte-identical.
"""

from __future__ import annotations

import zlib

import numpy as np

from cdp.generator import ids
from cdp.generator.catalog import CATEGORIES, CATEGORY_CODES, CITIES, CITY_CODES, PRODUCTS
from cdp.generator.clock import DAY
from cdp.generator.commerce import order_numbers
from cdp.generator.context import Batch, Context, expand, yuan
from cdp.generator.engagement import COUPON_FIELDS

CAMPAIGN = "campaign_qr_national_day"
SCENE_PREFIX = "mall_qr_national_day"
SCENE_SPOTS = ("atrium", "lift_lobby", "parking_exit", "cinema_entry")
COUPON_FACE_FEN, COUPON_THRESHOLD_FEN = 5_000, 30_000
#: the campaign coupon expires at the end of the campaign (2026-10-07 in the journey)
COUPON_DAYS = 36

CARTS_PER_30_DAYS = 1.2  # per member
SCANNER_SHARE = 0.3  # of mall visitors who follow an account or are members
SCAN_AGAIN_SHARE = 0.15  # scan a second poster later (a journey entered "once" ignores it)
SCALPER_SHARE = 0.03  # of scanners: scan and claim in a second city's mall the same day
CLAIM_SHARE, LATE_CLAIM_SHARE = 0.75, 0.2  # claim within hours; of those, some days later
REDEEM_SHARE = 0.45  # of claims


def _stream(ctx: Context, salt: str) -> np.random.Generator:
    """A random stream of its own, derived from the chunk's seed without advancing ``ctx.rng``."""
    parent = ctx.rng.bit_generator.seed_seq
    child = np.random.SeedSequence(parent.entropy, spawn_key=(zlib.crc32(salt.encode()),))
    return np.random.default_rng(child)


def _times(rng: np.random.Generator, lo: np.ndarray, end: int, hours=(10, 21)) -> np.ndarray:
    """A time between ``lo`` (seconds) and ``end`` per row, in the day's opening hours."""
    lo_day = np.maximum(np.asarray(lo, dtype=np.int64), 0) // DAY
    last_day = max(end // DAY, 1)
    day = lo_day + (rng.random(lo_day.size) * np.maximum(last_day - lo_day, 1)).astype(np.int64)
    at = day * DAY + hours[0] * 3600 + rng.integers(0, (hours[1] - hours[0]) * 3600, day.size)
    return np.maximum(at, np.asarray(lo, dtype=np.int64) + 60)


def _sku_pages(rng: np.random.Generator, n: int) -> list[str]:
    """Mini-program product pages (``pages/goods/detail?sku_id=...``) of random SKUs."""
    category = rng.integers(0, len(CATEGORIES), n).tolist()
    roll = rng.random(n).tolist()
    variant = rng.integers(1, 40, n).tolist()
    pages = []
    for c, r, v in zip(category, roll, variant):
        product = int(r * len(PRODUCTS[CATEGORIES[c]]))
        pages.append(f"pages/goods/detail?sku_id={CATEGORY_CODES[c]}{product:02d}{v:03d}")
    return pages


def add_to_cart(ctx: Context, rng: np.random.Generator) -> Batch:
    """Members' add-to-cart events in the member mini-program, after they registered."""
    people, catalog = ctx.people, ctx.catalog
    registered = ctx.shared["registered_ts"]
    members = np.flatnonzero(people.is_member)
    counts = rng.poisson(CARTS_PER_30_DAYS * ctx.scale, members.size)
    owner = members[expand(counts)]
    since = np.array([registered[p] for p in owner.tolist()], dtype=np.int64)
    at = _times(rng, since, ctx.clock.end, hours=(8, 24))
    keep = at < ctx.clock.end
    owner, at = owner[keep], at[keep]
    n = owner.size
    mp = len(catalog.official_accounts)
    app = catalog.mini_program.app_id
    return Batch(
        "web_events",
        at,
        {
            "event_id": ids.hex_ids(rng, n),
            "event_type": ["add_to_cart"] * n,
            "occurred_at": ctx.clock.iso(at.tolist()),
            "cookie_id": [None] * n,
            "device_id": [None] * n,
            "user_id": [people.member_card[p] for p in owner.tolist()],
            "app_id": [app] * n,
            "openid": [people.openid[p][mp] for p in owner.tolist()],
            "page_url": _sku_pages(rng, n),
            "referrer": [None] * n,
            "campaign": [None] * n,
        },
        "miniprogram",
    )


def _scans(ctx: Context, rng: np.random.Generator):
    """Who scans the campaign's codes, when, in which city's mall, with which app's openid,
    and which of the person's scans it is."""
    people = ctx.people
    reachable = people.is_member | people.follows.any(axis=1)
    scanners = np.flatnonzero(people.active["mall"] & reachable)
    scanners = scanners[rng.random(scanners.size) < SCANNER_SHARE]
    again = rng.random(scanners.size) < SCAN_AGAIN_SHARE
    scalper = rng.random(scanners.size) < SCALPER_SHARE
    first = _times(rng, np.zeros(scanners.size), ctx.clock.end)
    second = first + rng.integers(2, 10, scanners.size) * DAY
    elsewhere = first + rng.integers(2, 6, scanners.size) * 3600
    home = people.city[scanners]
    owner = np.concatenate([scanners, scanners[again], scanners[scalper]])
    at = np.concatenate([first, second[again], elsewhere[scalper]])
    city = np.concatenate([home, home[again], (home[scalper] + 1) % len(CITIES)])
    # the person's scan number: their coupons' ids are unique per person and scan
    nth = np.repeat([0, 1, 2], [scanners.size, int(again.sum()), int(scalper.sum())])
    keep = at < ctx.clock.end
    follows = people.follows[owner]
    mp = len(ctx.catalog.official_accounts)
    app = np.where(follows.any(axis=1), follows.argmax(axis=1), mp)
    return owner[keep], at[keep], city[keep], app[keep], nth[keep]


def qr_scans(ctx: Context, rng: np.random.Generator, scans) -> Batch:
    """The campaign scans as the mall's campaign platform delivers them."""
    owner, at, city, app, _nth = scans
    n = owner.size
    catalog = ctx.catalog
    spots = rng.integers(0, len(SCENE_SPOTS), n).tolist()
    return Batch(
        "mall_events",
        at,
        {
            "event_id": ids.hex_ids(rng, n),
            "event_type": ["qr_scan"] * n,
            "occurred_at": ctx.clock.epoch_millis(at, rng),
            "mall_code": [catalog.malls[CITIES[c]] for c in city.tolist()],
            "phone": [None] * n,
            "app_id": [catalog.apps[a].app_id for a in app.tolist()],
            "openid": [ctx.people.openid[p][a] for p, a in zip(owner.tolist(), app.tolist())],
            "device_mac_hash": [None] * n,
            "plate_no": [None] * n,
            "scene_str": [f"{SCENE_PREFIX}_{SCENE_SPOTS[s]}" for s in spots],
            "amount": [None] * n,
        },
        "national_day_qr",
    )


def _coupon_steps(rng: np.random.Generator, at: np.ndarray, end: int):
    """Per scan: (issued, claimed or None, redeemed or None, expired) in seconds."""
    n = at.size
    claims = rng.random(n) < CLAIM_SHARE
    late = rng.random(n) < LATE_CLAIM_SHARE
    claimed = at + np.where(late, rng.integers(26, 72, n), rng.integers(0, 20, n)) * 3600
    claimed += rng.integers(60, 3600, n)
    redeems = claims & (rng.random(n) < REDEEM_SHARE)
    redeemed = claimed + rng.integers(1, 8, n) * DAY + rng.integers(0, 8 * 3600, n)
    expired = at + COUPON_DAYS * DAY
    steps = []
    for i in range(n):
        row = [("issue", int(at[i]))]
        if claims[i]:
            row.append(("claim", int(claimed[i])))
            row.append(("redeem", int(redeemed[i])) if redeems[i] else ("expire", int(expired[i])))
        steps.append([(kind, t) for kind, t in row if t < end])
    return steps


def coupons(ctx: Context, rng: np.random.Generator, scans) -> Batch:
    """The campaign coupon of each scan: issued, claimed, redeemed or expired."""
    owner, at, city, app, nth = scans
    people, catalog = ctx.people, ctx.catalog
    numbers = order_numbers(people.first, owner, nth, 12)
    rows: dict[str, list] = {f: [] for f in COUPON_FIELDS}
    ts: list[int] = []
    face, threshold = yuan(COUPON_FACE_FEN), yuan(COUPON_THRESHOLD_FEN)
    steps = _coupon_steps(rng, at, ctx.clock.end)
    for i, p in enumerate(owner.tolist()):
        coupon_id = f"QR{numbers[i]}"
        town = CITIES[int(city[i])]
        store = f"{CITY_CODES[town]}001"
        for kind, moment in steps[i]:
            with_openid = kind in ("issue", "claim")
            rows["coupon_id"].append(coupon_id)
            rows["campaign_id"].append(CAMPAIGN)
            rows["event_type"].append(kind)
            rows["member_card_no"].append(people.member_card[p])
            rows["app_id"].append(catalog.apps[int(app[i])].app_id if with_openid else None)
            rows["openid"].append(people.openid[p][int(app[i])] if with_openid else None)
            rows["face_value"].append(face)
            rows["threshold"].append(threshold)
            rows["order_ref"].append(f"T{store}{numbers[i]}" if kind == "redeem" else None)
            rows["store_code"].append(store if kind == "redeem" else None)
            rows["city"].append(town)
            ts.append(moment)
    rows["occurred_at"] = ctx.clock.cn(ts)
    rows["event_id"] = ids.hex_ids(rng, len(ts))
    return Batch("coupons", np.array(ts, dtype=np.int64), rows, "qr_national_day")


def journey_events(ctx: Context) -> list[Batch]:
    """Add-to-cart events, campaign QR scans and the campaign's coupons of one chunk."""
    rng = _stream(ctx, "journey_events")
    scans = _scans(ctx, rng)
    return [add_to_cart(ctx, rng), qr_scans(ctx, rng, scans), coupons(ctx, rng, scans)]
