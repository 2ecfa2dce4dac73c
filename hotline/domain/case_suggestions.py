"""What the triage's risk reasons suggest for a case record (issue 20): the means of control,
and sometimes the kind, type, venue or recruitment, that the lexicon's phrases already name.

A risk reason is what :mod:`hotline.domain.risk` wrote for staff: ``"took ... papers (+40)"``,
``"emergency: locked in a room"``, or two phrases of an emergency joined by ``" + "``. The
phrases are looked up in a table of suggestions (the catalogue's ``case_suggestions.toml``):
``{normalised phrase: ("control:document_confiscation", ...)}``. Nothing here is saved: the
advocate confirms what they agree with.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hotline.domain.case_lists import MULTIPLE, CaseList
from hotline.domain.risk import normalise

EMERGENCY_PREFIX = "emergency: "
_WEIGHT = re.compile(r"\s*\(\+\d+\)\s*$")


def phrases_of(reason: str) -> list[str]:
    """The lexicon phrases a risk reason names, normalised: ``"took ... papers (+40)"`` gives
    ``["took ... papers"]``; ``"emergency: locked in + hit me"`` gives both."""
    text = reason.removeprefix(EMERGENCY_PREFIX)
    text = _WEIGHT.sub("", text)
    return [normalise(part) for part in text.split(" + ") if part.strip()]


def key(case_list: CaseList | str, code: str) -> str:
    """How a suggestion (and a label, in the console's answer) names an entry: ``list:code``."""
    return f"{case_list}:{code}"


@dataclass
class Suggestions:
    """The codes suggested per list (each list's in the order first suggested) and the reasons
    behind each ``list:code``."""

    codes: dict[CaseList, list[str]] = field(default_factory=dict)
    because: dict[str, list[str]] = field(default_factory=dict)

    def add(self, case_list: CaseList, code: str, reason: str) -> None:
        codes = self.codes.setdefault(case_list, [])
        if code not in codes:
            codes.append(code)
        reasons = self.because.setdefault(key(case_list, code), [])
        if reason not in reasons:
            reasons.append(reason)


def suggest(reasons: Iterable[str], table: Mapping[str, Iterable[str]]) -> Suggestions:
    """What ``reasons`` suggest, by ``table`` (normalised phrase to ``list:code`` entries).

    A case has one kind: when the reasons suggest several, the first stays (reasons come most
    serious first), and the others are left for the advocate to choose.
    """
    found = Suggestions()
    for reason in reasons:
        for phrase in phrases_of(reason):
            for entry in table.get(phrase, ()):
                name, _, code = entry.partition(":")
                case_list = CaseList(name)
                if case_list not in MULTIPLE and found.codes.get(case_list, [code]) != [code]:
                    continue
                found.add(case_list, code, reason)
    return found
