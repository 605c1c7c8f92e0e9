"""Typed facts: answer types read from questions, typed values found in sentences, answers checked on the corpus."""
import pytest

from service.answer.answer_types import AnswerType, expected_type, find_values, units_compatible
from service.answer.facts import answer_fact, judge
from service.search import Filters
from tests.conftest import assert_quotes_verbatim


@pytest.mark.parametrize(
    "question, kind, unit",
    [
        ("海珠区提供法律援助多少件？", "count", "件"),
        ("坦洲镇推行简案快办办了多少宗？", "count", "宗"),
        ("翠苑街道有几人持有法律职业资格证？", "count", "人"),
        ("海珠区的行政诉讼败诉率是多少？", "rate", ""),
        ("调解案件占比百分之几？", "rate", ""),
        ("翠苑街道的处罚金额合计多少万元？", "amount", ""),
        ("粤海街道的报告是什么时候写的？", "date", ""),
        ("黄姑山社区食堂哪一年落地？", "date", ""),
        ("翠苑街道请的是哪家律师事务所？", "name", ""),
        ("粤海街道和哪个法院成立了商圈微法庭？", "name", ""),
        ("翠苑街道的人民调解组织包括哪些？", "list", ""),
        ("How many legal aid cases did Haizhu handle?", "count", ""),
        ("What is the losing rate of administrative lawsuits?", "rate", ""),
        ("How much money was spent on legal aid?", "amount", ""),
        ("When was the report signed?", "date", ""),
        ("Who is the name of the law firm?", "name", ""),
    ],
)
def test_expected_type(question, kind, unit):
    asked = expected_type(question)
    assert asked is not None and asked.kind == kind and asked.unit == unit


def test_a_question_without_a_wanted_value_has_no_type():
    assert expected_type("海珠区如何推进普法？") is None


def test_a_bare_how_much_may_be_answered_by_a_share():
    assert expected_type("粤海街道违规入户充电报警下降了多少？").accepts == {"rate"}
    assert expected_type("海珠区法律援助有多少？").accepts == {"count", "rate"}


@pytest.mark.parametrize(
    "text, kind, value, unit",
    [
        ("提供法律援助1298件。", "count", "1298件", "件"),
        ("组织34名行政执法人员参加考试", "count", "34名", "名"),
        ("健全九个社区人民调解室", "count", "九个", "个"),
        ("累计培训人员1000人次", "count", "1000人次", "人次"),
        ("全区公开发布政府信息超1.1万条", "count", "1.1万条", "条"),
        ("开展各类法制宣传活动80余场次", "count", "80余场次", "场次"),
        ("败诉4件，败诉率57%。", "rate", "57%", ""),
        ("一次性化解率97.65%", "rate", "97.65%", ""),
        ("覆盖率达到百分之九十五", "rate", "百分之九十五", ""),
        ("企业设立网办率超95％", "rate", "95％", ""),
        ("处罚金额合计140905元", "amount", "140905元", "元"),
        ("投入资金三十万元", "amount", "三十万元", "元"),
        ("2024年11月21日", "date", "2024年11月21日", ""),
        ("并自2022年11月起，与浙江金道律所签约", "date", "2022年11月", ""),
        ("在2024年12月底正式落地", "date", "2024年12月底", ""),
        ("于3月15日召开会议", "date", "3月15日", ""),
    ],
)
def test_find_values(text, kind, value, unit):
    found = [v for v in find_values(text) if v.kind == kind]
    assert [v.text for v in found] == [value]
    assert text[found[0].start : found[0].end] == value and found[0].unit == unit


def test_dates_claim_their_digits_before_counts():
    values = find_values("2023年共发布各类信息2481条")
    assert [(v.kind, v.text) for v in values] == [("date", "2023年"), ("count", "2481条")]


def test_numerals_inside_fixed_expressions_and_ordinals_are_not_counts():
    assert not find_values("大力推行“一件事一次办”，完成第三批培育", {"count"})
    assert [v.text for v in find_values("招录一名专职法制员", {"count"})] == ["一名"]


def test_names_start_after_the_joining_word():
    names = [v.text for v in find_values("粤海街道与南山区人民法院对接成立“商圈微法庭”", {"name"})]
    assert "南山区人民法院" in names and "商圈微法庭" in names


def test_units_compatible():
    assert units_compatible("宗", "件") and units_compatible("人", "人次") and units_compatible("", "项")
    assert not units_compatible("人", "件")
    assert units_compatible("个", "名") and units_compatible("个", "项")  # 个 goes with any noun in speech
    assert not units_compatible("个", "小时")
    assert not AnswerType("count", frozenset({"count"}), "件", implied=True).counts("个")


def _assert_verbatim(searcher, groups):
    assert_quotes_verbatim(searcher, [c for group in groups for c in group.citations])


@pytest.mark.parametrize(
    "question, issuer, value",
    [
        ("翠苑街道行政诉讼败诉率是多少？", "翠苑街道", "57%"),
        ("翠苑街道行政复议案件调撤了多少件？", "翠苑街道", "7件"),
        ("坦洲镇推行简案快办办了多少宗？", "坦洲镇", "37宗"),
        ("海珠区提供法律援助多少件？", "海珠区", "1298件"),
        ("天水郡街道12345热线转办案件受理答复了多少件？", "天水郡街道", "246件"),
        ("翠苑街道的行政处罚金额合计多少元？", "翠苑街道", "140905元"),
        ("粤海街道的报告是什么时候写的？", "粤海街道", "2024年11月21日"),
        ("翠苑街道什么时候开始和金道律所签约的？", "翠苑街道", "2022年11月"),
        ("粤海街道和哪个法院一起成立了商圈微法庭？", "粤海街道", "南山区人民法院"),
    ],
)
def test_answerable_facts_quote_the_value(searcher, question, issuer, value):
    text, groups = answer_fact(searcher, question, Filters())
    assert len(groups) == 1 and groups[0].issuer == issuer
    assert value in groups[0].citations[0].quote and value in text
    _assert_verbatim(searcher, groups)


def test_a_place_not_named_is_found_by_the_fact(searcher):
    text, groups = answer_fact(searcher, "黄姑山社区食堂什么时候落地的？", Filters())
    assert [g.issuer for g in groups] == ["翠苑街道"] and "2024年12月底" in text
    _assert_verbatim(searcher, groups)


@pytest.mark.parametrize(
    "question, said",
    [
        ("海珠区的行政诉讼败诉率是多少？", "海珠区的报告没有写明行政诉讼败诉率。"),  # 出庭应诉率 is another rate
        ("粤海街道2024年行政复议案件有多少件？", "粤海街道的报告没有写明2024年行政复议案件的数量。"),
        ("坦洲镇的行政复议案件有多少件？", "坦洲镇的报告没有写明"),  # 非现场执法案件 is another count
        ("天水郡街道的报告是什么时候写的？", "天水郡街道的报告没有写明报告的成文日期。"),  # no date line
        ("坦洲镇的报告是哪天写的？", "坦洲镇的报告没有写明报告的成文日期。"),  # was 「…没有写明报告是写的时间。」
        ("坦洲镇这份报告的落款日期是哪天？", "坦洲镇的报告没有写明报告的成文日期。"),
        ("海珠区处罚金额一共多少万元？", "海珠区的报告没有写明"),
    ],
)
def test_unstated_facts_are_said_so_and_cite_nothing(searcher, question, said):
    text, groups = answer_fact(searcher, question, Filters())
    assert groups == [] and text.startswith(said)


def test_the_answerer_keeps_related_passages_when_the_fact_is_unstated(answerer, searcher):
    answer = answerer.answer("海珠区的行政诉讼败诉率是多少？")
    assert answer.kind == "fact" and answer.groups == () and "没有写明" in answer.answer
    assert answer.hits and not answer.citations


def test_two_places_each_get_their_own_answer(searcher):
    text, groups = answer_fact(searcher, "翠苑街道和海珠区的行政诉讼败诉率分别是多少？", Filters())
    assert [g.issuer for g in groups] == ["翠苑街道"] and "57%" in text
    assert "海珠区的报告没有写明" in text
    _assert_verbatim(searcher, groups)


def test_a_name_no_report_gives_says_so_in_one_clean_sentence(answerer):
    answer = answerer.answer("谁把调解室开到了商场里？")
    assert answer.groups == ()
    assert answer.answer.startswith("已检索的报告都没有写明") and "的报告的报告" not in answer.answer


@pytest.mark.parametrize(
    "question, issuer, value",
    [
        ("海珠区处理了多少件群众信访？", "海珠区", "6441件"),  # 办理信访事项6441件
        ("坦洲镇2023年抽查了多少宗执法案卷？", "坦洲镇", "30宗"),  # 抽取行政执法案卷30宗
        ("坦洲镇有多少件事项可以跨地区办理？", "坦洲镇", "277件"),  # 277件事项“跨域通办”
    ],
)
def test_a_fact_worded_otherwise_is_found_by_meaning(searcher, question, issuer, value):
    text, groups = answer_fact(searcher, question, Filters())
    assert [g.issuer for g in groups] == [issuer]
    assert value in groups[0].citations[0].quote and value in text
    _assert_verbatim(searcher, groups)


def test_without_meaning_the_same_facts_are_not_found(searcher, monkeypatch):
    """The rescue is what finds them: with it switched off the report 'does not state' them."""
    from service.answer import facts

    monkeypatch.setattr(facts, "RESCUE_STANDING", float("inf"))
    text, groups = answer_fact(searcher, "海珠区处理了多少件群众信访？", Filters())
    assert groups == [] and "没有写明" in text


@pytest.mark.parametrize(
    "question",
    ["坦洲镇聘请了多少名政府法律顾问？", "天水郡街道办理了多少件行政复议案件？", "粤海街道的人民调解成功率是多少？"],
)
def test_meaning_does_not_answer_what_the_report_never_states(searcher, question):
    text, groups = answer_fact(searcher, question, Filters())
    assert groups == [] and "没有写明" in text


def test_standing_is_measured_against_the_reports_own_sentences(searcher):
    import numpy as np

    from indexer.normalize import normalize
    from service.answer.facts import report_sentences
    from service.answer.standing import standings

    doc_id = next(d for d, m in searcher.metas().items() if m["issuer"] == "海珠区")
    refs = report_sentences(searcher, doc_id)
    stand = standings(searcher, refs, searcher.query_vector(normalize("处理了群众信访").text))
    values = np.array(list(stand.values()))
    assert abs(values.mean()) < 1e-4 and abs(values.std() - 1) < 1e-4
    best = max(stand, key=stand.get)
    assert "信访" in next(r.text for r in refs if (r.row, r.index) == best)
    assert standings(searcher, refs[:3], searcher.query_vector("信访")) == {}


@pytest.mark.parametrize("question, topic", [
    ("翠苑街道一年调解了多少纠纷？", "调解了 纠纷"),  # 一年 was a topic term, and the rarest one
    ("翠苑街道每年调解多少件纠纷？", "调解 纠纷"),
    ("海珠区2024年提供法律援助多少件？", "提供法律援助"),
    ("坦洲镇近一年来受理了多少宗行政复议？", "受理了 行政复议"),
    # A follow-up's time shift with no year to start from reads 「上一年」 (conversation.py).
    ("海珠区上一年人民调解案件受理了多少宗？", "人民调解案件受理了"),
    ("坦洲镇前年受理了多少宗行政复议？", "受理了 行政复议"),
])
def test_the_span_of_time_a_question_counts_over_is_not_its_topic(question, topic):
    from service.answer.facts import topic_text

    assert topic_text(question, ["翠苑街道", "海珠区", "坦洲镇"]) == topic


def test_the_sentence_before_a_figure_may_name_what_it_counts():
    # 坦洲镇: 「建立健全以镇人民调解委员会为纽带…体系」 then 「…各级调委会共受理民间纠纷案件570宗」.
    before = "建立健全以镇人民调解委员会为纽带、村(社区)调委会为基础的立体防范调处体系"
    text = "2023年坦洲镇各级调委会共受理民间纠纷案件570宗,调结465宗"
    terms = [("人民调解", 4.0, ()), ("受理", 3.0, ())]
    asked = AnswerType("count", frozenset({"count"}), "宗")
    value = find_values(text, {"count"})[0]
    alone = judge(text, value, terms, asked, "")
    with_before = judge(text, value, terms, asked, "", before=before)
    assert alone[0] == pytest.approx(3 / 7)
    assert with_before[0] == pytest.approx((3 + 0.5 * 4) / 7)
    assert with_before[1] == pytest.approx(3 / 7)  # only what the value's own clause holds is near
    assert judge(text, value, terms, asked, "", before="开展法治宣传活动")[0] == pytest.approx(3 / 7)


def test_a_one_character_verb_tells_two_figures_of_a_sentence_apart(searcher):
    # 翠苑街道: 「全年行政复议案件发案43件,调撤7件,调撤率16%,复议结案数34件」: 结了 asks for 结案, not 发案.
    answer, groups = answer_fact(searcher, "翠苑街道去年复议案件结了多少件？", Filters())
    assert groups and "34件" in answer and answer.rstrip("。").split("，")[-1].startswith("复议结案数34件")
    answer, _ = answer_fact(searcher, "翠苑街道的复议案件有多少件？", Filters())
    assert "发案43件" in answer and "结案数34件" not in answer


def test_a_count_asked_in_ge_takes_the_reports_own_counting_word(searcher):
    # 坦洲镇: 「每个村（社区）新培育2名“法律明白人”」; 个 is how people ask, 名 how the report counts.
    answer, groups = answer_fact(searcher, "坦洲镇有多少个法律明白人？", Filters())
    assert groups and "2名“法律明白人”" in answer
    # 个 counts things, never hours: not 「律师服务时长9218小时」.
    answer, _ = answer_fact(searcher, "海珠区有多少个公共法律服务工作站？", Filters())
    assert "9218小时" not in answer


def test_a_count_of_cases_answers_a_question_about_disputes(searcher):
    # 翠苑街道: 「2024年，人民调解案件数共计825件」: the question says 纠纷, the report 案件.
    answer, groups = answer_fact(searcher, "翠苑街道一年调解了多少纠纷？", Filters())
    assert groups and "825件" in answer and "825件" in groups[0].citations[0].quote
    _assert_verbatim(searcher, groups)
    # A count of something else (法律援助1298件) does not answer for 投诉, and a count of cases is
    # no answer when the rest of the topic (受理) is not beside it.
    answer, groups = answer_fact(searcher, "海珠区受理了多少件投诉？", Filters())
    assert groups == [] and "1298件" not in answer


def test_a_verb_and_its_object_split_by_the_question_words_are_one_term(searcher):
    from service.answer.facts import topic_text

    assert topic_text("翠苑街道今年立了多少件案？", ["翠苑街道"]) == "立案"
    assert topic_text("翠苑街道一年调解了多少纠纷？", ["翠苑街道"]) == "调解了 纠纷"  # two-character words stay
    answer, groups = answer_fact(searcher, "翠苑街道今年立了多少件案？", Filters())
    assert groups and "357件" in answer  # 「今年以来共立案357件」


def test_places_named_in_pinyin_are_the_places_of_the_reports():
    from service.answer.questions import mentioned_issuers, strip_names

    issuers = ["翠苑街道", "海珠区", "粤海街道", "天水郡街道", "坦洲镇", "六安市"]
    assert mentioned_issuers(issuers, "What is the loss rate of Cuiyuan Subdistrict?") == ["翠苑街道"]
    assert mentioned_issuers(issuers, "How many cases in Tan Zhou town and in Haizhu's district?") == ["海珠区", "坦洲镇"]
    assert mentioned_issuers(issuers, "Which places hired lawyers? Plan a yuan budget.") == []  # no name in plain words
    assert mentioned_issuers(issuers, "an Lu An city report") == ["六安市"]  # pypinyin reads place names (lu an)
    assert strip_names("How many cases did Cuiyuan Subdistrict handle?", ["翠苑街道"]) == "How many cases did handle?"


def test_an_english_fact_question_is_answered_by_meaning_or_said_unstated(searcher):
    # 「行政诉讼案件发案8件，结案7件，败诉4件，败诉率57%」: no word of the question is the report's.
    answer, groups = answer_fact(searcher, "What is the administrative litigation loss rate of Cuiyuan Subdistrict?", Filters())
    assert [g.issuer for g in groups] == ["翠苑街道"] and "57%" in groups[0].citations[0].quote
    assert "57%" in answer and answer.endswith("请以引文为准。）")
    _assert_verbatim(searcher, groups)
    answer, groups = answer_fact(searcher, "When was the Yuehai Subdistrict report written?", Filters())
    assert "2024年11月21日" in answer
    # 海珠区 states no loss rate (only 出庭应诉率): said so, in a sentence that names what was asked.
    answer, groups = answer_fact(searcher, "What is the administrative litigation loss rate of Haizhu District?", Filters())
    assert groups == [] and answer.startswith("海珠区的报告没有写明所问的比率") and "loss rate" in answer
