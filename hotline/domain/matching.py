"""Finding a lexicon's phrases in what a texter wrote, the way texters write.

A phrase matches the words of a text, not its letters, after both are brought to the same form:

- lower case, no accents, no apostrophes ("He's" and "hes" are one word);
- texting shorthand and contractions spelled out ("u" is "you", "cant" is "can not", "xq" is
  "porque"), per language;
- each word cut to its stem by the Snowball stemmer of the lexicon's language, so "hits",
  "hitting" and "hit" are one word (irregular forms, "took" and "take", are listed apart);
- a word of five letters or more also matches a misspelling one edit away ("thretened",
  "pasport", "afriad"), unless the text's word is a real word of its own ("traffic" is not
  "trafficked", "looked" is not "locked"): the dictionaries of :mod:`spellchecker` say which;
- emoji are words: "🆘" and "🔪" can be phrases.

A phrase may hold ``...``: up to :data:`GAP` words in between, in the same sentence ("took ...
papers" matches "they took all my papers"). A word ending in ``*`` matches any word it begins
("amenaz*"). Matching says which of the text's words matched, so every point of a score names
the words that earned it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property

import snowballstemmer

GAP = 4  # words a "..." may stand for
_MIN_FUZZY = 5  # a phrase word shorter than this matches only exactly: short words collide
_MIN_FUZZY_EXACT = 7  # the same for a word matched as written (emergency phrases)
_STEMMERS = {
    "en": "english", "es": "spanish", "fr": "french", "pt": "portuguese", "ru": "russian",
    "ar": "arabic",
}  # fmt: skip
# Chinese and Korean are compared a character at a time: Chinese has no spaces, and a Korean
# word carries its particles ("칼을", "칼로" hold "칼").
_BY_CHARACTER = re.compile(
    r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)
# A lexicon in a language of its own script has nothing to find in a text without it.
SCRIPTS = {
    "zh": re.compile(r"[\u3400-\u9fff\uf900-\ufaff]"),
    "ko": re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]"),
    "ar": re.compile(r"[\u0600-\u06ff\u0750-\u077f]"),
    "ru": re.compile(r"[\u0400-\u04ff]"),
}

# Contractions and shorthand, as the words they stand for. Applied to phrases and texts alike.
_SHORTHAND: dict[str, dict[str, str]] = {
    "en": {
        "u": "you", "ur": "your", "r": "are", "pls": "please", "plz": "please", "plez": "please",
        "im": "i am", "ive": "i have",
        "hes": "he is", "shes": "she is", "theyre": "they are", "theres": "there is",
        "cant": "can not", "cannot": "can not", "dont": "do not", "doesnt": "does not",
        "didnt": "did not", "wont": "will not", "isnt": "is not", "arent": "are not",
        "wasnt": "was not", "havent": "have not", "hasnt": "has not", "wouldnt": "would not",
        "gonna": "going to", "gunna": "going to", "wanna": "want to", "gotta": "got to",
        "bf": "boyfriend", "gf": "girlfriend", "rn": "right now", "bc": "because",
        "cuz": "because", "b4": "before", "ppl": "people",
        "yrs": "years", "yr": "year", "hr": "hour", "hrs": "hours", "msg": "message",
        "thx": "thanks", "ty": "thank you", "n": "and", "w": "with", "wit": "with", "da": "the",
        "tho": "though", "bout": "about", "nd": "and", "thru": "through", "w/": "with",
    },
    "es": {
        "q": "que", "k": "que", "ke": "que", "xq": "porque", "pq": "porque", "porq": "porque",
        "xk": "porque", "pk": "porque", "tmb": "tambien", "tb": "tambien", "tbn": "tambien",
        "xfa": "por favor", "porfa": "por favor", "porfavor": "por favor", "plis": "por favor",
        "x": "por", "d": "de", "toy": "estoy", "tas": "estas", "ta": "esta", "tan": "estan",
        "aki": "aqui", "aca": "aqui", "ntp": "no te preocupes", "bn": "bien", "sta": "esta",
        "stoy": "estoy", "kiero": "quiero", "pa": "para", "ps": "pues",
    },
}  # fmt: skip


def plain(text: str) -> str:
    """Lower case, no accents, straight apostrophes, single spaces."""
    if text.isascii():
        # Most texts: no accent to drop, no curly apostrophe, and the normal forms and
        # casefold of ASCII are the ASCII itself. The worker reads each text this way about a
        # hundred times (every phrase list, every language), so this path is worth having.
        return " ".join(text.lower().split())
    return _plain_unicode(text)


def _plain_unicode(text: str) -> str:
    straight = text.replace("\u2019", "'").replace("\u2018", "'")
    decomposed = unicodedata.normalize("NFKD", straight)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Composed again: Hangul syllables come apart into letters under NFKD.
    return " ".join(unicodedata.normalize("NFC", kept).casefold().split())


@dataclass(frozen=True)
class Word:
    """One word of a text: as written (for reasons staff read), as compared, its sentence."""

    written: str
    plain: str
    stem: str
    sentence: int
    position: int  # which word of the text as written: the same in every language's reading

    @cached_property
    def near(self) -> frozenset[str]:
        """The word as compared and its stem, each also without each of its letters: what
        looks it up among the phrases it may be a misspelling of (see PhraseSet._near_misses).
        Made once, for every phrase list that reads this word, and gone with it."""
        return frozenset(_one_letter_less(self.plain) | _one_letter_less(self.stem))


# Letters, digits or one symbol (an emoji) at a time; "16yo" is "16" and "yo".
_TOKEN = re.compile(r"[^\W\d_]+|\d+|[^\w\s]")
# Sentences, and clauses: a phrase never reaches across a comma ("ayuda, ya" is no "ayuda ya").
_SENTENCES = re.compile(r"[.!?;,\n]+")


def words(text: str, language: str) -> list[Word]:
    """``text`` as the words a phrase is compared with, in ``language``'s spelling rules."""
    shorthand = _SHORTHAND.get(language, {})
    found: list[Word] = []
    position = 0
    for sentence, part in enumerate(_SENTENCES.split(text)):
        for token in _TOKEN.findall(plain(part).replace("'", "")):
            if not token.isalnum() and unicodedata.category(token) != "So":
                continue  # punctuation; an emoji is a word
            if _BY_CHARACTER.search(token):
                for character in token:
                    found.append(Word(character, character, character, sentence, position))
                    position += 1
                continue
            for word in shorthand.get(token, token).split():
                found.append(Word(token, word, _stem(language, word), sentence, position))
            position += 1
    return found


@cache
def _snowball(language: str) -> object | None:
    name = _STEMMERS.get(language)
    return snowballstemmer.stemmer(name) if name else None


# Stems kept between texts: of dictionary words and of words of a few letters, which say
# nothing of any one texter. Every other word (a name, a street, a made-up word) has its stem
# kept only for the step reading its text, which reads it with several lexicons and more than
# once, and then forgotten (:func:`forget_read_words`): nothing of a text outlives its reading,
# or its erasure, in the process.
_stem_cache: dict[tuple[str, str], str] = {}
_stems_of_the_step: dict[tuple[str, str], str] = {}
_KEPT_UP_TO = 3  # letters: "me", "ya", "por"
_STEMS_BOUND = 50_000  # a flood of made-up words must not grow either


def _stem(language: str, word: str) -> str:
    key = (language, word)
    found = _stem_cache.get(key)
    if found is None:
        found = _stems_of_the_step.get(key)
    if found is None:
        stemmer = _snowball(language)
        found = stemmer.stemWord(word) if stemmer is not None and word.isalpha() else word  # type: ignore[attr-defined]
        # A warm worker loads the dictionaries before its first text; until they are loaded
        # (a web process, a first text in the demo) only the short words are kept.
        if len(word) <= _KEPT_UP_TO or (
            _known_words.cache_info().currsize and word in _known_words()
        ):
            kept = _stem_cache
        else:
            kept = _stems_of_the_step
        if len(kept) < _STEMS_BOUND:
            kept[key] = found
    return found


def forget_read_words() -> None:
    """Forget the words of the texts read since the last call (see :data:`_stem_cache`)."""
    _stems_of_the_step.clear()


@dataclass(frozen=True)
class _Item:
    """One word of a phrase, or a gap (``gap`` > 0)."""

    plain: str = ""
    stem: str = ""
    prefix: bool = False
    exact: bool = False  # the word as written, not its stem: "beating me" is not "beat me"
    gap: int = 0


@dataclass(frozen=True)
class Phrase:
    text: str  # as the lexicon writes it: the reason staff read
    items: tuple[_Item, ...]


def compile_phrase(phrase: str, language: str, *, stemmed: bool = True) -> Phrase | None:
    """The phrase as items to match, or None when it has no word. Unstemmed, each word
    matches only its own form (and its misspellings): for emergencies, where "is hitting me"
    is now and "hit me" may be last year."""
    items: list[_Item] = []
    for raw in plain(phrase).replace("\u2026", " ... ").replace("'", "").split():
        if raw.strip(".") == "" and len(raw) >= 3:  # "..." or longer
            if items and items[-1].gap == 0:
                items.append(_Item(gap=GAP))
            continue
        prefix = raw.endswith("*") and len(raw) > 1
        for word in words(raw.rstrip("*"), language):
            if prefix:
                items.append(_Item(plain=word.plain, stem=word.plain, prefix=True))
            else:
                stem = word.stem if stemmed else word.plain
                items.append(_Item(plain=word.plain, stem=stem, exact=not stemmed))
    while items and items[-1].gap:
        items.pop()
    if not items:
        return None
    return Phrase(phrase.strip(), tuple(items))


@dataclass(frozen=True)
class Found:
    """A phrase found in a text: the lexicon's words and the texter's."""

    phrase: str
    words: str  # the text's words that matched, as written
    start: int  # where, in this reading's words: [start, end)
    end: int
    at: range  # which words of the text as written: to compare readings in two languages


@dataclass(frozen=True)
class PhraseSet:
    """Phrases of one language, indexed by their first word."""

    language: str
    phrases: tuple[Phrase, ...]
    _exact: dict[str, list[Phrase]] = field(init=False, repr=False, compare=False)
    # By first letter: phrases whose first word is a prefix ("amenaz*").
    _prefixes: dict[str, list[tuple[int, Phrase]]] = field(init=False, repr=False, compare=False)
    # Phrases whose first word may match a misspelling of it, by that word with and without
    # each of its letters (see _near_misses).
    _fuzzy: dict[str, list[tuple[int, Phrase]]] = field(init=False, repr=False, compare=False)
    _fuzzy_keys: frozenset[str] = field(init=False, repr=False, compare=False)
    # What a word needs to be compared with those at all (_same_word): their first letter, and
    # at most one letter less than the shortest of them.
    _fuzzy_letters: frozenset[str] = field(init=False, repr=False, compare=False)
    _fuzzy_shortest: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        exact: dict[str, list[Phrase]] = {}
        prefixes: dict[str, list[tuple[int, Phrase]]] = {}
        fuzzy: dict[str, list[tuple[int, Phrase]]] = {}
        letters: set[str] = set()
        shortest = _MIN_FUZZY
        for order, phrase in enumerate(self.phrases):
            first = phrase.items[0]
            exact.setdefault(first.stem, []).append(phrase)
            if first.prefix:
                prefixes.setdefault(first.plain[:1], []).append((order, phrase))
            elif len(first.stem) >= _MIN_FUZZY and (
                not first.exact or len(first.plain) >= _MIN_FUZZY_EXACT
            ):
                # The forms _same_word compares by one edit: the word as written, and the stem.
                forms = {first.plain} if first.exact else {first.plain, first.stem}
                letters.add(first.plain[:1])
                shortest = min(shortest, *(len(form) for form in forms))
                keys = {key for form in forms for key in _one_letter_less(form)}
                for key in keys:
                    fuzzy.setdefault(key, []).append((order, phrase))
        object.__setattr__(self, "_exact", exact)
        object.__setattr__(self, "_prefixes", prefixes)
        object.__setattr__(self, "_fuzzy", fuzzy)
        object.__setattr__(self, "_fuzzy_keys", frozenset(fuzzy))
        object.__setattr__(self, "_fuzzy_letters", frozenset(letters))
        object.__setattr__(self, "_fuzzy_shortest", shortest)

    @classmethod
    def of(cls, phrases: Iterable[str], language: str, *, stemmed: bool = True) -> PhraseSet:
        """The phrases compiled; of two that match the same words ("hit me", "hits me") the
        first listed is kept, so one thing said is one reason."""
        kept: dict[tuple[_Item, ...], Phrase] = {}
        for text in phrases:
            phrase = compile_phrase(text, language, stemmed=stemmed)
            if phrase is not None:
                kept.setdefault(phrase.items, phrase)
        return cls(language, tuple(kept.values()))

    def find(self, text: str | list[Word]) -> list[Found]:
        """Every place a phrase is found in ``text``, in the text's order."""
        tokens = words(text, self.language) if isinstance(text, str) else text
        found: list[Found] = []
        for start, word in enumerate(tokens):
            for phrase in self._candidates(word):
                end = _match(phrase.items, tokens, start)
                if end is not None:
                    written = " ".join(_written(tokens[start:end]))
                    at = range(tokens[start].position, tokens[end - 1].position + 1)
                    found.append(Found(phrase.text, written, start, end, at))
        return found

    def _candidates(self, word: Word) -> Sequence[Phrase]:
        """The phrases whose first word may be ``word``: those it is, then those it may be
        misspelt from, in the lexicon's order (the order reasons are kept in)."""
        candidates: Sequence[Phrase] = self._exact.get(word.stem, ())
        if word.plain != word.stem:
            written = [p for p in self._exact.get(word.plain, ()) if p.items[0].exact]
            if written:
                candidates = [*candidates, *written]
        prefixes = self._prefixes.get(word.plain[:1])
        loose = (
            [
                (order, phrase)
                for order, phrase in prefixes
                if phrase.items[0].stem not in (word.stem, word.plain)
                and word.plain.startswith(phrase.items[0].plain)
            ]
            if prefixes
            else []
        )
        if (
            word.plain[:1] in self._fuzzy_letters
            and max(len(word.plain), len(word.stem)) >= self._fuzzy_shortest - 1
            and word.plain.isalpha()
            and not self._fuzzy_keys.isdisjoint(word.near)
        ):
            loose += self._near_misses(word)
        if not loose:
            return candidates
        loose.sort(key=lambda pair: pair[0])
        return [*candidates, *(phrase for _, phrase in loose)]

    def _near_misses(self, word: Word) -> list[tuple[int, Phrase]]:
        """The phrases whose first word is one edit from ``word`` (and is not ``word``).

        Two words one edit apart (a letter added, dropped, changed, or two swapped) are the same
        once one letter is taken from one or both: the index holds each phrase's first word with
        and without each of its letters, so looking the text's word up the same way
        (:attr:`Word.near`) finds every phrase it may be a misspelling of, without comparing it
        with each. What is found is then compared as before (_same_word)."""
        fuzzy = self._fuzzy
        seen: dict[int, Phrase] = {}
        for key in self._fuzzy_keys.intersection(word.near):
            for order, phrase in fuzzy[key]:
                seen[order] = phrase
        return [
            (order, phrase)
            for order, phrase in seen.items()
            if phrase.items[0].stem not in (word.stem, word.plain)
            and _same_word(phrase.items[0], word)
        ]


def _one_letter_less(word: str) -> set[str]:
    """``word``, and ``word`` without each of its letters in turn."""
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


def _written(tokens: list[Word]) -> Iterator[str]:
    """The words as the texter wrote them, a shorthand spelled out once ("cant", not "cant
    cant")."""
    last: Word | None = None
    for token in tokens:
        if last is None or token.written != last.written or token.plain == last.plain:
            yield token.written
        last = token


def _match(items: tuple[_Item, ...], tokens: list[Word], start: int) -> int | None:
    """Where the phrase ends if it matches from ``start`` (its first word matched), else None."""
    if not _same_word(items[0], tokens[start]):
        return None
    if len(items) == 1:  # most phrases are one word
        return start + 1
    return _walk(items, tokens, 1, start + 1, tokens[start].sentence)


def _walk(
    items: tuple[_Item, ...], tokens: list[Word], i: int, at: int, sentence: int
) -> int | None:
    if i == len(items):
        return at
    item = items[i]
    if item.gap:
        for skip in range(item.gap + 1):
            here = at + skip
            if here >= len(tokens) or tokens[here].sentence != sentence:
                break
            end = _walk(items, tokens, i + 1, here, sentence)
            if end is not None:
                return end
        return None
    if at >= len(tokens) or tokens[at].sentence != sentence:
        return None
    if not _same_word(item, tokens[at]):
        return None
    return _walk(items, tokens, i + 1, at + 1, sentence)


def _same_word(item: _Item, word: Word) -> bool:
    if item.prefix:
        return word.plain.startswith(item.plain)
    if item.exact:
        if item.plain == word.plain:
            return True
    elif item.stem == word.stem:
        return True
    if len(item.stem) < _MIN_FUZZY or not word.plain.isalpha() or word.plain[0] != item.plain[0]:
        return False
    if item.exact:
        # A word as written (emergencies): a misspelling of that very form, on longer words
        # only ("pisto", slang for money, is no "pistol"; "llegaste" is no "llego").
        if len(item.plain) < _MIN_FUZZY_EXACT or not _one_edit(item.plain, word.plain):
            return False
    elif not (_one_edit(item.stem, word.stem) or _one_edit(item.plain, word.plain)):
        return False
    return not is_known_word(word.plain)


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by one letter added, dropped, changed or two swapped.

    Hand-written: a library's general edit distance would do the same work, slower, for the
    only distance asked here."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        i, j = diffs[0], diffs[-1]
        return len(diffs) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


# A word seen at least this often in the dictionaries' corpus is a real word, not a misspelling.
_KNOWN_FROM = 100


@cache
def _known_words() -> frozenset[str]:
    """English and Spanish words, from the word-frequency lists :mod:`spellchecker` ships.

    Loaded on the first near miss (about a second, once per process), then about 8 MB.
    """
    from spellchecker import SpellChecker

    known: set[str] = set()
    for language in ("en", "es"):
        counts = SpellChecker(language=language, distance=1).word_frequency.dictionary
        known.update(
            plain(word).replace("'", "")
            for word, count in counts.items()
            if count >= _KNOWN_FROM and len(word) >= _MIN_FUZZY - 1
        )
    return frozenset(known)


def load_word_lists() -> None:
    """Load now what reading texts would load on first need: the known words (about a second)
    and the stemmers. A forking worker calls this before it forks, so its processes share them
    instead of each loading its own on its first texts."""
    _known_words()
    for language in _STEMMERS:
        _snowball(language)


def is_known_word(word: str) -> bool:
    return word in _known_words()
