"""The answer layer: which-lists by meaning, typed facts, open answers, conversation state.

Modules: questions (what is asked), evidence (sentence scoring), which / lexical_which,
facts, open_ended, conversation (follow-ups), citing and wording (quotes and short answers),
records (the answer's dataclasses), answerer (the entry point).
"""
from service.answer.answerer import Answerer
from service.answer.questions import KINDS, classify, level_asked, which_topic_text
from service.answer.records import Answer, Citation, Group

__all__ = ["KINDS", "Answer", "Answerer", "Citation", "Group", "classify", "level_asked", "which_topic_text"]
