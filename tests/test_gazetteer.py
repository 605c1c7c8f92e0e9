"""Tests for the bundled gazetteer and the tool that derives it."""
from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from indexer.gazetteer import (
    COUNTY,
    DATA_FILE,
    PROVINCE,
    TOWNSHIP,
    GazetteerUnavailable,
    Place,
    level_of,
    load_gazetteer,
    parse_gazetteer,
)
from tests.conftest import SHARED

ROOT = Path(__file__).resolve().parent.parent
SOURCE_ZIP = SHARED / "ext" / "lexicon" / "jionlp" / "china_location.zip"


def _tool():
    spec = importlib.util.spec_from_file_location("make_gazetteer", ROOT / "tools" / "make_gazetteer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gaz():
    return load_gazetteer()


def _one(gaz, name, inside=""):
    places = [p for p in gaz.named(name) if not inside or any(a.name == inside for a in gaz.ancestors(p))]
    assert len(places) == 1, (name, inside, places)
    return places[0]


def test_data_file_is_small_and_loads_fast():
    assert DATA_FILE.stat().st_size < 3_000_000
    started = time.perf_counter()
    fresh = load_gazetteer.__wrapped__()
    assert time.perf_counter() - started < 1.0
    tiers = [sum(1 for p in fresh.places if p.tier == t) for t in range(4)]
    assert tiers[PROVINCE] == 34
    assert 300 < tiers[1] < 400
    assert 2800 < tiers[COUNTY] < 3200
    assert tiers[TOWNSHIP] > 38000


def test_load_is_cached(gaz):
    assert load_gazetteer() is gaz


@pytest.mark.parametrize(
    "name, inside, region",
    [
        ("粤海街道", "", ("广东省", "深圳市", "南山区")),
        ("天水郡街道", "", ("甘肃省", "天水市", "秦州区")),
        ("翠苑街道", "", ("浙江省", "杭州市", "西湖区")),
        ("坦洲镇", "", ("广东省", "中山市", "")),  # 中山市 has no districts
        ("海珠区", "", ("广东省", "广州市", "海珠区")),  # a district is its own district
        ("济源市", "", ("河南省", "济源市", "")),  # under 省直辖行政区划: promoted to city tier
        ("西湖区", "南昌市", ("江西省", "南昌市", "西湖区")),
        ("西湖区", "杭州市", ("浙江省", "杭州市", "西湖区")),
        ("广东省", "", ("广东省", "", "")),
    ],
)
def test_region(gaz, name, inside, region):
    assert gaz.region(_one(gaz, name, inside)) == region


def test_municipality_is_its_own_city(gaz):
    province = [p for p in gaz.named("北京市") if p.tier == PROVINCE][0]
    assert gaz.region(province) == ("北京市", "北京市", "")
    haidian = _one(gaz, "海淀区")
    assert gaz.region(haidian) == ("北京市", "北京市", "海淀区")


def test_pseudo_levels_are_gone(gaz):
    assert not gaz.named("市直辖行政区划")
    assert not gaz.named("省直辖行政区划")


def test_same_name_in_two_cities(gaz):
    cities = sorted(gaz.parent(p).name for p in gaz.named("西湖区"))
    assert cities == ["南昌市", "杭州市"]
    assert len(gaz.named("城关镇")) > 50


def test_short_names(gaz):
    assert [p.name for p in gaz.shortly_named("杭州")] == ["杭州市"]
    assert "秦州区" in {p.name for p in gaz.shortly_named("秦州")}


@pytest.mark.parametrize(
    "name, inside, level",
    [
        ("广东省", "", "省"),
        ("广西壮族自治区", "", "省"),
        ("深圳市", "", "市"),
        ("延边朝鲜族自治州", "", "州"),
        ("南山区", "深圳市", "区"),
        ("沛县", "", "县"),
        ("昆山市", "", "市"),
        ("粤海街道", "", "街道"),
        ("坦洲镇", "", "镇"),
    ],
)
def test_level_of(gaz, name, inside, level):
    assert level_of(_one(gaz, name, inside)) == level


def test_municipality_level_is_city(gaz):
    assert {level_of(p) for p in gaz.named("上海市")} == {"市"}


def test_find_names_longest_leftmost(gaz):
    text = "广州市海珠区、天水郡街道和城区"
    assert gaz.find_names(text) == [(0, 3, "广州市"), (3, 6, "海珠区"), (7, 12, "天水郡街道")]
    assert (13, 15, "城区") in gaz.find_names(text, min_length=2)


def test_find_names_on_empty_and_foreign_text(gaz):
    assert gaz.find_names("") == []
    assert gaz.find_names("no places here, 没有地名。") == []


def test_parse_rejects_malformed_rows():
    with pytest.raises(GazetteerUnavailable, match="line 2"):
        parse_gazetteer(["# header", "0\t广东省\t广东"])
    with pytest.raises(GazetteerUnavailable, match="missing parent"):
        parse_gazetteer(["0\t广东省\t广东\t-1", "1\t深圳市\t深圳\t7"])


def test_missing_file_raises(tmp_path):
    with pytest.raises(GazetteerUnavailable, match="Cannot read"):
        load_gazetteer(tmp_path / "nope.tsv.gz")


def test_parse_small_table():
    gaz = parse_gazetteer(["0\t甲省\t甲\t-1", "1\t乙市\t乙\t0", "3\t丙镇\t\t1"])
    town = gaz.named("丙镇")[0]
    assert town == Place(2, TOWNSHIP, "丙镇", "", 1)
    assert gaz.region(town) == ("甲省", "乙市", "")
    assert [a.name for a in gaz.ancestors(town)] == ["乙市", "甲省"]


def test_tool_derivation_rules():
    lines = [
        "甲省\t100000\t甲",
        "\t乙市\t100100\t乙",
        "\t\t市直辖行政区划\t100100\t市直辖",
        "\t\t\t丙镇",
        "\t\t\t\t丁村",
        "\t\t\t戊农场",
        "\t\t丙区\t100101\t丙",
        "\t\t\t己街道\r",
        "\t\t高新技术开发区\t100171\t高新",
        "\t\t\t庚街道",
        "\t省直辖行政区划\t109000\t省直辖",
        "\t\t辛市\t109001\t辛",
        "\t\t\t壬乡",
    ]
    rows = _tool().derive_rows(lines)
    assert rows == [
        (0, "甲省", "甲", -1),
        (1, "乙市", "乙", 0),
        (3, "丙镇", "", 1),  # township under a pseudo county hangs on the city
        (2, "丙区", "丙", 1),
        (3, "己街道", "", 3),
        (1, "辛市", "辛", 0),  # county-level city under 省直辖 becomes a city
        (3, "壬乡", "", 5),
    ]


@pytest.mark.skipif(not SOURCE_ZIP.exists(),
                    reason=f"../shared is not beside this checkout; the tool's test reads {SOURCE_ZIP}.")
def test_tool_reproduces_bundled_file(tmp_path):
    out = tmp_path / "g.tsv.gz"
    assert _tool().main(["--source", str(SOURCE_ZIP), "--out", str(out)]) == 0
    assert out.read_bytes() == DATA_FILE.read_bytes()
