"""The US state (plus DC and Puerto Rico) of a ZIP code, from the first three digits.

Why a table and not a package: the ``zipcodes`` package (MIT; 42,789 ZIPs compiled into its
wheel) knows every ZIP, but its first look-up costs about 240 ms and 38 MB of resident memory in
every worker process that reads a location, measured on this project's machine, to answer a
question that the first three digits answer. USPS assigns each three-digit prefix to one
state, save for the handful of ZIPs in ``_EXCEPTIONS``; the table below, a few kilobytes that
cost nothing to import, was derived from ``zipcodes`` 3.0.0, and
``tests/domain/test_zips.py`` checks it against every ZIP in that package (a dev dependency),
so a refresh of the package tells us when a prefix moves.

Prefixes no ZIP uses (``000``, ``213``, ``269``...) and those of the territories and military
post offices (Guam ``969``, APO/FPO ``090``-``099``, ``340``, ``962``-``966``) give None.
"""

from __future__ import annotations

import re

# Prefixes by state, as USPS lists them: a prefix or an inclusive range of prefixes.
_PREFIXES = {
    "AK": "995-999",
    "AL": "350-352 354-369",
    "AR": "716-729",
    "AZ": "850-853 855-857 859-860 863-865",
    "CA": "900-908 910-928 930-961",
    "CO": "800-816",
    "CT": "060-069",
    "DC": "200 202-205 569 888",
    "DE": "197-199",
    "FL": "320-339 341-342 344 346-347 349",
    "GA": "300-319 398-399",
    "HI": "967-968",
    "IA": "500-516 520-528",
    "ID": "832-838",
    "IL": "600-620 622-629",
    "IN": "460-479",
    "KS": "660-662 664-679",
    "KY": "400-418 420-427",
    "LA": "700-701 703-708 710-714",
    "MA": "010-027 055",
    "MD": "206-212 214-219",
    "ME": "039-049",
    "MI": "480-499",
    "MN": "550-551 553-567",
    "MO": "630-631 633-641 644-658",
    "MS": "386-397",
    "MT": "590-599",
    "NC": "270-289",
    "ND": "580-588",
    "NE": "680-681 683-693",
    "NH": "030-038",
    "NJ": "070-089",
    "NM": "870-871 873-884",
    "NV": "889-891 893-895 897-898",
    "NY": "005 100-149",
    "OH": "430-459",
    "OK": "730-731 734-741 743-749",
    "OR": "970-979",
    "PA": "150-196",
    "PR": "006-007 009",
    "RI": "028-029",
    "SC": "290-299",
    "SD": "570-577",
    "TN": "370-385",
    "TX": "733 750-770 772-799 885",
    "UT": "840-847",
    "VA": "201 220-246",
    "VT": "050-054 056-059",
    "WA": "980-986 988-994",
    "WI": "530-532 534-535 537-549",
    "WV": "247-268",
    "WY": "820-831",
}
# ZIPs whose state is not their prefix's (Fishers Island NY has a Connecticut prefix...), and
# American Samoa's one ZIP under Hawaii's prefix. None: no state.
_EXCEPTIONS: dict[str, str | None] = {
    "06390": "NY",
    "09905": "NJ",
    "09980": "NJ",
    "09981": "NJ",
    "09982": "NJ",
    "09983": "NJ",
    "09984": "NJ",
    "20588": "MD",
    "20598": "VA",
    "72643": "MO",
    "73960": "TX",
    "83414": "WY",
    "96799": None,
    # Placeholders a texter may type rather than say; no ZIP is one (22222, 44444, 55555 and
    # 88888 are real, and so is 12345: General Electric in Schenectady, NY).
    "11111": None,
    "33333": None,
    "66666": None,
    "77777": None,
    "99999": None,
}


def _by_prefix() -> dict[str, str]:
    table: dict[str, str] = {}
    for state, spans in _PREFIXES.items():
        for span in spans.split():
            first, _, last = span.partition("-")
            for prefix in range(int(first), int(last or first) + 1):
                table[f"{prefix:03d}"] = state
    return table


_STATE_BY_PREFIX = _by_prefix()
ZIP = re.compile(r"(\d{5})(?:-\d{4})?")


def state_of_zip(text: str) -> str | None:
    """The state code of a ZIP (``77063``, ``77063-1234``); None for anything else."""
    match = ZIP.fullmatch(text.strip())
    if match is None:
        return None
    zip_code = match.group(1)
    if zip_code in _EXCEPTIONS:
        return _EXCEPTIONS[zip_code]
    return _STATE_BY_PREFIX.get(zip_code[:3])
