"""SMS segment counting with the GSM 03.38 (GSM-7) and UCS-2 rules carriers bill by."""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Characters of the extension table cost two septets (an escape, then the character).
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def count_segments(text: str) -> SegmentCount:
    """How many SMS segments ``text`` takes: 160/153 septets, or 70/67 UTF-16 units.

    A character is never split across two parts: an escape sequence (two septets) or a
    surrogate pair (two UTF-16 units) that does not fit in what is left of a part starts the next.
    """
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        costs = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
        single, multi, encoding = 70, 67, "UCS-2"
    units = sum(costs)
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    else:
        segments, free = 1, multi
        for cost in costs:
            if cost > free:
                segments, free = segments + 1, multi
            free -= cost
    return SegmentCount(encoding=encoding, units=units, segments=segments)
