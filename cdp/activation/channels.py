"""The channels a campaign can use: the identifier each one sends to, and the consent topics.

Segment definitions (``definitions``), the activation rules (``rules``), suppression and the
packs all name channels from here.
"""

from __future__ import annotations

from typing import Literal

#: every channel a campaign can use, and the identifier each one sends to
IDENTIFIER_OF_CHANNEL = {
    "wechat_cs": "openid",  # customer-service message: followers who interacted lately
    "wechat_template": "openid",  # template / subscribe message of an official account
    "sms": "phone",
    "pos": "member_card",  # flag shown to the cashier at the till
    "tencent": "phone",  # DMP: Tencent Ads HASH_MOBILE_PHONE
    "oceanengine": "phone",  # DMP: Ocean Engine MOBILE_HASH_SHA256
    "google": "phone",  # DMP: Google Customer Match (SHA-256, E.164)
    "meta": "phone",  # DMP: Meta custom audience (SHA-256)
}
CHANNELS = tuple(IDENTIFIER_OF_CHANNEL)
DMP_CHANNELS = ("tencent", "oceanengine", "google", "meta")
Channel = Literal[CHANNELS]
#: the ``channel`` values of silver.consent besides ``all`` (which covers every channel)
CONSENT_TOPICS = ("sms", "wechat_template", "wechat_broadcast", "email")
