"""Carrier compliance keywords: a keyword counts only when it is the whole text."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hotline.domain.keywords import OPT_OUT_WORDS, Keyword, fold, parse_keyword

# Typed out here rather than imported, so that dropping a word from the module fails a test.
OPT_OUT_EN = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"]
OPT_OUT_ES = ["PARA", "PARAR", "ALTO", "DETENER", "CANCELAR", "BAJA", "TERMINAR", "SALIR"]
OPT_IN = ["START", "UNSTOP", "YES", "OPTIN", "COMENZAR", "INICIAR", "ALTA"]
HELP = ["HELP", "INFO", "AYUDA"]


@pytest.mark.parametrize("word", OPT_OUT_EN + OPT_OUT_ES)
def test_every_opt_out_word_is_stop(word: str) -> None:
    assert parse_keyword(word) is Keyword.STOP
    assert parse_keyword(word.lower()) is Keyword.STOP
    assert parse_keyword(word.title()) is Keyword.STOP


@pytest.mark.parametrize("word", OPT_IN)
def test_every_opt_in_word_is_start(word: str) -> None:
    assert parse_keyword(word) is Keyword.START
    assert parse_keyword(word.lower()) is Keyword.START


@pytest.mark.parametrize("word", HELP)
def test_every_help_word_is_help(word: str) -> None:
    assert parse_keyword(word) is Keyword.HELP
    assert parse_keyword(word.lower()) is Keyword.HELP


@pytest.mark.parametrize(
    "text",
    [
        "stop",
        "Stop",
        "sToP",
        "Stop.",
        " stop! ",
        "STOP!!!",
        "\tSTOP\n",
        "¡Stop!",
        '"stop"',
        "stop 🛑",
        "🛑🛑 STOP 🛑🛑",
        "s t o p",
        "S T O P",
        "s.t.o.p",
        "S-T-O-P",
        "S\u200bTOP",  # a zero-width space some keyboards insert
        "\u200fSTOP",  # a right-to-left mark
        "ＳＴＯＰ",  # full-width
        "ｓｔｏｐ",
        "ЅТОР",  # Cyrillic Dze, Te, O, Er
        "SΤΟΡ",  # Latin S, then Greek Tau, Omicron, Rho
        "stóp",
        "STÓP",
        "pará",
        "PARÁR",
        "Detenér",
        "cancelar",
        "Salir.",
        "Baja",
        "unsubscribe",
        "STOP" + " " * 36,  # 40 characters in all
    ],
)
def test_stop_in_every_disguise(text: str) -> None:
    assert parse_keyword(text) is Keyword.STOP


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("Start", Keyword.START),
        ("start!", Keyword.START),
        ("Yes", Keyword.START),
        ("yes.", Keyword.START),
        ("Unstop", Keyword.START),
        ("ＳＴＡＲＴ", Keyword.START),
        ("Comenzar", Keyword.START),
        ("help", Keyword.HELP),
        ("Help?", Keyword.HELP),
        ("HELP!!!", Keyword.HELP),
        ("h e l p", Keyword.HELP),
        ("ΗΕLΡ", Keyword.HELP),  # Greek Eta, Epsilon, Latin L, Greek Rho
        ("НЕLР", Keyword.HELP),  # Cyrillic En, Ie, Latin L, Cyrillic Er
        ("ΙΝFΟ", Keyword.HELP),  # Greek Iota, Nu, Latin F, Greek Omicron
        ("info", Keyword.HELP),
        ("Ayuda", Keyword.HELP),
        ("¿Ayuda?", Keyword.HELP),
        ("AYÚDA", Keyword.HELP),
        ("ａｙｕｄａ", Keyword.HELP),
    ],
)
def test_start_and_help_in_disguise(text: str, keyword: Keyword) -> None:
    assert parse_keyword(text) is keyword


@pytest.mark.parametrize(
    "text",
    [
        "please don't stop",
        "stop calling me please",
        "I need help now",
        "help me please",
        "can you help",
        "he won't stop",
        "no quiero parar",
        "necesito ayuda",
        "the end",
        "yes I am safe",
    ],
)
def test_a_keyword_inside_a_sentence_is_not_a_keyword(text: str) -> None:
    assert parse_keyword(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "!!!",
        "🛑",
        "hi",
        "stopp",
        "stoop",
        "st0p",
        "sto",
        "helpme",
        "STOPSTOPSTOPSTOP",
        "yesterday",
        "unstoppable",
        "СТОП",  # Russian "stop": its П looks like no Latin letter, so it is not folded
    ],
)
def test_other_short_texts_are_not_keywords(text: str) -> None:
    assert parse_keyword(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "x" * 5000,
        "stop" * 50,
        "I have been trying to leave for months and I do not know who else to ask. " * 20,
        "s " * 100,
    ],
)
def test_long_texts_are_not_keywords(text: str) -> None:
    assert parse_keyword(text) is None


def test_fold_strips_case_accents_spacing_and_lookalikes() -> None:
    assert fold(" s t ó p! ") == "STOP"
    assert fold("ЅТОР") == "STOP"
    assert fold("ＳＴＯＰ") == "STOP"
    assert fold("Ayúda") == "AYUDA"


def test_keyword_values_are_stable() -> None:
    # Stored in the database and the audit trail: renaming one breaks old rows.
    assert [k.value for k in Keyword] == ["stop", "start", "help", "delete"]


@pytest.mark.parametrize("text", ["DELETE", "delete.", "Borrar", "ELIMINAR"])
def test_delete_in_english_and_spanish(text: str) -> None:
    assert parse_keyword(text) is Keyword.DELETE


@given(st.text())
def test_parse_keyword_never_raises(text: str) -> None:
    assert parse_keyword(text) in (None, *Keyword)


ODD_CHARACTERS = st.sampled_from(["\ud800", "\udfff", "\x00", "\ufeff", "\u0345", "ß", "ﬀ"])


@given(st.text(alphabet=st.one_of(st.characters(), ODD_CHARACTERS), max_size=60))
def test_parse_keyword_never_raises_on_surrogates_and_odd_code_points(text: str) -> None:
    assert parse_keyword(text) in (None, *Keyword)


KEYWORD_WORDS = [w.lower() for w in OPT_OUT_EN + OPT_OUT_ES + OPT_IN + HELP]
REAL_WORD = st.one_of(
    st.sampled_from(KEYWORD_WORDS),
    st.text(alphabet=st.characters(categories=["Lu", "Ll"]), min_size=2, max_size=10),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=10),
)


@given(st.lists(REAL_WORD, min_size=2, max_size=6), st.sampled_from([" ", "  ", "\n", " ... "]))
def test_any_sentence_of_two_real_words_is_not_a_keyword(words: list[str], sep: str) -> None:
    # Only a text made of nothing but opt-out words ("stop stop") is still a STOP.
    assume(not all(fold(w) in OPT_OUT_WORDS for w in words))
    assert parse_keyword(sep.join(words)) is None


@pytest.mark.parametrize(
    "text", ["STOP STOP", "stop. stop!", "Stop cancel", "STOP ALL", "parar parar"]
)
def test_nothing_but_opt_out_words_is_stop(text: str) -> None:
    assert parse_keyword(text) is Keyword.STOP
