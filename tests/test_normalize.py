"""Normalisation rules, each with the way back to the published text."""
import pytest

from indexer.normalize import MOJIBAKE_MARK, find_mojibake, normalize
from tests.conftest import CORPUS, DOC_HAIZHU, DOC_CUIYUAN


def test_traditional_becomes_simplified_and_maps_back():
    norm = normalize("建成區憲法主題公園")
    assert norm.text == "建成区宪法主题公园"
    start = norm.text.index("宪法主题公园")
    assert norm.original_slice(start, start + 6) == "憲法主題公園"


@pytest.mark.parametrize(
    "published, expected",
    [("區(qū)", "区"), ("領(lǐng)導(dǎo)", "领导"), ("法治建設(shè)", "法治建设"), ("第(1)条", "第（1）条"), ("第(a)项", "第（a）项")],
)
def test_pinyin_annotations_are_removed_but_other_brackets_stay(published, expected):
    assert normalize(published).text == expected


def test_web_debris_lines_are_dropped():
    norm = normalize("![]() |\n|\n2024年,翠苑街道积极推进法治政府建设。\n")
    assert norm.text == "2024年，翠苑街道积极推进法治政府建设。\n"
    assert norm.original_slice(0, 5) == "2024年"


def test_full_width_letters_and_digits_fold_and_half_width_punctuation_unifies():
    assert normalize("ＡＢＣ１２３％").text == "ABC123%"
    assert normalize("街道,社区;居民:是否?").text == "街道，社区；居民：是否？"
    assert normalize("version 1.5, ok").text == "version 1.5, ok"


def test_mojibake_in_the_traditional_report_is_marked_not_indexed():
    published = (CORPUS / f"{DOC_HAIZHU}.txt").read_text(encoding="utf-8")
    norm = normalize(published)
    assert [p.kind for p in norm.problems] == ["mojibake"] * 4
    assert "靶戮" not in norm.text and "欤醪" not in norm.text
    assert norm.text.count(MOJIBAKE_MARK) == 4
    for problem in norm.problems:
        assert published[problem.start : problem.end] == problem.text
    assert "打造“法治夜" + MOJIBAKE_MARK + "形态劳动者普法宣传基地" in norm.text


def test_a_question_mark_in_ordinary_text_is_not_mojibake():
    assert find_mojibake("是否依法行政?") == []
    assert normalize("是否依法行政?\n").problems == ()


def test_offsets_cover_every_character_and_are_monotonic():
    published = (CORPUS / f"{DOC_CUIYUAN}.txt").read_text(encoding="utf-8")
    norm = normalize(published)
    assert len(norm.offsets) == len(norm.text) + 1
    assert all(a < b for a, b in zip(norm.offsets, norm.offsets[1:]))
    assert norm.offsets[-1] == len(published)


def test_empty_and_odd_unicode_do_not_fail():
    assert normalize("").text == ""
    norm = normalize("\u200b\ufeff法治\U0001F600\n\r\n")
    assert "法治" in norm.text
