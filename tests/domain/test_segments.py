"""SMS segment counting, checked against the GSM 03.38 / 3GPP TS 23.040 numbers.

One GSM-7 segment holds 160 septets; once a text is split, each part holds 153 (the user data
header takes the rest). UCS-2: 70 UTF-16 code units, then 67 per part. An extension-table
character costs two septets (ESC + the character) and is never split across two parts; nor is a
UTF-16 surrogate pair.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.domain.segments import SegmentCount, count_segments

# The GSM 03.38 default alphabet, typed from the spec's table (not taken from the module).
SPEC_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
SPEC_EXTENSION = "\f^{}\\[~]|€"


def test_empty_text_is_zero_segments() -> None:
    assert count_segments("") == SegmentCount(encoding="GSM-7", units=0, segments=0)


def test_plain_english_is_gsm7() -> None:
    result = count_segments("Are you safe to text? Reply STOP to opt out.")
    assert result.encoding == "GSM-7"
    assert result.units == 44
    assert result.segments == 1


def test_every_character_of_the_default_alphabet_is_gsm7_and_one_septet() -> None:
    result = count_segments(SPEC_BASIC)
    assert result.encoding == "GSM-7"
    assert result.units == len(SPEC_BASIC)


@pytest.mark.parametrize("ch", list(SPEC_EXTENSION))
def test_extension_characters_cost_two_septets(ch: str) -> None:
    result = count_segments("a" + ch)
    assert result.encoding == "GSM-7"
    assert result.units == 3


@pytest.mark.parametrize(
    "ch",
    [
        "á",  # GSM has à and é, not á
        "í",
        "ó",
        "ú",
        "ç",  # only the capital Ç is in the table
        "`",
        "ê",
        "Ó",
        "’",  # a phone's "smart" apostrophe
        "“",
        "中",
        "Ж",
        "😀",
    ],
)
def test_a_single_character_outside_gsm7_makes_the_whole_text_ucs2(ch: str) -> None:
    result = count_segments("Hello " + ch)
    assert result.encoding == "UCS-2"


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4), (1530, 10)],
)
def test_gsm7_boundaries(length: int, segments: int) -> None:
    result = count_segments("a" * length)
    assert result == SegmentCount(encoding="GSM-7", units=length, segments=segments)


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_boundaries(length: int, segments: int) -> None:
    result = count_segments("ó" * length)
    assert result == SegmentCount(encoding="UCS-2", units=length, segments=segments)


def test_one_accent_drops_a_160_character_text_from_one_segment_to_three() -> None:
    assert count_segments("a" * 160).segments == 1
    assert count_segments("a" * 159 + "á").segments == 3


@pytest.mark.parametrize(
    ("count", "units", "segments"),
    [(1, 2, 1), (80, 160, 1), (81, 162, 2), (153, 306, 3)],
)
def test_euro_signs_count_two_septets_each(count: int, units: int, segments: int) -> None:
    result = count_segments("€" * count)
    assert result == SegmentCount(encoding="GSM-7", units=units, segments=segments)


def test_mixed_extension_characters() -> None:
    # 79 plain + one '[' = 81 septets; 158 plain + '{' = 160 septets: still one segment.
    assert count_segments("a" * 79 + "[").units == 81
    assert count_segments("a" * 158 + "{").segments == 1
    assert count_segments("a" * 159 + "}").segments == 2


def test_an_escape_sequence_is_never_split_across_two_parts() -> None:
    # 152 + 2 + 152 = 306 septets would fit in two parts of 153, but the euro sign cannot
    # straddle the boundary: part one holds 152, part two 2 + 151, part three 1.
    result = count_segments("a" * 152 + "€" + "a" * 152)
    assert result.units == 306
    assert result.segments == 3


def test_emoji_count_as_two_utf16_units() -> None:
    assert count_segments("😀") == SegmentCount(encoding="UCS-2", units=2, segments=1)
    assert count_segments("😀" * 35) == SegmentCount(encoding="UCS-2", units=70, segments=1)
    assert count_segments("😀" * 36) == SegmentCount(encoding="UCS-2", units=72, segments=2)
    # An otherwise GSM-7 text with one emoji: 68 + 2 = 70 units, one segment; 69 + 2 = 71, two.
    assert count_segments("a" * 68 + "😀").segments == 1
    assert count_segments("a" * 69 + "😀").segments == 2


def test_a_surrogate_pair_is_never_split_across_two_parts() -> None:
    # 66 + 2 + 66 = 134 units would fit in two parts of 67, but the emoji cannot straddle them.
    result = count_segments("ó" * 66 + "😀" + "ó" * 66)
    assert result.units == 134
    assert result.segments == 3


def test_a_lone_surrogate_is_counted_not_raised() -> None:
    result = count_segments("a\ud800")
    assert result.encoding == "UCS-2"
    assert result.units == 2


@given(st.text())
def test_segments_hold_every_unit(text: str) -> None:
    result = count_segments(text)
    single, multi = (160, 153) if result.encoding == "GSM-7" else (70, 67)
    if result.units == 0:
        assert result.segments == 0
    elif result.units <= single:
        assert result.segments == 1
    else:
        # At least enough parts for every unit, and at most one extra part per boundary.
        assert result.segments * multi >= result.units
        assert result.segments <= -(-result.units // (multi - 1))
