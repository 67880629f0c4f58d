"""Language-aware tokenising for suggestions: Swedish and English.

Tokens are lower-cased Unicode word runs (so å, ä, ö stay inside words); stopwords of the detected
language are dropped. Language is detected by which stopword list covers more of the words, which is
robust on the short meaning units interviews and free-text answers produce.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

if TYPE_CHECKING:
    from sklearn.pipeline import FeatureUnion

# Common Swedish function words (pronouns, articles, prepositions, conjunctions, auxiliaries).
SWEDISH_STOP_WORDS = frozenset(
    """
    alla allt att av blev bli blir blivit både där därför de dem den denna deras dess dessa det
    detta dig din dina ditt du då efter ej eller en er era ert ett från för ha hade han hans har
    henne hennes hon honom hur här i icke ingen inom inte jag ju kan kunde man med mellan men mig
    min mina mitt mot mycket ni nu när någon något några och om oss på samma sedan sig sin sina
    sitta själv skulle som så sådan sådana sådant till under upp ut utan vad var vara varför varit
    varje vars vart vem vi vid vilka vilkas vilken vilket vår våra vårt än är åt över också bara
    ska skall väl ju nog liksom typ alltså kanske även sen då dom mej dej sej hos eftersom medan
    jo nej ja ni er ert era någonting ingenting inget inga fast lite mer mest just
    """.split()
)
ENGLISH = frozenset(ENGLISH_STOP_WORDS)
STOPWORDS: dict[str, frozenset[str]] = {"en": ENGLISH, "sv": SWEDISH_STOP_WORDS}

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|\d+", re.UNICODE)


def normalise(text: str) -> str:
    """NFC, lower case, typographic apostrophes unified."""
    return unicodedata.normalize("NFC", text).lower().replace("’", "'")


def words(text: str) -> list[str]:
    return _WORD.findall(normalise(text))


def detect_language(texts: str | Iterable[str]) -> str:
    """'sv' or 'en': the language whose stopwords cover more of the words (English on a tie)."""
    if isinstance(texts, str):
        texts = [texts]
    sv = en = 0
    for text in texts:
        for w in words(text):
            sv += w in SWEDISH_STOP_WORDS
            en += w in ENGLISH
    return "sv" if sv > en else "en"


def tokenize(text: str, language: str = "en", *, keep_stopwords: bool = False) -> list[str]:
    stop = frozenset() if keep_stopwords else STOPWORDS.get(language, ENGLISH)
    return [w for w in words(text) if w not in stop]


class WordAnalyzer:
    """A picklable analyzer for scikit-learn vectorizers: stopword-free word n-grams.

    Short answers made only of stopwords ("nothing", "inget") keep their words, marked so they do
    not mix with content words, because such answers are often codable on their own.
    """

    def __init__(
        self,
        language: str = "en",
        ngram_range: tuple[int, int] = (1, 2),
        keep_stopwords: bool = False,
    ):
        self.language = language
        self.ngram_range = ngram_range
        self.keep_stopwords = keep_stopwords

    def __call__(self, text: str) -> list[str]:
        toks = tokenize(text, self.language, keep_stopwords=self.keep_stopwords)
        if not toks:
            toks = ["§" + w for w in words(text)]
        lo, hi = self.ngram_range
        out = list(toks) if lo <= 1 else []
        for n in range(max(lo, 2), hi + 1):
            out.extend(" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1))
        return out


def token_spans(
    text: str, language: str = "en", *, keep_stopwords: bool = False
) -> list[tuple[str, int, int]]:
    """(token, start, end) of the tokens `WordAnalyzer` reads, as code-point offsets into `text`
    (an NFC text, as every document is), so an n-gram can be shown where it occurs."""
    stop = frozenset() if keep_stopwords else STOPWORDS.get(language, ENGLISH)
    found = [
        (m.group(0).lower().replace("’", "'"), m.start(), m.end()) for m in _WORD.finditer(text)
    ]
    kept = [t for t in found if t[0] not in stop]
    return kept or [("§" + w, s, e) for w, s, e in found]


def make_vectorizer(language: str, min_df: int = 1) -> FeatureUnion:
    """TF-IDF over word 1–2-grams (stopwords dropped) and character 3–5-grams, side by side."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion(
        [
            (
                "word",
                TfidfVectorizer(
                    analyzer=WordAnalyzer(language, (1, 2)), sublinear_tf=True, min_df=min_df
                ),
            ),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(3, 5),
                    sublinear_tf=True,
                    min_df=min_df,
                    preprocessor=normalise,
                ),
            ),
        ]
    )
