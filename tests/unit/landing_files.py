"""Tiny hand-written landing files for unit tests."""

from __future__ import annotations

import json
from pathlib import Path

POS_HEADER = (
    "store_code,business_format,ticket_no,line_no,ticket_type,original_ticket_no,"
    "ticket_time,member_phone,member_card_no,sku,item_name,category,quantity,"
    "unit_price,discount,line_amount,payment_method"
)


def tmall_trade(
    tid: str, status: str = "TRADE_FINISHED", modified: str = "2026-09-01 10:05:00", **overrides
) -> dict:
    trade = {
        "tid": tid,
        "shop_id": "S1",
        "status": status,
        "buyer_nick": "t**1",
        "ouid": f"OU{tid}",
        "total_fee": "100.00",
        "payment": "90.00",
        "discount_fee": "10.00",
        "post_fee": "0.00",
        "created": "2026-09-01 10:00:00",
        "pay_time": "2026-09-01 10:01:00",
        "modified": modified,
        "orders": [
            {
                "oid": f"{tid}-1",
                "sku_id": "K1",
                "title": "Mug",
                "category": "Home",
                "price": "50.00",
                "num": "2",
                "payment": "90.00",
                "discount_fee": "10.00",
            }
        ],
    }
    trade.update(overrides)
    return trade


def write_lines(path: Path, lines: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(
        line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines
    )
    path.write_text(text + "\n", encoding="utf-8")
    return path


def write_pos(path: Path, rows: list[str], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\n".join([POS_HEADER, *rows]) + "\n").encode(encoding))
    return path
