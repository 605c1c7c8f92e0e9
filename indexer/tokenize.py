"""Chinese word tokenisation for BM25: jieba search mode plus the reports' own program names."""
from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import jieba

DATA_DIR = Path(__file__).parent / "data"
STOPWORDS_FILE = DATA_DIR / "stopwords.txt"
FORMAT_VERSION = 1

# A domain term must beat any split of itself in jieba's route search; ordinary
# dictionary words run from 1 to ~10^6 in a total of ~6*10^7.
DOMAIN_TERM_FREQ = 100_000

_QUOTED = re.compile(r"“([^“”]*)”|「([^「」]*)」|‘([^‘’]*)’|\"([^\"]*)\"")
_TERM_CHARS = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]{2,12}")
_DIGITS = re.compile(r"[0-9]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_JIEBA_WORD = re.compile(r"[\u4e00-\u9fd5a-z0-9+#&._%\-]+")

jieba.setLogLevel(logging.WARNING)


def normalize_text(text: str) -> str:
    """Fold full-width forms to half-width (NFKC) and lowercase, so both spellings index alike."""
    return unicodedata.normalize("NFKC", text).lower()


def load_stopwords(path: Path = STOPWORDS_FILE) -> frozenset[str]:
    """Read a stop-word file: one word a line, lines starting with '# ' are comments."""
    words = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            continue
        word = normalize_text(line.strip())
        if word:
            words.add(word)
    return frozenset(words)


@functools.lru_cache(maxsize=1)
def default_stopwords() -> frozenset[str]:
    """The project's stop-word list (stopwords-iso minus words that matter in these reports)."""
    return load_stopwords()


@functools.lru_cache(maxsize=1)
def _base_dictionary() -> tuple[dict[str, int], int]:
    # Loading jieba's dictionary takes about a second; do it once per process and
    # give every Tokenizer its own copy (~15 ms) so added words never leak between them.
    base = jieba.Tokenizer()
    base.initialize()
    return base.FREQ, base.total


def _is_noise(token: str) -> bool:
    """True for tokens made only of punctuation, symbols, spaces or control characters."""
    return all(unicodedata.category(ch)[0] in "PSZC" for ch in token)


def mine_domain_terms(texts: Iterable[str]) -> list[str]:
    """Program names the reports put in quotes (“枫桥经验”, 「商圈微法庭」), sorted and unique.

    A quoted span counts when it is 2-12 CJK letters, Latin letters or digits with no
    punctuation (so whole quoted sentences are left out) and is not digits only.
    """
    terms = set()
    for text in texts:
        for match in _QUOTED.finditer(unicodedata.normalize("NFKC", text)):
            span = next(group for group in match.groups() if group is not None)
            candidate = span.strip().lower()
            if not _TERM_CHARS.fullmatch(candidate) or _DIGITS.fullmatch(candidate):
                continue
            if not _CJK.search(candidate):
                continue  # Latin-only quotes are mostly English glosses, not program names
            terms.add(candidate)
    return sorted(terms)


class Tokenizer:
    """jieba search-mode tokeniser that keeps domain terms whole and drops stop words.

    Search mode also emits the dictionary words inside a long word, so a domain term
    such as 商圈微法庭 yields 商圈微法庭 itself plus 商圈 and 法庭: the exact name ranks
    highest while a query for 法庭 still finds it.
    """

    def __init__(self, domain_terms: Iterable[str] = (), stopwords: frozenset[str] | None = None):
        self.domain_terms: tuple[str, ...] = tuple(
            sorted({normalize_text(term).strip() for term in domain_terms} - {""})
        )
        for term in self.domain_terms:
            if not _JIEBA_WORD.fullmatch(term):
                raise ValueError(
                    f"Domain term {term!r} has characters jieba cannot keep in one word "
                    "(spaces or punctuation); give terms of CJK letters, Latin letters and digits."
                )
        self.stopwords: frozenset[str] = default_stopwords() if stopwords is None else frozenset(
            normalize_text(word) for word in stopwords
        )
        freq, total = _base_dictionary()
        self._jieba = jieba.Tokenizer()
        self._jieba.FREQ = dict(freq)
        self._jieba.total = total
        self._jieba.initialized = True
        for term in self.domain_terms:
            self._jieba.add_word(term, freq=DOMAIN_TERM_FREQ)

    def tokens(self, text: str) -> list[str]:
        """The BM25 terms of a text: lowercase, half-width, no punctuation, no stop words."""
        out = []
        for token in self._jieba.cut_for_search(normalize_text(text)):
            token = token.strip()
            if not token or token in self.stopwords or _is_noise(token):
                continue
            out.append(token)
        return out

    def to_dict(self) -> dict:
        """Everything needed to rebuild the same tokeniser from an index directory."""
        return {
            "format_version": FORMAT_VERSION,
            "jieba_version": jieba.__version__,
            "domain_terms": list(self.domain_terms),
            "stopwords": sorted(self.stopwords),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Tokenizer":
        """Rebuild a tokeniser saved with to_dict()."""
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(
                f"Tokenizer settings have format version {version!r}; this code reads version {FORMAT_VERSION}."
            )
        return cls(domain_terms=data["domain_terms"], stopwords=frozenset(data["stopwords"]))
