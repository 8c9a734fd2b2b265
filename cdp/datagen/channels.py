"""What each person does on each channel, day by day, as records shaped like the sources."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

from cdp.datagen.people import MINI_PROGRAM, OFFICIAL_ACCOUNTS, Person, token
from cdp.datagen.spelling import spell_phone

CHINA = timezone(timedelta(hours=8))
STORES = (  # code, business format as the store's POS writes it, city, store phone, GB18030?
    ("SH001", "Art & Lifestyle", "上海", "13916000001", False),
    ("SH002", "艺术生活", "上海", "13916000002", True),
    ("SH003", "F&B", "上海", "13916000003", False),
    ("SH004", "餐饮", "上海", "13916000004", True),
    ("BJ001", "Fashion", "北京", "13810000001", False),
    ("BJ002", "Beauty", "北京", "13810000002", False),
    ("CD001", "Kids", "成都", "13880000001", False),
    ("SZ001", "Home", "深圳", "13760000001", False),
)
CATEGORIES = ("Art & Lifestyle", "Fashion", "Beauty", "F&B", "Kids", "Home", "Books")
PAYMENTS = ("WeChat Pay", "Alipay", "UnionPay", "Cash")
SCENES = ("store_SH001", "store_BJ001", "campaign_2026autumn", "event_artfair", "parking_SH")
TEST_PHONES = ("13800000000", "11111111111")
ZERO_DEVICE = "00000000-0000-0000-0000-000000000000"
STAFF_OPENIDS = tuple(f"oSTAFF{i:022d}" for i in range(3))
TIERS = ("silver", "gold", "platinum")


class Day:
    """Clock helpers for one simulated day (China time)."""

    def __init__(self, start: date, index: int):
        self.index = index
        self.date = start + timedelta(days=index)

    def at(self, rng: random.Random, hour_from: int = 9, hour_to: int = 22) -> datetime:
        seconds = rng.randrange(hour_from * 3600, hour_to * 3600)
        return datetime(self.date.year, self.date.month, self.date.day,
                        tzinfo=CHINA) + timedelta(seconds=seconds)


def cn(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


class Simulator:
    """Emits one person's records through ``emit(channel, local_day, file_key, record)``."""

    def __init__(self, rng: random.Random, start: date, days: int, emit):
        self.rng, self.start, self.days, self.emit = rng, start, days, emit
        self.order_seq = 0

    def next_id(self, prefix: str) -> str:
        self.order_seq += 1
        return f"{prefix}{self.rng.getrandbits(40):012d}{self.order_seq:06d}"

    def day(self, index: int) -> Day:
        return Day(self.start, index)

    def _emit(self, channel: str, when: datetime, file_key: str, record) -> None:
        self.emit(channel, when.date(), file_key, record)

    def person(self, p: Person) -> None:
        rng = self.rng
        self.wechat(p)
        if p.member_card:
            self.member(p)
        if p.tmall_ouid:
            self.tmall(p)
        if p.jd_pin:
            self.jd(p)
        if p.douyin_open_id:
            self.douyin(p)
        if rng.random() < 0.5:
            self.pos(p)
        if p.cookie_id:
            self.web(p)
        self.mall(p)
        self.consent(p)

    # -- WeChat ------------------------------------------------------------------------------
    def wechat(self, p: Person) -> None:
        rng = self.rng
        for app in OFFICIAL_ACCOUNTS:
            openid = p.openids.get(app)
            if not openid:
                continue
            follow_day = self.day(rng.randrange(self.days))
            followed = follow_day.at(rng)
            scene = rng.choice(SCENES) if rng.random() < 0.4 else None
            self._emit("wechat_followers", followed, app, {
                "app_id": app, "openid": openid, "unionid": p.unionid, "subscribe": 1,
                "subscribe_time": int(followed.timestamp()),
                "subscribe_scene": "ADD_SCENE_QR_CODE" if scene else rng.choice(
                    ("ADD_SCENE_SEARCH", "ADD_SCENE_PROFILE_CARD", "ADD_SCENE_OTHERS")),
                "qr_scene": 0, "qr_scene_str": scene or "", "language": "zh_CN", "remark": "",
                "snapshot_at": int(followed.timestamp()) + 3600})
            self._push(app, openid, followed, "subscribe", f"qrscene_{scene}" if scene else "")
            for d in range(follow_day.index, self.days):
                if rng.random() < 0.12:
                    at = self.day(d).at(rng)
                    event = rng.choice(("CLICK", "VIEW", "SCAN"))
                    key = {"CLICK": "MENU_MEMBER", "VIEW": "https://m.example.com/mall",
                           "SCAN": rng.choice(SCENES)}[event]
                    self._push(app, openid, at, event, key)
            if rng.random() < 0.08 and follow_day.index < self.days - 1:
                left = self.day(rng.randrange(follow_day.index + 1, self.days)).at(rng)
                self._push(app, openid, left, "unsubscribe", "")
                self._emit("wechat_followers", left, app, {
                    "app_id": app, "openid": openid, "subscribe": 0,
                    "snapshot_at": int(left.timestamp()) + 3600})

    def _push(self, app: str, openid: str, at: datetime, event: str, key: str) -> None:
        self._emit("wechat_events", at, app, {
            "app_id": app, "ToUserName": f"gh_{app[-8:]}", "FromUserName": openid,
            "CreateTime": int(at.timestamp()), "MsgType": "event", "Event": event,
            "EventKey": key})

    # -- Mini-program member centre ------------------------------------------------------------
    def member(self, p: Person) -> None:
        rng = self.rng
        joined_day = self.day(rng.randrange(self.days))
        joined = joined_day.at(rng)
        record = {
            "app_id": MINI_PROGRAM, "openid": p.openids[MINI_PROGRAM], "unionid": p.unionid,
            "member_card_no": p.member_card, "name": p.name, "gender": p.gender,
            "birthday": p.birthday, "city": p.city, "email": p.email,
            "register_channel": rng.choice(("mini_program", "store_qr", "wechat_oa")),
            "register_store": rng.choice(STORES)[0],
            "registered_at": cn(joined), "updated_at": cn(joined),
        }
        if rng.random() < 0.85:  # the member authorised the phone number
            record["phone_number"], record["country_code"] = p.phones[-1], "86"
        self._emit("miniprogram_members", joined, MINI_PROGRAM, record)
        self.loyalty(p, joined, "earn", 200, "register")
        if rng.random() < 0.15 and joined_day.index < self.days - 1:
            updated = self.day(rng.randrange(joined_day.index + 1, self.days)).at(rng)
            self._emit("miniprogram_members", updated, MINI_PROGRAM,
                       {**record, "city": rng.choice(("上海", "北京", "杭州")),
                        "updated_at": cn(updated)})
            self.loyalty(p, updated, "earn", 100, "complete_profile")
        if rng.random() < 0.4:
            self.coupon(p, joined_day.index)

    def loyalty(self, p: Person, at: datetime, kind: str, points: int, reason: str,
                order_ref: str | None = None) -> None:
        record = {"event_id": self.next_id("L"), "member_card_no": p.member_card,
                  "event_type": kind, "points": points, "reason": reason, "order_ref": order_ref,
                  "occurred_at": cn(at)}
        if kind == "tier_change":
            record.update(tier_from="silver", tier_to="gold", points=None)
        self._emit("loyalty_events", at, "loyalty", record)

    def coupon(self, p: Person, from_day: int) -> None:
        rng = self.rng
        coupon_id, campaign = self.next_id("C"), rng.choice(("CMP2026A", "CMP2026B", "CMP2026C"))
        face, threshold = rng.choice(((2000, 10000), (5000, 30000), (10000, 50000)))
        issued = self.day(from_day).at(rng)
        base = {"coupon_id": coupon_id, "campaign_id": campaign, "member_card_no": p.member_card,
                "app_id": MINI_PROGRAM, "openid": p.openids.get(MINI_PROGRAM),
                "face_value": yuan(face), "threshold": yuan(threshold), "city": p.city}
        self._emit("coupons", issued, "coupons",
                   {**base, "event_id": self.next_id("CE"), "event_type": "issue",
                    "occurred_at": cn(issued)})
        claimed = issued + timedelta(hours=rng.randint(1, 30))
        # Store staff sometimes claim on a customer's behalf with their own WeChat account.
        claimer = rng.choice(STAFF_OPENIDS) if rng.random() < 0.05 else base["openid"]
        self._emit("coupons", claimed, "coupons",
                   {**base, "openid": claimer, "event_id": self.next_id("CE"),
                    "event_type": "claim", "occurred_at": cn(claimed)})
        later = claimed + timedelta(days=rng.randint(1, 10))
        if later.date() < self.start + timedelta(days=self.days):
            redeemed = rng.random() < 0.5
            self._emit("coupons", later, "coupons", {
                **base, "event_id": self.next_id("CE"),
                "event_type": "redeem" if redeemed else "expire", "occurred_at": cn(later),
                "order_ref": self.next_id("T") if redeemed else None,
                "store_code": rng.choice(STORES)[0] if redeemed else None})

    # -- Marketplaces -------------------------------------------------------------------------
    def _lines(self, n: int) -> list[tuple[str, str, int, int]]:
        rng = self.rng
        return [(f"SKU{rng.randrange(5000):05d}", rng.choice(CATEGORIES), rng.randint(1, 3),
                 rng.choice((1990, 4900, 9900, 15900, 29900, 59900))) for _ in range(n)]

    def _order_days(self, rate: float):
        for d in range(self.days):
            if self.rng.random() < rate:
                yield self.day(d)

    def tmall(self, p: Person) -> None:
        rng = self.rng
        shop = "TM_FLAGSHIP"
        if rng.random() < 0.4:
            joined = self.day(rng.randrange(self.days)).at(rng)
            self._emit("tmall_members", joined, shop, {
                "shop_id": shop, "ouid": p.tmall_ouid, "buyer_nick": f"{p.name[0]}**{rng.randint(0, 9)}",
                "mobile": spell_phone(rng, p.phones[-1]), "member_grade": 1, "joined_at": cn(joined)})
        for day in self._order_days(0.04):
            tid = self.next_id("")
            lines = self._lines(rng.randint(1, 4))
            created = day.at(rng)
            items = [{"oid": f"{tid}{i}", "num_iid": sku[3:], "sku_id": sku,
                      "title": f"{cat} item {sku}", "category": cat, "price": yuan(price),
                      "num": num, "payment": yuan(price * num), "discount_fee": "0.00"}
                     for i, (sku, cat, num, price) in enumerate(lines)]
            total = sum(price * num for _, _, num, price in lines)
            discount = total // 10 if rng.random() < 0.3 else 0
            trade = {"tid": tid, "shop_id": shop, "buyer_nick": f"{p.name[0]}**1",
                     "ouid": p.tmall_ouid, "total_fee": yuan(total), "payment": yuan(total - discount),
                     "discount_fee": yuan(discount), "post_fee": "0.00", "created": cn(created),
                     "pay_time": cn(created + timedelta(minutes=2)), "orders": items}
            self._emit("tmall_orders", created, shop, {
                **trade, "status": "WAIT_SELLER_SEND_GOODS",
                "modified": cn(created + timedelta(minutes=2))})
            shipped = created + timedelta(days=rng.randint(1, 2), hours=3)
            self._emit("tmall_orders", shipped, shop,
                       {**trade, "status": "WAIT_BUYER_CONFIRM_GOODS", "modified": cn(shipped)})
            done = shipped + timedelta(days=rng.randint(2, 5))
            if rng.random() < 0.08:
                refunded = [{**item, "refund_status": "SUCCESS", "refund_fee": item["payment"]}
                            for item in items]
                self._emit("tmall_orders", done, shop, {
                    **trade, "orders": refunded, "status": "TRADE_CLOSED", "modified": cn(done)})
            else:
                self._emit("tmall_orders", done, shop, {
                    **trade, "status": "TRADE_FINISHED", "end_time": cn(done), "modified": cn(done)})

    def jd(self, p: Person) -> None:
        rng = self.rng
        vender = "JD_POP_01"
        if rng.random() < 0.3:
            joined = self.day(rng.randrange(self.days)).at(rng)
            self._emit("jd_members", joined, vender, {
                "venderId": vender, "pin": p.jd_pin, "mobile": spell_phone(rng, p.phones[-1]),
                "joined_at": cn(joined)})
        for day in self._order_days(0.03):
            created = day.at(rng)
            lines = self._lines(rng.randint(1, 3))
            total = sum(price * num for _, _, num, price in lines)
            order = {"orderId": self.next_id("JD"), "venderId": vender, "pin": p.jd_pin,
                     "orderTotalPrice": yuan(total), "orderSellerPrice": yuan(total),
                     "orderPayment": yuan(total), "sellerDiscount": "0.00", "freightPrice": "0.00",
                     "orderStartTime": cn(created),
                     "paymentConfirmTime": cn(created + timedelta(minutes=1)),
                     "itemInfoList": [{"skuId": sku, "skuName": f"{cat} {sku}", "category": cat,
                                       "jdPrice": yuan(price), "itemTotal": num}
                                      for sku, cat, num, price in lines]}
            self._emit("jd_orders", created, vender, {
                **order, "orderState": "WAIT_SELLER_STOCK_OUT", "modified": cn(created)})
            done = created + timedelta(days=rng.randint(1, 4))
            if rng.random() < 0.06:
                self._emit("jd_orders", done, vender, {
                    **order, "orderState": "TRADE_CANCELED", "refundAmount": yuan(total),
                    "modified": cn(done)})
            else:
                self._emit("jd_orders", done, vender,
                           {**order, "orderState": "FINISHED_L", "modified": cn(done)})

    def douyin(self, p: Person) -> None:
        rng = self.rng
        for day in self._order_days(0.03):
            created = day.at(rng)
            lines = self._lines(rng.randint(1, 2))
            total = sum(price * num for _, _, num, price in lines)
            order = {"order_id": self.next_id("DY"), "shop_id": "DY_SHOP", "open_id": p.douyin_open_id,
                     "order_amount": total, "pay_amount": total, "promotion_amount": 0,
                     "post_amount": 0, "create_time": int(created.timestamp()),
                     "pay_time": int(created.timestamp()) + 30,
                     "sku_order_list": [{"sku_order_id": self.next_id("DS"), "product_id": sku,
                                         "product_name": f"{cat} {sku}", "category": cat,
                                         "item_num": num, "origin_amount": price * num,
                                         "pay_amount": price * num}
                                        for sku, cat, num, price in lines]}
            self._emit("douyin_orders", created, "DY_SHOP", {
                **order, "order_status": 2, "update_time": int(created.timestamp()) + 60})
            done = created + timedelta(days=rng.randint(2, 6))
            self._emit("douyin_orders", done, "DY_SHOP",
                       {**order, "order_status": 5, "update_time": int(done.timestamp())})

    # -- Stores -------------------------------------------------------------------------------
    def pos(self, p: Person) -> None:
        rng = self.rng
        home = [s for s in STORES if s[2] == p.city] or list(STORES)
        for day in self._order_days(0.06):
            store = rng.choice(home)
            at = day.at(rng, 10, 21)
            ticket = f"{at:%Y%m%d}{rng.randrange(10**6):06d}"
            identified = rng.random() < 0.65
            phone, card = "", ""
            if identified and p.member_card and rng.random() < 0.5:
                card = p.member_card
            elif identified:
                phone = spell_phone(rng, p.phones[-1])
            else:
                # Walk-in: blank, or whatever the cashier types to get past the phone field.
                phone = rng.choice(("", "", "", TEST_PHONES[0], TEST_PHONES[1], store[3]))
            lines = self._lines(rng.randint(1, 3))
            payment = rng.choice(PAYMENTS)
            for n, (sku, cat, num, price) in enumerate(lines, start=1):
                discount = price * num // 20 if rng.random() < 0.2 else 0
                self._emit("pos_tickets", at, store[0], [
                    store[0], store[1], ticket, n, "SALE", "", at.strftime("%Y/%m/%d %H:%M:%S"),
                    phone, card, sku, f"{cat} {sku}", cat, num, yuan(price), yuan(discount),
                    yuan(price * num - discount), payment])
            if p.member_card and (card or phone):
                spend = sum(price * num for _, _, num, price in lines) // 100
                self.loyalty(p, at, "earn", spend, "purchase", ticket)
            if rng.random() < 0.04 and day.index < self.days - 1:
                back = self.day(rng.randrange(day.index + 1, self.days)).at(rng, 10, 21)
                sku, cat, num, price = lines[0]
                self._emit("pos_tickets", back, store[0], [
                    store[0], store[1], f"R{ticket}", 1, "RETURN", ticket,
                    back.strftime("%Y/%m/%d %H:%M:%S"), phone, card, sku, f"{cat} {sku}", cat,
                    -num, yuan(price), "0.00", "-" + yuan(price * num), payment])

    # -- Touchpoints --------------------------------------------------------------------------
    def web(self, p: Person) -> None:
        rng = self.rng
        for d in range(self.days):
            for _ in range(rng.choices((0, 1, 2, 3), weights=(45, 30, 15, 10))[0]):
                at = self.day(d).at(rng, 7, 24)
                logged_in = p.member_card and rng.random() < 0.3
                self._emit("web_events", at, "h5", {
                    "event_id": self.next_id("W"),
                    "event_type": rng.choice(("page_view",) * 6 + ("click", "click", "share",
                                                                    "form_submit")),
                    "occurred_at": at.isoformat(timespec="seconds"), "cookie_id": p.cookie_id,
                    # An old SDK version reports an all-zero device id for everyone.
                    "device_id": ZERO_DEVICE if rng.random() < 0.03 else p.device_id,
                    "user_id": p.member_card if logged_in else None,
                    "page_url": rng.choice(("https://m.example.com/mall", "https://m.example.com/art",
                                            "https://m.example.com/coupon")),
                    "campaign": rng.choice((None, "autumn2026", "artfair"))})

    def mall(self, p: Person) -> None:
        rng = self.rng
        for d in range(self.days):
            roll = rng.random()
            if roll > 0.05:
                continue
            at = self.day(d).at(rng, 10, 22)
            base = {"event_id": self.next_id("E"), "occurred_at": int(at.timestamp() * 1000),
                    "mall_code": "SH_ART_MALL"}
            if roll < 0.02 and p.device_mac_hash:
                record = {**base, "event_type": "wifi_login", "phone": spell_phone(rng, p.phones[-1]),
                          "device_mac_hash": p.device_mac_hash}
            elif roll < 0.035 and p.openids:
                app = sorted(p.openids)[0]
                record = {**base, "event_type": "qr_scan", "app_id": app, "openid": p.openids[app],
                          "scene_str": rng.choice(SCENES)}
            elif MINI_PROGRAM in p.openids:
                record = {**base, "event_type": "parking_payment", "app_id": MINI_PROGRAM,
                          "openid": p.openids[MINI_PROGRAM], "plate_no": f"沪A{rng.randrange(10**5):05d}",
                          "amount": yuan(rng.choice((500, 1000, 1500)))}
            else:
                continue
            self._emit("mall_events", at, "mall", record)

    def consent(self, p: Person) -> None:
        rng = self.rng
        if rng.random() < 0.05:
            at = self.day(rng.randrange(self.days)).at(rng)
            self._emit("consent", at, "consent", {
                "event_id": self.next_id("K"), "identifier_type": "phone",
                "identifier_value": spell_phone(rng, p.phones[-1]), "channel": "sms",
                "status": "opt_out", "source": "sms_reply_TD", "occurred_at": cn(at)})
        if p.openids and rng.random() < 0.03:
            at = self.day(rng.randrange(self.days)).at(rng)
            app = sorted(p.openids)[0]
            self._emit("consent", at, "consent", {
                "event_id": self.next_id("K"), "identifier_type": "openid",
                "identifier_value": p.openids[app], "app_id": app, "channel": "wechat_template",
                "status": "opt_out", "source": "wechat_settings", "occurred_at": cn(at)})
