"""Presentation helpers for the console."""
from __future__ import annotations


def inr(paise: int | None) -> str:
    """Rupees with Indian digit grouping (lakh, crore).

    1234567 paise -> 'Rs 12,345.67'; 10**10 paise -> 'Rs 10,00,00,000.00'.
    """
    if paise is None:
        return ""
    sign = "-" if paise < 0 else ""
    rupees, fraction = divmod(abs(int(paise)), 100)
    digits = str(rupees)
    if len(digits) > 3:
        head, tail = digits[:-3], digits[-3:]
        groups = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        if head:
            groups.insert(0, head)
        digits = ",".join(groups) + "," + tail
    return f"{sign}Rs {digits}.{fraction:02d}"


def age(seconds: int | None) -> str:
    """How long ago, in the largest unit that fits: 45 s, 12 min, 5 h, 3 d."""
    if seconds is None:
        return ""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
