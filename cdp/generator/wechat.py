"""WeChat official accounts (follower snapshots, event pushes) and the mini-program members."""

from __future__ import annotations

import numpy as np

from cdp.generator import spelling
from cdp.generator.catalog import CAMPAIGNS, CITIES, CITY_CODES
from cdp.generator.clock import DAY
from cdp.generator.context import Batch, Context, expand, where

SCENES = (
    "ADD_SCENE_SEARCH",
    "ADD_SCENE_PROFILE_CARD",
    "ADD_SCENE_WECHAT_ADVERTISEMENT",
    "ADD_SCENE_OTHERS",
    "ADD_SCENE_ACCOUNT_MIGRATION",
)
MENU_KEYS = ("MENU_MEMBER_CENTER", "MENU_EXHIBITIONS", "MENU_COUPONS", "MENU_STORE_GUIDE")
VIEW_URLS = (
    "https://m.artmall.cn/exhibitions",
    "https://m.artmall.cn/member",
    "https://m.artmall.cn/brands",
    "https://m.artmall.cn/events/autumn",
)
REGISTER_CHANNELS = ("wechat_oa_menu", "store_qr", "h5_campaign", "mini_program_search")


def _qr_scenes(ctx: Context, person: np.ndarray) -> list[str]:
    """A parametric QR scene per follower: a store in their city or a campaign."""
    rng = ctx.rng
    store_no = rng.integers(1, 3, person.size)
    campaign = rng.integers(0, len(CAMPAIGNS), person.size)
    is_store = rng.random(person.size) < 0.6
    city = ctx.people.city[person]
    return [
        f"store_{CITY_CODES[CITIES[c]]}{s:03d}" if st else CAMPAIGNS[k]
        for c, s, k, st in zip(
            city.tolist(), store_no.tolist(), campaign.tolist(), is_store.tolist()
        )
    ]


def official_accounts(ctx: Context) -> list[Batch]:
    batches = []
    people, rng, clock = ctx.people, ctx.rng, ctx.clock
    for a, app in enumerate(ctx.catalog.official_accounts):
        follower = np.flatnonzero(people.follows[:, a])
        m = follower.size
        if m == 0:
            continue
        ctx.usage.mark(f"openid_{a}", follower)
        ctx.usage.mark("unionid", follower[[people.unionid[p] is not None for p in follower]])
        followed = ctx.times_on(ctx.days_between(np.zeros(m), ctx.days))
        follow_day = followed // DAY
        unfollow = (rng.random(m) < 0.08) & (follow_day < ctx.days - 1)
        unfollow_day = np.where(unfollow, ctx.days_between(follow_day + 1, ctx.days), ctx.days)
        unfollowed = ctx.times_on(unfollow_day)
        by_qr = rng.random(m) < 0.45
        scene = _qr_scenes(ctx, follower)
        qr_str = where(by_qr, scene)
        openids = [people.openid[p][a] for p in follower.tolist()]
        unionids = [people.unionid[p] for p in follower.tolist()]
        scene_name = [
            ("ADD_SCENE_QR_CODE" if q else s)
            for q, s in zip(by_qr.tolist(), ctx.pick(SCENES, m, p=[0.4, 0.25, 0.15, 0.15, 0.05]))
        ]
        subscribe_time = clock.epoch_seconds(followed)

        # Snapshots: the follow day, rotating refreshes while subscribed, the unfollow day.
        refreshes = rng.binomial(np.maximum(unfollow_day - follow_day - 1, 0), 0.07)
        owner = expand(refreshes)
        refresh_day = ctx.days_between(follow_day[owner] + 1, unfollow_day[owner])
        gone = np.flatnonzero(unfollow)
        snap_owner = np.concatenate([np.arange(m), owner, gone])
        snap_day = np.concatenate([follow_day, refresh_day, unfollow_day[gone]])
        subscribed = np.concatenate([np.ones(m + owner.size, bool), np.zeros(gone.size, bool)])
        snap_ts = snap_day * DAY + 23 * 3600 + rng.integers(0, 3000, snap_day.size)
        so, sub = snap_owner.tolist(), subscribed.tolist()
        batches.append(
            Batch(
                "wechat_followers",
                snap_ts,
                {
                    "app_id": [app.app_id] * len(so),
                    "openid": [openids[i] for i in so],
                    "unionid": [unionids[i] if s else None for i, s in zip(so, sub)],
                    "subscribe": [1 if s else 0 for s in sub],
                    "subscribe_time": [subscribe_time[i] if s else None for i, s in zip(so, sub)],
                    "subscribe_scene": [scene_name[i] if s else None for i, s in zip(so, sub)],
                    "qr_scene": [0 if s else None for s in sub],
                    "qr_scene_str": [(qr_str[i] or "") if s else None for i, s in zip(so, sub)],
                    "language": ["zh_CN" if s else None for s in sub],
                    "remark": ["" if s else None for s in sub],
                    "snapshot_at": clock.epoch_seconds(snap_ts),
                },
                app.app_id,
            )
        )

        # Event pushes while following: menu clicks, link views, QR scans, template sends.
        kinds = ("CLICK", "VIEW", "SCAN", "TEMPLATESENDJOBFINISH")
        counts = np.stack([ctx.poisson(r, m) for r in (1.2, 0.9, 0.3, 0.6)], axis=1)
        ev_owner = expand(counts.sum(axis=1))
        ev_kind = (
            np.concatenate([np.repeat(np.arange(4), c) for c in counts.tolist()])
            if ev_owner.size
            else np.zeros(0, dtype=np.int64)
        )
        ev_ts = ctx.times_on(ctx.days_between(follow_day[ev_owner], unfollow_day[ev_owner]))
        # Events on the follow day must come after the follow itself.
        ev_ts = np.minimum(np.maximum(ev_ts, followed[ev_owner] + 5), ctx.clock.end - 1)
        keys = []
        menu = ctx.pick(MENU_KEYS, ev_owner.size)
        views = ctx.pick(VIEW_URLS, ev_owner.size)
        scans = _qr_scenes(ctx, follower[ev_owner])
        for k, mk, v, s in zip(ev_kind.tolist(), menu, views, scans):
            keys.append(mk if k == 0 else v if k == 1 else s if k == 2 else None)
        all_owner = np.concatenate([np.arange(m), gone, ev_owner])
        all_ts = np.concatenate([followed, unfollowed[gone], ev_ts])
        events = (
            ["subscribe"] * m + ["unsubscribe"] * gone.size + [kinds[k] for k in ev_kind.tolist()]
        )
        event_keys = [f"qrscene_{q}" if q else None for q in qr_str] + [None] * gone.size + keys
        n = all_owner.size
        batches.append(
            Batch(
                "wechat_events",
                all_ts,
                {
                    "app_id": [app.app_id] * n,
                    "ToUserName": [app.original_id] * n,
                    "FromUserName": [openids[i] for i in all_owner.tolist()],
                    "CreateTime": clock.epoch_seconds(all_ts),
                    "MsgType": ["event"] * n,
                    "Event": events,
                    "EventKey": event_keys,
                },
                app.app_id,
            )
        )
    return batches


def mini_program_members(ctx: Context) -> list[Batch]:
    people, rng, clock = ctx.people, ctx.rng, ctx.clock
    app = ctx.catalog.mini_program
    a = len(ctx.catalog.official_accounts)
    member = np.flatnonzero(people.is_member)
    m = member.size
    registered = ctx.times_on(ctx.days_between(np.zeros(m), ctx.days))
    ctx.shared["registered_ts"] = dict(zip(member.tolist(), registered.tolist()))
    ctx.usage.mark(f"openid_{a}", member)
    ctx.usage.mark("member_card", member)
    has_union = np.array([people.unionid[p] is not None for p in member.tolist()], bool)
    ctx.usage.mark("unionid", member[has_union])
    authorised = rng.random(m) < 0.8
    authorised[np.isin(member, list(ctx.plan.involved))] = True
    phones, codes = ctx.mini_program_phones(member[authorised], registered[authorised])
    phone_col: list = [None] * m
    code_col: list = [None] * m
    for i, ph, code in zip(np.flatnonzero(authorised).tolist(), phones, codes):
        phone_col[i], code_col[i] = ph, code
    gave_email = np.array([people.email[p] is not None for p in member.tolist()]) & (
        rng.random(m) < 0.5
    )
    ctx.usage.mark("email", member[gave_email])
    email_roll = rng.random(m).tolist()
    gender = np.where(rng.random(m) < 0.1, 0, people.gender[member])
    channel = ctx.pick(REGISTER_CHANNELS, m, p=[0.3, 0.35, 0.2, 0.15])
    store_no = rng.integers(1, 3, m).tolist()
    cities = people.city[member].tolist()
    reg_text = clock.cn(registered.tolist())
    rows = {
        "app_id": [app.app_id] * m,
        "openid": [people.openid[p][a] for p in member.tolist()],
        "unionid": where(has_union, [people.unionid[p] for p in member.tolist()]),
        "member_card_no": [people.member_card[p] for p in member.tolist()],
        "phone_number": phone_col,
        "country_code": code_col,
        "name": where(rng.random(m) < 0.7, [people.name[p] for p in member.tolist()]),
        "gender": gender.tolist(),
        "birthday": where(rng.random(m) < 0.7, [people.birthday[p] for p in member.tolist()]),
        "city": where(rng.random(m) < 0.85, [CITIES[c] for c in cities]),
        "email": [
            spelling.spell_email(people.email[p], r) if g else None
            for p, g, r in zip(member.tolist(), gave_email.tolist(), email_roll)
        ],
        "register_channel": channel,
        "register_store": [
            f"{CITY_CODES[CITIES[c]]}{s:03d}" if ch == "store_qr" else None
            for c, s, ch in zip(cities, store_no, channel)
        ],
        "registered_at": reg_text,
        "updated_at": list(reg_text),
    }
    history = _reassigned_members(ctx, member, rows)
    # Later profile updates re-deliver the whole profile with a later updated_at.
    reg_day = registered // DAY
    updates = np.flatnonzero((rng.random(m) < 0.15) & (reg_day < ctx.days - 1))
    upd_ts = ctx.times_on(ctx.days_between(reg_day[updates] + 1, ctx.days))
    new_rows = {k: [v[i] for i in updates.tolist()] for k, v in rows.items()}
    upd_text = clock.cn(upd_ts.tolist())
    what = rng.integers(0, 4, updates.size).tolist()
    for j, (i, w) in enumerate(zip(updates.tolist(), what)):
        p = int(member[i])
        new_rows["updated_at"][j] = upd_text[j]
        if people.phone2[p] is not None and upd_ts[j] // DAY >= people.phone_switch_day[p]:
            w = 3
        if w == 0:
            new_rows["city"][j] = CITIES[(cities[i] + 1) % len(CITIES)]
        elif w == 1:
            new_rows["name"][j] = people.name[p]
        elif w == 2:
            new_rows["birthday"][j] = people.birthday[p]
        else:
            numbers, codes = ctx.mini_program_phones(np.array([p]), upd_ts[j : j + 1])
            new_rows["phone_number"][j], new_rows["country_code"][j] = numbers[0], codes[0]
    columns = {k: rows[k] + new_rows[k] for k in rows}
    return [
        Batch("miniprogram_members", np.concatenate([registered, upd_ts]), columns, app.app_id),
        history,
    ]


def _reassigned_members(ctx: Context, member: np.ndarray, rows: dict[str, list]) -> Batch:
    """Old profiles of the members of a reassigned phone, as a history backfill.

    Both registered long before the window: their profile in the window is a later update
    (its registered_at is the old one). The backfill holds the previous owner's profile as
    last updated with the phone, and the current owner's first profile with it.
    """
    clock = ctx.clock
    at = {p: i for i, p in enumerate(member.tolist())}
    history: dict[str, list] = {k: [] for k in rows}
    ts = []
    for r in ctx.plan.reassigned:
        for person, first, last in (
            (r.previous, r.previous_first, r.previous_last),
            (r.current, r.current_first, r.current_first),
        ):
            i = at[person]
            rows["registered_at"][i] = clock.history_text(first)
            for k, values in rows.items():
                history[k].append(values[i])
            history["phone_number"][-1], history["country_code"][-1] = r.phone, "86"
            history["updated_at"][-1] = clock.history_text(last)
            ts.append(last)
    return Batch(
        "miniprogram_members",
        np.array(ts, dtype=np.int64),
        history,
        ctx.catalog.mini_program.app_id,
    )
