"""Follow-up questions resolved against a conversation state folded over the whole history.

Each earlier turn is resolved against the state before it (the same rules, recursively), and
then recorded: its topic (the practice asked about, without places, year and question shape),
the places its resolved question names, the places its answer lists, its shape and its year.
The new question is resolved against the final state, so 「翠苑街道呢？」 after
「哪些地方推行简案快办？」 -> 「坦洲镇办了多少宗？」 still asks about 简案快办.  Only
{question, answer} of each turn is read; a client's `resolved_question` is not needed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from service.answer.questions import short_name, without_spread, without_superlative

# --- The rules' vocabulary: every pattern a rule below names, in one place. ---------------
_END = re.compile(r"[？?。！!，,\s]+$")
# 「除了翠苑街道，还有哪些…」: the clause naming places set aside.
_EXCEPT = re.compile(r"除了?(?P<names>[^，,？?]{1,40}?)(?:以外|之外|外)?(?:[，,、]|(?=还|另外|其他|其它|别的|哪))")
# 「还有哪里…」「另外还有哪些…」「其他地方呢」: the last which-question again, for places not yet named.
_MORE = re.compile(r"^(?:那么?)?(?:还有|另外还有|另外|其他|其它|别的)(?=哪|别的|其他|其它|地方|街道|镇|区|什么地方|呢|吗|$)"
                   r"|^(?:那么?)?(?:其他|其它|别的)(?:地方|街道|镇|区)")
# 「第一个」「后者」: one of the places the last answer listed, by position.
_ORDINAL = re.compile(r"(?:其中)?(?:的)?(第(?P<n>[一二三四五六七八九1-9])(?:个|家|位)(?:地方|街道|镇|区)?|前者|后者|最后一个)")
_ORDINAL_INDEX = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "七": 6, "八": 7, "九": 8}
# Pronouns for several places (the ones just listed) and for one place (the one just asked about).
_PLACES_PRONOUN = re.compile(r"他们|她们|它们|这些地方|这几个地方|这两个地方|这两地|两地|上述地方|以上地方|这些街道|这几个街道|这些单位")
_PLACE_PRONOUN = re.compile(r"该(?:街道|镇|区|县|市|乡|地区|地)|这个(?:地方|街道|镇|区)|这(?:个|一)?(?:街道|镇|区)(?=的|在|是|有|怎|如|呢|办|共|开|推)"
                            r"|那里|那儿|这里|当地|此地|它")
# Pronouns for the topic: 「这项工作」「这个做法」.
_TOPIC_PRONOUN = re.compile(r"(?:这|该|此|那)(?:项|个|一|种)?(?:工作|做法|措施|举措|制度|机制|模式|改革|经验|事项?)|这方面|这项|此项|该项")
_EXPLICIT_YEAR = re.compile(r"((?:19|20)\d{2})\s*年度?")
_RELATIVE_YEAR = re.compile(r"大前年|前年|去年|上一年|上年|今年|本年")
_YEAR_SHIFT = {"今年": 0, "本年": 0, "去年": 1, "上一年": 1, "上年": 1, "前年": 2, "大前年": 3}
# Words for an unknown year shifted back (no year was stated): 「去年」 -> 「上一年」.
_SHIFT_WORDS = {0: "", 1: "上一年", 2: "两年前", 3: "三年前"}
_WHICH = re.compile(r"(?:还有|另外还有)?(?P<phrase>(?:有)?(?:哪些|哪几个|哪个|哪几|哪一些)"
                    r"(?:地方|街道|乡镇|镇街|镇|乡|区县|区|县|市|城市|地区|单位|基层政府)|哪里|哪儿)")
# Question shapes other than which, tried in order; the first that matches is the shape.
_SHAPES = (
    # 「它明年有什么打算？」: the plans of a place. Its time words (明年, 下一步) belong to the shape: a
    # plans turn has no topic of its own, so 「它去年办了多少宗？」 after it does not carry 「明年」.
    ("plans", re.compile(r"(?:(?:的)?(?:明年|来年|下一年|下一步|下阶段|下一阶段|接下来|今后|未来)(?:的)?)?"
                         r"(?:(?:有什么|有何|有哪些|有啥|是什么|有)(?:工作)?(?:打算|计划|安排|规划|设想)"
                         r"|(?:打算|计划|准备|将要?|要)(?:做什么|干什么|做哪些|怎么做|如何做|怎么干))")),
    ("how", re.compile(r"(?:是|都是|又是|具体)?(?:怎么(?!样)|怎样(?=[做开推落办实干搞])|如何)(?:做|开展|推进|落实|推行|办|实施|干|搞)?(?:的)?"
                       r"|(?:有|采取了?)(?:哪些|什么)(?:做法|举措|措施|经验|成效|亮点)")),
    ("count", re.compile(r"(?:各|分别|一共|总共|共|全年)?(?:办理?了?|受理了?|完成了?|处置了?|收到了?|开展了?|提供了?|审查了?"
                         r"|调解了?|化解了?|立案了?|有|是|为|达到?)?(?:多少|几)(?:宗|件|个|次|场|人次|人|项|家|份|条|起|户|名)?")),
    ("rank", re.compile(r"排名?第几|排第几|第几名")),
    ("when", re.compile(r"(?:是)?(?:什么时候|何时|哪一年|哪年)")),
    ("state", re.compile(r"(?:的)?(?:情况|进展|成效|效果)(?:如何|怎么样|怎样)|(?:的)?(?:做得)?(?:怎么样|怎样)")),
    ("yesno", re.compile(r"(?:了)?吗$|是否|有没有")),
)
_SPREAD = re.compile(r"^(?:各|分别)")
_BARE_COUNT = "有多少"
# The verb a count shape may start with; dropped when the topic already starts with it.
_SHAPE_VERB = re.compile(r"^(办理|办|受理|完成|处置|收到|开展|提供|审查|调解|化解|立案)了?")
# Shape words used when the question is rebuilt from parts.
_SHAPE_WORDS = {"yesno": "吗", "state": "的情况如何"}
_ELLIPTIC = re.compile(r"^(?:那么?|那|再|另外|其中|换成)|呢$|怎么样$")
_FILLER = re.compile(r"^(?:请问|那么|那|再|另外|其中|换成|对于|关于|在)+|(?:呢|啊|吧|的话)$")
_TOPIC_EDGE = re.compile(r"^[的在对是了，,、\s]+|[的了，,、\s]+$")
_QUOTES = re.compile(r"[“”\"「」『』‘’]")
_SUFFIX_AFTER_SHORT = r"(?:街道办事处|办事处|街道|镇|乡|区|县|市)?"
MIN_TOPIC_CHARS = 2  # a remainder shorter than this is filler, not a topic of its own


@dataclass(frozen=True)
class Resolution:
    """The question as asked, the self-contained question that is searched, and what it sets aside."""

    question: str
    resolved: str
    topic: str  # the topic carried over, '' when none was needed
    exclude: tuple[str, ...] = ()  # places a which-follow-up leaves out (「还有哪里…」「除了…」)


@dataclass(frozen=True)
class Parts:
    """What one question says of its own, before anything is carried over."""

    places: tuple[str, ...] = ()
    excepted: tuple[str, ...] = ()
    topic: str = ""
    shape: str = ""  # which / how / count / rank / when / state / yesno / ''
    shape_text: str = ""  # the words of the shape: 「哪些地方」「办了多少宗」
    year: int | None = None
    year_shift: int | None = None  # 去年 = 1, 前年 = 2
    year_words: str = ""  # 「上一年」 when a shift had no stated year to start from
    anchor_year: int | None = None  # the year 「去年」「前年」 count back from: the last one stated
    more: bool = False  # 「还有哪里…」
    ordinal: int | None = None
    places_pronoun: bool = False
    place_pronoun: bool = False
    topic_pronoun: bool = False
    elliptic: bool = False


@dataclass(frozen=True)
class State:
    """The conversation so far, as the next question needs it."""

    topic: str = ""
    places: tuple[str, ...] = ()
    listed: tuple[str, ...] = ()  # places the last answer named, in order
    shape: str = ""
    shape_text: str = ""
    year: int | None = None
    year_words: str = ""
    anchor_year: int | None = None
    which: Parts | None = None  # the last which-question, for 「还有哪里…」
    seen: tuple[str, ...] = ()  # places named (asked about or answered) since the topic began


# --- Places ------------------------------------------------------------------------------
def _place_pattern(place: str) -> str:
    short = short_name(place)
    if len(short) >= 2 and short != place:
        return re.escape(place) + "|" + re.escape(short) + _SUFFIX_AFTER_SHORT
    return re.escape(place)


def places_in(text: str, known_places: list[str]) -> list[str]:
    """Known places a text names (full or short form), in the order the text names them."""
    first: dict[str, int] = {}
    for place in dict.fromkeys(p for p in known_places if p):
        match = re.search(_place_pattern(place), text)
        if match:
            first[place] = match.start()
    return sorted(first, key=lambda p: (first[p], -len(p)))


def _strip_places(text: str, places: list[str]) -> str:
    for place in sorted(places, key=len, reverse=True):
        text = re.sub(_place_pattern(place), " ", text)
    return text


# --- One question's own parts ---------------------------------------------------------------
def _cut(pattern: re.Pattern, text: str) -> tuple[re.Match | None, str]:
    match = pattern.search(text)
    if not match:
        return None, text
    return match, text[: match.start()] + " " + text[match.end():]


def parse(question: str, known_places: list[str]) -> Parts:
    """Split a question into places, year, shape, reference words and the topic that is left."""
    text = _END.sub("", question.strip())
    elliptic = bool(_ELLIPTIC.search(text))
    excepted: list[str] = []
    match, text = _cut(_EXCEPT, text)
    if match:
        excepted = places_in(match.group("names"), known_places)
    more = bool(_MORE.search(text.strip())) or bool(match)
    ordinal_match, text = _cut(_ORDINAL, text)
    ordinal = None
    if ordinal_match:
        word = ordinal_match.group(0)
        n = ordinal_match.group("n")
        ordinal = (-1 if "后者" in word or "最后" in word else 0 if "前者" in word
                   else _ORDINAL_INDEX.get(n, int(n) - 1 if n and n.isdigit() else 0))
    places_pronoun, text = _cut(_PLACES_PRONOUN, text)
    topic_pronoun, text = _cut(_TOPIC_PRONOUN, text)
    place_pronoun, text = _cut(_PLACE_PRONOUN, text)
    places = places_in(text, known_places)
    text = _strip_places(text, places)
    year = shift = None
    explicit, text = _cut(_EXPLICIT_YEAR, text)
    if explicit:
        year = int(explicit.group(1))
    relative, text = _cut(_RELATIVE_YEAR, text)
    if relative:
        shift = _YEAR_SHIFT[relative.group(0)]
    shape, shape_text = "", ""
    which, text = _cut(_WHICH, text)
    if which:
        shape, shape_text = "which", which.group("phrase").lstrip("有")
        if shape_text in ("哪里", "哪儿"):
            shape_text = "哪些地方"
    else:
        for name, pattern in _SHAPES:
            found, rest = _cut(pattern, text)
            if found and found.group(0):
                # 「各」「分别」 spread the question over places; the rebuilt question names them.
                shape, shape_text, text = name, _SPREAD.sub("", found.group(0)), rest
                break
    if more:
        text = re.sub(r"还有|另外|其他|其它|别的", " ", text)
    topic = _clean_topic(text)
    return Parts(places=tuple(places), excepted=tuple(excepted), topic=topic, shape=shape, shape_text=shape_text,
                 year=year, year_shift=shift, more=more, ordinal=ordinal, places_pronoun=bool(places_pronoun),
                 place_pronoun=bool(place_pronoun), topic_pronoun=bool(topic_pronoun), elliptic=elliptic)


def _clean_topic(text: str) -> str:
    text = re.sub(r"\s+", "", text)
    previous = None
    while previous != text:
        previous = text
        text = _TOPIC_EDGE.sub("", _FILLER.sub("", text))
    return text if len(re.sub(r"[^\u4e00-\u9fffA-Za-z0-9]", "", text)) >= MIN_TOPIC_CHARS else ""


def _same_topic(a: str, b: str) -> bool:
    return _QUOTES.sub("", a) == _QUOTES.sub("", b)


# --- The rules ------------------------------------------------------------------------------
def _is_self_contained(parts: Parts) -> bool:
    """Nothing to carry over: its own topic, no reference words, no relative year, no 「…呢」."""
    return bool(parts.topic) and not (
        parts.more or parts.ordinal is not None or parts.places_pronoun or parts.place_pronoun
        or parts.topic_pronoun or parts.year_shift is not None or parts.elliptic
    )


def _referred_places(parts: Parts, state: State) -> tuple[str, ...]:
    """The places a question means: named, pointed at, or (when it names none) the last ones."""
    if parts.places:
        return parts.places
    if parts.ordinal is not None and state.listed:
        index = parts.ordinal if parts.ordinal < len(state.listed) else -1
        return (state.listed[index],)
    if parts.places_pronoun:
        return state.listed or state.places
    if parts.place_pronoun:
        return state.places or state.listed
    return ()


def _year_of(parts: Parts, state: State) -> tuple[int | None, str]:
    """The year asked about: stated, shifted from the last one, or the last one carried over."""
    if parts.year is not None:
        return parts.year, ""
    if parts.year_shift is not None:
        if state.anchor_year is not None:
            return state.anchor_year - parts.year_shift, ""
        return None, _SHIFT_WORDS.get(parts.year_shift, "")
    return state.year, state.year_words


def _assemble(places: tuple[str, ...], year: int | None, year_words: str, topic: str,
              shape: str, shape_text: str) -> str:
    when = f"{year}年" if year is not None else year_words
    if shape == "which":
        return f"{shape_text or '哪些地方'}{when}{topic}？"
    tail = shape_text if shape not in _SHAPE_WORDS or shape_text.endswith(("吗", "如何")) else _SHAPE_WORDS[shape]
    if shape == "yesno":
        tail = "吗"
    verb = _SHAPE_VERB.match(tail)
    if verb and topic.startswith(verb.group(1)):
        tail = tail[verb.end():]  # 「办理政府信息公开申请办理了多少宗」 -> 「…申请多少宗」
    return f"{'、'.join(places)}{when}{topic}{tail}？"


def _resolve_more(question: str, parts: Parts, state: State) -> tuple[Resolution, Parts]:
    """「还有哪里…」「除了…还有哪些…」: the last which-question again, without the places named."""
    base = state.which or Parts(topic=state.topic, shape="which", shape_text="哪些地方", year=state.year)
    topic = parts.topic or base.topic
    shape_text = parts.shape_text if parts.shape == "which" else base.shape_text
    if parts.excepted:
        exclude = parts.excepted
    elif _same_topic(topic, state.topic) or not parts.topic:
        exclude = tuple(dict.fromkeys(state.seen + state.listed))
    else:
        exclude = ()
    year = parts.year if parts.year is not None else base.year
    resolved = _assemble((), year, "", topic, "which", shape_text)
    final = Parts(topic=topic, shape="which", shape_text=shape_text, year=year, anchor_year=state.anchor_year)
    return Resolution(question, resolved, "" if parts.topic else topic, exclude), final


def resolve_against(question: str, state: State, known_places: list[str]) -> tuple[Resolution, Parts]:
    """Resolve one question against a state; also return the parts the resolved question has."""
    question = question.strip()
    parts = parse(question, known_places)
    if parts.more and (state.topic or parts.topic) and (parts.shape in ("which", "") or parts.excepted):
        return _resolve_more(question, parts, state)
    if _is_self_contained(parts) or not (state.topic or state.places or state.listed):
        exclude = parts.excepted if parts.shape == "which" else ()
        resolved = question
        if exclude:
            # The which-engine reads the topic from the question: hand it the clause-free question.
            resolved = _assemble((), parts.year, "", parts.topic, "which", parts.shape_text)
        return Resolution(question, resolved, "", exclude), replace(parts, anchor_year=parts.year)
    places = _referred_places(parts, state)
    topic = parts.topic or state.topic
    if places:
        topic = _clean_topic(without_spread(topic)) or topic  # 「翠苑街道呢？」 after 「各地的…分别是多少？」
    if not parts.topic and not parts.topic_pronoun and (parts.shape or state.shape) == "plans":
        topic = ""  # 「它明年有什么打算？」 asks for the place's plans, not its plans on the last topic
    shape, shape_text = (parts.shape, parts.shape_text) if parts.shape else (state.shape, state.shape_text)
    if shape == "count" and not parts.shape and parts.topic and not _same_topic(parts.topic, state.topic):
        # The verb and counting word belong to the old topic (开展了多少场 活动); a new one keeps only the count.
        shape_text = _BARE_COUNT
    if not places and shape != "which" and not parts.topic:
        places = state.places or state.listed
    elif not places and shape != "which" and parts.elliptic and state.shape != "which":
        places = state.places
    if shape == "which" and places:
        # 「海珠区呢？」 after a which-question asks how that place does it, or, after 「哪些街道明年有什么
        # 打算？」, what it plans.
        plans = dict(_SHAPES)["plans"].search(topic)
        unranked, ranked = without_superlative(topic)
        if ranked:
            # 「翠苑街道呢？」 after 「哪个地方的法律援助案件最多？」 asks for 翠苑街道's figure.
            shape, shape_text, topic = "count", _BARE_COUNT, _clean_topic(unranked)
        elif plans:
            shape, shape_text = "plans", plans.group(0)
            topic = _clean_topic(topic[:plans.start()] + topic[plans.end():])
        else:
            shape, shape_text = "state", ""
    year, year_words = _year_of(parts, state)
    resolved = _assemble(places, year, year_words, topic, shape, shape_text)
    anchor = parts.year if parts.year is not None else state.anchor_year
    final = Parts(places=places, topic=topic, shape=shape, shape_text=shape_text, year=year, year_words=year_words,
                  anchor_year=anchor)
    return Resolution(question, resolved, "" if parts.topic else topic), final


def record(state: State, parts: Parts, answer: str, known_places: list[str]) -> State:
    """The state after a turn: its resolved parts and the places its answer named."""
    listed = tuple(places_in(answer or "", known_places))
    named = tuple(dict.fromkeys(parts.places + listed))
    seen = tuple(dict.fromkeys(state.seen + named)) if _same_topic(parts.topic, state.topic) else named
    which = parts if parts.shape == "which" else state.which
    # A plans turn without a topic of its own leaves the conversation's topic as it was: after
    # 「它明年有什么打算？」, 「它去年办了多少宗？」 still counts what was counted before.
    topic = parts.topic or (state.topic if parts.shape == "plans" else "")
    return State(topic=topic, places=parts.places, listed=listed, shape=parts.shape,
                 shape_text=parts.shape_text, year=parts.year, year_words=parts.year_words,
                 anchor_year=parts.anchor_year, which=which, seen=seen)


def state_of(history: list[dict], known_places: list[str]) -> State:
    """The conversation state after the given turns (oldest first), each resolved in its turn."""
    state = State()
    for turn in history:
        question = (turn.get("question") or "").strip()
        if not question:
            continue
        _, parts = resolve_against(question, state, known_places)
        state = record(state, parts, turn.get("answer") or "", known_places)
    return state


def resolve(question: str, history: list[dict], known_places: list[str]) -> Resolution:
    """The self-contained question to search for, given the earlier turns (oldest first)."""
    return resolve_against(question, state_of(history, known_places), known_places)[0]


def topic_of(question: str, known_places: list[str]) -> str:
    """What a question is about, without places, year and shape: 「哪些地方推行简案快办」 -> 「推行简案快办」."""
    return parse(question, known_places).topic
