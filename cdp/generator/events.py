"""Behavioural events: H5/web tracking and in-mall touchpoints (QR, Wi-Fi, parking, tickets)."""

from __future__ import annotations

import numpy as np

from cdp.generator.catalog import CAMPAIGNS, CITIES, HUB_DEVICE_ID
from cdp.generator.clock import DAY
from cdp.generator.context import Batch, Context, expand, yuan

PAGES = (
    "https://m.artmall.cn/",
    "https://m.artmall.cn/exhibitions/moma-2026",
    "https://m.artmall.cn/brands",
    "https://m.artmall.cn/member/points",
    "https://m.artmall.cn/coupons",
    "https://m.artmall.cn/events/mooncake",
    "https://m.artmall.cn/stores/SH001",
)
REFERRERS = (
    None,
    None,
    "https://www.baidu.com/",
    "https://servicewechat.com/",
    "https://weibo.com/",
    "https://www.xiaohongshu.com/",
)
_NEXT_EVENT = ("page_view", "click", "share", "form_submit")
_NEXT_P = np.array([0.55, 0.3, 0.08, 0.07])


def web_events(ctx: Context) -> list[Batch]:
    people, rng = ctx.people, ctx.rng
    users = np.flatnonzero(people.active["web"])
    sessions = 1 + ctx.poisson(4.5, users.size)
    s_owner = users[expand(sessions)]
    ns = s_owner.size
    first_session = np.r_[True, s_owner[1:] != s_owner[:-1]] if ns else np.zeros(0, bool)
    s_start = ctx.times_on(ctx.days_between(np.zeros(ns), ctx.days))
    s_events = rng.choice(np.arange(1, 6), ns, p=[0.25, 0.25, 0.2, 0.18, 0.12])
    logs_in = people.is_member[s_owner] & (rng.random(ns) < 0.35)
    s_events = s_events + logs_in

    # Which device id the session sends: the family tablet, the phone's SDK id (or the
    # all-zero id of a buggy SDK), or none at all in a plain browser.
    tablet = people.active["tablet"][s_owner] & (first_session | (rng.random(ns) < 0.4))
    own = np.array([people.device_id[p] is not None for p in s_owner.tolist()], bool)
    device = []
    for p, t, o in zip(s_owner.tolist(), tablet.tolist(), own.tolist()):
        if t:
            device.append(people.family_device[p])
        elif o:
            device.append(HUB_DEVICE_ID if people.buggy_sdk[p] else people.device_id[p])
        else:
            device.append(None)
    ctx.usage.mark("family_device", s_owner[tablet])
    own_used = ~tablet & own & ~people.buggy_sdk[s_owner]
    ctx.usage.mark("device_id", s_owner[own_used])
    cookie_k = (
        rng.random(ns) * np.array([len(people.cookies[p]) for p in s_owner.tolist()])
    ).astype(np.int64)
    for k in range(3):
        ctx.usage.mark(f"cookie_{k}", s_owner[cookie_k == k])
    cookie = [people.cookies[p][k] for p, k in zip(s_owner.tolist(), cookie_k.tolist())]
    # Pages opened inside WeChat carry the official account's openid (OAuth).
    n_acc = len(ctx.catalog.official_accounts)
    acc = rng.integers(0, n_acc, ns)
    in_wechat = people.follows[s_owner, acc] & (rng.random(ns) < 0.35)
    for a in range(n_acc):
        ctx.usage.mark(f"openid_{a}", s_owner[in_wechat & (acc == a)])
    campaign = [
        CAMPAIGNS[c] if r < 0.2 else None
        for c, r in zip(rng.integers(0, len(CAMPAIGNS), ns).tolist(), rng.random(ns).tolist())
    ]

    e_session = expand(s_events)
    n = e_session.size
    pos_in_session = np.arange(n) - np.repeat(np.cumsum(s_events) - s_events, s_events)
    e_ts = np.minimum(
        s_start[e_session] + pos_in_session * rng.integers(5, 120, n), ctx.clock.end - 1
    )
    kind = rng.choice(len(_NEXT_EVENT), n, p=_NEXT_P)
    login_at = np.where(logs_in, rng.integers(1, 3, ns), 10**6)
    login_at = np.minimum(login_at, s_events - 1)
    is_login = logs_in[e_session] & (pos_in_session == login_at[e_session])
    logged_in = logs_in[e_session] & (pos_in_session >= login_at[e_session])
    ctx.usage.mark("member_card", s_owner[logs_in])
    event_type = [
        "login" if lg else "page_view" if q == 0 else _NEXT_EVENT[k]
        for lg, q, k in zip(is_login.tolist(), pos_in_session.tolist(), kind.tolist())
    ]
    apps = ctx.catalog.official_accounts
    es, eo = e_session.tolist(), s_owner[e_session].tolist()
    wx = in_wechat[e_session].tolist()
    acc_e = acc[e_session].tolist()
    pages = ctx.pick(PAGES, n)
    refs = ctx.pick(REFERRERS, n)
    return [
        Batch(
            "web_events",
            e_ts,
            {
                "event_id": ctx.event_ids(n),
                "event_type": event_type,
                "occurred_at": ctx.clock.iso(e_ts.tolist()),
                "cookie_id": [cookie[s] for s in es],
                "device_id": [device[s] for s in es],
                "user_id": [
                    people.member_card[p] if li else None for p, li in zip(eo, logged_in.tolist())
                ],
                "app_id": [apps[a].app_id if w else None for a, w in zip(acc_e, wx)],
                "openid": [people.openid[p][a] if w else None for p, a, w in zip(eo, acc_e, wx)],
                "page_url": pages,
                "referrer": refs,
                "campaign": [campaign[s] for s in es],
            },
            "h5",
        )
    ]


def mall_events(ctx: Context) -> list[Batch]:
    people, rng, catalog = ctx.people, ctx.rng, ctx.catalog
    visitors = np.flatnonzero(people.active["mall"])
    visits = 1 + ctx.poisson(1.6, visitors.size)
    owner = visitors[expand(visits)]
    nv = owner.size
    arrive = (
        ctx.days_between(np.zeros(nv), ctx.days) * DAY + 10 * 3600 + rng.integers(0, 10 * 3600, nv)
    )
    mp = len(catalog.official_accounts)
    has_car = np.array([people.plate_no[p] is not None for p in owner.tolist()], bool)
    has_mac = np.array([people.mac_hash[p] is not None for p in owner.tolist()], bool)
    wifi = has_mac & (rng.random(nv) < 0.7)
    park = has_car & (rng.random(nv) < 0.6)
    scan = rng.random(nv) < 0.4
    checkin = rng.random(nv) < 0.1
    rows: dict[str, list] = {
        f: []
        for f in (
            "event_id",
            "event_type",
            "occurred_at",
            "mall_code",
            "phone",
            "app_id",
            "openid",
            "device_mac_hash",
            "plate_no",
            "scene_str",
            "amount",
        )
    }
    ts: list[np.ndarray] = []

    def add(kind: str, idx: np.ndarray, at: np.ndarray, **values) -> None:
        m = idx.size
        # A visit late on the last evening is cut at the window's end, not dropped.
        at = np.clip(at, 0, ctx.clock.end - 1)
        ts.append(at)
        rows["event_id"] += ctx.event_ids(m)
        rows["event_type"] += [kind] * m
        rows["occurred_at"] += ctx.clock.epoch_millis(at, rng)
        rows["mall_code"] += [catalog.malls[CITIES[c]] for c in people.city[owner[idx]].tolist()]
        for f in (
            "phone",
            "app_id",
            "openid",
            "device_mac_hash",
            "plate_no",
            "scene_str",
            "amount",
        ):
            rows[f] += values.get(f, [None] * m)

    def wechat_ids(idx: np.ndarray, prefer_account: bool) -> tuple[list, list]:
        """The openid a scan comes from: a followed city account if any, else the mini-program."""
        who = owner[idx]
        app = np.full(who.size, mp)
        if prefer_account:
            follows = people.follows[who]
            app = np.where(follows.any(axis=1), follows.argmax(axis=1), mp)
        for a in range(mp + 1):
            ctx.usage.mark(f"openid_{a}", who[app == a])
        return (
            [catalog.apps[a].app_id for a in app.tolist()],
            [people.openid[p][a] for p, a in zip(who.tolist(), app.tolist())],
        )

    w = np.flatnonzero(wifi)
    ctx.usage.mark("device_mac_hash", owner[w])
    add(
        "wifi_login",
        w,
        arrive[w] + rng.integers(60, 600, w.size),
        phone=ctx.spelled_phones(owner[w], arrive[w]),
        device_mac_hash=[people.mac_hash[p] for p in owner[w].tolist()],
    )
    k = np.flatnonzero(park)
    plates = [people.plate_no[p] for p in owner[k].tolist()]
    add("parking_entry", k, arrive[k] - rng.integers(60, 300, k.size), plate_no=plates)
    by_wechat = rng.random(k.size) < 0.7
    app_ids, openids = wechat_ids(k[by_wechat], prefer_account=False)
    it_app, it_open = iter(app_ids), iter(openids)
    add(
        "parking_payment",
        k,
        arrive[k] + rng.integers(3600, 5 * 3600, k.size),
        plate_no=plates,
        app_id=[next(it_app) if b else None for b in by_wechat.tolist()],
        openid=[next(it_open) if b else None for b in by_wechat.tolist()],
        amount=[yuan(v * 500) for v in rng.integers(1, 9, k.size).tolist()],
    )
    q = np.flatnonzero(scan)
    app_ids, openids = wechat_ids(q, prefer_account=True)
    add(
        "qr_scan",
        q,
        arrive[q] + rng.integers(300, 3 * 3600, q.size),
        app_id=app_ids,
        openid=openids,
        scene_str=[
            f"mall_{c}"
            for c in ctx.pick(
                ("atrium_poster", "lift_lobby", "exhibition_entry", "parking_exit") + CAMPAIGNS,
                q.size,
            )
        ],
    )
    c = np.flatnonzero(checkin)
    app_ids, openids = wechat_ids(c, prefer_account=False)
    add(
        "ticket_checkin",
        c,
        arrive[c] + rng.integers(600, 4 * 3600, c.size),
        app_id=app_ids,
        openid=openids,
        scene_str=["exhibition_moma_2026"] * c.size,
    )
    return [Batch("mall_events", np.concatenate(ts) if ts else np.zeros(0, np.int64), rows, "all")]
