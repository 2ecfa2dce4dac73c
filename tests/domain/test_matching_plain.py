"""``plain``'s short way for ASCII texts reads them exactly as the full Unicode way does."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from hotline.domain.matching import _plain_unicode, plain


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_reads_as_the_unicode_way_reads_it(text: str) -> None:
    assert text.isascii()
    assert plain(text) == _plain_unicode(text)


@given(st.text(alphabet=string.printable + "’‘éÉñÑüİﬁ한국\u00a0\u2003"))
def test_any_text_reads_as_before(text: str) -> None:
    assert plain(text) == _plain_unicode(text)


def test_what_plain_promises() -> None:
    assert plain("  They TOOK\tmy  passport ") == "they took my passport"
    assert plain("I’m SCARED, ayúdame") == "i'm scared, ayudame"
