"""Where a texter is: the US state a reply to "What city, state or ZIP code are you in?" names.

A reply names a state by its two-letter code, its English or Spanish name (misspelt by a
letter, for names of seven letters or more), a ZIP code or a US city, with words around it
("i'm in texas", "estoy en nueva york", "Houston, TX 77063"). Every word of the reply must be
part of a place or one of a few words people put around a place (``_AROUND``): "I'm in danger"
names no place, and neither does "near the bus station". When what it names disagrees
("Texas 10001") it names nothing. A wrong state is worse than none: the bot asks again.

Two-letter codes that are everyday words (``AMBIGUOUS_CODES``: OK, IN, ME, HI...) count only
typed in capitals as the whole reply ("IN"), or after a city ("portland me"); other codes count
in any case ("tx"). A city named alone is the most populous of that name ("Portland" is
Oregon's); with a state, that state's ("Portland, Maine").
"""

from __future__ import annotations

import re
from typing import NamedTuple

from hotline.domain import cities
from hotline.domain.zips import state_of_zip

# The states, the District of Columbia and Puerto Rico, by USPS code, as shown to staff (the
# case record's state list adds the other territories: hotline.domain.case_lists).
STATE_NAMES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "PR": "Puerto Rico", "RI": "Rhode Island", "SC": "South Carolina",
    "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont",
    "VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin",
    "WY": "Wyoming",
}  # fmt: skip
# As a reply is read: folded (lower case).
ENGLISH_NAMES = {code: name.lower() for code, name in STATE_NAMES.items()}
# Spanish names where they differ from the English (folded: no accents, lower case).
SPANISH_NAMES = {
    "nueva york": "NY", "nueva jersey": "NJ", "nuevo jersey": "NJ", "nuevo mexico": "NM",
    "nueva hampshire": "NH", "nuevo hampshire": "NH", "carolina del norte": "NC",
    "carolina del sur": "SC", "dakota del norte": "ND", "dakota del sur": "SD",
    "virginia occidental": "WV", "distrito de columbia": "DC", "luisiana": "LA",
    "pensilvania": "PA", "misuri": "MO", "misisipi": "MS", "hawai": "HI", "tejas": "TX",
    "oregon": "OR", "michigan": "MI", "tenesi": "TN", "kansas": "KS", "arkansas": "AR",
    "connecticut": "CT", "rhode island": "RI", "massachusetts": "MA", "washington": "WA",
}  # fmt: skip
OTHER_NAMES = {"washington dc": "DC", "nyc": "NY", "new york city": "NY", "philly": "PA"}
STATE_BY_NAME = {
    **{name: code for code, name in ENGLISH_NAMES.items()},
    **SPANISH_NAMES,
    **OTHER_NAMES,
}
# Two-letter codes that are also everyday words in English or Spanish ("ok", "hi", "me", "la").
AMBIGUOUS_CODES = frozenset(
    {
        "OK", "IN", "ME", "HI", "OR", "LA", "DE", "PA", "AL", "ID",
        "MA", "OH", "MO", "NE", "CO", "GA", "SC", "WA", "MD", "MS",
    }
)  # fmt: skip
# Words people put around a place: "i'm in", "estoy en", "please", "the city of".
_AROUND = frozenset(
    {
        "i", "im", "am", "in", "at", "from", "near", "around", "live", "living", "located",
        "stay", "staying", "the", "city", "of", "state", "county", "area", "zip", "code",
        "zipcode", "my", "is", "its", "it", "right", "now", "currently", "here", "please", "pls",
        "plz", "thanks", "thank", "you", "thx", "ok", "okay", "hi", "hello", "hey", "yes",
        "yeah", "just", "we", "are", "were", "and", "usa", "us",
        "estoy", "estamos", "en", "vivo", "vivimos", "soy", "somos", "de", "del", "la", "el",
        "ciudad", "estado", "codigo", "postal", "por", "favor", "gracias", "aqui", "cerca",
        "hola", "si", "ahorita", "ahora", "condado", "eeuu", "y",
    }
)  # fmt: skip
_LONGEST_NAME = 5  # words, for "el pueblo de los angeles"-like names; more than any state's
_ZIP_PLUS_FOUR = re.compile(r"(?<!\d)(\d{5})-\d{4}(?!\d)")


class _Found(NamedTuple):
    states: tuple[str, ...]  # one for a state, a code or a ZIP; a city's, most populous first
    is_city: bool
    alone: bool = True  # a city whose name alone says it; always for a state


def state_of(text: str) -> str | None:
    """The USPS code of the US state, DC or Puerto Rico that ``text`` names; None when it
    names none, names two, or has words in it that are no part of a place."""
    originals = [w for w in re.split(r"\s+", _ZIP_PLUS_FOUR.sub(r"\1", text)) if w]
    words: list[str] = []
    typed: list[str] = []  # each word as typed, for the capitals of "IN" or "ME"
    for original in originals:
        for part in cities.fold(original).split():
            words.append(part)
            typed.append(_as_typed(original, part))
    if not words:
        return None

    found: list[_Found] = []
    codes_after_city: list[str] = []
    weak_codes: list[str] = []
    i = 0
    while i < len(words):
        place, width = _place_at(words, i)
        if place is not None:
            found.append(place)
            i += width
            continue
        word, code = words[i], words[i].upper()
        if code in ENGLISH_NAMES:
            rest = [w for w in words[i + 1 :] if w not in _AROUND]
            after_city = bool(found) and found[-1].is_city and all(w.isdigit() for w in rest)
            if after_city:
                codes_after_city.append(code)
            elif code not in AMBIGUOUS_CODES:
                found.append(_Found((code,), is_city=False))
            elif typed[i] == code:
                weak_codes.append(code)
            elif word not in _AROUND:
                return None
        elif word not in _AROUND:
            return None
        i += 1

    if not found:
        # A capital "IN" or "PA" that is the whole answer, or with only "i'm in" around it.
        # "OK, I'm in..." counts only alone: its capitals say less than "PA"'s.
        if len(set(weak_codes)) == 1 and (len(words) == 1 or weak_codes[0] not in _WORDS):
            return weak_codes[0]
        return None
    if any(c in _WORDS and c.lower() not in _AROUND for c in weak_codes):
        return None  # "ID Texas": Idaho, or a word? "I'M IN TEXAS" is fine.
    named = {p.states[0] for p in found if not p.is_city} | set(codes_after_city)
    named |= {c for c in weak_codes if c not in _WORDS}
    if len(named) > 1:
        return None
    if named:
        return named.pop()
    # Only cities ("Springfield"): the most populous state that has a city of every name given.
    shared = [s for s in found[0].states if all(s in p.states for p in found[1:])]
    if not shared or not all(p.alone for p in found):
        return None
    return shared[0]


# Capital codes that, inside a longer reply, are more likely a word than a state: "OK I'm in
# Texas", "Estoy en LA" (Los Angeles, or Louisiana?).
_WORDS = frozenset({"OK", "IN", "ME", "HI", "OR", "OH", "DE", "LA", "AL", "NE", "ID", "MO"})


def _as_typed(original: str, part: str) -> str:
    """``part`` (a folded word of ``original``) in the case it was typed, for the capitals."""
    letters = re.sub(r"[^A-Za-z0-9]", "", original)
    return letters if letters.lower() == part else part


def _place_at(words: list[str], i: int) -> tuple[_Found | None, int]:
    """The longest place that starts at ``words[i]``, and how many words it takes. A misspelt
    state name beats a shorter place spelt right ("Carolina del Nrote" is no city Carolina)."""
    for width in range(min(_LONGEST_NAME, len(words) - i), 0, -1):
        phrase = words[i : i + width]
        name = " ".join(phrase)
        if name in STATE_BY_NAME:
            return _Found((STATE_BY_NAME[name],), is_city=False), width
        city = cities.look_up(name)
        if city is not None:
            return _Found(city.states, is_city=True, alone=city.alone), width
        if phrase[0] not in _AROUND and phrase[-1] not in _AROUND:
            state = _misspelt_state("".join(phrase))
            if state is not None:
                return _Found((state,), is_city=False), width
    if words[i].isdigit():
        state = state_of_zip(words[i])
        return (_Found((state,), is_city=False), 1) if state else (None, 1)
    return None, 1


_LONG_NAMES = {
    name.replace(" ", ""): code for name, code in STATE_BY_NAME.items() if len(name) >= 7
}


def _misspelt_state(joined: str) -> str | None:
    """The state whose name (of seven letters or more) is one edit from ``joined``: a letter
    left out, added, changed, or two swapped ("Pensylvania", "Tennesee", "Conneticut",
    "Texsas" is too short). None when no name, or more than one state's, is that close."""
    if len(joined) < 6 or joined in _LONG_NAMES:
        return None
    close = {
        code
        for name, code in _LONG_NAMES.items()
        if abs(len(name) - len(joined)) <= 1
        and _one_edit(name, joined)
        # "Indians", "Georgian": a word made from the name, not a misspelling of it
        and name[:-1] != joined[:-1]
        and name != joined[:-1]
    }
    return close.pop() if len(close) == 1 else None


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by one insertion, deletion, substitution or swap."""
    if len(a) == len(b):
        diff = [k for k in range(len(a)) if a[k] != b[k]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    k = next((k for k in range(len(short)) if short[k] != long_[k]), len(short))
    return short[k:] == long_[k + 1 :]
