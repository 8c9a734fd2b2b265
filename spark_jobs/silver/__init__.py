"""Silver: standardised, de-duplicated tables, one row per business key."""

from spark_jobs.silver.activity import CONSENT_SOURCES, COUPON_SOURCES, EVENT_SOURCES, POINT_SOURCES
from spark_jobs.silver.orders import ORDER_ITEM_SOURCES, ORDER_SOURCES
from spark_jobs.silver.people import FOLLOWER_SOURCES, MEMBER_SOURCES
from spark_jobs.silver.schema import SILVER_TABLES, SilverTable, conform

#: silver table -> {bronze channel -> transform(bronze DataFrame, source time zone) -> DataFrame};
#: business dates are days in the source time zone (the settings' ``source_timezone``)
SOURCES = {
    "orders": ORDER_SOURCES,
    "order_items": ORDER_ITEM_SOURCES,
    "members": MEMBER_SOURCES,
    "followers": FOLLOWER_SOURCES,
    "events": EVENT_SOURCES,
    "coupon_events": COUPON_SOURCES,
    "points": POINT_SOURCES,
    "consent": CONSENT_SOURCES,
}

__all__ = ["SILVER_TABLES", "SOURCES", "SilverTable", "conform"]
