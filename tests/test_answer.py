"""Answers: question kinds, facts from quotes, open answers; every quote verbatim (which-lists: test_which.py)."""
import pytest

from service.answer import classify, level_asked, which_topic_text
from tests.conftest import assert_quotes_verbatim


def _assert_verbatim(searcher, answer):
    assert_quotes_verbatim(searcher, answer.citations)
    for citation in answer.citations:
        assert citation.url == f"/reports/{citation.doc_id}#q-{citation.start}-{citation.end}"
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))


def test_fact_answer_gives_the_figure_from_its_quote(answerer, searcher):
    answer = answerer.answer("翠苑街道行政诉讼败诉率是多少？")
    assert answer.kind == "fact"
    assert "57%" in answer.answer and "57%" in answer.citations[0].quote
    assert answer.groups[0].issuer == "翠苑街道"
    _assert_verbatim(searcher, answer)


@pytest.mark.parametrize(
    "question, issuer, figure",
    [
        ("粤海街道违规入户充电报警下降了多少？", "粤海街道", "60%"),
        ("天水郡街道上传了多少条街道级服务事项？", "天水郡街道", "63条"),
        ("坦洲镇通过简案快办办理了多少宗案件？", "坦洲镇", "37宗"),
        ("海珠区提供法律援助多少件？", "海珠区", "1298件"),
    ],
)
def test_numbers_come_only_from_quotes(answerer, searcher, question, issuer, figure):
    answer = answerer.answer(question)
    assert answer.groups[0].issuer == issuer
    assert figure in answer.answer and figure in answer.citations[0].quote
    _assert_verbatim(searcher, answer)


def test_open_question_about_one_place_quotes_only_that_place(answerer):
    answer = answerer.answer("海珠区如何化解矛盾纠纷？")
    assert answer.groups and {g.issuer for g in answer.groups} == {"海珠区"}


def test_open_question_is_cited(answerer, searcher):
    answer = answerer.answer("海珠区怎样开展普法？")
    assert answer.kind == "open" and answer.citations
    assert answer.groups[0].issuer == "海珠区"
    _assert_verbatim(searcher, answer)


@pytest.mark.parametrize(
    "question, kind", [("哪些街道设立了商圈微法庭？", "which"), ("翠苑街道有几人持有法律职业资格证？", "fact"),
                       ("Which towns promote quick handling of simple cases?", "which"), ("海珠区如何推进普法？", "open")],
)
def test_classify(question, kind):
    assert classify(question) == kind


def test_which_phrase_parts():
    assert level_asked("哪些街道设立了商圈微法庭？") == "街道"
    assert level_asked("哪些地方推行容缺受理？") == ""
    assert which_topic_text("哪些街道设立了商圈微法庭？") == "设立了商圈微法庭"


def test_level_in_the_question_restricts_the_places(answerer):
    assert {g.issuer for g in answerer.answer("哪些镇推行简案快办？").groups} == {"坦洲镇"}
    assert "没有县一级" in answerer.answer("哪些县推行简案快办？").answer


def test_how_a_named_place_did_something_worded_otherwise_is_found_by_meaning(answerer, searcher):
    # No sentence of 坦洲镇 says 请了律师给老百姓免费咨询; its lexical open answer found nothing.
    answer = answerer.answer("坦洲镇请了律师给老百姓免费咨询是怎么做的？")
    assert answer.kind == "open" and [g.issuer for g in answer.groups] == ["坦洲镇"]
    assert "法律咨询" in answer.citations[0].quote and answer.answer.startswith("坦洲镇：")
    assert_quotes_verbatim(searcher, answer.citations)
