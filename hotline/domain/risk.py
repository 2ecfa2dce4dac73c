"""Risk scoring: transparent, per-language keyword and phrase weights.

Every matched phrase is a reason an advocate and a supervisor can read; the score is their sum
(each phrase counted once), and the thresholds map it to a priority. Emergency words make a
conversation urgent whatever the score.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hotline.domain.language import detect
from hotline.domain.matching import (
    SCRIPTS,
    Found,
    PhraseSet,
    Word,
    forget_read_words,
    plain,
    words,
)


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"

    @property
    def rank(self) -> int:
        """0 is the most urgent: sort by this, then by how long they waited."""
        return {"urgent": 0, "high": 1, "normal": 2}[self.value]


def normalise(text: str) -> str:
    """Lower case, no accents, straight apostrophes, single spaces."""
    return plain(text)


@dataclass(frozen=True)
class Lexicon:
    """One language's phrases (see :mod:`hotline.domain.matching` for how they match)."""

    language: str
    emergency: tuple[str, ...]
    weights: Mapping[str, int]
    urgent_at: int = 60
    high_at: int = 30
    # Phrases that say the person at risk is under 18 (ages are read by :func:`mentions_minor`).
    minor: tuple[str, ...] = ()
    # Phrases of a child's life (school grades, foster care) that anyone may write about: a
    # minor when something of risk is said too, as for a child written about.
    young: tuple[str, ...] = ()
    # Requests not to be texted ("stop texting me"): opt-outs like STOP (see
    # :func:`hotline.domain.keywords.asks_not_to_be_texted`).
    opt_out: tuple[str, ...] = ()
    # Distress in reply to a question ("help me", "I'm scared"): never "we didn't get that".
    distress: tuple[str, ...] = ()
    # Figures of speech that hold an alarming word ("this traffic is killing me"): the words
    # they cover earn nothing.
    ignore: tuple[str, ...] = ()
    # Words that say it is happening now ("right now", "he just"): with a serious act (a
    # phrase that alone reaches urgent) in the same text, an emergency.
    now: tuple[str, ...] = ()
    # Words that, just before a phrase, say it is not so: "never hit me", "not scared".
    negation: tuple[str, ...] = ()
    # Being held ("locked in", "nos tienen encerrados"): with another serious act or threat in
    # the same text ("...and says he'll kill anyone who talks"), an emergency.
    held: tuple[str, ...] = ()
    _emergency: PhraseSet = field(init=False, repr=False, compare=False)
    _weighted: PhraseSet = field(init=False, repr=False, compare=False)
    _minor: PhraseSet = field(init=False, repr=False, compare=False)
    _young: PhraseSet = field(init=False, repr=False, compare=False)
    _distress: PhraseSet = field(init=False, repr=False, compare=False)
    _ignore: PhraseSet = field(init=False, repr=False, compare=False)
    _now: PhraseSet = field(init=False, repr=False, compare=False)
    _held: PhraseSet = field(init=False, repr=False, compare=False)
    _held_plain: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name, phrases in (
            ("_weighted", self.weights),
            ("_minor", self.minor),
            ("_young", self.young),
            ("_distress", self.distress),
            ("_ignore", self.ignore),
            ("_now", self.now),
            ("_held", self.held),
        ):
            object.__setattr__(self, name, PhraseSet.of(phrases, self.language))
        # Danger now is in the tense: "he is hitting me", not "he hit me" (a reason, not 911).
        emergency = PhraseSet.of(self.emergency, self.language, stemmed=False)
        object.__setattr__(self, "_emergency", emergency)
        object.__setattr__(self, "_held_plain", frozenset(normalise(p) for p in self.held))

    def words(self, text: str) -> list[Word]:
        return words(text, self.language)

    def may_find(self, text: str, language: str | None) -> bool:
        """Whether to read ``text`` (detected as ``language``) with this lexicon: English and
        Spanish always (texters mix them); one in its own script when the text holds it (no
        Chinese phrase in a Latin text); another in Latin script only when the text is detected
        as its language, or a French stem would find words in Spanish ("las" is "l'ase")."""
        if self.language in ("en", "es"):
            return True
        script = SCRIPTS.get(self.language)
        if script is not None:
            return script.search(text) is not None
        return language == self.language

    def _find(self, phrases: PhraseSet, text: str | list[Word]) -> list[Found]:
        """``phrases`` found in ``text``, but not in words a figure of speech covers."""
        tokens = self.words(text) if isinstance(text, str) else text
        found = [f for f in phrases.find(tokens) if not self._negated(f, tokens)]
        if not found or not self.ignore:
            return found
        covered = {i for f in self._ignore.find(tokens) for i in range(f.start, f.end)}
        return [f for f in found if not covered.intersection(range(f.start, f.end))]

    def _negated(self, found: Found, tokens: list[Word]) -> bool:
        if found.start == 0:
            return False
        before, first = tokens[found.start - 1], tokens[found.start]
        return before.sentence == first.sentence and before.plain in self.negation

    def emergency_found(self, text: str | list[Word]) -> list[Found]:
        return self._find(self._emergency, text)

    def weighted_found(self, text: str | list[Word]) -> list[Found]:
        return self._find(self._weighted, text)

    def minor_in(self, text: str | list[Word]) -> bool:
        return bool(self._find(self._minor, text))

    def young_in(self, text: str | list[Word]) -> bool:
        return bool(self._find(self._young, text))

    def now_found(self, text: str | list[Word]) -> list[Found]:
        return self._find(self._now, text)

    def held_found(self, text: str | list[Word]) -> list[Found]:
        return self._find(self._held, text)

    def only_distress(self, text: str | list[Word]) -> bool:
        """Whether every word of ``text`` is a call for help ("help", "ayuda x favor", "🆘")."""
        tokens = self.words(text) if isinstance(text, str) else text
        return _all_of(tokens, self.distress_found(tokens))

    def distress_found(self, text: str | list[Word]) -> list[Found]:
        return self._find(self._distress, text)

    def distress_in(self, text: str) -> bool:
        return bool(self._find(self._distress, text))


def _all_of(tokens: list[Word], found: list[Found]) -> bool:
    """Whether ``found`` covers every word of ``tokens`` (and there is one)."""
    covered = {i for f in found for i in f.at}
    return bool(tokens) and all(word.position in covered for word in tokens)


@dataclass(frozen=True)
class Reason:
    """One reason for a score: the lexicon's phrase, its weight (None: an emergency phrase), and
    the words of the text that matched it."""

    phrase: str
    weight: int | None
    words: str

    def __str__(self) -> str:
        if self.weight is None:
            return f"emergency: {self.phrase}"
        return f"{self.phrase} (+{self.weight})"


@dataclass(frozen=True)
class Assessment:
    score: int
    priority: Priority
    reasons: tuple[str, ...]  # "phrase (+weight)", or "emergency: phrase": what staff read
    found: tuple[Reason, ...] = ()  # the same, with the words that matched
    minor: bool = False

    @property
    def emergency(self) -> bool:
        return any(reason.weight is None for reason in self.found)


# The reason a text that is only a call for help earns (see _scan).
CALL_FOR_HELP = "only a call for help"
# How much risk makes a child written about (not the texter) a minor at risk.
MINOR_AT_RISK = 20


@dataclass
class _Reading:
    """One text read with every lexicon that may find something in it."""

    emergencies: dict[str, Reason] = field(default_factory=dict)
    weighted: list[tuple[Found, int]] = field(default_factory=list)
    minor: bool = False  # said of the texter
    someone_young: bool = False  # a child written about, or a child's life
    distress: bool = False  # a call for help somewhere in it (:func:`distressed`)


# The last text scanned, the lexicons it was scanned with, and what they found. A worker handling
# a text asks more than once (its risk, then its answer to the triage: :func:`read`, then
# :func:`dangers` and :func:`distressed`), and the scan was a seventh of the worker's CPU for a
# first text. One slot, replaced as a whole (safe for threads sharing it), holding no more than
# the step that handles the text already holds, and emptied by :func:`forget_last_scan` once
# that step is done: a text must not stay in a process after it was read (or erased).
_last_scan: tuple[str, tuple[Lexicon, ...], _Reading] | None = None


def forget_last_scan() -> None:
    """Drop the last text scanned, what was found in it, and the stems of its words that are
    not kept between texts (:func:`hotline.domain.matching.forget_read_words`)."""
    global _last_scan
    _last_scan = None
    forget_read_words()


def _scan(text: str, lexicons: list[Lexicon]) -> _Reading:
    """What ``lexicons`` find in ``text``; the same text and lexicons (the very objects) again
    are answered from the last scan."""
    global _last_scan
    last = _last_scan
    if (
        last is not None
        and last[0] == text
        and len(last[1]) == len(lexicons)
        and all(a is b for a, b in zip(last[1], lexicons, strict=True))
    ):
        return last[2]
    reading = _scan_afresh(text, lexicons)
    _last_scan = (text, tuple(lexicons), reading)
    return reading


def _scan_afresh(text: str, lexicons: list[Lexicon]) -> _Reading:
    reading = _Reading()
    language = detect(text).language
    for lexicon in lexicons:
        if not lexicon.may_find(text, language):
            continue
        tokens = lexicon.words(text)
        for found in lexicon.emergency_found(tokens):
            reading.emergencies.setdefault(found.phrase, Reason(found.phrase, None, found.words))
        weighted = [(f, lexicon.weights[f.phrase]) for f in lexicon.weighted_found(tokens)]
        distress = lexicon.distress_found(tokens)
        reading.distress = reading.distress or bool(distress)
        if _all_of(tokens, distress) and all(w < lexicon.high_at for _, w in weighted):
            # A bare call for help ("help", "ayuda", "🆘"): nothing said of what is happening,
            # so not the 911 text, but a person should ask soon.
            said = " ".join(dict.fromkeys(word.written for word in tokens))
            weighted = [(Found(CALL_FOR_HELP, said, 0, len(tokens), range(0)), lexicon.high_at)]
        reading.weighted += weighted
        serious = [found for found, weight in weighted if weight >= lexicon.urgent_at]
        for now in lexicon.now_found(tokens) if serious else ():
            phrase = f"{serious[0].phrase} + {now.phrase}"
            words = f"{serious[0].words} {now.words}"
            reading.emergencies.setdefault(phrase, Reason(phrase, None, words))
        held_phrases = lexicon._held_plain
        for held in lexicon.held_found(tokens) if serious else ():
            # Another act or threat, not one more way of saying they are held.
            others = [
                f
                for f in serious
                if not set(f.at) & set(held.at) and normalise(f.phrase) not in held_phrases
            ]
            if others:
                phrase = f"{held.phrase} + {others[0].phrase}"
                words = f"{held.words} {others[0].words}"
                reading.emergencies.setdefault(phrase, Reason(phrase, None, words))
        reading.minor = reading.minor or lexicon.minor_in(tokens)
        reading.someone_young = reading.someone_young or lexicon.young_in(tokens)
    reading.minor = reading.minor or says_own_young_age(text)
    reading.someone_young = reading.someone_young or says_young_age(text)
    return reading


def dangers(text: str, lexicons: Iterable[Lexicon]) -> list[Reason]:
    """The emergencies in ``text``: emergency phrases, and serious acts said to happen now.
    What the triage machine treats as an emergency (the 911 guidance) is exactly this."""
    return list(_scan(text, list(lexicons)).emergencies.values())


def distressed(text: str, lexicons: Iterable[Lexicon]) -> bool:
    """A call for help ("help me", "please", "tengo miedo"), in any language it may be in.

    Read with the rest (:func:`_scan`): the triage asks this of a text it has just asked
    :func:`dangers` of."""
    return _scan(text, list(lexicons)).distress


@dataclass(frozen=True)
class Findings:
    """What texts said of risk, before it is weighed: each emergency and each weighted phrase
    once (the first text to say it wins), and whether a minor or a child was written of.

    :func:`read` makes one text's, :func:`fold` adds a later text's to those of the texts
    before, and :func:`conclude` weighs them: :func:`assess` is exactly that, over every text.
    So a conversation's findings can be kept between its texts, and each text read once.
    """

    emergencies: Mapping[str, Reason] = field(default_factory=dict)
    weighted: Mapping[str, Reason] = field(default_factory=dict)  # by normalised phrase
    minor: bool = False  # said of the texter
    someone_young: bool = False  # a child written about, or a child's life

    def record(self) -> dict[str, Any]:
        """These findings as JSON values, to keep. The texter's words that matched are left
        out: nothing after reading needs them (staff read the lexicon's phrases), so
        :meth:`from_record` gives each reason empty ``words``, and :func:`conclude` the same
        score, priority, reasons and minor flag as from the findings themselves."""
        return {
            "emergencies": list(self.emergencies),
            "weighted": [[reason.phrase, reason.weight] for reason in self.weighted.values()],
            "minor": self.minor,
            "someone_young": self.someone_young,
        }

    @classmethod
    def from_record(cls, record: Any) -> Findings:
        """Findings kept by :meth:`record`; ValueError for anything of another shape."""
        try:
            phrases = list(record["emergencies"])
            weights = [(phrase, weight) for phrase, weight in record["weighted"]]
            minor, someone_young = record["minor"], record["someone_young"]
        except (KeyError, TypeError, ValueError) as problem:
            raise ValueError(f"not a record of findings: {problem}") from None
        if not (
            all(isinstance(phrase, str) for phrase in phrases)
            and all(isinstance(phrase, str) and type(weight) is int for phrase, weight in weights)
            and isinstance(minor, bool)
            and isinstance(someone_young, bool)
        ):
            raise ValueError("not a record of findings: a value of the wrong type")
        return cls(
            {phrase: Reason(phrase, None, "") for phrase in phrases},
            {normalise(phrase): Reason(phrase, weight, "") for phrase, weight in weights},
            minor,
            someone_young,
        )


def read(text: str, lexicons: Iterable[Lexicon]) -> Findings:
    """What one text says of risk, read with every lexicon (texters mix languages)."""
    reading = _scan(text, list(lexicons))
    weighted: dict[str, Reason] = {}
    for found, weight in _heaviest(reading.weighted):
        weighted.setdefault(normalise(found.phrase), Reason(found.phrase, weight, found.words))
    return Findings(dict(reading.emergencies), weighted, reading.minor, reading.someone_young)


def fold(earlier: Findings, later: Findings) -> Findings:
    """``earlier`` (the findings of the texts before) with what ``later`` (a later text's)
    adds: a phrase found in both keeps its reason from ``earlier``."""
    return Findings(
        _first_wins(earlier.emergencies, later.emergencies),
        _first_wins(earlier.weighted, later.weighted),
        earlier.minor or later.minor,
        earlier.someone_young or later.someone_young,
    )


def _first_wins(earlier: Mapping[str, Reason], later: Mapping[str, Reason]) -> dict[str, Reason]:
    merged = dict(earlier)
    for key, reason in later.items():
        merged.setdefault(key, reason)
    return merged


def conclude(findings: Findings, lexicons: Iterable[Lexicon]) -> Assessment:
    """Weigh what texts said: the score is the sum of the weighted phrases' weights; emergency
    words, or a minor, make it urgent whatever the score."""
    lexicons = list(lexicons)
    weighted = dict(findings.weighted)
    if len(weighted) > 1:
        # A call for help is weighed only when it is all that was said: with anything said of
        # what is happening ("HELP" then "my boss took my passport"), that is what counts.
        weighted.pop(normalise(CALL_FOR_HELP), None)
    score = sum(reason.weight or 0 for reason in weighted.values())
    # A child the texter writes about is a minor at risk when something else is said of risk:
    # "my daughter is 15 and a grown man messages her", not "my kid is 15, any summer jobs?".
    emergencies = findings.emergencies
    minor = findings.minor or (
        findings.someone_young and (bool(emergencies) or score >= MINOR_AT_RISK)
    )
    urgent_at = min((lexicon.urgent_at for lexicon in lexicons), default=60)
    high_at = min((lexicon.high_at for lexicon in lexicons), default=30)
    if emergencies or minor or score >= urgent_at:
        priority = Priority.URGENT
    elif score >= high_at:
        priority = Priority.HIGH
    else:
        priority = Priority.NORMAL
    reasons = (
        *sorted(emergencies.values(), key=lambda r: r.phrase),
        *sorted(weighted.values(), key=lambda r: (-(r.weight or 0), r.phrase)),
    )
    return Assessment(
        score=score,
        priority=priority,
        reasons=tuple(str(reason) for reason in reasons),
        found=reasons,
        minor=minor,
    )


def assess(texts: Iterable[str], lexicons: Iterable[Lexicon]) -> Assessment:
    """Score everything a texter wrote with every lexicon (texters mix languages).

    Each phrase counts once, whichever text and lexicon found it; the score is the sum of the
    weights. Emergency words, or a minor, make it urgent whatever the score.
    """
    lexicons = list(lexicons)
    findings = Findings()
    for text in texts:
        findings = fold(findings, read(text, lexicons))
    return conclude(findings, lexicons)


# Changed whenever reading a text changes (the matching, the rules of _scan, Findings.record):
# findings kept from another reading are then read again from the texts (see fingerprint).
READING = 1


def fingerprint(lexicons: Iterable[Lexicon]) -> str:
    """What findings were read with: every list and threshold of every lexicon, in order, and
    :data:`READING`. Findings kept with another fingerprint must be read again."""
    described = [
        READING,
        *(
            [
                lexicon.language,
                lexicon.urgent_at,
                lexicon.high_at,
                lexicon.emergency,
                sorted(lexicon.weights.items()),
                lexicon.minor,
                lexicon.young,
                lexicon.distress,
                lexicon.ignore,
                lexicon.now,
                lexicon.negation,
                lexicon.held,
            ]
            for lexicon in lexicons
        ),
    ]
    encoded = json.dumps(described, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def _heaviest(candidates: list[tuple[Found, int]]) -> list[tuple[Found, int]]:
    """Of phrases that share words of the text, the heaviest, whichever language's reading
    found them: each word earns points once ("do things for money" counts, and "for money"
    inside it does not; "pasaportes" is a passport once, not in English and in Spanish)."""
    taken: list[tuple[Found, int]] = []
    used: set[int] = set()
    ordered = sorted(candidates, key=lambda fw: (-fw[1], -len(fw[0].at), fw[0].at.start))
    for found, weight in ordered:
        if not used.intersection(found.at):
            taken.append((found, weight))
            used.update(found.at)
    return taken


def higher(a: Priority, b: Priority) -> Priority:
    return a if a.rank <= b.rank else b


# Ages under 18 said of the texter or of the person they text about: "I'm 16", "im only 15",
# "my daughter is 14", "a 15 year old", "15yo", "tengo 16 años", "una niña de 15 años", "sixteen".
# A number alone ("16") is too common in addresses, times and money to count, and so is a
# number of years ("16 years here"), hours or weeks ("I'm 16 weeks pregnant").
_NUMBER_WORDS = {
    "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
    "fifteen": "15", "sixteen": "16", "seventeen": "17",
    "diez": "10", "once": "11", "doce": "12", "trece": "13", "catorce": "14", "quince": "15",
    "dieciseis": "16", "diesiseis": "16", "diecisiete": "17", "diesisiete": "17",
}  # fmt: skip
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b")
_YOUNG = r"(?:1[0-7])"
_CHILD = r"(?:[5-9]|1[0-7])"
_PERSON = (
    r"(?:he|she|they|daughter|son|sister|brother|niece|nephew|kid|child|girl|boy|friend|"
    r"cousin|granddaughter|grandson|stepdaughter|stepson|bestie|bff|best friend|mija|mijo|hija|"
    r"hijo|sobrina|sobrino|"
    r"hermana|hermanita|hermano|hermanito|nina|nino|amiga|amigo|prima|primo|nieta|nieto|"
    r"hijastra|hijastro|ella|el)"
)
_UNITS = (
    r"(?:min|mins|minutes?|hours?|hrs?|h|days?|weeks?|wks?|months?|miles?|mi|blocks?|am|pm|"
    r"dollars?|bucks|usd|percent|st|nd|rd|th|minutos?|horas?|dias?|semanas?|meses|mes|millas?|"
    r"cuadras?|dolares?|pesos|de la|del)"
)
_NOT_AFTER = rf"(?![\w$%/:.,]\d|\w)(?!\s*{_UNITS}(?!\w))"
_YEARS_OLD = r"\s*-?\s*(?:(?:years?|yrs?|yr)\s*-?\s*old|yo|y/o|y\.o\.?|anos|anitos)(?!\w)"
# Said of oneself: "I'm 16", "im only 15", "tengo 16", "15 f", "I'm a 15 year old".
_SELF_AGE = re.compile(
    r"(?<![\w$#])(?:"
    rf"(?:im|i am|iam|age|aged|edad|tengo|tngo|cumpli|i turned)\s+"
    rf"(?:only |just |solo |apenas |like |about |como |a )?{_YOUNG}{_NOT_AFTER}"
    rf"|(?:im|i am) an? {_CHILD}{_YEARS_OLD}"
    rf"|^\s*{_YOUNG}\s*(?:/\s*)?[fm](?!\w)"
    rf"|^\s*{_YOUNG}\s*(?:,|&|and\b|y\b)"
    r")"
)
# Said of someone else: "my daughter is 14", "a 15 year old", "mi hija de 13", "my son (15)".
_OTHER_AGE = re.compile(
    r"(?<![\w$#])(?:"
    rf"{_PERSON}\s+(?:is|was|es|tiene|turned|de|d)\s+(?:only |just |solo |apenas )?"
    rf"{_CHILD}{_NOT_AFTER}"
    rf"|{_PERSON}\s*\(\s*{_YOUNG}\s*\)"
    rf"|(?:shes|hes|theyre) (?:only |just )?{_CHILD}{_NOT_AFTER}"
    rf"|{_CHILD}{_YEARS_OLD}"
    rf"|{_CHILD} anos de edad"
    r")"
)


def _ages(text: str) -> str:
    """The text as the age pattern reads it: plain, no apostrophes, numbers in words as digits."""
    flat = normalise(text).replace("'", "")
    return _NUMBER_WORD.sub(lambda m: _NUMBER_WORDS[m.group(1)], flat)


def says_young_age(text: str) -> bool:
    """Whether ``text`` gives an age under 18 for the texter or the person they text about."""
    return says_own_young_age(text) or _OTHER_AGE.search(_ages(text)) is not None


def says_own_young_age(text: str) -> bool:
    """Whether the texter gives their own age, under 18."""
    return _SELF_AGE.search(_ages(text)) is not None


def mentions_minor(text: str, lexicons: Iterable[Lexicon]) -> bool:
    """Whether ``text`` says the texter (or the person they text about) is under 18, whether
    or not it says more (see :func:`assess` for when it makes a conversation a minor's). It is
    what :func:`assess` reads, each lexicon only where the text may be in its language."""
    findings = read(text, lexicons)
    return findings.minor or findings.someone_young
