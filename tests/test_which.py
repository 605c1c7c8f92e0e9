"""Which-questions by meaning: every report decided, quotes verbatim, ordinary wording understood."""
import json
from pathlib import Path

import numpy as np
import pytest

from service.answer.questions import classify, level_asked, without_year, year_named
from service.answer.verifier import Verifier, asks_about_plans, may_show
from service.answer.which import find_places
from service.search import Filters
from tests.conftest import assert_quotes_verbatim

ROOT = Path(__file__).resolve().parent.parent
SEED_CASES = [json.loads(line) for line in (ROOT / "bench" / "data" / "which_seeds.jsonl").read_text(encoding="utf-8").splitlines()
              if line.strip()]


def issuers(answer) -> set[str]:
    return {g.issuer for g in answer.groups}


def _assert_verbatim(searcher, answer):
    assert_quotes_verbatim(searcher, answer.citations)
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert all(1 <= len(g.citations) <= 2 for g in answer.groups)


@pytest.mark.parametrize("question", [
    "哪些地方在商业区设立了小型法庭？",
    "哪些地方和法院合作，在商业街区快速调解纠纷？",
    "Which places set up a small court in the business district?",
])
def test_a_practice_described_in_ordinary_words_is_found(answerer, question):
    # 粤海街道's report calls it 「商圈微法庭」; none of these questions says so.
    answer = answerer.answer(question)
    assert answer.kind == "which"
    assert answer.groups and answer.groups[0].issuer == "粤海街道"
    assert "商圈微法庭" in answer.groups[0].citations[0].quote


def test_legal_advisers_are_found_without_the_reports_wording(answerer):
    # 天水郡: 「一社区一法律顾问」 and 签订了法律顾问合同; 翠苑: 聘请6名律师 …法律顾问考核.
    assert {"天水郡街道", "翠苑街道"} <= issuers(answerer.answer("哪些地方聘请了法律顾问？"))


@pytest.mark.parametrize("verb", ["设立", "设置", "建立", "成立", "搞了", "开设"])
def test_the_verb_of_the_question_does_not_matter(answerer, verb):
    assert issuers(answerer.answer(f"哪些街道{verb}商圈微法庭？")) == {"粤海街道"}


@pytest.mark.parametrize("case", [c for c in SEED_CASES if c["style"] == "lexical"], ids=lambda c: c["q"][:12])
def test_questions_in_the_reports_own_words_list_exactly_the_places(answerer, searcher, case):
    answer = answerer.answer(case["q"])
    assert issuers(answer) == set(case["gold"])
    assert f"共有 {len(case['gold'])} 个地方" in answer.answer
    _assert_verbatim(searcher, answer)


def test_every_quote_of_every_case_is_verbatim(answerer, searcher):
    for case in SEED_CASES:
        _assert_verbatim(searcher, answerer.answer(case["q"]))


def test_the_answer_names_its_scope_and_count(answerer):
    answer = answerer.answer("哪些街道设立了商圈微法庭？")
    assert "符合条件（街道）的 3 份报告" in answer.answer and "共有 1 个地方" in answer.answer
    assert answer.filters == {"level": "街道"}
    # The practice is named without the particle the which-phrase leaves (哪些地方**的**领导…).
    answer = answerer.answer("哪些地方的领导去法院出庭应诉了？")
    assert "做过“领导去法院出庭应诉了”" in answer.answer


def test_plans_count_only_when_the_question_asks_about_plans(answerer):
    # 翠苑街道 writes 「建立健全矛盾纠纷预警系统」 under 下一步安排 only.
    assert "翠苑街道" in issuers(answerer.answer("哪些地方计划建立矛盾纠纷预警系统？"))
    done = answerer.answer("哪些地方已经建成了矛盾纠纷预警系统？")
    assert not any("下一步" in c.section for c in done.citations)
    assert asks_about_plans("哪些地方打算明年推行简案快办？") and not asks_about_plans("哪些地方推行简案快办？")
    assert may_show("主要举措", False) and not may_show("存在的问题", False) and not may_show("存在的问题", True)
    assert may_show("下一步安排", True) and not may_show("下一步安排", False)


def test_a_plan_word_inside_a_topic_word_is_no_plan():
    # 计划生育, 模拟法庭, 拟定, 空间规划 and 应急准备 name practices, not plans.
    for question in ("哪些地方落实了计划生育政策？", "哪些地方开展了模拟法庭活动？", "哪些地方拟定了权责清单？",
                     "哪些城市编制了国土空间规划？", "哪些地方做了应急准备工作？", "哪些地方制定了五年规划？"):
        assert not asks_about_plans(question), question
    for question in ("哪些地方规划建设法治公园？", "哪些地方准备推行简案快办？", "坦洲镇有什么计划？",
                     "哪些地方拟于年内出台清单？", "Which places plan to open a legal aid desk?"):
        assert asks_about_plans(question), question


def test_excluded_places_are_left_out_and_said_so(answerer):
    answer = answerer.answer("哪些地方推行简案快办？", exclude=("坦洲镇",))
    assert "坦洲镇" not in issuers(answer) and "已除去前面提到的 1 个地方" in answer.answer


@pytest.mark.parametrize("question, level", [("哪些城市发放了消费券？", "市"), ("哪些省份推进了河长制？", "省"),
                                             ("哪几个街道开展普法？", "街道"), ("Which cities cut fees?", "市"),
                                             ("哪些地方推行容缺受理？", ""), ("哪些区县聘请了法律顾问？", "区县"),
                                             ("哪些镇街设立了商圈微法庭？", "镇街")])
def test_which_phrases_of_every_level_are_recognised(question, level):
    assert classify(question) == "which" and level_asked(question) == level


def test_levels_named_together_admit_reports_of_either(answerer):
    # 镇街: 坦洲镇 and the three 街道; 区县: 海珠区 alone of the seeds.
    answer = answerer.answer("哪些镇街设立了商圈微法庭？")
    assert issuers(answer) == {"粤海街道"} and "符合条件（镇街）的 4 份报告" in answer.answer
    answer = answerer.answer("哪些区县聘请了法律顾问？")
    assert issuers(answer) == {"海珠区"} and "符合条件（区县）的 1 份报告" in answer.answer


def test_a_level_the_corpus_lacks_is_said_plainly(answerer):
    answer = answerer.answer("哪些省份推行简案快办？")
    assert answer.groups == () and "没有省一级的报告" in answer.answer


@pytest.mark.parametrize("question, year, topic", [
    ("2023年哪些街道设立了商圈微法庭？", 2023, "哪些街道设立了商圈微法庭？"),
    ("哪些地方在2024年度开展了法治宣传", 2024, "哪些地方开展了法治宣传"),
    ("哪些地方2023年和2024年都聘请了法律顾问", None, "哪些地方2023年和2024年都聘请了法律顾问"),
    ("哪些地方自2023年1月起推行容缺受理", None, "哪些地方自2023年1月起推行容缺受理"),
])
def test_the_one_year_a_question_names_scopes_it_and_is_no_topic_word(question, year, topic):
    assert year_named(question) == year and without_year(question) == topic


def test_a_year_named_keeps_to_the_reports_on_that_year(answerer, searcher):
    # 粤海街道's 商圈微法庭 is in its report on 2024; the reports on 2023 hold none, and the
    # words learned for the practice come from the whole corpus, not from what sits nearest in 2023.
    in_2024 = answerer.answer("2024年哪些街道设立了商圈微法庭？")
    assert issuers(in_2024) == {"粤海街道"} and in_2024.filters == {"level": "街道", "year": 2024}
    in_2023 = answerer.answer("2023年哪些街道设立了商圈微法庭？")
    assert in_2023.groups == () and "没有找到" in in_2023.answer and "2023" in in_2023.answer
    assert_quotes_verbatim(searcher, in_2024.citations)


def test_plans_for_a_year_are_read_in_the_reports_on_the_year_before(answerer):
    # Plans for 2024 stand under 下一步安排 of the reports on 2023.
    answer = answerer.answer("哪些地方打算在2024年加强普法？")
    assert answer.kind == "which" and answer.filters == {"year": 2023}
    assert "符合条件（2023）的 3 份报告" in answer.answer


def test_a_year_the_corpus_lacks_is_said_plainly(answerer):
    answer = answerer.answer("2019年哪些地方聘请了法律顾问？")
    assert answer.groups == () and "没有2019年的报告" in answer.answer and "2023" in answer.answer


def test_the_verifier_decides_by_score_floor_and_margin():
    verifier = Verifier(coverage=1, learned=1, done=0, floor=3, margin=1)
    assert verifier.accepts(3.5, best=4.0) and not verifier.accepts(2.9, best=3.0)
    assert not verifier.accepts(3.5, best=5.0)


def test_an_index_without_sentence_vectors_uses_the_lexical_engine(searcher):
    legacy = replace_sentences(searcher, None)
    places = find_places(legacy, "推行“容缺受理”", Filters(), plans_count=False)
    assert {legacy.meta(d)["issuer"] for d, _ in places} == {"粤海街道", "坦洲镇"}


def test_at_scale_the_lexical_bound_reads_postings_and_finds_the_same_places(searcher, monkeypatch):
    # Beyond SUBSTRING_SCAN_CHUNKS a term's chunks come from the BM25 postings, not a scan of
    # every text; on the seeds both ways must list the same places.
    from service.answer import lexical_which

    topic = "开展行政复议"
    exact = [d for d, _ in lexical_which.lexical_places(searcher, topic, Filters())]
    monkeypatch.setattr(lexical_which, "SUBSTRING_SCAN_CHUNKS", 0)
    assert [d for d, _ in lexical_which.lexical_places(searcher, topic, Filters())] == exact
    assert len(exact) >= 2
    term = "行政复议"
    np.testing.assert_array_equal(lexical_which.rows_with_term(searcher, term), searcher.bm25.rows_with(term))
    assert set(searcher.bm25.rows_with(term)) <= set(searcher.chunks.rows_containing(term))


def replace_sentences(searcher, value):
    """A shallow copy of the searcher with other sentence vectors."""
    import copy

    clone = copy.copy(searcher)
    clone.sentences = value
    return clone


def test_mean_f1_on_the_seed_cases_does_not_fall(answerer):
    # A regression guard, not the goal: bench/quality.py prints the figures per split and style.
    scores = []
    for case in SEED_CASES:
        got, want = issuers(answerer.answer(case["q"])), set(case["gold"])
        tp = len(got & want)
        scores.append(1.0 if got == want else (2 * tp / (len(got) + len(want)) if tp else 0.0))
    assert np.mean(scores) >= 0.6


def test_the_lexical_recall_at_scale_keeps_the_best_rows_of_every_report(searcher, monkeypatch):
    # Beyond EXHAUSTIVE_SENTENCES the meaning scan reads at most LEXICAL_ROWS recalled chunks,
    # ROWS_PER_REPORT of each report, best by BM25, rows holding a quoted name before all others.
    from service.answer import meaning

    monkeypatch.setattr(meaning, "LEXICAL_ROWS", 6)
    rows = np.arange(len(searcher.chunks))
    scores = searcher.bm25.scores(["行政复议"])
    named = [searcher.chunks.rows_containing("商圈微法庭")]
    kept = meaning.best_rows_per_report(searcher, rows, scores, named)
    assert len(kept) == 6 and list(kept) == sorted(kept)
    docs = searcher.chunks.doc_rows[kept]
    assert max(np.bincount(docs)) <= meaning.ROWS_PER_REPORT
    assert set(named[0]) & set(kept)  # the quoted name's chunk survives the cut
    for doc in set(docs.tolist()):  # within a report, no dropped row scores above a kept one
        of_doc = rows[searcher.chunks.doc_rows == doc]
        dropped = np.setdiff1d(of_doc, kept)
        kept_here = kept[docs == doc]
        if len(dropped) and not set(named[0]) & set(kept_here):
            assert scores[dropped].max() <= scores[kept_here].min()
    few = np.arange(3)
    assert list(meaning.best_rows_per_report(searcher, few, scores, named)) == [0, 1, 2]  # under the cap: all


def test_a_second_quote_must_show_the_practice_on_its_own(searcher):
    """Each quote of a listed place reaches the floor a place is listed on (or is its best sentence)."""
    from service.answer.which import decide_places, default_verifier, meaning_places, which_scope
    from service.answer.verifier import asks_about_plans
    from service.search import Filters

    verifier = default_verifier()
    for question in ["哪些街道帮外卖骑手、快递小哥维权？", "哪些地方聘请了法律顾问？", "哪些地方在商业区设立了小型法庭？"]:
        filters, topic, _ = which_scope(searcher, question, Filters())
        best = {d.doc_id: d.score for d in decide_places(searcher, topic, filters, asks_about_plans(question))}
        for doc_id, quotes in meaning_places(searcher, topic, filters, asks_about_plans(question)):
            assert quotes[0].score == best[doc_id]
            assert all(q.score >= verifier.floor for q in quotes[1:]), (question, [q.sentence.text[:30] for q in quotes])
    places = dict(meaning_places(searcher, "帮外卖骑手、快递小哥维权", Filters(level="街道"), False))
    cuiyuan = next(d for d, m in searcher.metas().items() if m["issuer"] == "翠苑街道")
    assert not any("行政诉讼" in q.sentence.text for q in places.get(cuiyuan, []))


def test_the_corpus_wording_is_learned_from_sentences_outside_the_problems_part(searcher):
    # A sentence under 存在的问题 names what is lacking (「法治意识还不强」): its words (不够, 不强)
    # are not how the reports describe a practice, so feedback skips it however near it sits.
    from indexer.normalize import normalize
    from indexer.sections import LABEL_PROBLEMS
    from service.answer import meaning

    question = "帮老百姓打官司不收钱"
    vector = searcher.query_vector(normalize(question).text)
    ids, rows, _ = meaning._allowed_sentences(searcher, None, vector)
    order = np.argsort(-meaning.similarities(searcher, vector, ids, rows), kind="stable")
    nearest_labels = [searcher.chunks.label(int(rows[p])) for p in order[: meaning.FEEDBACK_SENTENCES]]
    assert LABEL_PROBLEMS in nearest_labels  # the case this guards: problem sentences sit among the nearest
    chosen = meaning.feedback_positions(searcher, order, rows)
    assert len(chosen) == meaning.FEEDBACK_SENTENCES
    assert all(searcher.chunks.label(int(rows[p])) != LABEL_PROBLEMS for p in chosen)
    assert chosen == [int(p) for p in order if searcher.chunks.label(int(rows[p])) != LABEL_PROBLEMS][: len(chosen)]
    found = meaning.scan(searcher, question, None, vector)
    assert "法律援助" in dict(found.learned_terms)
    assert not {"不够", "不强"} & set(dict(found.learned_terms))
