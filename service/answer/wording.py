"""The words of a short answer: clean Simplified Chinese clauses taken from the quotes.

Citations keep the published form (Traditional characters, pinyin annotations such as
構(gòu)建) and its offsets; the short answer reads the normalised text instead.
"""
from __future__ import annotations

import re

from indexer.normalize import normalize

_DIGIT = re.compile(r"\d")


def plain(text: str) -> str:
    """A published snippet as clean Simplified Chinese (pinyin out, debris out)."""
    return normalize(text).text.strip()


def short_clause(quote: str, terms: list[str], limit: int = 80) -> str:
    """The clause of a quote that carries the terms (and a figure), in clean Simplified Chinese."""
    text = plain(quote)
    clauses = [c for c in re.split(r"(?<=[，,；;。])", text) if c.strip()]
    if len(text) <= limit or len(clauses) <= 1:
        return text
    best = max(
        range(len(clauses)),
        key=lambda i: (sum(t in clauses[i] for t in terms) + (0.5 if _DIGIT.search(clauses[i]) else 0), -i),
    )
    picked = "".join(clauses[max(0, best - 1) : best + 1]).strip()
    return picked.rstrip("，,；;")
