"""Plans questions: what a named place says it will do next, quoted from its part on the coming year."""
import pytest

from indexer.sections import LABEL_PLANS
from service.answer import plans
from service.answer.plans import answer_plans, lead_clause, plans_topic
from service.answer.wording import plain
from service.search import Filters
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


@pytest.mark.parametrize("question, level", [
    ("哪个街道明年打算做什么？", "街道"),
    ("哪些地方下一步有什么计划？", ""),
    ("Which places plan what for next year?", ""),
])
def test_which_places_plan_what_lists_every_place_in_scope_with_its_plans(answerer, searcher, question, level):
    answer = answerer.answer(question)
    in_scope = [m["issuer"] for m in searcher.metas().values() if not level or m["level"] == level]
    assert answer.kind == "plans" and sorted(g.issuer for g in answer.groups) == sorted(in_scope)
    for group in answer.groups:
        assert 2 <= len(group.citations) <= plans.QUOTES
        planned = {(r.start, r.end) for r in plans.plan_sentences(searcher, group.doc_id)}
        for citation in group.citations:
            assert (citation.start, citation.end) in planned  # quoted from the report's plans, as for one place
            assert not citation.quote.startswith(("十三、", "五、"))  # never a part's own title
    assert f"{len(in_scope)} 个地方的报告写明了下一步的安排" in answer.answer
    assert_quotes_verbatim(searcher, answer.citations)


def test_which_places_plan_what_counts_the_reports_without_plans(searcher, monkeypatch):
    without = doc_of(searcher, "翠苑街道")
    real = plans.plan_sentences
    monkeypatch.setattr(plans, "plan_sentences", lambda s, doc_id: [] if doc_id == without else real(s, doc_id))
    text, groups, filters = plans.answer_plans_in_scope(searcher, "哪些街道明年打算做什么？", Filters())
    assert filters.level == "街道" and "翠苑街道" not in {g.issuer for g in groups} and len(groups) == 2
    assert text.endswith("翠苑街道的报告没有写明。")
    monkeypatch.setattr(plans, "plan_sentences", lambda s, doc_id: [])
    text, groups, _ = plans.answer_plans_in_scope(searcher, "哪些街道明年打算做什么？", Filters())
    assert groups == [] and text == "在符合条件（街道）的 3 份报告中，没有报告写明下一步的安排。"


def test_a_which_question_about_a_planned_practice_stays_a_which_question(answerer):
    answer = answerer.answer("哪些地方明年要加强普法？")
    assert answer.kind == "which" and "在下一步安排中写了“明年要加强普法”" in answer.answer


@pytest.mark.parametrize("question, issuer, topic", [
    ("坦洲镇明年在调解纠纷上有什么想法？", "坦洲镇", "调解纠纷"),
    ("天水郡街道下一步在化解矛盾上准备怎么做？", "天水郡街道", "化解矛盾"),
])
def test_plans_that_do_not_touch_the_topic_say_so_and_cite_nothing(answerer, searcher, question, issuer, topic):
    doc_id = doc_of(searcher, issuer)
    plan_texts = [plain(r.text) for r in plans.plan_sentences(searcher, doc_id)]
    assert plan_texts and not any(w in t for t in plan_texts for w in ("矛盾", "纠纷", "调解", "化解"))
    answer = answerer.answer(question)
    assert answer.kind == "plans" and answer.groups == ()
    assert answer.answer == f"{issuer}的报告在下一步安排中没有写到“{topic}”。"


def test_lead_clause_cuts_at_a_clause_end():
    assert lead_clause("一是完善基层公共法律服务清单。") == "一是完善基层公共法律服务清单"
    long = "2024年，我区将坚持把习近平法治思想贯穿到法治建设全过程，围绕区委关于在六个方面要求，聚焦重点任务，推动更高效能的法治政府建设。"
    assert lead_clause(long) == "2024年，我区将坚持把习近平法治思想贯穿到法治建设全过程，围绕区委关于在六个方面要求，聚焦重点任务"
    assert lead_clause("很" * 80) == "很" * 60 + "…"
