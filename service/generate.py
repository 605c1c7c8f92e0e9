"""Optional generated answers from an OpenAI-compatible chat endpoint, checked against the citations.

The model sees only the numbered quotes.  Every sentence it writes must cite one of them as
[n]; a sentence without a valid [n] is dropped.  Any failure of the endpoint falls back to
the extractive answer, and the answer says so in its notes.
"""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import replace

from service.answer import Answer

SYSTEM_PROMPT = (
    "你是法治政府建设年度报告的研究助理。只根据用户给出的编号引文回答问题，用简体中文，简明扼要。"
    "每一句话都必须在句末用 [编号] 标明依据的引文；没有引文依据的内容不要写。"
)
_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?")
_MARK = re.compile(r"\[(\d+)\]")


class GenerationFailed(Exception):
    """The endpoint did not give a usable answer."""


def keep_cited_sentences(text: str, citation_count: int) -> str:
    """Only the sentences that cite at least one quote, and only with numbers that exist."""
    kept = []
    for match in _SENTENCE.finditer(text):
        sentence = match.group(0).strip()
        marks = [int(n) for n in _MARK.findall(sentence)]
        if marks and all(1 <= n <= citation_count for n in marks):
            kept.append(sentence)
    return "".join(kept)


class Generator:
    """Rewrites an extractive answer with an LLM, never adding what the quotes do not say."""

    def __init__(self, base_url: str, model: str, timeout: float = 20.0):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.timeout = timeout

    def _complete(self, question: str, quotes: list[str]) -> str:
        numbered = "\n".join(f"[{i}] {q}" for i, q in enumerate(quotes, start=1))
        payload = {
            "model": self.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": f"问题：{question}\n\n引文：\n{numbered}"},
            ],
        }
        request = urllib.request.Request(
            self.url, data=json.dumps(payload).encode("utf-8"), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = json.loads(response.read().decode("utf-8"))
            return body["choices"][0]["message"]["content"]
        except (urllib.error.URLError, TimeoutError, OSError, ValueError, KeyError, IndexError, TypeError) as error:
            raise GenerationFailed(f"The language model endpoint {self.url} failed: {error}.") from error

    def rewrite(self, answer: Answer) -> Answer:
        """A generated answer citing the same quotes, or the extractive one with a note."""
        if not answer.citations:
            return answer
        try:
            text = self._complete(answer.resolved_question, [c.quote for c in answer.citations])
        except GenerationFailed:
            return replace(answer, notes=answer.notes + ("生成式回答暂不可用，以下为摘录式回答。",))
        checked = keep_cited_sentences(text, len(answer.citations))
        if not checked:
            return replace(answer, notes=answer.notes + ("生成的回答没有可核对的引文，已改用摘录式回答。",))
        return replace(answer, answer=checked, generated=True)
