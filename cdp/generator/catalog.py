"""The fixed world the people live in: cities, WeChat apps, shops, stores, malls and products.

Everything here is derived from the seed only, so every worker process builds the same catalog.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

CITIES = ("Shanghai", "Beijing", "Chengdu", "Shenzhen", "Hangzhou", "Guangzhou")
CITY_WEIGHTS = (0.34, 0.2, 0.12, 0.12, 0.12, 0.10)
CITY_CODES = {
    "Shanghai": "SH",
    "Beijing": "BJ",
    "Chengdu": "CD",
    "Shenzhen": "SZ",
    "Hangzhou": "HZ",
    "Guangzhou": "GZ",
}

CATEGORIES = ("Art & Lifestyle", "Fashion", "Beauty", "F&B", "Kids", "Home")
CATEGORY_CODES = ("AL", "FA", "BE", "FB", "KI", "HO")
# How a store's own POS spells its business format (业态): some stores export Chinese labels.
FORMAT_CHINESE = {
    "Art & Lifestyle": "艺术生活",
    "Fashion": "时尚",
    "Beauty": "美妆",
    "F&B": "餐饮",
    "Kids": "亲子",
    "Home": "家居",
}

# (English title, Chinese title, price range in fen) per category.
PRODUCTS = {
    "Art & Lifestyle": [
        ("Art Print", "艺术版画", 9900, 89900),
        ("Sketchbook", "速写本", 3900, 12900),
        ("Exhibition Ticket", "展览门票", 8000, 18000),
        ("Ceramic Vase", "陶瓷花瓶", 19900, 69900),
    ],
    "Fashion": [
        ("Silk Scarf", "真丝围巾", 29900, 129900),
        ("Denim Jacket", "牛仔夹克", 39900, 99900),
        ("Cotton Tee", "棉质T恤", 9900, 29900),
        ("Leather Belt", "皮带", 19900, 59900),
    ],
    "Beauty": [
        ("Lipstick", "口红", 19900, 39900),
        ("Face Serum", "精华液", 39900, 159900),
        ("Hand Cream", "护手霜", 5900, 15900),
        ("Perfume", "香水", 59900, 189900),
    ],
    "F&B": [
        ("Latte", "拿铁", 2800, 4200),
        ("Afternoon Tea Set", "下午茶套餐", 12800, 29800),
        ("Mooncake Box", "月饼礼盒", 16800, 58800),
        ("Craft Beer", "精酿啤酒", 3800, 6800),
    ],
    "Kids": [
        ("Picture Book", "绘本", 3900, 12900),
        ("Building Blocks", "积木", 19900, 79900),
        ("Kids Sneakers", "童鞋", 19900, 49900),
    ],
    "Home": [
        ("Scented Candle", "香薰蜡烛", 9900, 32900),
        ("Linen Bedding", "亚麻床品", 59900, 199900),
        ("Tea Cup Set", "茶杯套装", 12900, 39900),
    ],
}

SURNAMES = (
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "高",
    "林",
    "罗",
    "郑",
    "梁",
    "谢",
    "宋",
    "唐",
    "许",
    "韩",
    "冯",
    "邓",
    "曹",
    "欧阳",
    "上官",
)
SURNAME_WEIGHTS = (
    7.2,
    7.1,
    6.8,
    5.4,
    4.5,
    3.1,
    2.4,
    2.3,
    2.1,
    1.9,
    1.7,
    1.6,
    1.5,
    1.4,
    1.3,
    1.2,
    1.2,
    1.1,
    1.1,
    0.9,
    0.9,
    0.9,
    0.8,
    0.8,
    0.8,
    0.7,
    0.7,
    0.7,
    0.6,
    0.6,
    0.05,
    0.02,
)
GIVEN_CHARS = tuple(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏飞建国欣怡子涵浩宇梓萱"
    "思雨嘉琪晨阳佳豪婷雪梅宁博文晓东"
)

PAYMENT_METHODS = ("WeChat Pay", "Alipay", "UnionPay", "Cash")
PAYMENT_WEIGHTS = (0.52, 0.3, 0.13, 0.05)
TEST_PHONES = ("13800000000", "11111111111")
HUB_DEVICE_ID = "00000000-0000-0000-0000-000000000000"
CAMPAIGNS = (
    "campaign_2026mid",
    "campaign_autumn_art",
    "campaign_mooncake",
    "campaign_national_day",
)
TIERS = ("silver", "gold", "platinum")
LEGACY_POS_STORES = ("SH002", "CD001")


@dataclass(frozen=True)
class App:
    app_id: str
    original_id: str  # gh_... : the ToUserName of event pushes
    kind: str  # "official_account" or "mini_program"
    city: str | None  # the city an official account serves; None for brand-wide


@dataclass(frozen=True)
class Store:
    code: str
    city: str
    category: str
    business_format: str  # as the store's POS spells it
    phone: str  # the store's own number, typed by cashiers for walk-ins
    encoding: str  # "utf-8", or "gb18030" for a legacy POS

    @property
    def category_index(self) -> int:
        return CATEGORIES.index(self.category)


@dataclass(frozen=True)
class Catalog:
    official_accounts: tuple[App, ...]
    mini_program: App
    stores: tuple[Store, ...]
    malls: dict  # city -> mall code
    staff_openids: tuple[tuple[str, str], ...]  # (app_id, openid) of store staff
    tmall_shop: str
    jd_vender: str
    douyin_shop: str

    @property
    def apps(self) -> tuple[App, ...]:
        return (*self.official_accounts, self.mini_program)


def _hex(rnd: random.Random, n: int) -> str:
    return "".join(rnd.choice("0123456789abcdef") for _ in range(n))


def random_openid(rnd: random.Random) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "o" + "".join(rnd.choice(alphabet) for _ in range(27))


def build_catalog(seed: int) -> Catalog:
    """The catalog for one seed (cities, apps, stores with their phones and encodings)."""
    rnd = random.Random(f"catalog-{seed}")
    accounts = tuple(
        App(f"wx{_hex(rnd, 16)}", f"gh_{_hex(rnd, 12)}", "official_account", city)
        for city in (None, "Shanghai", "Beijing")
    )
    mini = App(f"wx{_hex(rnd, 16)}", f"gh_{_hex(rnd, 12)}", "mini_program", None)
    stores = []
    store_counts = {
        "Shanghai": 8,
        "Beijing": 5,
        "Chengdu": 3,
        "Shenzhen": 3,
        "Hangzhou": 3,
        "Guangzhou": 2,
    }
    for city, count in store_counts.items():
        for i in range(count):
            category = CATEGORIES[(i + len(stores)) % len(CATEGORIES)]
            code = f"{CITY_CODES[city]}{i + 1:03d}"
            # Two stores still run a legacy POS that exports GB18030 with Chinese labels.
            gbk = code in LEGACY_POS_STORES
            chinese = gbk or rnd.random() < 0.35
            stores.append(
                Store(
                    code=code,
                    city=city,
                    category=category,
                    business_format=FORMAT_CHINESE[category] if chinese else category,
                    # Store phones use the 199 range, which no generated customer is given.
                    phone=f"199{rnd.randrange(10**8):08d}",
                    encoding="gb18030" if gbk else "utf-8",
                )
            )
    malls = {city: f"MALL_{CITY_CODES[city]}01" for city in CITIES}
    staff = tuple((accounts[i % 3].app_id, random_openid(rnd)) for i in range(6))
    return Catalog(
        accounts,
        mini,
        tuple(stores),
        malls,
        staff,
        tmall_shop=f"{rnd.randrange(10**8):08d}",
        jd_vender=f"{rnd.randrange(10**6):06d}",
        douyin_shop=f"{rnd.randrange(10**7):07d}",
    )
