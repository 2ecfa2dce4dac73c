"""Where a texter is: the state a reply to the location question names."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.domain import cities
from hotline.domain.places import AMBIGUOUS_CODES, ENGLISH_NAMES, SPANISH_NAMES, state_of

CODES = sorted(ENGLISH_NAMES)


def test_there_are_fifty_states_dc_and_puerto_rico() -> None:
    assert len(CODES) == 52
    assert {"DC", "PR"} <= set(CODES)


# --- codes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_every_code_in_capitals(code: str) -> None:
    assert state_of(code) == code
    assert state_of(f" {code}. ") == code


@pytest.mark.parametrize("code", sorted(set(CODES) - AMBIGUOUS_CODES))
def test_a_code_that_is_no_word_in_any_case(code: str) -> None:
    assert state_of(code.lower()) == code
    assert state_of(f"i'm in {code.lower()}") == code


@pytest.mark.parametrize("code", sorted(AMBIGUOUS_CODES))
def test_a_code_that_is_a_word_only_in_capitals(code: str) -> None:
    assert state_of(code.lower()) is None
    assert state_of(code.capitalize()) is None


@pytest.mark.parametrize(("text", "code"), [("I'm in PA", "PA"), ("estoy en GA", "GA")])
def test_a_capital_code_with_words_around_it(text: str, code: str) -> None:
    assert state_of(text) == code


@pytest.mark.parametrize(
    "text",
    [
        "OK thanks",  # OK is an answer more often than a state
        "OK THANKS",
        "I'M IN",
        "Estoy en LA",  # Los Angeles or Louisiana: neither
        "HI there",
        "ME too",
    ],
)
def test_a_capital_code_that_is_a_word_counts_only_alone(text: str) -> None:
    assert state_of(text) is None


def test_la_in_capitals_is_louisiana_and_los_angeles_is_california() -> None:
    assert state_of("LA") == "LA"
    assert state_of("la") is None
    assert state_of("Los Angeles") == "CA"
    assert state_of("los angeles") == "CA"


# --- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "name"), sorted(ENGLISH_NAMES.items()))
def test_every_english_name_in_any_case(code: str, name: str) -> None:
    assert state_of(name) == code
    assert state_of(name.upper()) == code
    assert state_of(name.title() + ".") == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Nueva York", "NY"),
        ("nueva york", "NY"),
        ("Carolina del Norte", "NC"),
        ("Carolina del Sur", "SC"),
        ("Nuevo México", "NM"),
        ("nuevo mexico", "NM"),
        ("Nueva Jersey", "NJ"),
        ("Luisiana", "LA"),
        ("Pensilvania", "PA"),
        ("Florida", "FL"),
        ("Texas", "TX"),
        ("Tejas", "TX"),
        ("California", "CA"),
        ("Misuri", "MO"),
        ("Misisipi", "MS"),
        ("Hawái", "HI"),
        ("Hawai", "HI"),
        ("HAWÁI", "HI"),
        ("Dakota del Sur", "SD"),
        ("Dakota del Norte", "ND"),
        ("Virginia Occidental", "WV"),
        ("Distrito de Columbia", "DC"),
        ("Puerto Rico", "PR"),
        ("Oregón", "OR"),
        ("Míchigan", "MI"),
        ("Tenesí", "TN"),
        ("Nuevo Hampshire", "NH"),
    ],
)
def test_spanish_names_with_or_without_accents(text: str, code: str) -> None:
    assert state_of(text) == code


def test_every_spanish_name_is_a_state() -> None:
    for name, code in SPANISH_NAMES.items():
        assert state_of(name) == code, name


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Pensylvania", "PA"),
        ("Pennsilvania", "PA"),
        ("Mississipi", "MS"),
        ("Missisippi", "MS"),
        ("Conneticut", "CT"),
        ("Tennesee", "TN"),
        ("Massachusets", "MA"),
        ("Califronia", "CA"),  # two letters swapped
        ("Louisianna", "LA"),
        ("New Yrok", "NY"),
        ("Carolina del Nrote", "NC"),
        ("Virgina", "VA"),
        ("Pensilbania", "PA"),
    ],
)
def test_a_long_name_misspelt_by_one_letter(text: str, code: str) -> None:
    assert state_of(text) == code


@pytest.mark.parametrize(
    "text",
    [
        "Texsas",  # names shorter than seven letters are not guessed at
        "Ohioo",
        "Pensylvanya",  # two edits
        "Indians",  # a word made from a name
        "Georgian",
        "Carolina",  # North or South?
        "Dakota",
        "Virginias",
    ],
)
def test_no_guess_at_short_names_or_two_edits(text: str) -> None:
    assert state_of(text) is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("i'm in texas", "TX"),
        ("I’m in Texas", "TX"),
        ("I'M IN TEXAS", "TX"),
        ("OK I'm in Texas", "TX"),
        ("texas please", "TX"),
        ("Texas!!", "TX"),
        ("estoy en nueva york", "NY"),
        ("Estoy en la ciudad de Nueva York", "NY"),
        ("vivo en el estado de Florida", "FL"),
        ("in the state of Ohio", "OH"),
        ("hi im in ohio right now", "OH"),
        ("Washington DC", "DC"),
        ("washington d.c.", "DC"),
        ("D.C.", "DC"),
        ("Texas, USA", "TX"),
    ],
)
def test_words_around_a_name(text: str, code: str) -> None:
    assert state_of(text) == code


# --- ZIP codes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("10001", "NY"),
        (" 10001 ", "NY"),
        ("10001-1234", "NY"),
        ("77063", "TX"),
        ("90210", "CA"),
        ("60614", "IL"),
        ("33101", "FL"),
        ("02108", "MA"),
        ("20001", "DC"),
        ("00601", "PR"),
        ("00501", "NY"),  # Holtsville, the IRS
        ("96813", "HI"),
        ("99501", "AK"),
        ("12345", "NY"),  # a real ZIP: General Electric, Schenectady
        ("my zip is 30303", "GA"),
        ("zip code 85001", "AZ"),
    ],
)
def test_a_zip_is_its_state(text: str, code: str) -> None:
    assert state_of(text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # the edges of prefix ranges, where one state ends and the next begins
        ("19999", "DE"),
        ("20000", "DC"),
        ("20199", "VA"),
        ("20299", "DC"),
        ("20600", "MD"),
        ("21999", "MD"),
        ("22000", "VA"),
        ("24699", "VA"),
        ("24700", "WV"),
        ("26899", "WV"),
        ("26900", None),  # 269 is no prefix
        ("27000", "NC"),
        ("28999", "NC"),
        ("29000", "SC"),
        ("38599", "TN"),
        ("38600", "MS"),
        ("39799", "MS"),
        ("39800", "GA"),
        ("72999", "AR"),
        ("73000", "OK"),
        ("73399", "TX"),
        ("73400", "OK"),
        ("74999", "OK"),
        ("75000", "TX"),
        ("88499", "NM"),
        ("88500", "TX"),
        ("88599", "TX"),
        ("88800", "DC"),
        ("88900", "NV"),
        ("05500", "MA"),
        ("05600", "VT"),
        ("00699", "PR"),
        ("00800", None),  # the Virgin Islands
        ("00900", "PR"),
        ("03899", "NH"),
        ("03900", "ME"),
    ],
)
def test_zips_on_both_sides_of_a_state_line(text: str, code: str | None) -> None:
    assert state_of(text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("06390", "NY"),  # Fishers Island, under a Connecticut prefix
        ("06391", "CT"),
        ("72643", "MO"),  # under an Arkansas prefix
        ("73960", "TX"),  # under an Oklahoma prefix
        ("83414", "WY"),  # under an Idaho prefix
        ("96799", None),  # American Samoa, under Hawaii's prefix
        ("96910", None),  # Guam
        ("09001", None),  # military post, Europe
    ],
)
def test_zips_that_are_not_their_prefixs_state(text: str, code: str | None) -> None:
    assert state_of(text) == code


@pytest.mark.parametrize(
    "text",
    ["00000", "11111", "99999", "123", "1234", "123456", "10001-12", "911", "I'm 16", "2024"],
)
def test_numbers_that_are_no_zip(text: str) -> None:
    assert state_of(text) is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Houston, TX", "TX"),
        ("houston tx 77063", "TX"),
        ("Houston, Texas 77063-4501", "TX"),
        ("Chicago IL 60614", "IL"),
    ],
)
def test_a_zip_that_agrees_with_the_rest(text: str, code: str) -> None:
    assert state_of(text) == code


@pytest.mark.parametrize(
    "text", ["Texas 10001", "10001 77063", "Chicago, IL 77063", "NY TX", "ID Texas", "PA Texas"]
)
def test_two_states_are_none(text: str) -> None:
    assert state_of(text) is None


# --- cities ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Chicago", "IL"),
        ("chicago", "IL"),
        ("CHICAGO", "IL"),
        ("Houston", "TX"),
        ("san antonio", "TX"),
        ("San Antonio, Texas", "TX"),
        ("nyc", "NY"),
        ("NYC", "NY"),
        ("new york city", "NY"),
        ("Brooklyn", "NY"),
        ("the Bronx", "NY"),
        ("bronx", "NY"),
        ("st louis", "MO"),
        ("St. Louis", "MO"),
        ("saint louis", "MO"),
        ("St. Petersburg, FL", "FL"),
        ("Fort Worth", "TX"),
        ("ft worth", "TX"),
        ("Winston-Salem", "NC"),
        ("winston salem", "NC"),
        ("Kansas City", "MO"),  # Missouri's is the larger
        ("Kansas City, Kansas", "KS"),
        ("Virginia Beach", "VA"),
        ("Oklahoma City", "OK"),
        ("Salt Lake City", "UT"),
        ("El Paso", "TX"),
        ("Phoenix", "AZ"),
        ("Miami", "FL"),
        ("Atlanta", "GA"),
        ("New Orleans", "LA"),
        ("Las Vegas", "NV"),
        ("Seattle", "WA"),
        ("Denver", "CO"),
        ("Honolulu", "HI"),
        ("San Juan, PR", "PR"),
        ("Bayamón", "PR"),
        ("Mayagüez", "PR"),
        ("estoy en Houston", "TX"),
        ("I'm in chicago right now", "IL"),
        ("Philly", "PA"),
    ],
)
def test_a_city_is_its_state(text: str, code: str) -> None:
    assert state_of(text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Springfield", "MO"),
        ("Portland", "OR"),
        ("Columbus", "OH"),
        ("Springfield IL", "IL"),
        ("Springfield, Illinois", "IL"),
        ("Springfield MA", "MA"),
        ("Portland, Maine", "ME"),
        ("portland me", "ME"),
        ("PORTLAND ME", "ME"),
        ("Portland ME 04101", "ME"),
        ("portland or", "OR"),
        ("Columbus GA", "GA"),
        ("columbus, ga", "GA"),
        ("Columbus Ohio", "OH"),
        ("Columbus oh", "OH"),
        ("Paris, TX", "TX"),  # a state makes a name that needs one count
        ("Mobile, AL", "AL"),
        ("mobile alabama", "AL"),
    ],
)
def test_a_city_name_alone_is_the_most_populous_and_a_state_decides(text: str, code: str) -> None:
    assert state_of(text) == code


def test_a_word_after_a_city_is_a_state_only_at_the_end() -> None:
    assert state_of("houston in texas") == "TX"  # "in" is not Indiana here
    assert state_of("Portland in Oregon") == "OR"


@pytest.mark.parametrize(
    "text",
    [
        "Paris",  # France's, more than Texas's
        "St Petersburg",  # Russia's, more than Florida's
        "Dublin",
        "Ontario",
        "Victoria",
        "Mobile",  # everyday words
        "Surprise",
        "Paradise",
        "Independence",
        "Liberty",
        "Normal",
        "Parole",
        "Converse",
        "Socorro",  # "help!" in Spanish
        "Mesa",
        "Aloha",
        "Carolina",
        "Alice",  # first names
        "Linda",
    ],
)
def test_a_city_name_that_means_something_else_needs_a_state(text: str) -> None:
    assert state_of(text) is None


# --- what names no place ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "?!",
        "🙂",
        "I'm in danger",
        "I'M IN DANGER",
        "in",
        "me",
        "hi",
        "ok",
        "or",
        "de",
        "pa",
        "oh",
        "yes",
        "no",
        "help",
        "ayuda",
        "home",
        "at home",
        "my house",
        "en mi casa",
        "work",
        "school",
        "a shelter",
        "the car",
        "downtown",
        "near the bus station",
        "I don't know",
        "no se",
        "skip",
        "somewhere safe",
        "he took my phone",
        "xyz",
        "Ontario, Canada",
        "Mexico",
        "Tijuana",
        "London",
        "Toronto",
        "I'm 16",
        "call 911",
        "the city",
        "my state",
    ],
)
def test_a_reply_that_names_no_place(text: str) -> None:
    assert state_of(text) is None


def test_a_place_with_words_that_are_not_around_places_is_none() -> None:
    # Every word must be part of the place or of what people say around one.
    assert state_of("he's taking me to texas") is None
    assert state_of("I left Texas last year, now I'm in Ohio") is None


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40))
def test_any_text_is_a_state_or_none(text: str) -> None:
    assert state_of(text) in {*CODES, None}


# --- the gazetteer ----------------------------------------------------------------------------


def test_the_gazetteer_keys_folded_names() -> None:
    assert cities.fold("Mayagüez") == "mayaguez"
    assert cities.fold("St. Louis") == "st louis"
    assert cities.fold("Winston-Salem") == "winston salem"
    assert cities.fold("Mōʻiliʻili") == "moiliili"
    found = cities.look_up("saint louis")
    assert found is not None
    assert found.states[0] == "MO"
    assert found.alone


def test_the_gazetteer_keeps_most_populous_first() -> None:
    found = cities.look_up("springfield")
    assert found is not None
    assert found.states[:2] == ("MO", "MA")
    assert {"IL", "OH", "OR"} <= set(found.states)


def test_the_gazetteer_is_read_on_first_use_not_on_import() -> None:
    script = (
        "import hotline.domain.answers\n"
        "from hotline.domain import cities\n"
        "assert cities._gazetteer.cache_info().currsize == 0\n"
        "assert hotline.domain.answers.location('TX') == 'TX'\n"
        "assert cities._gazetteer.cache_info().currsize == 1\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
