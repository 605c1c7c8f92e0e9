"""Follow-up questions resolved against the conversation before retrieval.

「坦洲镇办了多少宗？」 after 「哪些地方推行简案快办？」 asks about 简案快办 in 坦洲镇, and
「翠苑街道呢？」 then asks the same of 翠苑街道.  The rules work on the question's parts:
the places it names, its topic (what is left without places and question words), and
whether it is elliptical (「…呢？」, 「那…」, 「还有…」).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_PLACE = re.compile(r"[\u4e00-\u9fff]{2,8}?(?:街道办事处|街道|镇|乡|区|县|市)")
_WHICH_PHRASE = re.compile(r"(哪些|哪几个|哪个|有哪些)(地方|街道|乡镇|镇|乡|区|县|市|单位|地区)")
_ELLIPTIC = re.compile(r"^(那么?|还有|另外|再看看?|换成|同样地?)?\s*(.{1,20}?)\s*(呢|怎么样|如何|的情况呢?)\s*[？?]?\s*$")
_FILLER = re.compile(
    r"[，,。？?！!\s]|那么|那|呢|吗|请问|具体|的情况|情况|怎么样|怎么|怎样|如何|什么|是多少|多少|几|"
    r"这项|这个|该|做法|工作|开展|取得|效果|成效|是|了|过|的|地|得|办|做|有|呢"
)
_QUESTION_TAIL = re.compile(r"[？?。！!\s]+$")


@dataclass(frozen=True)
class Resolution:
    """The question as asked and the self-contained question that is searched."""

    question: str
    resolved: str
    topic: str  # the topic carried over, '' when none was needed


def places_in(text: str, known_places: list[str]) -> list[str]:
    """Places named in a text: known issuers first (full or short form), then any X街道/X镇…"""
    found = []
    for place in known_places:
        short = re.sub(r"(街道办事处|街道|镇|乡|区|县|市)$", "", place)
        if place in text or (len(short) >= 2 and short in text):
            found.append(place)
    return found


def topic_of(question: str, known_places: list[str]) -> str:
    """What a question is about, without its places and which-phrase: 「哪些地方推行简案快办」 -> 「推行简案快办」."""
    text = _WHICH_PHRASE.sub("", question)
    for place in sorted(places_in(text, known_places), key=len, reverse=True):
        short = re.sub(r"(街道办事处|街道|镇|乡|区|县|市)$", "", place)
        text = text.replace(place, "").replace(short, "") if len(short) >= 2 else text.replace(place, "")
    return _QUESTION_TAIL.sub("", text).strip(" ，,")


def _has_own_topic(question: str, known_places: list[str]) -> bool:
    rest = topic_of(question, known_places)
    return len(_FILLER.sub("", rest)) >= 3


def resolve(question: str, history: list[dict], known_places: list[str]) -> Resolution:
    """The self-contained question to search for, given the earlier turns (oldest first)."""
    question = question.strip()
    if not history:
        return Resolution(question, question, "")
    previous = history[-1]
    last = previous.get("resolved_question") or previous.get("question") or ""
    if not last:
        return Resolution(question, question, "")
    places_now = places_in(question, known_places)
    elliptic = _ELLIPTIC.match(question)
    if elliptic and places_now and not _has_own_topic(question, known_places):
        # 「翠苑街道呢？」: the last question again, about the new place.
        places_before = places_in(last, known_places)
        resolved = last
        if places_before:
            for old in places_before:
                resolved = resolved.replace(old, places_now[0], 1)
        else:
            resolved = places_now[0] + topic_of(last, known_places)
        return Resolution(question, _QUESTION_TAIL.sub("", resolved) + "？", topic_of(last, known_places))
    if places_now and not _has_own_topic(question, known_places):
        # 「坦洲镇办了多少宗？」: a place and a question shape, the topic comes from before.
        topic = topic_of(last, known_places)
        rest = _QUESTION_TAIL.sub("", question)
        for place in places_now:
            rest = rest.replace(place, "")
        resolved = f"{places_now[0]}{topic}{rest.strip()}？"
        return Resolution(question, resolved, topic)
    if not places_now and not _has_own_topic(question, known_places):
        # 「有多少？」「那去年呢？」 with no place: ask it of the last question's topic and places.
        topic = topic_of(last, known_places)
        places_before = places_in(last, known_places)
        rest = _QUESTION_TAIL.sub("", question)
        resolved = f"{''.join(places_before[:1])}{topic}{rest}？"
        return Resolution(question, resolved, topic)
    return Resolution(question, question, "")
