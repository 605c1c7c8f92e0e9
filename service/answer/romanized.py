"""Places named in Latin letters: 「Cuiyuan Subdistrict」 is 翠苑街道, 「Haizhu」 is 海珠区.

An English question names a place by the pinyin of its name, with or without spaces between the
syllables and with or without the English word for its level. A place is named when the pinyin of
its short name (翠苑 of 翠苑街道) or of its whole name stands in the question as whole words.
pypinyin reads place names with their usual readings (六安 -> lu an, 重庆 -> chong qing).
"""
from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import lazy_pinyin

_LATIN_WORD = re.compile(r"[A-Za-z]+")
_CJK = re.compile(r"[\u4e00-\u9fff]")
# Fewer letters than this say too little to be a place (an 「安」 would be every "an").
MIN_LETTERS = 4
# The English words for a level, which follow a place's name: stripped with it.
LEVEL_WORDS = r"(?:\s+(?:sub-?district|street|town(?:ship)?|district|county|city|province|government|office))?"


@lru_cache(maxsize=65536)
def _syllables(name: str) -> tuple[str, ...]:
    """The pinyin syllables of a name's Chinese characters (翠苑 -> cui, yuan); () for a name without any."""
    if not _CJK.search(name):
        return ()
    return tuple(s for s in lazy_pinyin(name) if s.isascii() and s.isalpha())


def romanized(name: str) -> str:
    """The pinyin of a name, lowercase, without spaces: 翠苑 -> cuiyuan; '' for none."""
    return "".join(_syllables(name)).lower()


def has_latin_words(text: str) -> bool:
    """Whether a question has words in Latin letters (three letters or more)."""
    return any(len(word) >= 3 for word in _LATIN_WORD.findall(text))


def in_latin_only(text: str) -> bool:
    """Whether a text is written in Latin letters alone (an English question): no Chinese character."""
    return not _CJK.search(text) and has_latin_words(text)


def _latin_runs(question: str) -> set[str]:
    """Every run of consecutive Latin words, joined without spaces, lowercase: 「Cui Yuan Street」 ->
    cui, cuiyuan, cuiyuanstreet, yuan, …"""
    words = [m.group(0).lower() for m in _LATIN_WORD.finditer(question)]
    return {"".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, min(len(words), i + 4) + 1)}


def named_in_latin(names: list[tuple[str, str]], question: str) -> list[str]:
    """Issuers a question names in pinyin, in the order given; `names` are (issuer, short name) pairs."""
    if not has_latin_words(question):
        return []
    runs = _latin_runs(question)
    named = []
    for issuer, short in names:
        forms = {romanized(short), romanized(issuer)}
        if any(len(form) >= MIN_LETTERS and form in runs for form in forms):
            named.append(issuer)
    return named


def strip_latin_names(text: str, names: list[tuple[str, str]]) -> str:
    """The text without the pinyin names of these (issuer, short name) pairs and the level word after each."""
    for issuer, short in names:
        for name in sorted({short, issuer}, key=len, reverse=True):
            syllables = _syllables(name)
            if len("".join(syllables)) < MIN_LETTERS:
                continue
            pattern = r"\b" + r"\s*".join(map(re.escape, syllables)) + r"\b" + LEVEL_WORDS
            text = re.sub(pattern, " ", text, flags=re.IGNORECASE)
    return re.sub(r"\s{2,}", " ", text).strip()
