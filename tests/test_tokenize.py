"""Tokenizer: domain terms stay whole, widths fold, stop words and punctuation go; term mining."""
from __future__ import annotations

import json

import pytest

from indexer.tokenize import Tokenizer, default_stopwords, mine_domain_terms, normalize_text

REPORT = (
    "一年来，我们打造「商圈微法庭」，培育“法律明白人”120名，坚持和发展新时代“枫桥经验”，"
    "推行‘容缺受理’和\"粤执法\"平台，落实“谁执法谁普法”责任制。"
    "全年办结“2023”号文件；宣传“法治是最好的营商环境，我们要久久为功”的理念；"
    "群众评价“好”；参与“i深圳”建设；英文名称“Rule of Law”。"
)


@pytest.fixture(scope="module")
def plain() -> Tokenizer:
    return Tokenizer()


@pytest.fixture(scope="module")
def domain() -> Tokenizer:
    return Tokenizer(["商圈微法庭", "法律明白人", "枫桥经验", "粤执法", "容缺受理", "谁执法谁普法"])


def test_mine_domain_terms_from_quotes():
    # Left out: a number ("2023"), a quoted sentence, one character ("好"), Latin only.
    assert mine_domain_terms([REPORT]) == sorted(
        ["i深圳", "容缺受理", "商圈微法庭", "枫桥经验", "法律明白人", "粤执法", "谁执法谁普法"]
    )


def test_mine_domain_terms_merges_texts_and_folds_width():
    assert mine_domain_terms(["“一照通行”", "再次“一照通行”", "“ＡＢ驿站”"]) == ["ab驿站", "一照通行"]


@pytest.mark.parametrize(
    "term", ["商圈微法庭", "法律明白人", "枫桥经验", "粤执法", "容缺受理", "谁执法谁普法"]
)
def test_domain_term_stays_one_token(plain, domain, term):
    text = f"街道全面推行{term}工作机制"
    assert term in domain.tokens(text)
    assert term not in plain.tokens(text)  # jieba alone splits it, so the dictionary matters


def test_domain_term_also_yields_its_dictionary_subwords(domain):
    tokens = domain.tokens("打造商圈微法庭")
    assert {"商圈微法庭", "商圈", "法庭"} <= set(tokens)


def test_domain_terms_do_not_leak_between_tokenizers(domain):
    assert "粤执法" in domain.tokens("使用粤执法平台")
    assert "粤执法" not in Tokenizer().tokens("使用粤执法平台")


def test_full_and_half_width_tokenize_alike(plain):
    assert plain.tokens("ＡＢＣ１２３") == plain.tokens("abc123") == ["abc123"]
    assert plain.tokens("办结率９９．９％，下降６０％") == plain.tokens("办结率99.9%,下降60%")


def test_numbers_and_percentages_are_kept(plain):
    tokens = plain.tokens("网格事件办结率99.9%，违规入户充电报警同比下降60%，上传服务事项63条，4人持证")
    assert {"99.9%", "60%", "63", "4"} <= set(tokens)


def test_punctuation_whitespace_and_stopwords_are_dropped(plain):
    tokens = plain.tokens("我们的 工作，  以及  “法治”建设！？——")
    assert tokens == ["工作", "法治", "建设"]


def test_domain_numerals_are_not_stopwords(plain):
    assert {"一", "三", "区", "人", "年"}.isdisjoint(default_stopwords())
    assert "的" in default_stopwords() and "我们" in default_stopwords()
    assert "第三" in plain.tokens("排名全市镇街第三")


def test_lowercases_ascii(plain):
    assert plain.tokens("APP 和 WiFi") == ["app", "wifi"]


def test_custom_stopwords(domain):
    tokenizer = Tokenizer(["粤执法"], stopwords=frozenset({"平台"}))
    assert tokenizer.tokens("我们的粤执法平台") == ["我们", "的", "执法", "粤执法"]


def test_to_dict_round_trip_rebuilds_the_same_tokenizer(domain):
    data = json.loads(json.dumps(domain.to_dict(), ensure_ascii=False))
    rebuilt = Tokenizer.from_dict(data)
    assert rebuilt.domain_terms == domain.domain_terms
    assert rebuilt.stopwords == domain.stopwords
    assert rebuilt.tokens(REPORT) == domain.tokens(REPORT)


def test_from_dict_rejects_other_versions(domain):
    data = dict(domain.to_dict(), format_version=2)
    with pytest.raises(ValueError, match="format version 2"):
        Tokenizer.from_dict(data)


def test_domain_term_with_punctuation_is_rejected():
    with pytest.raises(ValueError, match="cannot keep in one word"):
        Tokenizer(["法治 讲堂"])


def test_normalize_text():
    assert normalize_text("ＡＢＣ　１２３％") == "abc 123%"
