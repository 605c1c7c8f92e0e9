"""Figures compared across places: 「各地的行政复议案件分别是多少？」, 「哪个地方的法律援助案件最多？」."""
import pytest

from service.answer.across_places import figure_question, numeric
from service.answer.questions import asks_across_places, superlative
from service.answer.answer_types import AnswerType, Value, find_values
from service.answer.facts import direction_of, judge
from service.answer.questions import mentioned_issuers
from tests.conftest import assert_quotes_verbatim


@pytest.mark.parametrize("question, core", [
    ("各地的行政复议案件分别是多少？", "行政复议案件是多少？"),
    ("哪个地方的行政复议案件最多？", "行政复议案件是多少？"),
    ("各镇街的行政诉讼败诉率分别是多少？", "行政诉讼败诉率是多少？"),
    ("哪个街道的普法活动场次最少？", "普法活动场次是多少？"),
    # The verb ranked (办得, 处理得) is how the question ranks, not what the reports say.
    ("哪个地方的执法案件办得最多？", "执法案件是多少？"),
    ("哪里的行政复议案件处理得最多", "行政复议案件是多少？"),
    ("哪里的行政复议案件处理得最少？", "行政复议案件是多少？"),
    ("哪个地方的案件审结得最慢？", "案件是多少？"),
])
def test_the_words_that_spread_or_rank_a_question_are_not_its_topic(question, core):
    assert figure_question(question) == core


@pytest.mark.parametrize("question, expected", [
    ("哪个地方的法律援助案件最多？", "most"),
    ("哪个省份的地区生产总值增长最快？", "most"),
    ("哪个街道的败诉率最低？", "least"),
    ("哪些地方推行了最多跑一次改革？", ""),  # a reform's name, not a ranking
    ("哪些地方与最高人民法院合作？", ""),
    ("哪些地方落实了最低生活保障？", ""),
    ("哪些地方最大限度减少执法扰企？", ""),
])
def test_superlatives_and_the_set_phrases_that_look_like_them(question, expected):
    assert superlative(question) == expected


def test_which_questions_about_practices_are_not_figures():
    assert asks_across_places("各地的行政复议案件分别是多少？")
    assert not asks_across_places("哪些地方推行了最多跑一次改革？")
    assert not asks_across_places("哪些地方设立了商圈微法庭？")


@pytest.mark.parametrize("text, number", [
    ("1298件", 1298.0), ("2.5万人次", 25000.0), ("九个", 9.0), ("十二项", 12.0), ("57%", 57.0), ("1,200宗", 1200.0),
])
def test_numeric_reads_the_number_a_value_states(text, number):
    assert numeric(Value("count", text, 0, len(text))) == number


def test_a_unit_word_alone_is_no_count():
    assert [v.text for v in find_values("打造“千人千页”智能服务，惠及百姓", {"count"})] == []
    assert [v.text for v in find_values("开展十次培训，走访九个社区", {"count"})] == ["十次", "九个"]


def test_a_short_place_name_inside_another_word_names_no_place():
    issuers = ["增城区", "翠苑街道", "坦洲镇"]
    assert mentioned_issuers(issuers, "各省份新增城镇就业多少万人？") == []
    assert mentioned_issuers(issuers, "增城的法律援助案件有多少件？") == ["增城区"]
    assert mentioned_issuers(issuers, "翠苑呢？") == ["翠苑街道"]


def test_a_change_asked_about_must_be_the_change_stated():
    assert direction_of("地区生产总值增长了多少？") == "up"
    assert direction_of("能耗下降了多少？") == "down"
    assert direction_of("增长还是下降了多少？") == ""
    terms = [("地区生产总值", 5.0, ())]
    asked = AnswerType("rate", frozenset({"rate"}))
    fell = "预计单位地区生产总值能耗较2020年下降11.7%"
    grew = "地区生产总值增长6.3%"
    value_fell = find_values(fell, {"rate"})[0]
    value_grew = find_values(grew, {"rate"})[0]
    assert judge(fell, value_fell, terms, asked, "", "up") is None
    assert judge(fell, value_fell, terms, asked, "", "down") is not None
    assert judge(grew, value_grew, terms, asked, "", "up") is not None


def test_the_place_with_the_most_legal_aid_cases(answerer, searcher):
    answer = answerer.answer("哪个地方的法律援助案件最多？")
    assert answer.kind == "figures"
    # 海珠区「提供法律援助1298件」 (件 counts the 案件 asked about), 坦洲镇「受理法律援助案件7宗」.
    assert [g.issuer for g in answer.groups] == ["海珠区", "坦洲镇"]
    assert "海珠区最多" in answer.answer and "1298件" in answer.answer and "其余 3 份报告没有写明" in answer.answer
    assert_quotes_verbatim(searcher, answer.citations)


def test_each_places_figure_and_only_figures_about_the_topic(answerer, searcher):
    answer = answerer.answer("各地的行政复议案件分别是多少？")
    assert answer.kind == "figures"
    # Not 粤海街道's 「增加一名党委委员」 beside 「执法复议」 and 「案件审理」: 行政复议 must stand whole by the value.
    assert {g.issuer for g in answer.groups} == {"翠苑街道", "海珠区"}
    assert answer.answer.startswith("在已收录的 5 份报告中，2 个地方写明了行政复议案件的数量")
    assert_quotes_verbatim(searcher, answer.citations)


def test_a_ranked_verb_finds_the_figures_of_its_noun(answerer, searcher):
    answer = answerer.answer("哪里的行政复议案件处理得最多？")
    assert answer.kind == "figures"
    assert [g.issuer for g in answer.groups] == ["海珠区", "翠苑街道"]
    assert "418宗" in answer.answer and "43件" in answer.answer
    assert_quotes_verbatim(searcher, answer.citations)
    fewest = answerer.answer("哪里的行政复议案件处理得最少？")
    assert [g.issuer for g in fewest.groups] == ["翠苑街道", "海珠区"] and "翠苑街道最少" in fewest.answer


def test_a_counted_noun_is_counted_by_its_own_classifier(answerer):
    # 案件 is counted in 件/宗/起: 粤海街道's 「增加一名党委委员」 and 「集体讨论会4次」 are no case counts.
    answer = answerer.answer("哪个地方的执法案件办得最多？")
    assert answer.kind == "figures" and answer.groups
    assert "粤海街道" not in {g.issuer for g in answer.groups}
    assert "一名党委委员" not in answer.answer and "讨论案件7起" in answer.answer  # 7起, not 4次
    assert answer.answer.startswith("在已收录的 5 份报告中") and "海珠区最多" in answer.answer
    # 天水郡街道's 「累计受理答复各类转办案件246件」 counts cases, but none of 执法案件.
    assert "天水郡街道" not in {g.issuer for g in answer.groups} and "246件" not in answer.answer


def test_a_case_count_is_not_a_count_of_rooms_or_streets(answerer):
    # 件 stands beside 个 and 条 for documents, but 案件 are counted in 件, 宗 or 起:
    # not 「九个社区人民调解室」, 「人民调解组织共有13个」 or 「18条街道」.
    answer = answerer.answer("各地的人民调解案件分别有多少？")
    assert answer.kind == "figures" and "825件" in answer.answer
    assert not any(word in answer.answer for word in ("13个", "18条", "九个"))


def test_a_level_scopes_the_comparison_and_none_is_said_plainly(answerer):
    answer = answerer.answer("哪个街道办理的法律援助案件最多？")
    assert answer.kind == "figures" and answer.groups == ()
    assert answer.filters.get("level") == "街道"
    assert answer.answer.startswith("符合条件（街道）的 3 份报告都没有写明")


def test_a_reform_named_with_a_superlative_stays_a_which_question(answerer):
    assert answerer.answer("哪些地方推行了最多跑一次改革？").kind == "which"


def test_kinds_are_not_places():
    from service.answer.questions import level_of_places as level_of

    assert not asks_across_places("各类纠纷有多少？")  # 各类 spreads over kinds
    assert figure_question("各类案件各地分别有多少？") == "各类案件有多少？"
    assert level_of("各街道的人民调解组织有多少个？") == "街道" and level_of("各地的案件") == ""


def test_a_cut_list_of_reports_is_said_so(searcher, monkeypatch):
    from service.answer import across_places
    from service.search import Filters

    monkeypatch.setattr(across_places, "MAX_REPORTS", 1)
    text, groups, _ = across_places.answer_across(searcher, "哪个地方的法律援助案件最多？", Filters())
    assert len(groups) <= 1 and "只查看了最常提到“法律援助”的 1 份报告" in text
