"""对比 over HTTP: 2-4 reports side by side by the 纲要's task areas, as JSON and as a page."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from service import exports
from service.areas import AREAS, INDICATOR_TOPIC_AREAS, area_tags
from service.errors import BadParameter, NotFound, ServiceError
from service.indicators import figures_of, indicator_named
from service.search import chunk_anchor
from service.views import current_searcher, page_headers

bp = Blueprint("compare", __name__)

MIN_REPORTS, MAX_REPORTS = 2, 4
PASSAGES_SHOWN = 3
SNIPPET_CHARS = 120
PARAMS = ("doc", "issuer")


bp.after_request(page_headers)


def selected_reports(searcher, args) -> list[str]:
    """The doc ids to compare from `doc` (repeated) or `issuer` (its reports, latest four by year)."""
    unknown = [key for key in args if key not in PARAMS]
    if unknown:
        raise BadParameter(f"Unknown parameter {unknown[0]!r}; /compare takes doc (2 to 4 times) or issuer.")
    docs = [d.strip() for d in args.getlist("doc") if d.strip()]
    issuer = (args.get("issuer") or "").strip()
    if docs and issuer:
        raise BadParameter("Give either doc (2 to 4 report ids) or issuer, not both.")
    if issuer:
        metas = searcher.metas()
        docs = sorted((d for d, m in metas.items() if m.get("issuer") == issuer),
                      key=lambda d: (metas[d].get("year") or 0, d))[-MAX_REPORTS:]
        if not docs:
            raise NotFound(f"No report in the index was issued by {issuer!r}.")
        if len(docs) < MIN_REPORTS:
            raise BadParameter(f"The index holds only one report issued by {issuer!r}; a comparison needs two.")
        return docs
    if not MIN_REPORTS <= len(docs) <= MAX_REPORTS:
        raise BadParameter(f"A comparison takes {MIN_REPORTS} to {MAX_REPORTS} reports (doc=…); {len(docs)} given.")
    if len(set(docs)) < len(docs):
        raise BadParameter("The same report is listed twice; give 2 to 4 different reports.")
    for doc_id in docs:
        if doc_id not in searcher.reports:
            raise NotFound(f"There is no report with the id {doc_id!r}.")
    return docs


def _passage(searcher, chunk_id: str) -> dict:
    chunk = searcher.chunk_by_id(chunk_id)
    text = chunk.text.strip()
    return {"chunk_id": chunk_id, "section": " › ".join(chunk.section_path[-2:]),
            "text": text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS] + "…",
            "url": f"/reports/{chunk.doc_id}#{chunk_anchor(chunk)}"}


def _figures_by_area(searcher, docs: list[str]) -> dict[tuple[str, str], list[dict]]:
    """(doc_id, area id) -> the first value of each indicator of that area the report states."""
    out: dict[tuple[str, str], list[dict]] = {}
    seen = set()
    wanted = set(docs)
    for figure in figures_of(searcher):
        indicator = indicator_named(figure.name)
        area = INDICATOR_TOPIC_AREAS.get(indicator.topic.name) if indicator else None
        if figure.doc_id not in wanted or not area or (figure.doc_id, figure.name) in seen:
            continue
        seen.add((figure.doc_id, figure.name))
        out.setdefault((figure.doc_id, area), []).append(
            {"name": figure.name, "value": figure.value, "unit": figure.unit, "url": figure.url})
    return out


def comparison(searcher, docs: list[str]) -> dict:
    """Areas as rows, the reports as columns: each cell the report's passages on the area and its figures."""
    tags = area_tags(searcher)
    figures = _figures_by_area(searcher, docs)
    metas = searcher.metas()
    reports = [{"doc_id": d, "title": metas[d].get("title", ""), "issuer": metas[d].get("issuer", ""),
                "level": metas[d].get("level", ""), "region": metas[d].get("region", ""),
                "year": metas[d].get("year"), "url": f"/reports/{d}"} for d in docs]
    rows = []
    for area in AREAS:
        cells = []
        for doc_id in docs:
            ids = tags.passages(doc_id, area.id)
            cells.append({"doc_id": doc_id, "count": len(ids),
                          "passages": [_passage(searcher, c) for c in ids[:PASSAGES_SHOWN]],
                          "indicators": figures.get((doc_id, area.id), [])})
        rows.append({"id": area.id, "name": area.name, "part": area.part, "cells": cells})
    return {"reports": reports, "areas": rows}


@bp.get("/api/areas")
def areas():
    return jsonify(areas=[a.to_dict() for a in AREAS])


@bp.get("/api/compare")
def compare_api():
    searcher = current_searcher()
    return jsonify(comparison(searcher, selected_reports(searcher, request.args)))


COMPARE_COLUMNS = ("任务体系", "纲要部分", "doc_id", "发布机关", "年度", "段落数", "段落（前3段）", "数据", "链接")


def comparison_table(data: dict, base_url: str) -> exports.Table:
    """The comparison in long form, one row per area and report, so a spreadsheet can pivot it back."""
    reports = {r["doc_id"]: r for r in data["reports"]}
    rows = []
    for area in data["areas"]:
        for cell in area["cells"]:
            report = reports[cell["doc_id"]]
            rows.append((area["name"], area["part"], cell["doc_id"], report["issuer"] or report["title"],
                         report["year"], cell["count"], "\n".join(p["text"] for p in cell["passages"]),
                         "；".join(f"{f['name']} {f['value']}{f['unit']}" for f in cell["indicators"]),
                         base_url + report["url"]))
    return exports.Table(COMPARE_COLUMNS, rows, sheet="对比")


def _compare_download(extension: str):
    searcher = current_searcher()
    data = comparison(searcher, selected_reports(searcher, request.args))
    name = exports.file_name("对比-" + "-".join(r["issuer"] or r["doc_id"] for r in data["reports"]), extension)
    return exports.table_download(comparison_table(data, request.host_url.rstrip("/")), extension, name,
                                  f"compare.{extension}")


@bp.get("/api/compare.csv")
def compare_csv():
    return _compare_download("csv")


@bp.get("/api/compare.xlsx")
def compare_xlsx():
    return _compare_download("xlsx")


def _choices(searcher) -> list[dict]:
    metas = searcher.metas()
    return sorted(({"doc_id": d, "label": f"{m.get('issuer') or m.get('title')}（{m.get('year') or '年度不详'}）"}
                   for d, m in metas.items()), key=lambda c: c["label"])


@bp.get("/compare")
def compare_page():
    """The comparison table; with no selection, the form to pick reports."""
    searcher = current_searcher()
    data, error, status = None, "", 200
    if any(v.strip() for v in request.args.getlist("doc")) or request.args.get("issuer") or \
            any(k not in PARAMS for k in request.args):
        try:
            data = comparison(searcher, selected_reports(searcher, request.args))
        except ServiceError as problem:
            error, status = problem.message, problem.status
    chosen = [r["doc_id"] for r in data["reports"]] if data else [d for d in request.args.getlist("doc") if d]
    query = request.query_string.decode("ascii", "replace")
    return render_template("compare.html", active="compare", data=data, error=error, choices=_choices(searcher),
                           chosen=chosen, slots=MAX_REPORTS, query=query), status
