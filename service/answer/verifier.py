"""The which-verifier: does a report show the practice a question describes?

Each candidate sentence gets one score from the signals of meaning.py:

    score = z + COVERAGE * coverage + LEARNED * learned + DONE * (reports something done)

(z: standard deviations of meaning above the background; coverage and learned: shares of the
question's own and of the learned terms' weight in the sentence). A report's score is its best
sentence's. A report is listed when its score is at least FLOOR and within MARGIN of the best
report's: how far above the usual a sentence must sit, and how close to the best answer.

Where a sentence stands is a rule, not a weight: one under 存在的问题 names what is lacking
and never shows a practice done; one under 下一步安排 (a work report's part on the coming
year included) shows a plan, which is what a question about plans asks for and nothing else.

The five numbers live in verifier.json with the cases they were chosen on (a grid search over
the development split of bench/data/which_seeds.jsonl and which_large.jsonl, never the
validation split) and are chosen again by ``bench/tune_which.py``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import jieba

from indexer.sections import LABEL_PLANS, LABEL_PROBLEMS
from service.answer.meaning import SentenceEvidence

WEIGHTS_FILE = Path(__file__).with_name("verifier.json")
PARAMETERS = ("coverage", "learned", "done", "floor", "margin")
# Words that always speak of the coming year, and words that do only as a word of their own:
# 计划 in 计划生育, 拟 in 模拟法庭 or 拟定, are topic words; 准备 and 规划 plan something only when
# they govern what follows (「准备推行」「规划建设」), not as nouns (「应急准备工作」「五年规划」).
_PLAN_PHRASE = re.compile(r"打算|下一步|下一?阶段|接下来|今后|来年|明年|将要|\bplan(?:s|ned|ning)?\b|\bintends?\b", re.IGNORECASE)
_PLAN_WORDS = frozenset({"计划", "拟"})
_PLAN_VERBS = frozenset({"准备", "规划"})
_NOT_GOVERNED = re.compile(r"^(?:\W|工作|好|了|情况|方面|和|与|及)")


def asks_about_plans(question: str) -> bool:
    """「哪些地方计划…」: plans count as evidence."""
    if _PLAN_PHRASE.search(question):
        return True
    tokens = jieba.lcut(question)
    for i, token in enumerate(tokens):
        if token in _PLAN_WORDS:
            return True
        if token in _PLAN_VERBS and i + 1 < len(tokens) and not _NOT_GOVERNED.match(tokens[i + 1]):
            return True
    return False


def may_show(label: str, plans_asked: bool) -> bool:
    """Whether a sentence under this section label can show what the question asks for."""
    if label == LABEL_PROBLEMS:
        return False
    return (label == LABEL_PLANS) == plans_asked


def signals(evidence: SentenceEvidence) -> tuple[float, ...]:
    """What the score weighs, in the order of Verifier.weights()."""
    return (evidence.z, evidence.coverage, evidence.learned, float(evidence.done))


@dataclass(frozen=True)
class Verifier:
    """The weights of the sentence score and the two thresholds of the decision."""

    coverage: float
    learned: float
    done: float
    floor: float
    margin: float
    chosen_on: str = ""

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> "Verifier":
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{name: float(data[name]) for name in PARAMETERS}, chosen_on=data.get("chosen_on", ""))

    def to_dict(self) -> dict:
        return {**{name: getattr(self, name) for name in PARAMETERS}, "chosen_on": self.chosen_on}

    def weights(self) -> tuple[float, ...]:
        """The score's weights, in the order of signals()."""
        return (1.0, self.coverage, self.learned, self.done)

    def score(self, evidence: SentenceEvidence) -> float:
        """How strongly one sentence shows the practice."""
        return sum(w * x for w, x in zip(self.weights(), signals(evidence)))

    def accepts(self, score: float, best: float) -> bool:
        """Whether a report with this score is listed, given the best report's."""
        return score >= self.floor and score >= best - self.margin
