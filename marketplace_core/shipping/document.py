"""The printable label: a small SVG taped on the parcel by the seller (outbound), or by
the buyer sending an item back (a return label, from the buyer to the seller).

Names and cities are members' own words, so every piece of text is XML-escaped.
"""
from __future__ import annotations

from xml.sax.saxutils import escape

from marketplace_core.members.models import Member
from marketplace_core.shipping import labels
from marketplace_core.shipping.models import Direction, Shipment

WIDTH, HEIGHT = 400, 600  # 4 x 6 inch thermal label, 100 px to the inch


def _text(x: int, y: int, value: str, size: int = 16, weight: str = "normal",
          family: str = "sans-serif") -> str:
    return (f'<text x="{x}" y="{y}" font-size="{size}" font-weight="{weight}" '
            f'font-family="{family}">{escape(value)}</text>')


def _party(member: Member) -> str:
    place = f", {member.city}" if member.city else ""
    return f"{member.display_name} (@{member.username}){place}"


def label_svg(shipment: Shipment, seller: Member, buyer: Member) -> str:
    tier = shipment.tier.replace("_", " ").upper()
    if shipment.direction == Direction.RETURN:
        title, title_size = f"{labels.CARRIER_NAME} PREPAID RETURN", 22
        sender, recipient = buyer, seller
    else:
        title, title_size = f"{labels.CARRIER_NAME} PREPAID", 28
        sender, recipient = seller, buyer
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}">',
        f'<rect x="4" y="4" width="{WIDTH - 8}" height="{HEIGHT - 8}" fill="white" '
        'stroke="black" stroke-width="3"/>',
        _text(20, 50, title, title_size, "bold"),
        _text(20, 80, f"{tier} - up to {_limit(shipment)} - order #{shipment.order_id}", 14),
        '<line x1="4" y1="100" x2="396" y2="100" stroke="black" stroke-width="2"/>',
        _text(20, 130, "FROM", 12, "bold"), _text(20, 152, _party(sender), 15),
        _text(20, 200, "TO", 12, "bold"), _text(20, 226, _party(recipient), 18, "bold"),
        '<line x1="4" y1="260" x2="396" y2="260" stroke="black" stroke-width="2"/>',
        _text(20, 300, "TRACKING", 12, "bold"),
        _text(20, 345, shipment.tracking_number, 34, "bold", "monospace"),
        _text(20, 400, f"Label {shipment.label_number}", 14, family="monospace"),
        _text(20, 425, f"Parcel weight {shipment.weight_grams} g", 14),
        "</svg>",
    ]
    return "\n".join(parts)


def _limit(shipment: Shipment) -> str:
    for tier in labels.tiers():
        if tier.name == shipment.tier:
            return "any weight" if tier.max_grams is None else f"{tier.max_grams} g"
    return "?"
