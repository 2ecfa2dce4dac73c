"""Which language a short text is in: English or Spanish above all, and nine others.

Used on a texter's first texts so that someone who writes "hola" or "tengo miedo, el esta
afuera" is answered in Spanish without having to know the keyword ESPAÑOL.

How it decides, in order:

1. Script. Han is Chinese, Hangul Korean, Arabic script Arabic, Cyrillic Russian (Japanese kana
   is none of ours: can't tell). A word that mixes Cyrillic look-alikes with Latin letters
   ("help" with a Cyrillic e), or a one-word text made only of look-alikes ("STOP" in
   Cyrillic capitals), is read as the Latin it imitates.
2. Vietnamese letters (ơ ư đ ạ ả ế ...): each word with one counts heavily for Vietnamese.
3. Words. Every word is looked up in weighted lists of frequent function words and SMS words of
   en, es, fr, pt, tl, ht and unaccented vi; each hit adds its weight to its language(s). Weight
   3 is a word that alone says the language ("hola", "thanks", "mwen"); 2 a clear word of it; 1 a
   word it shares with a neighbour ("que", "la"); 0.5 a hint ("k", "x"). Words both hotline
   languages use ("no", "me", "a", "con", "ok") count for nothing, so they never tip a
   decision. A Spanish word not found as written is looked up again by how it sounds
   ("aiudame", "nesesito", "kiero"), at a lower weight. Words still unknown give small hints
   from their spelling (ñ, -cion; -ing, th).

The language with the most weight wins when it has at least ``_MIN_EVIDENCE`` (one shared word
is not enough); ties go to Spanish, then English. It is *confident* only when it leads by at
least ``_CONFIDENT_MARGIN`` (one clear word more than every rival: a single "hola" or "si" is
enough, a single "que" is not) and the runner-up has at most two fifths of its weight. That
ratio keeps Spanglish ("my jefe no me paga": 5 to 3) from switching the conversation without
asking, while "si por favor" (5 to 2: Portuguese shares "por favor") and a long Spanish text
with an English loanword still switch.

Why word lists rather than a library, measured with ``bench/language_compare.py`` on
``bench/language_sample.csv`` (372 SMS-like texts, 1 to 30 words; None is right only on a
can't-tell text; µs per text on one core; memory added by import and build; installed size):

===========================  =====  =====  ==========  =======  =======  ========  =========
method                       es     en     can't tell  overall  µs/text  +RSS MB   installed
===========================  =====  =====  ==========  =======  =======  ========  =========
these word lists             1.000  1.000  1.000       1.000    ~10      0.2       20 kB
lingua 2.1.1 (our 10; no ht) 0.895  0.874  0.409       0.847    ~40      ~220      95 MB
langid 1.1.6 (our 11)        0.797  0.971  0.000       0.782    ~45      ~62       46 MB
langdetect 1.0.9 (all 55)    0.549  0.553  0.455       0.567    ~3400    ~63       2 MB
===========================  =====  =====  ==========  =======  =======  ========  =========

The lists were written alongside that sample, so 1.000 flatters them. On 51 texts written
afterwards and scored before any change (blind): lists 0.863 (es 0.85, en 0.83; every miss a
can't-tell on an unknown word, none a wrong language), lingua 0.784, langid 0.824, langdetect
0.529. The libraries are built for sentences: on one or two lower-case, unaccented, misspelled
words ("si", "q hago", "bn gracias") they guess, and they never say "can't tell" for "ok", "911"
or a name, which is what keeps a hotline from switching a texter's language on a whim.

Deterministic, no I/O: the lists live in this module and are indexed once at import.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hotline.domain.keywords import fold

LANGUAGES = ("en", "es", "zh", "vi", "tl", "ar", "fr", "ht", "pt", "ko", "ru")

_MIN_EVIDENCE = 1.0
_CONFIDENT_MARGIN = 2.0
_CONFIDENT_RATIO = 2.5
_SOUNDS_LIKE_WEIGHT = 0.75  # a Spanish word recognised only by how it sounds, per weight unit
_MAX_WORDS = 200  # enough to decide; bounds the work on a pasted essay
_PRIORITY = {language: rank for rank, language in enumerate(("es", "en", *LANGUAGES[2:]))}


@dataclass(frozen=True)
class Detected:
    """``language`` is an ISO 639-1 code, or None when the text does not say (``ok``, ``911``,
    an emoji, a name). ``confident``: sure enough to switch the conversation's language
    without asking the texter first."""

    language: str | None
    confident: bool

    def __str__(self) -> str:
        if self.language is None:
            return "?"
        return self.language if self.confident else f"{self.language}?"


CANT_TELL = Detected(None, False)

# Words by language and weight, unaccented and without apostrophes ("im", "jai", "cest").
_WORDS: Mapping[str, Mapping[float, str]] = {
    "es": {
        3: """hola ola holi ayuda ayudame ayudeme ayudenme ayudar gracias grasias buenas buenos
              necesito tengo estoy estamos estan quiero puedo pueden puede porfa porfavor xfa
              miedo esposo esposa novio novia hablar habla hablo hablan espanol ingles senora
              senor donde cuando quien quienes porque tambien tmb aqui ahi alla ahora ahorita
              nada nadie alguien algo mucho mucha muchos muy pero entonces despues manana
              noches tardes dias hijos hijas ninos nina nino familia migra deuda pagar pagan
              sueldo jefe patrona dueno celular telefono mensajes mensaje numero gratis cuanto
              cuesta lugar refugio dormir salir asustada asustado encerrada encerrado
              encerrados golpea golpeo golpes amenaza amenazada violaron matar denuncia
              denunciar menor edad sabe hacer hago hace esto eso soy eres somos xq pq ntp
              dale claro bueno bien oye neta onda orale chido ando andamos entiendo significa
              perdon disculpe disculpa molestia dios bendiga embarazada pistola fotos feas
              manda mandan piden pidieron dijo dijeron iba trajeron quitaron quito quitarme
              corrieron dejan deja dejo deben debo obligan tienen tiene tienes hay hermana
              hermano amiga amigo vivo vive siento llamen llamar llama escribo escribir viene
              llego borrar contestan conmigo contigo usted ustedes nosotros ellos ella tengan
              trabajar trabajando dinero papeles pasaporte policia casa anoche hoy ayer
              siempre nunca todavia oiga oigan mande porfis plis ocupo urge mejor nel""",
        2: """si mi mis tu tus q del los las una uno por sin este esta estas ese esa hija hijo
              solo sola mal dia noche anos seguro paga pega pego patron trabajo
              personas dolares campo moretones permiso acosa cartel internet ps bn ya""",
        1: """el la y o que de en se es te le lo nos para al un mes marido socorro consigo
              mas tres yo pa ta amo les ano favor""",
        0.5: """k x""",
    },
    "en": {
        3: """hi hello help thanks thank yes please pls plz the im dont cant wont didnt doesnt
              isnt wasnt need you your youre ur is are was were have has what where when who
              how why this that they them she we and with from can will would should could
              not get going want know think feel safe scared afraid hurt hits boss job work
              money pay paid home house police call text talk someone anybody there
              here now today tonight good yeah yep yea nope sure sorry thx ty idk rn
              omg bf gf asap wyd ttyl brb hey hii heyy hotline kids mom friend friends
              sister brother daughter son husband wife boyfriend girlfriend passport papers
              number phone delete kill gun report deported understand mean back coming leave
              let keep took take gave saw said says say being been be am just only very
              really about because cuz bc if then but out up like make makes people online
              pics pictures blackmailed threatening trafficked forced worried speak english
              spanish shelter near place stay cost confidential anyone my our their his her
              of it to for at on in do does did all too much over night owe
              adding farm ids brought real morning minor found check checks answer tell
              told these those which whats hes shes theyre ill ive weve its""",
        2: """so u i he an ex men van car ads post sex free talking thnx thnks tnx hiya howdy
              nvm nevermind bye goodbye tbh kinda gonna wanna gotta hbu wbu ikr smh ngl ppl""",
        0.5: """lol""",
        1: """favor""",
    },
    "fr": {
        3: """je jai il elle nous vous suis besoin aidez aider moi avec dans merci bonjour
              bonsoir oui peur maison cest quoi comment une francais frappe ont pris
              passeport peux paie quelquun travail argent enfants veux sais plait sil
              ne pas""",
        2: """est mon mes pour qui et des du aide salut mari parle fait mais""",
        1: """tu la le les ce ou au un en que de patron tres es""",
    },
    "pt": {
        3: """eu voce vc voces nao estou preciso ajuda ajude ajudar obrigado obrigada sim meu
              minha com muito tenho medo ele ela trabalho dinheiro isso tambem onde agora sair
              pegaram passaporte alguem portugues patrao uma bom tchau ninguem pode podem
              quero vou sou trabalhar filhos filho filha mae emprego patroa consigo""",
        2: """oi pra fala um quando""",
        1: """para de da do em o os as e na no casa marido socorro mas bate aqui que ola
              paga esta ta por favor""",
    },
    "tl": {
        3: """ako ng mga ang hindi po siya kailangan tulong tulungan natatakot asawa bahay
              paano salamat opo wala kasi naman talaga nila nyo niyo namin kami sila kayo
              pera trabaho binabayaran sinasaktan kinuha makaalis nagsasalita gagawin tagalog
              yung dito doon saan bakit kapag takot""",
        2: """ko sa mo oo lang ba ito yan ano amo""",
        1: """ka na may""",
    },
    "ht": {
        3: """mwen bezwen ede tanpri mesi bonjou bonswa kijan konnen fanm vle paske soti moun
              kreyol patwon peye paspo pran eske kounye kote lakay travay lajan timoun pitit
              yon anpil menm poukisa kisa genyen ak pou""",
        2: """li nou ki nan ap gen kay pale avek""",
        1: """yo pa se te ed m pe sa w ka an mari bat la""",
    },
    "vi": {
        3: """toi khong giup biet phai nguoi duoc luong tieng chieu xin cuu""",
        2: """gi cua chong danh tien tiem viet noi anh nha roi voi chao""",
        1: """lam tra ai co em chi ban cam so qua ho lay dang bi nay thi va o di do""",
    },
}

# Words that both hotline languages (and most of the others) use: no evidence either way.
_SHARED = frozenset({"no", "me", "a", "con", "ok", "okay", "mama", "hotel", "stop", "sms", "info"})

_LEXICON: dict[str, dict[str, float]] = {}
for _language, _tiers in _WORDS.items():
    for _weight, _words in _tiers.items():
        for _word in _words.split():
            _LEXICON.setdefault(_word, {})[_language] = _weight
for _word in _SHARED:
    _LEXICON.pop(_word, None)


def _sounds_like(word: str) -> str:
    """How a Spanish word sounds, spelled one way: what SMS misspellings keep.

    ``aiudame`` and ``ayudame``, ``nesesito`` and ``necesito``, ``kiero`` and ``quiero`` are
    the same key.
    """
    key = word.replace("ch", "1").replace("ll", "y").replace("qu", "k")
    key = re.sub(r"c(?=[ei])", "s", key).replace("c", "k").replace("z", "s").replace("v", "b")
    key = key.replace("h", "").replace("y", "i").replace("1", "ch")
    return re.sub(r"(.)\1+", r"\1", key)


_SPANISH_SOUNDS: dict[str, float] = {}
for _word, _weights in _LEXICON.items():
    if _weights.get("es", 0) >= 2 and len(_word) >= 3:
        _key = _sounds_like(_word)
        _SPANISH_SOUNDS[_key] = max(_SPANISH_SOUNDS.get(_key, 0.0), _weights["es"])

_VIETNAMESE_LETTERS = frozenset(
    "ơưđạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"
    "ƠƯĐẠẢẤẦẨẪẬẮẰẲẴẶẸẺẼẾỀỂỄỆỈỊỌỎỐỒỔỖỘỚỜỞỠỢỤỦỨỪỬỮỰỲỴỶỸ"
)
# Spelling hints for words in no list: (pattern, language, weight).
_SPELLING = tuple(
    (re.compile(pattern), language, weight)
    for pattern, language, weight in (
        (r"ñ", "es", 1.0),
        # Spanish verb and noun endings that English and Portuguese do not have.
        (r"(aron|ieron|amos|emos|imos|iendo|cion|ciones|enos|enme|anme|arse|erse|irse)$", "es", 1),
        (r"(ando|mente|ado|ada|ados|adas|ido|ida|idos|idas|ito|ita)$", "es", 0.5),
        (r"(ing|ght|tion|ness|ful|less|ly)$|^th|^wh", "en", 0.5),
        (r"ç|ã|õ|(cao|coes|oes)$|lh|nh[aeo]", "pt", 0.5),
        (r"[èàùâîûœ]|eau|(eux|aux|ez)$", "fr", 0.5),
        (r"^(nag|mag|pag|naka|pinag)", "tl", 0.5),
    )
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


def _script(ch: str) -> str | None:
    """The script of a letter that decides a language by itself, or "latin"/"kana"/None."""
    code = ord(ch)
    if code < 0x250 or 0x1E00 <= code <= 0x1EFF:
        return "latin"
    if 0x400 <= code <= 0x4FF:
        return "ru"
    if 0x600 <= code <= 0x6FF or 0x750 <= code <= 0x77F or 0xFB50 <= code <= 0xFEFF:
        return "ar"
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return "ko"
    if 0x3040 <= code <= 0x30FF:
        return "kana"
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
        return "zh"
    if 0x20000 <= code <= 0x2FFFF:
        return "zh"
    return None


def _is_look_alike(ch: str) -> bool:
    """A Cyrillic letter that renders like a Latin one (as those of "STOP" can)."""
    folded = fold(ch)
    return len(folded) == 1 and "A" <= folded <= "Z"


def _strip_accents(word: str) -> str:
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word.replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def detect(text: str) -> Detected:
    """The language ``text`` is written in, and whether that is clear enough to act on.

    Never raises; an empty text, digits or emoji alone are :data:`CANT_TELL`.
    """
    words = _WORD.findall(unicodedata.normalize("NFC", text).casefold().replace("\u2019", "'"))[
        :_MAX_WORDS
    ]
    if not words:
        return CANT_TELL
    words = _unmask_look_alikes(words)
    scripts: dict[str, int] = {}
    for word in words:
        for ch in word:
            script = _script(ch)
            if script is not None:
                scripts[script] = scripts.get(script, 0) + 1
    if not scripts:
        return CANT_TELL
    script, letters = max(scripts.items(), key=lambda item: (item[1], item[0]))
    if script == "kana" or (script == "zh" and "kana" in scripts):
        return CANT_TELL  # Japanese: not one of ours
    if script != "latin":
        return Detected(script, letters >= 2)
    return _decide(_latin_scores(word for word in words if word.isascii() or _is_latin(word)))


def _is_latin(word: str) -> bool:
    return all(_script(ch) == "latin" for ch in word)


def _unmask_look_alikes(words: list[str]) -> list[str]:
    """Words with Cyrillic look-alikes read as the Latin they imitate.

    A word that mixes the two scripts is a disguise; so is a text of one word made of look-alike
    letters only ("STOP" in Cyrillic capitals).
    """
    unmasked = []
    for word in words:
        cyrillic = [ch for ch in word if _script(ch) == "ru"]
        mixed = cyrillic and len(cyrillic) < len(word)
        alone = cyrillic and len(words) == 1 and all(_is_look_alike(ch) for ch in cyrillic)
        if (mixed or alone) and all(_is_look_alike(ch) for ch in cyrillic):
            word = "".join(fold(ch).lower() if _script(ch) == "ru" else ch for ch in word)
        unmasked.append(word)
    return unmasked


def _latin_scores(words: Iterable[str]) -> dict[str, float]:
    scores: dict[str, float] = {}

    def add(language: str, weight: float) -> None:
        scores[language] = scores.get(language, 0.0) + weight

    for word in words:
        if not _VIETNAMESE_LETTERS.isdisjoint(word):
            add("vi", 3.0)
            continue
        plain = _strip_accents(word).replace("'", "")
        hits = _LEXICON.get(plain)
        if hits is None and "'" in word:
            for part in _strip_accents(word).split("'"):
                for language, weight in _LEXICON.get(part, {}).items():
                    add(language, weight)
            continue
        if hits is None and plain not in _SHARED:
            squeezed = re.sub(r"(.)\1{2,}", r"\1", plain)  # "holaaa", "pleeease"
            hits = _LEXICON.get(squeezed) or _LEXICON.get(re.sub(r"(.)\1+", r"\1", plain))
        if hits is not None:
            for language, weight in hits.items():
                add(language, weight)
            continue
        if plain in _SHARED or len(plain) < 3:
            continue
        sounds = _SPANISH_SOUNDS.get(_sounds_like(plain))
        if sounds is not None:
            add("es", sounds * _SOUNDS_LIKE_WEIGHT)
            continue
        for pattern, language, weight in _SPELLING:
            if pattern.search(word) or pattern.search(plain):
                add(language, weight)
    return scores


def _decide(scores: Mapping[str, float]) -> Detected:
    if not scores:
        return CANT_TELL
    ranked = sorted(scores.items(), key=lambda item: (-item[1], _PRIORITY[item[0]]))
    language, best = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if best < _MIN_EVIDENCE:
        return CANT_TELL
    confident = best - runner_up >= _CONFIDENT_MARGIN and runner_up * _CONFIDENT_RATIO <= best
    return Detected(language, confident)
