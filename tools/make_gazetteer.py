"""Derive indexer/data/gazetteer.tsv.gz from JioNLP's china_location.zip (province down to 街道/镇/乡).

Usage: python tools/make_gazetteer.py [--source PATH/china_location.zip] [--out PATH]

The source file is one line per place, indented by tabs: depth 0 province, 1 city,
2 county, 3 township, 4 village; provinces, cities and counties carry a code and a
short name (``广东省\t440000\t广东``). We keep depths 0-3, drop villages and the
pseudo levels JioNLP uses for places without a level (``市直辖行政区划`` under 中山市,
``省直辖行政区划`` above 济源市), attaching their children one level up, and keep only
townships named 街道/镇/乡/苏木 (farms, parks and development zones are not issuers of
reports here). The output is gzip'd TSV, one row per place, in depth-first order:

    tier  name  short  parent

tier is 0 province, 1 city, 2 county, 3 township; parent is the 0-based row number of
the parent (-1 for provinces); short is the short name for tiers 0-2 (empty otherwise).
"""
from __future__ import annotations

import argparse
import gzip
import io
import sys
import zipfile
from pathlib import Path

DEFAULT_SOURCE = Path("/work/shared/ext/lexicon/jionlp/china_location.zip")
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "indexer" / "data" / "gazetteer.tsv.gz"
PSEUDO_SUFFIX = "直辖行政区划"
TOWNSHIP_SUFFIXES = ("街道", "镇", "乡", "苏木")
# County-tier entries that are zones rather than administrative divisions.
ZONE_MARKERS = ("开发区", "产业园", "园区", "试验区", "示范区", "合作区", "管理区", "工业区")
HEADER = "# tier\tname\tshort\tparent  (derived from JioNLP china_location.txt, Apache-2.0)"


def read_source(path: Path) -> list[str]:
    """The lines of china_location.txt inside the zip."""
    with zipfile.ZipFile(path) as archive:
        raw = archive.read("china_location.txt")
    return raw.decode("utf-8").splitlines()


def derive_rows(lines: list[str]) -> list[tuple[int, str, str, int]]:
    """(tier, name, short, parent row) for provinces, cities, counties and townships."""
    rows: list[tuple[int, str, str, int]] = []
    seen: dict[tuple[int, str], int] = {}
    # stack[d] = row index standing for depth d in the source (pseudo levels map to their parent)
    stack: list[int] = []
    for line in lines:
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip("\t"))
        if depth > 3:
            continue
        fields = line.strip().split("\t")
        name = fields[0].strip()
        short = fields[2].strip() if len(fields) > 2 and depth < 3 else ""
        del stack[depth:]
        parent = stack[-1] if stack else -1
        if name.endswith(PSEUDO_SUFFIX):
            stack.append(parent)
            continue
        dropped = (
            parent == -2  # children of a dropped place are dropped too
            or (depth == 3 and not (name.endswith(TOWNSHIP_SUFFIXES) and name not in TOWNSHIP_SUFFIXES))
            or (depth == 2 and any(marker in name for marker in ZONE_MARKERS))
        )
        if dropped:
            stack.append(-2)
            continue
        # A township stays a township under a pseudo county; a county under a pseudo city
        # (济源市 under 省直辖行政区划) moves up to the city tier.
        tier = 3 if depth == 3 else (rows[parent][0] + 1 if parent >= 0 else 0)
        key = (parent, name)
        if key in seen:
            stack.append(seen[key])
            continue
        rows.append((tier, name, short, parent))
        seen[key] = len(rows) - 1
        stack.append(len(rows) - 1)
    return rows


def write_rows(rows: list[tuple[int, str, str, int]], out: Path) -> None:
    """Write the rows as deterministic gzip'd TSV (mtime 0, so rebuilds are byte-identical)."""
    text = HEADER + "\n" + "".join(f"{t}\t{n}\t{s}\t{p}\n" for t, n, s, p in rows)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buffer.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    rows = derive_rows(read_source(args.source))
    write_rows(rows, args.out)
    counts = [sum(1 for r in rows if r[0] == tier) for tier in range(4)]
    print(f"{args.out}: {len(rows)} places (provinces/cities/counties/townships {counts}), "
          f"{args.out.stat().st_size} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
