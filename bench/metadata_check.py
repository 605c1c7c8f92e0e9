"""Metadata read from real documents against gold set by hand: province, city and year right.

    .venv/bin/python bench/metadata_check.py

Four sets, side by side: the seeds (corpus/), the 31 provincial government work reports
(../shared/ext/prov31-gwr), 143 city government work reports (../shared/ext/cities143-gwr,
evaluation only: no rule was tuned on it) and the State Council's reports
(../shared/ext/national-gwr). Each report is read as the indexer reads it (sources.read_source,
normalize) with the file name as its only hint; the national reports, which come as jsonl,
get their record's title as the source page title.

Gold:
- seeds: the table in corpus/README.md.
- prov31: the province named in the file name (2025年广西政府工作报告 -> 广西壮族自治区); city
  "" except for the four municipalities, which are their own city; year reviewed 2024 (every
  file is a 2025 report whose first part is 「2024年工作回顾」 or 「过去一年」).
- cities143: the city named by the file (its prefecture-level place in the gazetteer; the
  four municipalities are province and city at once); year reviewed 2023; except the reports
  listed in CITY_EXCEPTIONS, found by reading them.
- national: every 政府工作报告 record (not the NPC's resolutions on them): issuer 国务院,
  level 国家, no province or city.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.gazetteer import CITY, PROVINCE, Gazetteer, load_gazetteer
from indexer.metadata import extract_metadata
from indexer.normalize import normalize
from indexer.records import ReportMeta, SourceHints
from indexer.sources import read_source

EXT = ROOT.parent / "shared" / "ext"
NATIONAL = ("国家", "", "")  # (level, province, city) of a State Council report

# Reports in cities143 that are not what their file name says, found by reading their text.
CITY_EXCEPTIONS: dict[str, tuple[tuple[str, str] | None, int, str]] = {
    # stem: ((province, city) or None for the national report, year reviewed, why)
    "台州": (None, 2023, "the State Council's 2024 report (我代表国务院; same bytes as 襄阳, 贵阳)"),
    "襄阳": (None, 2023, "the State Council's 2024 report (我代表国务院)"),
    "贵阳": (None, 2023, "the State Council's 2024 report (我代表国务院)"),
    "黄山": (("安徽省", "黄山市"), 2023, "the report of 黄山区 (我代表区人民政府), a district of 黄山市"),
    "池州": (("安徽省", "池州市"), 2022, "the 2023 report: its first part is 「一、2022年工作回顾」"),
}

# corpus/README.md: (province, city, year reviewed)
SEEDS = {
    "000_dc284aa856a2efc0": ("广东省", "深圳市", 2024),
    "001_853fd82f221bc387": ("甘肃省", "天水市", 2023),
    "002_95bdc2d1cb62a6be": ("浙江省", "杭州市", 2024),
    "003_b47a481025290089": ("广东省", "中山市", 2023),
    "004_1125619140e8c921": ("广东省", "广州市", 2023),
}


@dataclass
class Score:
    """How many reports of a set had each field right, and which were missed."""

    name: str
    n: int = 0
    province: int = 0
    city: int = 0
    year: int = 0
    all3: int = 0
    from_hint: int = 0  # issuer decided by the file name or page title (derived)
    misses: list[str] = field(default_factory=list)

    def add(self, label: str, meta: ReportMeta, gold: tuple[str, str, int | None, str]) -> None:
        province, city, year, level = gold
        ok = (meta.province == province, meta.city == city, year is None or meta.year == year,
              not level or meta.level == level)
        self.n += 1
        self.province += ok[0]
        self.city += ok[1]
        self.year += ok[2]
        self.all3 += all(ok)
        self.from_hint += "issuer" in meta.derived
        if not all(ok):
            self.misses.append(f"{label}: got {meta.level or '-'} {meta.province or '-'} {meta.city or '-'} "
                               f"{meta.district or '-'} {meta.year} ({meta.issuer or '-'}); "
                               f"want {level or ''} {province or '-'} {city or '-'} {year or ''}")

    def share(self, count: int) -> float:
        return count / self.n if self.n else 0.0


def _read(path: Path) -> tuple[str, SourceHints]:
    source = read_source(path)
    return normalize(source.text).text, source.hints


def _city_place(gaz: Gazetteer, stem: str) -> tuple[str, str]:
    """(province, city) of the prefecture-level place a file stem names (吉林 -> 吉林市)."""
    for name in (stem + "市", stem):
        places = [p for p in gaz.named(name) if p.tier == CITY]
        if places:
            return gaz.region(places[0])[:2]
    places = [p for p in gaz.shortly_named(stem) if p.tier == CITY]
    places += [p for p in gaz.shortly_named(stem) if p.tier == PROVINCE and p.name.endswith("市")]
    if not places:
        raise LookupError(f"No city in the gazetteer is called {stem}.")
    return gaz.region(places[0])[:2]


def _province_place(gaz: Gazetteer, name: str) -> tuple[str, str]:
    places = [p for p in gaz.named(name) + gaz.shortly_named(name) if p.tier == PROVINCE]
    if not places:
        raise LookupError(f"No province in the gazetteer is called {name}.")
    province = places[0].name
    return province, province if province.endswith("市") else ""


def check_seeds(gaz: Gazetteer) -> Score:
    score = Score("seeds")
    for doc_id, (province, city, year) in SEEDS.items():
        text, hints = _read(ROOT / "corpus" / f"{doc_id}.txt")
        score.add(doc_id, extract_metadata(doc_id, text, gaz, hints), (province, city, year, ""))
    return score


def check_prov31(gaz: Gazetteer, folder: Path, speech_only: bool = False) -> Score:
    """The provincial reports; speech_only drops everything above 各位代表 (title, source,
    delivery line) and the file name: a province that says only 我代表省人民政府."""
    score = Score("prov31 (speech only)" if speech_only else "prov31")
    for path in sorted(folder.glob("*.docx")):
        name = re.sub(r"^\d{4}年|政府工作报告$", "", path.stem)
        province, city = _province_place(gaz, name)
        text, hints = _read(path)
        if speech_only:
            lines = text.split("\n")
            start = next((k for k, line in enumerate(lines) if line.startswith("各位代表") or "我代表" in line), 0)
            text, hints = "\n".join(lines[start:]), None
        score.add(path.stem, extract_metadata(path.stem, text, gaz, hints), (province, city, 2024, ""))
    return score


def check_cities143(gaz: Gazetteer, folder: Path, use_hints: bool = True) -> Score:
    """The city reports; without hints, how far the text alone goes (no file name)."""
    score = Score("cities143" if use_hints else "cities143 (text only)")
    for path in sorted(folder.glob("*.txt")):
        stem = path.stem
        if stem in CITY_EXCEPTIONS:
            place, year, _ = CITY_EXCEPTIONS[stem]
            gold = (place[0], place[1], year, "") if place else ("", "", year, "国家")
        else:
            gold = (*_city_place(gaz, stem), 2023, "")
        text, hints = _read(path)
        score.add(stem, extract_metadata(stem, text, gaz, hints if use_hints else None), gold)
    return score


def check_national(gaz: Gazetteer, path: Path) -> Score:
    score = Score("national")
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if "政府工作报告" not in record["title"] or "决议" in record["title"]:
            continue
        text = normalize(record["content"]).text
        hints = SourceHints(page_title=record["title"], source_url=record.get("url", ""))
        meta = extract_metadata(f"national_{record['year']}", text, gaz, hints)
        if meta.issuer != "国务院":
            meta = ReportMeta(meta.doc_id, meta.title, meta.issuer, "", meta.province, meta.city)
        score.add(record["title"], meta, ("", "", None, "国家"))
    return score


def check_all(ext: Path | None = None) -> dict[str, Score]:
    """Every set that is present under ext (../shared/ext by default), by name; the seeds always."""
    ext = EXT if ext is None else ext
    gaz = load_gazetteer()
    scores = {"seeds": check_seeds(gaz)}
    if (ext / "prov31-gwr").is_dir():
        scores["prov31"] = check_prov31(gaz, ext / "prov31-gwr")
        scores["prov31 (speech only)"] = check_prov31(gaz, ext / "prov31-gwr", speech_only=True)
    if (ext / "cities143-gwr").is_dir():
        scores["cities143"] = check_cities143(gaz, ext / "cities143-gwr")
        scores["cities143 (text only)"] = check_cities143(gaz, ext / "cities143-gwr", use_hints=False)
    national = ext / "national-gwr" / "government_work_reports.jsonl"
    if national.is_file():
        scores["national"] = check_national(gaz, national)
    return scores


def main() -> int:
    if not EXT.is_dir():
        print(f"{EXT} is not beside this checkout, so only the seeds can be checked.")
    scores = check_all(EXT)
    width = max(len(name) for name in scores)
    print(f"{'set':<{width}} {'n':>4} {'province':>9} {'city':>7} {'year':>7} {'all 3':>7} {'issuer from hint':>17}")
    for s in scores.values():
        year = "-" if s.name == "national" else f"{s.share(s.year):.3f}"
        print(f"{s.name:<{width}} {s.n:>4} {s.share(s.province):>9.3f} {s.share(s.city):>7.3f} {year:>7} "
              f"{s.share(s.all3):>7.3f} {s.from_hint:>17}")
    print("(national: 'all 3' = issuer 国务院, level 国家, no province or city)")
    for s in scores.values():
        if s.name.endswith("(text only)") and s.misses:
            print(f"  [{s.name}] {len(s.misses)} misses, not listed")
            continue
        for miss in s.misses:
            print(f"  miss [{s.name}] {miss}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
