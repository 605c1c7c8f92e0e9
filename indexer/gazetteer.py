"""China's administrative divisions from province down to 街道/镇/乡, for reading places out of text."""
from __future__ import annotations

import gzip
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from indexer.errors import IndexerError

DATA_FILE = Path(__file__).resolve().parent / "data" / "gazetteer.tsv.gz"

PROVINCE, CITY, COUNTY, TOWNSHIP = 0, 1, 2, 3


class GazetteerUnavailable(IndexerError):
    """The gazetteer data file is missing or cannot be parsed."""


class Place(NamedTuple):
    """One administrative division: its row in the gazetteer, tier, names and parent row."""

    row: int
    tier: int  # PROVINCE, CITY, COUNTY or TOWNSHIP
    name: str  # full name with suffix: 广东省, 深圳市, 南山区, 粤海街道
    short: str  # short name for tiers 0-2 (广东, 深圳, 南山); "" for townships
    parent: int  # row of the parent place, -1 for provinces

    def to_dict(self) -> dict:
        return {"tier": self.tier, "name": self.name, "short": self.short}


def level_of(place: Place) -> str:
    """The level word for a place: 省 / 市 / 区 / 县 / 街道 / 镇 / 乡, or its own suffix when rarer.

    Province-tier places are 省 (自治区 and 特别行政区 included), except the four
    municipalities (北京市, 上海市, 天津市, 重庆市), which are 市 — the word they use of themselves.
    Rarer suffixes are kept as they are: 州 (自治州), 地区, 盟, 旗, 苏木.
    """
    name = place.name
    if place.tier == PROVINCE:
        return "市" if name.endswith("市") else "省"
    if place.tier == CITY:
        for suffix, level in (("市", "市"), ("自治州", "州"), ("地区", "地区"), ("盟", "盟")):
            if name.endswith(suffix):
                return level
        return ""
    if place.tier == COUNTY:
        for suffix in ("区", "县", "市", "旗"):
            if name.endswith(suffix):
                return suffix
        return ""
    for suffix in ("街道", "镇", "乡", "苏木"):
        if name.endswith(suffix):
            return suffix
    return ""


class Gazetteer:
    """All places, looked up by full name or short name, with their chain of parents."""

    def __init__(self, places: list[Place]):
        self.places = tuple(places)
        by_name: dict[str, list[Place]] = defaultdict(list)
        by_short: dict[str, list[Place]] = defaultdict(list)
        for place in self.places:
            by_name[place.name].append(place)
            if place.short:
                by_short[place.short].append(place)
        self._by_name = dict(by_name)
        self._by_short = dict(by_short)
        lengths: dict[str, set[int]] = defaultdict(set)
        for name in self._by_name:
            lengths[name[0]].add(len(name))
        self._lengths = {k: sorted(v, reverse=True) for k, v in lengths.items()}

    def __len__(self) -> int:
        return len(self.places)

    def named(self, name: str) -> tuple[Place, ...]:
        """Every place with this full name (several 西湖区, 99 城关镇...)."""
        return tuple(self._by_name.get(name, ()))

    def shortly_named(self, short: str) -> tuple[Place, ...]:
        """Every province, city or county with this short name (杭州 -> 杭州市)."""
        return tuple(self._by_short.get(short, ()))

    def parent(self, place: Place) -> Place | None:
        """The place one tier up, or None for a province."""
        return self.places[place.parent] if place.parent >= 0 else None

    def ancestors(self, place: Place) -> list[Place]:
        """Parents from the nearest up to the province."""
        out = []
        current = self.parent(place)
        while current is not None:
            out.append(current)
            current = self.parent(current)
        return out

    def is_ancestor(self, older: Place, place: Place) -> bool:
        """True when `older` contains `place` (not counting the place itself)."""
        return any(a.row == older.row for a in self.ancestors(place))

    def region(self, place: Place) -> tuple[str, str, str]:
        """(province, city, district) for a place; a district-tier place is its own district.

        A municipality (province tier, name ending in 市) is also its own city, as in the
        source data, so that every report in 北京 can be filtered by city 北京市.
        Townships directly under a city without districts (中山市, 东莞市) get district "".
        """
        chain = {a.tier: a.name for a in self.ancestors(place)}
        chain[place.tier] = place.name
        province = chain.get(PROVINCE, "")
        city = chain.get(CITY, "")
        if not city and province.endswith("市"):
            city = province
        return province, city, chain.get(COUNTY, "")

    def find_names(self, text: str, min_length: int = 3) -> list[tuple[int, int, str]]:
        """Full place names in text, scanning left to right and taking the longest at each start.

        Names shorter than min_length are skipped: two-character names (城区, 东区, 和县)
        are ordinary words too often to be read as places in running text.
        """
        found = []
        i = 0
        n = len(text)
        while i < n:
            step = 1
            for length in self._lengths.get(text[i], ()):
                if length < min_length:
                    break
                candidate = text[i:i + length]
                if len(candidate) == length and candidate in self._by_name:
                    found.append((i, i + length, candidate))
                    step = length
                    break
            i += step
        return found


def parse_gazetteer(lines: list[str]) -> Gazetteer:
    """Build a Gazetteer from the rows of the data file (see tools/make_gazetteer.py)."""
    places: list[Place] = []
    make = Place._make
    try:
        for number, line in enumerate(lines, 1):
            if not line or line.startswith("#"):
                continue
            tier, name, short, parent = line.split("\t")
            places.append(make((len(places), int(tier), name, short, int(parent))))
    except ValueError as exc:
        raise GazetteerUnavailable(f"Gazetteer line {number} is malformed: {exc}.") from exc
    count = len(places)
    if any(p.parent >= count or (p.parent < 0 and p.tier != PROVINCE) for p in places):
        raise GazetteerUnavailable("A gazetteer place points to a missing parent.")
    return Gazetteer(places)


@lru_cache(maxsize=4)
def load_gazetteer(path: str | Path | None = None) -> Gazetteer:
    """The bundled gazetteer (cached; loads in about a tenth of a second)."""
    target = Path(path) if path is not None else DATA_FILE
    try:
        with gzip.open(target, "rt", encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise GazetteerUnavailable(f"Cannot read the gazetteer at {target}: {exc}.") from exc
    return parse_gazetteer(lines)
