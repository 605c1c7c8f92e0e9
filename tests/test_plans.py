"""Plans questions: what a named place says it will do next, quoted from its part on the coming year."""
import pytest

from indexer.sections import LABEL_PLANS
from service.answer import plans
from service.answer.plans import answer_plans, lead_clause, plans_topic
from service.answer.wording import plain
from tests.conftest import assert_quotes_verbatim


def doc_of(searcher, issuer):
    return next(d for d, m in searcher.metas().items() if m["issuer"] == issuer)


@pytest.mark.parametrize("question, places, topic", [
    ("粤海街道明年打算做什么？", ["粤海街道"], ""),
    ("坦洲镇下一步有什么计划？", ["坦洲镇"], ""),
    ("翠苑街道接下来要做哪些工作？", ["翠苑街道"], ""),
    ("坦洲镇明年在普法方面有什么打算？", ["坦洲镇"], "普法"),
])
def test_plans_topic_is_what_is_left_after_the_plan_and_question_words(question, places, topic):
    assert plans_topic(question, places) == topic


@pytest.mark.parametrize("question, issuer", [
    ("粤海街道明年打算做什么？", "粤海街道"),
    ("天水郡街道下一步准备怎么做？", "天水郡街道"),
    ("翠苑街道接下来要做哪些工作？", "翠苑街道"),
])
def test_a_plans_question_quotes_the_places_part_on_the_coming_year(answerer, searcher, question, issuer):
    answer = answerer.answer(question)
    assert answer.kind == "plans" and [g.issuer for g in answer.groups] == [issuer]
    assert answer.answer.startswith(f"{issuer}的报告对下一步的安排：")
    assert len(answer.citations) == plans.QUOTES
    for citation in answer.citations:
        row = searcher.row_of(citation.chunk_id)
        assert searcher.chunks.label(row) == LABEL_PLANS
        assert "主要安排" not in citation.quote  # the part's own title is not a plan
    assert_quotes_verbatim(searcher, answer.citations)


def test_numbered_plans_are_quoted_as_the_report_numbers_them(answerer):
    answer = answerer.answer("坦洲镇下一步有什么计划？")
    assert [c.quote[:3] for c in answer.citations] == ["(一)", "(二)", "(三)"]


def test_plans_joined_to_the_problems_start_where_the_place_says_what_it_will_do(answerer, searcher):
    # 海珠区: 「五、存在问题及2024年法治政府建设工作计划」 lists five problems, then 「2024年，我区将…」.
    answer = answerer.answer("海珠区明年有什么安排？")
    assert answer.kind == "plans" and answer.groups[0].issuer == "海珠区"
    assert "2024年" in answer.citations[0].quote and "將" in answer.citations[0].quote
    assert not any("有待" in c.quote or "不足" in c.quote for c in answer.citations)
    assert_quotes_verbatim(searcher, answer.citations)


def test_a_plans_question_with_a_topic_quotes_the_plans_nearest_it(answerer):
    answer = answerer.answer("坦洲镇明年在普法方面有什么打算？")
    assert answer.kind == "plans" and "（普法）" in answer.answer
    assert sum("普法" in plain(c.quote) for c in answer.citations) >= 2


def test_a_report_without_plans_says_so_and_cites_nothing(searcher, monkeypatch):
    monkeypatch.setattr(plans, "plan_sentences", lambda searcher, doc_id: [])
    text, groups = answer_plans(searcher, "粤海街道明年打算做什么？", [("粤海街道", doc_of(searcher, "粤海街道"))])
    assert groups == [] and text == "粤海街道的报告没有写明下一步的安排。"


@pytest.mark.parametrize("question, kind", [
    ("天水郡街道计划明年投入多少资金？", "fact"),  # a figure, not the plans
    ("哪些地方计划建设法治文化阵地？", "which"),  # which places, not one place's plans
    ("粤海街道如何开展普法宣传？", "open"),  # no plan words
])
def test_only_a_named_places_plans_without_a_figure_are_routed_to_plans(answerer, question, kind):
    assert answerer.answer(question).kind == kind


def test_lead_clause_cuts_at_a_clause_end():
    assert lead_clause("一是完善基层公共法律服务清单。") == "一是完善基层公共法律服务清单"
    long = "2024年，我区将坚持把习近平法治思想贯穿到法治建设全过程，围绕区委关于在六个方面要求，聚焦重点任务，推动更高效能的法治政府建设。"
    assert lead_clause(long) == "2024年，我区将坚持把习近平法治思想贯穿到法治建设全过程，围绕区委关于在六个方面要求，聚焦重点任务"
    assert lead_clause("很" * 80) == "很" * 60 + "…"
